// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched demo and sched nice: the experiments.  demo is the book's
 * sched: NPROC processes on one CPU, their progress against the slices the
 * kernel gave them, as text, JSON or SVG.  nice is two CPU-bound processes,
 * one niced, against the scheduler's weights.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "shikumi.h"
#include "sched.h"

/* ---- demo: the book's sched ------------------------------------------------------------ */

struct demo_arg {
	uint64_t loops, nunits;
	uint64_t *ts;		/* shared: nproc x nunits CLOCK_MONOTONIC times */
};

static void demo_child(int id, void *p)
{
	struct demo_arg *d = p;
	uint64_t u;

	for (u = 0; u < d->nunits; u++) {
		burn(d->loops);
		d->ts[(uint64_t)id * d->nunits + u] = now_ns();
	}
}

static int demo_svg(const char *path, int nproc, const struct demo_arg *d, uint64_t t0,
		    const struct analysis *a, const size_t *task, int cpu, double res_ms)
{
	const double W = 920, x0 = 80, x1 = 890, yt = 60, yb = 360, band0 = 420, BH = 16;
	double span = 0, H = band0 + nproc * (BH + 6) + 40, step, v;
	size_t i;
	int p;
	FILE *f;

	for (p = 0; p < nproc; p++) {
		double last = ms(d->ts[((uint64_t)p + 1) * d->nunits - 1] - t0);

		span = fmax(span, last);
	}
	for (i = 0; i < a->ns; i++)
		span = fmax(span, ms(a->s[i].end - t0));
	if (span <= 0)
		span = 1;
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	svg_begin(f, W, H);
	fprintf(f, "<text x='%.0f' y='24' text-anchor='middle' class='title'>The book's sched: "
		"%d processes on CPU %d, progress against time</text>\n", W / 2, nproc, cpu);
	fprintf(f, "<text x='%.0f' y='44' text-anchor='middle' class='sub'>lines: each process's "
		"own timestamps every %g ms of work; bands below: when the kernel ran it "
		"(shikumi_cstrace)</text>\n", W / 2, res_ms);
	svg_time_axis(f, x0, x1, yt, yb, span, "elapsed (ms)");
	for (step = 20, v = 0; v <= 100; v += step) {
		double y = yb - (yb - yt) * v / 100;

		fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='grid'/>\n", x0, y,
			x1, y);
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>%.0f</text>\n", x0 - 6,
			y + 4, v);
	}
	fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' class='frame'/>\n", x0, yt,
		x1 - x0, yb - yt);
	fprintf(f, "<text transform='translate(24 %.1f) rotate(-90)' text-anchor='middle'>"
		"progress (%%)</text>\n", (yt + yb) / 2);
	for (p = 0; p < nproc; p++) {
		const char *col = task_colors[(size_t)p % ARRAY_SIZE(task_colors)];
		double yband = band0 + p * (BH + 6);
		uint64_t u;

		fprintf(f, "<g class='series' id='process%d'>\n<polyline fill='none' stroke='%s' "
			"stroke-width='1.5' points='%.1f,%.1f ", p, col, x0, yb);
		for (u = 0; u < d->nunits; u++) {
			double t = ms(d->ts[(uint64_t)p * d->nunits + u] - t0);
			double prog = 100.0 * (double)(u + 1) / (double)d->nunits;

			fprintf(f, "%.1f,%.1f ", x0 + (x1 - x0) * t / span,
				yb - (yb - yt) * prog / 100);
		}
		fputs("'/>\n", f);
		for (u = 0; u < d->nunits; u++) {
			double t = ms(d->ts[(uint64_t)p * d->nunits + u] - t0);
			double prog = 100.0 * (double)(u + 1) / (double)d->nunits;

			fprintf(f, "<circle cx='%.1f' cy='%.1f' r='1.8' fill='%s'/>\n",
				x0 + (x1 - x0) * t / span, yb - (yb - yt) * prog / 100, col);
		}
		fputs("</g>\n", f);
		fprintf(f, "<g class='band' id='band%d'>\n", p);
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>process %d</text>\n", x0 - 6,
			yband + BH - 4, p);
		fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#f3f3f3'/>\n",
			x0, yband, x1 - x0, BH);
		for (i = 0; task[p] != SIZE_MAX && i < a->ns; i++) {
			const struct slice *s = &a->s[i];
			double xa, xb;

			if (s->task != task[p])
				continue;
			xa = x0 + (x1 - x0) * ms(s->start - t0) / span;
			xb = x0 + (x1 - x0) * ms(s->end - t0) / span;
			fprintf(f, "<rect x='%.2f' y='%.1f' width='%.2f' height='%.1f' fill='%s' "
				"opacity='0.85'><title>process %d on CPU %d: %.3f-%.3f ms</title></rect>\n",
				xa, yband, fmax(xb - xa, 0.4), BH, col, p, s->cpu,
				ms(s->start - t0), ms(s->end - t0));
		}
		fputs("</g>\n", f);
		/* legend, top left inside the plot */
		fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='3'/>\n",
			x0 + 10, yt + 14 + 16.0 * p, x0 + 30, yt + 14 + 16.0 * p, col);
		fprintf(f, "<text x='%.1f' y='%.1f'>process %d</text>\n", x0 + 36,
			yt + 18 + 16.0 * p, p);
	}
	return svg_end(f, path);
}

