// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: the accounting of each completed request, and the
 * debugfs files that show it (stats, trace and trace_raw).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <shikumi/debugfs.h>
#include <uapi/shikumi/ramdisk.h>

#include "ramdisk.h"

static const char * const shikumi_rd_op_names[] = SHIKUMI_BLK_OP_NAMES;
static const char * const shikumi_rd_flag_names[SHIKUMI_BLK_NR_FLAGS] = SHIKUMI_BLK_FLAG_NAMES;

/* ------------------------------------------------------------------ */
/* Statistics and trace                                                 */
/* ------------------------------------------------------------------ */

static unsigned int shikumi_rd_hist_bucket(u64 lat_ns)
{
	u64 us = div_u64(lat_ns, NSEC_PER_USEC);

	return min_t(unsigned int, fls64(us), SHIKUMI_BLK_HIST_BUCKETS - 1);
}

/*
 * Account for a request that has finished, on this CPU's statistics: no
 * lock, and this_cpu_*() are safe against the timer's completions.
 */
void shikumi_rd_account(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd,
			u64 now)
{
	struct shikumi_rd_req_stats __percpu *st = rd->req_stats;
	u64 lat = now - cmd->queued_ns;

	this_cpu_inc(st->op[cmd->op].count);
	this_cpu_add(st->op[cmd->op].bytes, cmd->bytes);
	this_cpu_add(st->op[cmd->op].lat_ns, lat);
	this_cpu_inc(st->op[cmd->op].hist[shikumi_rd_hist_bucket(lat)]);
	this_cpu_inc(st->completed);
	if (cmd->status != BLK_STS_OK)
		this_cpu_inc(st->errors);
}

/*
 * Trace a request that has finished, in the ring of the hardware queue
 * that took it (ring.c): the ram path takes no lock of the disk's.
 */
void shikumi_rd_trace(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd,
		      u64 now)
{
	struct shikumi_rd_ring *ring = &rd->queues[cmd->queue].ring;
	struct shikumi_blk_trace *t;
	unsigned long flags;

	spin_lock_irqsave(&ring->lock, flags);
	t = shikumi_rd_ring_slot(ring);
	if (t) {
		*t = (struct shikumi_blk_trace) {
			.seq		= t->seq,
			.queued_ns	= cmd->queued_ns,
			.dispatched_ns	= cmd->dispatched_ns,
			.completed_ns	= now,
			.sector		= cmd->sector,
			.head		= cmd->head,
			.bytes		= cmd->bytes,
			.op		= cmd->op,
			.model		= cmd->model,
			.policy		= cmd->policy,
			.error		= -blk_status_to_errno(cmd->status),
			.merged		= cmd->merged,
			.pid		= cmd->pid,
			.flags		= cmd->flags,
		};
		memcpy(t->comm, cmd->comm, sizeof(t->comm));
	}
	spin_unlock_irqrestore(&ring->lock, flags);
}

/*
 * Every CPU's request statistics, summed into @sum.  A CPU may be adding
 * as we read: each counter is read whole (64 bits), the set is not a
 * snapshot.
 */
void shikumi_rd_req_sum(struct shikumi_rd *rd, struct shikumi_rd_req_stats *sum)
{
	u64 *out = (u64 *)sum;
	unsigned int cpu, i;

	BUILD_BUG_ON(sizeof(*sum) % sizeof(u64));
	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		const u64 *c = (const u64 *)per_cpu_ptr(rd->req_stats, cpu);

		for (i = 0; i < sizeof(*sum) / sizeof(u64); i++)
			out[i] += READ_ONCE(c[i]);
	}
}

/* @sum less what it was at the last reset.  rd->lock held. */
static void shikumi_rd_req_since_reset(struct shikumi_rd *rd,
				       struct shikumi_rd_req_stats *sum)
{
	const u64 *base = (const u64 *)&rd->req_base;
	u64 *out = (u64 *)sum;
	unsigned int i;

	for (i = 0; i < sizeof(*sum) / sizeof(u64); i++)
		out[i] -= base[i];
}

/* ------------------------------------------------------------------ */
/* debugfs: /sys/kernel/debug/shikumi/shikumi-ramN/                     */
/* ------------------------------------------------------------------ */

