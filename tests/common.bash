# SPDX-License-Identifier: GPL-2.0
#
# Shared by every bats file: `load common` at the top.
#
# Each test records where the kernel log ends before it runs and fails if
# the test added a BUG, WARNING, Oops, lockdep or KASAN report to it.  A
# file that defines its own setup/teardown must call common_setup and
# common_teardown, which also stops busy_start's load and ends fault
# injection.

# The tree this file is in, whichever way it was loaded (tests/final's
# files load ../common).  bats sources this file again for every test, so
# no dirname here: only the subshell, a fork without an exec.
SHIKUMI_ROOT=.
[[ ${BASH_SOURCE[0]} != */* ]] || SHIKUMI_ROOT=${BASH_SOURCE[0]%/*}
SHIKUMI_ROOT=$(cd "$SHIKUMI_ROOT/.." && pwd)
export SHIKUMI_ROOT
export PATH=$SHIKUMI_ROOT/build/bin:$PATH
NOBODY=65534

# The mark is the sequence number of the next kernel log record
# (tests/helpers/klog.c): one process per test here and one pipe of two in
# the teardown, where dmesg, wc, head, tail and klog-scan took a dozen.
common_setup() {
	SHIKUMI_KLOG_MARK=$("$SHIKUMI_ROOT/build/bin/shikumi-klog" mark)
}

# The kernel log since common_setup.  The lab boots with log_buf_len=16M,
# but if the buffer wrapped anyway, records are gone: say so and fail
# rather than pass on a partial log.
klog_since_mark() {
	"$SHIKUMI_ROOT/build/bin/shikumi-klog" since "${SHIKUMI_KLOG_MARK:?common_setup did not run}"
}

# the rules are scripts/klog-scan's, applied without its wrapper
common_teardown() {
	local st
	swap_off
	busy_stop
	fault_injection_end
	klog_since_mark | awk -f "$SHIKUMI_ROOT/scripts/klog-scan.awk" &&
		st=("${PIPESTATUS[@]}") || st=("${PIPESTATUS[@]}")
	# shikumi-klog said why it failed (the buffer wrapped)
	[[ ${st[0]} -eq 0 ]] || return 1
	if [[ ${st[1]} -ne 0 ]]; then
		echo "the kernel log shows problems after this test" >&2
		return 1
	fi
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# other_version_ko IN OUT: a copy of module IN whose MODULE_VERSION says
# another version of the same length (9s for its digits), as a module of
# another shikumi would: prints that version
other_version_ko() {
	local ver other
	ver=$(modinfo -F version "$1")
	other=$(tr '0-8' '9' <<<"$ver")
	[[ -n $ver && $other != "$ver" ]]
	V=$ver O=$other perl -0777 -pe 's/version=\Q$ENV{V}\E\0/version=$ENV{O}\0/' "$1" >"$2"
	[ "$(modinfo -F version "$2")" = "$other" ]
	echo "$other"
}

# doctor_verdict ID [JSON], doctor_fix ID [JSON]: the verdict of
# `shikumi doctor --json`'s check ID (in $output, or JSON), and its fix
doctor_verdict() {
	jq -r --arg id "$1" '.checks[] | select(.id == $id) | .verdict' <<<"${2:-$output}"
}

doctor_fix() {
	jq -r --arg id "$1" '.checks[] | select(.id == $id) | .fix' <<<"${2:-$output}"
}

# untraced FUNCTION [ARGS...]: run a shell function without bats's trace.
# bats records a stack trace at every command of a test (a DEBUG trap that
# functions inherit through set -T): about 0.3 ms a command natively, ten
# to fifty times that under TCG, more than the command itself in a loop of
# builtins.  Without -T the function does not inherit the trap.  Its
# failures still fail the test (set -e and the ERR trap are untouched);
# bats reports them at the line that called untraced, with whatever the
# function printed.  (tests/runner, which runs the suite in the lab, sets
# no DEBUG trap: this matters when a file runs under bats itself.)
untraced() {
	local -
	set +T
	"$@"
}

# nap SECONDS: the short wait of a polling loop, without the fork and
# exec of sleep(1), which under TCG cost more than the wait itself: a read
# that times out on a pipe nobody writes to (opened on first use)
nap() {
	[[ -n ${SHIKUMI_NAP_FD:-} ]] || exec {SHIKUMI_NAP_FD}<> <(:)
	read -rt "$1" -u "$SHIKUMI_NAP_FD" _ || true
}

# Run a command as an unprivileged user (nobody), without capabilities.
as_user() {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups -- "$@"
}

module_loaded() {
	[[ -d /sys/module/$1 ]]
}

# ext4_quiet DISK MNT: ext4 on DISK, mounted at MNT, with no ext4lazyinit
# I/O in the background (it would fall outside a demo's steps but inside
# the disk's stat): inode tables and journal written by mkfs, and no
# prefetch of the block bitmaps after the mount
ext4_quiet() {
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$1"
	mkdir -p "$2"
	mount -o no_prefetch_block_bitmaps "$1" "$2"
}

# swap_on: swap on a 64 MiB shikumi_ramdisk, for this test only
# (common_teardown swaps it off and unloads the disk, whatever happened;
# kill the processes that have pages in it first, or swapoff reads them in)
SHIKUMI_SWAP_DEV=/dev/shikumi-ram0
swap_on() {
	if module_loaded shikumi_ramdisk; then
		shikumi unload ramdisk
	fi
	shikumi load ramdisk size_mb=64
	SHIKUMI_SWAP_ON=1
	for _ in $(seq 100); do
		[[ -b $SHIKUMI_SWAP_DEV ]] && break
		nap 0.1
	done
	mkswap "$SHIKUMI_SWAP_DEV" >/dev/null
	swapon "$SHIKUMI_SWAP_DEV"
}

swap_off() {
	[[ ${SHIKUMI_SWAP_ON:-0} -eq 1 ]] || return 0
	SHIKUMI_SWAP_ON=0
	if grep -q "^$SHIKUMI_SWAP_DEV " /proc/swaps; then
		swapoff "$SHIKUMI_SWAP_DEV" || echo "swapoff $SHIKUMI_SWAP_DEV failed" >&2
	fi
	shikumi unload ramdisk || echo "shikumi unload ramdisk failed" >&2
}

# Reload a module with the given parameters: reload_module NAME [param=v...]
reload_module() {
	local name=$1
	shift
	if module_loaded "$name"; then
		shikumi unload "$name"
	fi
	shikumi load "$name" "$@"
}

# Fault injection (debug kernel only): make GFP_KERNEL and GFP_NOIO
# allocations, slab and order-0 pages, failable through
# /proc/thread-self/fail-nth, without stack dumps, and mark the kernel log so
# that scripts/klog-scan expects the allocation-failure warnings in between.
# Highmem requests (vmalloc's pages) stay exempt unless "highmem" is given:
# a test that judges the kernel's log line by line (fault.bats) cannot tell
# their warnings from a real problem; the fuzzer judges only errnos.
# fault_injection_end puts the kernel's defaults back.
FAULT_DEBUGFS=/sys/kernel/debug
fault_injection_available() {
	[[ -e /proc/thread-self/fail-nth && -d $FAULT_DEBUGFS/failslab &&
	   -d $FAULT_DEBUGFS/fail_page_alloc ]]
}

fault_injection_begin() { # [highmem]
	local highmem=Y

	fault_injection_available || return 1
	[[ ${1:-} != highmem ]] || highmem=N
	echo N >"$FAULT_DEBUGFS/failslab/ignore-gfp-wait"
	echo 0 >"$FAULT_DEBUGFS/failslab/verbose"
	echo N >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-wait"
	echo $highmem >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-highmem"
	echo 0 >"$FAULT_DEBUGFS/fail_page_alloc/min-order"
	echo 0 >"$FAULT_DEBUGFS/fail_page_alloc/verbose"
	echo "shikumi: fault injection on" >/dev/kmsg
	SHIKUMI_FAULTS_ON=1
}

fault_injection_end() {
	[[ ${SHIKUMI_FAULTS_ON:-0} -eq 1 ]] || return 0
	echo Y >"$FAULT_DEBUGFS/failslab/ignore-gfp-wait"
	echo 2 >"$FAULT_DEBUGFS/failslab/verbose"
	echo Y >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-wait"
	echo Y >"$FAULT_DEBUGFS/fail_page_alloc/ignore-gfp-highmem"
	echo 1 >"$FAULT_DEBUGFS/fail_page_alloc/min-order"
	echo 2 >"$FAULT_DEBUGFS/fail_page_alloc/verbose"
	echo "shikumi: fault injection off" >/dev/kmsg
	SHIKUMI_FAULTS_ON=0
}

# A background load for the reliability tests: hackbench (perf bench sched
# messaging: one group of 20 senders and 20 receivers on pipes, the least
# this perf allows) at nice 19, in a process group of its own so that
# busy_stop ends all of it.  It runs until stopped, and must be running
# half a second after it starts: a load that quietly failed to start (a
# perf without an option, say) would leave the tests unloaded.
busy_start() {
	setsid nice -n 19 perf bench sched messaging -p -g 1 -l 100000000 \
		>/dev/null 2>&1 3>&- &
	SHIKUMI_BUSY=$!
	nap 0.5
	kill -0 "$SHIKUMI_BUSY" 2>/dev/null || {
		echo "hackbench (perf bench sched messaging) did not start" >&2
		SHIKUMI_BUSY=
		return 1
	}
}

busy_stop() {
	[[ -n ${SHIKUMI_BUSY:-} ]] || return 0
	kill -- "-$SHIKUMI_BUSY" 2>/dev/null || true
	wait "$SHIKUMI_BUSY" 2>/dev/null || true
	SHIKUMI_BUSY=
}

# A fully preemptible kernel (CONFIG_PREEMPT, or full under PREEMPT_DYNAMIC)
preempt_full() {
	local f=/sys/kernel/debug/sched/preempt
	if [[ -r $f ]]; then
		grep -q '(full)' "$f"
	else
		[[ $(uname -v) == *' PREEMPT '* ]]
	fi
}

# The debug kernel (scripts/debug-kernel) runs the long versions of the
# fuzz, stress and load-cycle tests.
debug_kernel() {
	[[ $(uname -r) == *-shikumi-debug ]]
}

# kmemleak (debug kernel): scan twice, a little over kmemleak's minimum
# object age apart, and print what it suspects; nothing printed is clean.
#
# Two leaks are the 6.1 kernel's own, in error paths that only fault
# injection reaches, and are set aside (counted on stderr, not printed):
# - __class_register(): when kset_register() fails it kfree()s the
#   subsys_private without freeing the kobject's name (class_create() in a
#   module's init, failed by failslab);
# - sysfs_slab_add(): when kobject_init_and_add() fails it returns without
#   the kobject_put() that function's contract asks for, leaking the name
#   (kmem_cache_create() under bioset_init(), from blk_mq_alloc_disk()).
# Any other object, whoever allocated it, is printed.
kmemleak_report() {
	local f=/sys/kernel/debug/kmemleak
	# the count kmemleak logs is judged here, from its report
	echo "shikumi: kmemleak scan on" >/dev/kmsg
	echo scan >"$f"
	sleep 6
	echo scan >"$f"
	echo "shikumi: kmemleak scan off" >/dev/kmsg
	awk '
	function flush() {
		if (block == "")
			return
		if (block ~ /kobject_set_name/ && block ~ /__class_register/ ||
		    block ~ /kobject_init_and_add/ && block ~ /sysfs_slab_add/)
			known++
		else
			printf "%s", block
		block = ""
	}
	/^unreferenced object/ { flush() }
	{ block = block $0 "\n" }
	END {
		flush()
		if (known)
			printf "kmemleak: %d leaks of the kernel'\''s own error paths set aside\n", known > "/dev/stderr"
	}' "$f"
}
