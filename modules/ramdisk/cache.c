// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: a volatile write cache, and power cuts (chapters 7
 * and 9 of the book; issue 18).
 *
 * DOC: the design
 *
 * A disk with a volatile write cache completes a write when the data is
 * in the cache; it reaches the medium later, and a power cut loses what
 * has not.  A flush (REQ_OP_FLUSH) writes the whole cache out, and a FUA
 * write (REQ_FUA) goes to the medium before it completes.  fsync() and
 * the journals of file systems rely on those two.
 *
 * The model writes the data to the store at once, as with the cache off:
 * reads see the newest data, as they would from a cache.  What is durable
 * is tracked by an undo log.  Before the first write to a page since its
 * content was last durable, the log saves a copy of the page (its durable
 * content) and marks the sectors the write covers as non-durable in a
 * bitmap.  Then:
 *
 *  - a flush makes everything durable: the log is dropped;
 *  - a FUA write makes its own sectors durable: the saved copy takes
 *    their new content and their bits are cleared;
 *  - discard and write-zeroes are durable at once, the same way;
 *  - when the log would hold more than write_cache_kb of pages, the
 *    cache destages: everything becomes durable, as on a flush;
 *  - turning the cache off destages too;
 *  - a power cut puts every non-durable sector back to its saved copy,
 *    or, torn, each one independently or not (shikumi_blk_torn_mix() of
 *    the seed and the sector decides), so that a cut can be replayed.
 *
 * A page's copy is saved before its data is written: if there is no
 * memory for it, the write fails untouched, and no durable data is lost.
 *
 * Locking.  rd->wc_flags (cache on, power off) is read once per request
 * without a lock: with it 0, the ram model's fast path pays one branch.
 * Anything else comes here.  wc_lock, a mutex, serializes the writes,
 * flushes, cuts and switches of the cache, and guards the log; a request
 * that found the cache on checks again under it.  Reads take no lock:
 * they only check the power.  Counters are updated under rd->lock, as
 * every other statistic.
 *
 * ->queue_rq() must not sleep.  It serves a request here when it can
 * without sleeping: it takes wc_lock with mutex_trylock() and allocates
 * the log with GFP_NOWAIT.  What would sleep returns BLK_STS_AGAIN, and
 * the request is deferred to the disk's work item, which comes back with
 * @may_sleep (main.c): when wc_lock is taken (a cut, a switch, another
 * writer), when an allocation fails, and when the log must be walked
 * whole (a flush, a destage, a discard), which may take long and
 * reschedules.  The writes that keep the cache filling, the common case,
 * stay inline.  A spinlock instead of wc_lock would hold off every other
 * writer through a cut or a flush of up to write_cache_kb of pages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include <shikumi/compat/blk.h>
#include <uapi/shikumi/ramdisk.h>

#include "ramdisk.h"

/**
 * struct shikumi_rd_undo - a page of the disk with non-durable sectors
 * @dirty: the sectors written since the page was last durable
 * @copy: the page's durable content
 */
struct shikumi_rd_undo {
	DECLARE_BITMAP(dirty, SHIKUMI_RD_SECTORS_PER_PAGE);
	struct page *copy;
};

#define SHIKUMI_RD_PAGE_KB	(PAGE_SIZE / SZ_1K)

static void shikumi_rd_undo_free(struct shikumi_rd_undo *u)
{
	__free_page(u->copy);
	kfree(u);
}

/* Everything is durable: drop the log.  wc_lock held. */
static void shikumi_rd_log_drop(struct shikumi_rd *rd)
{
	struct shikumi_rd_undo *u;
	unsigned long idx;

	xa_for_each(&rd->wc_log, idx, u) {
		xa_erase(&rd->wc_log, idx);
		shikumi_rd_undo_free(u);
		if (!(idx % 256))
			cond_resched();
	}
	WRITE_ONCE(rd->wc_pages, 0);
}

static void shikumi_rd_count(struct shikumi_rd *rd, u64 *counter, u64 n)
{
	unsigned long flags;

	spin_lock_irqsave(&rd->lock, flags);
	*counter += n;
	spin_unlock_irqrestore(&rd->lock, flags);
}