static int parse_ms_arg(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end || !*v ? -1 : 0;
}

static const struct cmd_help demo_help = {
	.usage = "NPROC [TOTAL_MS RESOLUTION_MS] [--svg FILE] [--data FILE] [--json]",
	.summary = "The book's sched experiment: NPROC processes share one CPU, each doing\n"
		   "TOTAL_MS (default 100) of CPU work in units of RESOLUTION_MS (default 1)\n"
		   "and timestamping each unit.  Prints the book's data, 'id<TAB>elapsed_ms\n"
		   "<TAB>progress', then (as '#' lines) the slices the kernel gave each\n"
		   "process, traced by shikumi_cstrace at the same time, and the tunables\n"
		   "that explain their length.",
	.details =
	"The processes are pinned to CPU 0 (the book's taskset -c 0); a unit is a busy\n"
	"loop calibrated there first.  shikumi itself drains the trace from another CPU\n"
	"when there is one.  --svg draws progress against time, one line per process,\n"
	"with the on-CPU intervals from the trace as bands; --data writes the book's\n"
	"data to FILE instead of stdout.  Needs root and shikumi_cstrace.",
};

/* One run of the demo, and what it found. */
struct demo {
	uint64_t nproc, total, res, t_go, inside, dropped, exp_slice;
	int cpu;
	const char *svg;
	struct demo_arg d;
	struct kids k;
	struct analysis a;
	struct tunables tun;
	size_t *task;		/* each process's task in a, or SIZE_MAX */
	char why[256], how[300];
};

static const struct task *demo_task(const struct demo *x, int p)
{
	return x->task[p] != SIZE_MAX ? &x->a.t[x->task[p]] : NULL;
}

/* A unit's timestamp, in ns. */
static uint64_t demo_ts(const struct demo *x, int p, uint64_t u)
{
	return x->d.ts[(uint64_t)p * x->d.nunits + u];
}

/* Find each process's task; count the units timestamped inside its slices. */
static void demo_find(struct demo *x)
{
	const struct analysis *a = &x->a;
	uint64_t u;
	size_t i;
	int p;

	for (p = 0; p < (int)x->nproc; p++) {
		x->task[p] = task_of(a, x->k.pid[p]);
		for (u = 0; u < x->d.nunits; u++) {
			uint64_t ts = demo_ts(x, p, u);

			for (i = 0; x->task[p] != SIZE_MAX && i < a->ns; i++)
				if (a->s[i].task == x->task[p] && a->s[i].start <= ts &&
				    ts <= a->s[i].end) {
					x->inside++;
					break;
				}
		}
	}
}

