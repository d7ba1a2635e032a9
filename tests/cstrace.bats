#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
#
# shikumi_cstrace: each task's switch-outs against the kernel's own
# counters in /proc/PID/status and against ftrace's sched_switch events
# recorded at the same time; voluntary and involuntary as the kernel counts
# them; per-CPU time order; drops counted when a ring is full; filters;
# errors and refusals; and enable, disable and unload in a loop under
# hackbench's load.  build/bin/shikumi-cstest (tests/helpers/cstest.c)
# makes the workloads and decodes the records.

load common

CS=/sys/kernel/debug/shikumi/cstrace
TR=/sys/kernel/tracing

setup() {
	common_setup
	cd "$SHIKUMI_ROOT"
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	mountpoint -q "$TR" || mount -t tracefs nodev "$TR"
	module_loaded shikumi_cstrace || shikumi load shikumi_cstrace
	tmp=$BATS_TEST_TMPDIR
	bg=()
}

teardown() {
	local p
	for p in "${bg[@]}"; do
		# a process group of its own (setsid), or a single process
		kill -9 -- "-$p" 2>/dev/null || kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	{ exec 6<&- 7<&-; } 2>/dev/null || true
	if [[ -d $CS ]]; then
		echo 0 >"$CS/enable"
		echo none >"$CS/filter_pid"
		echo none >"$CS/filter_tgid"
		echo all >"$CS/filter_cpu"
		echo 0 >"$CS/follow_fork"
	fi
	echo 0 >"$TR/tracing_on"
	echo >"$TR/set_event"
	common_teardown
}

# ftrace_start EVENT...: ftrace records these sched events from now on
ftrace_start() {
	local e
	echo 0 >"$TR/tracing_on"
	echo >"$TR/set_event"
	echo 16384 >"$TR/buffer_size_kb"
	echo >"$TR/trace"
	for e; do
		echo "sched:$e" >>"$TR/set_event"
	done
	echo 1 >"$TR/tracing_on"
}

ftrace_overruns() {
	cat "$TR"/per_cpu/cpu*/stats | awk '$1 == "overrun:" { s += $2 } END { print s + 0 }'
}

# drain_start: a reader copies trace_raw to $tmp/raw until tracing stops
# and the rings are empty.  Start it once tracing is on: a reader that
# finds tracing off and nothing to read is at the end of the trace.
drain_start() {
	rm -f "$tmp/raw.ready"
	shikumi-cstest drain "$CS/trace_raw" "$tmp/raw" &
	drainer=$!
	bg+=("$drainer")
	for _ in $(seq 1200); do
		[[ -e $tmp/raw.ready ]] && return 0
		nap 0.05
	done
	return 1
}

drain_finish() {
	wait "$drainer"
	shikumi-cstest decode <"$tmp/raw" >"$tmp/dec"
}

stat_of() { # KEY: a value from stats
	awk -v k="$1" '$1 == k { print $2 }' "$CS/stats"
}

# wait_written N: until the rings have taken more than N records in this
# session, however slowly a busy machine makes them (600 s at most)
wait_written() {
	for _ in $(seq 6000); do
		(($(stat_of written) > $1)) && return 0
		nap 0.1
	done
	echo "only $(stat_of written) records written"
	return 1
}

# record the worker: three tasks on CPU 0 that sleep, spin and yield,
# traced by shikumi_cstrace and ftrace at once; their switch counters are
# read while each is blocked for good, before tracing stops
record_work() {
	local role pid
	ftrace_start sched_switch
	echo 1 >"$CS/enable"
	drain_start
	shikumi-cstest work 40 "$tmp" &
	worker=$!
	bg+=("$worker")
	for role in sleeper spinner yielder; do
		for _ in $(seq 6000); do
			[[ -s $tmp/$role.pid ]] && break
			nap 0.05
		done
		pid=$(<"$tmp/$role.pid")
		# blocked on the FIFO: no more switches until it is opened
		for _ in $(seq 6000); do
			[[ $(awk '{ print $3 }' "/proc/$pid/stat") == S ]] && break
			nap 0.05
		done
		grep -q '^State:.*S (sleeping)' "/proc/$pid/status"
		declare -g "pid_$role=$pid"
		declare -g "vol_$role=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")"
		declare -g "inv_$role=$(awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$pid/status")"
	done
	echo 0 >"$CS/enable"
	echo 0 >"$TR/tracing_on"
	echo go >"$tmp/go"
	wait "$worker" || { echo "the worker failed: $?"; return 1; }
	drain_finish
}

