#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The CLI's behaviour that needs no module, on the host: a report that
# cannot be written fails, and under --json an error reaches stdout as
# {"error": ...}.  The guest suites (tests/cli*.bats) test the rest.

setup() {
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	shikumi=$root/build/bin/shikumi
	[ -x "$shikumi" ] || {
		echo "no $shikumi: make tools first" >&2
		return 1
	}
}

@test "cli: output that cannot be written (a full disk) fails with a message, not exit 0" {
	run "$shikumi" --version
	[ "$status" -eq 0 ]
	for cmd in "--version" "--help" "pt --help" "sched tunables --json" "sched tunables"; do
		# shellcheck disable=SC2086 # the words of the command
		run bash -c '"$0" "$@" >/dev/full' "$shikumi" $cmd
		echo "$cmd: $status: $output"
		[ "$status" -eq 1 ]
		[[ $output == *"cannot write the output: No space left on device"* ]]
	done
}

@test "cli: under --json an error is also a JSON object on stdout, once, with the same exit status" {
	# a pid that cannot exist (above pid_max): the CLI refuses it, or the
	# module is not there; either way an error, never a report
	run bash -c '"$0" pt dump 99999999 --json 2>/dev/null' "$shikumi"
	echo "$output"
	[ "$status" -ne 0 ]
	[ "$(jq -r 'keys | join(",")' <<<"$output")" = error ]
	[ -n "$(jq -r .error <<<"$output")" ]
	# the same message on stderr, as without --json
	run bash -c '"$0" pt dump 99999999 --json 2>&1 >/dev/null' "$shikumi"
	[[ $output == *"$(jq -r .error <<<"$(bash -c '"$0" pt dump 99999999 --json 2>/dev/null' "$shikumi")")"* ]]
	# without --json, nothing on stdout
	run bash -c '"$0" pt dump 99999999 2>/dev/null' "$shikumi"
	[ -z "$output" ]
	# --pretty implies --json
	run bash -c '"$0" blk stats --pretty 2>/dev/null' "$shikumi"
	[ "$status" -eq 1 ]
	jq -e '.error | length > 0' <<<"$output"
	[ "$(grep -c . <<<"$output")" -gt 1 ]
}

# the leaves of the command tree: "WORDS<TAB>describe record", one a line
leaves() { # WORDS...
	local d name
	d=$("$shikumi" "$@" --describe)
	if [[ $d != cmd* ]]; then
		printf '%s\n' "$*"
		return
	fi
	while IFS=$'\t' read -r _ name _; do
		leaves "$@" "$name"
	done <<<"$d"
}

@test "man pages: lint-clean, and every verb and option of the tables is in its family's page" {
	local out=$BATS_TEST_TMPDIR/man page leaf long n=0
	"$root/scripts/mangen" "$shikumi" "$out"
	for page in "$out"/*.1 "$root"/doc/man/*.4; do
		run bash -c 'LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$0" 2>&1 >/dev/null' "$page"
		echo "$page: $output"
		[ -z "$output" ]
	done
	while read -r leaf; do
		set -- $leaf
		case $1 in chr|blk|pt|sched|cache) page=$out/shikumi-$1.1 ;; *) page=$out/shikumi.1 ;; esac
		grep -q "^\.B shikumi ${leaf//-/\\\\-}\$" "$page"
		while IFS=$'\t' read -r _ _ long _; do
			grep -q -- "\\\\-\\\\-${long//-/\\\\-}" "$page" || {
				echo "$leaf: --$long not in $page"
				return 1
			}
			n=$((n + 1))
		done < <("$shikumi" $leaf --describe | grep '^opt')
	done < <(leaves)
	echo "# $n options in the pages" >&3
	[ "$n" -gt 100 ]
}

@test "bash completion: verbs, options and the values the tables list" {
	run bash -c '
		source "$1/tools/shikumi/shikumi.bash"
		PATH=$(dirname "$2"):$PATH
		c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _shikumi; echo "${COMPREPLY[*]}"; }
		complete -p shikumi
		c shikumi ""
		c shikumi blk ""
		c shikumi blk model ""
		c shikumi blk policy d
		c shikumi pt demo ""
		c shikumi pt demo cow --p
		c shikumi chr bench --mode ""
		c shikumi load ""
		c shikumi sched report -i "$1/tools/shikumi/shikumi.b"
		c shikumi nonsense ""' _ "$root" "$shikumi"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "complete -F _shikumi shikumi" ]
	[ "${lines[1]}" = "load unload status doctor tour sched pt chr blk cache --help --version" ]
	[ "${lines[2]}" = "info stats policy model trace plot measure bench cache powercut poweron demo" ]
	[ "${lines[3]}" = "ram ssd hdd" ]
	[ "${lines[4]}" = deadline ]
	[ "${lines[5]}" = "mmap demand cow thp sparse" ]
	[ "${lines[6]}" = "--pages --pretty" ]
	[ "${lines[7]}" = "irq poll upoll" ]
	[ "${lines[8]}" = "chrdev ramdisk ptdump cstrace pgcache" ]
	[ "${lines[9]}" = "$root/tools/shikumi/shikumi.bash" ]
	[ "${#lines[@]}" -eq 10 ] || [ -z "${lines[10]}" ]
}
