/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference shikumi depends on, in one place.
 *
 * Each entry is a feature test: scripts/kfeatures greps the headers of the
 * kernel being built against and defines SHIKUMI_HAVE_* for the APIs it
 * finds, so stable backports are picked up and no version number can be
 * wrong inside a series.  The upstream version that made each change is
 * cited beside it.
 */
#ifndef _SHIKUMI_COMPAT_H
#define _SHIKUMI_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>

/*
 * v6.9: CONFIG_PAGE_TABLE_ISOLATION became
 * CONFIG_MITIGATION_PAGE_TABLE_ISOLATION.  SHIKUMI_PTI: the kernel can
 * run user space on a PGD of its own (kernel_to_user_pgdp()).
 */
#if defined(CONFIG_PAGE_TABLE_ISOLATION) || \
	defined(CONFIG_MITIGATION_PAGE_TABLE_ISOLATION)
#define SHIKUMI_PTI 1
#endif

/*
 * v6.5: block_device_operations::open() takes the gendisk and a
 * blk_mode_t, where it took the block_device and an fmode_t.
 */
#ifdef SHIKUMI_HAVE_BLK_OPEN_DISK
#define SHIKUMI_BDEV_OPEN_ARGS	struct gendisk *disk, blk_mode_t mode
#else
#define SHIKUMI_BDEV_OPEN_ARGS	struct block_device *bdev, fmode_t mode
#endif

/* v6.2: struct class::devnode() takes a const struct device *. */
#ifdef SHIKUMI_HAVE_CONST_DEVNODE
#define SHIKUMI_DEVNODE_CONST const
#else
#define SHIKUMI_DEVNODE_CONST
#endif

