// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: which task submitted each request, as blktrace's queue
 * event ("Q") names it.
 *
 * A request reaches ->queue_rq() in whatever task runs the queue: the
 * submitter, the task that unplugs, a kblockd worker.  The task that made
 * the request's first bio is known only when the bio enters the block
 * layer, where two tracepoints fire in that task: block_bio_queue for each
 * bio, block_split for the front piece of a split one.  Their probes note
 * (bio, pid, comm) for the bios sent to our disks in a table, and
 * ->queue_rq() looks up its request's first bio there.
 *
 * The table is a set of SHIKUMI_RD_ORIGIN_WAYS entries per hash of the
 * bio's address; a new note replaces the set's oldest.  A bio is noted
 * just before its request is made, and far fewer bios wait in the elevator
 * than the table holds, so a note is lost only when more bios than a set's
 * ways wait on one hash at once: the request is then traced with pid 0.
 * A bio freed and reused for another bio to our disks is noted again
 * before that one can reach ->queue_rq(), so a note never names the wrong
 * task.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk_types.h>
#include <linux/blkdev.h>
#include <linux/hash.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <trace/events/block.h>

#include <shikumi/tracepoint.h>

#include "ramdisk.h"

#define SHIKUMI_RD_ORIGIN_BITS	10	/* sets */
#define SHIKUMI_RD_ORIGIN_WAYS	4	/* entries in a set */

struct shikumi_rd_origin {
	const struct bio *bio;
	u32 stamp;			/* when noted: the oldest is replaced */
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

struct shikumi_rd_origin_set {
	spinlock_t lock;		/* protects the set */
	u32 clock;
	struct shikumi_rd_origin way[SHIKUMI_RD_ORIGIN_WAYS];
};

static struct shikumi_rd_origin_set *shikumi_rd_origins;
static const struct block_device_operations *shikumi_rd_origin_fops;

static struct shikumi_rd_origin_set *shikumi_rd_origin_set(const struct bio *bio)
{
	return &shikumi_rd_origins[hash_ptr((void *)bio, SHIKUMI_RD_ORIGIN_BITS)];
}

/* In the submitting task: note who sends @bio, if it goes to one of ours. */
static void shikumi_rd_note(const struct bio *bio)
{
	struct shikumi_rd_origin_set *set;
	struct shikumi_rd_origin *e, *oldest;
	unsigned long flags;
	unsigned int i;

	if (bio->bi_bdev->bd_disk->fops != shikumi_rd_origin_fops)
		return;
	set = shikumi_rd_origin_set(bio);
	spin_lock_irqsave(&set->lock, flags);
	oldest = &set->way[0];
	for (i = 0; i < SHIKUMI_RD_ORIGIN_WAYS; i++) {
		e = &set->way[i];
		if (e->bio == bio) {
			oldest = e;
			break;
		}
		if ((s32)(e->stamp - oldest->stamp) < 0)
			oldest = e;
	}
	oldest->bio = bio;
	oldest->stamp = ++set->clock;
	oldest->pid = task_pid_nr(current);
	memcpy(oldest->comm, current->comm, TASK_COMM_LEN);
	spin_unlock_irqrestore(&set->lock, flags);
}

static void shikumi_rd_probe_queue(void *data, struct bio *bio)
{
	shikumi_rd_note(bio);
}

static void shikumi_rd_probe_split(void *data, struct bio *bio,
				   unsigned int new_sector)
{
	shikumi_rd_note(bio);
}

static struct shikumi_probe shikumi_rd_probes[] = {
	{ "block_bio_queue", shikumi_rd_probe_queue },
	{ "block_split", shikumi_rd_probe_split },
};

/*
 * In ->queue_rq(): who submitted @rq's first bio, into @cmd; pid 0 and an
 * empty comm when nobody is noted (a flush the block layer made itself).
 */
void shikumi_rd_origin(const struct request *rq, struct shikumi_rd_cmd *cmd)
{
	struct shikumi_rd_origin_set *set;
	unsigned long flags;
	unsigned int i;

	cmd->pid = 0;
	cmd->comm[0] = '\0';
	if (!rq->bio)
		return;
	set = shikumi_rd_origin_set(rq->bio);
	spin_lock_irqsave(&set->lock, flags);
	for (i = 0; i < SHIKUMI_RD_ORIGIN_WAYS; i++) {
		if (set->way[i].bio == rq->bio) {
			cmd->pid = set->way[i].pid;
			memcpy(cmd->comm, set->way[i].comm, TASK_COMM_LEN);
			break;
		}
	}
	spin_unlock_irqrestore(&set->lock, flags);
}

/* The table, and the probes on for the module's life; before any disk. */
int shikumi_rd_origin_init(const struct block_device_operations *fops)
{
	unsigned int i;
	int ret;

	check_trace_callback_type_block_bio_queue(shikumi_rd_probe_queue);
	check_trace_callback_type_block_split(shikumi_rd_probe_split);
	ret = shikumi_probes_find(shikumi_rd_probes, ARRAY_SIZE(shikumi_rd_probes));
	if (ret)
		return ret;
	shikumi_rd_origins = kvcalloc(1U << SHIKUMI_RD_ORIGIN_BITS,
				      sizeof(*shikumi_rd_origins), GFP_KERNEL);
	if (!shikumi_rd_origins)
		return -ENOMEM;
	for (i = 0; i < 1U << SHIKUMI_RD_ORIGIN_BITS; i++)
		spin_lock_init(&shikumi_rd_origins[i].lock);
	shikumi_rd_origin_fops = fops;
	ret = shikumi_probes_register(shikumi_rd_probes,
				      ARRAY_SIZE(shikumi_rd_probes), NULL);
	if (ret)
		goto free_table;
	return 0;

free_table:
	kvfree(shikumi_rd_origins);
	return ret;
}

/* After the last disk is gone. */
void shikumi_rd_origin_exit(void)
{
	shikumi_probes_unregister(shikumi_rd_probes,
				  ARRAY_SIZE(shikumi_rd_probes), NULL);
	kvfree(shikumi_rd_origins);
}