/*
 * Copy the store's content of sectors [@first, @last] of page @idx, or
 * zeroes if the store has no such page, to or from @mem.
 */
static void shikumi_rd_store_copy(struct shikumi_rd *rd, pgoff_t idx,
				  void *mem, unsigned int first,
				  unsigned int last, bool to_store)
{
	unsigned int off = first << SECTOR_SHIFT;
	unsigned int len = (last - first + 1) << SECTOR_SHIFT;
	struct page *page;
	void *p;

	rcu_read_lock();
	page = xa_load(&rd->pages, idx);
	if (page) {
		p = kmap_local_page(page);
		if (to_store)
			memcpy(p + off, mem + off, len);
		else
			memcpy(mem + off, p + off, len);
		kunmap_local(p);
	} else if (!to_store) {
		memset(mem + off, 0, len);
	}
	/* to_store and no page: it was discarded, durably; nothing to undo */
	rcu_read_unlock();
}

/* Page @idx's log entry, made with the page's content now.  wc_lock held. */
static struct shikumi_rd_undo *shikumi_rd_log_get(struct shikumi_rd *rd,
						  pgoff_t idx, gfp_t gfp)
{
	struct shikumi_rd_undo *u = xa_load(&rd->wc_log, idx);
	void *mem;
	int ret;

	if (u)
		return u;
	u = kzalloc(sizeof(*u), gfp | __GFP_NOWARN);
	if (!u)
		return NULL;
	u->copy = alloc_page(gfp | __GFP_NOWARN);
	if (!u->copy)
		goto free_undo;
	mem = kmap_local_page(u->copy);
	shikumi_rd_store_copy(rd, idx, mem, 0, SHIKUMI_RD_SECTORS_PER_PAGE - 1,
			      false);
	kunmap_local(mem);
	ret = xa_insert(&rd->wc_log, idx, u, gfp | __GFP_NOWARN);
	if (ret)
		goto free_copy;
	WRITE_ONCE(rd->wc_pages, rd->wc_pages + 1);
	return u;

free_copy:
	__free_page(u->copy);
free_undo:
	kfree(u);
	return NULL;
}

/*
 * Before a write of [@sector, @sector + @nr): save the durable content of
 * every page it touches that the log does not hold yet, and mark its
 * sectors.  A log that would outgrow the cache destages first, unless
 * @gfp is GFP_NOWAIT (->queue_rq(): the request is deferred).  No memory:
 * the write fails before it changes anything, with EIO, or with
 * BLK_STS_AGAIN for GFP_NOWAIT, as a store page's allocation does.
 * wc_lock held.
 */
static blk_status_t shikumi_rd_log_range(struct shikumi_rd *rd, sector_t sector,
					 unsigned int nr, gfp_t gfp)
{
	const unsigned int spp = SHIKUMI_RD_SECTORS_PER_PAGE;
	pgoff_t first = sector / spp, last = (sector + nr - 1) / spp, idx;
	unsigned long fresh = 0;
	struct shikumi_rd_undo *u;

	for (idx = first; idx <= last; idx++)
		if (!xa_load(&rd->wc_log, idx))
			fresh++;
	if ((rd->wc_pages + fresh) * SHIKUMI_RD_PAGE_KB > READ_ONCE(rd->wc_kb)) {
		if (gfp == GFP_NOWAIT)
			return BLK_STS_AGAIN;
		shikumi_rd_log_drop(rd);
		shikumi_rd_count(rd, &rd->stats.cache_destages, 1);
	}
	for (idx = first; idx <= last; idx++) {
		sector_t lo = max_t(sector_t, sector, (sector_t)idx * spp);
		sector_t hi = min_t(sector_t, sector + nr, (sector_t)(idx + 1) * spp);

		u = shikumi_rd_log_get(rd, idx, gfp);
		if (!u)
			return gfp == GFP_NOWAIT ? BLK_STS_AGAIN : BLK_STS_IOERR;
		bitmap_set(u->dirty, lo - (sector_t)idx * spp, hi - lo);
	}
	return BLK_STS_OK;
}

/*
 * [@sector, @sector + @nr) is durable now (a FUA write, a discard): the
 * saved copies take the store's content of those sectors.  wc_lock held.
 */
