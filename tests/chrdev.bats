#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_chrdev, in the lab guest: device nodes and module parameters, the
# FIFO (blocking, O_NONBLOCK, poll/select/epoll, signals, many processes),
# the simulated device and its register page, bad input, privilege and
# unload safety.  build/bin/shikumi-chrtest (tests/helpers/chrtest.c) does
# the system calls; the tests check its answers against something else
# where they can: sysfs, /proc, stat(1), ftrace or another process.
#
# Loading the module is slow in a TCG guest, so tests that can share a
# module instance do (use_module reloads only when a parameter they need
# differs) and check counters as deltas.  Keep tests with the same
# parameters together.

load common

MOD=shikumi_chrdev
DEV=/dev/shikumi-chr0
T=shikumi-chrtest
TRACEFS=/sys/kernel/tracing
TRACE=$TRACEFS/instances/shikumi-chrtest

setup() {
	common_setup
	HELD=()
}

teardown() {
	local pid

	for pid in "${HELD[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -d $TRACE ]]; then
		echo nop >"$TRACE/current_tracer"
		rmdir "$TRACE"
	fi
	common_teardown
}

# ---- helpers ---------------------------------------------------------------

unload_all() {
	if module_loaded "$MOD"; then
		shikumi unload "$MOD"
	fi
}

# attr NAME [N]: a sysfs attribute of /dev/shikumi-chrN (default 0)
attr() {
	sysfs "/sys/class/shikumi-chr/shikumi-chr${2:-0}/$1"
}

# sysfs FILE: its first line, without starting a process
sysfs() {
	local line

	read -r line <"$1" && echo "$line"
}

# use_module [PARAM=VALUE...]: the module loaded with these parameters,
# chr0's FIFO empty and its device idle.  Reloads (with the other
# parameters at their defaults) only if it is not loaded or if one of the
# given parameters has another value.
use_module() {
	local p i

	for p; do
		if ! module_loaded "$MOD" ||
			[[ $(<"/sys/module/$MOD/parameters/${p%%=*}") != "${p#*=}" ]]; then
			reload_module "$MOD" "$@"
			return
		fi
	done
	if ! module_loaded "$MOD"; then
		reload_module "$MOD"
		return
	fi
	"$T" drain "$DEV" >/dev/null
	# a command in flight completes when due (1 s at most here), later
	# on a busy machine
	for ((i = 0; i < 600; i++)); do
		[[ $(attr status) != busy* ]] && return 0
		nap 0.1
	done
	echo "chr0 stays busy"
	return 1
}

# run_ok CMD...: `run` CMD; fail, showing its output, unless it exits 0
run_ok() {
	run "$@"
	if [ "$status" -ne 0 ]; then
		echo "$* exited with $status:"
		echo "$output"
		return 1
	fi
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [[ $2 != "$3" ]]; then
		echo "$1: got '$2', expected '$3'"
		return 1
	fi
}

# refute CMD...: fail if CMD succeeds (a bare `! CMD` never fails a test)
refute() {
	if "$@"; then
		echo "unexpectedly true: $*"
		return 1
	fi
}

# counters: chr0's completions, irqs, polls and cmd_seq from sysfs
counters() {
	local c i p s

	c=$(attr completions) i=$(attr irqs) p=$(attr polls) s=$(attr cmd_seq)
	echo "completions=$c irqs=$i polls=$p cmd_seq=$s"
}

# hold SUBCOMMAND: run `shikumi-chrtest SUBCOMMAND $DEV` in the background
# until it prints "ready"; teardown kills it.  Sets HOLD_PID.
hold() {
	local out=$BATS_TEST_TMPDIR/$1.out i

	# there before the child opens it: $(<"$out") of a missing file is an
	# expansion error, which ends the test's shell (bash 5.3 in sid)
	: >"$out"
	"$T" "$1" "$DEV" >"$out" 2>&1 3>&- &
	HOLD_PID=$!
	HELD+=("$HOLD_PID")
	for ((i = 0; i < 1200; i++)); do
		[[ $(<"$out") == ready ]] && return 0
		nap 0.05
	done
	echo "$T $1 did not get ready: $(<"$out")"
	return 1
}

release() {
	kill "$HOLD_PID"
	wait "$HOLD_PID" || true
}

