// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_cstrace: reading the rings, one reader at a time: trace_pipe
 * (text) and trace_raw (records), with poll().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <uapi/shikumi/cstrace.h>

#include "cstrace.h"

/* ------------------------------------------------------------------ */
/* Reading: one reader at a time, consuming                             */
/* ------------------------------------------------------------------ */

/*
 * A reader's bounce buffer: records are taken from the rings into it
 * under read_lock, and copied to the user after, so that a reader whose
 * buffer faults slowly never holds the lock a new session takes.  What
 * the user did not take yet waits there for the next read.
 */
#define SHIKUMI_CS_READ_BUF		(64 * 1024)
#define SHIKUMI_CS_LINE_MAX		256

struct shikumi_cs_reader {
	unsigned int gen;		/* the session of @buf */
	unsigned int next_cpu;		/* trace_raw: where to start */
	size_t len, off;		/* @buf's bytes, and those taken */
	char buf[SHIKUMI_CS_READ_BUF];
};

static unsigned long shikumi_cs_ring_fill(struct shikumi_cs_ring *ring)
{
	/* pairs with the producer's release: the records are complete */
	return smp_load_acquire(&ring->head) - READ_ONCE(ring->tail);
}

static bool shikumi_cs_has_data(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		if (shikumi_cs_ring_fill(per_cpu_ptr(shikumi_cs.rings, cpu)))
			return true;
	return false;
}

/*
 * Wait for records: 1 when there may be some, 0 at the end of the trace
 * (tracing is off and every ring is empty), or an error.
 */
static int shikumi_cs_wait(struct file *file)
{
	long ret;

	/* pairs with shikumi_cs_stop(): once off, every record is visible */
	if (!smp_load_acquire(&shikumi_cs.on))
		return shikumi_cs_has_data();
	if (file->f_flags & O_NONBLOCK)
		return -EAGAIN;
	WRITE_ONCE(shikumi_cs.reader_waiting, true);
	/*
	 * Pairs with shikumi_cs_commit(): either the probe sees
	 * reader_waiting, or we see its record in shikumi_cs_has_data().
	 */
	smp_mb();
	/* the irq_work wakes us at half a ring; otherwise look every 100 ms */
	ret = wait_event_interruptible_timeout(shikumi_cs.wait,
					       shikumi_cs_has_data() ||
					       !READ_ONCE(shikumi_cs.on), HZ / 10);
	WRITE_ONCE(shikumi_cs.reader_waiting, false);
	return ret < 0 ? ret : 1;
}

static int shikumi_cs_reader_open(struct inode *inode, struct file *file)
{
	struct shikumi_cs_reader *rd;
	int ret = 0;

	if (!perfmon_capable())
		return -EPERM;
	rd = kvzalloc(sizeof(*rd), GFP_KERNEL);
	if (!rd)
		return -ENOMEM;

	mutex_lock(&shikumi_cs.lock);
	if (shikumi_cs.reader)
		ret = -EBUSY;
	else
		shikumi_cs.reader = true;
	mutex_unlock(&shikumi_cs.lock);
	if (ret) {
		kvfree(rd);
		return ret;
	}
	rd->gen = shikumi_cs.gen;
	file->private_data = rd;
	return stream_open(inode, file);
}

static int shikumi_cs_reader_release(struct inode *inode, struct file *file)
{
	mutex_lock(&shikumi_cs.lock);
	shikumi_cs.reader = false;
	WRITE_ONCE(shikumi_cs.poll_waiting, false);
	mutex_unlock(&shikumi_cs.lock);
	kvfree(file->private_data);
	return 0;
}

/* trace_raw: take whole records from each CPU in turn, up to @max bytes */
static size_t shikumi_cs_raw_take(struct shikumi_cs_reader *rd, size_t max)
{
	const size_t rsz = sizeof(struct shikumi_cs_rec);
	unsigned int i, cpu = rd->next_cpu;
	size_t done = 0;

	for (i = 0; i < nr_cpu_ids && max - done >= rsz; i++) {
		struct shikumi_cs_ring *ring;
		unsigned long tail, n, idx, seg;

		cpu = cpumask_next(cpu, cpu_possible_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_possible_mask);
		ring = per_cpu_ptr(shikumi_cs.rings, cpu);
		tail = ring->tail;
		n = min_t(unsigned long, shikumi_cs_ring_fill(ring), (max - done) / rsz);
		while (n) {
			idx = tail & (shikumi_cs.nr - 1);
			seg = min_t(unsigned long, n, shikumi_cs.nr - idx);
			memcpy(rd->buf + done, &ring->recs[idx], seg * rsz);
			done += seg * rsz;
			tail += seg;
			n -= seg;
		}
		/* hand the slots back to the producer */
		smp_store_release(&ring->tail, tail);
	}
	rd->next_cpu = cpu;
	return done;
}

