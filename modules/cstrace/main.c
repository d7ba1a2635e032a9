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

#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/threads.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <trace/events/sched.h>

#include <shikumi/debugfs.h>
#include <shikumi/param.h>
#include <uapi/shikumi/cstrace.h>

#include "cstrace.h"

#define CS_NR_MIN	256U
#define CS_NR_MAX	(1024U * 1024U)

static int nr_events_set(const char *val, const struct kernel_param *kp)
{
	return shikumi_param_set_uint(val, kp, CS_NR_MIN, CS_NR_MAX, false);
}

static const struct kernel_param_ops nr_events_ops = {
	.set = nr_events_set,
	.get = param_get_uint,
};

static unsigned int nr_events = 8192;
module_param_cb(nr_events, &nr_events_ops, &nr_events, 0444);
MODULE_PARM_DESC(nr_events,
		 "records in each CPU's ring, rounded up to a power of two (256..1048576, default 8192)");

struct cs_state cs;

/* ------------------------------------------------------------------ */
/* Control files                                                        */
/* ------------------------------------------------------------------ */

/* a user string, NUL-terminated, at most @max bytes */
static char *cs_strndup_user(const char __user *ubuf, size_t count,
			     size_t max)
{
	if (count > max)
		return ERR_PTR(-E2BIG);
	return memdup_user_nul(ubuf, count);
}

static int cs_enable_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(cs.on));
	return 0;
}

static ssize_t cs_enable_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	bool on;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &on);
	if (ret)
		return ret;
	mutex_lock(&cs.lock);
	if (on && !cs.on)
		ret = cs_start();
	else if (!on && cs.on)
		cs_stop();
	mutex_unlock(&cs.lock);
	return ret ? ret : count;
}

static int cs_follow_show(struct seq_file *m, void *v)
{
	mutex_lock(&cs.lock);
	seq_printf(m, "%d\n", cs.follow_fork);
	mutex_unlock(&cs.lock);
	return 0;
}

static ssize_t cs_follow_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	bool follow;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &follow);
	if (ret)
		return ret;
	mutex_lock(&cs.lock);
	if (cs.on)
		ret = -EBUSY;
	else
		cs.follow_fork = follow;
	mutex_unlock(&cs.lock);
	return ret ? ret : count;
}

/* "12 34,56-58" -> "12,34,56-58"; "" and "none" mean none */
static bool cs_normalize_list(char *s)
{
	char *w = s, *r;
	bool sep = false;

	for (r = strim(s); *r; r++) {
		if (isspace(*r) || *r == ',') {
			sep = w != s;
			continue;
		}
		if (sep)
			*w++ = ',';
		sep = false;
		*w++ = *r;
	}
	*w = '\0';
	return w == s || !strcmp(s, "none");
}

/* a set of ids: 512 KiB, too much for kmalloc to be sure of */
static unsigned long *cs_ids_alloc(void)
{
	return kvcalloc(BITS_TO_LONGS(PID_MAX_LIMIT), sizeof(long),
			GFP_KERNEL);
}

/*
 * "none" when the list was never set (or set to none).  A pid list that
 * follow_fork has emptied, as its tasks exited, reads as an empty line:
 * it still filters, and nothing passes it.
 */
static int cs_ids_show(struct seq_file *m, void *v)
{
	bool is_pids = m->private == &cs.pids;
	const unsigned long *ids;

	mutex_lock(&cs.lock);
	ids = is_pids ? cs.pids : cs.tgids;
	if (!(is_pids ? cs.pid_set : cs.tgid_set))
		seq_puts(m, "none\n");
	else
		seq_printf(m, "%*pbl\n", (int)PID_MAX_LIMIT, ids);
	mutex_unlock(&cs.lock);
	return 0;
}

