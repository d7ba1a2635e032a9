// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: the I/O scheduler inside the driver, for the ssd and
 * hdd models (null_blk's zoned.c is the analogue): the service models,
 * the policies that pick the next request, and the driver's queue.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/rbtree.h>
#include <linux/spinlock.h>

#include <uapi/shikumi/ramdisk.h>

#include "ramdisk.h"

/* ------------------------------------------------------------------ */
/* Service models                                                       */
/* ------------------------------------------------------------------ */

/* The geometry of the hdd model: sectors per track, and one revolution. */
static void shikumi_rd_hdd_geometry(const struct shikumi_rd *rd, u64 *spt, u64 *rev)
{
	u64 rate = (u64)rd->p.hdd_media_mbps * 1000000;	/* bytes/s */

	*rev = div_u64(60ULL * NSEC_PER_SEC, rd->p.hdd_rpm);
	*spt = max_t(u64, div64_u64(rate * *rev, NSEC_PER_SEC * SECTOR_SIZE), 1);
}

/*
 * A mechanical access: the head seeks from where the previous request
 * ended, waits for the first sector to come round, and transfers.  The
 * platter's angle at time t is t mod (one revolution), and a track holds
 * what passes under the head in one revolution at the media rate.
 */
static u64 shikumi_rd_hdd_access(const struct shikumi_rd *rd,
				 const struct shikumi_rd_cmd *cmd, u64 start,
				 u64 spt, u64 rev)
{
	const struct shikumi_rd_params *p = &rd->p;
	u64 tracks, settle, full, from, to, dist, angle, target, rot, rem;
	u64 seek = 0;

	tracks = max_t(u64, div64_u64(get_capacity(rd->disk) + spt - 1, spt), 1);
	settle = (u64)p->hdd_settle_us * NSEC_PER_USEC;
	full = max_t(u64, (u64)p->hdd_full_seek_us * NSEC_PER_USEC, settle);
	from = div64_u64(rd->head, spt);
	to = div64_u64(cmd->sector, spt);
	dist = from > to ? from - to : to - from;

	/* a sequential request crosses to the next track for free (track skew) */
	if (dist && cmd->sector != rd->head)
		seek = settle + div64_u64((full - settle) * dist, tracks);
	div64_u64_rem(start + seek, rev, &angle);
	div64_u64_rem(cmd->sector, spt, &rem);
	target = div64_u64(rem * rev, spt);
	rot = target >= angle ? target - angle : rev - angle + target;
	/* rounding must not turn "just in time" into a whole revolution */
	if (rev - rot < NSEC_PER_USEC)
		rot = 0;
	return seek + rot + div64_u64((u64)cmd->bytes * rev, spt * SECTOR_SIZE);
}

/* The size of the drive's read-ahead cache, in sectors. */
static sector_t shikumi_rd_hdd_cache_sectors(const struct shikumi_rd *rd)
{
	return (sector_t)rd->p.hdd_cache_kb << 1;
}

/* How far the drive's read-ahead has got by @t.  rd->lock held. */
static sector_t shikumi_rd_hdd_cached(const struct shikumi_rd *rd, u64 spt,
				      u64 rev, u64 t)
{
	sector_t cap = rd->ra_used + shikumi_rd_hdd_cache_sectors(rd);
	/* 128 bits in between: hours idle times spt would wrap a u64 */
	u64 ahead = t > rd->ra_at ? mul_u64_u64_div_u64(t - rd->ra_at, spt, rev) : 0;

	if (rd->ra_pos >= cap)
		return rd->ra_pos;
	return min_t(u64, rd->ra_pos + ahead, cap);
}

/*
 * The hdd model: how long the disk takes to serve @cmd from @start.  A read
 * that starts in the drive's cache costs the link transfer, plus the media
 * time of any part the read-ahead has not reached yet; anything else is a
 * mechanical access.  rd->lock held.
 */
static u64 shikumi_rd_hdd_time(struct shikumi_rd *rd,
			       const struct shikumi_rd_cmd *cmd, u64 start)
{
	sector_t end = cmd->sector + (cmd->bytes >> SECTOR_SHIFT);
	sector_t size = shikumi_rd_hdd_cache_sectors(rd);
	sector_t cached, low;
	u64 spt, rev, t;

	shikumi_rd_hdd_geometry(rd, &spt, &rev);
	if (cmd->op != SHIKUMI_BLK_OP_READ || !size) {
		rd->ra_valid = false;
		return shikumi_rd_hdd_access(rd, cmd, start, spt, rev);
	}
	if (rd->ra_valid) {
		cached = shikumi_rd_hdd_cached(rd, spt, rev, start);
		low = max_t(u64, rd->ra_low, cached > size ? cached - size : 0);
		if (cmd->sector >= low && cmd->sector <= cached) {
			/* over the link */
			t = div64_u64((u64)cmd->bytes * NSEC_PER_SEC,
				      (u64)rd->p.hdd_iface_mbps * 1000000);
			if (end > cached) {
				/* the read catches up with the read-ahead */
				t += div64_u64((end - cached) * rev, spt);
				rd->ra_pos = end;
				rd->ra_at = start + t;
			} else {
				rd->ra_pos = cached;
				rd->ra_at = start;
			}
			rd->ra_used = max(rd->ra_used, end);
			return t;
		}
	}
	t = shikumi_rd_hdd_access(rd, cmd, start, spt, rev);
	rd->ra_valid = true;
	rd->ra_low = cmd->sector;
	rd->ra_pos = end;
	rd->ra_used = end;
	rd->ra_at = start + t;
	return t;
}

static u64 shikumi_rd_ssd_time(const struct shikumi_rd *rd,
			       const struct shikumi_rd_cmd *cmd)
{
	const struct shikumi_rd_params *p = &rd->p;

	return (u64)p->ssd_latency_us * NSEC_PER_USEC +
	       div64_u64((u64)cmd->bytes * NSEC_PER_SEC,
			 (u64)p->ssd_channel_mbps * 1000000);
}

static unsigned int shikumi_rd_channels(const struct shikumi_rd *rd)
{
	return rd->model == SHIKUMI_BLK_MODEL_HDD ? 1 : rd->p.ssd_channels;
}

/* ------------------------------------------------------------------ */
/* Policies: which waiting request the model serves next                */
/* ------------------------------------------------------------------ */

static struct shikumi_rd_cmd *shikumi_rd_node_cmd(struct rb_node *node)
{
	return node ? rb_entry(node, struct shikumi_rd_cmd, node) : NULL;
}

static void shikumi_rd_sort_add(struct rb_root *root, struct shikumi_rd_cmd *cmd)
{
	struct rb_node **link = &root->rb_node, *parent = NULL;

	while (*link) {
		struct shikumi_rd_cmd *c = shikumi_rd_node_cmd(*link);

		parent = *link;
		if (cmd->sector < c->sector ||
		    (cmd->sector == c->sector && cmd->seq < c->seq))
			link = &parent->rb_left;
		else
			link = &parent->rb_right;
	}
	rb_link_node(&cmd->node, parent, link);
	rb_insert_color(&cmd->node, root);
}

/* The first waiting request at or after @pos, or NULL. */
static struct shikumi_rd_cmd *shikumi_rd_ceil(struct rb_root *root, sector_t pos)
{
	struct rb_node *node = root->rb_node, *best = NULL;

	while (node) {
		if (shikumi_rd_node_cmd(node)->sector >= pos) {
			best = node;
			node = node->rb_left;
		} else {
			node = node->rb_right;
		}
	}
	return shikumi_rd_node_cmd(best);
}

/* clook in one direction: the next request up from @pos, else the lowest. */
static struct shikumi_rd_cmd *shikumi_rd_sweep(struct rb_root *root, sector_t pos)
{
	return shikumi_rd_ceil(root, pos) ?: shikumi_rd_node_cmd(rb_first(root));
}

static u64 shikumi_rd_dist(sector_t a, sector_t b)
{
	return a > b ? a - b : b - a;
}

static struct shikumi_rd_cmd *shikumi_rd_pick_sstf(struct shikumi_rd *rd)
{
	struct shikumi_rd_cmd *best = NULL;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		struct shikumi_rd_cmd *up = shikumi_rd_ceil(&rd->sorted[dir], rd->head);
		struct rb_node *prev = up ? rb_prev(&up->node) : rb_last(&rd->sorted[dir]);
		struct shikumi_rd_cmd *down = shikumi_rd_node_cmd(prev);

		if (up && (!best || shikumi_rd_dist(up->sector, rd->head) <
				    shikumi_rd_dist(best->sector, rd->head)))
			best = up;
		if (down && (!best || shikumi_rd_dist(down->sector, rd->head) <
				      shikumi_rd_dist(best->sector, rd->head)))
			best = down;
	}
	return best;
}