refcnt() {
	sysfs "/sys/module/$MOD/refcnt"
}

# ---- module parameters and device nodes --------------------------------

@test "params: out-of-range values make load fail and leave nothing behind" {
	unload_all
	for p in nr_devices=0 nr_devices=17 fifo_size=100 fifo_size=8 \
		fifo_size=2097152; do
		run shikumi load "$MOD" "$p"
		if [ "$status" -eq 0 ]; then
			echo "$p was accepted"
			return 1
		fi
		refute module_loaded "$MOD"
		[ ! -e "$DEV" ]
		[ ! -e /sys/class/shikumi-chr ]
		refute grep -qw shikumi-chr /proc/devices
	done
}

@test "nodes: devtmpfs creates them on load and removes them on unload, twice" {
	expect_eq "/dev" "$(findmnt -n -o FSTYPE /dev)" devtmpfs
	# nothing in the guest could mknod them for us
	refute pgrep -x 'systemd-udevd|udevd|mdev'
	unload_all
	for i in 1 2; do
		[ ! -e "$DEV" ]
		shikumi load "$MOD"
		[ -c "$DEV" ]
		# the node's number leads back to the class device
		expect_eq "sysfs link" \
			"$(basename "$(readlink -f "/sys/dev/char/$(attr dev)")")" \
			shikumi-chr0
		shikumi unload "$MOD"
		refute module_loaded "$MOD"
		[ ! -e "$DEV" ]
		[ ! -e /dev/shikumi-chr1 ]
	done
}

@test "nodes: 2 by default, nr_devices=4 gives 4; char devices, 0666, major:minor as in sysfs" {
	reload_module "$MOD"
	expect_eq nr_devices "$(sysfs /sys/module/$MOD/parameters/nr_devices)" 2
	expect_eq "class devices" "$(ls /sys/class/shikumi-chr | xargs)" \
		"shikumi-chr0 shikumi-chr1"
	expect_eq nodes "$(ls /dev | grep '^shikumi-chr' | xargs)" \
		"shikumi-chr0 shikumi-chr1"

	use_module nr_devices=4
	expect_eq nodes "$(ls /dev | grep '^shikumi-chr' | xargs)" \
		"shikumi-chr0 shikumi-chr1 shikumi-chr2 shikumi-chr3"
	run awk '$2 == "shikumi-chr" { print $1 }' /proc/devices
	[ "${#lines[@]}" -eq 1 ]
	major=${lines[0]}
	# alloc_chrdev_region() takes majors from 254 down to 234, then
	# from 511 down to 384 (fs/char_dev.c): anything else is static
	((major >= 234 && major <= 254 || major >= 384 && major <= 511))
	for n in 0 1 2 3; do
		[ -c /dev/shikumi-chr$n ]
		IFS='|' read -r type mode hexmaj hexmin \
			< <(stat -c '%F|%a %u %g|%t|%T' /dev/shikumi-chr$n)
		expect_eq "type of chr$n" "$type" "character special file"
		expect_eq "mode and owner of chr$n" "$mode" "666 0 0"
		dev=$(attr dev $n)
		expect_eq "stat of chr$n" "$((16#$hexmaj)):$((16#$hexmin))" "$dev"
		expect_eq "sysfs dev of chr$n" "$dev" "$major:$n"
	done
}

@test "fifo: bytes come back unchanged, also through a FIFO smaller than the data" {
	use_module fifo_size=4096
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/in"
	cat "$BATS_TEST_TMPDIR/in" >"$DEV"
	expect_eq fifo_len "$(attr fifo_len)" 4096
	"$T" drain "$DEV" >"$BATS_TEST_TMPDIR/out"
	expect_eq fifo_len "$(attr fifo_len)" 0
	expect_eq sha256 "$(sha256sum <"$BATS_TEST_TMPDIR/out")" \
		"$(sha256sum <"$BATS_TEST_TMPDIR/in")"

	# 64 times the FIFO: the writer must sleep until the reader makes room
	head -c 262144 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	cat "$BATS_TEST_TMPDIR/big" >"$DEV" 3>&- &
	writer=$!
	"$T" read "$DEV" 262144 >"$BATS_TEST_TMPDIR/bigout"
	wait "$writer"
	expect_eq sha256 "$(sha256sum <"$BATS_TEST_TMPDIR/bigout")" \
		"$(sha256sum <"$BATS_TEST_TMPDIR/big")"
}