static ssize_t cs_ids_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	unsigned long **ids = m->private;
	unsigned long *tmp;
	char *buf;
	int ret = 0;

	buf = cs_strndup_user(ubuf, count, SZ_64K);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	tmp = cs_ids_alloc();
	if (!tmp) {
		ret = -ENOMEM;
		goto free_buf;
	}
	/* pid 0 is every CPU's idle task: not a task one can filter on */
	if (!cs_normalize_list(buf)) {
		ret = bitmap_parselist(buf, tmp, PID_MAX_LIMIT);
		if (!ret && test_bit(0, tmp))
			ret = -EINVAL;
		if (ret)
			goto free_tmp;
	}

	mutex_lock(&cs.lock);
	if (cs.on) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!cs.pids) {
		cs.pids = cs_ids_alloc();
		cs.tgids = cs_ids_alloc();
		if (!cs.pids || !cs.tgids) {
			kvfree(cs.pids);
			kvfree(cs.tgids);
			cs.pids = NULL;
			cs.tgids = NULL;
			ret = -ENOMEM;
			goto unlock;
		}
	}
	bitmap_copy(*ids, tmp, PID_MAX_LIMIT);
	if (ids == &cs.pids)
		cs.pid_set = !bitmap_empty(tmp, PID_MAX_LIMIT);
	else
		cs.tgid_set = !bitmap_empty(tmp, PID_MAX_LIMIT);
	cs.by_id = cs.pid_set || cs.tgid_set;
unlock:
	mutex_unlock(&cs.lock);
free_tmp:
	kvfree(tmp);
free_buf:
	kfree(buf);
	return ret ? ret : count;
}

static int cs_cpus_show(struct seq_file *m, void *v)
{
	mutex_lock(&cs.lock);
	if (cs.any_cpu)
		seq_puts(m, "all\n");
	else
		seq_printf(m, "%*pbl\n", cpumask_pr_args(cs.cpus));
	mutex_unlock(&cs.lock);
	return 0;
}

static ssize_t cs_cpus_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	cpumask_var_t tmp;
	bool any = false;
	char *buf;
	int ret = 0;

	buf = cs_strndup_user(ubuf, count, PAGE_SIZE);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (!zalloc_cpumask_var(&tmp, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto free_buf;
	}
	if (cs_normalize_list(buf)) {
		ret = -EINVAL;		/* tracing no CPU: use enable */
	} else if (!strcmp(buf, "all")) {
		any = true;
	} else {
		ret = cpulist_parse(buf, tmp);
		if (!ret && cpumask_empty(tmp))
			ret = -EINVAL;
	}
	if (ret)
		goto free_tmp;

	mutex_lock(&cs.lock);
	if (cs.on) {
		ret = -EBUSY;
	} else {
		cs.any_cpu = any;
		cpumask_copy(cs.cpus, tmp);
	}
	mutex_unlock(&cs.lock);
free_tmp:
	free_cpumask_var(tmp);
free_buf:
	kfree(buf);
	return ret ? ret : count;
}

static int cs_stats_show(struct seq_file *m, void *v)
{
	u64 written = 0, dropped = 0, lost = 0;
	unsigned int cpu;

	seq_printf(m, "enabled %d\n", READ_ONCE(cs.on));
	seq_printf(m, "reader %d\n", READ_ONCE(cs.reader));
	seq_printf(m, "session %u\n", READ_ONCE(cs.gen));
	seq_printf(m, "nr_events %u\n", cs.nr);
	seq_printf(m, "record_bytes %zu\n", sizeof(struct shikumi_cs_rec));
	seq_printf(m, "rings %u\n", READ_ONCE(cs.nr_rings));
	seq_printf(m, "memory_bytes %zu\n",
		   (size_t)READ_ONCE(cs.nr_rings) * cs.nr *
		   sizeof(struct shikumi_cs_rec) +
		   (cs.pids ? 2 * BITS_TO_LONGS(PID_MAX_LIMIT) *
		    sizeof(long) : 0));
	for_each_possible_cpu(cpu) {
		struct cs_ring *ring = per_cpu_ptr(cs.rings, cpu);

		written += READ_ONCE(ring->written);
		dropped += READ_ONCE(ring->dropped);
		lost += READ_ONCE(ring->lost_records);
	}
	seq_printf(m, "written %llu\n", written);
	seq_printf(m, "dropped %llu\n", dropped);
	seq_printf(m, "lost_records %llu\n", lost);
	for_each_possible_cpu(cpu) {
		struct cs_ring *ring = per_cpu_ptr(cs.rings, cpu);

		if (!READ_ONCE(ring->recs) && !READ_ONCE(ring->dropped))
			continue;
		seq_printf(m, "cpu%u written %llu dropped %llu lost_records %llu max_fill %lu\n",
			   cpu, READ_ONCE(ring->written),
			   READ_ONCE(ring->dropped),
			   READ_ONCE(ring->lost_records),
			   READ_ONCE(ring->max_fill));
	}
	return 0;
}

/*
 * The control files.  Like perf's scheduler tracepoints, they need
 * CAP_PERFMON (or CAP_SYS_ADMIN) besides the file's mode.
 */