/*
 * Refill the bounce buffer if it is empty, with @take, under read_lock;
 * what a session before this one left in it is dropped.  Returns the
 * bytes waiting in it, or an error.
 */
static ssize_t shikumi_cs_refill(struct shikumi_cs_reader *rd, size_t want,
				 size_t (*take)(struct shikumi_cs_reader *rd, size_t max))
{
	if (mutex_lock_interruptible(&shikumi_cs.read_lock))
		return -ERESTARTSYS;
	if (rd->gen != shikumi_cs.gen) {
		rd->gen = shikumi_cs.gen;
		rd->len = 0;
		rd->off = 0;
	}
	if (rd->off == rd->len) {
		rd->off = 0;
		rd->len = take(rd, min_t(size_t, want, SHIKUMI_CS_READ_BUF));
	}
	mutex_unlock(&shikumi_cs.read_lock);
	return rd->len - rd->off;
}

/*
 * Read through the bounce buffer: copy out what waits in it (for
 * trace_raw, whole records only), else wait for records.
 */
static ssize_t shikumi_cs_read(struct file *file, char __user *ubuf, size_t count,
			       size_t unit,
			       size_t (*take)(struct shikumi_cs_reader *rd, size_t max))
{
	struct shikumi_cs_reader *rd = file->private_data;
	ssize_t ret;
	size_t n;

	/* a reader that reads is not polling */
	WRITE_ONCE(shikumi_cs.poll_waiting, false);
	for (;;) {
		ret = shikumi_cs_refill(rd, count, take);
		if (ret < 0)
			return ret;
		if (ret) {
			n = min_t(size_t, count, ret) / unit * unit;
			if (copy_to_user(ubuf, rd->buf + rd->off, n))
				return -EFAULT;
			rd->off += n;
			return n;
		}
		ret = shikumi_cs_wait(file);
		if (ret <= 0)
			return ret;
	}
}

static ssize_t shikumi_cs_raw_read(struct file *file, char __user *ubuf, size_t count,
				   loff_t *ppos)
{
	if (count < sizeof(struct shikumi_cs_rec))
		return -EINVAL;
	return shikumi_cs_read(file, ubuf, count, sizeof(struct shikumi_cs_rec),
			       shikumi_cs_raw_take);
}

/* one record as ftrace's trace_pipe shows it, at @line: its length */
static int shikumi_cs_format(char *line, const struct shikumi_cs_rec *r)
{
	static const char states[] = SHIKUMI_CS_STATE_CHARS;
	u64 ns = r->ts_ns;
	u32 rem = do_div(ns, NSEC_PER_SEC);
	int n;

	/* as in ftrace: the task that was running, prev or the waker */
	if (r->type == SHIKUMI_CS_SWITCH)
		n = scnprintf(line, SHIKUMI_CS_LINE_MAX, "%16s-%-7d",
			      r->prev_comm, r->prev_pid);
	else if (r->type == SHIKUMI_CS_LOST || r->type == SHIKUMI_CS_MIGRATE)
		n = scnprintf(line, SHIKUMI_CS_LINE_MAX, "%16s-%-7s", "", "");
	else
		n = scnprintf(line, SHIKUMI_CS_LINE_MAX, "%16s-%-7d",
			      r->next_comm, r->next_pid);
	n += scnprintf(line + n, SHIKUMI_CS_LINE_MAX - n,
		       " [%03u] %6llu.%09u: ", r->cpu, ns, rem);

	switch (r->type) {
	case SHIKUMI_CS_SWITCH:
		n += scnprintf(line + n, SHIKUMI_CS_LINE_MAX - n,
			       "sched_switch: prev_comm=%s prev_pid=%d prev_tgid=%d prev_prio=%d prev_state=%c%s ==> next_comm=%s next_pid=%d next_tgid=%d next_prio=%d\n",
			       r->prev_comm, r->prev_pid, r->prev_tgid,
			       r->prev_prio,
			       r->prev_state < sizeof(states) - 1 ?
			       states[r->prev_state] : '?',
			       r->flags & SHIKUMI_CS_F_PREEMPT ? "+" : "",
			       r->next_comm, r->next_pid, r->next_tgid,
			       r->next_prio);
		break;
	case SHIKUMI_CS_WAKEUP:
	case SHIKUMI_CS_WAKEUP_NEW:
		n += scnprintf(line + n, SHIKUMI_CS_LINE_MAX - n,
			       "%s: comm=%s pid=%d tgid=%d prio=%d target_cpu=%03u\n",
			       r->type == SHIKUMI_CS_WAKEUP ? "sched_wakeup" :
			       "sched_wakeup_new", r->prev_comm, r->prev_pid,
			       r->prev_tgid, r->prev_prio, r->cpu_to);
		break;
	case SHIKUMI_CS_MIGRATE:
		n += scnprintf(line + n, SHIKUMI_CS_LINE_MAX - n,
			       "sched_migrate_task: comm=%s pid=%d tgid=%d prio=%d orig_cpu=%u dest_cpu=%u\n",
			       r->prev_comm, r->prev_pid, r->prev_tgid,
			       r->prev_prio, r->cpu_from, r->cpu_to);
		break;
	default:
		n += scnprintf(line + n, SHIKUMI_CS_LINE_MAX - n,
			       "LOST %llu events: CPU %u's ring was full\n",
			       (unsigned long long)r->lost, r->cpu);
		break;
	}
	return n;
}

