/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences in the block layer.
 * See <shikumi/compat.h> for how the feature tests work.
 */
#ifndef _SHIKUMI_COMPAT_BLK_H
#define _SHIKUMI_COMPAT_BLK_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/build_bug.h>

/*
 * v6.5: block_device_operations::open() takes the gendisk and a
 * blk_mode_t, where it took the block_device and an fmode_t.
 */
#ifdef SHIKUMI_HAVE_BLK_OPEN_DISK
#define SHIKUMI_BDEV_OPEN_ARGS	struct gendisk *disk, blk_mode_t mode
#else
#define SHIKUMI_BDEV_OPEN_ARGS	struct block_device *bdev, fmode_t mode
#endif

/* canary: a feature test that picked the wrong prototype breaks the build */
static_assert(__same_type(((const struct block_device_operations *)0)->open,
			  int (*)(SHIKUMI_BDEV_OPEN_ARGS)),
	      "SHIKUMI_BDEV_OPEN_ARGS does not match block_device_operations::open()");

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

#ifdef SHIKUMI_HAVE_BLK_FEAT
/*
 * v6.11: set and clear features (rotational, write cache, FUA) of a live
 * disk through an atomic limits update, which v6.14 (and 6.12.y) commits
 * with the queue frozen.
 */
static inline int shikumi_blk_update_features(struct request_queue *q,
					      blk_features_t set,
					      blk_features_t clear)
{
	struct queue_limits lim = queue_limits_start_update(q);

	lim.features &= ~clear;
	lim.features |= set;
#ifdef SHIKUMI_HAVE_LIMITS_COMMIT_FROZEN
	return queue_limits_commit_update_frozen(q, &lim);
#else
	return queue_limits_commit_update(q, &lim);
#endif
}
#endif

/*
 * Change the rotational flag of a live disk: a queue feature from v6.11,
 * before it the queue flag NONROT.
 */
static inline int shikumi_blk_set_rotational(struct request_queue *q,
					     bool rotational)
{
#ifdef SHIKUMI_HAVE_BLK_FEAT
	if (rotational)
		return shikumi_blk_update_features(q, BLK_FEAT_ROTATIONAL, 0);
	return shikumi_blk_update_features(q, 0, BLK_FEAT_ROTATIONAL);
#else
	if (rotational)
		blk_queue_flag_clear(QUEUE_FLAG_NONROT, q);
	else
		blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	return 0;
#endif
}

/*
 * Say whether the disk has a volatile write cache, and FUA with it: the
 * block layer then sends flushes and FUA writes, else it drops them.
 * Queue features from v6.11 (which brought BLK_FEAT_WRITE_CACHE and
 * BLK_FEAT_FUA with the rotational one); before, blk_queue_write_cache().
 */
static inline int shikumi_blk_set_write_cache(struct request_queue *q, bool on)
{
#ifdef SHIKUMI_HAVE_BLK_FEAT
	const blk_features_t wc = BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;

	return shikumi_blk_update_features(q, on ? wc : 0, on ? 0 : wc);
#else
	blk_queue_write_cache(q, on, on);
	return 0;
#endif
}

#endif /* _SHIKUMI_COMPAT_BLK_H */
