#!/bin/sh
# Checks that every local href in the built pages names a file that exists, and
# prints the result as a JUnit XML report (one test case per link).
dir=$1
cases="" n=0 failed=0
for page in "$dir"/*.html; do
	for link in $(grep -o 'href="[^"#:]*"' "$page" | sed 's/href="//; s/"$//'); do
		n=$((n + 1))
		name="$(basename "$page") -> $link"
		if [ -e "$dir/$link" ]; then
			cases="$cases<testcase classname=\"links\" name=\"$name\" time=\"0.001\"/>"
		else
			failed=$((failed + 1))
			cases="$cases<testcase classname=\"links\" name=\"$name\" time=\"0.001\"><failure message=\"missing $link\"/></testcase>"
		fi
	done
done
printf '<?xml version="1.0"?>\n<testsuite name="links" tests="%d" failures="%d">%s</testsuite>\n' "$n" "$failed" "$cases"
[ "$failed" -eq 0 ]