# ---- the FIFO (fifo_size=16 from here on) ------------------------------------

@test "fifo: empty read with O_NONBLOCK gets EAGAIN; read of 0 bytes returns 0" {
	use_module fifo_size=16
	run "$T" try-read "$DEV" 16 nonblock
	expect_eq "empty read" "$output" EAGAIN
	# at once, even on an empty FIFO without O_NONBLOCK
	run "$T" try-read "$DEV" 0 block
	expect_eq "read 0, empty, blocking" "$output" 0
	printf abc >"$DEV"
	run "$T" try-read "$DEV" 0 nonblock
	expect_eq "read 0" "$output" 0
	expect_eq "fifo_len after read 0" "$(attr fifo_len)" 3
	run "$T" try-read "$DEV" 16 nonblock
	expect_eq "read" "$output" 3
}

@test "fifo: write to a full FIFO with O_NONBLOCK fails with EAGAIN" {
	use_module fifo_size=16
	expect_eq fifo_size "$(attr fifo_size)" 16
	run "$T" try-write "$DEV" 16 nonblock
	expect_eq "first write" "$output" 16
	run "$T" try-write "$DEV" 1 nonblock
	expect_eq "write to a full FIFO" "$output" EAGAIN
	expect_eq fifo_len "$(attr fifo_len)" 16
	# a write no larger than the FIFO goes in whole or not at all
	run "$T" try-read "$DEV" 4 nonblock
	expect_eq read "$output" 4
	run "$T" try-write "$DEV" 5 nonblock
	expect_eq "5 bytes into 4 free" "$output" EAGAIN
	run "$T" try-write "$DEV" 4 nonblock
	expect_eq "4 bytes into 4 free" "$output" 4
	# a larger one goes in pieces
	"$T" drain "$DEV" >/dev/null
	run "$T" try-write "$DEV" 40 nonblock
	expect_eq "40 bytes into 16 free" "$output" 16
}

@test "fifo: fifo_len in sysfs tracks the bytes queued, in FIFO order" {
	use_module fifo_size=16
	expect_eq "fifo_len, empty" "$(attr fifo_len)" 0
	printf 12345 >"$DEV"
	expect_eq "fifo_len after 5" "$(attr fifo_len)" 5
	printf abc >"$DEV"
	expect_eq "fifo_len after 8" "$(attr fifo_len)" 8
	run "$T" try-read "$DEV" 6 nonblock
	expect_eq read "$output" 6
	expect_eq "fifo_len after reading 6" "$(attr fifo_len)" 2
	run "$T" drain "$DEV"
	expect_eq rest "$output" bc
	expect_eq "fifo_len, drained" "$(attr fifo_len)" 0
}

@test "fifo: a writer stalled in a fault of its buffer holds nothing: poll and fifo_len go on, SIGKILL ends it" {
	use_module
	run "$T" stall "$DEV" /sys/class/shikumi-chr/shikumi-chr0/fifo_len
	[[ $output != skip:* ]] || skip "${output#skip: }"
	expect_eq stall "$output" ok
	expect_eq "fifo_len after" "$(attr fifo_len)" 0
}

