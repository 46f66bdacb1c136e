#!/bin/sh
# CLI contract: help/man agreement, option permutation, exit codes.
# Usage: cli.sh SVCNFT SOURCE_ROOT
set -u
bin=$1
root=$2
man="$root/man/svcnft.8"
ex="$root/testdata/examples/cluster.json"
fails=0
export SVCNFT_NO_HUGEPAGES=1	# one process per run: no re-execution
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
# (follow's page quotes the kubectl command lines it runs: kubectl's options)
for opt in $(grep -o -- '\\-\\-[a-z][a-z\\-]*' "$man" | sed 's/\\//g' | sort -u |
	grep -vx -e --all-namespaces -e --output-watch-events -e --watch); do
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
grep -qx 'svcnft: --table: invalid table name "x;y"' "$tmp/err" || fail "bad table name: $(cat "$tmp/err")"
# nft 1.0.6 cannot quote a table's name: one of its keywords is refused at
# once, by nft's own parser (no list here), with one message; names that
# parse pass ("saddr" is a keyword only inside an ip match).  Where a user
# and network namespace can be made, nft itself checks both verdicts:
# the keyword in svcnft's script fails, the good names' scripts load.
nftc() { unshare -rn nft -c -f "$1" >/dev/null 2>&1; }
"$bin" compile "$ex" >"$tmp/good.nft" 2>/dev/null
nftc "$tmp/good.nft" && netns=1 || netns=0
for t in ip tcp counter meta type flags; do
	expect_rc 2 "--table $t (an nft keyword)" "$bin" compile --table "$t" "$ex"
	[ "$(grep -c . "$tmp/err")" = 1 ] &&
	grep -qx "svcnft: --table: \"$t\" is a word of nft's language, which nft cannot parse as a table name; choose another" "$tmp/err" ||
		fail "--table $t: $(cat "$tmp/err")"
	[ -s "$tmp/out" ] && fail "--table $t still printed a ruleset"
	expect_rc 2 "check --table $t" "$bin" check --table "$t" "$ex"
	sed "s/^table inet svcnft /table inet $t /" "$tmp/good.nft" >"$tmp/kw.nft"
	[ $netns = 0 ] || ! nftc "$tmp/kw.nft" || fail "nft parses table inet $t: the check refuses a good name"
done
for t in svcnft my_table kp2 my-table saddr; do
	expect_rc 0 "--table $t" "$bin" compile --table "$t" "$ex"
	[ $netns = 0 ] || nftc "$tmp/out" || fail "nft refuses the script of --table $t"
done
[ $netns = 1 ] || echo "note: no user+network namespace (unshare -rn): nft's own verdicts not checked"
# --node-name is a node's name (a DNS-1123 subdomain), as an endpoint's nodeName
expect_rc 2 "--node-name with capitals" "$bin" compile --node-name Node-1 "$ex"
grep -q '^svcnft: --node-name: invalid value "Node-1": a lowercase RFC 1123 subdomain must' "$tmp/err" ||
	fail "--node-name Node-1: no message naming the rule"
expect_rc 2 "watch --node-name with a space" "$bin" watch --node-name 'node 1' --help
expect_rc 0 "--node-name with dots" "$bin" compile --node-name node-1.example.org "$ex"
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

# Options are checked per command: one a command does not use is a usage
# error naming both, wherever it stands; the ones its --help lists are taken.
# Refusals are checked before --help is acted on: with --help a broken
# check prints help instead of reaching the kernel.
"$bin" --help | awk '/^  (-., |    )--[a-z]/ { sub(/^  (-., |    )--/, "");
	print $1, ($2 ~ /^[A-Z][A-Z=-]*$/ ? $2 : "") }' >"$tmp/opts"
