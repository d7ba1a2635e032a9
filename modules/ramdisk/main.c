// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: a blk-mq RAM disk that can behave like an HDD or an SSD
 * (chapters 6 and 9 of the book).
 *
 * Unlike brd, which takes bios directly and so bypasses every I/O
 * scheduler, this disk is a blk-mq driver: requests reach ->queue_rq()
 * after the stock elevators (none, mq-deadline, bfq, kyber), which stay
 * selectable in /sys/block/shikumi-ramN/queue/scheduler.
 *
 * Storage is an xarray of pages, indexed by page number, allocated on the
 * first write and freed by discard, write-zeroes and unload.  A read of a
 * page never written returns zeroes.
 *
 * ->queue_rq() never sleeps (no BLK_MQ_F_BLOCKING): a first write
 * allocates with GFP_NOWAIT.  If that fails, or the write cache's lock is
 * taken or its log must be walked (cache.c), the request is deferred: a
 * work item on kblockd, the block layer's WQ_MEM_RECLAIM workqueue (this
 * is the I/O path, swap may be on this disk), moves the data again, whole,
 * with GFP_NOIO, and
 * completes the request as ->queue_rq() would have (shikumi_rd_defer_fn()).
 * A REQ_NOWAIT request is never deferred: it fails with BLK_STS_AGAIN,
 * as brd's does.
 * Pages are freed through RCU: a copy runs under rcu_read_lock(), so a
 * discard racing with a read or write of the same page never frees memory
 * that is still being copied.
 *
 * Service models.  ->queue_rq() (or the work item) always moves the data
 * at once; a model only decides when the request completes:
 *
 *  ram	complete in ->queue_rq(), the performance path;
 *  ssd	a fixed latency plus transfer at a bandwidth, on N channels;
 *  hdd	one head over one platter spanning the disk: a seek (settle time
 *	plus a term growing in proportion to the distance, up to the full
 *	stroke's time), the
 *	rotational delay until the first sector comes under the head at the
 *	set RPM, and the transfer at the media rate.  The platter's angle is
 *	a function of time, so back-to-back sequential requests stream
 *	while a gap costs a revolution, as on a real disk.
 *
 * Under ssd and hdd, requests wait in the driver's own queue until the
 * model has a free channel (the hdd has one), and a policy picks which one
 * is served next: fifo, sstf, clook or deadline.  That is an I/O scheduler
 * inside the driver: a loadable elevator cannot be built against distro
 * headers.  An hrtimer completes each request when the model says it is
 * done and starts the next one.
 *
 * A volatile write cache with power cuts (chapters 7 and 9), off by
 * default, is modelled in cache.c.
 *
 * Every completed request is recorded in a trace buffer and in the
 * statistics, both read through debugfs; see
 * include/uapi/shikumi/ramdisk.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/math.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <shikumi/compat/blk.h>
#include <shikumi/compat/time.h>
#include <shikumi/debugfs.h>
#include <shikumi/param.h>
#include <uapi/shikumi/ramdisk.h>

#include "ramdisk.h"

/* ------------------------------------------------------------------ */
/* Module parameters                                                    */
/* ------------------------------------------------------------------ */

/* bounds checked on load: SHIKUMI_PARAM_OPS_UINT() of <shikumi/param.h> */
static unsigned int shikumi_rd_nr_disks = 1;
SHIKUMI_PARAM_OPS_UINT(shikumi_rd_nr_disks, 1, SHIKUMI_RD_MAX_DISKS);
module_param_cb(nr_disks, &shikumi_rd_nr_disks_ops, &shikumi_rd_nr_disks, 0444);
MODULE_PARM_DESC(nr_disks, "Number of disks, 1-16. Default: 1");

static unsigned int shikumi_rd_size_mb = 256;
SHIKUMI_PARAM_OPS_UINT(shikumi_rd_size_mb, 1, SHIKUMI_RD_MAX_SIZE_MB);
module_param_cb(size_mb, &shikumi_rd_size_mb_ops, &shikumi_rd_size_mb, 0444);
MODULE_PARM_DESC(size_mb, "Size of each disk in MiB, 1-65536. Default: 256");

static unsigned int shikumi_rd_queue_depth = 128;
SHIKUMI_PARAM_OPS_UINT(shikumi_rd_queue_depth, 1, BLK_MQ_MAX_DEPTH);
module_param_cb(queue_depth, &shikumi_rd_queue_depth_ops, &shikumi_rd_queue_depth, 0444);
MODULE_PARM_DESC(queue_depth, "Device queue depth (tags), 1-10240. Default: 128");

/* 0: one per possible CPU, as null_blk's submit_queues */
static unsigned int shikumi_rd_nr_hw_queues;
SHIKUMI_PARAM_OPS_UINT(shikumi_rd_nr_hw_queues, 0, SHIKUMI_RD_MAX_HW_QUEUES);
module_param_cb(nr_hw_queues, &shikumi_rd_nr_hw_queues_ops, &shikumi_rd_nr_hw_queues, 0444);
MODULE_PARM_DESC(nr_hw_queues,
		 "Hardware queues of each disk, 1-64, 0: one per possible CPU. Default: 0");

static unsigned int shikumi_rd_trace_entries = 65536;
SHIKUMI_PARAM_OPS_UINT(shikumi_rd_trace_entries, SHIKUMI_RD_TRACE_MIN, SHIKUMI_RD_TRACE_MAX);
module_param_cb(trace_entries, &shikumi_rd_trace_entries_ops, &shikumi_rd_trace_entries, 0444);
MODULE_PARM_DESC(trace_entries,
		 "Trace buffer of each disk, in requests, 16-4194304. Default: 65536");

/* ------------------------------------------------------------------ */
/* State                                                                */
/* ------------------------------------------------------------------ */

/*
 * The default HDD is a 15000 RPM disk whose platter is this disk, on a
 * SATA link: random 4K writes over a few MiB land in the book's 300-470
 * IOPS, and seeks across the disk cost enough that scheduling matters.
 */
static const struct shikumi_rd_params shikumi_rd_default_params = {
	.hdd_rpm			= 15000,
	.hdd_settle_us			= 100,
	.hdd_full_seek_us		= 15000,
	.hdd_media_mbps			= 120,
	.hdd_cache_kb			= 1024,
	.hdd_iface_mbps			= 600,
	.ssd_latency_us			= 20,
	.ssd_channel_mbps		= 500,
	.ssd_channels			= 4,
	.deadline_read_expire_ms	= 500,
	.deadline_write_expire_ms	= 5000,
	.deadline_fifo_batch		= 16,
	.deadline_writes_starved	= 2,
};

static int shikumi_rd_major;
static struct shikumi_rd *shikumi_rd_disks;

/* ------------------------------------------------------------------ */
/* Storage                                                              */
/* ------------------------------------------------------------------ */

/*
 * The page holding @sector, allocated with @gfp if it has none (0: not
 * allocated); NULL if absent or no memory.
 */
static struct page *shikumi_rd_page(struct shikumi_rd *rd, sector_t sector,
				    gfp_t gfp)
{
	pgoff_t idx = sector / SHIKUMI_RD_SECTORS_PER_PAGE;
	struct page *page, *cur;

	page = xa_load(&rd->pages, idx);
	if (page || !gfp)
		return page;

	page = alloc_page(gfp | __GFP_ZERO | __GFP_NOWARN);
	if (!page)
		return NULL;
	cur = xa_cmpxchg(&rd->pages, idx, NULL, page, gfp | __GFP_NOWARN);
	if (cur) {
		/* lost a race with another writer, or no memory for the node */
		__free_page(page);
		return xa_is_err(cur) ? NULL : cur;
	}
	atomic_long_inc(&rd->nr_pages);
	return page;
}

static void shikumi_rd_free_page_rcu(struct rcu_head *head)
{
	__free_page(container_of(head, struct page, rcu_head));
}

/*
 * Copy one segment, never crossing a page of the disk.  A first write to a
 * page allocates it with @gfp: GFP_NOWAIT in ->queue_rq(), which then
 * fails with BLK_STS_AGAIN ("would block": the request is deferred, or
 * fails if it is REQ_NOWAIT, as brd's), or GFP_NOIO in the work item.
 */
static blk_status_t shikumi_rd_copy(struct shikumi_rd *rd, void *buf,
				    sector_t sector, unsigned int len, bool write,
				    gfp_t gfp)
{
	unsigned int off = (sector % SHIKUMI_RD_SECTORS_PER_PAGE) << SECTOR_SHIFT;
	struct page *page;
	void *mem;

	rcu_read_lock();
	page = shikumi_rd_page(rd, sector, 0);
	if (!page && write) {
		rcu_read_unlock();
		if (!shikumi_rd_page(rd, sector, gfp))
			return gfp == GFP_NOWAIT ? BLK_STS_AGAIN : BLK_STS_IOERR;
		rcu_read_lock();
		/* again: a racing discard may have taken it */
		page = shikumi_rd_page(rd, sector, 0);
	}
	if (write) {
		if (page) {
			mem = kmap_local_page(page);
			memcpy(mem + off, buf, len);
			kunmap_local(mem);
		}
	} else if (page) {
		mem = kmap_local_page(page);
		memcpy(buf, mem + off, len);
		kunmap_local(mem);
	} else {
		memset(buf, 0, len);
	}
	rcu_read_unlock();
	return BLK_STS_OK;
}

static blk_status_t shikumi_rd_rw(struct shikumi_rd *rd, struct request *rq,
				  gfp_t gfp)
{
	bool write = rq_data_dir(rq) == WRITE;
	sector_t sector = blk_rq_pos(rq);
	struct req_iterator iter;
	struct bio_vec bvec;

	rq_for_each_segment(bvec, rq, iter) {
		unsigned int done = 0;
		void *buf = bvec_kmap_local(&bvec);

		while (done < bvec.bv_len) {
			unsigned int off = (sector % SHIKUMI_RD_SECTORS_PER_PAGE) <<
					   SECTOR_SHIFT;
			unsigned int len = min_t(unsigned int, bvec.bv_len - done,
						 PAGE_SIZE - off);
			blk_status_t st;

			st = shikumi_rd_copy(rd, buf + done, sector, len, write,
					     gfp);
			if (st) {
				kunmap_local(buf);
				return st;
			}
			done += len;
			sector += len >> SECTOR_SHIFT;
		}
		if (!write)
			flush_dcache_page(bvec.bv_page);
		kunmap_local(buf);
	}
	return BLK_STS_OK;
}

/* Zero sectors [@sector, @end) of one page of the disk, if it has it. */
static void shikumi_rd_zero_part(struct shikumi_rd *rd, sector_t sector,
				 sector_t end)
{
	sector_t page_start = round_down(sector, SHIKUMI_RD_SECTORS_PER_PAGE);
	struct page *page;

	rcu_read_lock();
	page = xa_load(&rd->pages, sector / SHIKUMI_RD_SECTORS_PER_PAGE);
	if (page)
		memzero_page(page, (sector - page_start) << SECTOR_SHIFT,
			     (end - sector) << SECTOR_SHIFT);
	rcu_read_unlock();
}

/*
 * Discard and write-zeroes: free every page the range covers whole, and
 * zero the covered part of the pages at its ends.  Either way a later read
 * returns zeroes.  The whole pages are those the xarray holds in the
 * range: a discard of a 64 GiB disk would otherwise look up 16 million
 * absent ones (50 s on the debug kernel under TCG).
 */
static void shikumi_rd_discard(struct shikumi_rd *rd, sector_t sector,
			       unsigned int nr_sectors)
{
	sector_t end = sector + nr_sectors;
	sector_t first = round_up(sector, SHIKUMI_RD_SECTORS_PER_PAGE);
	sector_t last = round_down(end, SHIKUMI_RD_SECTORS_PER_PAGE);
	unsigned long idx;
	struct page *page;

	/* [first, last) are the whole pages; none if the range is smaller */
	first = min(first, end);
	last = max(last, first);
	if (sector < first)
		shikumi_rd_zero_part(rd, sector, first);
	if (first < last) {
		xa_for_each_range(&rd->pages, idx, page,
				  first / SHIKUMI_RD_SECTORS_PER_PAGE,
				  last / SHIKUMI_RD_SECTORS_PER_PAGE - 1) {
			page = xa_erase(&rd->pages, idx);
			if (page) {
				atomic_long_dec(&rd->nr_pages);
				shikumi_call_rcu(&page->rcu_head,
						 shikumi_rd_free_page_rcu);
			}
		}
	}
	if (last < end)
		shikumi_rd_zero_part(rd, last, end);
}

static u8 shikumi_rd_op(const struct request *rq)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
		return SHIKUMI_BLK_OP_READ;
	case REQ_OP_WRITE:
		return SHIKUMI_BLK_OP_WRITE;
	case REQ_OP_DISCARD:
		return SHIKUMI_BLK_OP_DISCARD;
	case REQ_OP_WRITE_ZEROES:
		return SHIKUMI_BLK_OP_WRITE_ZEROES;
	default:
		return SHIKUMI_BLK_OP_FLUSH;
	}
}

