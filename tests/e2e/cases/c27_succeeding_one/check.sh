# checklist 27: a green build sees CODEBUILD_BUILD_SUCCEEDING=1 in POST_BUILD and SUCCEEDS
expect_rc 0
expect_out "in-post=1"
expect_json "r[\"buildStatus\"]" SUCCEEDED