@test "poll, select, epoll: writable with a page of room (as pipes), readable with data" {
	# a FIFO of two pages: writable while a page is free
	use_module fifo_size=8192
	run "$T" poll "$DEV"
	expect_eq "poll, empty" "$output" "POLLOUT POLLWRNORM"
	run "$T" select "$DEV"
	expect_eq "select, empty" "$output" write
	run "$T" epoll "$DEV"
	expect_eq "epoll, empty" "$output" "EPOLLOUT EPOLLWRNORM"

	"$T" try-write "$DEV" 5 nonblock
	run "$T" poll "$DEV"
	expect_eq "poll, 5 bytes" "$output" "POLLIN POLLOUT POLLRDNORM POLLWRNORM"
	run "$T" select "$DEV"
	expect_eq "select, 5 bytes" "$output" "read write"
	run "$T" epoll "$DEV"
	expect_eq "epoll, 5 bytes" "$output" \
		"EPOLLIN EPOLLOUT EPOLLRDNORM EPOLLWRNORM"

	# 4097 bytes in: 4095 free, less than a page: not writable, not full
	"$T" try-write "$DEV" 4092 nonblock
	expect_eq "fifo_len" "$(attr fifo_len)" 4097
	run "$T" poll "$DEV"
	expect_eq "poll, a byte short of a page free" "$output" "POLLIN POLLRDNORM"
	run "$T" epoll "$DEV"
	expect_eq "epoll, a byte short of a page free" "$output" "EPOLLIN EPOLLRDNORM"
	# and a write of a page that poll did not promise does not fit
	run "$T" try-write "$DEV" 4096 nonblock
	expect_eq "a write of a page" "$output" EAGAIN

	# a FIFO smaller than a page: writable only with room for all of it
	use_module fifo_size=16
	"$T" try-write "$DEV" 1 nonblock
	run "$T" poll "$DEV"
	expect_eq "poll, 1 byte of 16" "$output" "POLLIN POLLRDNORM"
	"$T" try-write "$DEV" 15 nonblock
	run "$T" poll "$DEV"
	expect_eq "poll, full" "$output" "POLLIN POLLRDNORM"
	run "$T" select "$DEV"
	expect_eq "select, full" "$output" read
	run "$T" epoll "$DEV"
	expect_eq "epoll, full" "$output" "EPOLLIN EPOLLRDNORM"
	"$T" read "$DEV" 16 >/dev/null
	run "$T" poll "$DEV"
	expect_eq "poll, emptied" "$output" "POLLOUT POLLWRNORM"
}

@test "read, poll, select, epoll_wait: a sleeper wakes when another process writes" {
	use_module fifo_size=16
	for mode in read poll select epoll; do
		run_ok "$T" wake "$DEV" "$mode"
		expect_eq "$mode" "$output" ok
	done
}

@test "fifo: 4 writers and 4 readers at once, every record arrives once" {
	use_module fifo_size=16
	run_ok "$T" stress "$DEV" 4 4 1500
	expect_eq stress "$output" "ok 6000 records"
	expect_eq fifo_len "$(attr fifo_len)" 0
}

# ---- signals ---------------------------------------------------------------

@test "signals: blocked read and write get EINTR without SA_RESTART, restart with it" {
	use_module fifo_size=16
	run_ok "$T" sig-read "$DEV" norestart
	expect_eq "read" "$output" EINTR
	run_ok "$T" sig-read "$DEV" restart
	expect_eq "read with SA_RESTART" "$output" ok

	# a write sleeping for room in a full FIFO
	run_ok "$T" sig-write "$DEV" norestart
	expect_eq "write" "$output" EINTR
	expect_eq "fifo_len after EINTR" "$(attr fifo_len)" 16
	run_ok "$T" sig-write "$DEV" restart
	expect_eq "write with SA_RESTART" "$output" ok
	expect_eq "fifo_len after the restarted write" "$(attr fifo_len)" 1
}

@test "signals: SUBMIT waiting for the interrupt returns EINTR, the device completes" {
	use_module fifo_size=16
	read -r c0 i0 < <(echo "$(attr completions) $(attr irqs)")
	for mode in norestart restart; do
		run_ok "$T" sig-submit "$DEV" "$mode"
		expect_eq "$mode" "$output" $'submit: EINTR\nagain: EBUSY\nlater: ok'
	done
	# two interrupted commands and two later ones, all with interrupts
	expect_eq completions "$(($(attr completions) - c0))" 4
	expect_eq irqs "$(($(attr irqs) - i0))" 4
}

# ---- the simulated device and its register page ---------------------------

