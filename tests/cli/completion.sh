#!/bin/bash
# Bash completion: the script meson generates (and installs) is what
# `svcnft completion bash` prints; completing simulated command lines
# (COMP_WORDS) offers the commands, each command's options as its --help
# lists them, and paths where an operand or option value is a path.
# Usage: completion.sh SVCNFT GENERATED_SCRIPT
set -u
bin=$1
script=$2
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SVCNFT_NO_HUGEPAGES=1
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$bin" completion bash >"$tmp/script" || fail "svcnft completion bash exits non-zero"
cmp -s "$tmp/script" "$script" || fail "the generated $script differs from svcnft completion bash"
bash -n "$script" || fail "syntax"
if command -v shellcheck >/dev/null; then
	shellcheck -s bash "$script" || fail "shellcheck"
fi
"$bin" completion zsh 2>/dev/null && fail "completion zsh accepted"
"$bin" --help | grep -q completion && fail "the hidden completion command is in --help"

# shellcheck source=/dev/null
. "$script"
complete -p svcnft | grep -q -- '-F _svcnft svcnft$' || fail "complete -p: $(complete -p svcnft)"

# comp WORD...: the suggestions for the last word, sorted, one a line
comp() {
	COMP_WORDS=(svcnft "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_svcnft 2>/dev/null
	[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}" | sort
}
# same DESC WORD...: $tmp/got holds exactly the WORDs (not in a pipeline:
# fail must count in this shell)
same() {
	local d=$1
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@" | sort >"$tmp/want"
	[ $# -ne 0 ] || : >"$tmp/want"
	diff "$tmp/want" "$tmp/got" >"$tmp/d" || fail "$d: $(tr '\n' ' ' <"$tmp/d")"
}
# the long options a command's --help lists, into $tmp/want-opts
opts_of() {
	"$bin" "$@" --help | awk '/^  (-., |    )--[a-z]/ { sub(/^  (-., |    )/, ""); print $1 }' |
		sort >"$tmp/opts"
	mapfile -t opts <"$tmp/opts"
}

"$bin" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' >"$tmp/cmds"
mapfile -t cmds <"$tmp/cmds"
[ ${#cmds[@]} -ge 8 ] || fail "commands in --help: ${cmds[*]}"
comp '' >"$tmp/got"
same "commands" "${cmds[@]}"
comp d >"$tmp/got"
same "commands starting with d" delete diff dns
for c in "${cmds[@]}"; do
	comp "$c" -- >"$tmp/got"
	opts_of "$c"
	[ ${#opts[@]} -ge 3 ] || fail "$c --help lists ${opts[*]}"
	same "$c --" "${opts[@]}"
done
comp compile --f >"$tmp/got"
same "compile --f (--full is apply's)"
comp apply --f >"$tmp/got"
same "apply --f" --force --full
# options and values before the command, with = split off as bash does
comp --table x dns -- >"$tmp/got"
opts_of dns
same "--table x dns --" "${opts[@]}"
comp --table = x -s 10.96.0.0/12 env -- >"$tmp/got"
opts_of env
same "--table=x -s ... env --" "${opts[@]}"
comp -- >"$tmp/got"
opts_of
same "options before any command" "${opts[@]}"

# paths: operands of commands that take PATH, --against's value
mkdir -p "$tmp/in/sub"
: >"$tmp/in/a.json"
: >"$tmp/in/b.yaml"
paths=("$tmp/in/a.json" "$tmp/in/b.yaml" "$tmp/in/sub")
comp compile "$tmp/in/" >"$tmp/got"
same "compile PATH" "${paths[@]}"
comp watch --debounce 5 "$tmp/in/" >"$tmp/got"
same "watch --debounce 5 PATH" "${paths[@]}"
comp diff --against "$tmp/in/a" >"$tmp/got"
same "diff --against FILE" "$tmp/in/a.json"
comp diff --against = "$tmp/in/a" >"$tmp/got"
same "diff --against=FILE" "$tmp/in/a.json"
comp delete "$tmp/in/" >"$tmp/got"
same "delete takes no PATH"
comp compile --table "$tmp/in/" >"$tmp/got"
same "no paths for --table NAME"
comp compile --table = "" >"$tmp/got"
same "no paths for --table="

if [ "$fails" -ne 0 ]; then
	echo "$fails completion checks failed"
	exit 1
fi
echo "all completion checks passed"