/* Why @rq was sent: its REQ_* flags, as SHIKUMI_BLK_F_* */
static u32 shikumi_rd_flags(const struct request *rq)
{
	static const struct {
		blk_opf_t req;
		u32 flag;
	} map[] = {
		{ REQ_SYNC,		SHIKUMI_BLK_F_SYNC },
		{ REQ_META,		SHIKUMI_BLK_F_META },
		{ REQ_PRIO,		SHIKUMI_BLK_F_PRIO },
		{ REQ_RAHEAD,		SHIKUMI_BLK_F_READAHEAD },
		{ REQ_BACKGROUND,	SHIKUMI_BLK_F_BACKGROUND },
		{ REQ_FUA,		SHIKUMI_BLK_F_FUA },
		{ REQ_PREFLUSH,		SHIKUMI_BLK_F_PREFLUSH },
		{ REQ_SWAP,		SHIKUMI_BLK_F_SWAP },
		{ REQ_IDLE,		SHIKUMI_BLK_F_IDLE },
		{ REQ_NOWAIT,		SHIKUMI_BLK_F_NOWAIT },
	};
	u32 flags = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		if (rq->cmd_flags & map[i].req)
			flags |= map[i].flag;
	return flags;
}

/* ------------------------------------------------------------------ */
/* blk-mq                                                               */
/* ------------------------------------------------------------------ */

