#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi doctor: each verdict against the machine itself (the files the
# modules are, /proc/swaps, the THP switch, /proc/mounts, the compiler the
# kernel's configuration names), and each broken thing, broken here on
# purpose, gets its verdict and a fix that, run, makes it ok again.
# Lockdown is in tests/lockdown.bats, which raises it for good.

load common

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	KVER=$(uname -r)
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	thp_was=$(sed 's/.*\[\(.*\)\].*/\1/' "$thp")
	hidden=
}

teardown() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	echo "$thp_was" >"$thp"
	[[ -z $hidden ]] || mv "$hidden" "/lib/modules/$KVER/build"
	swapoff /dev/shikumi-ram0 2>/dev/null || true
	common_teardown
}

@test "doctor: in the lab the tour can run; each verdict is what the machine says" {
	run shikumi doctor --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -r .ready <<<"$output")" = true ]
	[ "$(jq -r .kernel <<<"$output")" = "$KVER" ]
	# the modules: the tree's build for this kernel, each file there
	[ "$(doctor_verdict modules)" = ok ]
	[ "$(doctor_verdict vermagic)" = ok ]
	for m in chrdev ramdisk ptdump cstrace pgcache; do
		[ "$(modinfo -F vermagic "build/kmod/$KVER/modules/$m/shikumi_$m.ko" | cut -d' ' -f1)" = "$KVER" ]
	done
	# the kernel's interfaces, as /proc/mounts has them
	grep -q ' /sys/kernel/debug debugfs ' /proc/mounts
	[ "$(doctor_verdict debugfs)" = ok ]
	grep -q ' /sys/kernel/tracing tracefs ' /proc/mounts
	[ "$(doctor_verdict tracefs)" = ok ]
	# the compiler that /boot/config or the headers' .config names
	cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "/lib/modules/$KVER/build/.config" \
		"/boot/config-$KVER" 2>/dev/null | head -n 1)
	if [[ -n $cc ]]; then
		[[ $(jq -r '.checks[] | select(.id == "compiler") | .what' <<<"$output") == "$cc, "* ]]
		[ "$(doctor_verdict compiler)" = "$(command -v "$cc" >/dev/null && echo ok || echo warn)" ]
	fi
	# THP, swap, fio, the VM: as the kernel and the PATH say
	[ "$(doctor_verdict thp)" = "$([ "$thp_was" = never ] && echo warn || echo ok)" ]
	[ "$(doctor_verdict swap)" = "$([ "$(wc -l </proc/swaps)" -gt 1 ] && echo ok || echo warn)" ]
	[ "$(doctor_verdict fio)" = "$(command -v fio >/dev/null && echo ok || echo warn)" ]
	if grep -qw hypervisor /proc/cpuinfo; then
		[[ $(jq -r '.checks[] | select(.id == "vm") | .what' <<<"$output") == "a virtual machine"* ]]
	fi
	# the text report says the same, a line per check
	run shikumi doctor
	[ "$status" -eq 0 ]
	[[ $output == *"ready"* && $output != *"not ready"* ]]
	[ "$(grep -cE '^  (ok|info|WARN|FAIL) ' <<<"$output")" -eq "$(shikumi doctor --json | jq '.checks | length')" ]
}

