# Shared preamble of the root-only bash tests that work in one private
# network namespace.  `netns_setup PREFIX [SVCNFT [DATA]]` skips the test
# (exit 77) without root or nft, then creates namespace $ns and temp dir
# $tmp; both are removed on exit, after the caller's `on_cleanup` function
# if it defines one; svcnft keeps its lock and state files in $tmp
# (SVCNFT_LOCK_DIR).  With SVCNFT (a path) and DATA (the testdata folder),
# $SVCNFT is that binary's absolute path and $DATA the folder.
# `nsx CMD...` runs CMD in $ns; `fail MSG` ends the test.
netns_setup() {
	[ $# -lt 2 ] || SVCNFT=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
	[ $# -lt 3 ] || DATA=$3
	if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null; then
		echo "SKIPPED: needs root and nft"
		exit 77
	fi
	ns=$1-$$
	tmp=$(mktemp -d)
	# lock and state files in the test's directory, never in the host's /run
	export SVCNFT_LOCK_DIR=$tmp
	trap netns_cleanup EXIT
	ip netns add "$ns"
}

# paused FILE: wait (up to 30 s) until an apply paused by
# SVCNFT_TEST_PAUSE_FILE created FILE
paused() {
	for _ in $(seq 300); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}

netns_cleanup() {
	if declare -F on_cleanup >/dev/null; then
		on_cleanup
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}

nsx() { ip netns exec "$ns" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }
