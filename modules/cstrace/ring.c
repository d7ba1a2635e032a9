// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_cstrace: the probes, writing each CPU's ring from inside the
 * scheduler, and starting and stopping them (registering the probes,
 * allocating and emptying the rings).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include <uapi/shikumi/cstrace.h>

#include "cstrace.h"

/* ------------------------------------------------------------------ */
/* The probes: interrupts off, inside the scheduler.  No locks, no      */
/* sleeping, no printk.                                                 */
/* ------------------------------------------------------------------ */

/*
 * Each ring has one producer, its CPU's probes, with interrupts off, so
 * that no probe can interrupt another on the same CPU.  sched_switch fires
 * inside __schedule(), sched_wakeup_new under the task's pi_lock and
 * sched_migrate_task under the pi_lock or the runqueue's lock
 * (set_task_cpu() insists), all raw spinlocks taken with interrupts off.
 * sched_wakeup mostly fires under the runqueue lock too, but not when a
 * task wakes itself (try_to_wake_up()'s p == current path, e.g. a timer
 * softirq waking the task it interrupted), so that probe turns interrupts
 * off itself.  None fires in NMI.  lockdep checks all of it: the debug
 * kernel caught the p == current case.
 */

static __always_inline bool shikumi_cs_task_traced(const struct task_struct *t)
{
	return test_bit(t->pid, shikumi_cs.pids) || test_bit(t->tgid, shikumi_cs.tgids);
}

static __always_inline bool shikumi_cs_cpu_traced(unsigned int cpu)
{
	return shikumi_cs.any_cpu || cpumask_test_cpu(cpu, shikumi_cs.cpus);
}

/* a slot for one record on this CPU, or NULL if the ring is full */
static struct shikumi_cs_rec *shikumi_cs_reserve(struct shikumi_cs_ring *ring)
{
	unsigned long head = ring->head;
	/* the reader is done with the slots below its tail */
	unsigned long tail = smp_load_acquire(&ring->tail);
	unsigned long need = ring->lost_pending ? 2 : 1;
	struct shikumi_cs_rec *rec;

	if (unlikely(!ring->recs || head - tail + need > shikumi_cs.nr)) {
		ring->lost_pending++;
		WRITE_ONCE(ring->dropped, ring->dropped + 1);
		return NULL;
	}
	if (unlikely(ring->lost_pending)) {
		/* say where the dropped events were, then go on */
		rec = &ring->recs[head & (shikumi_cs.nr - 1)];
		memset(rec, 0, sizeof(*rec));
		rec->ts_ns = ktime_get_mono_fast_ns();
		rec->type = SHIKUMI_CS_LOST;
		rec->cpu = smp_processor_id();
		rec->lost = ring->lost_pending;
		ring->lost_pending = 0;
		WRITE_ONCE(ring->lost_records, ring->lost_records + 1);
		/* publish the LOST record, complete, to the reader */
		smp_store_release(&ring->head, head + 1);
		head++;
	}
	return &ring->recs[head & (shikumi_cs.nr - 1)];
}

static void shikumi_cs_commit(struct shikumi_cs_ring *ring)
{
	unsigned long head = ring->head + 1;
	unsigned long fill;

	/* the record is complete before the reader can see it */
	smp_store_release(&ring->head, head);
	WRITE_ONCE(ring->written, ring->written + 1);
	fill = head - READ_ONCE(ring->tail);
	if (unlikely(fill > ring->max_fill))
		WRITE_ONCE(ring->max_fill, fill);
	/*
	 * wake_up() here could deadlock on the runqueue lock we are called
	 * under: an irq_work wakes the reader once we are out.  Not on a
	 * CPU going offline, whose irq_work queue has already been run.  A
	 * reader sleeping in read() is woken at half a ring (it also looks
	 * every 100 ms), one sleeping in poll() by the first record.
	 */
	if (unlikely(fill >= shikumi_cs.nr / 2 || fill == 1)) {
		/* orders our head store before reading the flags */
		smp_mb();
		if (((fill >= shikumi_cs.nr / 2 && READ_ONCE(shikumi_cs.reader_waiting)) ||
		     READ_ONCE(shikumi_cs.poll_waiting)) &&
		    likely(cpu_online(smp_processor_id())))
			irq_work_queue(&shikumi_cs.wake_work);
	}
}

static __always_inline void shikumi_cs_comm(char *dst, const struct task_struct *t)
{
	BUILD_BUG_ON(sizeof(t->comm) < SHIKUMI_CS_COMM_LEN);
	memcpy(dst, t->comm, SHIKUMI_CS_COMM_LEN);
	dst[SHIKUMI_CS_COMM_LEN - 1] = '\0';
}

