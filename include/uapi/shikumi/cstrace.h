/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shikumi_cstrace: user API of the context-switch tracer.
 *
 * The tracer hooks the scheduler's sched_switch, sched_wakeup,
 * sched_wakeup_new and sched_migrate_task tracepoints, only while it is
 * on.  Each CPU writes its events, without locks, into its own ring of
 * struct shikumi_cs_rec.  A full ring drops new events and counts them:
 * nothing is lost silently.  All files are in
 * /sys/kernel/debug/shikumi/cstrace/ and are root only; opening any of
 * them also needs CAP_PERFMON or CAP_SYS_ADMIN, as perf's scheduler
 * tracepoints do.
 *
 *	enable		"1" starts tracing, "0" stops it; reads "0" or "1".
 *			Starting begins a new session: the rings are emptied
 *			(a reader left open loses what it had not read yet)
 *			and the counters zeroed.
 *	filter_pid	tasks to trace, by thread id: a list such as
 *	filter_tgid	"12 34,56"; by thread group (process) id.  An event
 *			passes if either list holds one of its tasks' pid or
 *			tgid; with both lists empty (writing "" or "none")
 *			every task passes.
 *	filter_cpu	the CPUs to trace, as a cpulist ("0-1,3"); "all"
 *			(the default) for every CPU.  A switch passes if it
 *			happens on one of them, a wakeup if the task is
 *			queued on one, a migration if it leaves or enters one.
 *	follow_fork	"1": a task forked or cloned by a traced task is
 *			traced too (its pid joins filter_pid), and a traced
 *			task that exits leaves it, so that its pid, reused,
 *			is not traced.  Default "0".  A filter_pid that
 *			emptied this way reads as an empty line, and nothing
 *			passes it.  (An exec from a thread other than the
 *			leader takes the leader's pid; filter_tgid follows
 *			that case, filter_pid does not.)
 *			The four filter files can be written only while
 *			tracing is off (EBUSY otherwise).
 *	trace_pipe	the events as text, oldest first across CPUs, one
 *			line each, like ftrace's trace_pipe.  Reading
 *			consumes them.
 *	trace_raw	the same events as struct shikumi_cs_rec records, in
 *			each CPU's order (a reader merges the CPUs by ts_ns).
 *			Reads return whole records: count must be at least
 *			sizeof(struct shikumi_cs_rec).
 *			Only one of the two may be open at a time: a second
 *			open gets EBUSY.  Both block while tracing is on and
 *			the rings are empty (or return EAGAIN with
 *			O_NONBLOCK), and return 0 (end of file) once tracing
 *			is off and the rings are empty.
 *	stats		counters, as "key value" lines, and one line per CPU:
 *			"cpuN written W dropped D lost_records L max_fill F".
 *			Rings are made at enable for the CPUs online then; a
 *			CPU brought online during a session drops its events,
 *			and only stats can count them.
 *
 * The module parameter nr_events (read only; default 8192, rounded up to
 * a power of two) sets the size of each CPU's ring, in records.
 */
#ifndef _UAPI_SHIKUMI_CSTRACE_H
#define _UAPI_SHIKUMI_CSTRACE_H

#include <linux/types.h>

/* shikumi_cs_rec.type */
enum shikumi_cs_type {
	SHIKUMI_CS_SWITCH	= 1,	/* sched_switch: prev leaves, next runs */
	SHIKUMI_CS_WAKEUP	= 2,	/* sched_wakeup: prev_* is the woken task */
	SHIKUMI_CS_WAKEUP_NEW	= 3,	/* sched_wakeup_new: a new task's first */
	SHIKUMI_CS_MIGRATE	= 4,	/* sched_migrate_task */
	SHIKUMI_CS_LOST		= 5,	/* this CPU dropped 'lost' events here */
};

/* shikumi_cs_rec.flags */
#define SHIKUMI_CS_F_PREEMPT	0x0001	/* SWITCH: prev was preempted */

/*
 * shikumi_cs_rec.prev_state for SWITCH: the state prev left the CPU in,
 * as ftrace and ps show it, an index into SHIKUMI_CS_STATE_CHARS.
 */
