#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# The shikumi CLI: help, exit codes and error messages, module loading
# through libkmod, and the chr reports checked against the kernel's own
# view (/sys, /dev, the clock).

load common

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	holder=
}

teardown() {
	if [[ -n $holder ]]; then
		kill "$holder" 2>/dev/null || true
		wait "$holder" 2>/dev/null || true
	fi
	common_teardown
}

fresh_chrdev() {
	reload_module shikumi_chrdev "$@"
}

@test "help: top level lists the commands, no command is a usage error" {
	run shikumi --help
	[ "$status" -eq 0 ]
	[[ $output == *load* && $output == *unload* && $output == *status* && $output == *chr* ]]
	run shikumi
	[ "$status" -eq 2 ]
	run shikumi frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown command 'frobnicate'"* ]]
}

@test "help: every subcommand has --help" {
	for c in load unload status "chr info" "chr bench" "chr sweep"; do
		# shellcheck disable=SC2086
		run shikumi $c --help
		[ "$status" -eq 0 ]
		[[ $output == usage:* ]]
	done
	run shikumi chr --help
	[ "$status" -eq 0 ]
	[[ $output == *bench* && $output == *sweep* && $output == *info* ]]
}

@test "usage errors exit 2 with a message" {
	run shikumi status --bogus
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option '--bogus'"* ]]
	run shikumi chr bench --mode warp --latency 10
	[ "$status" -eq 2 ]
	[[ $output == *"unknown mode 'warp'"* ]]
	run shikumi chr bench --mode irq
	[ "$status" -eq 2 ]
	[[ $output == *"--latency is required"* ]]
	run shikumi chr bench --mode irq --latency ten
	[ "$status" -eq 2 ]
	[[ $output == *"is not a number"* ]]
	run shikumi chr bench --mode irq --latency 1000001
	[ "$status" -eq 2 ]
	[[ $output == *"out of range"* ]]
	run shikumi chr bench --mode irq --latency 1 --count 0
	[ "$status" -eq 2 ]
	run shikumi chr sweep --latencies 1,x
	[ "$status" -eq 2 ]
	run shikumi load nr_devices=3
	[ "$status" -eq 2 ]
	[[ $output == *"must follow the module"* ]]
}

@test "load: unknown module is refused by name" {
	run shikumi load nosuch
	[ "$status" -eq 2 ]
	[[ $output == *"unknown module 'nosuch'"* && $output == *shikumi_chrdev* ]]
	run shikumi unload nosuch
	[ "$status" -eq 2 ]
}

@test "load: unknown parameter is refused before loading, listing the real ones" {
	shikumi unload 2>/dev/null || true
	run shikumi load chrdev bogus=1
	[ "$status" -eq 2 ]
	[[ $output == *"no parameter 'bogus'"* && $output == *nr_devices* && $output == *fifo_size* ]]
	! module_loaded shikumi_chrdev
}

@test "load: a value the module rejects is a clear failure" {
	shikumi unload 2>/dev/null || true
	run shikumi load chrdev nr_devices=0
	[ "$status" -eq 1 ]
	[[ $output == *"rejected its parameters 'nr_devices=0'"* ]]
	! module_loaded shikumi_chrdev
}

@test "load/unload: not root gets a clear refusal from the kernel" {
	shikumi unload 2>/dev/null || true
	run as_user shikumi load chrdev
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	! module_loaded shikumi_chrdev
	fresh_chrdev
	run as_user shikumi unload chrdev
	[ "$status" -eq 1 ]
	[[ $output == *"needs root"* ]]
	module_loaded shikumi_chrdev
}

@test "load/unload twice, with parameters applied" {
	shikumi unload 2>/dev/null || true
	for round in 1 2; do
		run shikumi load chrdev nr_devices=3
		[ "$status" -eq 0 ]
		[ "$(cat /sys/module/shikumi_chrdev/parameters/nr_devices)" = 3 ]
		[ -c /dev/shikumi-chr2 ]
		run shikumi unload chrdev
		[ "$status" -eq 0 ]
		! module_loaded shikumi_chrdev
		[ ! -e /dev/shikumi-chr0 ]
	done
}

@test "load: already loaded is fine, but not with new parameters" {
	fresh_chrdev
	run shikumi load chrdev
	[ "$status" -eq 0 ]
	# information, not an error: it says so
	[[ $output == *"load: note: shikumi_chrdev is already loaded"* ]]
	run shikumi load chrdev nr_devices=4
	[ "$status" -eq 1 ]
	[[ $output == *"unload it first"* ]]
	[ "$(cat /sys/module/shikumi_chrdev/parameters/nr_devices)" = 2 ]
}