void shikumi_cs_probe_switch(void *data, bool preempt, struct task_struct *prev,
			     struct task_struct *next, unsigned int prev_state)
{
	struct shikumi_cs_rec *rec;
	struct shikumi_cs_ring *ring;

	if (shikumi_cs.by_id && !shikumi_cs_task_traced(prev) && !shikumi_cs_task_traced(next))
		return;

	lockdep_assert_irqs_disabled();
	if (!shikumi_cs_cpu_traced(smp_processor_id()))
		goto out;
	ring = this_cpu_ptr(shikumi_cs.rings);
	rec = shikumi_cs_reserve(ring);
	if (rec) {
		rec->ts_ns = ktime_get_mono_fast_ns();
		rec->type = SHIKUMI_CS_SWITCH;
		rec->cpu = smp_processor_id();
		rec->flags = preempt ? SHIKUMI_CS_F_PREEMPT : 0;
		/* a preempted task is runnable whatever its state says */
		rec->prev_state = preempt ? SHIKUMI_CS_STATE_RUNNING :
			__task_state_index(prev_state, prev->exit_state);
		rec->reserved = 0;
		rec->prev_pid = prev->pid;
		rec->prev_tgid = prev->tgid;
		rec->next_pid = next->pid;
		rec->next_tgid = next->tgid;
		rec->prev_prio = prev->prio;
		rec->next_prio = next->prio;
		rec->prev_raw_state = prev_state;
		/* the kernel counted this switch in one of them just before */
		rec->prev_nvcsw = prev->nvcsw;
		rec->prev_nivcsw = prev->nivcsw;
		shikumi_cs_comm(rec->prev_comm, prev);
		shikumi_cs_comm(rec->next_comm, next);
		shikumi_cs_commit(ring);
	}
out:
	/* a task's last switch: its pid may be reused by a stranger */
	if (shikumi_cs.by_id && shikumi_cs.follow_fork && (prev_state & TASK_DEAD))
		clear_bit(prev->pid, shikumi_cs.pids);
}

static void shikumi_cs_wakeup(struct task_struct *p, u16 type)
{
	unsigned int target = task_cpu(p);
	struct shikumi_cs_rec *rec;
	struct shikumi_cs_ring *ring;

	if ((shikumi_cs.by_id && !shikumi_cs_task_traced(p)) || !shikumi_cs_cpu_traced(target))
		return;

	lockdep_assert_irqs_disabled();
	ring = this_cpu_ptr(shikumi_cs.rings);
	rec = shikumi_cs_reserve(ring);
	if (rec) {
		rec->ts_ns = ktime_get_mono_fast_ns();
		rec->type = type;
		rec->cpu = smp_processor_id();
		rec->flags = 0;
		rec->prev_state = 0;
		rec->reserved = 0;
		rec->prev_pid = p->pid;
		rec->prev_tgid = p->tgid;
		/* the waker; the idle task when an interrupt on idle woke p */
		rec->next_pid = current->pid;
		rec->next_tgid = current->tgid;
		rec->prev_prio = p->prio;
		rec->next_prio = current->prio;
		rec->prev_raw_state = 0;
		rec->cpu_from = target;
		rec->cpu_to = target;
		shikumi_cs_comm(rec->prev_comm, p);
		shikumi_cs_comm(rec->next_comm, current);
		shikumi_cs_commit(ring);
	}
}

void shikumi_cs_probe_wakeup(void *data, struct task_struct *p)
{
	unsigned long flags;

	/* try_to_wake_up() waking current fires this with interrupts on */
	local_irq_save(flags);
	shikumi_cs_wakeup(p, SHIKUMI_CS_WAKEUP);
	local_irq_restore(flags);
}

void shikumi_cs_probe_wakeup_new(void *data, struct task_struct *p)
{
	/* the parent (or the cloning thread) is current */
	if (shikumi_cs.by_id && shikumi_cs.follow_fork && shikumi_cs_task_traced(current))
		set_bit(p->pid, shikumi_cs.pids);
	shikumi_cs_wakeup(p, SHIKUMI_CS_WAKEUP_NEW);
}

