/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi_ramdisk's private header: the limits, the state of a disk and
 * of a request, and what one file of the module calls in another.
 */
#ifndef _SHIKUMI_RD_H
#define _SHIKUMI_RD_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hrtimer.h>
#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <uapi/shikumi/ramdisk.h>

#define SHIKUMI_RD_NAME		"shikumi-ram"
#define SHIKUMI_RD_MAX_DISKS	16
#define SHIKUMI_RD_MAX_SIZE_MB	(64 * 1024)
#define SHIKUMI_RD_MINORS	16	/* partitions per disk, the whole disk included */
#define SHIKUMI_RD_SECTORS_PER_PAGE	(PAGE_SIZE >> SECTOR_SHIFT)
#define SHIKUMI_RD_MAX_CHANNELS	64
#define SHIKUMI_RD_MAX_HW_QUEUES	64
#define SHIKUMI_RD_NR_OPS	(SHIKUMI_BLK_OP_WRITE_ZEROES + 1)
#define SHIKUMI_RD_TRACE_MIN	16
#define SHIKUMI_RD_TRACE_MAX	(4U * 1024 * 1024)

/* Model and policy parameters, all u32, set through sysfs. */
struct shikumi_rd_params {
	u32 hdd_rpm;
	u32 hdd_settle_us;		/* the shortest seek */
	u32 hdd_full_seek_us;		/* a seek across the whole disk */
	u32 hdd_media_mbps;		/* transfer rate, 10^6 bytes/s */
	u32 hdd_cache_kb;		/* read-ahead of the drive, 0: none */
	u32 hdd_iface_mbps;		/* link rate, for reads from the cache */
	u32 ssd_latency_us;
	u32 ssd_channel_mbps;
	u32 ssd_channels;
	u32 deadline_read_expire_ms;
	u32 deadline_write_expire_ms;
	u32 deadline_fifo_batch;
	u32 deadline_writes_starved;
};

struct shikumi_rd_opstats {
	u64 count;
	u64 bytes;
	u64 lat_ns;
	u64 hist[SHIKUMI_BLK_HIST_BUCKETS];
};

/*
 * The requests' statistics, per CPU: each CPU adds to its own with
 * this_cpu_*() (safe against interrupts), with no lock; a reader sums
 * them (trace.c).  A reset does not write them: it notes their sums in
 * rd->req_base, and readers subtract that.
 */
struct shikumi_rd_req_stats {
	struct shikumi_rd_opstats op[SHIKUMI_RD_NR_OPS];
	u64 submitted;
	u64 completed;
	u64 errors;
	u64 merged;
	u64 deferred;			/* requests moved to the work item */
};

/* The rest, under rd->lock: the models' head, the write cache, cuts. */
struct shikumi_rd_stats {
	u64 head_travel;
	/* the write cache, cache.c */
	u64 cache_flushes;
	u64 cache_fua_writes;
	u64 cache_destages;
	u64 power_cuts;
	u64 cut_dropped;
	u64 cut_kept;
};

/* rd->wc_flags: anything but 0 takes the cache's path (cache.c) */
#define SHIKUMI_RD_WC_ON	BIT(0)	/* the write cache is on */
#define SHIKUMI_RD_POWER_OFF	BIT(1)	/* every request fails */
#define SHIKUMI_RD_WC_KB_MIN	1024
#define SHIKUMI_RD_WC_KB_MAX	(1024 * 1024)
#define SHIKUMI_RD_WC_KB_DEFAULT	16384

/* Per request, in the request's PDU. */
struct shikumi_rd_cmd {
	struct rb_node node;		/* in sorted[dir] while waiting */
	/* deferred: rd->deferred; waiting: rd->fifo; serving: rd->serving */
	struct list_head fifo;
	struct list_head dir_fifo;	/* waiting: rd->dir_fifo[dir] */
	u64 seq;			/* arrival order, breaks ties in sorted[] */
	u64 queued_ns;
	u64 dispatched_ns;
	u64 done_ns;			/* when the model finishes it */
	sector_t sector;
	sector_t head;			/* head position at dispatch */
	unsigned int bytes;
	unsigned int merged;
	blk_status_t status;
	pid_t pid;			/* who submitted the first bio: origin.c */
	u32 flags;			/* SHIKUMI_BLK_F_* */
	char comm[TASK_COMM_LEN];
	u8 op;
	u8 dir;
	u8 model;
	u8 policy;
	u8 channel;
	u8 queue;			/* the hardware queue that took it */
};

/* A hardware queue's part of the trace (ring.c). */
struct shikumi_rd_ring {
	spinlock_t lock;		/* protects the ring; the innermost lock */
	struct shikumi_blk_trace *rec;	/* size records, in rd->trace */
	unsigned int size;
	unsigned int tail;		/* oldest record */
	unsigned int count;
	u32 skipped;			/* dropped since the last record kept */
	u64 dropped;			/* since load or the last reset */
};

