// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched: the experiments' harness.  CPU-bound children pinned to one
 * CPU: a calibrated busy loop, the CPU to use, forking the children, letting
 * them go together, reaping them and tracing them with shikumi_cstrace.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shikumi.h"
#include "sched.h"

/* ---- the experiments: CPU-bound children on one CPU ---------------------------------- */

void burn(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		__asm__ __volatile__("" : "+r"(i));
}

/*
 * Loops of burn() that take @ns: the fastest of five rounds of at least
 * 10 ms each.  A stall of the machine (a busy host under a VM) only makes
 * a round slower, and a loop count measured in a stall would give work
 * that ends in a fraction of the time asked.
 */
uint64_t calibrate(uint64_t ns)
{
	uint64_t n = 1000, t0, dt, best;
	int round;

	for (;;) {
		t0 = now_ns();
		burn(n);
		dt = now_ns() - t0;
		if (dt >= 10 * NSEC_PER_MSEC || n > (1ULL << 40))
			break;
		n *= 2;
	}
	best = dt;
	for (round = 1; round < 5; round++) {
		t0 = now_ns();
		burn(n);
		dt = now_ns() - t0;
		if (dt < best)
			best = dt;
	}
	n = (uint64_t)((double)n * (double)ns / (double)(best ? best : 1));
	return n ? n : 1;
}

/* The CPU the experiments use: 0 if we may run there, else our first. */
int pick_cpu(void)
{
	cpu_set_t set;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			return c;
	return 0;
}

/* Keep shikumi itself (it drains the trace) off @cpu, if another is allowed. */
void move_off(int cpu, const cpu_set_t *allowed)
{
	cpu_set_t set = *allowed;

	CPU_CLR(cpu, &set);
	if (CPU_COUNT(&set))
		sched_setaffinity(0, sizeof(set), &set);
	else
		sched_setaffinity(0, sizeof(*allowed), allowed);
}

/* A reaped child's own CPU time, user and system, as wait4() reports it. */
uint64_t rusage_ns(const struct rusage *ru)
{
	return (uint64_t)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * NSEC_PER_SEC +
	       (uint64_t)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) * 1000;
}

/*
 * Fork @n children on @cpu, each waiting until kids_go(), then running
 * @fn(i, arg) and exiting.  On failure -1: kids_kill() undoes what was done.
 */
int kids_fork(struct kids *k, int n, int cpu, void (*fn)(int, void *), void *arg)
{
	struct spawn how = {
		.die_with_parent = true, .pin = true, .cpu = cpu, .gate = &k->gate,
		.fn = fn, .arg = arg,
	};
	struct child c;
	int i;

	memset(k, 0, sizeof(*k));
	k->gate.r = -1;
	k->gate.w = -1;
	k->pid = calloc((size_t)n, sizeof(*k->pid));
	k->ru = calloc((size_t)n, sizeof(*k->ru));
	k->reaped = calloc((size_t)n, sizeof(*k->reaped));
	if (!k->pid || !k->ru || !k->reaped) {
		p_err("out of memory");
		return -1;
	}
	if (gate_open(&k->gate))
		return -1;
	for (i = 0; i < n; i++) {
		how.index = i;
		if (spawn(&how, &c))
			return -1;
		k->pid[i] = c.pid;
		k->n = i + 1;
	}
	close(k->gate.r);
	k->gate.r = -1;
	return 0;
}

/* Let the children go, all at once. */
static int kids_go(struct kids *k)
{
	int e = gate_release(&k->gate, k->n);

	if (e)
		p_err("cannot start the children: %s", strerror(e));
	return e ? -1 : 0;
}

/* Reap what has exited; true once all have. */
static bool kids_reap(struct kids *k, bool block)
{
	int i, st, left = 0;

	for (i = 0; i < k->n; i++) {
		if (k->reaped[i])
			continue;
		if (wait4(k->pid[i], &st, block ? 0 : WNOHANG, &k->ru[i]) == k->pid[i])
			k->reaped[i] = true;
		else
			left++;
	}
	return !left;
}

void kids_kill(struct kids *k)
{
	int i;

	gate_close(&k->gate);	/* those still waiting exit */
	for (i = 0; i < k->n; i++)
		if (!k->reaped[i])
			kill(k->pid[i], SIGKILL);
	kids_reap(k, true);
	free(k->pid);
	free(k->ru);
	free(k->reaped);
	memset(k, 0, sizeof(*k));
	k->gate.r = -1;
	k->gate.w = -1;
}

/*
 * Trace the children on @cpu while they run: start tracing, let them go,
 * drain while they run, stop.  *t_go is when they were let go.
 */
int kids_trace(struct kids *k, int cpu, struct cs_session *s, uint64_t *t_go,
	       void (*at_go)(uint64_t, void *), void *arg)
{
	char pids[4096] = "", cpus[16];
	int i;

	for (i = 0; i < k->n; i++)
		snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), "%s%d", i ? "," : "",
			 k->pid[i]);
	snprintf(cpus, sizeof(cpus), "%d", cpu);
	if (cs_start(s, pids, NULL, cpus, false))
		return -1;
	*t_go = now_ns();
	if (at_go)
		at_go(*t_go, arg);
	if (kids_go(k)) {
		cs_stop(s);
		return -1;
	}
	for (;;) {
		if (cs_drain(s) < 0) {
			cs_stop(s);
			return -1;
		}
		if (kids_reap(k, false))
			break;
		if (got_signal) {
			cs_stop(s);
			p_err("interrupted");
			return -1;
		}
		sleep_ns(DRAIN_NS);
	}
	if (cs_stop(s) || recs_sort(s->r, s->n))
		return -1;
	return 0;
}

/* The analysis of a session that traced @k on @cpu. */
void kids_analyse(struct analysis *a, struct cs_session *s, struct kids *k,
		  int cpu, bool *cpu_on, int ncpu)
{
	struct trace_meta m = {
		.start_ns = s->start_ns, .end_ns = s->end_ns, .nr_cpus = ncpu,
		.cpu_on = cpu_on, .pids = k->pid, .npids = (size_t)k->n,
	};

	cpu_on[cpu] = true;
	analyse(a, s->r, s->n, &m);
}

size_t task_of(const struct analysis *a, pid_t pid)
{
	size_t i;

	for (i = 0; i < a->nt; i++)
		if (a->t[i].pid == pid && a->t[i].traced)
			return i;
	return SIZE_MAX;
}

uint64_t session_dropped(const struct cs_session *s, int ncpu)
{
	struct cs_stats_cpu *st = calloc((size_t)ncpu, sizeof(*st));
	uint64_t d = 0;
	int c;

	if (!st) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	cs_stats_parse(s->stats, st, ncpu);
	for (c = 0; c < ncpu; c++)
		d += st[c].dropped;
	free(st);
	return d;
}