static struct shikumi_rd_cmd *shikumi_rd_pick_clook(struct shikumi_rd *rd)
{
	struct shikumi_rd_cmd *best = NULL, *c;
	int dir;

	/* the nearest request up from the head, in either direction */
	for (dir = 0; dir < 2; dir++) {
		c = shikumi_rd_ceil(&rd->sorted[dir], rd->head);
		if (c && (!best || c->sector < best->sector))
			best = c;
	}
	if (best)
		return best;
	/* none: jump back to the lowest */
	for (dir = 0; dir < 2; dir++) {
		c = shikumi_rd_node_cmd(rb_first(&rd->sorted[dir]));
		if (c && (!best || c->sector < best->sector))
			best = c;
	}
	return best;
}

/*
 * deadline, as mq-deadline: serve one direction in batches of ascending
 * sectors; prefer reads, but not more than writes_starved times in a row
 * while writes wait; start a batch at the oldest request of its direction
 * if that one has waited past its expiry time.
 */
static struct shikumi_rd_cmd *
shikumi_rd_pick_deadline(struct shikumi_rd *rd, u64 now)
{
	bool reads = !list_empty(&rd->dir_fifo[READ]);
	bool writes = !list_empty(&rd->dir_fifo[WRITE]);
	struct shikumi_rd_cmd *oldest, *cmd;
	u64 expire;
	u8 dir;

	if (rd->dl_batch && rd->dl_batch < rd->p.deadline_fifo_batch) {
		cmd = shikumi_rd_ceil(&rd->sorted[rd->dl_dir], rd->head);
		if (cmd) {
			rd->dl_batch++;
			return cmd;
		}
	}

	if (reads && (!writes || rd->dl_starved < rd->p.deadline_writes_starved)) {
		dir = READ;
		if (writes)
			rd->dl_starved++;
	} else {
		dir = WRITE;
		rd->dl_starved = 0;
	}

	oldest = list_first_entry(&rd->dir_fifo[dir], struct shikumi_rd_cmd, dir_fifo);
	expire = (u64)(dir == READ ? rd->p.deadline_read_expire_ms :
				     rd->p.deadline_write_expire_ms) * NSEC_PER_MSEC;
	if (now - oldest->queued_ns >= expire)
		cmd = oldest;
	else
		cmd = shikumi_rd_sweep(&rd->sorted[dir], rd->head);
	rd->dl_dir = dir;
	rd->dl_batch = 1;
	return cmd;
}