static void shikumi_rd_log_settle(struct shikumi_rd *rd, sector_t sector,
				  unsigned int nr)
{
	const unsigned int spp = SHIKUMI_RD_SECTORS_PER_PAGE;
	pgoff_t first = sector / spp, last = (sector + nr - 1) / spp, idx;
	struct shikumi_rd_undo *u;
	void *mem;

	xa_for_each_range(&rd->wc_log, idx, u, first, last) {
		unsigned int lo = max_t(sector_t, sector, (sector_t)idx * spp) -
				  (sector_t)idx * spp;
		unsigned int hi = min_t(sector_t, sector + nr,
					(sector_t)(idx + 1) * spp) -
				  (sector_t)idx * spp;

		mem = kmap_local_page(u->copy);
		shikumi_rd_store_copy(rd, idx, mem, lo, hi - 1, false);
		kunmap_local(mem);
		bitmap_clear(u->dirty, lo, hi - lo);
		if (bitmap_empty(u->dirty, spp)) {
			xa_erase(&rd->wc_log, idx);
			shikumi_rd_undo_free(u);
			WRITE_ONCE(rd->wc_pages, rd->wc_pages - 1);
		}
	}
}

static blk_status_t shikumi_rd_cache_write(struct shikumi_rd *rd,
					   struct request *rq, gfp_t gfp)
{
	sector_t sector = blk_rq_pos(rq);
	unsigned int nr = blk_rq_sectors(rq);
	bool fua = rq->cmd_flags & REQ_FUA;
	blk_status_t st;

	if (rq->cmd_flags & REQ_PREFLUSH) {
		shikumi_rd_log_drop(rd);
		shikumi_rd_count(rd, &rd->stats.cache_flushes, 1);
	}
	if (!nr)
		return BLK_STS_OK;
	if (fua) {
		shikumi_rd_count(rd, &rd->stats.cache_fua_writes, 1);
	} else if (req_op(rq) == REQ_OP_WRITE) {
		/* the durable content is saved before it is overwritten */
		st = shikumi_rd_log_range(rd, sector, nr, gfp);
		if (st)
			return st;
	}
	st = shikumi_rd_do(rd, rq, gfp);
	if (fua || req_op(rq) != REQ_OP_WRITE)
		shikumi_rd_log_settle(rd, sector, nr);
	return st;
}

/* Would @rq walk the whole log (see "Locking" above)?  wc_lock held. */
static bool shikumi_rd_walks_log(struct shikumi_rd *rd, struct request *rq)
{
	if (!rd->wc_pages)
		return false;
	return req_op(rq) == REQ_OP_FLUSH || req_op(rq) == REQ_OP_DISCARD ||
	       req_op(rq) == REQ_OP_WRITE_ZEROES ||
	       (rq->cmd_flags & REQ_PREFLUSH);
}

/**
 * shikumi_rd_cache_do() - serve @rq with the cache on or the power off
 * @rd: the disk
 * @rq: the request
 * @may_sleep: called from the work item, not from ->queue_rq()
 *
 * Called in place of shikumi_rd_do() when rd->wc_flags is not 0.
 * Return: the request's status; BLK_STS_AGAIN if !@may_sleep and it
 * cannot be served without sleeping (nothing has changed on the disk
 * that serving it again would not redo).
 */
blk_status_t shikumi_rd_cache_do(struct shikumi_rd *rd, struct request *rq,
				 bool may_sleep)
{
	gfp_t gfp = may_sleep ? GFP_NOIO : GFP_NOWAIT;
	blk_status_t st;

	if (READ_ONCE(rd->wc_flags) & SHIKUMI_RD_POWER_OFF)
		return BLK_STS_IOERR;
	if (req_op(rq) == REQ_OP_READ)
		return shikumi_rd_do(rd, rq, gfp);

	if (may_sleep)
		mutex_lock(&rd->wc_lock);
	else if (!mutex_trylock(&rd->wc_lock))
		return BLK_STS_AGAIN;
	if (rd->wc_flags & SHIKUMI_RD_POWER_OFF) {
		st = BLK_STS_IOERR;
	} else if (!(rd->wc_flags & SHIKUMI_RD_WC_ON)) {
		/* switched off while we waited: it destaged */
		st = shikumi_rd_do(rd, rq, gfp);
	} else if (!may_sleep && shikumi_rd_walks_log(rd, rq)) {
		st = BLK_STS_AGAIN;
	} else if (req_op(rq) == REQ_OP_FLUSH) {
		shikumi_rd_log_drop(rd);
		shikumi_rd_count(rd, &rd->stats.cache_flushes, 1);
		st = BLK_STS_OK;
	} else {
		st = shikumi_rd_cache_write(rd, rq, gfp);
	}
	mutex_unlock(&rd->wc_lock);
	return st;
}

