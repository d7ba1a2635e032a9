// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_cstrace: the scheduler's context switches, as they happen
 * (book chapter 3).
 *
 * The book infers time slices from the progress timestamps of busy
 * processes.  This module records what the scheduler itself did: every
 * sched_switch, with sched_wakeup, sched_wakeup_new and sched_migrate_task
 * so that time spent waiting to run and migrations are known too.  The
 * user API is in <uapi/shikumi/cstrace.h>.
 *
 * What it demonstrates:
 *  - hooking a kernel tracepoint from a module: the tracepoints are found
 *    by name (their symbols are not exported), and probes are registered
 *    only while tracing is on, so the tracer costs nothing when off;
 *  - a lockless per-CPU ring with one producer (the probes on that CPU,
 *    with interrupts off) and one consumer (the reader), ordered with
 *    acquire/release on the head and tail;
 *  - never losing events silently: a full ring drops new events, counts
 *    them, and leaves a LOST record in the stream where they were, as
 *    LTTng's discard mode does;
 *  - waking a reader from inside the scheduler, where wake_up() would
 *    deadlock, through an irq_work; poll() as well as blocking read();
 *  - a reader that never holds a lock while it copies to user space: the
 *    records go through a bounce buffer, so a reader stalled in a page
 *    fault cannot hold up a new session.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <trace/events/sched.h>

#include <shikumi/debugfs.h>
#include <shikumi/param.h>
#include <uapi/shikumi/cstrace.h>

#include "cstrace.h"

#define SHIKUMI_CS_NR_MIN	256U
#define SHIKUMI_CS_NR_MAX	(1024U * 1024U)

static unsigned int shikumi_cs_nr_events = 8192;
SHIKUMI_PARAM_OPS_UINT(shikumi_cs_nr_events, SHIKUMI_CS_NR_MIN, SHIKUMI_CS_NR_MAX);
module_param_cb(nr_events, &shikumi_cs_nr_events_ops, &shikumi_cs_nr_events, 0444);
MODULE_PARM_DESC(nr_events,
		 "records in each CPU's ring, rounded up to a power of two (256..1048576, default 8192)");

struct shikumi_cs_tracer shikumi_cs;

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

static void shikumi_cs_free_rings(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		vfree(per_cpu_ptr(shikumi_cs.rings, cpu)->recs);
	free_percpu(shikumi_cs.rings);
}

static int __init shikumi_cstrace_init(void)
{
	int ret;

	/* the probes' prototypes, checked against the tracepoints' */
	check_trace_callback_type_sched_switch(shikumi_cs_probe_switch);
	check_trace_callback_type_sched_wakeup(shikumi_cs_probe_wakeup);
	check_trace_callback_type_sched_wakeup_new(shikumi_cs_probe_wakeup_new);
	check_trace_callback_type_sched_migrate_task(shikumi_cs_probe_migrate);

	/* nr_events is in range: shikumi_cs_nr_events_set() checked it */
	shikumi_cs.nr = roundup_pow_of_two(shikumi_cs_nr_events);

	ret = shikumi_probes_find(shikumi_cs_probes, SHIKUMI_CS_NR_TP);
	if (ret)
		return ret;

	mutex_init(&shikumi_cs.lock);
	mutex_init(&shikumi_cs.read_lock);
	init_waitqueue_head(&shikumi_cs.wait);
	init_irq_work(&shikumi_cs.wake_work, shikumi_cs_wake_reader);
	shikumi_cs.any_cpu = true;

	shikumi_cs.rings = alloc_percpu(struct shikumi_cs_ring);
	if (!shikumi_cs.rings)
		return -ENOMEM;
	if (!zalloc_cpumask_var(&shikumi_cs.cpus, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto free_rings;
	}

	/* in a directory shared by shikumi's modules: <shikumi/debugfs.h> */
	shikumi_cs.dir = shikumi_debugfs_create_dir("cstrace");
	if (IS_ERR(shikumi_cs.dir)) {
		ret = PTR_ERR(shikumi_cs.dir);
		pr_err("cannot create /sys/kernel/debug/shikumi/cstrace: %d\n",
		       ret);
		goto free_cpus;
	}
	debugfs_create_file("enable", 0600, shikumi_cs.dir, NULL, &shikumi_cs_enable_fops);
	debugfs_create_file("filter_pid", 0600, shikumi_cs.dir, &shikumi_cs.pids,
			    &shikumi_cs_ids_fops);
	debugfs_create_file("filter_tgid", 0600, shikumi_cs.dir, &shikumi_cs.tgids,
			    &shikumi_cs_ids_fops);
	debugfs_create_file("filter_cpu", 0600, shikumi_cs.dir, NULL, &shikumi_cs_cpus_fops);
	debugfs_create_file("follow_fork", 0600, shikumi_cs.dir, NULL,
			    &shikumi_cs_follow_fops);
	debugfs_create_file("trace_pipe", 0400, shikumi_cs.dir, NULL, &shikumi_cs_text_fops);
	debugfs_create_file("trace_raw", 0400, shikumi_cs.dir, NULL, &shikumi_cs_raw_fops);
	debugfs_create_file("stats", 0400, shikumi_cs.dir, NULL, &shikumi_cs_stats_fops);
	pr_info("context-switch tracer in /sys/kernel/debug/shikumi/cstrace/ (%u records per CPU)\n",
		shikumi_cs.nr);
	return 0;

free_cpus:
	free_cpumask_var(shikumi_cs.cpus);
free_rings:
	free_percpu(shikumi_cs.rings);
	return ret;
}

static void __exit shikumi_cstrace_exit(void)
{
	/* no file operation runs after this, and no reader is open */
	shikumi_debugfs_remove(shikumi_cs.dir);
	if (shikumi_cs.on)
		shikumi_cs_stop();
	irq_work_sync(&shikumi_cs.wake_work);
	shikumi_cs_free_rings();
	kvfree(shikumi_cs.pids);
	kvfree(shikumi_cs.tgids);
	free_cpumask_var(shikumi_cs.cpus);
	mutex_destroy(&shikumi_cs.read_lock);
	mutex_destroy(&shikumi_cs.lock);
}

module_init(shikumi_cstrace_init);
module_exit(shikumi_cstrace_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The shikumi authors");
MODULE_DESCRIPTION("Context switches, wakeups and migrations from the scheduler's tracepoints");
#ifdef SHIKUMI_VERSION
MODULE_VERSION(SHIKUMI_VERSION);
#endif