/* v6.3: vma->vm_flags is read-only; vm_flags_mod() and friends write it. */
static inline void shikumi_vm_flags_mod(struct vm_area_struct *vma,
					vm_flags_t set, vm_flags_t clear)
{
#ifdef SHIKUMI_HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* v6.13: hrtimer_setup() sets the callback; v6.15 removed hrtimer_init(). */
static inline void
shikumi_hrtimer_setup(struct hrtimer *timer,
		      enum hrtimer_restart (*fn)(struct hrtimer *),
		      clockid_t clock, enum hrtimer_mode mode)
{
#ifdef SHIKUMI_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * v6.2: with RCU_LAZY, call_rcu() may wait seconds before running the
 * callback; call_rcu_hurry() does not.  Memory we free should come back now.
 */
#ifdef SHIKUMI_HAVE_CALL_RCU_HURRY
#define shikumi_call_rcu call_rcu_hurry
#else
#define shikumi_call_rcu call_rcu
#endif

/* ---- block layer ---------------------------------------------------- */

/* v6.14: BLK_MQ_F_SHOULD_MERGE is gone; merging is always on. */
#ifdef SHIKUMI_HAVE_MQ_F_SHOULD_MERGE
#define SHIKUMI_BLK_MQ_F_SHOULD_MERGE BLK_MQ_F_SHOULD_MERGE
#else
#define SHIKUMI_BLK_MQ_F_SHOULD_MERGE 0
#endif

struct shikumi_blk_limits {
	unsigned int logical_block_size;
	unsigned int physical_block_size;
	unsigned int max_hw_sectors;
	unsigned int max_discard_sectors;
	unsigned int max_write_zeroes_sectors;
	unsigned int discard_granularity;
	bool rotational;
};

/*
 * v6.9: blk_mq_alloc_disk() takes the queue limits, and the blk_queue_*
 * setters go away (v6.10/v6.11).  v6.11: the rotational flag is a feature,
 * off by default; before it a queue is rotational unless QUEUE_FLAG_NONROT.
 */
static inline struct gendisk *
shikumi_blk_mq_alloc_disk(struct blk_mq_tag_set *set,
			  const struct shikumi_blk_limits *l, void *queuedata)
{
	struct gendisk *disk;
#ifdef SHIKUMI_HAVE_BLK_ALLOC_DISK_LIMITS
	struct queue_limits lim = {
		.logical_block_size = l->logical_block_size,
		.physical_block_size = l->physical_block_size,
		.max_hw_sectors = l->max_hw_sectors,
		.max_hw_discard_sectors = l->max_discard_sectors,
		.max_write_zeroes_sectors = l->max_write_zeroes_sectors,
		.discard_granularity = l->discard_granularity,
	};

#ifdef SHIKUMI_HAVE_BLK_FEAT
	if (l->rotational)
		lim.features |= BLK_FEAT_ROTATIONAL;
#endif
	disk = blk_mq_alloc_disk(set, &lim, queuedata);
	if (IS_ERR(disk))
		return disk;
#else
	struct request_queue *q;

	disk = blk_mq_alloc_disk(set, queuedata);
	if (IS_ERR(disk))
		return disk;
	q = disk->queue;
	blk_queue_logical_block_size(q, l->logical_block_size);
	blk_queue_physical_block_size(q, l->physical_block_size);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_discard_sectors(q, l->max_discard_sectors);
	blk_queue_max_write_zeroes_sectors(q, l->max_write_zeroes_sectors);
	q->limits.discard_granularity = l->discard_granularity;
#endif
#if !defined(SHIKUMI_HAVE_BLK_FEAT) && defined(QUEUE_FLAG_NONROT)
	if (l->rotational)
		blk_queue_flag_clear(QUEUE_FLAG_NONROT, disk->queue);
	else
		blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
#endif
	return disk;
}

/*
 * v6.14: blk_mq_freeze_queue() returns the task's memalloc flags, which
 * blk_mq_unfreeze_queue() takes back.
 */
static inline unsigned int shikumi_blk_freeze_queue(struct request_queue *q)
{
#ifdef SHIKUMI_HAVE_FREEZE_MEMFLAGS
	return blk_mq_freeze_queue(q);
#else
	blk_mq_freeze_queue(q);
	return 0;
#endif
}

static inline void shikumi_blk_unfreeze_queue(struct request_queue *q,
					      unsigned int memflags)
{
#ifdef SHIKUMI_HAVE_FREEZE_MEMFLAGS
	blk_mq_unfreeze_queue(q, memflags);
#else
	blk_mq_unfreeze_queue(q);
#endif
}

/*
 * Change the rotational flag of a live disk.  v6.11: it is a queue feature,
 * changed through an atomic limits update, which v6.14 (and 6.12.y) commits
 * with the queue frozen.  Before v6.11 it is the queue flag NONROT.
 */
static inline int shikumi_blk_set_rotational(struct request_queue *q,
					     bool rotational)
{
#ifdef SHIKUMI_HAVE_BLK_FEAT
	struct queue_limits lim = queue_limits_start_update(q);

	if (rotational)
		lim.features |= BLK_FEAT_ROTATIONAL;
	else
		lim.features &= ~BLK_FEAT_ROTATIONAL;
#ifdef SHIKUMI_HAVE_LIMITS_COMMIT_FROZEN
	return queue_limits_commit_update_frozen(q, &lim);
#else
	return queue_limits_commit_update(q, &lim);
#endif
#else
	if (rotational)
		blk_queue_flag_clear(QUEUE_FLAG_NONROT, q);
	else
		blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	return 0;
#endif
}

/*
 * Is this mapped page mapped more than once (by another process, or twice
 * in one)?  /proc/PID/pagemap's PM_MMAP_EXCLUSIVE is the opposite.  Until
 * v6.12 every page has a mapcount.  From v6.12 a small folio's mapcount is
 * the page's; a large folio says only whether it is (likely) shared.
 * The caller holds the page table lock that maps the page.
 */
static inline bool shikumi_page_mapped_shared(struct page *page)
{
#if defined(SHIKUMI_HAVE_FOLIO_MAYBE_MAPPED_SHARED) || \
	defined(SHIKUMI_HAVE_FOLIO_LIKELY_MAPPED_SHARED)
	struct folio *folio = page_folio(page);

	if (!folio_test_large(folio))
		return folio_mapcount(folio) > 1;
#ifdef SHIKUMI_HAVE_FOLIO_MAYBE_MAPPED_SHARED
	return folio_maybe_mapped_shared(folio);
#else
	return folio_likely_mapped_shared(folio);
#endif
#else
	return page_mapcount(page) > 1;
#endif
}

#endif /* _SHIKUMI_COMPAT_H */