/*
 * Move the data of @rq, allocating with @gfp (see shikumi_rd_copy()); the
 * write cache (cache.c) calls it too.
 */
blk_status_t shikumi_rd_do(struct shikumi_rd *rd, struct request *rq, gfp_t gfp)
{
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		return shikumi_rd_rw(rd, rq, gfp);
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		shikumi_rd_discard(rd, blk_rq_pos(rq), blk_rq_sectors(rq));
		return BLK_STS_OK;
	case REQ_OP_FLUSH:
		return BLK_STS_OK;
	default:
		return BLK_STS_NOTSUPP;
	}
}

/*
 * Move the data of @rq: in ->queue_rq(), which must not sleep, or in the
 * work item, which may.  With the write cache off and the power on, one
 * branch.  BLK_STS_AGAIN from ->queue_rq(): it would have to sleep.
 */
static blk_status_t shikumi_rd_move(struct shikumi_rd *rd, struct request *rq,
				    bool may_sleep)
{
	if (unlikely(READ_ONCE(rd->wc_flags)))
		return shikumi_rd_cache_do(rd, rq, may_sleep);
	return shikumi_rd_do(rd, rq, may_sleep ? GFP_NOIO : GFP_NOWAIT);
}

/*
 * The data of @rq has moved (cmd->status says how): account for it and
 * complete it (ram, an error, no data), or give it to the model.  The
 * model cannot change under us: a switch freezes the queue, which waits
 * for every request, deferred ones too.
 *
 * The ram model counts on this CPU's statistics and traces in its
 * hardware queue's ring: no lock of the disk's.  ssd and hdd have one
 * state for the disk, the head or the channels, as a real drive has one
 * actuator and one controller: every hardware queue feeds the one queue
 * of the model in rd, under rd->lock, and the model serves them in the
 * order its policy picks.
 */