@test "unload: a module not loaded, and a module in use" {
	shikumi unload 2>/dev/null || true
	run shikumi unload chrdev
	[ "$status" -eq 1 ]
	[[ $output == *"not loaded"* ]]

	fresh_chrdev
	sleep 1000 </dev/shikumi-chr0 &
	holder=$!
	# in use once the holder has the device open, however long its start
	# takes on a busy machine
	for _ in $(seq 600); do
		(($(cat /sys/module/shikumi_chrdev/refcnt) > 0)) && break
		nap 0.1
	done
	run shikumi unload chrdev
	[ "$status" -eq 1 ]
	[[ $output == *"in use"* ]]
	module_loaded shikumi_chrdev
	kill "$holder"
	wait "$holder" || true
	holder=
	run shikumi unload chrdev
	[ "$status" -eq 0 ]
}

@test "load: a module built for another kernel is refused by name" {
	local ko fake rel
	rel=$(uname -r)
	ko=$SHIKUMI_ROOT/build/kmod/$rel/modules/chrdev/shikumi_chrdev.ko
	fake=${rel/#?/9}
	cp "$ko" "$BATS_TEST_TMPDIR/shikumi_chrdev.ko"
	perl -pi -e "s/vermagic=\Q$rel\E/vermagic=$fake/" "$BATS_TEST_TMPDIR/shikumi_chrdev.ko"
	modinfo -F vermagic "$BATS_TEST_TMPDIR/shikumi_chrdev.ko" | grep -q "^$fake "
	shikumi unload 2>/dev/null || true
	run shikumi load "$BATS_TEST_TMPDIR/shikumi_chrdev.ko"
	[ "$status" -eq 1 ]
	[[ $output == *"built for kernel $fake, but this is $rel"* ]]
	! module_loaded shikumi_chrdev
	# the untouched file loads by path
	run shikumi load "$ko"
	[ "$status" -eq 0 ]
	module_loaded shikumi_chrdev
}

@test "load: outside the source tree, only installed modules are used" {
	shikumi unload 2>/dev/null || true
	cd /
	if modinfo shikumi_chrdev >/dev/null 2>&1; then
		skip "shikumi_chrdev is installed in /lib/modules"
	fi
	run shikumi load chrdev
	[ "$status" -eq 1 ]
	[[ $output == *"not installed for kernel $(uname -r)"* ]]
}

@test "status: text and JSON agree with /sys/module" {
	fresh_chrdev fifo_size=64
	run shikumi status
	[ "$status" -eq 0 ]
	[[ $output == *shikumi_chrdev*live* ]]
	[[ $output == *"fifo_size=64"* ]]
	run shikumi status --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.modules[0].loaded' <<<"$output")" = true ]
	[ "$(jq -r '.modules[0].parameters.fifo_size' <<<"$output")" = 64 ]
	[ "$(jq -r '.modules[0].refcnt' <<<"$output")" = "$(cat /sys/module/shikumi_chrdev/refcnt)" ]
	[ "$(jq -r '.kernel' <<<"$output")" = "$(uname -r)" ]
	# the version: the kernel's, as loaded, is debian/changelog's
	ver=$("$SHIKUMI_ROOT/scripts/version")
	[ "$(cat /sys/module/shikumi_chrdev/version)" = "$ver" ]
	[ "$(jq -r '.modules[0].version' <<<"$output")" = "$ver" ]
	[ "$(jq -r '.shikumi_version' <<<"$output")" = "$ver" ]
	[[ $(shikumi status) == "shikumi $ver, kernel "*shikumi_chrdev*live*" $ver "* ]]
	shikumi unload chrdev
	run shikumi status --json
	[ "$(jq -r '.modules[0].loaded' <<<"$output")" = false ]
	# not loaded: the file's, as modinfo reads it
	[ "$(jq -r '.modules[0].version' <<<"$output")" = \
		"$(modinfo -F version "$(jq -r '.modules[0].path' <<<"$output")")" ]
	[ "$(jq -r '.modules[1].version' <<<"$output")" = "$ver" ]
}

@test "chr info: devices, numbers and modes match /dev and /proc/devices" {
	fresh_chrdev nr_devices=3
	run shikumi chr info --json
	[ "$status" -eq 0 ]
	[ "$(jq '.devices | length' <<<"$output")" -eq 3 ]
	major=$(awk '$2 == "shikumi-chr" { print $1 }' /proc/devices)
	for i in 0 1 2; do
		[ "$(jq -r ".devices[$i].node" <<<"$output")" = /dev/shikumi-chr$i ]
		[ "$(jq -r ".devices[$i].major" <<<"$output")" = "$major" ]
		[ "$(jq -r ".devices[$i].minor" <<<"$output")" = "$i" ]
		[ "$(jq -r ".devices[$i].major" <<<"$output")" = "$((16#$(stat -c %t /dev/shikumi-chr$i)))" ]
		[ "$(jq -r ".devices[$i].mode" <<<"$output")" = "$(stat -c %A /dev/shikumi-chr$i)" ]
	done
	printf 'abcdef' >/dev/shikumi-chr1
	run shikumi chr info
	[ "$status" -eq 0 ]
	[[ $output == *"/dev/shikumi-chr1"*"6/4096"* ]]
	shikumi unload chrdev
	run shikumi chr info
	[ "$status" -eq 1 ]
	[[ $output == *"not loaded"* ]]
}

@test "chr bench irq: latency >= the device's, one interrupt and one sleep per command" {
	fresh_chrdev
	start=$(date +%s%N)
	run shikumi chr bench --mode irq --latency 2000 --count 100 --json
	end=$(date +%s%N)
	[ "$status" -eq 0 ]
	r=$(jq '.results[0]' <<<"$output")
	jq -e '.min_us >= 2000 and .median_us >= 2000 and .p99_us >= .median_us' <<<"$r"
	jq -e '.device_median_us >= 2000' <<<"$r"
	jq -e '.completions == 100 and .irqs == 100 and .polls == 0' <<<"$r"
	jq -e '.voluntary_switches_per_cmd >= 0.9' <<<"$r"
	# independent of the tool's clock: 100 commands of 2 ms take >= 200 ms
	[ $((end - start)) -ge 200000000 ]
	# the device's own counters moved by the same amount (3 warm-up commands)
	[ "$(cat /sys/class/shikumi-chr/shikumi-chr0/irqs)" -eq 103 ]
}

@test "chr bench poll and upoll: no interrupts, the CPU spins instead" {
	fresh_chrdev
	run shikumi chr bench --mode poll --latency 500 --count 50 --json
	[ "$status" -eq 0 ]
	r=$(jq '.results[0]' <<<"$output")
	jq -e '.min_us >= 500 and .irqs == 0 and .completions == 50 and .polls >= 50' <<<"$r"
	[ "$(cat /sys/class/shikumi-chr/shikumi-chr0/polls)" -ge "$(jq .polls <<<"$r")" ]
	run shikumi chr bench --mode upoll --latency 500 --count 50 --json
	[ "$status" -eq 0 ]
	r=$(jq '.results[0]' <<<"$output")
	jq -e '.min_us >= 500 and .irqs == 0 and .polls == 0 and .completions == 50' <<<"$r"
	jq -e '.user_us_per_cmd > .sys_us_per_cmd' <<<"$r"
}

@test "chr sweep: polling costs CPU in proportion to latency, interrupts do not" {
	fresh_chrdev
	svg=$BATS_TEST_TMPDIR/sweep.svg
	run shikumi chr sweep --latencies 10,1000 --count 40 --svg "$svg" --json
	[ "$status" -eq 0 ]
	[ "$(jq '.results | length' <<<"$output")" -eq 4 ]
	irq=$(jq '.results[] | select(.mode == "irq" and .latency_us == 1000) | .cpu_us_per_cmd' <<<"$output")
	poll=$(jq '.results[] | select(.mode == "poll" and .latency_us == 1000) | .cpu_us_per_cmd' <<<"$output")
	# spinning through a 1 ms command costs most of a millisecond of CPU
	jq -ne "$poll >= 500 and $poll > 2 * $irq"
	xmllint --noout "$svg"
	[ "$(grep -c '<polyline' "$svg")" -eq 5 ]
	run shikumi chr sweep --latencies 10 --count 5
	[ "$status" -eq 0 ]
	[[ $output == *LAT_US*MODE* ]]
	[ "$(grep -c '^ *10 ' <<<"$output")" -eq 2 ]
}
