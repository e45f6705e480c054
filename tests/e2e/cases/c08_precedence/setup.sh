printf "V=from-project\nW=from-project\n# a comment\n" > ../project.env
