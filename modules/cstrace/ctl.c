// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_cstrace: the control files in debugfs: enable, filter_pid,
 * filter_tgid, filter_cpu, follow_fork and stats.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/threads.h>
#include <linux/uaccess.h>

#include <uapi/shikumi/cstrace.h>

#include "cstrace.h"

/* ------------------------------------------------------------------ */
/* Control files                                                        */
/* ------------------------------------------------------------------ */

/* a user string, NUL-terminated, at most @max bytes */
static char *shikumi_cs_strndup_user(const char __user *ubuf, size_t count,
				     size_t max)
{
	if (count > max)
		return ERR_PTR(-E2BIG);
	return memdup_user_nul(ubuf, count);
}

/*
 * enable and follow_fork: a boolean, handed to @set under the lock; what
 * @set returns, if not 0, is the write's error.
 */
static ssize_t shikumi_cs_bool_write(const char __user *ubuf, size_t count,
				     int (*set)(bool val))
{
	bool val;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &val);
	if (ret)
		return ret;
	mutex_lock(&shikumi_cs.lock);
	ret = set(val);
	mutex_unlock(&shikumi_cs.lock);
	return ret ? ret : count;
}

static int shikumi_cs_enable_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(shikumi_cs.on));
	return 0;
}

static int shikumi_cs_enable_set(bool on)
{
	if (on && !shikumi_cs.on)
		return shikumi_cs_start();
	if (!on && shikumi_cs.on)
		shikumi_cs_stop();
	return 0;
}

static ssize_t shikumi_cs_enable_write(struct file *file, const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	return shikumi_cs_bool_write(ubuf, count, shikumi_cs_enable_set);
}

static int shikumi_cs_follow_show(struct seq_file *m, void *v)
{
	mutex_lock(&shikumi_cs.lock);
	seq_printf(m, "%d\n", shikumi_cs.follow_fork);
	mutex_unlock(&shikumi_cs.lock);
	return 0;
}

static int shikumi_cs_follow_set(bool follow)
{
	if (shikumi_cs.on)
		return -EBUSY;
	shikumi_cs.follow_fork = follow;
	return 0;
}

static ssize_t shikumi_cs_follow_write(struct file *file, const char __user *ubuf,
				       size_t count, loff_t *ppos)
{
	return shikumi_cs_bool_write(ubuf, count, shikumi_cs_follow_set);
}

/* "12 34,56-58" -> "12,34,56-58"; "" and "none" mean none */
static bool shikumi_cs_normalize_list(char *s)
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
static unsigned long *shikumi_cs_ids_alloc(void)
{
	return kvcalloc(BITS_TO_LONGS(PID_MAX_LIMIT), sizeof(long),
			GFP_KERNEL);
}

/*
 * "none" when the list was never set (or set to none).  A pid list that
 * follow_fork has emptied, as its tasks exited, reads as an empty line:
 * it still filters, and nothing passes it.
 */
static int shikumi_cs_ids_show(struct seq_file *m, void *v)
{
	bool is_pids = m->private == &shikumi_cs.pids;
	const unsigned long *ids;

	mutex_lock(&shikumi_cs.lock);
	ids = is_pids ? shikumi_cs.pids : shikumi_cs.tgids;
	if (!(is_pids ? shikumi_cs.pid_set : shikumi_cs.tgid_set))
		seq_puts(m, "none\n");
	else
		seq_printf(m, "%*pbl\n", (int)PID_MAX_LIMIT, ids);
	mutex_unlock(&shikumi_cs.lock);
	return 0;
}

static ssize_t shikumi_cs_ids_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	unsigned long **ids = m->private;
	unsigned long *tmp;
	char *buf;
	int ret = 0;

	buf = shikumi_cs_strndup_user(ubuf, count, SZ_64K);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	tmp = shikumi_cs_ids_alloc();
	if (!tmp) {
		ret = -ENOMEM;
		goto free_buf;
	}
	/* pid 0 is every CPU's idle task: not a task one can filter on */
	if (!shikumi_cs_normalize_list(buf)) {
		ret = bitmap_parselist(buf, tmp, PID_MAX_LIMIT);
		if (!ret && test_bit(0, tmp))
			ret = -EINVAL;
		if (ret)
			goto free_tmp;
	}

	mutex_lock(&shikumi_cs.lock);
	if (shikumi_cs.on) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!shikumi_cs.pids) {
		shikumi_cs.pids = shikumi_cs_ids_alloc();
		shikumi_cs.tgids = shikumi_cs_ids_alloc();
		if (!shikumi_cs.pids || !shikumi_cs.tgids) {
			kvfree(shikumi_cs.pids);
			kvfree(shikumi_cs.tgids);
			shikumi_cs.pids = NULL;
			shikumi_cs.tgids = NULL;
			ret = -ENOMEM;
			goto unlock;
		}
	}
	bitmap_copy(*ids, tmp, PID_MAX_LIMIT);
	if (ids == &shikumi_cs.pids)
		shikumi_cs.pid_set = !bitmap_empty(tmp, PID_MAX_LIMIT);
	else
		shikumi_cs.tgid_set = !bitmap_empty(tmp, PID_MAX_LIMIT);
	shikumi_cs.by_id = shikumi_cs.pid_set || shikumi_cs.tgid_set;