static void shikumi_rd_complete(struct shikumi_rd *rd, struct request *rq,
				struct shikumi_rd_cmd *cmd)
{
	bool inline_model = READ_ONCE(rd->model) == SHIKUMI_BLK_MODEL_RAM;
	unsigned long flags;
	LIST_HEAD(done);
	bool restart;
	u64 now;

	now = ktime_get_ns();
	this_cpu_add(rd->req_stats->merged, cmd->merged);
	if (inline_model) {
		shikumi_rd_move_head(rd, cmd, cmd->queued_ns);
		shikumi_rd_account(rd, cmd, now);
		shikumi_rd_trace(rd, cmd, now);
		blk_mq_end_request(rq, cmd->status);
		return;
	}
	spin_lock_irqsave(&rd->lock, flags);
	if (cmd->status != BLK_STS_OK ||
	    (cmd->op != SHIKUMI_BLK_OP_READ && cmd->op != SHIKUMI_BLK_OP_WRITE)) {
		shikumi_rd_move_head(rd, cmd, cmd->queued_ns);
		rd->held--;
		shikumi_rd_account(rd, cmd, now);
		shikumi_rd_trace(rd, cmd, now);
		list_add_tail(&cmd->fifo, &done);
	} else {
		shikumi_rd_enqueue(rd, cmd);
		shikumi_rd_run(rd, now, &done);
	}
	restart = shikumi_rd_room_again(rd);
	spin_unlock_irqrestore(&rd->lock, flags);
	shikumi_rd_end_all(rd, &done, restart);
}