@test "regs: WAIT_IRQ: seqs, DONE, latency, irqs advance; WAIT_POLL: polls; page = sysfs" {
	use_module fifo_size=16
	read -r c0 i0 p0 s0 < <(counters | tr -d 'a-z_=')
	run_ok "$T" submit "$DEV" irq 20000000
	expect_eq "irq submit" "$output" "ok seq=$((s0 + 1))"
	expect_eq "counters after irq" "$(counters)" \
		"completions=$((c0 + 1)) irqs=$((i0 + 1)) polls=$p0 cmd_seq=$((s0 + 1))"
	expect_eq status "$(attr status)" "idle done"

	run_ok "$T" submit "$DEV" poll 20000000
	expect_eq "poll submit" "$output" "ok seq=$((s0 + 2))"
	read -r c1 i1 p1 s1 < <(counters | tr -d 'a-z_=')
	expect_eq "completions after poll" "$c1" $((c0 + 2))
	expect_eq "irqs after poll" "$i1" $((i0 + 1))
	((p1 > p0))

	# the page itself, mapped read-only at offset 0, agrees with sysfs
	run_ok "$T" regs "$DEV"
	expect_eq magic "${lines[0]}" magic=0x4d4b4853
	expect_eq version "${lines[1]}" version=1
	expect_eq status "${lines[2]}" status=0x2
	expect_eq "counters in the page" \
		"$(grep -E '^(completions|irqs|polls|cmd_seq)=' <<<"$output" | sort | xargs)" \
		"$(counters | tr ' ' '\n' | sort | xargs)"
}

@test "regs: WAIT_NONE returns at once, the page shows the completion; meanwhile EBUSY" {
	use_module fifo_size=16
	read -r c0 i0 p0 s0 < <(counters | tr -d 'a-z_=')
	run_ok "$T" submit "$DEV" none 300000000
	expect_eq submit "${lines[0]}" "ok seq=$((s0 + 1))"
	expect_eq counters "$(counters)" \
		"completions=$((c0 + 1)) irqs=$i0 polls=$p0 cmd_seq=$((s0 + 1))"

	# one process, then another, while a command is in flight
	run_ok "$T" probe "$DEV" submit-busy
	expect_eq probe "$output" "submit-busy EBUSY"
	run "$T" start "$DEV" 1000000000
	[[ $output =~ ^seq=$((s0 + 3))\ due=([0-9]+)$ ]]
	due=${BASH_REMATCH[1]}
	st=$(attr status)
	res=$("$T" try-submit "$DEV" irq 0)
	# what happened before the command was due must show it in flight
	if (($("$T" now) < due)); then
		expect_eq "status in flight" "$st" busy
		expect_eq "SUBMIT from another process" "$res" EBUSY
		expect_eq cmd_seq "$(attr cmd_seq)" $((s0 + 3))
	else
		echo "# too slow to check the in-flight state" >&3
	fi
}

@test "ftrace: shikumi_chr_isr runs once per interrupt-mode command, never when polling" {
	use_module fifo_size=16
	global=$(cat "$TRACEFS/current_tracer" "$TRACEFS/set_ftrace_filter")
	# a private trace instance leaves the global tracing state alone
	mkdir "$TRACE"
	if ! echo shikumi_chr_isr 2>/dev/null >"$TRACE/set_ftrace_filter"; then
		echo "ftrace cannot trace shikumi_chr_isr; available_filter_functions has:"
		grep shikumi_chr_ "$TRACEFS/available_filter_functions" || true
		echo "(inlined into shikumi_chr_timer_fn? the module needs noinline)"
		return 1
	fi
	echo function >"$TRACE/current_tracer"
	irqs=$(attr irqs)
	for i in 1 2 3; do
		"$T" submit "$DEV" irq 1000000
	done
	for i in 1 2; do
		"$T" submit "$DEV" poll 1000000
	done
	"$T" submit "$DEV" none 1000000
	echo 0 >"$TRACE/tracing_on"
	hits=$(grep -c ' shikumi_chr_isr <-' "$TRACE/trace" || true)
	expect_eq "traced shikumi_chr_isr calls" "$hits" 3
	expect_eq "irqs counter delta" "$(($(attr irqs) - irqs))" 3
	expect_eq "global tracing state" \
		"$(cat "$TRACEFS/current_tracer" "$TRACEFS/set_ftrace_filter")" "$global"
}

# ---- bad input ------------------------------------------------------------------

