// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched timeline: one lane per CPU, every slice coloured by its task,
 * as SVG; and the SVG pieces (colours, frame, time axis) the demo's plot
 * shares.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"
#include "sched.h"

/* ---- SVG ----------------------------------------------------------------------------- */

const char *const task_colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939",
};

#define OTHER_COLOR	"#b0b0b0"

void svg_begin(FILE *f, double w, double h)
{
	fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
		"<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
		"viewBox='0 0 %.0f %.0f' font-family='sans-serif' font-size='12'>\n"
		"<style>.grid{stroke:#ddd;stroke-width:1}.frame{fill:none;stroke:#333}"
		".title{font-size:15px;font-weight:bold}.sub{fill:#555}.warn{fill:#c00;font-weight:bold}"
		"</style>\n<rect width='%.0f' height='%.0f' fill='white'/>\n", w, h, w, h, w, h);
}

/* Ticks and grid lines of a time axis in ms, from x0 (t = 0) to x1 (t = span). */
void svg_time_axis(FILE *f, double x0, double x1, double ytop, double ybot,
		   double span, const char *label)
{
	double step = svg_tick_step(span), t;

	for (t = 0; t <= span * 1.000000001; t += step) {
		double x = x0 + (x1 - x0) * t / span;

		fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='grid'/>\n",
			x, ytop, x, ybot);
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%g</text>\n", x,
			ybot + 15, t);
	}
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>", (x0 + x1) / 2, ybot + 32);
	svg_put_text(f, label);
	fputs("</text>\n", f);
}