void shikumi_cs_probe_migrate(void *data, struct task_struct *p, int dest_cpu)
{
	unsigned int orig = task_cpu(p);
	struct shikumi_cs_rec *rec;
	struct shikumi_cs_ring *ring;

	if (shikumi_cs.by_id && !shikumi_cs_task_traced(p))
		return;
	if (!shikumi_cs_cpu_traced(orig) && !shikumi_cs_cpu_traced(dest_cpu))
		return;

	lockdep_assert_irqs_disabled();
	ring = this_cpu_ptr(shikumi_cs.rings);
	rec = shikumi_cs_reserve(ring);
	if (rec) {
		memset(rec, 0, sizeof(*rec));
		rec->ts_ns = ktime_get_mono_fast_ns();
		rec->type = SHIKUMI_CS_MIGRATE;
		rec->cpu = smp_processor_id();
		rec->prev_pid = p->pid;
		rec->prev_tgid = p->tgid;
		rec->prev_prio = p->prio;
		rec->cpu_from = orig;
		rec->cpu_to = dest_cpu;
		shikumi_cs_comm(rec->prev_comm, p);
		shikumi_cs_commit(ring);
	}
}

void shikumi_cs_wake_reader(struct irq_work *work)
{
	wake_up_interruptible(&shikumi_cs.wait);
}

/* ------------------------------------------------------------------ */
/* Starting and stopping                                                */
/* ------------------------------------------------------------------ */

struct shikumi_probe shikumi_cs_probes[SHIKUMI_CS_NR_TP] = {
	[SHIKUMI_CS_TP_SWITCH]		= { "sched_switch", shikumi_cs_probe_switch },
	[SHIKUMI_CS_TP_WAKEUP]		= { "sched_wakeup", shikumi_cs_probe_wakeup },
	[SHIKUMI_CS_TP_WAKEUP_NEW]	= { "sched_wakeup_new", shikumi_cs_probe_wakeup_new },
	[SHIKUMI_CS_TP_MIGRATE]		= { "sched_migrate_task", shikumi_cs_probe_migrate },
};

/*
 * A ring for every online CPU that has none yet; shikumi_cs.lock held.  A CPU
 * brought online during a session has no ring: its events are counted
 * as dropped in stats, the only place they can show.
 */
static int shikumi_cs_alloc_rings(void)
{
	struct shikumi_cs_rec *recs;
	struct shikumi_cs_ring *ring;
	unsigned int cpu;
	int ret = 0;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		ring = per_cpu_ptr(shikumi_cs.rings, cpu);
		if (ring->recs)
			continue;
		recs = vzalloc_node(array_size(shikumi_cs.nr, sizeof(*recs)),
				    cpu_to_node(cpu));
		if (!recs) {
			ret = -ENOMEM;
			break;
		}
		/* an empty ring: no reader looks at its records yet */
		WRITE_ONCE(ring->recs, recs);
		WRITE_ONCE(shikumi_cs.nr_rings, shikumi_cs.nr_rings + 1);
	}
	cpus_read_unlock();
	return ret;
}

/* empty every ring for a new session; no probe runs */
static void shikumi_cs_reset(void)
{
	unsigned int cpu;

	mutex_lock(&shikumi_cs.read_lock);
	for_each_possible_cpu(cpu) {
		struct shikumi_cs_ring *ring = per_cpu_ptr(shikumi_cs.rings, cpu);

		/* shikumi_cs_has_data() and stats read these without the lock */
		WRITE_ONCE(ring->head, 0);
		WRITE_ONCE(ring->tail, 0);
		ring->lost_pending = 0;
		WRITE_ONCE(ring->written, 0);
		WRITE_ONCE(ring->dropped, 0);
		WRITE_ONCE(ring->lost_records, 0);
		WRITE_ONCE(ring->max_fill, 0);
	}
	shikumi_cs.gen++;
	mutex_unlock(&shikumi_cs.read_lock);
}

/* shikumi_cs.lock held */
int shikumi_cs_start(void)
{
	int ret;

	ret = shikumi_cs_alloc_rings();
	if (ret)
		return ret;
	shikumi_cs_reset();
	WRITE_ONCE(shikumi_cs.on, true);
	ret = shikumi_probes_register(shikumi_cs_probes, SHIKUMI_CS_NR_TP, NULL);
	if (ret) {
		WRITE_ONCE(shikumi_cs.on, false);
		wake_up_interruptible(&shikumi_cs.wait);
	}
	return ret;
}

/* shikumi_cs.lock held */
void shikumi_cs_stop(void)
{
	shikumi_probes_unregister(shikumi_cs_probes, SHIKUMI_CS_NR_TP, NULL);
	/* after the last record: a reader that sees "off" has seen them all */
	smp_store_release(&shikumi_cs.on, false);
	wake_up_interruptible(&shikumi_cs.wait);
}