@test "each task's switch-outs: the kernel's counters, and ftrace's sched_switch events" {
	local role pid vol inv ours ft
	record_work
	[ "$(ftrace_overruns)" = 0 ]
	[ "$(stat_of dropped)" = 0 ]
	for role in sleeper spinner yielder; do
		pid=pid_$role vol=vol_$role inv=inv_$role
		pid=${!pid} vol=${!vol} inv=${!inv}
		ours=$(awk -v p="$pid" '$1 == "switch" && $6 == p' "$tmp/dec" | wc -l)
		ft=$(grep -c " prev_pid=$pid prev_prio=" "$TR/trace")
		echo "$role pid $pid: /proc $vol + $inv, ftrace $ft, shikumi $ours"
		[ "$ours" -eq $((vol + inv)) ]
		[ "$ft" -eq "$ours" ]
		[ "$ours" -ge 3 ]
	done
	# each kind of switch happened: sleeps (a usleep whose timer has
	# fired by the time it would block does not switch), preemptions,
	# yields
	[ "$vol_sleeper" -ge 10 ]
	[ "$inv_spinner" -ge 1 ]
	[ "$inv_yielder" -ge 1 ]
}

@test "voluntary and involuntary: the kernel's own count at each switch, and preempt/state as the kernel decides" {
	local role pid vol inv
	record_work
	for role in sleeper spinner yielder; do
		pid=pid_$role vol=vol_$role inv=inv_$role
		pid=${!pid} vol=${!vol} inv=${!inv}
		# born in the trace: counters start at 0, and each switch
		# adds exactly one to one of them; the last equals /proc's
		sort -s -n -k3,3 "$tmp/dec" >"$tmp/sorted"
		run awk -v p="$pid" -v vol="$vol" -v inv="$inv" '
			$1 == "switch" && $6 == p {
				dv = $10 - lv; di = $11 - li
				if (!((dv == 1 && di == 0) || (dv == 0 && di == 1))) {
					print "counters jump: " $0; bad = 1
				}
				# voluntary exactly when not preempted and not runnable
				if ((dv == 1) != ($4 % 2 == 0 && $5 != "R")) {
					print "rule disagrees: " $0; bad = 1
				}
				lv = $10; li = $11; n++
			}
			END {
				if (lv != vol || li != inv) {
					print "last " lv "/" li " against /proc " vol "/" inv; bad = 1
				}
				exit bad || !n
			}' "$tmp/sorted"
		echo "$role: $output"
		[ "$status" -eq 0 ]
	done
	# a yield leaves the task runnable, so the kernel counts it involuntary
	awk -v p="$pid_yielder" '$1 == "switch" && $6 == p && $4 == 0 && $5 == "R"' \
		"$tmp/dec" | grep -q .
}