static int shikumi_rd_stats_show(struct seq_file *m, void *unused)
{
	struct shikumi_rd *rd = m->private;
	struct shikumi_rd_req_stats *r;
	struct shikumi_rd_stats *s;
	u64 records, dropped;
	unsigned int i, b;
	s64 in_driver;
	sector_t head;
	u8 model, policy, wc_flags;

	s = kmalloc(sizeof(*s), GFP_KERNEL);
	r = kmalloc(sizeof(*r), GFP_KERNEL);
	if (!s || !r) {
		kfree(s);
		kfree(r);
		return -ENOMEM;
	}
	shikumi_rd_rings_count(rd, &records, &dropped);
	/* under rd->lock: no reset between the sums and the base */
	spin_lock_irq(&rd->lock);
	shikumi_rd_req_sum(rd, r);
	/* taken in and not completed yet: counted in full, not since reset */
	in_driver = max_t(s64, 0, (s64)(r->submitted - r->completed));
	shikumi_rd_req_since_reset(rd, r);
	*s = rd->stats;
	head = rd->head;
	model = rd->model;
	policy = rd->policy;
	spin_unlock_irq(&rd->lock);
	wc_flags = READ_ONCE(rd->wc_flags);

	seq_printf(m, "model %s\npolicy %s\n", shikumi_rd_model_names[model],
		   shikumi_rd_policy_names[policy]);
	seq_printf(m, "submitted %llu\ncompleted %llu\nin_driver %lld\n",
		   r->submitted, r->completed, in_driver);
	seq_printf(m, "errors %llu\nmerged %llu\nhead_travel %llu\nhead %llu\n",
		   r->errors, r->merged, s->head_travel, (u64)head);
	seq_printf(m, "trace_records %llu\ntrace_dropped %llu\ntrace_record_bytes %zu\n",
		   records, dropped, sizeof(struct shikumi_blk_trace));
	for (i = 0; i < SHIKUMI_RD_NR_OPS; i++) {
		const struct shikumi_rd_opstats *os = &r->op[i];
		const char *name = shikumi_rd_op_names[i];

		seq_printf(m, "%s.count %llu\n%s.bytes %llu\n%s.lat_ns %llu\n",
			   name, os->count, name, os->bytes, name, os->lat_ns);
		seq_printf(m, "%s.lat_hist", name);
		for (b = 0; b < SHIKUMI_BLK_HIST_BUCKETS; b++)
			seq_printf(m, " %llu", os->hist[b]);
		seq_putc(m, '\n');
	}
	seq_printf(m, "write_cache %d\nwrite_cache_kb %u\npower_off %d\n",
		   !!(wc_flags & SHIKUMI_RD_WC_ON), READ_ONCE(rd->wc_kb),
		   !!(wc_flags & SHIKUMI_RD_POWER_OFF));
	seq_printf(m, "cache_flushes %llu\ncache_fua_writes %llu\ncache_destages %llu\n",
		   s->cache_flushes, s->cache_fua_writes, s->cache_destages);
	seq_printf(m, "cache_log_pages %lu\npower_cuts %llu\n",
		   READ_ONCE(rd->wc_pages), s->power_cuts);
	seq_printf(m, "cut_sectors_dropped %llu\ncut_sectors_kept %llu\ncut_last_seed %llu\n",
		   s->cut_dropped, s->cut_kept, READ_ONCE(rd->wc_last_seed));
	seq_printf(m, "deferred %llu\n", r->deferred);
	kfree(r);
	kfree(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shikumi_rd_stats);

/*
 * Readers copy the oldest records (ring.c's peek), copy them to the user,
 * then take them out (consume): only readers take records out, one at a
 * time under trace_read_lock, and full rings drop new records, so the
 * records peeked are still the oldest when the copy is done, unless a
 * reset came between.  No control waits for trace_read_lock: a reader
 * stalled in a fault on its buffer holds up other readers only, and they
 * wait for it interruptibly.
 */
#define SHIKUMI_RD_TRACE_CHUNK	64

/* trace_raw: whole struct shikumi_blk_trace records, consumed as read. */
static ssize_t shikumi_rd_trace_raw_read(struct file *file, char __user *ubuf,
					 size_t count, loff_t *ppos)
{
	struct shikumi_rd *rd = file->private_data;
	size_t want = count / sizeof(struct shikumi_blk_trace), done = 0;
	struct shikumi_blk_trace *buf;
	struct shikumi_rd_peek *pk;
	ssize_t ret = -ENOMEM;

	if (count && !want)
		return -EINVAL;
	buf = kmalloc_array(SHIKUMI_RD_TRACE_CHUNK, sizeof(*buf), GFP_KERNEL);
	pk = shikumi_rd_peek_alloc(rd);
	if (!buf || !pk)
		goto free;
	ret = -ERESTARTSYS;
	if (mutex_lock_interruptible(&rd->trace_read_lock))
		goto free;
	ret = 0;
	while (done < want) {
		unsigned int n = shikumi_rd_rings_peek(rd, buf,
						       min_t(size_t, want - done,
							     SHIKUMI_RD_TRACE_CHUNK),
						       pk);

		if (!n)
			break;
		if (copy_to_user(ubuf + done * sizeof(*buf), buf, n * sizeof(*buf))) {
			ret = -EFAULT;
			break;
		}
		shikumi_rd_rings_consume(rd, pk);
		done += n;
		if (fatal_signal_pending(current))
			break;
	}
	mutex_unlock(&rd->trace_read_lock);
free:
	kfree(pk);
	kfree(buf);
	if (!done)
		return ret;
	*ppos += done * sizeof(*buf);
	return done * sizeof(*buf);
}

/* "sync,meta", or "-" for none */
static int shikumi_rd_flags_format(char *buf, size_t size, u32 flags)
{
	int i, n = 0;

	for (i = 0; i < SHIKUMI_BLK_NR_FLAGS; i++)
		if (flags & BIT(i))
			n += scnprintf(buf + n, size - n, "%s%s", n ? "," : "",
				       shikumi_rd_flag_names[i]);
	return n ?: scnprintf(buf, size, "-");
}

/* The task's name is last: it may hold spaces. */
static int shikumi_rd_trace_format(char *line, size_t size, loff_t pos,
				   const struct shikumi_blk_trace *t)
{
	char flags[128];
	int n = 0;

	if (!pos)
		n = scnprintf(line, size,
			      "# seq queued_ns dispatched_ns completed_ns op sector bytes head model policy error merged pid flags comm\n");
	shikumi_rd_flags_format(flags, sizeof(flags), t->flags);
	return n + scnprintf(line + n, size - n,
			     "%llu %llu %llu %llu %s %llu %u %llu %s %s %u %u %d %s %.*s\n",
			     t->seq, t->queued_ns, t->dispatched_ns, t->completed_ns,
			     shikumi_rd_op_names[t->op], t->sector, t->bytes,
			     t->head, shikumi_rd_model_names[t->model],
			     shikumi_rd_policy_names[t->policy], t->error, t->merged,
			     t->pid, flags, (int)sizeof(t->comm), t->comm);
}

/* the header and one record: 20-digit numbers, every flag, the name */
#define SHIKUMI_RD_TRACE_LINE	512

/* trace: one line per record, consumed as read; whole lines only. */
static ssize_t shikumi_rd_trace_read(struct file *file, char __user *ubuf,
				     size_t count, loff_t *ppos)
{
	struct shikumi_rd *rd = file->private_data;
	struct shikumi_rd_peek *pk;
	struct shikumi_blk_trace t;
	ssize_t ret = -ENOMEM;
	size_t done = 0;
	char *line;
	int len;

	line = kmalloc(SHIKUMI_RD_TRACE_LINE, GFP_KERNEL);
	pk = shikumi_rd_peek_alloc(rd);
	if (!line || !pk)
		goto free;
	ret = -ERESTARTSYS;
	if (mutex_lock_interruptible(&rd->trace_read_lock))
		goto free;
	ret = 0;
	while (shikumi_rd_rings_peek(rd, &t, 1, pk)) {
		len = shikumi_rd_trace_format(line, SHIKUMI_RD_TRACE_LINE, *ppos, &t);
		if (len > count - done) {
			if (!done)
				ret = -EINVAL;
			break;
		}
		if (copy_to_user(ubuf + done, line, len)) {
			ret = -EFAULT;
			break;
		}
		shikumi_rd_rings_consume(rd, pk);
		done += len;
		*ppos += len;
		if (fatal_signal_pending(current))
			break;
	}
	mutex_unlock(&rd->trace_read_lock);
free:
	kfree(pk);
	kfree(line);
	return done ?: ret;
}

/*
 * Reading the trace consumes it, and it shows every request: blktrace's
 * capability, not only root's file mode.
 */
static int shikumi_rd_trace_open(struct inode *inode, struct file *file)
{
	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	return simple_open(inode, file);
}

static const struct file_operations shikumi_rd_trace_raw_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_rd_trace_open,
	.read		= shikumi_rd_trace_raw_read,
	.llseek		= noop_llseek,
};