/**
 * shikumi_rd_cache_set() - turn the write cache on or off
 * @rd: the disk
 * @on: on
 *
 * First what may fail: the queue says it has a volatile cache (or not),
 * so that the block layer sends flushes and FUA writes.  Turning it off
 * destages.  Return: 0 or a negative errno.
 */
int shikumi_rd_cache_set(struct shikumi_rd *rd, bool on)
{
	int ret;

	mutex_lock(&rd->model_lock);
	ret = shikumi_blk_set_write_cache(rd->disk->queue, on);
	if (ret)
		goto unlock_model;
	mutex_lock(&rd->wc_lock);
	if (!on && (rd->wc_flags & SHIKUMI_RD_WC_ON)) {
		if (rd->wc_pages)
			shikumi_rd_count(rd, &rd->stats.cache_destages, 1);
		shikumi_rd_log_drop(rd);
	}
	if (on)
		WRITE_ONCE(rd->wc_flags, rd->wc_flags | SHIKUMI_RD_WC_ON);
	else
		WRITE_ONCE(rd->wc_flags, rd->wc_flags & ~SHIKUMI_RD_WC_ON);
	mutex_unlock(&rd->wc_lock);
unlock_model:
	mutex_unlock(&rd->model_lock);
	return ret;
}

/* A smaller cache destages at the next write that finds it too full. */
int shikumi_rd_cache_set_kb(struct shikumi_rd *rd, u32 kb)
{
	if (kb < SHIKUMI_RD_WC_KB_MIN || kb > SHIKUMI_RD_WC_KB_MAX)
		return -EINVAL;
	WRITE_ONCE(rd->wc_kb, kb);
	return 0;
}

/*
 * Trace one run [@lo, @hi] of page @idx that a cut decided, in the first
 * hardware queue's ring: a cut is the disk's, no queue's.
 */
static void shikumi_rd_cut_record(struct shikumi_rd *rd, pgoff_t idx,
				  unsigned int lo, unsigned int hi, u32 flags)
{
	u64 now = ktime_get_ns();
	struct shikumi_rd_ring *ring = &rd->queues[0].ring;
	struct shikumi_blk_trace *t;
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, current);
	spin_lock_irq(&rd->lock);
	spin_lock(&ring->lock);
	t = shikumi_rd_ring_slot(ring);
	if (t) {
		*t = (struct shikumi_blk_trace) {
			.seq		= t->seq,
			.queued_ns	= now,
			.dispatched_ns	= now,
			.completed_ns	= now,
			.sector		= (u64)idx * SHIKUMI_RD_SECTORS_PER_PAGE + lo,
			.head		= rd->head,
			.bytes		= (hi - lo + 1) << SECTOR_SHIFT,
			.op		= SHIKUMI_BLK_OP_POWERCUT,
			.model		= rd->model,
			.policy		= rd->policy,
			.pid		= task_tgid_nr(current),
			.flags		= flags,
		};
		memcpy(t->comm, comm, sizeof(t->comm));
	}
	spin_unlock(&ring->lock);
	spin_unlock_irq(&rd->lock);
}

/*
 * The cut of one page: put back the sectors that do not survive, and
 * trace each run of sectors with one fate.  Adds to @dropped and @kept.
 */