@test "per-CPU time order, nothing lost below the rate, wakeups and forks recorded" {
	record_work
	run awk '{ if ($3 < last[$2]) { print "CPU " $2 " goes back: " $0; bad = 1 }
		   last[$2] = $3 } END { exit bad }' "$tmp/dec"
	[ "$status" -eq 0 ]
	[ "$(stat_of dropped)" = 0 ]
	! grep -q '^lost ' "$tmp/dec"
	[ "$(stat_of written)" -eq "$(wc -l <"$tmp/dec")" ]
	# every worker was forked by the work process, and queued on CPU 0
	for pid in "$pid_sleeper" "$pid_spinner" "$pid_yielder"; do
		awk -v p="$pid" -v w="$worker" '$1 == "wakeup_new" && $6 == p && $8 == w && $14 == 0' \
			"$tmp/dec" | grep -q .
	done
	# each sleep of the sleeper ends with a wakeup before it runs again
	sort -s -n -k3,3 "$tmp/dec" >"$tmp/sorted"
	run awk -v p="$pid_sleeper" '
		$1 == "switch" && $6 == p && $5 != "R" { asleep = 1; sleeps++ }
		$1 == "wakeup" && $6 == p { if (asleep) woken++; asleep = 0 }
		$1 == "switch" && $8 == p && asleep { print "ran while asleep: " $0; bad = 1 }
		END { print sleeps " sleeps, " woken " wakeups"; exit bad || woken < 10 || woken != sleeps - 1 }' \
		"$tmp/sorted"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "trace_pipe: ftrace's format, one line per record, end of file when off" {
	ftrace_start sched_switch
	shikumi-cstest pingpong 1000000 &
	bg+=("$!")
	local pp=$!
	echo "$pp" >"$CS/filter_tgid"
	echo 1 >"$CS/follow_fork"
	echo 1 >"$CS/enable"
	timeout 900 cat "$CS/trace_pipe" >"$tmp/text" &
	local reader=$!
	# a second, and enough round trips for the checks below however long
	# a busy machine takes for them
	sleep 1
	wait_written 600
	echo 0 >"$CS/enable"
	echo 0 >"$TR/tracing_on"
	wait "$reader"
	# formatting text is slower than the events may come: a line for
	# every record written, and one for each LOST record
	[ "$(wc -l <"$tmp/text")" -eq "$(($(stat_of written) + $(stat_of lost_records)))" ]
	[ "$(grep -c ' LOST ' "$tmp/text")" -eq "$(stat_of lost_records)" ]
	[ "$(stat_of written)" -gt 50 ]
	grep -Eq '^ +shikumi-cstest-[0-9]+ +\[[0-9]{3}\] +[0-9]+\.[0-9]{9}: sched_switch: prev_comm=shikumi-cstest prev_pid=[0-9]+ prev_tgid=[0-9]+ prev_prio=120 prev_state=S ==> next_comm=' \
		"$tmp/text"
	# lines are in time order across CPUs
	# (t + 0: after sub() t is a string, and "10.0" < "9.9")
	awk '{ t = $3; sub(":", "", t); t += 0
		if (t < last) { bad = 1; print "out of order:"; print prev; print }
		last = t; prev = $0 } END { exit bad }' "$tmp/text"
	# the parent's switch-outs, line for line as ftrace saw them
	local ours ft
	ours=$(grep -c "sched_switch: prev_comm=shikumi-cstest prev_pid=$pp " "$tmp/text")
	ft=$(grep -c "prev_comm=shikumi-cstest prev_pid=$pp prev_prio=" "$TR/trace")
	echo "pingpong parent: ours $ours, ftrace $ft"
	[ "$ours" -gt 10 ]
	# ftrace was on a little longer on both ends
	[ "$ft" -ge "$ours" ]
	# off and drained: end of file at once
	[ -z "$(timeout 5 cat "$CS/trace_pipe")" ]
}

@test "filters: a pid and what it forks, a tgid, a CPU set" {
	# a shell waiting to exec the workload: traced from before its fork
	mkfifo "$tmp/start"
	(read -r _ <"$tmp/start"; exec shikumi-cstest pingpong 300) &
	local sh=$!
	bg+=("$sh")
	echo "$sh" >"$CS/filter_pid"
	echo 1 >"$CS/follow_fork"
	[ "$(cat "$CS/filter_pid")" = "$sh" ]
	[ "$(cat "$CS/filter_tgid")" = none ]
	echo 1 >"$CS/enable"
	drain_start
	echo go >"$tmp/start"
	wait "$sh"
	echo 0 >"$CS/enable"
	drain_finish
	# the forked child was found, and followed
	local child
	child=$(awk -v p="$sh" '$1 == "wakeup_new" && $8 == p { print $6; exit }' "$tmp/dec")
	[ -n "$child" ]
	[ "$(awk -v c="$child" '$1 == "switch" && $6 == c' "$tmp/dec" | wc -l)" -gt 100 ]
	# every switch involves one of the two
	run awk -v a="$sh" -v b="$child" '$1 == "switch" && $6 != a && $6 != b && $8 != a && $8 != b' "$tmp/dec"
	[ -z "$output" ]
	# both exited: they left the set, so a reused pid is not traced
	[ -z "$(cat "$CS/filter_pid")" ]

	# a CPU set, and a tgid
	shikumi-cstest pingpong 1000000 &
	local pp=$!
	bg+=("$pp")
	echo none >"$CS/filter_pid"
	echo "$pp" >"$CS/filter_tgid"
	echo 0 >"$CS/filter_cpu"
	[ "$(cat "$CS/filter_cpu")" = 0 ]
	echo 1 >"$CS/enable"
	drain_start
	sleep 1
	wait_written 50
	echo 0 >"$CS/enable"
	drain_finish
	grep -q '^switch ' "$tmp/dec"
	run awk '($1 == "switch" && $2 != 0) || (($1 == "wakeup" || $1 == "wakeup_new") && $14 != 0) ||
		 ($1 == "migrate" && $13 != 0 && $14 != 0)' "$tmp/dec"
	[ -z "$output" ]
	run awk -v t="$pp" '$1 == "switch" && $7 != t && $9 != t' "$tmp/dec"
	[ -z "$output" ]
}