static struct shikumi_rd_cmd *shikumi_rd_pick(struct shikumi_rd *rd, u64 now)
{
	switch (rd->policy) {
	case SHIKUMI_BLK_POLICY_SSTF:
		return shikumi_rd_pick_sstf(rd);
	case SHIKUMI_BLK_POLICY_CLOOK:
		return shikumi_rd_pick_clook(rd);
	case SHIKUMI_BLK_POLICY_DEADLINE:
		return shikumi_rd_pick_deadline(rd, now);
	default:
		return list_first_entry(&rd->fifo, struct shikumi_rd_cmd, fifo);
	}
}

/* ------------------------------------------------------------------ */
/* The driver's queue                                                   */
/* ------------------------------------------------------------------ */

void shikumi_rd_enqueue(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd)
{
	cmd->seq = rd->arrivals++;
	shikumi_rd_sort_add(&rd->sorted[cmd->dir], cmd);
	list_add_tail(&cmd->fifo, &rd->fifo);
	list_add_tail(&cmd->dir_fifo, &rd->dir_fifo[cmd->dir]);
	rd->nr_waiting++;
}

/* Start serving @cmd on the channel that frees first. */
static void shikumi_rd_serve(struct shikumi_rd *rd, struct shikumi_rd_cmd *cmd)
{
	unsigned int nr = shikumi_rd_channels(rd), ch, i;
	struct shikumi_rd_cmd *c;
	u64 start;

	rb_erase(&cmd->node, &rd->sorted[cmd->dir]);
	list_del(&cmd->fifo);
	list_del(&cmd->dir_fifo);
	rd->nr_waiting--;

	for (ch = 0, i = 1; i < nr; i++)
		if (rd->free_at[i] < rd->free_at[ch])
			ch = i;
	/* a channel idle when the request came starts it on arrival */
	start = max(rd->free_at[ch], cmd->queued_ns);
	if (rd->model == SHIKUMI_BLK_MODEL_HDD)
		cmd->done_ns = start + shikumi_rd_hdd_time(rd, cmd, start);
	else
		cmd->done_ns = start + shikumi_rd_ssd_time(rd, cmd);
	shikumi_rd_move_head(rd, cmd, start);
	cmd->channel = ch;
	rd->free_at[ch] = cmd->done_ns;

	/* keep rd->serving sorted by done_ns; it holds at most 64 */
	list_for_each_entry_reverse(c, &rd->serving, fifo)
		if (c->done_ns <= cmd->done_ns)
			break;
	list_add(&cmd->fifo, &c->fifo);
	rd->nr_serving++;
}

