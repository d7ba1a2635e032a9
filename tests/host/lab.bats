#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The lab itself, run on the host: status and directory pass through, the
# work tree is writable, and a guest that warns, panics or hangs fails the
# run with a clear message.  Each test boots a guest, so what one boot can
# show is shown by one test.

setup() {
	ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	cd "$ROOT"
}

@test "lab: a WARNING in the guest's kernel log fails the run and is shown" {
	run scripts/lab --no-load -- sh -c 'echo "<4>WARNING: CPU: 0 PID: 1 at shikumi lab self-test" >/dev/kmsg'
	[ "$status" -ne 0 ]
	[[ $output == *"kernel log shows problems"* ]]
	[[ $output == *"WARNING: CPU: 0 PID: 1 at shikumi lab self-test"* ]]
}

@test "lab: a guest panic fails the run and shows the panic" {
	run scripts/lab --no-load -- sh -c 'echo c >/proc/sysrq-trigger; sleep 30'
	[ "$status" -ne 0 ]
	[[ $output == *"guest died"* ]]
	[[ $output == *"Kernel panic"* || $output == *"sysrq"* ]]
}

@test "lab: a hung guest is killed at the timeout, and shows what it was doing" {
	# 90 s: on a loaded machine (a fresh CI builds the debug kernel beside
	# two guests) the boot alone took over 40 s, and the watchdog runs in
	# the booted guest
	run scripts/lab --no-load --timeout 90 -- sleep 600
	[ "$status" -eq 124 ]
	[[ $output == *"timed out after 90s"* ]]
	# lab-guest's watchdog: the kernel's blocked tasks, and the processes
	[[ $output == *"sysrq: Show Blocked State"* ]]
	grep -qE '^ *[0-9]+ S .* sleep 600$' <<<"$output"
}

# One boot for both: the clone under /tmp (where CI's clones are), the
# directory and the exit status passed through, the work tree writable, and
# the modules loaded from the clone's own build
@test "lab: a work tree under /tmp (as in CI): same directory, exit status passed through, writable, modules live" {
	clone=$(mktemp -d /tmp/shikumi-clone.XXXXXX)
	git clone -q "$ROOT" "$clone/src"
	cd "$clone/src/tests"
	run "$clone/src/scripts/lab" -- bash -c \
		'pwd; shikumi status | grep -q live && echo from-guest >../marker; exit 7'
	[ "$status" -eq 7 ]
	[[ $output == *"$clone/src/tests"* ]]
	[ "$(cat "$clone/src/marker")" = from-guest ]
	cd /
	rm -rf "$clone"
}