@test "bad input gets EINVAL or ERANGE, filters are EBUSY while on, refusals without privilege" {
	run bash -c "echo abc >$CS/filter_pid"
	[[ $output == *"Invalid argument"* ]]
	run bash -c "echo 0 >$CS/filter_pid"
	[[ $output == *"Invalid argument"* ]]
	run bash -c "echo 99999999 >$CS/filter_tgid"
	[[ $output == *"Numerical result out of range"* ]]
	run bash -c "echo 3-1 >$CS/filter_pid"
	[[ $output == *"Invalid argument"* ]]
	run bash -c "echo >$CS/filter_cpu"
	[[ $output == *"Invalid argument"* ]]
	run bash -c "echo 4096 >$CS/filter_cpu"
	[ "$status" -ne 0 ]
	run bash -c "echo maybe >$CS/enable"
	[[ $output == *"Invalid argument"* ]]
	[ "$(cat "$CS/filter_pid")" = none ]
	[ "$(cat "$CS/filter_cpu")" = all ]
	# a pid list, with spaces and commas and a range
	echo "12 34,56-58" >"$CS/filter_pid"
	[ "$(cat "$CS/filter_pid")" = "12,34,56-58" ]
	echo none >"$CS/filter_pid"

	echo 1 >"$CS/enable"
	run bash -c "echo 1 >$CS/filter_pid"
	[[ $output == *"Device or resource busy"* ]]
	run bash -c "echo 0 >$CS/filter_cpu"
	[[ $output == *"Device or resource busy"* ]]
	run bash -c "echo 1 >$CS/follow_fork"
	[[ $output == *"Device or resource busy"* ]]
	echo 0 >"$CS/enable"

	# a raw read shorter than a record
	run dd if="$CS/trace_raw" of=/dev/null bs=40 count=1
	[[ $output == *"Invalid argument"* ]]

	# nobody: the files' modes refuse
	run as_user cat "$CS/stats"
	[ "$status" -ne 0 ]
	run as_user bash -c "echo 1 >$CS/enable"
	[ "$status" -ne 0 ]
	[ "$(cat "$CS/enable")" = 0 ]
	# root without CAP_PERFMON and CAP_SYS_ADMIN: as perf refuses
	local drop=-sys_admin,-perfmon
	run setpriv --inh-caps=$drop --bounding-set=$drop cat "$CS/trace_pipe"
	[[ $output == *"Operation not permitted"* ]]
	run setpriv --inh-caps=$drop --bounding-set=$drop bash -c "echo 1 >$CS/enable"
	[[ $output == *"Operation not permitted"* ]]
	[ "$(cat "$CS/enable")" = 0 ]
}

@test "one reader at a time: a second gets EBUSY; O_NONBLOCK gets EAGAIN; unload waits for the reader" {
	exec 6<"$CS/trace_raw"
	run cat "$CS/trace_pipe"
	[[ $output == *"Device or resource busy"* ]]
	run cat "$CS/trace_raw"
	[[ $output == *"Device or resource busy"* ]]
	[ "$(stat_of reader)" = 1 ]
	run shikumi unload shikumi_cstrace
	[ "$status" -ne 0 ]
	module_loaded shikumi_cstrace
	exec 6<&-
	[ "$(stat_of reader)" = 0 ]

	# on, but nothing passes the filter: a non-blocking read finds nothing
	sleep 1000 &
	local sl=$!
	bg+=("$sl")
	for _ in $(seq 100); do
		[[ $(awk '{ print $3 }' "/proc/$sl/stat") == S ]] && break
		nap 0.05
	done
	echo "$sl" >"$CS/filter_pid"
	echo 1 >"$CS/enable"
	run dd if="$CS/trace_raw" iflag=nonblock of=/dev/null bs=80 count=1
	echo "$output"
	[[ $output == *"Resource temporarily unavailable"* ]]
	echo 0 >"$CS/enable"
	# off and empty: end of file
	[ "$(timeout 5 cat "$CS/trace_raw" | wc -c)" = 0 ]
}

