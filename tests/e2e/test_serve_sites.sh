#!/usr/bin/env bash
# Sites through the CLI of a real daemon: create and list a site, deploy a directory
# twice (objects not in the second deploy are kept, as on S3), list the releases, roll
# back (a new live release with the old files), refuse a hostile zip with the entry
# named, delete. The live tree is read from <data>/sites/NAME/live, as the edge does.
# Prints "ok   e2e sites-..." or "FAIL e2e sites-..." per check.
set -u
. "$(dirname "$0")/serve_lib.sh"
LIVE=$FERRY_DATA/sites/docs/live

# live_is FILE TEXT — the live release's FILE holds TEXT
live_is() { [ "$(cat "$LIVE/$1" 2>/dev/null)" = "$2" ] || die "live $1 is '$(cat "$LIVE/$1" 2>/dev/null)', expected '$2'"; }

sites-create-and-list() {
	run site create docs --host docs.example.test --keep 3 --spa; want_rc 0
	in_out "docs.example.test"
	run site create docs; want_rc 1
	in_err 'site "docs" exists already'
	run site create Bad_Name; want_rc 1
	in_err "is not allowed"
	run site list; want_rc 0
	in_out docs
	run site get docs --json; want_rc 0
	[ "$(jfield 'r["keep"]')" = 3 ] || die "keep is not 3"
	[ "$(jfield 'r["spa"]')" = True ] || die "spa is not set"
}

sites-deploy-directory() {
	mkdir -p "$W/site1/css" "$W/site2"
	echo one >"$W/site1/index.html"; echo style >"$W/site1/css/a.css"
	run site deploy docs "$W/site1" --cache-control "max-age=60"; want_rc 0
	in_out "Deployed release 1 of site docs (2 files)"
	live_is index.html one
	echo two >"$W/site2/index.html"
	run site deploy docs "$W/site2"; want_rc 0
	in_out "Deployed release 2 of site docs"
	live_is index.html two
	live_is css/a.css style
	run site deploy docs "$W/site2" --path guide; want_rc 0
	live_is guide/index.html two
	live_is index.html two
}

sites-releases-listed() {
	run site releases docs; want_rc 0
	in_out live
	run site releases docs --json; want_rc 0
	[ "$(jfield '[x["number"] for x in r["releases"]]')" = "[3, 2, 1]" ] || die "releases are not 3 2 1"
	[ "$(jfield 'r["releases"][2]["cacheControl"]')" = "max-age=60" ] || die "release 1 lost its Cache-Control"
}

sites-rollback() {
	run site rollback docs --to 1; want_rc 0
	in_out "rollback to 1, live as release 4"
	live_is index.html one
	[ ! -e "$LIVE/guide" ] || die "release 1 had no guide/"
	run site rollback docs; want_rc 0
	in_out "rollback to 3, live as release 5"
	live_is guide/index.html two
	run site rollback docs --to 1; want_rc 1
	in_err "release 1 is not kept"
}

sites-hostile-zip-refused() {
	python3 - "$W/evil.zip" <<'P'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("ok.html", "fine")
    z.writestr("../../escape.txt", "evil")
P
	run site deploy docs "$W/evil.zip"; want_rc 1
	in_err 'entry "../../escape.txt" climbs out'
	live_is guide/index.html two
	[ ! -e "$FERRY_DATA/sites/escape.txt" ] && [ ! -e "$FERRY_DATA/escape.txt" ] || die "a file escaped"
}

sites-unknown-site-404() {
	run site deploy nowhere "$W/site1"; want_rc 1
	in_err "site nowhere does not exist (ferry site create nowhere)"
	run site releases nowhere; want_rc 1
	in_err 'site "nowhere" does not exist'
}

sites-delete() {
	run site delete docs; want_rc 0
	[ ! -e "$FERRY_DATA/sites/docs" ] || die "the site's directory is still there"
	run site list --json; want_rc 0
	[ "$(jfield 'len(r["sites"])')" = 0 ] || die "the site is still listed"
}

start_daemon || die "the daemon did not start: $(tail -5 "$W/serve.log")"
for t in sites-create-and-list sites-deploy-directory sites-releases-listed sites-rollback \
	sites-hostile-zip-refused sites-unknown-site-404 sites-delete; do
	check "$t"
done

# A pipeline Source -> Deploy(S3, extract) publishes the commit's tree as a release.
REPO=$W/web.git
sites-pipeline-s3-deploy() {
	new_repo index.html "from git" "first page"
	run site create web; want_rc 0
	{ source_yml web web; cat <<Y; } >"$W/web.yml"
    - name: Deploy
      actions:
        - name: Upload
          actionTypeId: {category: Deploy, owner: AWS, provider: S3, version: "1"}
          configuration: {BucketName: web, Extract: "true", CacheControl: "max-age=30"}
          inputArtifacts: [{name: src}]
Y
	run pipeline create "$W/web.yml"; want_rc 0
	for _ in $(seq 300); do
		[ "$(cat "$FERRY_DATA/sites/web/live/index.html" 2>/dev/null)" = "from git" ] && break
		sleep 0.1
	done
	[ "$(cat "$FERRY_DATA/sites/web/live/index.html" 2>/dev/null)" = "from git" ] ||
		die "the pipeline did not publish index.html: $(tail -5 "$W/serve.log")"
	run site releases web --json; want_rc 0
	[ "$(jfield 'r["releases"][0]["source"].startswith("pipeline web execution ")')" = True ] ||
		die "the release does not name the pipeline"
	[ "$(jfield 'r["releases"][0]["cacheControl"]')" = "max-age=30" ] || die "CacheControl lost"
}
check sites-pipeline-s3-deploy
