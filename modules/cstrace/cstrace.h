/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi_cstrace's private header: a CPU's ring, the tracer's state, and
 * what one file of the module calls in another.
 */
#ifndef _SHIKUMI_CSTRACE_H
#define _SHIKUMI_CSTRACE_H

#include <linux/cache.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/tracepoint.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <shikumi/tracepoint.h>
#include <uapi/shikumi/cstrace.h>

/*
 * One CPU's ring.  Only the probes on that CPU write @head, @lost_pending
 * and the counters, with interrupts off; only the reader writes @tail.
 * A slot in [tail, head) belongs to the reader, every other slot to the
 * producer.
 */
struct shikumi_cs_ring {
	struct shikumi_cs_rec *recs;	/* shikumi_cs.nr records, or NULL */
	unsigned long head;
	unsigned long lost_pending;	/* dropped since the last LOST record */
	u64 written;			/* events written (LOST records aside) */
	u64 dropped;			/* events dropped: the ring was full */
	u64 lost_records;
	unsigned long max_fill;
	/* the reader's side, on its own cache line */
	unsigned long tail ____cacheline_aligned_in_smp;
};

/* the tracepoints, found by name: their symbols are not exported */
enum {
	SHIKUMI_CS_TP_SWITCH,
	SHIKUMI_CS_TP_WAKEUP,
	SHIKUMI_CS_TP_WAKEUP_NEW,
	SHIKUMI_CS_TP_MIGRATE,
	SHIKUMI_CS_NR_TP
};

struct shikumi_cs_tracer {
	/*
	 * @lock serializes enable, the filters, the rings' allocation and
	 * the opening of a reader; @read_lock serializes the reader's
	 * consuming with the emptying of the rings at a new session.
	 */
	struct mutex lock;		/* see above */
	struct mutex read_lock;		/* see above */
	bool on;			/* the probes may be running */
	bool reader;			/* trace_pipe or trace_raw is open */
	bool reader_waiting;		/* a reader sleeps: wake it up */
	bool poll_waiting;		/* a reader polls: wake it at once */
	unsigned int nr;		/* records per ring, a power of two */
	unsigned int gen;		/* sessions started */
	struct shikumi_cs_ring __percpu *rings;
	unsigned int nr_rings;		/* rings allocated */

	/* filters, changed only while tracing is off (follow_fork aside) */
	bool any_cpu;
	cpumask_var_t cpus;
	bool pid_set, tgid_set;		/* filter_pid, filter_tgid were set */
	bool by_id;			/* either was */
	unsigned long *pids;		/* PID_MAX_LIMIT bits each, or NULL */
	unsigned long *tgids;
	bool follow_fork;

	struct irq_work wake_work;
	wait_queue_head_t wait;
	struct dentry *dir;
};

extern struct shikumi_cs_tracer shikumi_cs;

/* the tracepoints' names and probes, in ring.c: <shikumi/tracepoint.h> */
extern struct shikumi_probe shikumi_cs_probes[SHIKUMI_CS_NR_TP];

/* ring.c */
void shikumi_cs_probe_switch(void *data, bool preempt, struct task_struct *prev,
			     struct task_struct *next, unsigned int prev_state);
void shikumi_cs_probe_wakeup(void *data, struct task_struct *p);
void shikumi_cs_probe_wakeup_new(void *data, struct task_struct *p);
void shikumi_cs_probe_migrate(void *data, struct task_struct *p, int dest_cpu);
void shikumi_cs_wake_reader(struct irq_work *work);
int shikumi_cs_start(void);
void shikumi_cs_stop(void);

/* read.c */
extern const struct file_operations shikumi_cs_raw_fops;
extern const struct file_operations shikumi_cs_text_fops;

/* ctl.c */
extern const struct file_operations shikumi_cs_enable_fops;
extern const struct file_operations shikumi_cs_follow_fops;
extern const struct file_operations shikumi_cs_ids_fops;
extern const struct file_operations shikumi_cs_cpus_fops;
extern const struct file_operations shikumi_cs_stats_fops;

#endif /* _SHIKUMI_CSTRACE_H */