@test "a full ring drops new events, counts them per CPU and marks the place" {
	# out of range, checked when set (include/shikumi/param.h): no load
	shikumi unload shikumi_cstrace
	run shikumi load shikumi_cstrace nr_events=255
	[ "$status" -ne 0 ]
	! module_loaded shikumi_cstrace
	dmesg | tail -n 5 | grep -q "invalid for parameter .nr_events"
	reload_module shikumi_cstrace nr_events=256
	[ "$(stat_of nr_events)" = 256 ]
	ftrace_start sched_switch sched_wakeup sched_wakeup_new sched_migrate_task
	# no reader: the rings fill and then drop; then a reader makes room,
	# and the next event on each CPU first says how many were dropped
	echo 1 >"$CS/enable"
	shikumi-cstest pingpong 3000
	drain_start
	taskset -c 0 shikumi-cstest pingpong 200
	taskset -c 1 shikumi-cstest pingpong 200
	echo 0 >"$CS/enable"
	echo 0 >"$TR/tracing_on"
	drain_finish
	cat "$CS/stats"
	local written dropped ft
	written=$(stat_of written)
	dropped=$(stat_of dropped)
	[ "$dropped" -gt 0 ]
	# what was tried is at most what ftrace saw, on for longer
	ft=$(grep -cE 'sched_(switch|wakeup|wakeup_new|migrate_task):' "$TR/trace")
	echo "shikumi written $written + dropped $dropped, ftrace $ft"
	[ "$((written + dropped))" -le "$ft" ]
	# per CPU: the records read are the ones written, and the LOST
	# records are counted, and account for no more than the drops
	run awk -v stats="$CS/stats" '
		BEGIN {
			while ((getline l < stats) > 0) {
				split(l, f, " ")
				if (f[1] ~ /^cpu[0-9]+$/) {
					c = substr(f[1], 4); w[c] = f[3]; d[c] = f[5]; lr[c] = f[7]
				}
			}
		}
		$1 == "lost" { nl[$2]++; sum[$2] += $12; next }
		{ n[$2]++ }
		END {
			for (c in w) {
				print "cpu" c ": read " n[c] + 0 " of " w[c] ", lost " nl[c] + 0 " records, " sum[c] + 0 " of " d[c]
				if (n[c] + 0 != w[c] || nl[c] + 0 != lr[c] || sum[c] + 0 > d[c] || (d[c] > 0 && nl[c] + 0 < 1)) bad = 1
			}
			exit bad
		}' "$tmp/dec"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^lost ' "$tmp/dec"
	reload_module shikumi_cstrace
}

@test "enable, disable and unload in a loop under hackbench's load" {
	command -v perf
	# hackbench (busy_start): 20 senders and 20 receivers on pipes, at
	# nice 19: they take every CPU the loop leaves idle, and switch
	# all the time, but do not starve the loop's own commands (at nice 0,
	# 6.1's scheduler made each echo wait 2-7 s behind them: 250 s a run)
	busy_start
	local i reader
	for i in $(seq 9); do
		echo 1 >"$CS/enable"
		timeout 600 cat "$CS/trace_raw" >/dev/null &
		# now: nap's first use opens a process substitution, which
		# sets $! too, and the wait would not wait for this reader
		reader=$!
		bg+=("$reader")
		nap 0.3
		echo 0 >"$CS/enable"
		wait "$reader"
		if ((i % 3 == 0)); then
			# on, under load, with no reader: unload at any moment
			echo 1 >"$CS/enable"
			nap 0.2
			shikumi unload shikumi_cstrace
			shikumi load shikumi_cstrace
		fi
	done
	kill -0 "$SHIKUMI_BUSY"
	# still traces
	echo 1 >"$CS/enable"
	nap 0.3
	wait_written 100
	echo 0 >"$CS/enable"
	[ "$(stat_of written)" -gt 100 ]
	busy_stop
}

@test "trace_pipe and trace_raw: poll() is quiet with nothing to read, readable at the first record, POLLHUP at the end" {
	run shikumi-cstest poll "$CS"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "# ${lines[0]}; ${lines[1]}" >&3
}

@test "a reader stalled in a fault on its buffer holds up no new session, and dies on SIGKILL" {
	local f
	for f in trace_pipe trace_raw; do
		# records to read, so that the reader sleeps in the fault
		echo 1 >"$CS/enable"
		nap 0.3
		run shikumi-stall "$CS/$f" "$CS/enable" 0 "$CS/enable" 1
		echo "$f: $output"
		[ "$status" -eq 0 ]
		[[ $output != skip:* ]] || skip "${output#skip: }"
		[ "$output" = ok ]
		echo 0 >"$CS/enable"
	done
}
