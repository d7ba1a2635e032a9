/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shikumi_ramdisk: user API of the RAM disk's trace and statistics.
 *
 * Each disk /dev/shikumi-ramN has:
 *
 *  /sys/block/shikumi-ramN/shikumi/	(sysfs, the controls)
 *	model		ram | ssd | hdd				(rw)
 *	policy		fifo | sstf | clook | deadline		(rw)
 *	queue_depth	requests the device holds at once	(rw)
 *	hdd_rpm, hdd_settle_us, hdd_full_seek_us, hdd_media_mbps,
 *	hdd_cache_kb, hdd_iface_mbps				(rw)
 *	ssd_latency_us, ssd_channel_mbps, ssd_channels		(rw)
 *	deadline_read_expire_ms, deadline_write_expire_ms,
 *	deadline_fifo_batch, deadline_writes_starved		(rw)
 *	pages		pages of memory the disk holds		(ro)
 *	reset		write 1: zero the statistics, empty the trace and
 *			restart its sequence numbers (wo)
 *	write_cache	0 | 1: the volatile write cache model (rw, off
 *			by default); writing needs CAP_SYS_ADMIN (EPERM)
 *	write_cache_kb	its capacity in KiB, 1024-1048576, default
 *			16384 (rw, CAP_SYS_ADMIN)
 *	power		on | off (read); write "off", "off torn",
 *			"off torn SEED" (a power cut) or "on"
 *			(CAP_SYS_ADMIN; EBUSY to cut a disk that is off)
 *
 * The write cache (modules/ramdisk/cache.c).  With write_cache 1 the disk
 * says it has a volatile write cache and FUA (queue/write_cache "write
 * back", queue/fua 1).  A write is not durable until a flush
 * (REQ_OP_FLUSH, which makes every write durable) or, for its own
 * sectors, until it is written with REQ_FUA.  Discard and write-zeroes
 * are durable at once.  When more than write_cache_kb of pages hold
 * non-durable sectors, the cache destages: everything becomes durable.
 * Turning the cache off destages too.
 * A power cut ("off") puts every non-durable sector back to its durable
 * content; "off torn SEED" keeps each one or not, independently: sector S
 * is kept iff bit 63 of shikumi_blk_torn_mix(SEED + S) is set, so the same
 * seed on the same writes keeps the same sectors.  Without a SEED the
 * module picks one at random and reports it (cut_last_seed in stats, and
 * the kernel log).  While the power is off every request fails with EIO;
 * "on" resumes.
 *
 *  /sys/kernel/debug/shikumi/shikumi-ramN/	(debugfs, root only;
 *						 trace and trace_raw also
 *						 need CAP_SYS_ADMIN, as
 *						 blktrace does: EPERM)
 *	stats		"key value" lines, see below
 *	trace		the trace as text, one request per line
 *	trace_raw	the trace as struct shikumi_blk_trace records
 *
 * Reading trace or trace_raw consumes what it returns, like trace_pipe, and
 * returns 0 (end of file) when the buffer is empty.  trace_raw returns whole
 * records only: as many as fit in the read, and EINVAL for a read smaller
 * than one record.
 * The buffer holds trace_entries records (a module parameter, 65536 by
 * default); while it is full, new records are dropped and counted in
 * trace_dropped.  Nothing is ever overwritten.
 *
 * All times are CLOCK_MONOTONIC nanoseconds (ktime_get_ns()); sectors are
 * 512 bytes.
 */
#ifndef _UAPI_SHIKUMI_RAMDISK_H
#define _UAPI_SHIKUMI_RAMDISK_H

#include <linux/types.h>

/* service models */
#define SHIKUMI_BLK_MODEL_RAM		0	/* complete inline */
#define SHIKUMI_BLK_MODEL_SSD		1	/* latency + bandwidth, N channels */
#define SHIKUMI_BLK_MODEL_HDD		2	/* one head: seek, rotation, transfer */

/* scheduling policies inside the driver */
#define SHIKUMI_BLK_POLICY_FIFO		0	/* arrival order */
#define SHIKUMI_BLK_POLICY_SSTF		1	/* shortest seek first */
#define SHIKUMI_BLK_POLICY_CLOOK	2	/* ascending sweep, jump back */
#define SHIKUMI_BLK_POLICY_DEADLINE	3	/* sorted, expiry FIFOs per direction */

/* operations */
#define SHIKUMI_BLK_OP_READ		0
#define SHIKUMI_BLK_OP_WRITE		1
#define SHIKUMI_BLK_OP_FLUSH		2
#define SHIKUMI_BLK_OP_DISCARD		3
#define SHIKUMI_BLK_OP_WRITE_ZEROES	4
/* not a request: a power cut, one record per run of sectors it decided */
#define SHIKUMI_BLK_OP_POWERCUT		5

/*
 * Their names, as sysfs, the trace and the CLI spell them: initializers
 * for a const char *const array indexed by the numbers above, shared by
 * the module and the CLI so the two cannot disagree.
 */
#define SHIKUMI_BLK_MODEL_NAMES {			\
	[SHIKUMI_BLK_MODEL_RAM]		= "ram",	\
	[SHIKUMI_BLK_MODEL_SSD]		= "ssd",	\
	[SHIKUMI_BLK_MODEL_HDD]		= "hdd",	\
}