static void shikumi_rd_cut_page(struct shikumi_rd *rd, pgoff_t idx,
				struct shikumi_rd_undo *u, bool torn, u64 seed,
				u64 *dropped, u64 *kept)
{
	const unsigned int spp = SHIKUMI_RD_SECTORS_PER_PAGE;
	const u32 tflag = torn ? SHIKUMI_BLK_F_TORN : 0;
	DECLARE_BITMAP(drop, SHIKUMI_RD_SECTORS_PER_PAGE);
	unsigned int s, e;
	void *mem;
	bool d;

	bitmap_zero(drop, spp);
	mem = kmap_local_page(u->copy);
	for_each_set_bit(s, u->dirty, spp) {
		u64 abs = (u64)idx * spp + s;

		if (!torn || !(shikumi_blk_torn_mix(seed + abs) >> 63)) {
			shikumi_rd_store_copy(rd, idx, mem, s, s, true);
			__set_bit(s, drop);
			(*dropped)++;
		} else {
			(*kept)++;
		}
	}
	kunmap_local(mem);

	for (s = find_first_bit(u->dirty, spp); s < spp;
	     s = find_next_bit(u->dirty, spp, e + 1)) {
		d = test_bit(s, drop);
		e = s;
		while (e + 1 < spp && test_bit(e + 1, u->dirty) &&
		       test_bit(e + 1, drop) == d)
			e++;
		shikumi_rd_cut_record(rd, idx, s, e,
				      tflag | (d ? SHIKUMI_BLK_F_DROPPED : 0));
	}
}

/**
 * shikumi_rd_power_off() - a power cut
 * @rd: the disk
 * @torn: each non-durable sector survives or not, else none does
 * @have_seed: @seed was given
 * @seed: the torn cut's seed; without one, a random one
 *
 * Return: 0, or -EBUSY if the power is off already.
 */
int shikumi_rd_power_off(struct shikumi_rd *rd, bool torn, bool have_seed,
			 u64 seed)
{
	u64 dropped = 0, kept = 0;
	struct shikumi_rd_undo *u;
	unsigned long idx;

	mutex_lock(&rd->wc_lock);
	if (rd->wc_flags & SHIKUMI_RD_POWER_OFF) {
		mutex_unlock(&rd->wc_lock);
		return -EBUSY;
	}
	/* from now on every request fails; those that hold wc_lock are done */
	WRITE_ONCE(rd->wc_flags, rd->wc_flags | SHIKUMI_RD_POWER_OFF);
	if (torn && !have_seed)
		seed = get_random_u64();
	xa_for_each(&rd->wc_log, idx, u) {
		shikumi_rd_cut_page(rd, idx, u, torn, seed, &dropped, &kept);
		xa_erase(&rd->wc_log, idx);
		shikumi_rd_undo_free(u);
		cond_resched();
	}
	WRITE_ONCE(rd->wc_pages, 0);
	if (torn)
		WRITE_ONCE(rd->wc_last_seed, seed);
	spin_lock_irq(&rd->lock);
	rd->stats.power_cuts++;
	rd->stats.cut_dropped += dropped;
	rd->stats.cut_kept += kept;
	spin_unlock_irq(&rd->lock);
	mutex_unlock(&rd->wc_lock);
	if (torn)
		pr_info("%s: power cut, torn with seed %llu: %llu sectors dropped, %llu kept\n",
			rd->disk->disk_name, seed, dropped, kept);
	else
		pr_info("%s: power cut: %llu sectors dropped\n",
			rd->disk->disk_name, dropped);
	return 0;
}

void shikumi_rd_power_on(struct shikumi_rd *rd)
{
	mutex_lock(&rd->wc_lock);
	WRITE_ONCE(rd->wc_flags, rd->wc_flags & ~SHIKUMI_RD_POWER_OFF);
	mutex_unlock(&rd->wc_lock);
}

void shikumi_rd_cache_init(struct shikumi_rd *rd)
{
	mutex_init(&rd->wc_lock);
	xa_init(&rd->wc_log);
	rd->wc_kb = SHIKUMI_RD_WC_KB_DEFAULT;
}

/* at unload: no request is left */
void shikumi_rd_cache_free(struct shikumi_rd *rd)
{
	mutex_lock(&rd->wc_lock);
	shikumi_rd_log_drop(rd);
	mutex_unlock(&rd->wc_lock);
	xa_destroy(&rd->wc_log);
}