enum shikumi_cs_state {
	SHIKUMI_CS_STATE_RUNNING	= 0,	/* R: still runnable */
	SHIKUMI_CS_STATE_SLEEPING	= 1,	/* S: interruptible sleep */
	SHIKUMI_CS_STATE_DISK_SLEEP	= 2,	/* D: uninterruptible */
	SHIKUMI_CS_STATE_STOPPED	= 3,	/* T */
	SHIKUMI_CS_STATE_TRACED		= 4,	/* t */
	SHIKUMI_CS_STATE_DEAD		= 5,	/* X */
	SHIKUMI_CS_STATE_ZOMBIE		= 6,	/* Z */
	SHIKUMI_CS_STATE_PARKED		= 7,	/* P */
	SHIKUMI_CS_STATE_IDLE		= 8,	/* I: idle kernel thread */
};

#define SHIKUMI_CS_STATE_CHARS	"RSDTtXZPI"

#define SHIKUMI_CS_COMM_LEN	16

/**
 * struct shikumi_cs_rec - one scheduler event, 80 bytes
 * @ts_ns:	CLOCK_MONOTONIC time of the event, in ns (the clock user
 *		space reads with clock_gettime(), so the two line up)
 * @type:	enum shikumi_cs_type
 * @cpu:	the CPU the event was recorded on, in whose ring it is (for a
 *		WAKEUP, not always the CPU it is queued on: see @cpu_to)
 * @flags:	SHIKUMI_CS_F_*
 * @prev_state:	SWITCH: enum shikumi_cs_state of prev; R with
 *		SHIKUMI_CS_F_PREEMPT is ftrace's "R+"
 * @reserved:	zero
 * @prev_pid:	SWITCH: the task that left the CPU; WAKEUP, WAKEUP_NEW and
 *		MIGRATE: the task woken, started or moved
 * @prev_tgid:	its thread group id
 * @next_pid:	SWITCH: the task that runs next (0 is the idle task);
 *		WAKEUP_NEW: the parent, or the thread that cloned it;
 *		WAKEUP: the task running on @cpu when the wakeup completed
 *		(ftrace's common_pid).  That is the waker when it woke the
 *		task directly; a wakeup sent to another CPU completes there,
 *		often under its idle task (0), and one from an interrupt
 *		shows the task the interrupt came in on.
 * @next_tgid:	its thread group id
 * @prev_prio:	kernel priority of prev_pid's task (120 is nice 0)
 * @next_prio:	kernel priority of next_pid's task
 * @prev_raw_state: SWITCH: the kernel's own prev_state bits, for experts
 *		(their values are internal to each kernel version)
 * @prev_nvcsw:	SWITCH: prev's voluntary switch count, the kernel's own
 *		counter, already counting this switch (low 32 bits)
 * @prev_nivcsw: SWITCH: prev's involuntary switch count, likewise
 * @cpu_from:	MIGRATE: the CPU the task leaves; WAKEUP, WAKEUP_NEW: the
 *		same as cpu_to (a wakeup that moves a task is preceded by
 *		a MIGRATE record)
 * @cpu_to:	MIGRATE: the CPU the task moves to; WAKEUP, WAKEUP_NEW: the
 *		CPU it is queued on (ftrace's target_cpu)
 * @lost:	LOST: how many events this CPU dropped just before this
 *		record, because its ring was full
 * @prev_comm:	prev_pid's command name, NUL-terminated
 * @next_comm:	next_pid's command name, NUL-terminated
 *
 * A SWITCH was voluntary (the kernel counted it in nvcsw, as "voluntary_
 * ctxt_switches" in /proc/PID/status) exactly when prev_nvcsw grew since
 * the task's previous switch.  Without an earlier record of the task,
 * "!PREEMPT and prev_state != R" is the kernel's own rule, except for a
 * sleep that a pending signal cancelled: the kernel counts it as
 * voluntary, and newer kernels report its state as R.
 */
struct shikumi_cs_rec {
	__u64 ts_ns;
	__u16 type;
	__u16 cpu;
	__u16 flags;
	__u8 prev_state;
	__u8 reserved;
	__s32 prev_pid;
	__s32 prev_tgid;
	__s32 next_pid;
	__s32 next_tgid;
	__s16 prev_prio;
	__s16 next_prio;
	__u32 prev_raw_state;
	union {
		struct {
			__u32 prev_nvcsw;
			__u32 prev_nivcsw;
		};
		struct {
			__u32 cpu_from;
			__u32 cpu_to;
		};
		__u64 lost;
	};
	char prev_comm[SHIKUMI_CS_COMM_LEN];
	char next_comm[SHIKUMI_CS_COMM_LEN];
};

#endif /* _UAPI_SHIKUMI_CSTRACE_H */