#define SHIKUMI_BLK_POLICY_NAMES {			\
	[SHIKUMI_BLK_POLICY_FIFO]	= "fifo",	\
	[SHIKUMI_BLK_POLICY_SSTF]	= "sstf",	\
	[SHIKUMI_BLK_POLICY_CLOOK]	= "clook",	\
	[SHIKUMI_BLK_POLICY_DEADLINE]	= "deadline",	\
}

#define SHIKUMI_BLK_OP_NAMES {					\
	[SHIKUMI_BLK_OP_READ]		= "read",		\
	[SHIKUMI_BLK_OP_WRITE]		= "write",		\
	[SHIKUMI_BLK_OP_FLUSH]		= "flush",		\
	[SHIKUMI_BLK_OP_DISCARD]	= "discard",		\
	[SHIKUMI_BLK_OP_WRITE_ZEROES]	= "write_zeroes",	\
	[SHIKUMI_BLK_OP_POWERCUT]	= "powercut",		\
}

/*
 * One served request.  Requests appear in the order they completed.
 * dispatched_ns is when the model began to serve the request (for the hdd
 * model, when the head started to move to it); head is where the head was
 * then.  The head of the ssd and ram models is where the previous request
 * ended, so that travel can be compared across models.
 * pid and comm name the task that submitted the request's first bio, as
 * blktrace's queue event does: the application's own for its reads and
 * its direct or synchronous writes, the flusher's kworker for writeback,
 * kswapd or the reclaiming task for a swap-out.
 */
struct shikumi_blk_trace {
	__u64 seq;		/* from 0 at load and reset; a gap: drops */
	__u64 queued_ns;	/* accepted by the driver */
	__u64 dispatched_ns;	/* service began */
	__u64 completed_ns;	/* completed to the block layer */
	__u64 sector;		/* first sector */
	__u64 head;		/* head position (sector) at dispatch */
	__u32 bytes;		/* length */
	__u8 op;		/* SHIKUMI_BLK_OP_* */
	__u8 model;		/* SHIKUMI_BLK_MODEL_* */
	__u8 policy;		/* SHIKUMI_BLK_POLICY_* */
	__u8 error;		/* 0, or a positive errno */
	__u32 merged;		/* bios merged into this request */
	__s32 pid;		/* who submitted its first bio; 0: not known */
	__u32 flags;		/* SHIKUMI_BLK_F_*: why it was sent */
	__u32 reserved;		/* zero */
	char comm[16];		/* that task's name, NUL-padded */
};

/*
 * A request's flags, as the driver receives them (the kernel's REQ_*).
 * A disk without a volatile write cache never receives preflush and fua:
 * the block layer drops them first.
 */
