// SPDX-License-Identifier: GPL-2.0
/*
 * SVG line plots written directly, with no plotting library, in the way
 * perf timechart does: one or more panels side by side, each with axes
 * (linear or log10), ticks, a legend and one polyline per series.
 */
#include <math.h>
#include <string.h>

#include "shikumi.h"

#define PANEL_W		520.0
#define PANEL_H		380.0
#define MARGIN_L	78.0
#define MARGIN_R	24.0
#define MARGIN_T	46.0
#define MARGIN_B	56.0
#define HEADER_H	36.0

static const char *const colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f",
};

struct axis {
	bool log;
	double lo, hi;		/* in axis units (log10 when log) */
};

/* The length of the valid UTF-8 character at @s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0, i;

	if (s[0] >= 0xf5)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/*
 * Text for XML: escaped, and any byte that is not UTF-8 (a comm can hold
 * anything) as '?'.
 */
void svg_put_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			if ((unsigned char)*s >= 0x80) {
				int n = utf8_len((const unsigned char *)s);

				if (n)
					fwrite(s, 1, (size_t)n, f);
				else
					fputc('?', f);
				s += n ? n - 1 : 0;
			} else if ((unsigned char)*s >= 0x20) {
				fputc(*s, f);
			}
		}
	}
}

/* A round tick step for about five ticks over @range. */
double svg_tick_step(double range)
{
	double e, m;

	if (range <= 0)
		return 1;
	e = pow(10, floor(log10(range / 5)));
	m = range / 5 / e;
	return m < 1.5 ? e : m < 3.5 ? 2 * e : m < 7.5 ? 5 * e : 10 * e;
}

static void axis_fit(struct axis *a, bool log, double lo, double hi)
{
	a->log = log;
	if (log) {
		if (lo <= 0)
			lo = hi > 0 ? hi / 10 : 1;
		if (hi <= 0)
			hi = 10;
		a->lo = floor(log10(lo));
		a->hi = ceil(log10(hi));
		if (a->hi <= a->lo)
			a->hi = a->lo + 1;
	} else {
		double step;

		if (lo > 0)
			lo = 0;
		if (hi <= lo)
			hi = lo + 1;
		step = svg_tick_step(hi - lo);
		a->lo = floor(lo / step) * step;
		a->hi = ceil(hi / step) * step;
	}
}

static double axis_pos(const struct axis *a, double v, double from, double to)
{
	double u = a->log ? log10(v > 0 ? v : pow(10, a->lo)) : v;

	return from + (u - a->lo) / (a->hi - a->lo) * (to - from);
}

static void fmt_tick(char *buf, size_t size, double v)
{
	if (fabs(v) >= 1e6 || (fabs(v) < 0.001 && v != 0))
		snprintf(buf, size, "%.0e", v);
	else
		snprintf(buf, size, "%g", v);
}

static void draw_ticks(FILE *f, const struct axis *a, bool xaxis,
		       double x0, double y0, double x1, double y1)
{
	double step = a->log ? 1 : svg_tick_step(a->hi - a->lo), u;
	char label[32];

	for (u = a->lo; u <= a->hi + step / 1000; u += step) {
		double v = a->log ? pow(10, u) : u;

		fmt_tick(label, sizeof(label), v);
		if (xaxis) {
			double x = axis_pos(a, v, x0, x1);

			fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='grid'/>\n",
				x, y0, x, y1);
			fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>\n",
				x, y0 + 16, label);
		} else {
			double y = axis_pos(a, v, y0, y1);

			fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='grid'/>\n",
				x0, y, x1, y);
			fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>%s</text>\n",
				x0 - 6, y + 4, label);
		}
	}
}