/* trace_pipe: the oldest record of all CPUs, formatted at @line; 0 if none */
static int shikumi_cs_text_next(char *line)
{
	struct shikumi_cs_ring *ring, *oldest = NULL;
	const struct shikumi_cs_rec *r, *first = NULL;
	unsigned int cpu;
	int n;

	for_each_possible_cpu(cpu) {
		ring = per_cpu_ptr(shikumi_cs.rings, cpu);
		if (!shikumi_cs_ring_fill(ring))
			continue;
		r = &ring->recs[ring->tail & (shikumi_cs.nr - 1)];
		if (!first || r->ts_ns < first->ts_ns) {
			first = r;
			oldest = ring;
		}
	}
	if (!first)
		return 0;
	n = shikumi_cs_format(line, first);
	/* the slot is read: the producer may reuse it */
	smp_store_release(&oldest->tail, oldest->tail + 1);
	return n;
}

/* trace_pipe: whole lines, oldest first, up to @max bytes (one at least) */
static size_t shikumi_cs_text_take(struct shikumi_cs_reader *rd, size_t max)
{
	size_t done = 0;
	int n;

	while ((!done || max - done >= SHIKUMI_CS_LINE_MAX) &&
	       SHIKUMI_CS_READ_BUF - done >= SHIKUMI_CS_LINE_MAX) {
		n = shikumi_cs_text_next(rd->buf + done);
		if (!n)
			break;
		done += n;
	}
	return done;
}

static ssize_t shikumi_cs_text_read(struct file *file, char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	/* a read of nothing takes no line out of the rings */
	if (!count)
		return 0;
	return shikumi_cs_read(file, ubuf, count, 1, shikumi_cs_text_take);
}

/*
 * Readable when records wait; end of file (EPOLLHUP) once tracing is off
 * and all are read, where read() returns 0.
 */
static __poll_t shikumi_cs_reader_poll(struct file *file, poll_table *wait)
{
	struct shikumi_cs_reader *rd = file->private_data;

	poll_wait(file, &shikumi_cs.wait, wait);
	WRITE_ONCE(shikumi_cs.poll_waiting, true);
	/* pairs with shikumi_cs_commit(): it sees poll_waiting, or we its record */
	smp_mb();
	if (READ_ONCE(rd->off) != READ_ONCE(rd->len) || shikumi_cs_has_data())
		return EPOLLIN | EPOLLRDNORM;
	/* pairs with shikumi_cs_stop(): once off, every record is visible */
	if (!smp_load_acquire(&shikumi_cs.on))
		return shikumi_cs_has_data() ? EPOLLIN | EPOLLRDNORM : EPOLLHUP;
	return 0;
}

const struct file_operations shikumi_cs_raw_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_cs_reader_open,
	.read		= shikumi_cs_raw_read,
	.poll		= shikumi_cs_reader_poll,
	.release	= shikumi_cs_reader_release,
	.llseek		= noop_llseek,
};

const struct file_operations shikumi_cs_text_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_cs_reader_open,
	.read		= shikumi_cs_text_read,
	.poll		= shikumi_cs_reader_poll,
	.release	= shikumi_cs_reader_release,
	.llseek		= noop_llseek,
};