/* The book's data, one line per unit; closes @out unless it is stdout. */
static int demo_data(const struct demo *x, FILE *out, const char *data)
{
	uint64_t u;
	int p;

	for (p = 0; p < (int)x->nproc; p++)
		for (u = 0; u < x->d.nunits; u++)
			fprintf(out, "%d\t%.3f\t%llu\n", p, ms(demo_ts(x, p, u) - x->t_go),
				U((u + 1) * 100 / x->d.nunits));
	if (out != stdout && (ferror(out) | fclose(out))) {
		p_err("cannot write %s", data);
		return -1;
	}
	return 0;
}

static void demo_json_process(struct json *j, const struct demo *x, int p)
{
	const struct task *t = demo_task(x, p);
	size_t i;

	json_object_begin(j, NULL);
	json_i64(j, "id", p);
	json_i64(j, "pid", x->k.pid[p]);
	json_array_begin(j, "elapsed_ms");
	for (i = 0; i < x->d.nunits; i++)
		json_double(j, NULL, ms(demo_ts(x, p, i) - x->t_go));
	json_array_end(j);
	json_u64(j, "runtime_ns", t ? t->runtime : 0);
	json_u64(j, "rusage_ns", rusage_ns(&x->k.ru[p]));
	json_u64(j, "slices", t ? t->slices : 0);
	json_spread_ms(j, "slice_ms", t ? slice_spread(&x->a, x->task[p])
					: (struct spread){ 0, 0, 0, 0 });
	json_u64(j, "voluntary", t ? t->vol : 0);
	json_u64(j, "involuntary", t ? t->invol : 0);
	json_u64(j, "wait_total_ns", t ? t->wait_total : 0);
	json_array_begin(j, "on_cpu_ms");
	for (i = 0; t && i < x->a.ns; i++) {
		const struct slice *s = &x->a.s[i];

		if (s->task != x->task[p])
			continue;
		json_array_begin(j, NULL);
		json_double(j, NULL, ((double)s->start - (double)x->t_go) / 1e6);
		json_double(j, NULL, ((double)s->end - (double)x->t_go) / 1e6);
		json_array_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void demo_json(const struct demo *x)
{
	struct json *j = json_stdout();
	int p;

	json_object_begin(j, NULL);
	json_u64(j, "nproc", x->nproc);
	json_u64(j, "total_ms", x->total);
	json_u64(j, "resolution_ms", x->res);
	json_i64(j, "cpu", x->cpu);
	json_u64(j, "loops_per_unit", x->d.loops);
	json_u64(j, "start_ns", x->t_go);
	tunables_json(j, "tunables", &x->tun);
	if (x->exp_slice)
		json_double(j, "expected_slice_ms", ms(x->exp_slice));
	else
		json_null(j, "expected_slice_ms");
	json_string(j, "expected_slice_rule", x->how);
	json_u64(j, "dropped", x->dropped);
	json_u64(j, "units_inside_slices", x->inside);
	json_u64(j, "units", x->nproc * x->d.nunits);
	json_array_begin(j, "processes");
	for (p = 0; p < (int)x->nproc; p++)
		demo_json_process(j, x, p);
	json_array_end(j);
	json_string(j, "svg", x->svg);
	json_object_end(j);
	json_free(j);
}

static void demo_print(const struct demo *x)
{
	const struct tunables *tun = &x->tun;
	size_t i;
	int p;

	printf("# shikumi sched demo: %llu process%s on CPU %d, each %llu units of %llu ms "
	       "(%llu loops each)\n", U(x->nproc), x->nproc == 1 ? "" : "es", x->cpu,
	       U(x->d.nunits), U(x->res), U(x->d.loops));
	printf("# kernel %s, scheduler %s", kernel_release(),
	       tun_get(tun, "scheduler") ? tun_get(tun, "scheduler") : "?");
	for (i = 0; i < tun->n; i++)
		if (strstr(tun->kv[i].name, "_ns") && strcmp(tun->kv[i].name, "migration_cost_ns"))
			printf(", %s %s", tun->kv[i].name, tun->kv[i].value);
	printf(", HZ %s\n", tun_get(tun, "HZ") ? tun_get(tun, "HZ") : "unknown");
	if (x->why[0])
		printf("# note: %s\n", x->why);
	printf("# expected slice: %s\n", x->how);
	printf("#\n# %2s %7s %11s %10s %6s %9s %9s %9s %6s %6s\n", "ID", "PID",
	       "FINISHED ms", "RUNTIME ms", "SLICES", "MIN ms", "MEDIAN ms", "MAX ms",
	       "VOL", "INVOL");
	for (p = 0; p < (int)x->nproc; p++) {
		const struct task *t = demo_task(x, p);
		struct spread sp = t ? slice_spread(&x->a, x->task[p])
				     : (struct spread){ 0, 0, 0, 0 };

		printf("# %2d %7d %11.3f %10.3f %6llu %9.3f %9.3f %9.3f %6llu %6llu\n", p,
		       x->k.pid[p], ms(demo_ts(x, p, x->d.nunits - 1) - x->t_go),
		       t ? ms(t->runtime) : 0.0, U(t ? t->slices : 0), sp.min / 1e6,
		       sp.median / 1e6, sp.max / 1e6, U(t ? t->vol : 0), U(t ? t->invol : 0));
	}
	printf("# %llu of %llu units were timestamped inside one of their process's traced "
	       "slices\n", U(x->inside), U(x->nproc * x->d.nunits));
	if (x->svg)
		printf("# plot written to %s\n", x->svg);
}

/* NPROC [TOTAL_MS RESOLUTION_MS] into @x; 0, or the usage error's exit code */
static int demo_args(struct demo *x, int argc, char **argv, int first)
{
	x->total = 100;
	x->res = 1;
	if (first >= argc)
		return usage_error(&demo_help, "how many processes? give NPROC");
	if (argc - first != 1 && argc - first != 3)
		return usage_error(&demo_help, "give NPROC, or NPROC TOTAL_MS RESOLUTION_MS");
	if (parse_ms_arg(argv[first], &x->nproc) || x->nproc > 64)
		return usage_error(&demo_help, "NPROC '%s': give 1 to 64", argv[first]);
	if (argc - first == 3 &&
	    (parse_ms_arg(argv[first + 1], &x->total) || parse_ms_arg(argv[first + 2], &x->res)))
		return usage_error(&demo_help, "TOTAL_MS and RESOLUTION_MS are positive "
				   "numbers of ms");
	if (x->total < x->res || x->total / x->res > 100000)
		return usage_error(&demo_help, "TOTAL_MS / RESOLUTION_MS must be 1 to 100000 "
				   "units");
	return 0;
}

int sched_demo_cmd(int argc, char **argv)
{
	const char *data = NULL;
	struct demo x = { .k = { .gate = { -1, -1 } } };
	const struct opt opts[] = {
		OPT_STR(0, "svg", &x.svg, "FILE", "progress plot with the traced slices"),
		OPT_STR(0, "data", &data, "FILE", "the book's data to FILE"),
		OPT_FINISH(),
	};
	struct cs_session s = { .fd = -1 };
	cpu_set_t allowed;
	bool *cpu_on = NULL;
	int ncpu, ret;
	FILE *out = stdout;

	ret = demo_args(&x, argc, argv, parse_options(argc, argv, opts, &demo_help));
	if (ret)
		return ret;
	if (cs_check())
		return EXIT_FAIL;
	if (data) {
		out = fopen(data, "we");
		if (!out) {
			p_err("cannot write %s: %s", data, strerror(errno));
			return EXIT_FAIL;
		}
	}
	ret = EXIT_FAIL;
	tunables_read(&x.tun, x.why, sizeof(x.why));
	catch_signals();
	ncpu = nr_possible_cpus();
	cpu_on = calloc((size_t)ncpu, sizeof(*cpu_on));
	x.task = calloc(x.nproc, sizeof(*x.task));
	x.d.nunits = x.total / x.res;
	x.d.ts = mmap(NULL, x.nproc * x.d.nunits * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!cpu_on || !x.task || x.d.ts == MAP_FAILED) {
		p_err("out of memory");
		goto out;
	}
	sched_getaffinity(0, sizeof(allowed), &allowed);
	x.cpu = pick_cpu();
	if (pin_to(x.cpu)) {
		p_err("cannot run on CPU %d: %s", x.cpu, strerror(errno));
		goto out;
	}
	x.d.loops = calibrate(x.res * NSEC_PER_MSEC);
	if (kids_fork(&x.k, (int)x.nproc, x.cpu, demo_child, &x.d))
		goto out;
	move_off(x.cpu, &allowed);
	if (kids_trace(&x.k, x.cpu, &s, &x.t_go, NULL, NULL))
		goto out;
	kids_analyse(&x.a, &s, &x.k, x.cpu, cpu_on, ncpu);
	x.dropped = session_dropped(&s, ncpu);
	demo_find(&x);
	x.exp_slice = expected_slice(&x.tun, (unsigned int)x.nproc, x.how, sizeof(x.how));
	if (x.svg && demo_svg(x.svg, (int)x.nproc, &x.d, x.t_go, &x.a, x.task, x.cpu,
			      (double)x.res))
		goto out;
	if (!opt_json || data) {
		FILE *f = out;

		out = NULL;	/* demo_data() closes it */
		if (demo_data(&x, f, data))
			goto out;
	}
	if (opt_json)
		demo_json(&x);
	else
		demo_print(&x);
	if (x.dropped) {
		p_warn("%llu events were dropped: the slices above are incomplete", U(x.dropped));
		if (!opt_json)
			printf("# WARNING: %llu events dropped: the slices are incomplete\n",
			       U(x.dropped));
	}
	ret = EXIT_OK;
out:
	if (out && out != stdout)
		fclose(out);
	if (s.enabled || s.configured || s.fd >= 0)
		cs_stop(&s);
	kids_kill(&x.k);
	analysis_free(&x.a);
	cs_free(&s);
	free(x.task);
	free(cpu_on);
	if (x.d.ts && x.d.ts != MAP_FAILED)
		munmap(x.d.ts, x.nproc * x.d.nunits * sizeof(uint64_t));
	return ret;
}

/* ---- nice: weights ------------------------------------------------------------------ */

/* kernel/sched/core.c: the load weight of each nice value, -20 to 19 */
static const unsigned int sched_prio_to_weight[40] = {
	/* -20 */ 88761, 71755, 56483, 46273, 36291,
	/* -15 */ 29154, 23254, 18705, 14949, 11916,
	/* -10 */  9548,  7620,  6100,  4904,  3906,
	/*  -5 */  3121,  2501,  1991,  1586,  1277,
	/*   0 */  1024,   820,   655,   526,   423,
	/*   5 */   335,   272,   215,   172,   137,
	/*  10 */   110,    87,    70,    56,    45,
	/*  15 */    36,    29,    23,    18,    15,
};

struct nice_arg {
	int nice[2];
	volatile uint64_t *deadline;	/* shared */
};

static void nice_child(int id, void *p)
{
	struct nice_arg *n = p;

	(void)id;
	while (now_ns() < *n->deadline)
		burn(10000);
}

static void nice_at_go(uint64_t t, void *p)
{
	struct nice_arg *n = p;

	*n->deadline += t;	/* it held the length: now the end */
}

/* The part of a task's slices inside [a, b]. */
static uint64_t runtime_within(const struct analysis *an, size_t task, uint64_t a, uint64_t b)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; task != SIZE_MAX && i < an->ns; i++) {
		const struct slice *s = &an->s[i];
		uint64_t lo = s->start > a ? s->start : a, hi = s->end < b ? s->end : b;

		if (s->task == task && hi > lo)
			sum += hi - lo;
	}
	return sum;
}