#define CS_CTL_FILE(name, writer)					\
static int cs_##name##_open(struct inode *inode, struct file *file)	\
{									\
	if (!perfmon_capable())						\
		return -EPERM;						\
	return single_open(file, cs_##name##_show, inode->i_private);	\
}									\
const struct file_operations cs_##name##_fops = {			\
	.owner		= THIS_MODULE,					\
	.open		= cs_##name##_open,				\
	.read		= seq_read,					\
	.write		= writer,					\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}

CS_CTL_FILE(enable, cs_enable_write);
CS_CTL_FILE(follow, cs_follow_write);
CS_CTL_FILE(ids, cs_ids_write);
CS_CTL_FILE(cpus, cs_cpus_write);
CS_CTL_FILE(stats, NULL);

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

static void cs_free_rings(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		vfree(per_cpu_ptr(cs.rings, cpu)->recs);
	free_percpu(cs.rings);
}

static int __init shikumi_cstrace_init(void)
{
	int i, ret;

	/* the probes' prototypes, checked against the tracepoints' */
	check_trace_callback_type_sched_switch(cs_probe_switch);
	check_trace_callback_type_sched_wakeup(cs_probe_wakeup);
	check_trace_callback_type_sched_wakeup_new(cs_probe_wakeup_new);
	check_trace_callback_type_sched_migrate_task(cs_probe_migrate);

	/* nr_events is in range: nr_events_set() checked it */
	cs.nr = roundup_pow_of_two(nr_events);

	for_each_kernel_tracepoint(cs_find_tracepoint, NULL);
	for (i = 0; i < CS_NR_TP; i++) {
		if (!cs.tp[i]) {
			pr_err("the kernel has no %s tracepoint\n",
			       cs_events[i].name);
			return -ENOENT;
		}
	}

	mutex_init(&cs.lock);
	mutex_init(&cs.read_lock);
	init_waitqueue_head(&cs.wait);
	init_irq_work(&cs.wake_work, cs_wake_reader);
	cs.any_cpu = true;

	cs.rings = alloc_percpu(struct cs_ring);
	if (!cs.rings)
		return -ENOMEM;
	if (!zalloc_cpumask_var(&cs.cpus, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto free_rings;
	}

	/* in a directory shared by shikumi's modules: <shikumi/debugfs.h> */
	cs.dir = shikumi_debugfs_create_dir("cstrace");
	if (IS_ERR(cs.dir)) {
		ret = PTR_ERR(cs.dir);
		pr_err("cannot create /sys/kernel/debug/shikumi/cstrace: %d\n",
		       ret);
		goto free_cpus;
	}
	debugfs_create_file("enable", 0600, cs.dir, NULL, &cs_enable_fops);
	debugfs_create_file("filter_pid", 0600, cs.dir, &cs.pids,
			    &cs_ids_fops);
	debugfs_create_file("filter_tgid", 0600, cs.dir, &cs.tgids,
			    &cs_ids_fops);
	debugfs_create_file("filter_cpu", 0600, cs.dir, NULL, &cs_cpus_fops);
	debugfs_create_file("follow_fork", 0600, cs.dir, NULL,
			    &cs_follow_fops);
	debugfs_create_file("trace_pipe", 0400, cs.dir, NULL, &cs_text_fops);
	debugfs_create_file("trace_raw", 0400, cs.dir, NULL, &cs_raw_fops);
	debugfs_create_file("stats", 0400, cs.dir, NULL, &cs_stats_fops);
	pr_info("context-switch tracer in /sys/kernel/debug/shikumi/cstrace/ (%u records per CPU)\n",
		cs.nr);
	return 0;

free_cpus:
	free_cpumask_var(cs.cpus);
free_rings:
	free_percpu(cs.rings);
	return ret;
}

static void __exit shikumi_cstrace_exit(void)
{
	/* no file operation runs after this, and no reader is open */
	shikumi_debugfs_remove(cs.dir);
	if (cs.on)
		cs_stop();
	irq_work_sync(&cs.wake_work);
	cs_free_rings();
	kvfree(cs.pids);
	kvfree(cs.tgids);
	free_cpumask_var(cs.cpus);
	mutex_destroy(&cs.read_lock);
	mutex_destroy(&cs.lock);
}

module_init(shikumi_cstrace_init);
module_exit(shikumi_cstrace_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The shikumi authors");
MODULE_DESCRIPTION("Context switches, wakeups and migrations from the scheduler's tracepoints");
