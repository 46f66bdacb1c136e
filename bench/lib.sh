# shellcheck shell=bash
# Helpers of bench/run.sh and bench/oneshot.sh (bash): a work directory and
# network namespaces removed on exit, timing with GNU time, medians.

TIME=/usr/bin/time

# bench_init PREFIX: $WORK (/tmp/PREFIX.XXXXXX); the namespaces new_ns
# makes (PREFIX-PID-N) and $WORK go on exit.
bench_init() {
	BENCH_PREFIX=$1
	WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	NAMESPACES=""
	NSSEQ=0
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	for ns in $NAMESPACES; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$WORK"
}

# Create a fresh network namespace; its name goes to $NS.
new_ns() {
	NSSEQ=$((NSSEQ + 1))
	NS=$BENCH_PREFIX-$$-$NSSEQ
	ip netns add "$NS"
	NAMESPACES="$NAMESPACES $NS"
}

del_ns() {
	ip netns del "$1"
	NAMESPACES=$(echo "$NAMESPACES" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

# timed OUTFILE CMD...: run CMD, append "wall_s maxrss_kb cpu_s user_s
# sys_s" to OUTFILE (cpu: user + system); CMD's stderr goes to $WORK/err,
# shown only if it fails.
timed() {
	local out=$1
	shift
	if ! $TIME -f '%e %M %U %S' -o "$WORK/t" "$@" 2> "$WORK/err"; then
		echo "$0: failed: $*" >&2
		cat "$WORK/err" >&2
		exit 1
	fi
	tail -n 1 "$WORK/t" | awk '{ print $1, $2, $3 + $4, $3, $4 }' >> "$out"
}

# median FILE COLUMN
median() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# mb KB: in MB, rounded
mb() {
	awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'
}