#define SHIKUMI_BLK_F_SYNC		(1U << 0)	/* someone waits for it */
#define SHIKUMI_BLK_F_META		(1U << 1)	/* filesystem metadata */
#define SHIKUMI_BLK_F_PRIO		(1U << 2)	/* boosted priority */
#define SHIKUMI_BLK_F_READAHEAD		(1U << 3)	/* read before it is asked for */
#define SHIKUMI_BLK_F_BACKGROUND	(1U << 4)	/* the flusher's background writeback */
#define SHIKUMI_BLK_F_FUA		(1U << 5)	/* durable when complete */
#define SHIKUMI_BLK_F_PREFLUSH		(1U << 6)	/* flush the cache first */
#define SHIKUMI_BLK_F_SWAP		(1U << 7)	/* swap-in or swap-out */
#define SHIKUMI_BLK_F_IDLE		(1U << 8)	/* nothing follows it soon */
#define SHIKUMI_BLK_F_NOWAIT		(1U << 9)	/* fail rather than block */
/*
 * Only on SHIKUMI_BLK_OP_POWERCUT records, each a run of non-durable
 * sectors (sector, bytes) in one page: torn, the cut was "off torn";
 * dropped, the run went back to its durable content (else it was kept).
 */
#define SHIKUMI_BLK_F_TORN		(1U << 10)
#define SHIKUMI_BLK_F_DROPPED		(1U << 11)
#define SHIKUMI_BLK_NR_FLAGS		12

#define SHIKUMI_BLK_FLAG_NAMES {	\
	"sync", "meta", "prio", "readahead", "background", "fua",	\
	"preflush", "swap", "idle", "nowait", "torn", "dropped",	\
}

/*
 * The torn cut's choice: splitmix64's finalizer.  Sector S survives a cut
 * "off torn SEED" iff shikumi_blk_torn_mix(SEED + S) >> 63 is 1.
 */
static inline __u64 shikumi_blk_torn_mix(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * debugfs stats: one "key value" per line.  Keys, with OP one of read,
 * write, flush, discard, write_zeroes:
 *	model NAME, policy NAME
 *	submitted N		requests accepted by the driver
 *	completed N		requests completed
 *	in_driver N		accepted, not completed yet
 *	errors N		completed with an error
 *	merged N		bios merged into requests before they reached us
 *	head_travel N		sectors the head moved, in total
 *	head N			current head position
 *				(the ram model has no head: it moves neither)
 *	trace_records N		records waiting in the trace buffer
 *	trace_record_bytes N	sizeof(struct shikumi_blk_trace)
 *	trace_dropped N		records dropped because it was full
 *	OP.count N, OP.bytes N, OP.lat_ns N (sum of completed - queued)
 *	OP.lat_hist N0 N1 ... (SHIKUMI_BLK_HIST_BUCKETS counts)
 *	(OP is never powercut: a cut is not a request.)
 *	write_cache N		1: the write cache is on
 *	write_cache_kb N	its capacity
 *	power_off N		1: the power is off
 *	cache_flushes N		flushes the cache received while on
 *	cache_fua_writes N	FUA writes it received while on
 *	cache_destages N	times it was full and made everything durable
 *				(turning it off counts too)
 *	cache_log_pages N	pages with non-durable sectors now
 *	power_cuts N		power cuts
 *	cut_sectors_dropped N	non-durable sectors the cuts put back
 *	cut_sectors_kept N	non-durable sectors torn cuts kept
 *	cut_last_seed N		the seed of the last torn cut
 *	deferred N		requests served later by the driver's work item,
 *				because serving them at once would have slept
 *				(no page without waiting for memory, the write
 *				cache's lock taken or its log to walk)
 * The keys after OP.lat_hist may grow: readers skip keys they do not know.
 * Latency bucket 0 holds latencies below 1 us; bucket i > 0 holds
 * [2^(i-1), 2^i) us; the last bucket holds everything above.
 */
#define SHIKUMI_BLK_HIST_BUCKETS	24

#endif /* _UAPI_SHIKUMI_RAMDISK_H */
