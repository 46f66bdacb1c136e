#!/bin/sh
# CLI contract: help/man agreement, option permutation, exit codes.
# Usage: cli.sh SVCNFT SOURCE_ROOT
set -u
bin=$1
root=$2
man="$root/man/svcnft.8"
ex="$root/testdata/examples/cluster.json"
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_rc() { # WANT DESC CMD...
	want=$1; desc=$2; shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	[ "$got" = "$want" ] || fail "$desc: exit $got, want $want ($(head -c 300 "$tmp/err"))"
}

# Every long option and command in --help is in the man page, and back.
"$bin" --help >"$tmp/help" || fail "--help exits non-zero"
for opt in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u); do
	esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
	grep -q -- "$esc" "$man" || fail "man page lacks $opt"
done
for opt in $(grep -o -- '\\-\\-[a-z][a-z\\-]*' "$man" | sed 's/\\//g' | sort -u); do
	grep -q -- "$opt" "$tmp/help" || fail "--help lacks $opt from the man page"
done
for c in $(awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' "$tmp/help"); do
	grep -q "^\.B $c\$" "$man" || fail "man page lacks command $c"
done
grep -q '^Commands:' "$tmp/help" || fail "--help lists no commands"

# Per-command help shows only that command's options.
"$bin" delete --help >"$tmp/dh" || fail "delete --help"
grep -q -- '--service-cidr' "$tmp/dh" && fail "delete --help shows --service-cidr"
grep -q -- '--table' "$tmp/dh" || fail "delete --help lacks --table"
"$bin" --version | grep -q '^svcnft [0-9]' || fail "--version"

# Options before or after the command give the same output.
"$bin" compile --service-cidr 10.96.0.0/16 "$ex" >"$tmp/a" 2>/dev/null
"$bin" --service-cidr 10.96.0.0/16 compile "$ex" >"$tmp/b" 2>/dev/null
"$bin" compile "$ex" --service-cidr=10.96.0.0/16 >"$tmp/c" 2>/dev/null
cmp -s "$tmp/a" "$tmp/b" || fail "option before the command changes output"
cmp -s "$tmp/a" "$tmp/c" || fail "option after PATH changes output"
grep -q 'goto endpoints4-1' "$tmp/a" || fail "example compiles to no dispatch"
"$bin" compile --service-cidr 10.96.0.0/16 - <"$ex" >"$tmp/d" 2>/dev/null
sed 's/<stdin>//' "$tmp/d" | cmp -s - "$tmp/a" || fail "stdin input differs from file input"

# Exit codes.
expect_rc 2 "no command" "$bin"
expect_rc 2 "unknown command" "$bin" frobnicate "$ex"
expect_rc 2 "unknown option" "$bin" compile --bogus "$ex"
expect_rc 2 "no PATH" "$bin" compile
expect_rc 2 "bad CIDR" "$bin" compile --service-cidr 10.0.0.1/24 "$ex"
expect_rc 2 "overlapping cluster CIDRs" "$bin" compile -c 10.0.0.0/8 -c 10.1.0.0/16 "$ex"
expect_rc 0 "the same cluster CIDR twice" "$bin" compile -c 10.1.0.0/16 -c 10.1.0.0/16 "$ex"
expect_rc 2 "bad table name" "$bin" compile --table 'x;y' "$ex"
expect_rc 2 "bad output format" "$bin" compile -o yaml "$ex"
expect_rc 2 "missing file" "$bin" compile "$tmp/nonexistent.json"
grep -q 'nonexistent.json: No such file' "$tmp/err" || fail "missing file not named"
expect_rc 2 "delete with PATH" "$bin" delete "$ex"
printf '{"kind": "List", "items": [\n  {"kind": "Service"}\n  {"kind": "Service"}\n]}\n' >"$tmp/bad.json"
expect_rc 2 "malformed JSON" "$bin" compile "$tmp/bad.json"
grep -q "bad.json:3:3: malformed JSON" "$tmp/err" || fail "malformed JSON position: $(cat "$tmp/err")"
expect_rc 3 "clusterIP out of range" "$bin" compile -s 10.0.0.0/24 "$ex"
grep -q 'Service "default/redis-master" is invalid: spec.clusterIPs: Invalid value: \["10.96.0.11"\]: failed to allocate IP 10.96.0.11: the provided IP (10.96.0.11) is not in the valid range. The range of valid IPs is 10.0.0.0/24' "$tmp/err" \
	|| fail "range error text: $(head -3 "$tmp/err")"
[ -s "$tmp/out" ] && fail "invalid input still printed a ruleset"
# the bundled example is in the default --service-cidr (10.96.0.0/12)
for c in compile env dns; do
	expect_rc 0 "$c on the example with default options" "$bin" $c "$ex"
done

if [ "$fails" -ne 0 ]; then
	echo "$fails CLI checks failed"
	exit 1
fi
echo "all CLI checks passed"
