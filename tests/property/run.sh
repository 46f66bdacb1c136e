#!/bin/bash
# Property test: a random sequence of changes to a directory of one file per
# Service and EndpointSlice, followed by `svcnft watch` one step at a time,
# gives exactly the table a fresh `svcnft apply --full` of the same files
# gives, and every invalid step leaves the table byte for byte as it was.
#
# Usage: run.sh SVCNFT [SEED] [STEPS]     a new sequence (gen.py)
#        run.sh SVCNFT --replay FILE      a recorded one (saved on failure)
# SEED defaults to $PROPERTY_SEED, else today's date (printed either way);
# STEPS to $PROPERTY_STEPS, else 1000.  PROPERTY_EVERY=N compares with a
# full apply every N valid steps (default 100); PROPERTY_COMPILE=1 has
# gen.py compile every step's directory and stop where svcnft and the
# generator disagree.  Root only (network namespaces); else skipped.
set -eu
SVCNFT=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/netns.sh
. "$HERE/../lib/netns.sh"
on_cleanup() { ip netns del "$ns-full" 2> /dev/null || true; }

if [ "${1:-}" = --replay ]; then
	[ $# = 2 ] || { echo "usage: run.sh SVCNFT --replay FILE"; exit 2; }
	steps=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
else
	seed=${1:-${PROPERTY_SEED:-$(date -u +%Y%m%d)}}
	n=${2:-${PROPERTY_STEPS:-1000}}
fi
netns_setup svp
ip netns add "$ns-full"
if [ -z "${steps:-}" ]; then
	echo "seed $seed, $n steps (PROPERTY_SEED=$seed to repeat)"
	steps=$tmp/steps.jsonl
	# PROPERTY_COMPILE=1: gen.py also compiles every step (slow)
	python3 "$HERE/gen.py" ${PROPERTY_COMPILE:+--svcnft "$SVCNFT"} "$seed" "$n" "$steps"
else
	echo "replaying $steps"
fi
nsx python3 "$HERE/drive.py" "$SVCNFT" "$steps" "$tmp" "$ns-full"
