// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: the trace's rings, one per hardware queue.
 *
 * A request's record goes to the ring of the hardware queue that took it,
 * under that ring's lock, which only the CPUs blk-mq maps to that queue
 * (and the models' timer) take: the ram path shares no lock with the
 * other queues.  A full ring keeps what it has and counts what it drops.
 * The disk's trace_entries are shared evenly by its rings.
 *
 * Readers merge the rings by completion time and number the records as
 * they hand them out: seq counts from 0 at load and at a reset, and skips
 * one number for each record a ring dropped, just before that ring's next
 * record, so a gap in seq still says where records are missing.  Two
 * records that complete on two queues while a reader looks may come out
 * in the order the reader found them, not the order they completed
 * (blktrace's per-CPU buffers have the same window).
 *
 * Locks: a ring's lock is the innermost.  rd->lock (the models) may be
 * held around it, or trace_lock, which readers and a reset take for the
 * order they keep (trace_gen, trace_seq) and for the rings' tails; the
 * two are never nested.  Records below a ring's count do not change
 * while trace_lock is held: writers only add behind them, and only
 * trace_lock's holders take them out.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "ramdisk.h"

/* Each of @nq rings' share of the disk's trace_entries. */
static unsigned int shikumi_rd_ring_size(struct shikumi_rd *rd, unsigned int nq)
{
	return max_t(unsigned int, SHIKUMI_RD_TRACE_MIN,
		     DIV_ROUND_UP(rd->trace_entries, nq));
}

/* Storage for the rings of @nq queues. */
struct shikumi_blk_trace *shikumi_rd_rings_storage(struct shikumi_rd *rd,
						   unsigned int nq)
{
	return kvcalloc(array_size(shikumi_rd_ring_size(rd, nq), nq),
			sizeof(struct shikumi_blk_trace), GFP_KERNEL);
}

/*
 * From now on the first @nq queues have rings, empty, in @rec (from
 * shikumi_rd_rings_storage()), and the trace starts again from seq 0;
 * returns the storage the rings had.  At load, or with the queue frozen
 * (no request completes), as the number of queues changes.
 */
struct shikumi_blk_trace *shikumi_rd_rings_replace(struct shikumi_rd *rd,
						   struct shikumi_blk_trace *rec,
						   unsigned int nq)
{
	unsigned int size = shikumi_rd_ring_size(rd, nq), i;
	struct shikumi_blk_trace *old;

	spin_lock_irq(&rd->trace_lock);
	old = rd->trace;
	rd->trace = rec;
	rd->trace_gen++;
	rd->trace_seq = 0;
	for (i = 0; i < rd->max_queues; i++) {
		struct shikumi_rd_ring *ring = &rd->queues[i].ring;

		spin_lock(&ring->lock);
		/* a ring of no queue: size 0, it would drop everything */
		ring->rec = i < nq ? rec + (size_t)i * size : NULL;
		ring->size = i < nq ? size : 0;
		ring->tail = 0;
		ring->count = 0;
		ring->skipped = 0;
		ring->dropped = 0;
		spin_unlock(&ring->lock);
	}
	WRITE_ONCE(rd->nr_queues, nq);
	spin_unlock_irq(&rd->trace_lock);
	return old;
}

/* The rings of rd's nr_queues queues, at load. */
int shikumi_rd_rings_alloc(struct shikumi_rd *rd)
{
	struct shikumi_blk_trace *rec;
	unsigned int i;

	spin_lock_init(&rd->trace_lock);
	for (i = 0; i < rd->max_queues; i++)
		spin_lock_init(&rd->queues[i].ring.lock);
	rec = shikumi_rd_rings_storage(rd, rd->nr_queues);
	if (!rec)
		return -ENOMEM;
	shikumi_rd_rings_replace(rd, rec, rd->nr_queues);
	return 0;
}

void shikumi_rd_rings_free(struct shikumi_rd *rd)
{
	kvfree(rd->trace);
}

/*
 * The next record of @ring, for the caller to fill (its seq holds the
 * records dropped just before it: keep it); NULL if the ring is full, and
 * the record is counted dropped.  The ring's lock held.
 */
struct shikumi_blk_trace *shikumi_rd_ring_slot(struct shikumi_rd_ring *ring)
{
	struct shikumi_blk_trace *t;

	if (ring->count == ring->size) {
		ring->dropped++;
		ring->skipped++;
		return NULL;
	}
	t = &ring->rec[(ring->tail + ring->count) % ring->size];
	t->seq = ring->skipped;
	ring->skipped = 0;
	ring->count++;
	return t;
}

/* The records the rings hold, and those they dropped since the reset. */
void shikumi_rd_rings_count(struct shikumi_rd *rd, u64 *records, u64 *dropped)
{
	unsigned long flags;
	unsigned int i;

	*records = 0;
	*dropped = 0;
	/* a ring of no queue (their number changed) is empty */
	for (i = 0; i < READ_ONCE(rd->nr_queues); i++) {
		struct shikumi_rd_ring *ring = &rd->queues[i].ring;

		spin_lock_irqsave(&ring->lock, flags);
		*records += ring->count;
		*dropped += ring->dropped;
		spin_unlock_irqrestore(&ring->lock, flags);
	}
}

void shikumi_rd_rings_reset(struct shikumi_rd *rd)
{
	unsigned int i;

	spin_lock_irq(&rd->trace_lock);
	rd->trace_gen++;
	rd->trace_seq = 0;
	for (i = 0; i < rd->nr_queues; i++) {
		struct shikumi_rd_ring *ring = &rd->queues[i].ring;

		spin_lock(&ring->lock);
		ring->count = 0;
		ring->skipped = 0;
		ring->dropped = 0;
		spin_unlock(&ring->lock);
	}
	spin_unlock_irq(&rd->trace_lock);
}

/* A reader's look at the rings: allocated for rd's queues. */
struct shikumi_rd_peek *shikumi_rd_peek_alloc(struct shikumi_rd *rd)
{
	struct shikumi_rd_peek *pk;

	/* for the most queues: their number may change between two peeks */
	return kmalloc(struct_size(pk, taken, 2 * rd->max_queues), GFP_KERNEL);
}

/*
 * Copy up to @max of the oldest records of all rings to @buf, a kernel
 * buffer, merged and numbered, without taking them out; @pk notes what
 * was taken from where, for shikumi_rd_rings_consume().
 */
unsigned int shikumi_rd_rings_peek(struct shikumi_rd *rd,
				   struct shikumi_blk_trace *buf,
				   unsigned int max, struct shikumi_rd_peek *pk)
{
	unsigned int nq, *avail, i, n;
	u64 seq;

	spin_lock_irq(&rd->trace_lock);
	/* their number changes only under trace_lock (rings_replace()) */
	nq = rd->nr_queues;
	avail = pk->taken + nq;
	pk->nr = nq;
	pk->gen = rd->trace_gen;
	seq = rd->trace_seq;
	for (i = 0; i < nq; i++) {
		struct shikumi_rd_ring *ring = &rd->queues[i].ring;

		spin_lock(&ring->lock);
		avail[i] = ring->count;
		spin_unlock(&ring->lock);
		pk->taken[i] = 0;
	}
	for (n = 0; n < max; n++) {
		const struct shikumi_blk_trace *t, *best = NULL;
		unsigned int b = 0;

		for (i = 0; i < nq; i++) {
			const struct shikumi_rd_ring *ring = &rd->queues[i].ring;

			if (pk->taken[i] == avail[i])
				continue;
			t = &ring->rec[(ring->tail + pk->taken[i]) % ring->size];
			if (!best || t->completed_ns < best->completed_ns) {
				best = t;
				b = i;
			}
		}
		if (!best)
			break;
		buf[n] = *best;
		seq += best->seq;	/* what its ring dropped before it */
		buf[n].seq = seq++;
		pk->taken[b]++;
	}
	pk->seq = seq;
	spin_unlock_irq(&rd->trace_lock);
	return n;
}

/*
 * Take out what the last peek copied, unless a reset came in between:
 * then the records are gone already, and the numbering starts again.
 */
void shikumi_rd_rings_consume(struct shikumi_rd *rd,
			      const struct shikumi_rd_peek *pk)
{
	unsigned int i;

	spin_lock_irq(&rd->trace_lock);
	if (rd->trace_gen == pk->gen) {
		for (i = 0; i < pk->nr; i++) {
			struct shikumi_rd_ring *ring = &rd->queues[i].ring;

			if (!pk->taken[i])
				continue;
			spin_lock(&ring->lock);
			ring->tail = (ring->tail + pk->taken[i]) % ring->size;
			ring->count -= pk->taken[i];
			spin_unlock(&ring->lock);
		}
		rd->trace_seq = pk->seq;
	}
	spin_unlock_irq(&rd->trace_lock);
}