/*
 * A hardware queue: what blk-mq maps some CPUs to (its cpu_list in
 * /sys/block/NAME/mq/N/).  Only those CPUs touch it, on their own line.
 */
struct shikumi_rd_queue {
	atomic64_t served;		/* requests ->queue_rq() took, since load */
	struct shikumi_rd_ring ring;
} ____cacheline_aligned_in_smp;

/* What a reader of the trace took from each ring (ring.c). */
struct shikumi_rd_peek {
	unsigned int gen;		/* the trace's, when peeked */
	u64 seq;			/* the next record's number after these */
	unsigned int nr;		/* rings when peeked */
	unsigned int taken[];		/* per ring; then the rings' counts */
};

struct shikumi_rd {
	unsigned int index;
	struct shikumi_rd_queue *queues;	/* max_queues of them */
	unsigned int max_queues;		/* the most it may have: CPU ids, 64 */
	unsigned int nr_queues;			/* hardware queues now: model_lock */
	struct shikumi_rd_req_stats __percpu *req_stats;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct xarray pages;		/* page index -> struct page */
	atomic_long_t nr_pages;		/* pages in the xarray */
	struct mutex model_lock;	/* serializes model switches */

	/*
	 * The write cache (cache.c).  wc_flags is read without a lock on
	 * every request, written under wc_lock; wc_lock serializes the
	 * cache's writes, flushes, cuts and switches, and guards the log.
	 */
	u8 wc_flags;
	struct mutex wc_lock;		/* the cache's writes, cuts, switches */
	struct xarray wc_log;		/* page index -> struct shikumi_rd_undo */
	unsigned long wc_pages;		/* entries in wc_log */
	u32 wc_kb;			/* capacity of the log, in KiB of pages */
	u64 wc_last_seed;

	/*
	 * Requests ->queue_rq() could not serve without sleeping, served by
	 * defer_work on kblockd (main.c: shikumi_rd_defer_fn()).
	 */
	struct work_struct defer_work;

	/*
	 * The trace: a ring per hardware queue, in queues[], whose records
	 * are never overwritten (ring.c); their storage, and what readers
	 * keep under trace_lock.
	 */
	struct shikumi_blk_trace *trace;
	unsigned int trace_entries;	/* records in all, shared by the rings */
	spinlock_t trace_lock;		/* the rings' tails and the two below */
	unsigned int trace_gen;		/* resets of the trace */
	u64 trace_seq;			/* the next record's number */
	struct mutex trace_read_lock;	/* one reader at a time */

	spinlock_t lock;		/* protects everything below */
	u8 model;
	u8 policy;
	unsigned int depth;		/* requests the device holds at once */
	unsigned int held;		/* requests it holds now */
	bool refused;			/* a queue stopped: held reached depth */
	bool dying;			/* unloading: no more queue changes */
	struct shikumi_rd_params p;

	/* the driver's queue, for the ssd and hdd models */
	struct rb_root sorted[2];	/* waiting, by sector, per direction */
	struct list_head fifo;		/* waiting, in arrival order */
	struct list_head dir_fifo[2];	/* waiting, in arrival order, per direction */
	unsigned int nr_waiting;
	struct list_head serving;	/* being served, by done_ns */
	unsigned int nr_serving;
	u64 free_at[SHIKUMI_RD_MAX_CHANNELS];	/* when each channel is free */
	u64 arrivals;
	struct hrtimer timer;		/* fires at the next done_ns */
	sector_t head;			/* where the last request ended */
	/*
	 * hdd: the drive's read-ahead.  After a read it goes on reading
	 * what follows into its cache, from ra_pos at time ra_at, until it
	 * holds hdd_cache_kb beyond ra_used; it keeps from ra_low on.
	 */
	bool ra_valid;
	sector_t ra_low;
	sector_t ra_pos;
	sector_t ra_used;
	u64 ra_at;
	u8 dl_dir;			/* deadline: direction of the batch */
	unsigned int dl_batch;		/* deadline: requests in the batch */
	unsigned int dl_starved;	/* deadline: times writes were passed over */
	struct list_head deferred;	/* waiting for defer_work */

	struct shikumi_rd_stats stats;
	struct shikumi_rd_req_stats req_base;	/* req_stats' sums at the last reset */

	struct dentry *debugfs;
};

/* cache.c */
blk_status_t shikumi_rd_cache_do(struct shikumi_rd *rd, struct request *rq,
				 bool may_sleep);
