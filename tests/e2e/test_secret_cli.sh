#!/usr/bin/env bash
# `ferry secret set|list|rm` driven through the real binary: exit statuses,
# messages, file modes, and that values never reach the screen or the disk in
# clear. Prints "ok   e2e secret-..." / "FAIL e2e secret-..." per check.
set -u
: "${FERRY:?FERRY must name the binary under test}"
: "${WORK_DIR:=$(mktemp -d /tmp/ferry-e2e-secret.XXXXXX)}"
export FERRY_DATA=$WORK_DIR/data
export HOME=$WORK_DIR/home
unset XDG_DATA_HOME
mkdir -p "$HOME"
OUT=$WORK_DIR/out.txt
ERR=$WORK_DIR/err.txt
RC=0

# run ARGS... (stdin from $INPUT when set, else /dev/null)
run() {
	if [ -n "${INPUT+x}" ]; then
		printf '%s' "$INPUT" | "$FERRY" "$@" >"$OUT" 2>"$ERR"
		RC=${PIPESTATUS[1]}
	else
		"$FERRY" "$@" >"$OUT" 2>"$ERR" </dev/null
		RC=$?
	fi
}

# check NAME -- each test is a function that returns non-zero with a reason on stderr
check() {
	local name=$1 why
	if why=$("$name" 2>&1); then
		echo "ok   e2e $name"
	else
		echo "FAIL e2e $name"
		printf '%s\n' "$why" | sed 's/^/    /'
		echo "    --- stdout:"; sed 's/^/    | /' "$OUT"
		echo "    --- stderr:"; sed 's/^/    | /' "$ERR"
	fi
}

# Every check runs in a subshell (see check), so a failed expectation ends it.
die() { echo "$*" >&2; exit 1; }
want_rc() { [ "$RC" = "$1" ] || die "exit status $RC, expected $1"; }
in_out() { grep -qF -- "$1" "$OUT" || die "stdout lacks: $1"; }
in_err() { grep -qF -- "$1" "$ERR" || die "stderr lacks: $1"; }
mode_of() { stat -c %a "$1"; }

VALUE='e2e-plaintext-5bd1c0de'

secret-set-from-pipe() {
	INPUT="$VALUE"$'\n' run secret set /CodeBuild/token || return 1
	want_rc 0 && in_err 'secret "/CodeBuild/token" stored' || return 1
	INPUT='db-pass' run secret set prod/db
	want_rc 0
}

secret-list-names-never-values() {
	run secret list
	want_rc 0 || return 1
	in_out /CodeBuild/token && in_out prod/db || return 1
	grep -qE '^/CodeBuild/token +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$' "$OUT" ||
		die "list line lacks an ISO time"
	! grep -qF "$VALUE" "$OUT" "$ERR" || die "list printed a value"
}

secret-files-private() {
	[ "$(mode_of "$FERRY_DATA")" = 700 ] || die "data dir mode $(mode_of "$FERRY_DATA"), expected 700"
	[ "$(mode_of "$FERRY_DATA/secret.key")" = 600 ] || die "key mode $(mode_of "$FERRY_DATA/secret.key")"
	[ "$(stat -c %s "$FERRY_DATA/secret.key")" = 32 ] || die "key is not 32 bytes"
}

secret-not-in-clear-on-disk() {
	[ -s "$FERRY_DATA/ferry.db" ] || die "no database in $FERRY_DATA"
	! grep -rqaF "$VALUE" "$FERRY_DATA" || die "plaintext found in $(grep -rlaF "$VALUE" "$FERRY_DATA")"
}

secret-value-flag-warns() {
	run secret set from-flag --value 'v4lue'
	want_rc 0 && in_err 'shell history'
}

secret-get-is-not-provided() {
	run secret get prod/db
	want_rc 2 && in_err 'only readable by builds' && in_err 'usage: ferry secret' || return 1
	! grep -qF db-pass "$OUT" "$ERR" || die "get printed the value"
}

secret-help-explains() {
	run secret --help
	want_rc 0 && in_out 'There is no `ferry secret get`' && in_out 'trailing newline'
}

secret-usage-errors() {
	run secret frobnicate
	want_rc 2 && in_err 'unknown subcommand "frobnicate"' && in_err 'usage:' || return 1
	run secret set
	want_rc 2 && in_err 'set needs a secret NAME' || return 1
	run secret rm
	want_rc 2 && in_err 'usage:' || return 1
	run secret
	want_rc 2 && in_err 'usage:' || return 1
	run secret list --bogus
	want_rc 2 && in_err 'unknown option --bogus'
}

secret-rm() {
	run secret rm prod/db
	want_rc 0 || return 1
	run secret list
	! grep -q '^prod/db ' "$OUT" || die "prod/db still listed after rm"
	run secret rm prod/db
	want_rc 1 && in_err 'ferry secret rm: no secret named "prod/db"'
}

secret-empty-value-refused() {
	INPUT=$'\n' run secret set empty
	want_rc 2 && in_err 'empty'
}

secret-bad-name-refused() {
	INPUT='x' run secret set 'has space'
	[ "$RC" != 0 ] || die "a name with a space was accepted"
	in_err 'without spaces'
}

secret-data-flag-wins() {
	local other=$WORK_DIR/other
	INPUT='x' run secret set only-here --data "$other"
	want_rc 0 || return 1
	run secret list --data "$other"
	in_out only-here || return 1
	run secret list
	! grep -q only-here "$OUT" || die "--data ignored: secret landed in \$FERRY_DATA"
}

secret-loose-key-refused() {
	chmod 644 "$FERRY_DATA/secret.key"
	INPUT='x' run secret set another
	local rc=$RC
	chmod 600 "$FERRY_DATA/secret.key"
	RC=$rc
	want_rc 1 && in_err 'chmod 600'
}

for t in secret-set-from-pipe secret-list-names-never-values secret-files-private \
	secret-not-in-clear-on-disk secret-value-flag-warns secret-get-is-not-provided \
	secret-help-explains secret-usage-errors secret-rm secret-empty-value-refused \
	secret-bad-name-refused secret-data-flag-wins secret-loose-key-refused; do
	check "$t"
done