/*
 * The work item: serve the deferred requests, each from the start (the
 * copy is idempotent, and a partly done cache write is redone as a
 * whole: its log entries are there already), then complete them as
 * ->queue_rq() would have.  The same dispatch as ->queue_rq()'s: a power
 * cut that came in between fails the request, as one submitted after it.
 *
 * Every deferred request holds its queue's usage count until it ends
 * here: a model switch (a freeze) and del_gendisk() at unload wait for
 * this function to end them all, and the disk is freed only after
 * del_gendisk() and a flush of the work item, when no request can be
 * deferred any more and the function has returned.
 */
static void shikumi_rd_defer_fn(struct work_struct *work)
{
	struct shikumi_rd *rd = container_of(work, struct shikumi_rd, defer_work);
	struct shikumi_rd_cmd *cmd, *next;
	LIST_HEAD(list);

	spin_lock_irq(&rd->lock);
	list_splice_init(&rd->deferred, &list);
	spin_unlock_irq(&rd->lock);

	list_for_each_entry_safe(cmd, next, &list, fifo) {
		struct request *rq = blk_mq_rq_from_pdu(cmd);

		list_del_init(&cmd->fifo);
		cmd->status = shikumi_rd_move(rd, rq, true);
		shikumi_rd_complete(rd, rq, cmd);
		cond_resched();
	}
}

static void shikumi_rd_defer(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd)
{
	unsigned long flags;

	this_cpu_inc(rd->req_stats->deferred);
	spin_lock_irqsave(&rd->lock, flags);
	list_add_tail(&cmd->fifo, &rd->deferred);
	spin_unlock_irqrestore(&rd->lock, flags);
	/*
	 * kblockd: the block layer's own workqueue for the I/O path
	 * (WQ_MEM_RECLAIM, with a rescuer), where blk-mq runs the queues of
	 * drivers that may sleep; a work item of ours may sleep there too.
	 */
	kblockd_schedule_work(&rd->defer_work);
}

static blk_status_t shikumi_rd_queue_rq(struct blk_mq_hw_ctx *hctx,
					const struct blk_mq_queue_data *bd)
{
	struct shikumi_rd *rd = hctx->queue->queuedata;
	struct shikumi_rd_queue *queue = hctx->driver_data;
	struct request *rq = bd->rq;
	struct shikumi_rd_cmd *cmd = blk_mq_rq_to_pdu(rq);
	unsigned long flags;
	struct bio *bio;

	/* a model switch freezes the queue, so it cannot change under us */
	if (READ_ONCE(rd->model) != SHIKUMI_BLK_MODEL_RAM) {
		spin_lock_irqsave(&rd->lock, flags);
		if (rd->held >= rd->depth) {
			/*
			 * As virtio_blk with its ring full: this queue waits,
			 * stopped, until the model has room again and starts
			 * it (shikumi_rd_room_again()), whichever queue's
			 * request made the room.
			 */
			blk_mq_stop_hw_queue(hctx);
			rd->refused = true;
			spin_unlock_irqrestore(&rd->lock, flags);
			return BLK_STS_DEV_RESOURCE;
		}
		rd->held++;
		spin_unlock_irqrestore(&rd->lock, flags);
	}
	this_cpu_inc(rd->req_stats->submitted);
	atomic64_inc(&queue->served);
	cmd->queue = queue - rd->queues;

	blk_mq_start_request(rq);
	cmd->queued_ns = ktime_get_ns();
	cmd->sector = blk_rq_pos(rq);
	cmd->bytes = blk_rq_bytes(rq);
	cmd->op = shikumi_rd_op(rq);
	cmd->dir = op_is_write(req_op(rq)) ? WRITE : READ;
	cmd->merged = 0;
	__rq_for_each_bio(bio, rq)
		cmd->merged++;
	cmd->merged = cmd->merged ? cmd->merged - 1 : 0;
	cmd->flags = shikumi_rd_flags(rq);
	shikumi_rd_origin(rq, cmd);

	/* the data moves now; the model only decides when we complete */
	cmd->status = shikumi_rd_move(rd, rq, false);
	if (unlikely(cmd->status == BLK_STS_AGAIN) &&
	    !(rq->cmd_flags & REQ_NOWAIT)) {
		shikumi_rd_defer(rd, cmd);
		return BLK_STS_OK;
	}
	shikumi_rd_complete(rd, rq, cmd);
	return BLK_STS_OK;
}

