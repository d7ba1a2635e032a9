// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk plot: the head's path under each policy, on one random
 * read workload (or a saved trace), as an SVG.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

/* ---- plot: the head's path under each policy ------------------------------ */

#define BLOCK		4096

struct worker {
	pthread_t tid;
	int fd, err;
	uint64_t nreq, nblocks, rng;
};

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	void *buf;
	uint64_t i;
	ssize_t n;

	if (posix_memalign(&buf, BLOCK, BLOCK)) {
		w->err = ENOMEM;
		return NULL;
	}
	for (i = 0; i < w->nreq; i++) {
		off_t off = (off_t)(splitmix64(&w->rng) % w->nblocks) * BLOCK;

		n = pread(w->fd, buf, BLOCK, off);
		if (n != BLOCK) {
			w->err = n < 0 ? errno : EIO;
			break;
		}
	}
	free(buf);
	return NULL;
}

static int open_disk(const char *disk, int flags)
{
	char node[PATH_MAX];
	int fd;

	snprintf(node, sizeof(node), "/dev/%s", disk);
	fd = open(node, flags | O_CLOEXEC);
	if (fd < 0)
		p_err("cannot open %s: %s", node, why(errno));
	return fd;
}

/* @nreq O_DIRECT 4K random reads from @depth threads; times the whole run. */
static int random_reads(const char *disk, uint64_t nreq, unsigned int depth,
			uint64_t seed, uint64_t *t0, uint64_t *elapsed)
{
	uint64_t nblocks = disk_sectors(disk) * 512 / BLOCK;
	struct worker *w;
	unsigned int i, started = 0;
	int fd, ret = 0;

	if (!nblocks) {
		p_err("%s has no size", disk);
		return -1;
	}
	fd = open_disk(disk, O_RDONLY | O_DIRECT);
	w = calloc(depth, sizeof(*w));
	if (fd < 0 || !w) {
		if (!w)
			p_err("out of memory");
		free(w);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*t0 = now_ns();
	for (i = 0; i < depth; i++) {
		w[i] = (struct worker){ .fd = fd, .nblocks = nblocks,
					.nreq = nreq / depth + (i < nreq % depth),
					.rng = seed * 1000003 + i };
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			p_err("cannot start a thread");
			ret = -1;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].err && !ret) {
			p_err("reading %s: %s", disk, strerror(w[i].err));
			ret = -1;
		}
	}
	*elapsed = now_ns() - *t0;
	free(w);
	close(fd);
	return ret;
}

struct plot_run {
	int policy;
	uint64_t requests;	/* issued; for a saved trace, its records */
	struct trace_buf t;
	uint64_t elapsed_ns, travel, gaps;
	double iops;
};

/* Comma-separated names from @names; returns how many, or -1. */
int parse_names(const char *s, const char *const *names, size_t n,
		int *out, int max)
{
	char buf[256], *tok, *save = NULL;
	int k = 0;

	copy_str(buf, sizeof(buf), s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (k == max)
			return -1;
		out[k] = index_of(names, n, tok);
		if (out[k++] < 0)
			return -1;
	}
	return k ? k : -1;
}

static void run_totals(struct plot_run *run)
{
	const struct shikumi_blk_trace *r = run->t.r;
	uint64_t t0 = first_queued(r, run->t.n), t1 = t0;
	size_t i;

	run->travel = 0;
	for (i = 0; i < run->t.n; i++) {
		run->travel += seek_of(&r[i]);
		if (r[i].completed_ns > t1)
			t1 = r[i].completed_ns;
	}
	run->gaps = seq_gaps(r, run->t.n);
	if (!run->elapsed_ns)
		run->elapsed_ns = t1 - t0;
	run->iops = run->elapsed_ns ? (double)run->t.n * 1e9 / (double)run->elapsed_ns : 0;
}

/* Keep the reads queued at or after @t0: this run's, not the neighbours'. */
static void keep_run(struct trace_buf *t, uint64_t t0)
{
	size_t i, k = 0;

	for (i = 0; i < t->n; i++)
		if (t->r[i].queued_ns >= t0 && t->r[i].op == SHIKUMI_BLK_OP_READ)
			t->r[k++] = t->r[i];
	t->n = k;
}

struct plot_args {
	uint64_t requests, depth, seed;
};

static int plot_one(const char *disk, const struct plot_args *a,
		    struct plot_run *run)
{
	struct trace_buf junk = { 0 };
	uint64_t t0;
	int err;

	err = ctl_write(disk, "policy", policy_names[run->policy]);
	if (err) {
		p_err("cannot set policy %s: %s", policy_names[run->policy], why(-err));
		return -1;
	}
	err = drain_trace(disk, &junk);
	trace_free(&junk);
	if (err || random_reads(disk, a->requests, (unsigned int)a->depth,
				a->seed, &t0, &run->elapsed_ns))
		return -1;
	if (drain_trace(disk, &run->t))
		return -1;
	keep_run(&run->t, t0);
	run_totals(run);
	run->requests = a->requests;
	run->iops = (double)a->requests * 1e9 / (double)run->elapsed_ns;
	if (run->t.n < a->requests)
		p_warn("%s: the trace holds %zu of the %llu requests (dropped? see 'shikumi blk stats')",
		       policy_names[run->policy], run->t.n,
		       (unsigned long long)a->requests);
	return 0;
}

