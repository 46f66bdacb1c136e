#!/bin/bash
# A hostile input changes nothing outside svcnft's table: in a private
# network namespace with other tables (one of them named like svcnft's
# prefix), apply hostile inputs that validate, try ones that do not, then
# delete; every other table must list exactly as before, at every step.
# Root only.  Usage: e2e.sh SVCNFT SRCROOT
set -eu
svcnft=$(realpath "$1")
src=$2
. "$(dirname "$0")/../lib/netns.sh"
netns_setup svcnft-inj

nsx nft -f - <<'NFT'
table inet filter {
	comment "not svcnft"
	set allowed { type ipv4_addr; elements = { 192.0.2.1, 192.0.2.2 } }
	chain input { type filter hook input priority 0; policy accept; ip saddr @allowed accept; }
}
table ip nat {
	chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "lo" masquerade; }
}
table ip6 raw {
	chain pre { type filter hook prerouting priority raw; policy accept; notrack; }
}
table inet svcnft-other {
	comment "svcnft layout 1 (a foreign table with a similar name)"
	chain c { counter; }
}
NFT

# Everything but table inet svcnft.
others() {
	nsx nft -s list ruleset |
		awk '/^table inet svcnft \{/ { skip = 1; next }
		     skip && /^}/ { skip = 0; next }
		     !skip'
}
others >"$tmp/before"
nsx nft list ruleset >"$tmp/all-before"

export SVCNFT_NO_HUGEPAGES=1
mkdir "$tmp/ok"
# the property itself is injection-property's; here only the inputs count
python3 "$src/tests/injection/gen.py" "$svcnft" --per-class 20 --seed 66 \
	--keep "$tmp/ok" >"$tmp/gen.log" || true
[ "$(ls "$tmp/ok" | wc -l)" -ge 20 ] || { cat "$tmp/gen.log"; fail "gen.py kept too few inputs"; }
cp "$src/testdata/hostile-labels/in.json" "$tmp/ok/hostile-labels.json"
n_ok=0 n_bad=0
for f in "$tmp"/ok/*.json; do
	# inputs of one class (a hostile kind) hold no Service, and one after
	# the other they shrink the table: the guards are not what is tested
	nsx "$svcnft" apply --allow-empty --force -s 10.0.0.0/24 "$f" 2>"$tmp/err" ||
		{ cat "$tmp/err"; fail "apply $f"; }
	others | cmp -s - "$tmp/before" || fail "$f changed another table"
	nsx nft list tables | grep -q pwned && fail "$f created a table"
	n_ok=$((n_ok + 1))
done
nsx nft list table inet svcnft >"$tmp/ours"
for f in "$src"/testdata/err-hostile-names/svc.json "$src"/testdata/err-names/svc.json; do
	rc=0
	nsx "$svcnft" apply -s 10.0.0.0/24 "$f" 2>/dev/null || rc=$?
	[ "$rc" = 3 ] || fail "apply $f: exit $rc, expected 3"
	nsx nft list table inet svcnft | cmp -s - "$tmp/ours" || fail "$f changed svcnft's table"
	others | cmp -s - "$tmp/before" || fail "$f changed another table"
	n_bad=$((n_bad + 1))
done
nsx "$svcnft" delete
nsx nft list ruleset | cmp -s - "$tmp/all-before" || {
	nsx nft list ruleset | diff "$tmp/all-before" - || true
	fail "ruleset differs after delete"
}
echo "ok: $n_ok hostile inputs applied, $n_bad refused; other tables unchanged"