static const struct file_operations shikumi_rd_trace_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_rd_trace_open,
	.read		= shikumi_rd_trace_read,
	.llseek		= noop_llseek,
};

/*
 * queues: one line per hardware queue, "N served COUNT": the requests its
 * ->queue_rq() took since load (the reset does not touch them).  Which
 * CPUs feed queue N is the kernel's map: /sys/block/NAME/mq/N/cpu_list.
 */
static int shikumi_rd_queues_show(struct seq_file *m, void *unused)
{
	struct shikumi_rd *rd = m->private;
	unsigned int i;

	for (i = 0; i < READ_ONCE(rd->nr_queues); i++)
		seq_printf(m, "%u served %lld\n", i,
			   (s64)atomic64_read(&rd->queues[i].served));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shikumi_rd_queues);

/* /sys/kernel/debug/shikumi/ is shared: see <shikumi/debugfs.h> */
void shikumi_rd_debugfs_add(struct shikumi_rd *rd)
{
	rd->debugfs = shikumi_debugfs_create_dir(rd->disk->disk_name);
	debugfs_create_file("stats", 0400, rd->debugfs, rd, &shikumi_rd_stats_fops);
	debugfs_create_file("queues", 0400, rd->debugfs, rd, &shikumi_rd_queues_fops);
	debugfs_create_file("trace", 0400, rd->debugfs, rd, &shikumi_rd_trace_fops);
	debugfs_create_file("trace_raw", 0400, rd->debugfs, rd,
			    &shikumi_rd_trace_raw_fops);
}
