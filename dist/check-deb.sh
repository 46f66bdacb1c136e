#!/bin/sh
# Build the Debian package from a fresh clone of the committed HEAD and
# check it: the files it holds, the unit's binary path, the binary runs,
# the completion loads, `systemd-analyze verify` passes on the unit with
# the package's binary and man page in place (overlays in a private mount
# namespace: nothing is installed on this machine), and lintian reports no
# error and no warning.
# Not run by CI: about 2-3 minutes on 2 busy cores (build 30-120 s,
# lintian 30 s).  Needs dpkg-dev, debhelper, lintian and the Build-Depends
# of debian/control; the systemd-analyze step needs root.
# Usage: dist/check-deb.sh [KEEPDIR]   (KEEPDIR receives the .deb)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

rev=$(git -C "$src" rev-parse HEAD)
git clone -q --no-checkout "$src" "$tmp/svcnft"
git -C "$tmp/svcnft" checkout -q "$rev"
echo "building $rev"
if ! (cd "$tmp/svcnft" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
	tail -30 "$tmp/build.log"
	echo "FAIL: dpkg-buildpackage"
	exit 1
fi
deb=$(ls "$tmp"/svcnft_*.deb)
echo "built $(basename "$deb")"

dpkg-deb -c "$deb" | awk '{ print $NF }' >"$tmp/files"
for f in ./usr/sbin/svcnft ./usr/share/man/man8/svcnft.8.gz \
	 ./lib/systemd/system/svcnft-watch.service \
	 ./usr/share/bash-completion/completions/svcnft \
	 ./usr/share/doc/svcnft/copyright; do
	grep -qx -- "$f" "$tmp/files" || fail "the package lacks $f"
done
root=$tmp/root
dpkg-deb -x "$deb" "$root"
unit=$root/lib/systemd/system/svcnft-watch.service
grep -q '^ExecStart=/usr/sbin/svcnft watch ' "$unit" || fail "ExecStart: $(grep ExecStart= "$unit")"
grep -q '@[A-Z]*@' "$unit" && fail "unsubstituted @VARIABLE@ in the unit"
"$root/usr/sbin/svcnft" --version | grep -q '^svcnft ' || fail "the packaged binary does not run"
"$root/usr/sbin/svcnft" compile "$src/testdata/examples/cluster.json" >/dev/null ||
	fail "the packaged binary does not compile the example"
bash -c ". '$root/usr/share/bash-completion/completions/svcnft' && complete -p svcnft" >/dev/null ||
	fail "the completion does not load"

if [ "$(id -u)" = 0 ] && command -v systemd-analyze >/dev/null; then
	# the unit names /usr/sbin/svcnft and man:svcnft(8): put the package's
	# over the system's directories, in this mount namespace only
	if ! unshare -m sh -c "mount --make-rprivate / &&
		mount -t overlay overlay -o lowerdir='$root/usr/sbin:/usr/sbin' /usr/sbin &&
		mount -t overlay overlay -o lowerdir='$root/usr/share/man/man8:/usr/share/man/man8' /usr/share/man/man8 &&
		systemd-analyze verify '$unit'" >"$tmp/verify" 2>&1; then
		cat "$tmp/verify"
		fail "systemd-analyze verify"
	fi
else
	echo "note: systemd-analyze verify skipped (needs root)"
fi

if lintian --fail-on error,warning "$tmp"/svcnft_*.changes >"$tmp/lintian" 2>&1; then
	grep -v '^running with root' "$tmp/lintian" || true
else
	cat "$tmp/lintian"
	fail "lintian reports errors or warnings"
fi

[ -z "${1:-}" ] || cp "$deb" "$1"/
if [ "$fails" -ne 0 ]; then
	echo "$fails package checks failed"
	exit 1
fi
echo "package checks passed"