/* The model completes every request it holds; a deep HDD queue takes time. */
static enum blk_eh_timer_return shikumi_rd_timeout(struct request *rq)
{
	return BLK_EH_RESET_TIMER;
}

/* Each hardware queue's state: the CPUs blk-mq maps to it share it. */
static int shikumi_rd_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
				unsigned int index)
{
	struct shikumi_rd *rd = data;

	hctx->driver_data = &rd->queues[index];
	return 0;
}

static const struct blk_mq_ops shikumi_rd_mq_ops = {
	.queue_rq	= shikumi_rd_queue_rq,
	.init_hctx	= shikumi_rd_init_hctx,
	.timeout	= shikumi_rd_timeout,
};

/* the load has succeeded: see shikumi_rd_init() */
static bool shikumi_rd_ready;

/*
 * A module whose init fails is freed whatever its reference count: until
 * the last disk is up, nobody may hold one open.  (The kernel's own
 * partition scan in add_disk() is refused too: a new disk is all zeroes.)
 */
static int shikumi_rd_open(SHIKUMI_BDEV_OPEN_ARGS)
{
	/* pairs with the release at the end of shikumi_rd_init() */
	return smp_load_acquire(&shikumi_rd_ready) ? 0 : -ENXIO;
}

static const struct block_device_operations shikumi_rd_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_rd_open,
};

/*
 * Change the number of hardware queues at run time (sysfs nr_hw_queues),
 * as null_blk's submit_queues: @nr, 0 for one per possible CPU, at most
 * max_queues.  The trace's rings are made for the new number first (what
 * may fail fails before anything changed); blk-mq freezes the queue and
 * maps the CPUs again; then the trace starts again, empty, in the new
 * rings (a record that came meanwhile went to an old ring, or was
 * dropped by a ring of no queue: see ring.c).  If blk-mq cannot, it
 * keeps the old queues, and so do we.  Not while the disk goes away:
 * del_gendisk() waits for this store, and in newer kernels holds a lock
 * blk_mq_update_nr_hw_queues() takes.
 */
int shikumi_rd_set_nr_queues(struct shikumi_rd *rd, unsigned int nr)
{
	struct shikumi_blk_trace *rec, *old;
	int ret = 0;

	nr = min_t(unsigned int, nr ?: num_possible_cpus(), rd->max_queues);
	mutex_lock(&rd->model_lock);
	if (rd->dying) {
		ret = -ENODEV;
		goto unlock;
	}
	if (nr == rd->nr_queues)
		goto unlock;
	rec = shikumi_rd_rings_storage(rd, nr);
	if (!rec) {
		ret = -ENOMEM;
		goto unlock;
	}
	blk_mq_update_nr_hw_queues(&rd->tag_set, nr);
	if (rd->tag_set.nr_hw_queues == nr) {
		old = shikumi_rd_rings_replace(rd, rec, nr);
	} else {
		pr_warn("%s: could not change to %u hardware queues, still %u\n",
			rd->disk->disk_name, nr, rd->tag_set.nr_hw_queues);
		old = rec;
		ret = -ENOMEM;
	}
	kvfree(old);
unlock:
	mutex_unlock(&rd->model_lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

static void shikumi_rd_free_pages(struct shikumi_rd *rd)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&rd->pages, idx, page) {
		__free_page(page);
		if (!(idx % 1024))
			cond_resched();
	}
	xa_destroy(&rd->pages);
}

