# lib.sh — helpers for end-to-end checks (sourced by tests/e2e/run.sh and scripts).
# A check fails by calling `fail MESSAGE`; every expect_* names what it expected.
# Variables set for a case's check.sh: SRC (source dir), OUT (combined output file),
# RC (exit status), JSON (--json result file), ART (artifact dir), DATA (ferry data dir),
# CASE (the case folder), FERRY (binary under test).

fail() { echo "    check failed: $*" >&2; exit 1; }

expect_rc() { [ "$RC" = "$1" ] || fail "exit status $RC, expected $1"; }

expect_out() { # fixed string that must appear in the output
	grep -qF -- "$1" "$OUT" || fail "output lacks: $1"
}

expect_out_re() { grep -qE -- "$1" "$OUT" || fail "output lacks a match for /$1/"; }

expect_no_out() { # fixed string that must not appear
	! grep -qF -- "$1" "$OUT" || fail "output contains: $1 (line $(grep -nF -- "$1" "$OUT" | head -1 | cut -d: -f1))"
}

# json EXPR — evaluates a Python expression on the result document `r`
json() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v, sort_keys=True))' "$JSON" "$1"; }

expect_json() { # EXPR EXPECTED
	local got
	got=$(json "$1" 2>&1) || fail "json $1: $got"
	[ "$got" = "$2" ] || fail "json $1 = '$got', expected '$2'"
}

phase_status() { json "[p.get('phaseStatus') for p in r['phases'] if p['phaseType']=='$1'][0] if [p for p in r['phases'] if p['phaseType']=='$1'] else 'ABSENT'"; }

expect_phase() { # PHASE STATUS (ABSENT when no record)
	local got
	got=$(phase_status "$1") || fail "no result json"
	[ "$got" = "$2" ] || fail "phase $1 is $got, expected $2"
}

zip_list() { python3 -c 'import zipfile,sys; print("\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))' "$1"; }

expect_zip() { # ZIP "sorted names, space separated"
	[ -f "$1" ] || fail "no zip $1"
	local got
	got=$(zip_list "$1" | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$2" ] || fail "zip $(basename "$1") holds '$got', expected '$2'"
}

expect_file() { [ -e "$1" ] || fail "missing file $1"; }
expect_no_file() { [ ! -e "$1" ] || fail "file should not exist: $1"; }
expect_content() { # FILE TEXT
	[ -f "$1" ] || fail "missing file $1"
	local got; got=$(cat "$1")
	[ "$got" = "$2" ] || fail "$1 holds '$got', expected '$2'"
}

expect_no_line() { # a whole output line that must not appear
	! grep -qxF -- "$1" "$OUT" || fail "output has the line: $1"
}
