# shellcheck shell=sh
# Shared parts of the golden runners (tests/golden/run.sh,
# tests/discovery/golden.sh), both called as
#     RUNNER BINARY TESTDATA_DIR [--update] [CASE...]
# `golden_init "$@"; shift $golden_shift` sets $bin (absolute), $update
# (1 with --update), a temp dir $tmp removed on exit, and changes into
# TESTDATA_DIR.

# shellcheck disable=SC2034 # update, golden_shift: read by the runners
golden_init() {
	[ $# -ge 2 ] || { echo "usage: $0 BINARY TESTDATA_DIR [--update] [CASE...]" >&2; exit 2; }
	bin=$1
	update=0
	golden_shift=2
	if [ "${3:-}" = --update ]; then
		update=1
		golden_shift=3
	fi
	case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
	[ -x "$bin" ] || { echo "$0: $bin is not executable" >&2; exit 2; }
	cd "$2" || exit 2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT INT TERM
}

# golden_run CMD...: CMD's stdout, stderr and exit code in $tmp/out,
# $tmp/err and $tmp/rc (and $rc).
golden_run() {
	rc=0
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	echo "$rc" >"$tmp/rc"
}

# golden_compare NAME UPDATE OUT ERR RC: compare (with UPDATE=1 first
# rewrite) the expected files OUT, ERR and RC with the last golden_run;
# each difference printed under NAME.  Status 1 if any differs.
golden_compare() {
	gc_name=$1 gc_update=$2 gc_ok=0
	shift 2
	for gc_got in out err rc; do
		[ "$gc_update" != 1 ] || cp "$tmp/$gc_got" "$1"
		if [ ! -f "$1" ]; then
			echo "$gc_name: missing ${1##*/}"
			gc_ok=1
		elif ! diff -u "$1" "$tmp/$gc_got" >"$tmp/diff"; then
			echo "$gc_name: ${1##*/} differs:"
			cat "$tmp/diff"
			gc_ok=1
		fi
		shift
	done
	return $gc_ok
}