int svg_end(FILE *f, const char *path)
{
	fputs("</svg>\n", f);
	if (ferror(f) | fclose(f)) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- timeline ------------------------------------------------------------------------ */

static int cmp_slice_cpu_start(const void *a, const void *b)
{
	const struct slice *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

static const struct cmd_help timeline_help = {
	.usage = "[-i FILE] -o FILE.svg [--json]",
	.summary = "Draw a recording as an SVG timeline, in the spirit of perf timechart\n"
		   "and KernelShark: one lane per CPU, time across, each slice a bar\n"
		   "coloured by its task (the longest-running ones; the rest grey).",
	.details = "Hover over a bar for its task and length.  Red marks show where a CPU\n"
		   "dropped events.",
};

/* The drawing's geometry: width, margins left, right and top, lane height and gap. */
#define TL_W	1200.0
#define TL_L	120.0
#define TL_R	30.0
#define TL_T	62.0
#define TL_LH	28.0
#define TL_GAP	8.0
#define TL_X1	(TL_W - TL_R)

/* A recording, its analysis and the drawing's layout. */
struct timeline {
	const char *in, *out;
	struct recording rec;
	struct analysis a;
	size_t *order, nshown;
	int *color;	/* per task: its colour's index, or -1 */
	int nlanes;
	double span, height, legend_y;
	uint64_t dropped;
};

static void timeline_gather(struct timeline *tl)
{
	const size_t ncolors = ARRAY_SIZE(task_colors);
	struct analysis *a = &tl->a;
	size_t i, k;
	int c;

	analyse(a, tl->rec.r, tl->rec.h.nr_recs, &tl->rec.meta);
	tl->order = tasks_by_runtime(a, &tl->nshown);
	tl->color = malloc((a->nt ? a->nt : 1) * sizeof(*tl->color));
	if (!tl->color) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = 0; i < a->nt; i++)
		tl->color[i] = -1;
	for (k = 0; k < tl->nshown && k < ncolors; k++)
		tl->color[tl->order[k]] = (int)k;
	qsort(a->s, a->ns, sizeof(*a->s), cmp_slice_cpu_start);
	tl->dropped = warn_drops(tl->rec.stats, a, tl->rec.h.nr_events, stderr);
	for (c = 0; c < a->ncpu; c++)
		tl->nlanes += tl->rec.cpu_on[c];
	tl->span = ms(tl->rec.h.end_ns - tl->rec.h.start_ns);
	if (tl->span <= 0)
		tl->span = 1;
	tl->legend_y = TL_T + tl->nlanes * (TL_LH + TL_GAP) + 50;
	k = tl->nshown <= ncolors ? tl->nshown : ncolors + 1;	/* legend entries */
	tl->height = tl->legend_y + 20.0 * (double)((k + 2) / 3) + 20;
}

/* The frame, the title and the line under it. */
static void timeline_head(FILE *f, const struct timeline *tl)
{
	const struct tunables *tun = &tl->rec.tun;
	char desc[600];
	size_t k;

	describe_recording(&tl->rec, desc, sizeof(desc));
	if (strlen(desc) > 110) {	/* the title fits the width */
		k = 106;
		while (k && (desc[k] & 0xc0) == 0x80)	/* not inside a UTF-8 character */
			k--;
		memcpy(desc + k, "...", 4);
	}
	svg_begin(f, TL_W, tl->height);
	fprintf(f, "<text x='%.0f' y='24' text-anchor='middle' class='title'>", TL_W / 2);
	svg_put_text(f, "shikumi sched timeline: ");
	svg_put_text(f, desc);
	fputs("</text>\n", f);
	fprintf(f, "<text x='%.0f' y='44' text-anchor='middle' class='sub'>kernel ", TL_W / 2);
	svg_put_text(f, tl->rec.h.kernel);
	fprintf(f, ", scheduler %s, %.3f s, %llu switches%s</text>\n",
		tun_get(tun, "scheduler") ? tun_get(tun, "scheduler") : "?",
		tl->span / 1e3, U(tl->a.count[SHIKUMI_CS_SWITCH]),
		tl->dropped ? ", EVENTS DROPPED (red)" : "");
}

/* CPU @c's slices from a.s[*i], one bar each, merged while they touch at this scale. */
static void timeline_slices(FILE *f, const struct timeline *tl, int c, double y, size_t *i)
{
	const struct analysis *a = &tl->a;
	const double span = tl->span;

	while (*i < a->ns && a->s[*i].cpu < c)
		(*i)++;
	while (*i < a->ns && a->s[*i].cpu == c) {
		const struct slice *s = &a->s[*i];
		const struct task *t = &a->t[s->task];
		uint64_t start = s->start, end = s->end, run = end - start;
		double xa, xb;
		int col = tl->color[s->task];
		bool mixed = false;

		/* merge the task's next slices while they touch at this scale */
		while (*i + 1 < a->ns && a->s[*i + 1].cpu == c &&
		       tl->color[a->s[*i + 1].task] == col &&
		       (col >= 0 ? a->s[*i + 1].task == s->task : true) &&
		       (double)(a->s[*i + 1].start - end) * (TL_X1 - TL_L) / (span * 1e6) < 0.5) {
			(*i)++;
			mixed = mixed || a->s[*i].task != s->task;
			end = a->s[*i].end;
			run += a->s[*i].end - a->s[*i].start;
		}
		(*i)++;
		xa = TL_L + (TL_X1 - TL_L) * ms(start - tl->rec.h.start_ns) / span;
		xb = TL_L + (TL_X1 - TL_L) * ms(end - tl->rec.h.start_ns) / span;
		if (xb - xa < 0.4)
			xb = xa + 0.4;
		fprintf(f, "<rect x='%.2f' y='%.1f' width='%.2f' height='%.1f' fill='%s'>"
			"<title>", xa, y + 2, xb - xa, TL_LH - 4,
			col >= 0 ? task_colors[col] : OTHER_COLOR);
		if (!mixed) {
			svg_put_text(f, t->comm);
			fprintf(f, " %d: ", t->pid);
		} else {
			fputs("other tasks: ", f);
		}
		fprintf(f, "%.3f ms from %.3f ms</title></rect>\n", ms(run),
			ms(start - tl->rec.h.start_ns));
	}
}

/* CPU @c's lane: its label, its slices from a.s[*i], its drops. */
static void timeline_lane(FILE *f, const struct timeline *tl, int c, double y, size_t *i)
{
	const struct recording *rec = &tl->rec;
	double busy = 100.0 * (double)tl->a.cpu[c].busy / ((double)tl->span * 1e6);
	size_t k;

	fprintf(f, "<g class='lane' id='cpu%d'>\n", c);
	fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#f3f3f3'/>\n",
		TL_L, y, TL_X1 - TL_L, TL_LH);
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>CPU %d</text>\n", TL_L - 8,
		y + TL_LH / 2 - 1, c);
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' class='sub' "
		"font-size='10'>%.1f%% busy</text>\n", TL_L - 8, y + TL_LH / 2 + 11, busy);
	timeline_slices(f, tl, c, y, i);
	for (k = 0; k < rec->h.nr_recs; k++) {
		const struct shikumi_cs_rec *r = &rec->r[k];
		double x;

		if (r->type != SHIKUMI_CS_LOST || r->cpu != c)
			continue;
		x = TL_L + (TL_X1 - TL_L) * ms(r->ts_ns - rec->h.start_ns) / tl->span;
		fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e00' "
			"stroke-width='2'><title>%llu events dropped</title></line>\n",
			x, y - 3, x, y + TL_LH + 3, U(r->lost));
	}
	if (rec->stats[c].dropped)
		fprintf(f, "<text x='%.1f' y='%.1f' class='warn' font-size='10'>"
			"%llu dropped</text>\n", TL_L + 4, y + TL_LH - 4, U(rec->stats[c].dropped));
	fputs("</g>\n", f);
}

