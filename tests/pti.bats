#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# ptdump under page-table isolation.  With PTI every process has two
# PGDs: the kernel's, into whose user entries the kernel forces NX, and
# the user copy, which the CPU walks in user mode.  ptdump must show the
# user copy: the other one says that no user code could ever run.
# Runs only in a guest booted with pti=on (scripts/lab --append pti=on;
# scripts/check boots one kernel a run so, in turn, with SHIKUMI_TEST_PTI=1,
# under which the test fails if PTI is off) and skips elsewhere.

load common

setup() {
	common_setup
	module_loaded shikumi_ptdump || shikumi load shikumi_ptdump
	target=
}

need_pti() {
	if ! grep -qw pti /proc/cpuinfo; then
		if [[ ${SHIKUMI_TEST_PTI:-} == 1 ]]; then
			echo "booted with pti=on, but /proc/cpuinfo has no pti flag"
			return 1
		fi
		skip "page-table isolation is off (scripts/lab --append pti=on)"
	fi
}

teardown() {
	[[ -z $target ]] || { kill "$target"; wait "$target"; } 2>/dev/null || true
	common_teardown
}

@test "pti: ptdump's status and the dump's header say whether PTI is on, as /proc/cpuinfo does" {
	local on=0
	! grep -qw pti /proc/cpuinfo || on=1
	grep -qx "pti $on" /sys/kernel/debug/shikumi/ptdump/status
	run shikumi pt dump $$ --range 0x0-0x1000 --json
	[ "$status" -eq 0 ]
	[ "$(jq .pti_user_pgd <<<"$output")" = "$( ((on)) && echo true || echo false)" ]
}

@test "pti: ptdump walks the user PGD: no level above code being run has NX, the top one included" {
	need_pti
	sleep 1000 &
	target=$!
	# where it sleeps: the program counter in libc's text, which /proc
	# reads from the task's saved registers (the last field), once it is
	# in (clock_)nanosleep, not still the shell's child before the exec
	local pc i sc
	for ((i = 0; i < 200; i++)); do
		read -ra sc <"/proc/$target/syscall"
		[[ ${sc[0]} == 230 || ${sc[0]} == 35 ]] && break
		nap 0.05
	done
	pc=${sc[-1]}
	local range perms x=
	while read -r range perms _; do
		((0x${range%-*} <= pc && pc < 0x${range#*-})) && x=$perms
	done <"/proc/$target/maps"
	[[ $x == *x* ]] || { echo "pc $pc is not in executable memory: '$x'"; false; }
	run shikumi pt translate "$target" "$pc" --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<<"$output")" = mapped ]
	[ "$(jq .pti_user_pgd <<<"$output")" = true ]
	# the CPU fetched this code: NX is clear at every level
	[ "$(jq '[.levels[] | select(.flags | index("nx"))] | length' <<<"$output")" -eq 0 ]
	# bit 63 of the top-level entry (NX) is clear in the raw value too
	(($(jq -r '.levels[0].raw' <<<"$output") >= 0))
	[ "$(jq -r '.levels[0].level' <<<"$output")" = pgd ]
	run shikumi pt translate "$target" "$pc"
	[[ $output == *"page-table isolation (the user PGD)"* ]]
}

@test "pti: a full dump's top-level entries are the user copy's, without NX" {
	need_pti
	sleep 1000 &
	target=$!
	nap 0.2
	run shikumi pt dump "$target" --full --json
	[ "$status" -eq 0 ]
	[ "$(jq .pti_user_pgd <<<"$output")" = true ]
	# the PGD entry above each page: the kernel's copy has NX (bit 63) in
	# every present user entry, the user copy in none (Linux never puts
	# NX in the upper levels of user tables)
	local pgd='[.. | objects | select(.level? == "pgd" and has("raw") and (has("va") | not))]'
	[ "$(jq "$pgd | length" <<<"$output")" -gt 0 ]
	[ "$(jq "$pgd | map(select(.raw | test(\"^0x[89a-f][0-9a-f]{15}$\"))) | length" <<<"$output")" -eq 0 ]
}
