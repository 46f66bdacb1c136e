#!/bin/sh
# nft-sorted.sh: `nft list table` on stdin, in an order that does not depend
# on history, on stdout: handles left out, the elements of every set sorted
# (nft lists the elements of a concatenation with an interval, e.g.
# firewall-allow, in insertion order), and the chains, sets and maps of the
# table sorted (those an incremental apply adds come last in the kernel).
# Two tables with the same content print the same.
sed 's/ # handle [0-9]*//' | awk '
function flush(  n, i, a) {
	sub(/}[ \t]*$/, "", buf)
	n = split(buf, a, ",")
	fflush()
	for (i = 1; i <= n; i++) {
		gsub(/^[ \t]+|[ \t]+$/, "", a[i])
		if (a[i] != "")
			print "\t\t\t" a[i] | "sort"
	}
	close("sort")
	print "\t\t}"
	inel = 0
}
inel { buf = buf "," $0; if ($0 ~ /}[ \t]*$/) flush(); next }
/elements = [{]/ {
	buf = $0
	sub(/.*elements = [{]/, "", buf)
	print "\t\telements = {"
	inel = 1
	if (buf ~ /}[ \t]*$/) flush()
	next
}
{ print }' | awk '
# chains and maps an incremental apply adds come last in the kernel:
# order the blocks of the table by their first line (one line each
# through sort, parts joined by \001)
cur == "" && /^\t(chain|set|map) / { cur = $0; next }
cur != "" { cur = cur "\001" $0; if ($0 == "\t}") { print "1 " cur; cur = "" }; next }
/^}$/ { print "2 " $0; next }
NF { printf "0 %06d%s\n", NR, $0 }' | sort -s -k1,1 -k2 | cut -c3- |
	sed 's/^[0-9]\{6\}//' | tr '\001' '\n'