static const struct cmd_help nice_help = {
	.usage = "[--nice N] [--ms TOTAL] [--json]",
	.summary = "Two CPU-bound processes share CPU 0 for TOTAL ms (default 1000), one at\n"
		   "nice 0 and one at nice N (default 5).  Their CPU time, traced by\n"
		   "shikumi_cstrace, against what the scheduler's weights predict\n"
		   "(kernel/sched/core.c's sched_prio_to_weight: nice 0 weighs 1024, nice 5\n"
		   "335, so 75.3% and 24.7%).",
	.details = "The share counts only the time both were running.  The CPU time each\n"
		   "child's rusage reports is shown beside the trace's, as a check.\n"
		   "Needs root and shikumi_cstrace.",
};

/* What sched nice found, for its reports. */
struct nice_out {
	const struct tunables *tun;
	const struct analysis *a;
	const struct kids *k;
	const int *nice;
	int cpu;
	uint64_t total, dropped;
	size_t task[2];
	uint64_t run[2];
	double share[2], expect[2];
};

static void nice_json(const struct nice_out *o)
{
	struct json *j = json_stdout();
	int i;

	json_object_begin(j, NULL);
	json_i64(j, "cpu", o->cpu);
	json_u64(j, "ms", o->total);
	json_string(j, "scheduler", tun_get(o->tun, "scheduler"));
	json_u64(j, "dropped", o->dropped);
	json_array_begin(j, "processes");
	for (i = 0; i < 2; i++) {
		const struct task *t = o->task[i] != SIZE_MAX ? &o->a->t[o->task[i]] : NULL;

		json_object_begin(j, NULL);
		json_i64(j, "pid", o->k->pid[i]);
		json_i64(j, "nice", o->nice[i]);
		json_u64(j, "weight", sched_prio_to_weight[o->nice[i] + 20]);
		json_double(j, "expected_share", o->expect[i]);
		json_u64(j, "runtime_ns", o->run[i]);
		json_double(j, "share", o->share[i]);
		json_u64(j, "slices", t ? t->slices : 0);
		json_spread_ms(j, "slice_ms", t ? slice_spread(o->a, o->task[i])
						: (struct spread){ 0, 0, 0, 0 });
		json_u64(j, "rusage_ns", rusage_ns(&o->k->ru[i]));
		json_u64(j, "traced_total_ns", t ? t->runtime : 0);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

static void nice_print(const struct nice_out *o)
{
	const char *sched = tun_get(o->tun, "scheduler");
	int i;

	printf("two CPU-bound processes on CPU %d for %llu ms, scheduler %s\n", o->cpu,
	       U(o->total), sched ? sched : "?");
	printf("%7s %5s %7s %9s %11s %7s %7s %21s %10s\n", "PID", "NICE", "WEIGHT",
	       "EXPECTED", "RUNTIME ms", "SHARE", "SLICES", "SLICE ms MIN/MED/MAX",
	       "RUSAGE ms");
	for (i = 0; i < 2; i++) {
		const struct task *t = o->task[i] != SIZE_MAX ? &o->a->t[o->task[i]] : NULL;
		struct spread sp = t ? slice_spread(o->a, o->task[i])
				     : (struct spread){ 0, 0, 0, 0 };

		printf("%7d %5d %7u %8.1f%% %11.3f %6.1f%% %7llu %6.2f/%6.2f/%6.2f %10.3f\n",
		       o->k->pid[i], o->nice[i], sched_prio_to_weight[o->nice[i] + 20],
		       100 * o->expect[i], ms(o->run[i]), 100 * o->share[i],
		       U(t ? t->slices : 0), sp.min / 1e6, sp.median / 1e6, sp.max / 1e6,
		       ms(rusage_ns(&o->k->ru[i])));
	}
	printf("EXPECTED: weight / the sum of both weights (sched_prio_to_weight).  RUNTIME "
	       "and SHARE:\nthe traced time on CPU while both ran.  RUSAGE: the child's own "
	       "CPU time, all of it.\n");
	if (!strcmp(sched ? sched : "", "EEVDF"))
		printf("Under EEVDF both ask for the same slice (base_slice_ns); the lighter "
		       "one gets its turn less often.\n");
	else
		printf("Under CFS each slice is the period times the task's share of the "
		       "weight.\n");
}

int sched_nice_cmd(int argc, char **argv)
{
	const char *nice_opt = "5";
	uint64_t total = 1000, t_go = 0, sum;
	const struct opt opts[] = {
		OPT_STR(0, "nice", &nice_opt, "N", "the second process's nice value (default 5)"),
		OPT_NUM(0, "ms", &total, "TOTAL", "how long both run, in ms (default 1000)"),
		OPT_FINISH(),
	};
	struct cs_session s = { .fd = -1 };
	struct kids k = { .gate = { -1, -1 } };
	struct nice_arg n = { { 0, 5 }, NULL };
	struct analysis a = { 0 };
	struct tunables tun;
	struct nice_out o = { .tun = &tun, .a = &a, .k = &k, .nice = n.nice };
	cpu_set_t allowed;
	bool *cpu_on = NULL;
	double wsum;
	char why[256], *end;
	int first, cpu, ncpu, ret = EXIT_FAIL, i;
	long v;

	first = parse_options(argc, argv, opts, &nice_help);
	if (first < argc)
		return usage_error(&nice_help, "unexpected argument '%s'", argv[first]);
	errno = 0;
	v = strtol(nice_opt, &end, 10);
	if (errno || *end || end == nice_opt || v < -20 || v > 19)
		return usage_error(&nice_help, "--nice '%s': give -20 to 19", nice_opt);
	n.nice[1] = (int)v;
	if (!total || total > 600000)
		return usage_error(&nice_help, "--ms must be 1 to 600000");
	if (cs_check())
		return EXIT_FAIL;
	tunables_read(&tun, why, sizeof(why));
	catch_signals();
	ncpu = nr_possible_cpus();
	cpu_on = calloc((size_t)ncpu, sizeof(*cpu_on));
	n.deadline = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!cpu_on || n.deadline == MAP_FAILED) {
		p_err("out of memory");
		n.deadline = NULL;
		goto out;
	}
	*n.deadline = total * NSEC_PER_MSEC;
	sched_getaffinity(0, sizeof(allowed), &allowed);
	cpu = pick_cpu();
	if (kids_fork(&k, 2, cpu, nice_child, &n))
		goto out;
	for (i = 0; i < 2; i++) {
		if (setpriority(PRIO_PROCESS, (id_t)k.pid[i], n.nice[i])) {
			p_err("cannot set pid %d's nice value to %d: %s", k.pid[i], n.nice[i],
			      strerror(errno));
			goto out;
		}
	}
	move_off(cpu, &allowed);
	if (kids_trace(&k, cpu, &s, &t_go, nice_at_go, &n))
		goto out;
	kids_analyse(&a, &s, &k, cpu, cpu_on, ncpu);
	o.cpu = cpu;
	o.total = total;
	o.dropped = session_dropped(&s, ncpu);
	wsum = 0;
	for (i = 0; i < 2; i++) {
		o.task[i] = task_of(&a, k.pid[i]);
		o.run[i] = runtime_within(&a, o.task[i], t_go, *n.deadline);
		wsum += sched_prio_to_weight[n.nice[i] + 20];
	}
	sum = o.run[0] + o.run[1];
	for (i = 0; i < 2; i++) {
		o.share[i] = sum ? (double)o.run[i] / (double)sum : 0;
		o.expect[i] = sched_prio_to_weight[n.nice[i] + 20] / wsum;
	}
	if (opt_json)
		nice_json(&o);
	else
		nice_print(&o);
	if (o.dropped)
		p_warn("%llu events were dropped: the runtimes above are incomplete", U(o.dropped));
	ret = EXIT_OK;
out:
	if (s.enabled || s.configured || s.fd >= 0)
		cs_stop(&s);
	kids_kill(&k);
	analysis_free(&a);
	cs_free(&s);
	free(cpu_on);
	if (n.deadline)
		munmap((void *)n.deadline, sizeof(uint64_t));
	return ret;
}