static void draw_panel(FILE *f, const struct plot *p, double ox, double oy)
{
	double x0 = ox + MARGIN_L, x1 = ox + PANEL_W - MARGIN_R;
	double y0 = oy + PANEL_H - MARGIN_B, y1 = oy + MARGIN_T;
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	struct axis ax, ay;
	size_t s, i;

	for (s = 0; s < p->nseries; s++) {
		for (i = 0; i < p->series[s].n; i++) {
			double x = p->series[s].x[i], y = p->series[s].y[i];

			if (!isfinite(x) || !isfinite(y))
				continue;
			if ((p->logx && x <= 0) || (p->logy && y <= 0))
				continue;
			xmin = fmin(xmin, x);
			xmax = fmax(xmax, x);
			ymin = fmin(ymin, y);
			ymax = fmax(ymax, y);
		}
	}
	if (!isfinite(xmin)) {
		xmin = 1;
		xmax = 10;
		ymin = 1;
		ymax = 10;
	}
	axis_fit(&ax, p->logx, xmin, xmax);
	axis_fit(&ay, p->logy, ymin, ymax);

	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle' class='title'>",
		ox + PANEL_W / 2, oy + 24);
	svg_put_text(f, p->title);
	fputs("</text>\n", f);
	draw_ticks(f, &ax, true, x0, y0, x1, y1);
	draw_ticks(f, &ay, false, x0, y0, x1, y1);
	fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' class='frame'/>\n",
		x0, y1, x1 - x0, y0 - y1);
	fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>", (x0 + x1) / 2,
		y0 + 40);
	svg_put_text(f, p->xlabel);
	fputs("</text>\n", f);
	fprintf(f, "<text transform='translate(%.1f %.1f) rotate(-90)' text-anchor='middle'>",
		ox + 18, (y0 + y1) / 2);
	svg_put_text(f, p->ylabel);
	fputs("</text>\n", f);

	for (s = 0; s < p->nseries; s++) {
		const struct plot_series *ser = &p->series[s];
		const char *color = ser->reference ? "#888" :
				    colors[s % ARRAY_SIZE(colors)];

		fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='",
			color, ser->reference ? " stroke-dasharray='6 4'" : "");
		for (i = 0; i < ser->n; i++) {
			if ((p->logx && ser->x[i] <= 0) || (p->logy && ser->y[i] <= 0))
				continue;
			fprintf(f, "%.1f,%.1f ", axis_pos(&ax, ser->x[i], x0, x1),
				axis_pos(&ay, ser->y[i], y0, y1));
		}
		fputs("'/>\n", f);
		for (i = 0; i < ser->n && !ser->reference; i++) {
			if ((p->logx && ser->x[i] <= 0) || (p->logy && ser->y[i] <= 0))
				continue;
			fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='%s'/>\n",
				axis_pos(&ax, ser->x[i], x0, x1),
				axis_pos(&ay, ser->y[i], y0, y1), color);
		}
		/* legend, top left inside the frame */
		fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='3'/>\n",
			x0 + 10, y1 + 16 + 18.0 * s, x0 + 34, y1 + 16 + 18.0 * s, color);
		fprintf(f, "<text x='%.1f' y='%.1f'>", x0 + 40, y1 + 20 + 18.0 * s);
		svg_put_text(f, ser->label);
		fputs("</text>\n", f);
	}
}

int svg_write_plots(FILE *f, const char *title, const struct plot *panels,
		    size_t npanels)
{
	double w = PANEL_W * (double)npanels, h = PANEL_H + HEADER_H;
	size_t i;

	fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n");
	fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f' font-family='sans-serif' font-size='12'>\n",
		w, h, w, h);
	fputs("<style>.grid{stroke:#ddd;stroke-width:1}.frame{fill:none;stroke:#333}.title{font-size:14px;font-weight:bold}.head{font-size:16px;font-weight:bold}</style>\n",
	      f);
	fprintf(f, "<rect width='%.0f' height='%.0f' fill='white'/>\n", w, h);
	fprintf(f, "<text x='%.1f' y='24' text-anchor='middle' class='head'>", w / 2);
	svg_put_text(f, title);
	fputs("</text>\n", f);
	for (i = 0; i < npanels; i++)
		draw_panel(f, &panels[i], PANEL_W * (double)i, HEADER_H);
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}