/* Split a saved trace by policy, in the order of @pol. */
static int split_file(const struct trace_buf *all, const int *pol, int npol,
		      struct plot_run *runs)
{
	int p, n = 0;
	size_t i;

	for (p = 0; p < npol; p++) {
		struct plot_run *run = &runs[n];

		run->policy = pol[p];
		for (i = 0; i < all->n; i++) {
			if (all->r[i].policy != pol[p])
				continue;
			if (trace_reserve(&run->t, 1))
				return -1;
			run->t.r[run->t.n++] = all->r[i];
		}
		if (run->t.n) {
			run_totals(run);
			run->requests = run->t.n;
			n++;
		}
	}
	return n;
}

static int plot_svg(const char *path, const char *title, struct plot_run *runs,
		    int n)
{
	struct plot panels[ARRAY_SIZE(policy_names)];
	struct plot_series ser[ARRAY_SIZE(policy_names)];
	char titles[ARRAY_SIZE(policy_names)][96], labels[ARRAY_SIZE(policy_names)][96];
	double *xy[ARRAY_SIZE(policy_names)] = { NULL };
	int i, ret = -1;
	size_t k;
	FILE *f;

	for (i = 0; i < n; i++) {
		const struct trace_buf *t = &runs[i].t;
		uint64_t t0 = first_queued(t->r, t->n);

		xy[i] = calloc(2 * t->n + 1, sizeof(double));
		if (!xy[i]) {
			p_err("out of memory");
			goto out;
		}
		for (k = 0; k < t->n; k++) {
			xy[i][k] = rel_ms(t->r[k].completed_ns, t0);
			xy[i][t->n + k] = (double)t->r[k].sector;
		}
		snprintf(titles[i], sizeof(titles[i]), "%s: %.0f IOPS",
			 POLICY_NAME(runs[i].policy), runs[i].iops);
		snprintf(labels[i], sizeof(labels[i]), "head travel %.3g sectors",
			 (double)runs[i].travel);
		ser[i] = (struct plot_series){ labels[i], xy[i], xy[i] + t->n, t->n, false };
		panels[i] = (struct plot){ titles[i], "completed (ms after the first queued)",
					   "sector", false, false, &ser[i], 1 };
	}
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ret = svg_write_plots(f, title, panels, (size_t)n);
	if (fclose(f))
		ret = -1;
	if (ret)
		p_err("cannot write %s", path);
out:
	for (i = 0; i < n; i++)
		free(xy[i]);
	return ret;
}