@test "doctor: debugfs, tracefs, THP, swap and headers broken on purpose: each verdict and its fix, which works" {
	umount /sys/kernel/debug
	umount /sys/kernel/tracing
	echo never >"$thp"
	if [[ -e /lib/modules/$KVER/build ]]; then
		hidden=/lib/modules/$KVER/.build-hidden
		mv "/lib/modules/$KVER/build" "$hidden"
	fi
	run shikumi doctor --json
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$(jq -r .ready <<<"$output")" = false ]
	[ "$(doctor_verdict debugfs)" = fail ]
	[ "$(doctor_verdict tracefs)" = fail ]
	[ "$(doctor_verdict thp)" = warn ]
	# the modules are built: the headers are needed only to build again
	[ "$(doctor_verdict headers)" = warn ]
	[ "$(doctor_fix headers)" = "apt install linux-headers-$KVER" ]
	# every fix, run as given, makes its check ok
	for id in debugfs tracefs thp; do
		echo "# fix for $id: $(doctor_fix "$id")" >&3
		sh -c "$(doctor_fix "$id")"
	done
	[[ -z $hidden ]] || mv "$hidden" "/lib/modules/$KVER/build"
	hidden=
	# swap: a shikumi disk made swap, then the verdict counts it
	reload_module shikumi_ramdisk size_mb=16
	mkswap /dev/shikumi-ram0 >/dev/null
	swapon /dev/shikumi-ram0
	run shikumi doctor --json
	[ "$status" -eq 0 ]
	for id in debugfs tracefs thp swap; do
		[ "$(doctor_verdict "$id")" = ok ]
	done
	[ "$(doctor_verdict headers)" = "$([ -e "/lib/modules/$KVER/build/Makefile" ] && echo ok || echo warn)" ]
	[[ $(jq -r '.checks[] | select(.id == "swap") | .what' <<<"$output") == "15 MiB of swap on "* ]]
	swapoff /dev/shikumi-ram0
	run shikumi doctor --json
	[ "$(doctor_verdict swap)" = "$([ "$(wc -l </proc/swaps)" -gt 1 ] && echo ok || echo warn)" ]
}

@test "doctor: a module of another version, loaded (as after a package upgrade): its verdict and its fix, which works" {
	local ko=build/kmod/$KVER/modules/chrdev/shikumi_chrdev.ko
	ver=$("$SHIKUMI_ROOT/scripts/version")
	run shikumi doctor --json
	[ "$(doctor_verdict version)" = ok ]
	[[ $(jq -r '.checks[] | select(.id == "version") | .what' <<<"$output") == "5 at version $ver, this shikumi's"* ]]
	shikumi unload 2>/dev/null || true
	other=$(other_version_ko "$ko" "$BATS_TEST_TMPDIR/shikumi_chrdev.ko")
	insmod "$BATS_TEST_TMPDIR/shikumi_chrdev.ko"
	[ "$(cat /sys/module/shikumi_chrdev/version)" = "$other" ]
	run shikumi doctor --json
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(doctor_verdict version)" = warn ]
	[ "$(jq -r '.checks[] | select(.id == "version") | .what' <<<"$output")" = \
		"loaded, and not this shikumi's version, $ver: shikumi_chrdev $other" ]
	[ "$(doctor_fix version)" = "shikumi unload && shikumi load" ]
	eval "$(doctor_fix version)"
	[ "$(cat /sys/module/shikumi_chrdev/version)" = "$ver" ]
	run shikumi doctor --json
	[ "$(doctor_verdict version)" = ok ]
	[[ $(jq -r '.checks[] | select(.id == "version") | .what' <<<"$output") == *"(5 of them loaded)" ]]
	shikumi unload
}

@test "doctor: no fio and no compiler on the PATH; no modules outside the tree; bad usage; not root" {
	# a PATH without /usr/bin: no fio, no gcc
	run env PATH=/usr/sbin:/sbin "$SHIKUMI_ROOT/build/bin/shikumi" doctor --json
	echo "$output"
	[ "$(doctor_verdict fio)" = warn ]
	[ "$(doctor_fix fio)" = "apt install fio" ]
	if [[ $(doctor_verdict compiler) != info ]]; then
		[ "$(doctor_verdict compiler)" = warn ]
		[[ $(doctor_fix compiler) == "apt install gcc"* ]]
	fi
	# outside the tree nothing is installed here: the modules are missing
	cd /
	run "$SHIKUMI_ROOT/build/bin/shikumi" doctor --json
	[ "$status" -eq 1 ]
	[ "$(doctor_verdict modules)" = fail ]
	[[ $(jq -r '.checks[] | select(.id == "modules") | .what' <<<"$output") == "0 of 5 modules found for $KVER"* ]]
	[ "$(doctor_fix modules)" = "apt install shikumi-dkms (or, in the source tree: make install)" ]
	cd "$SHIKUMI_ROOT"
	run shikumi doctor extra
	[ "$status" -eq 2 ]
	[[ $output == *"unexpected argument 'extra'"* ]]
	# a user runs it too, and is told what needs root
	run as_user shikumi doctor --json
	echo "$output"
	[ "$(doctor_verdict root)" = info ]
	[ "$(doctor_fix root)" = "sudo shikumi doctor" ]
	[ "$(doctor_verdict debugfs)" = ok ]
}