@test "bad input: ioctl numbers, SUBMIT fields, mappings and seeks are checked" {
	use_module fifo_size=16
	s0=$(attr cmd_seq)
	run_ok "$T" probe "$DEV" ioctl-magic ioctl-nr0 ioctl-nr3 ioctl-dir \
		ioctl-size submit-flags submit-reserved0 submit-reserved1 \
		submit-wait3 submit-null submit-unmapped submit-latency-over \
		submit-latency-max
	expect_eq probes "$output" "$(printf '%s\n' \
		"ioctl-magic ENOTTY" "ioctl-nr0 ENOTTY" "ioctl-nr3 ENOTTY" \
		"ioctl-dir ENOTTY" "ioctl-size EINVAL" \
		"submit-flags EINVAL" "submit-reserved0 EINVAL" \
		"submit-reserved1 EINVAL" "submit-wait3 EINVAL" \
		"submit-null EFAULT" "submit-unmapped EFAULT" \
		"submit-latency-over EINVAL" "submit-latency-max ok")"
	# only the last one reached the device
	expect_eq "commands seen" "$(attr cmd_seq)" $((s0 + 1))

	run_ok "$T" probe "$DEV" mmap-rw mmap-mprotect mmap-private-rw \
		mmap-private-mprotect mmap-2pages mmap-offset lseek pread
	expect_eq probes "$output" "$(printf '%s\n' "mmap-rw EACCES" \
		"mmap-mprotect EACCES" "mmap-private-rw EACCES" \
		"mmap-private-mprotect EACCES" "mmap-2pages EINVAL" \
		"mmap-offset EINVAL" "lseek ESPIPE" "pread ESPIPE")"
}

# ---- privilege -------------------------------------------------------------------

@test "privilege: nobody may use the FIFO but not RESET; RESET zeroes the counters" {
	use_module fifo_size=16
	as_user bash -c "printf unprivileged >$DEV"
	expect_eq fifo_len "$(attr fifo_len)" 12
	run_ok as_user "$T" drain "$DEV"
	expect_eq "read as nobody" "$output" unprivileged

	"$T" submit "$DEV" irq 1000000
	"$T" submit "$DEV" poll 1000000
	before=$(counters)
	run as_user grep CapEff /proc/self/status
	[[ $output == *0000000000000000 ]]
	run as_user "$T" reset "$DEV"
	expect_eq "reset as nobody" "$output" EPERM
	expect_eq counters "$(counters)" "$before"

	run "$T" reset "$DEV"
	expect_eq "reset as root" "$output" ok
	# sequence numbers are not counters
	expect_eq counters "$(counters)" \
		"completions=0 irqs=0 polls=0 cmd_seq=${before##*cmd_seq=}"
	run "$T" regs "$DEV"
	expect_eq "mapped counters" \
		"$(grep -E '^(completions|irqs|polls)=' <<<"$output" | xargs)" \
		"completions=0 irqs=0 polls=0"
}

# ---- unloading --------------------------------------------------------------------

@test "unload: refused while the device is open, or mapped with the fd closed" {
	use_module
	expect_eq "refcnt, unused" "$(refcnt)" 0
	hold hold
	(($(refcnt) > 0))
	run shikumi unload "$MOD"
	expect_eq "unload status, open" "$status" 1
	module_loaded "$MOD"
	[ -c "$DEV" ]
	release
	expect_eq "refcnt, closed" "$(refcnt)" 0

	hold hold-mmap
	refute grep -q shikumi-chr <(ls -l /proc/$HOLD_PID/fd)
	grep -q "$DEV" /proc/$HOLD_PID/maps
	(($(refcnt) > 0))
	run shikumi unload "$MOD"
	expect_eq "unload status, mapped" "$status" 1
	module_loaded "$MOD"
	release
	expect_eq "refcnt, unmapped" "$(refcnt)" 0
	shikumi unload "$MOD"
	refute module_loaded "$MOD"
}

@test "unload: safe while a WAIT_NONE command of 1 s is in flight" {
	# The unload must come before the command is due, or it tests
	# nothing; a very slow guest gets three tries.
	for try in 1 2 3; do
		use_module
		s0=$(attr cmd_seq)
		run "$T" start "$DEV" 1000000000
		[[ $output =~ ^seq=$((s0 + 1))\ due=([0-9]+)$ ]]
		due=${BASH_REMATCH[1]}
		shikumi unload "$MOD"
		unloaded=$("$T" now)
		refute module_loaded "$MOD"
		((unloaded < due)) && break
		echo "try $try: unloaded $(((unloaded - due) / 1000000)) ms late"
	done
	if ((unloaded >= due)); then
		skip "the guest is too slow to unload within 1 s of a SUBMIT"
	fi
	# past the deadline: a timer left armed would fire now, in freed
	# memory, and the kernel log check in teardown would see it
	sleep 1.2
}