static void shikumi_rd_init_state(struct shikumi_rd *rd, unsigned int index)
{
	rd->index = index;
	xa_init(&rd->pages);
	mutex_init(&rd->model_lock);
	mutex_init(&rd->trace_read_lock);
	spin_lock_init(&rd->lock);
	rd->model = SHIKUMI_BLK_MODEL_RAM;
	rd->policy = SHIKUMI_BLK_POLICY_FIFO;
	rd->depth = shikumi_rd_queue_depth;
	rd->p = shikumi_rd_default_params;
	rd->sorted[READ] = RB_ROOT;
	rd->sorted[WRITE] = RB_ROOT;
	INIT_LIST_HEAD(&rd->fifo);
	INIT_LIST_HEAD(&rd->dir_fifo[READ]);
	INIT_LIST_HEAD(&rd->dir_fifo[WRITE]);
	INIT_LIST_HEAD(&rd->serving);
	INIT_LIST_HEAD(&rd->deferred);
	INIT_WORK(&rd->defer_work, shikumi_rd_defer_fn);
	rd->trace_entries = shikumi_rd_trace_entries;
	shikumi_hrtimer_setup(&rd->timer, shikumi_rd_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_ABS_SOFT);
	shikumi_rd_cache_init(rd);
}

/* everything a disk needs, before any disk is visible */
static int shikumi_rd_alloc(struct shikumi_rd *rd, unsigned int index)
{
	const struct shikumi_blk_limits lim = {
		.logical_block_size = SECTOR_SIZE,
		.physical_block_size = PAGE_SIZE,
		.max_hw_sectors = SZ_512K >> SECTOR_SHIFT,
		.max_discard_sectors = UINT_MAX >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT,
		.discard_granularity = PAGE_SIZE,
		.rotational = false,
	};
	struct gendisk *disk;
	int ret;

	shikumi_rd_init_state(rd, index);
	/* blk-mq makes no more queues than CPU ids */
	rd->max_queues = min_t(unsigned int, SHIKUMI_RD_MAX_HW_QUEUES, nr_cpu_ids);
	rd->nr_queues = min_t(unsigned int,
			      shikumi_rd_nr_hw_queues ?: num_possible_cpus(),
			      rd->max_queues);
	rd->queues = kcalloc(rd->max_queues, sizeof(*rd->queues), GFP_KERNEL);
	if (!rd->queues)
		return -ENOMEM;
	ret = shikumi_rd_rings_alloc(rd);
	if (ret)
		goto free_queues;
	rd->req_stats = alloc_percpu(struct shikumi_rd_req_stats);
	if (!rd->req_stats) {
		ret = -ENOMEM;
		goto free_rings;
	}

	rd->tag_set.ops = &shikumi_rd_mq_ops;
	rd->tag_set.nr_hw_queues = rd->nr_queues;
	rd->tag_set.driver_data = rd;
	rd->tag_set.queue_depth = shikumi_rd_queue_depth;
	rd->tag_set.numa_node = NUMA_NO_NODE;
	rd->tag_set.cmd_size = sizeof(struct shikumi_rd_cmd);
	/*
	 * queue_rq never sleeps: what would is deferred to kblockd.  A RAM
	 * disk starts without an elevator, as brd; any can be chosen.
	 */
	rd->tag_set.flags = SHIKUMI_BLK_MQ_F_SHOULD_MERGE |
			    BLK_MQ_F_NO_SCHED_BY_DEFAULT;
	ret = blk_mq_alloc_tag_set(&rd->tag_set);
	if (ret)
		goto free_req_stats;
	/* fewer in a kdump kernel: the rings of the others stay empty */
	WRITE_ONCE(rd->nr_queues, rd->tag_set.nr_hw_queues);

	disk = shikumi_blk_mq_alloc_disk(&rd->tag_set, &lim, rd);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_tag_set;
	}
	disk->major = shikumi_rd_major;
	disk->first_minor = index * SHIKUMI_RD_MINORS;
	disk->minors = SHIKUMI_RD_MINORS;
	disk->fops = &shikumi_rd_fops;
	disk->private_data = rd;
	snprintf(disk->disk_name, DISK_NAME_LEN, SHIKUMI_RD_NAME "%u", index);
	set_capacity(disk, (sector_t)shikumi_rd_size_mb * (SZ_1M >> SECTOR_SHIFT));
	rd->disk = disk;

	return 0;

free_tag_set:
	blk_mq_free_tag_set(&rd->tag_set);
free_req_stats:
	free_percpu(rd->req_stats);
free_rings:
	shikumi_rd_rings_free(rd);
free_queues:
	kfree(rd->queues);
	return ret;
}

/*
 * A disk never added, or deleted: no request of it is left, none in the
 * work item either (del_gendisk() waited for them), and none can come.
 */