[ "$(wc -l <"$tmp/opts")" -ge 15 ] || fail "cannot read the options from --help"
awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' "$tmp/help" >"$tmp/cmds"
# each command with every option its --help lists, at once: all are
# checked before any value is (so "x" as a value does not hide a refusal)
while read -r c; do
	"$bin" "$c" --help >"$tmp/h-$c"
	set --
	while read -r o a; do
		grep -q -- "--$o\b" "$tmp/h-$c" && set -- "$@" "--$o${a:+=x}"
	done <"$tmp/opts"
	[ $# -ge 3 ] || fail "$c --help lists only $*"
	"$bin" "$c" "$@" --help >/dev/null 2>"$tmp/err"
	grep -q "does not take" "$tmp/err" && fail "$c refuses an option its --help lists: $(cat "$tmp/err")"
done <"$tmp/cmds"
# each option with a command whose --help does not list it
while read -r o a; do
	c=$(while read -r c; do grep -q -- "--$o\b" "$tmp/h-$c" || { echo "$c"; break; }; done <"$tmp/cmds")
	[ -n "$c" ] || continue		# taken by all (--help, --version)
	expect_rc 2 "$c --$o" "$bin" "$c" "--$o${a:+=x}" --help "$ex"
	grep -q "^svcnft: $c does not take --$o\$" "$tmp/err" || fail "$c --$o: $(head -c 200 "$tmp/err")"
done <"$tmp/opts"
expect_rc 2 "compile --full" "$bin" compile --full "$ex"
grep -qx "svcnft: compile does not take --full" "$tmp/err" || fail "compile --full: $(cat "$tmp/err")"
expect_rc 2 "option before the command" "$bin" --debounce 5 compile "$ex"
grep -q "compile does not take --debounce" "$tmp/err" || fail "--debounce before compile: $(cat "$tmp/err")"
expect_rc 2 "short option" "$bin" delete -s 10.96.0.0/12 --help
grep -q "delete does not take -s (--service-cidr)" "$tmp/err" || fail "delete -s: $(cat "$tmp/err")"
expect_rc 2 "dns -o" "$bin" dns -o json "$ex"
expect_rc 2 "watch --against" "$bin" watch --against "$tmp/a" --help "$ex"
expect_rc 2 "unused option with a bad value" "$bin" env --ttl abc "$ex"
grep -q "env does not take --ttl" "$tmp/err" || fail "env --ttl abc: $(cat "$tmp/err")"
expect_rc 0 "compile's options" "$bin" compile -t t -s 10.96.0.0/12 -c 10.244.0.0/16 --masquerade-all \
	--node-name node-a --nodeport-addresses 192.168.0.0/16 --service-node-port-range 30000-32767 \
	--limit objects=100 -o json "$ex"
expect_rc 0 "env's options" "$bin" env -n shop -o docker -s 10.96.0.0/12 --limit depth=64 "$ex"
expect_rc 0 "dns's options" "$bin" dns --zone example.org --ttl 5 --ptr -s 10.96.0.0/12 "$ex"
"$bin" compile -c 10.244.0.0/16 "$ex" >"$tmp/saved.nft"
expect_rc 0 "diff's options" "$bin" diff --against "$tmp/saved.nft" -t svcnft -c 10.244.0.0/16 "$ex"
expect_rc 0 "apply --full --help" "$bin" apply --full --help
expect_rc 0 "watch --debounce --interval --help" "$bin" watch --debounce 5 --interval 1 --help
expect_rc 0 "abbreviated option" "$bin" compile --masq "$ex"

# explain: offline, JSON; usage errors.
expect_rc 0 "explain" "$bin" explain -o json --from 10.244.9.9 10.96.0.11:6379 "$ex"
grep -q '^{"verdict":"dnat","service":"default/redis-master:6379","endpoints":\["[0-9.]*:6379"\],"masquerade":false' "$tmp/out" ||
	fail "explain -o json: $(cat "$tmp/out")"
expect_rc 0 "explain, unknown port" "$bin" explain -o json 10.96.0.11:1/udp "$ex"
grep -q '"verdict":"reject"' "$tmp/out" || fail "explain of a port the service lacks: $(cat "$tmp/out")"
expect_rc 0 "explain, two destinations" "$bin" explain -o json 10.96.0.11:6379 10.0.0.99:80 "$ex"
[ "$(grep -c '"verdict":' "$tmp/out")" = 2 ] && grep -q '"verdict":"none"' "$tmp/out" ||
	fail "explain of two destinations: $(cat "$tmp/out")"
expect_rc 2 "explain, bad destination" "$bin" explain 10.96.0.11 "$ex"
expect_rc 2 "explain, IPv6 without brackets" "$bin" explain fd00::1:80 "$ex"
expect_rc 2 "explain, --from of the other family" "$bin" explain --from fd00::1 10.96.0.11:6379 "$ex"
expect_rc 2 "explain without PATH" "$bin" explain 10.96.0.11:6379
expect_rc 2 "explain -o nft" "$bin" explain -o nft 10.96.0.11:6379 "$ex"
expect_rc 2 "trace with a PATH" "$bin" trace 10.96.0.11:6379 "$ex"

if [ "$fails" -ne 0 ]; then
	echo "$fails CLI checks failed"
	exit 1
fi
echo "all CLI checks passed"
