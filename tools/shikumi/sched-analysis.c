// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched: what the records say.  The analysis of a trace's switch and
 * wakeup records: per task runtime, slices, switches, waits and migrations,
 * per CPU use, and the spread of a task's slices.
 */
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"
#include "sched.h"

double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* ---- what the records say ------------------------------------------------------ */

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 256;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	p = realloc(p, c * size);
	if (!p) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	*cap = c;
	return p;
}

static size_t hash_slot(const struct analysis *a, int32_t pid)
{
	size_t h = ((uint32_t)pid * 2654435761u) & (a->hsize - 1);

	while (a->hash[h] && a->t[a->hash[h] - 1].pid != pid)
		h = (h + 1) & (a->hsize - 1);
	return h;
}

static void hash_put(struct analysis *a, size_t idx)
{
	size_t i;

	if ((a->nt + 1) * 2 > a->hsize) {
		free(a->hash);
		a->hsize = a->hsize ? a->hsize * 2 : 1024;
		a->hash = calloc(a->hsize, sizeof(*a->hash));
		if (!a->hash) {
			p_err("out of memory");
			exit(EXIT_FAIL);
		}
		/* in order: a later generation of a pid wins */
		for (i = 0; i < a->nt; i++)
			a->hash[hash_slot(a, a->t[i].pid)] = (uint32_t)i + 1;
	}
	a->hash[hash_slot(a, a->t[idx].pid)] = (uint32_t)idx + 1;
}

static bool meta_passes(const struct trace_meta *m, int32_t pid, int32_t tgid)
{
	return m->all_tasks || int_in(m->pids, m->npids, pid) ||
	       int_in(m->tgids, m->ntgids, tgid);
}

static struct task *task_new(struct analysis *a, const struct trace_meta *m,
			     int32_t pid, int32_t tgid, const char *comm, uint64_t ts)
{
	struct task *t;

	a->t = grow(a->t, &a->capt, a->nt + 1, sizeof(*a->t));
	t = &a->t[a->nt];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->tgid = tgid;
	memcpy(t->comm, comm, sizeof(t->comm));
	t->comm[sizeof(t->comm) - 1] = '\0';
	t->traced = meta_passes(m, pid, tgid);
	t->on_cpu = -1;
	t->first_ns = ts;
	a->nt++;
	hash_put(a, a->nt - 1);
	return t;
}

static struct task *task_get(struct analysis *a, const struct trace_meta *m,
			     int32_t pid, int32_t tgid, const char *comm, uint64_t ts)
{
	struct task *t;

	if (a->hsize) {
		uint32_t i = a->hash[hash_slot(a, pid)];

		if (i) {
			t = &a->t[i - 1];
			/* exec changes the name: keep the newest */
			memcpy(t->comm, comm, sizeof(t->comm));
			t->comm[sizeof(t->comm) - 1] = '\0';
			t->last_ns = ts;
			return t;
		}
	}
	t = task_new(a, m, pid, tgid, comm, ts);
	t->last_ns = ts;
	return t;
}

static void add_slice(struct analysis *a, struct task *t, int cpu, uint64_t start,
		      uint64_t end, bool partial)
{
	struct slice *s;

	if (end < start)
		return;
	a->s = grow(a->s, &a->caps, a->ns + 1, sizeof(*a->s));
	s = &a->s[a->ns++];
	s->start = start;
	s->end = end;
	s->task = (uint32_t)(t - a->t);
	s->cpu = (uint16_t)cpu;
	s->partial = partial;
	t->runtime += end - start;
	if (!partial)
		t->slices++;
	if (cpu < a->ncpu)
		a->cpu[cpu].busy += end - start;
}

static void on_switch(struct analysis *a, const struct trace_meta *m,
		      const struct shikumi_cs_rec *r)
{
	struct cpu_acc *c = &a->cpu[r->cpu];
	struct task *t;

	if (r->prev_pid) {
		t = task_get(a, m, r->prev_pid, r->prev_tgid, r->prev_comm, r->ts_ns);
		if (t->traced) {
			bool vol;

			if (t->on_cpu == r->cpu)
				add_slice(a, t, r->cpu, t->run_start, r->ts_ns, false);
			else if (t->on_cpu < 0 && !t->seen_in && !c->seen && !c->lost)
				/* it was running when the trace began */
				add_slice(a, t, r->cpu, m->start_ns, r->ts_ns, true);
			t->on_cpu = -1;

			if (t->has_base) {
				uint32_t dv = r->prev_nvcsw - t->base_nv;
				uint32_t di = r->prev_nivcsw - t->base_niv;

				vol = dv != 0;
				if (!dv && !di) {
					t->anomalies++;
					a->anomalies++;
				}
			} else {
				vol = !(r->flags & SHIKUMI_CS_F_PREEMPT) &&
				      r->prev_state != SHIKUMI_CS_STATE_RUNNING;
				t->inferred++;
				a->inferred++;
			}
			t->has_base = true;
			t->base_nv = r->prev_nvcsw;
			t->base_niv = r->prev_nivcsw;
			t->switch_outs++;
			if (vol)
				t->vol++;
			else
				t->invol++;
			if (r->prev_state == SHIKUMI_CS_STATE_RUNNING) {
				t->runnable_since = r->ts_ns;	/* preempted or yielded */
			} else {
				t->runnable_since = 0;
				t->exited = r->prev_state == SHIKUMI_CS_STATE_DEAD ||
					    r->prev_state == SHIKUMI_CS_STATE_ZOMBIE;
			}
		}
	}
	if (r->next_pid) {
		t = task_get(a, m, r->next_pid, r->next_tgid, r->next_comm, r->ts_ns);
		if (t->traced) {
			t->on_cpu = r->cpu;
			t->run_start = r->ts_ns;
			t->seen_in = true;
			if (t->runnable_since && t->runnable_since <= r->ts_ns) {
				uint64_t w = r->ts_ns - t->runnable_since;

				t->waits++;
				t->wait_total += w;
				if (w > t->wait_max)
					t->wait_max = w;
			}
			t->runnable_since = 0;
		}
	}
	if (!c->seen)
		c->first_ns = r->ts_ns;
	c->seen = true;
	c->switches++;
}