static void plot_report(const char *disk, const char *from,
			const struct plot_args *a, const struct plot_run *runs,
			int n, const char *svg)
{
	struct json *j;
	int i;

	if (!opt_json) {
		printf("%-9s %9s %9s %11s %10s %14s %12s\n", "POLICY", "REQUESTS",
		       "TRACED", "ELAPSED_MS", "IOPS", "HEAD_TRAVEL", "TRAVEL/REQ");
		for (i = 0; i < n; i++)
			printf("%-9s %9llu %9zu %11.1f %10.0f %14llu %12.0f\n",
			       POLICY_NAME(runs[i].policy),
			       (unsigned long long)runs[i].requests, runs[i].t.n,
			       (double)runs[i].elapsed_ns / 1e6, runs[i].iops,
			       (unsigned long long)runs[i].travel,
			       runs[i].t.n ? (double)runs[i].travel / (double)runs[i].t.n : 0);
		printf("plot written to %s\n", svg);
		return;
	}
	j = json_stdout();
	json_object_begin(j, NULL);
	if (from) {
		json_string(j, "from", from);
	} else {
		json_string(j, "disk", disk);
		json_u64(j, "requests", a->requests);
		json_u64(j, "depth", a->depth);
		json_u64(j, "seed", a->seed);
	}
	json_string(j, "svg", svg);
	json_array_begin(j, "runs");
	for (i = 0; i < n; i++) {
		json_object_begin(j, NULL);
		json_string(j, "policy", POLICY_NAME(runs[i].policy));
		json_u64(j, "requests", runs[i].requests);
		json_u64(j, "records", runs[i].t.n);
		json_double(j, "elapsed_ms", (double)runs[i].elapsed_ns / 1e6);
		json_double(j, "iops", runs[i].iops);
		json_u64(j, "head_travel", runs[i].travel);
		json_double(j, "travel_per_request", runs[i].t.n ?
			    (double)runs[i].travel / (double)runs[i].t.n : 0);
		json_u64(j, "seq_gaps", runs[i].gaps);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

static int plot_live(const char *disk, const struct plot_args *a,
		     const int *pol, int npol, struct plot_run *runs)
{
	char old[32], model[16];
	int i, err, ret = 0;

	if (ctl_read(disk, "policy", old, sizeof(old))) {
		p_err("cannot read the policy of %s", disk);
		return -1;
	}
	if (!ctl_read(disk, "model", model, sizeof(model)) && !strcmp(model, "ram"))
		p_warn("model ram serves each request at once, so the policy changes little (try: shikumi blk model hdd)");
	for (i = 0; i < npol && !ret; i++) {
		runs[i].policy = pol[i];
		ret = plot_one(disk, a, &runs[i]);
		if (!ret && !opt_json)
			fprintf(stderr, "%s: %llu reads in %.1f ms, %zu traced\n",
				policy_names[pol[i]], (unsigned long long)a->requests,
				(double)runs[i].elapsed_ns / 1e6, runs[i].t.n);
	}
	err = ctl_write(disk, "policy", old);
	if (err)
		p_warn("could not restore policy %s: %s", old, strerror(-err));
	return ret;
}

static int save_runs(const char *path, const struct plot_run *runs, int n)
{
	struct trace_buf all = { 0 };
	int i, ret;

	for (i = 0; i < n; i++) {
		if (trace_reserve(&all, runs[i].t.n))
			return -1;
		memcpy(all.r + all.n, runs[i].t.r, runs[i].t.n * REC_SIZE);
		all.n += runs[i].t.n;
	}
	ret = save_trace_file(path, all.r, all.n);
	trace_free(&all);
	return ret;
}

static const struct cmd_help plot_help = {
	.usage = "[-d NAME] [-o FILE.svg] [--policies LIST] [--requests N] [--depth N]\n"
		 "       [--seed N] [--save TRACEFILE] [--input TRACEFILE] [--json]",
	.summary = "For each policy, run the same random-read workload on the disk and plot\n"
		   "where the head went (the sector of each request against the time it\n"
		   "completed), with IOPS and the head's total travel.  Needs root.",
	.details = "The workload: N O_DIRECT 4 KiB reads at random aligned offsets across\n"
		   "the whole disk, from DEPTH threads; --seed fixes the offsets.  Use a\n"
		   "slow model (shikumi blk model hdd) to see the policies differ.  The\n"
		   "policy is restored at the end.  --save keeps the runs' trace records;\n"
		   "--input plots a saved trace (from --save or 'blk trace -o') instead.",
};

int blk_plot(int argc, char **argv)
{
	const char *disk_s = DEFAULT_DISK, *svg = "blk-plot.svg";
	const char *pol_s = "fifo,sstf,clook,deadline", *from = NULL, *save = NULL;
	struct plot_args a = { .requests = 400, .depth = 32, .seed = 1 };
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_STR('o', "output", &svg, "FILE", "the SVG (default blk-plot.svg)"),
		OPT_STR('P', "policies", &pol_s, "LIST", "policies (default all four)"),
		OPT_NUM('n', "requests", &a.requests, "N", "requests per policy (default 400)"),
		OPT_NUM('q', "depth", &a.depth, "N", "threads reading at once (default 32)"),
		OPT_NUM(0, "seed", &a.seed, "N", "seed of the offsets (default 1)"),
		OPT_STR(0, "save", &save, "FILE", "also write the runs' raw trace to FILE"),
		OPT_STR('i', "input", &from, "FILE", "plot a saved trace instead of running"),
		OPT_FINISH(),
	};
	struct plot_run runs[ARRAY_SIZE(policy_names)] = { 0 };
	int pol[ARRAY_SIZE(policy_names)], npol, n, first, ret, i;
	struct trace_buf all = { 0 };
	char disk[64], title[128];

	first = parse_options(argc, argv, opts, &plot_help);
	if (first < argc)
		return usage_error(&plot_help, "unexpected argument '%s'", argv[first]);
	npol = parse_names(pol_s, policy_names, ARRAY_SIZE(policy_names), pol,
			   (int)ARRAY_SIZE(pol));
	if (npol < 0)
		return usage_error(&plot_help, "bad policy list '%s' (fifo, sstf, clook, deadline)",
				   pol_s);
	if (a.requests < 1 || a.requests > 10000000 || a.depth < 1 || a.depth > 1024)
		return usage_error(&plot_help, "--requests must be 1 to 10000000, --depth 1 to 1024");
	if (from) {
		disk[0] = '\0';
		if (load_trace_file(from, &all))
			return EXIT_FAIL;
		n = split_file(&all, pol, npol, runs);
		trace_free(&all);
		if (n == 0)
			p_err("%s holds no records of the policies %s", from, pol_s);
		ret = n > 0 ? 0 : -1;
	} else {
		ret = need_disk(disk_s, disk, sizeof(disk), &plot_help);
		if (ret)
			return ret;
		n = npol;
		ret = plot_live(disk, &a, pol, npol, runs);
		if (!ret && save)
			ret = save_runs(save, runs, n);
	}
	snprintf(title, sizeof(title), "shikumi blk plot: %s, where the head went",
		 from ? "a saved trace" : disk);
	if (!ret)
		ret = plot_svg(svg, title, runs, n);
	if (!ret)
		plot_report(disk, from, &a, runs, n, svg);
	for (i = 0; i < (int)ARRAY_SIZE(runs); i++)
		trace_free(&runs[i].t);
	return ret ? EXIT_FAIL : EXIT_OK;
}