int shikumi_rd_cache_set(struct shikumi_rd *rd, bool on);
int shikumi_rd_cache_set_kb(struct shikumi_rd *rd, u32 kb);
int shikumi_rd_power_off(struct shikumi_rd *rd, bool torn, bool have_seed,
			 u64 seed);
void shikumi_rd_power_on(struct shikumi_rd *rd);
void shikumi_rd_cache_init(struct shikumi_rd *rd);
void shikumi_rd_cache_free(struct shikumi_rd *rd);

/* main.c */
blk_status_t shikumi_rd_do(struct shikumi_rd *rd, struct request *rq, gfp_t gfp);
int shikumi_rd_set_nr_queues(struct shikumi_rd *rd, unsigned int nr);

/* origin.c */
int shikumi_rd_origin_init(const struct block_device_operations *fops);
void shikumi_rd_origin_exit(void);
void shikumi_rd_origin(const struct request *rq, struct shikumi_rd_cmd *cmd);

/* sched.c */
void shikumi_rd_enqueue(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd);
void shikumi_rd_run(struct shikumi_rd *rd, u64 now, struct list_head *done);
enum hrtimer_restart shikumi_rd_timer_fn(struct hrtimer *timer);

/* sysfs.c */
extern const char * const shikumi_rd_model_names[];
extern const char * const shikumi_rd_policy_names[];
extern const struct attribute_group *shikumi_rd_groups[];

/* trace.c */
void shikumi_rd_req_sum(struct shikumi_rd *rd, struct shikumi_rd_req_stats *sum);
void shikumi_rd_account(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd,
			u64 now);
void shikumi_rd_trace(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd,
		      u64 now);
void shikumi_rd_debugfs_add(struct shikumi_rd *rd);

/* ring.c */
int shikumi_rd_rings_alloc(struct shikumi_rd *rd);
struct shikumi_blk_trace *shikumi_rd_rings_storage(struct shikumi_rd *rd,
						   unsigned int nq);
struct shikumi_blk_trace *shikumi_rd_rings_replace(struct shikumi_rd *rd,
						   struct shikumi_blk_trace *rec,
						   unsigned int nq);
void shikumi_rd_rings_free(struct shikumi_rd *rd);
struct shikumi_blk_trace *shikumi_rd_ring_slot(struct shikumi_rd_ring *ring);
void shikumi_rd_rings_count(struct shikumi_rd *rd, u64 *records, u64 *dropped);
void shikumi_rd_rings_reset(struct shikumi_rd *rd);
struct shikumi_rd_peek *shikumi_rd_peek_alloc(struct shikumi_rd *rd);
unsigned int shikumi_rd_rings_peek(struct shikumi_rd *rd,
				   struct shikumi_blk_trace *buf,
				   unsigned int max, struct shikumi_rd_peek *pk);
void shikumi_rd_rings_consume(struct shikumi_rd *rd,
			      const struct shikumi_rd_peek *pk);

/* sched.c, inline: shikumi_rd_queue_rq() calls them for every request */

/*
 * The head moves to @cmd, which starts now.  rd->lock held; the ram
 * model has no head and no lock: it notes where the last model left it.
 */
static inline void shikumi_rd_move_head(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd,
					u64 start)
{
	cmd->dispatched_ns = start;
	cmd->head = READ_ONCE(rd->head);
	cmd->model = READ_ONCE(rd->model);
	cmd->policy = READ_ONCE(rd->policy);
	if (cmd->model == SHIKUMI_BLK_MODEL_RAM ||
	    (cmd->op != SHIKUMI_BLK_OP_READ && cmd->op != SHIKUMI_BLK_OP_WRITE))
		return;
	rd->stats.head_travel += cmd->sector > rd->head ? cmd->sector - rd->head :
							  rd->head - cmd->sector;
	rd->head = cmd->sector + (cmd->bytes >> SECTOR_SHIFT);
}

/*
 * The model holds fewer requests than its depth again: may the hardware
 * queues it stopped for want of room (->queue_rq()) start again?  Once.
 * rd->lock held.
 */
static inline bool shikumi_rd_room_again(struct shikumi_rd *rd)
{
	if (!rd->refused || rd->held >= rd->depth)
		return false;
	rd->refused = false;
	return true;
}

/*
 * End the requests on @done, and start the queues stopped for want of
 * room if @restart (shikumi_rd_room_again()).  rd->lock not held.
 */
static inline void shikumi_rd_end_all(struct shikumi_rd *rd, struct list_head *done,
				      bool restart)
{
	struct shikumi_rd_cmd *cmd, *next;

	list_for_each_entry_safe(cmd, next, done, fifo)
		blk_mq_end_request(blk_mq_rq_from_pdu(cmd), cmd->status);
	if (restart)
		blk_mq_start_stopped_hw_queues(rd->disk->queue, true);
}

#endif
