#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# Kernel lockdown, which Secure Boot turns on: shikumi doctor's verdict
# and fix, against what the kernel then does.  Lockdown cannot be lowered
# once raised, so this runs only in a guest of its own, after everything
# else in it: scripts/check's short pti=on boot, with
# SHIKUMI_TEST_LOCKDOWN=1 (it skips elsewhere).

load common

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	KVER=$(uname -r)
}

@test "lockdown: raised to integrity, doctor says what stops and why; debugfs refuses the writable files and the kernel unsigned modules, as it said" {
	[[ ${SHIKUMI_TEST_LOCKDOWN:-} == 1 ]] ||
		skip "raises lockdown for the rest of the boot: only in a guest of its own (SHIKUMI_TEST_LOCKDOWN=1)"
	mountpoint -q /sys/kernel/security || mount -t securityfs none /sys/kernel/security
	[ -e /sys/kernel/security/lockdown ] || skip "this kernel has no lockdown LSM"
	grep -q '\[none\]' /sys/kernel/security/lockdown
	module_loaded shikumi_ptdump || shikumi load ptdump
	! module_loaded shikumi_chrdev || shikumi unload chrdev
	run shikumi doctor --json
	echo "$output"
	[ "$(doctor_verdict lockdown)" = ok ]
	[ "$(doctor_verdict signature)" = ok ]

	echo integrity >/sys/kernel/security/lockdown
	grep -q '\[integrity\]' /sys/kernel/security/lockdown
	run shikumi doctor --json
	echo "$output"
	[ "$(doctor_verdict lockdown)" = warn ]
	[ "$(doctor_fix lockdown)" = "reboot without lockdown= on the kernel command line" ]
	# the tree's modules are not signed, and the kernel now wants signatures
	[ "$(doctor_verdict signature)" = fail ]
	[ "$(doctor_fix signature)" = "make sign KEY=key.pem CERT=cert.pem (README: Secure Boot)" ]
	[ "$status" -eq 1 ]

	# what the kernel does: an unsigned module is refused ...
	run insmod "build/kmod/$KVER/modules/chrdev/shikumi_chrdev.ko"
	echo "$output"
	[ "$status" -ne 0 ]
	[[ $output == *"Operation not permitted"* || $output == *"Key was rejected"* ]]
	! module_loaded shikumi_chrdev
	# ... debugfs refuses ptdump's dump (0600), and the CLI says why ...
	run shikumi pt dump $$ --range 0x0-0x1000
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"locked down"* ]]
	! head -c 1 /sys/kernel/debug/shikumi/ptdump/dump
	# ... and still lets a read-only file be read (0400)
	head -c 1 /sys/kernel/debug/shikumi/ptdump/status >/dev/null
}