/* the legend: three columns */
static void timeline_legend(FILE *f, const struct timeline *tl)
{
	const size_t ncolors = ARRAY_SIZE(task_colors);
	size_t k;

	for (k = 0; k < tl->nshown && k <= ncolors; k++) {
		double lx = TL_L + 340.0 * (double)(k % 3);
		double ly = tl->legend_y + 20.0 * (double)(k / 3);

		fprintf(f, "<rect x='%.1f' y='%.1f' width='14' height='12' fill='%s'/>\n", lx,
			ly - 10, k < ncolors ? task_colors[k] : OTHER_COLOR);
		fprintf(f, "<text x='%.1f' y='%.1f'>", lx + 20, ly);
		if (k < ncolors) {
			const struct task *t = &tl->a.t[tl->order[k]];

			svg_put_text(f, t->comm);
			fprintf(f, " (pid %d): %.3f ms in %llu slices", t->pid, ms(t->runtime),
				U(t->slices));
		} else {
			fprintf(f, "%zu other tasks", tl->nshown - ncolors);
		}
		fputs("</text>\n", f);
	}
}

static int timeline_svg(const struct timeline *tl)
{
	size_t i = 0;
	int c, lane = 0;
	FILE *f;

	f = fopen(tl->out, "we");
	if (!f) {
		p_err("cannot write %s: %s", tl->out, strerror(errno));
		return -1;
	}
	timeline_head(f, tl);
	svg_time_axis(f, TL_L, TL_X1, TL_T - 4,
		      TL_T + tl->nlanes * (TL_LH + TL_GAP) - TL_GAP + 4, tl->span,
		      "time since tracing started (ms)");
	for (c = 0; c < tl->a.ncpu; c++) {
		if (!tl->rec.cpu_on[c])
			continue;
		timeline_lane(f, tl, c, TL_T + lane++ * (TL_LH + TL_GAP), &i);
	}
	timeline_legend(f, tl);
	return svg_end(f, tl->out);
}

static void timeline_print_json(const struct timeline *tl)
{
	struct json *j = json_stdout();

	json_object_begin(j, NULL);
	json_string(j, "file", tl->in);
	json_string(j, "svg", tl->out);
	json_i64(j, "lanes", tl->nlanes);
	json_u64(j, "tasks", tl->nshown);
	json_u64(j, "slices", tl->a.ns);
	json_u64(j, "dropped", tl->dropped);
	json_object_end(j);
	json_free(j);
}

int sched_timeline_cmd(int argc, char **argv)
{
	struct timeline tl = { .in = "shikumi-sched.data" };
	const struct opt opts[] = {
		OPT_STR('i', "input", &tl.in, "FILE", "the recording (default shikumi-sched.data)"),
		OPT_STR('o', "output", &tl.out, "FILE.svg", "the SVG to write"),
		OPT_FINISH(),
	};
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &timeline_help);
	if (first < argc)
		return usage_error(&timeline_help, "unexpected argument '%s'", argv[first]);
	if (!tl.out)
		return usage_error(&timeline_help, "-o FILE.svg is required");
	if (recording_load(tl.in, &tl.rec))
		return EXIT_FAIL;
	timeline_gather(&tl);
	if (timeline_svg(&tl))
		goto out;
	if (opt_json)
		timeline_print_json(&tl);
	else
		printf("timeline of %d CPUs and %zu tasks written to %s\n", tl.nlanes, tl.nshown,
		       tl.out);
	ret = EXIT_OK;
out:
	free(tl.color);
	free(tl.order);
	analysis_free(&tl.a);
	recording_free(&tl.rec);
	return ret;
}