unlock:
	mutex_unlock(&shikumi_cs.lock);
free_tmp:
	kvfree(tmp);
free_buf:
	kfree(buf);
	return ret ? ret : count;
}

static int shikumi_cs_cpus_show(struct seq_file *m, void *v)
{
	mutex_lock(&shikumi_cs.lock);
	if (shikumi_cs.any_cpu)
		seq_puts(m, "all\n");
	else
		seq_printf(m, "%*pbl\n", cpumask_pr_args(shikumi_cs.cpus));
	mutex_unlock(&shikumi_cs.lock);
	return 0;
}

static ssize_t shikumi_cs_cpus_write(struct file *file, const char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	cpumask_var_t tmp;
	bool any = false;
	char *buf;
	int ret = 0;

	buf = shikumi_cs_strndup_user(ubuf, count, PAGE_SIZE);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (!zalloc_cpumask_var(&tmp, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto free_buf;
	}
	if (shikumi_cs_normalize_list(buf)) {
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

	mutex_lock(&shikumi_cs.lock);
	if (shikumi_cs.on) {
		ret = -EBUSY;
	} else {
		shikumi_cs.any_cpu = any;
		cpumask_copy(shikumi_cs.cpus, tmp);
	}
	mutex_unlock(&shikumi_cs.lock);
free_tmp:
	free_cpumask_var(tmp);
free_buf:
	kfree(buf);
	return ret ? ret : count;
}

static int shikumi_cs_stats_show(struct seq_file *m, void *v)
{
	u64 written = 0, dropped = 0, lost = 0;
	unsigned int cpu;

	seq_printf(m, "enabled %d\n", READ_ONCE(shikumi_cs.on));
	seq_printf(m, "reader %d\n", READ_ONCE(shikumi_cs.reader));
	seq_printf(m, "session %u\n", READ_ONCE(shikumi_cs.gen));
	seq_printf(m, "nr_events %u\n", shikumi_cs.nr);
	seq_printf(m, "record_bytes %zu\n", sizeof(struct shikumi_cs_rec));
	seq_printf(m, "rings %u\n", READ_ONCE(shikumi_cs.nr_rings));
	seq_printf(m, "memory_bytes %zu\n",
		   (size_t)READ_ONCE(shikumi_cs.nr_rings) * shikumi_cs.nr *
		   sizeof(struct shikumi_cs_rec) +
		   (shikumi_cs.pids ? 2 * BITS_TO_LONGS(PID_MAX_LIMIT) *
		    sizeof(long) : 0));
	for_each_possible_cpu(cpu) {
		struct shikumi_cs_ring *ring = per_cpu_ptr(shikumi_cs.rings, cpu);

		written += READ_ONCE(ring->written);
		dropped += READ_ONCE(ring->dropped);
		lost += READ_ONCE(ring->lost_records);
	}
	seq_printf(m, "written %llu\n", written);
	seq_printf(m, "dropped %llu\n", dropped);
	seq_printf(m, "lost_records %llu\n", lost);
	for_each_possible_cpu(cpu) {
		struct shikumi_cs_ring *ring = per_cpu_ptr(shikumi_cs.rings, cpu);

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
#define SHIKUMI_CS_CTL_FILE(name, writer)					\
static int shikumi_cs_##name##_open(struct inode *inode, struct file *file)	\
{										\
	if (!perfmon_capable())							\
		return -EPERM;							\
	return single_open(file, shikumi_cs_##name##_show, inode->i_private);	\
}										\
const struct file_operations shikumi_cs_##name##_fops = {			\
	.owner		= THIS_MODULE,						\
	.open		= shikumi_cs_##name##_open,				\
	.read		= seq_read,						\
	.write		= writer,						\
	.llseek		= seq_lseek,						\
	.release	= single_release,					\
}

SHIKUMI_CS_CTL_FILE(enable, shikumi_cs_enable_write);
SHIKUMI_CS_CTL_FILE(follow, shikumi_cs_follow_write);
SHIKUMI_CS_CTL_FILE(ids, shikumi_cs_ids_write);
SHIKUMI_CS_CTL_FILE(cpus, shikumi_cs_cpus_write);
SHIKUMI_CS_CTL_FILE(stats, NULL);