static void on_wakeup(struct analysis *a, const struct trace_meta *m,
		      const struct shikumi_cs_rec *r)
{
	struct task *t = NULL;

	if (r->type == SHIKUMI_CS_WAKEUP_NEW) {
		uint32_t pi = a->hsize ? a->hash[hash_slot(a, r->next_pid)] : 0;
		bool parent_traced = pi && a->t[pi - 1].traced;
		uint32_t i = a->hsize ? a->hash[hash_slot(a, r->prev_pid)] : 0;

		/*
		 * A new task.  A pid that ran before is a new generation of it
		 * (the pid was reused); one only seen migrating is this task.
		 */
		t = i ? &a->t[i - 1] : NULL;
		if (!t || t->seen_in || t->switch_outs || t->runtime)
			t = task_new(a, m, r->prev_pid, r->prev_tgid, r->prev_comm, r->ts_ns);
		t->traced = t->traced || (m->follow && parent_traced);
		t->born = true;
		t->has_base = true;	/* fork starts its counters at 0 */
		t->last_ns = r->ts_ns;
	} else {
		t = task_get(a, m, r->prev_pid, r->prev_tgid, r->prev_comm, r->ts_ns);
	}
	if (t->traced && t->on_cpu < 0 && !t->runnable_since)
		t->runnable_since = r->ts_ns;
}

/* The trace's tasks, slices and per-CPU sums.  Records sorted by time. */
void analyse(struct analysis *a, const struct shikumi_cs_rec *r, size_t n,
	     const struct trace_meta *m)
{
	uint64_t last = 0;
	size_t i;

	memset(a, 0, sizeof(*a));
	a->ncpu = m->nr_cpus;
	a->cpu = calloc((size_t)a->ncpu, sizeof(*a->cpu));
	if (!a->cpu) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = 0; i < n; i++, r++) {
		struct task *t;

		if (r->ts_ns < last)
			a->unordered++;
		last = r->ts_ns;
		if (r->type <= SHIKUMI_CS_LOST)
			a->count[r->type]++;
		if (r->cpu >= a->ncpu)
			continue;
		switch (r->type) {
		case SHIKUMI_CS_SWITCH:
			on_switch(a, m, r);
			break;
		case SHIKUMI_CS_WAKEUP:
		case SHIKUMI_CS_WAKEUP_NEW:
			on_wakeup(a, m, r);
			break;
		case SHIKUMI_CS_MIGRATE:
			t = task_get(a, m, r->prev_pid, r->prev_tgid, r->prev_comm, r->ts_ns);
			if (t->traced)
				t->migrations++;
			break;
		case SHIKUMI_CS_LOST:
			a->cpu[r->cpu].lost += r->lost;
			a->cpu[r->cpu].lost_records++;
			a->lost += r->lost;
			/* what ran on this CPU since is not known */
			for (t = a->t; t < a->t + a->nt; t++) {
				if (t->on_cpu == r->cpu)
					t->on_cpu = -1;
			}
			break;
		default:
			break;
		}
	}
	/* still running at the end */
	for (i = 0; i < a->nt; i++) {
		struct task *t = &a->t[i];

		if (t->traced && t->on_cpu >= 0 && m->end_ns >= t->run_start)
			add_slice(a, t, t->on_cpu, t->run_start, m->end_ns, true);
	}
}

void analysis_free(struct analysis *a)
{
	free(a->t);
	free(a->s);
	free(a->cpu);
	free(a->hash);
	memset(a, 0, sizeof(*a));
}

struct spread slice_spread(const struct analysis *a, size_t task)
{
	struct spread sp = { 0, 0, 0, 0 };
	double *v = malloc((a->ns ? a->ns : 1) * sizeof(*v));
	size_t i;

	if (!v) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = 0; i < a->ns; i++)
		if (a->s[i].task == task && !a->s[i].partial)
			v[sp.n++] = (double)(a->s[i].end - a->s[i].start);
	if (sp.n) {
		sp.median = percentile(v, sp.n, 50);	/* sorts */
		sp.min = v[0];
		sp.max = v[sp.n - 1];
	}
	free(v);
	return sp;
}

void json_spread_ms(struct json *j, const char *key, struct spread sp)
{
	json_object_begin(j, key);
	if (sp.n) {
		json_double(j, "min", sp.min / 1e6);
		json_double(j, "median", sp.median / 1e6);
		json_double(j, "max", sp.max / 1e6);
	} else {
		json_null(j, "min");
		json_null(j, "median");
		json_null(j, "max");
	}
	json_object_end(j);
}
