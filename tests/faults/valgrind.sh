#!/bin/sh
# One program under valgrind: no leaks, no memory errors.  meson builds the
# programs without sanitizers (tests/faults/meson.build), since valgrind
# cannot run AddressSanitizer's.  Skipped without valgrind.
# Usage: valgrind.sh PROGRAM [ARGS...]
set -eu
if ! command -v valgrind >/dev/null; then
	echo "SKIPPED: no valgrind"
	exit 77
fi
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible "$@"