static void shikumi_rd_free(struct shikumi_rd *rd)
{
	hrtimer_cancel(&rd->timer);
	put_disk(rd->disk);
	blk_mq_free_tag_set(&rd->tag_set);
	/* after a load that failed, shikumi_rd_del() has not flushed it */
	flush_work(&rd->defer_work);
	shikumi_rd_cache_free(rd);
	shikumi_rd_free_pages(rd);
	free_percpu(rd->req_stats);
	shikumi_rd_rings_free(rd);
	kfree(rd->queues);
}

/* The disk goes: its queues change no more (shikumi_rd_set_nr_queues()). */
static void shikumi_rd_del_gendisk(struct shikumi_rd *rd)
{
	mutex_lock(&rd->model_lock);
	rd->dying = true;
	mutex_unlock(&rd->model_lock);
	/*
	 * Drains the queue: the timer completes every request we hold, the
	 * work item every deferred one.
	 */
	del_gendisk(rd->disk);
}

static void shikumi_rd_del(struct shikumi_rd *rd)
{
	/* first, so no reader of the trace or stats is left */
	shikumi_debugfs_remove(rd->debugfs);
	shikumi_rd_del_gendisk(rd);
	/* the work item may be past its last request, not yet returned */
	flush_work(&rd->defer_work);
}

/*
 * Everything is allocated before the first disk appears, and opening
 * one is refused until the last is up: a load that fails after that
 * leaves nothing of it in anyone's hands.
 */
static int __init shikumi_rd_init(void)
{
	unsigned int i, added;
	int ret;

	/* who submits each request: noted before any disk can get one */
	ret = shikumi_rd_origin_init(&shikumi_rd_fops);
	if (ret)
		return ret;
	shikumi_rd_major = register_blkdev(0, SHIKUMI_RD_NAME);
	if (shikumi_rd_major < 0) {
		ret = shikumi_rd_major;
		goto exit_origin;
	}

	shikumi_rd_disks = kcalloc(shikumi_rd_nr_disks,
				   sizeof(*shikumi_rd_disks), GFP_KERNEL);
	if (!shikumi_rd_disks) {
		ret = -ENOMEM;
		goto unregister_blkdev;
	}
	for (i = 0; i < shikumi_rd_nr_disks; i++) {
		ret = shikumi_rd_alloc(&shikumi_rd_disks[i], i);
		if (ret)
			goto free_disks;
	}
	for (added = 0; added < shikumi_rd_nr_disks; added++) {
		ret = device_add_disk(NULL, shikumi_rd_disks[added].disk,
				      shikumi_rd_groups);
		if (ret)
			goto del_disks;
	}
	for (i = 0; i < shikumi_rd_nr_disks; i++)
		shikumi_rd_debugfs_add(&shikumi_rd_disks[i]);
	/* pairs with open(): who sees it set sees every disk whole */
	smp_store_release(&shikumi_rd_ready, true);
	pr_info("%u disks of %u MiB, major %d\n", shikumi_rd_nr_disks,
		shikumi_rd_size_mb, shikumi_rd_major);
	return 0;

del_disks:
	while (added--)
		shikumi_rd_del_gendisk(&shikumi_rd_disks[added]);
	i = shikumi_rd_nr_disks;
free_disks:
	while (i--)
		shikumi_rd_free(&shikumi_rd_disks[i]);
	kfree(shikumi_rd_disks);
	/* as in shikumi_rd_exit() */
	rcu_barrier();
unregister_blkdev:
	unregister_blkdev(shikumi_rd_major, SHIKUMI_RD_NAME);
exit_origin:
	shikumi_rd_origin_exit();
	return ret;
}

static void __exit shikumi_rd_exit(void)
{
	unsigned int i;

	for (i = 0; i < shikumi_rd_nr_disks; i++) {
		shikumi_rd_del(&shikumi_rd_disks[i]);
		shikumi_rd_free(&shikumi_rd_disks[i]);
	}
	kfree(shikumi_rd_disks);
	unregister_blkdev(shikumi_rd_major, SHIKUMI_RD_NAME);
	shikumi_rd_origin_exit();
	/* pages discarded just before unload may still wait for RCU */
	rcu_barrier();
}

module_init(shikumi_rd_init);
module_exit(shikumi_rd_exit);

MODULE_DESCRIPTION("shikumi: blk-mq RAM disk with HDD/SSD models and in-driver I/O scheduling");
MODULE_AUTHOR("The shikumi authors");
MODULE_LICENSE("GPL");
#ifdef SHIKUMI_VERSION
MODULE_VERSION(SHIKUMI_VERSION);
#endif
