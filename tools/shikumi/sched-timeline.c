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

	for (t = 0; t <= span * (1 + 1e-9); t += step) {
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

int sched_timeline_cmd(int argc, char **argv)
{
	const char *in = "shikumi-sched.data", *out = NULL;
	const struct opt opts[] = {
		OPT_STR('i', "input", &in, "FILE", "the recording (default shikumi-sched.data)"),
		OPT_STR('o', "output", &out, "FILE.svg", "the SVG to write"),
		OPT_FINISH(),
	};
	const size_t ncolors = ARRAY_SIZE(task_colors);
	const double W = 1200, L = 120, R = 30, T = 62, LH = 28, GAP = 8;
	double span, x1 = W - R, y, H, legend_y;
	int *color, first, c, nlanes = 0, lane;
	struct recording rec;
	struct analysis a;
	char desc[600];
	size_t *order, nshown, i, k;
	uint64_t dropped;
	FILE *f;

	first = parse_options(argc, argv, opts, &timeline_help);
	if (first < argc)
		return usage_error(opts, &timeline_help, "unexpected argument '%s'", argv[first]);
	if (!out)
		return usage_error(opts, &timeline_help, "-o FILE.svg is required");
	if (recording_load(in, &rec))
		return EXIT_FAIL;
	analyse(&a, rec.r, rec.h.nr_recs, &rec.meta);
	order = tasks_by_runtime(&a, &nshown);
	color = malloc((a.nt ? a.nt : 1) * sizeof(*color));
	if (!color) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = 0; i < a.nt; i++)
		color[i] = -1;
	for (k = 0; k < nshown && k < ncolors; k++)
		color[order[k]] = (int)k;
	qsort(a.s, a.ns, sizeof(*a.s), cmp_slice_cpu_start);
	dropped = warn_drops(rec.stats, &a, rec.h.nr_events, stderr);
	for (c = 0; c < a.ncpu; c++)
		nlanes += rec.cpu_on[c];
	span = ms(rec.h.end_ns - rec.h.start_ns);
	if (span <= 0)
		span = 1;
	legend_y = T + nlanes * (LH + GAP) + 50;
	k = nshown <= ncolors ? nshown : ncolors + 1;	/* legend entries */
	H = legend_y + 20.0 * (double)((k + 2) / 3) + 20;

	f = fopen(out, "we");
	if (!f) {
		p_err("cannot write %s: %s", out, strerror(errno));
		goto fail;
	}
	describe_recording(&rec, desc, sizeof(desc));
	if (strlen(desc) > 110) {	/* the title fits the width */
		k = 106;
		while (k && (desc[k] & 0xc0) == 0x80)	/* not inside a UTF-8 character */
			k--;
		memcpy(desc + k, "...", 4);
	}
	svg_begin(f, W, H);
	fprintf(f, "<text x='%.0f' y='24' text-anchor='middle' class='title'>", W / 2);
	svg_put_text(f, "shikumi sched timeline: ");
	svg_put_text(f, desc);
	fputs("</text>\n", f);
	fprintf(f, "<text x='%.0f' y='44' text-anchor='middle' class='sub'>kernel ", W / 2);
	svg_put_text(f, rec.h.kernel);
	fprintf(f, ", scheduler %s, %.3f s, %llu switches%s</text>\n",
		tun_get(&rec.tun, "scheduler") ? tun_get(&rec.tun, "scheduler") : "?",
		span / 1e3, U(a.count[SHIKUMI_CS_SWITCH]),
		dropped ? ", EVENTS DROPPED (red)" : "");

	svg_time_axis(f, L, x1, T - 4, T + nlanes * (LH + GAP) - GAP + 4, span,
		      "time since tracing started (ms)");
	i = 0;
	for (c = 0, lane = 0; c < a.ncpu; c++) {
		double busy = 0;

		if (!rec.cpu_on[c])
			continue;
		y = T + lane++ * (LH + GAP);
		busy = 100.0 * (double)a.cpu[c].busy / ((double)span * 1e6);
		fprintf(f, "<g class='lane' id='cpu%d'>\n", c);
		fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#f3f3f3'/>\n",
			L, y, x1 - L, LH);
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>CPU %d</text>\n", L - 8,
			y + LH / 2 - 1, c);
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' class='sub' "
			"font-size='10'>%.1f%% busy</text>\n", L - 8, y + LH / 2 + 11, busy);
		while (i < a.ns && a.s[i].cpu < c)
			i++;
		while (i < a.ns && a.s[i].cpu == c) {
			const struct slice *s = &a.s[i];
			const struct task *t = &a.t[s->task];
			uint64_t start = s->start, end = s->end, run = end - start;
			double xa, xb;
			int col = color[s->task];
			bool mixed = false;

			/* merge the task's next slices while they touch at this scale */
			while (i + 1 < a.ns && a.s[i + 1].cpu == c &&
			       color[a.s[i + 1].task] == col &&
			       (col >= 0 ? a.s[i + 1].task == s->task : true) &&
			       (double)(a.s[i + 1].start - end) * (x1 - L) / (span * 1e6) < 0.5) {
				i++;
				mixed = mixed || a.s[i].task != s->task;
				end = a.s[i].end;
				run += a.s[i].end - a.s[i].start;
			}
			i++;
			xa = L + (x1 - L) * ms(start - rec.h.start_ns) / span;
			xb = L + (x1 - L) * ms(end - rec.h.start_ns) / span;
			if (xb - xa < 0.4)
				xb = xa + 0.4;
			fprintf(f, "<rect x='%.2f' y='%.1f' width='%.2f' height='%.1f' fill='%s'>"
				"<title>", xa, y + 2, xb - xa, LH - 4,
				col >= 0 ? task_colors[col] : OTHER_COLOR);
			if (!mixed) {
				svg_put_text(f, t->comm);
				fprintf(f, " %d: ", t->pid);
			} else {
				fputs("other tasks: ", f);
			}
			fprintf(f, "%.3f ms from %.3f ms</title></rect>\n", ms(run),
				ms(start - rec.h.start_ns));
		}
		for (k = 0; k < rec.h.nr_recs; k++) {
			const struct shikumi_cs_rec *r = &rec.r[k];
			double x;

			if (r->type != SHIKUMI_CS_LOST || r->cpu != c)
				continue;
			x = L + (x1 - L) * ms(r->ts_ns - rec.h.start_ns) / span;
			fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e00' "
				"stroke-width='2'><title>%llu events dropped</title></line>\n",
				x, y - 3, x, y + LH + 3, U(r->lost));
		}
		if (rec.stats[c].dropped)
			fprintf(f, "<text x='%.1f' y='%.1f' class='warn' font-size='10'>"
				"%llu dropped</text>\n", L + 4, y + LH - 4, U(rec.stats[c].dropped));
		fputs("</g>\n", f);
	}

	/* the legend: three columns */
	for (k = 0; k < nshown && k <= ncolors; k++) {
		double lx = L + 340.0 * (double)(k % 3), ly = legend_y + 20.0 * (double)(k / 3);

		fprintf(f, "<rect x='%.1f' y='%.1f' width='14' height='12' fill='%s'/>\n", lx,
			ly - 10, k < ncolors ? task_colors[k] : OTHER_COLOR);
		fprintf(f, "<text x='%.1f' y='%.1f'>", lx + 20, ly);
		if (k < ncolors) {
			const struct task *t = &a.t[order[k]];

			svg_put_text(f, t->comm);
			fprintf(f, " (pid %d): %.3f ms in %llu slices", t->pid, ms(t->runtime),
				U(t->slices));
		} else {
			fprintf(f, "%zu other tasks", nshown - ncolors);
		}
		fputs("</text>\n", f);
	}
	if (svg_end(f, out))
		goto fail;
	if (opt_json) {
		struct json *j = json_new(stdout, opt_pretty);

		json_object_begin(j, NULL);
		json_string(j, "file", in);
		json_string(j, "svg", out);
		json_i64(j, "lanes", nlanes);
		json_u64(j, "tasks", nshown);
		json_u64(j, "slices", a.ns);
		json_u64(j, "dropped", dropped);
		json_object_end(j);
		json_free(j);
	} else {
		printf("timeline of %d CPUs and %zu tasks written to %s\n", nlanes, nshown, out);
	}
	free(color);
	free(order);
	analysis_free(&a);
	recording_free(&rec);
	return EXIT_OK;
fail:
	free(color);
	free(order);
	analysis_free(&a);
	recording_free(&rec);
	return EXIT_FAIL;
}