/*
 * Complete what the model has finished by @now onto @done, and start
 * waiting requests on free channels.  rd->lock held.
 */
void shikumi_rd_run(struct shikumi_rd *rd, u64 now, struct list_head *done)
{
	struct shikumi_rd_cmd *cmd;

	for (;;) {
		cmd = list_first_entry_or_null(&rd->serving, struct shikumi_rd_cmd, fifo);
		if (cmd && cmd->done_ns <= now) {
			list_move_tail(&cmd->fifo, done);
			rd->nr_serving--;
			rd->held--;
			shikumi_rd_account(rd, cmd, now);
			shikumi_rd_trace(rd, cmd, now);
			continue;
		}
		if (!rd->nr_waiting || rd->nr_serving >= shikumi_rd_channels(rd))
			break;
		shikumi_rd_serve(rd, shikumi_rd_pick(rd, now));
	}
	if (cmd)
		hrtimer_start(&rd->timer, ns_to_ktime(cmd->done_ns),
			      HRTIMER_MODE_ABS_SOFT);
}

enum hrtimer_restart shikumi_rd_timer_fn(struct hrtimer *timer)
{
	struct shikumi_rd *rd = container_of(timer, struct shikumi_rd, timer);
	unsigned long flags;
	LIST_HEAD(done);
	bool restart;

	spin_lock_irqsave(&rd->lock, flags);
	shikumi_rd_run(rd, ktime_get_ns(), &done);
	restart = shikumi_rd_room_again(rd);
	spin_unlock_irqrestore(&rd->lock, flags);
	shikumi_rd_end_all(rd, &done, restart);
	return HRTIMER_NORESTART;
}
