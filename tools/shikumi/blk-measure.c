// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk measure: the book's chapter 9 measure.sh (elevators,
 * read-ahead, parallel writes), with fio; and the fio runner (through
 * spawn.c's run_prog()) and the settings that measure and bench change
 * and put back.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"

/* ---- fio ----------------------------------------------------------------- */

#define MAX_ARGS	32

struct argv_buf {
	char *v[MAX_ARGS + 1];
	char s[MAX_ARGS][128];
	int n;
};

static void arg_add(struct argv_buf *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arg_add(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;

	if (a->n == MAX_ARGS)
		return;
	va_start(ap, fmt);
	vsnprintf(a->s[a->n], sizeof(a->s[a->n]), fmt, ap);
	va_end(ap);
	a->v[a->n] = a->s[a->n];
	a->v[++a->n] = NULL;
}

static void fio_args(struct argv_buf *a, const struct fio_job *job)
{
	a->n = 0;
	arg_add(a, "fio");
	arg_add(a, "--output-format=json");
	arg_add(a, "--name=%s", job->name);
	arg_add(a, "--filename=%s", job->filename);
	arg_add(a, "--rw=%s", job->rw);
	arg_add(a, "--bs=%s", job->bs);
	arg_add(a, "--size=%llu", (unsigned long long)job->size);
	arg_add(a, "--direct=%d", job->direct);
	arg_add(a, "--ioengine=%s", job->ioengine ? job->ioengine : "psync");
	if (job->iodepth > 1)
		arg_add(a, "--iodepth=%u", job->iodepth);
	if (job->numjobs > 1)
		arg_add(a, "--numjobs=%u", job->numjobs);
	arg_add(a, "--group_reporting");
	if (job->runtime)
		arg_add(a, "--runtime=%u", job->runtime);
	if (job->time_based)
		arg_add(a, "--time_based");
}

/* Run one fio job; its JSON goes to @out, or a temporary file when NULL. */
int fio_run(const struct fio_job *job, const char *out,
	    struct fio_result *res)
{
	const char *dir = strstr(job->rw, "write") ? "write" : "read";
	char tmp[] = "/tmp/shikumi-fio-XXXXXX", key[64], *text;
	struct argv_buf a;
	struct jval *root;
	int fd, st;

	if (!out) {
		fd = mkstemp(tmp);
		if (fd < 0) {
			p_err("mkstemp: %s", strerror(errno));
			return -1;
		}
		close(fd);
	}
	fio_args(&a, job);
	st = run_prog(a.v, out ? out : tmp);
	text = st ? NULL : read_path(out ? out : tmp);
	if (!out)
		unlink(tmp);
	if (st) {
		p_err("fio %s on %s failed (exit %d)", job->name, job->filename, st);
		return -1;
	}
	root = text ? jparse(text) : NULL;
	free(text);
	if (!root) {
		p_err("cannot parse fio's JSON for %s", job->name);
		return -1;
	}
	if (jnum(root, "jobs.0.error") > 0) {
		p_err("fio %s on %s: error %.0f (%s)", job->name, job->filename,
		      jnum(root, "jobs.0.error"), strerror((int)jnum(root, "jobs.0.error")));
		jfree(root);
		return -1;
	}
	snprintf(key, sizeof(key), "jobs.0.%s.bw_bytes", dir);
	res->bw_bytes = jnum(root, key);
	snprintf(key, sizeof(key), "jobs.0.%s.iops", dir);
	res->iops = jnum(root, key);
	snprintf(key, sizeof(key), "jobs.0.%s.lat_ns.mean", dir);
	res->lat_ns_mean = jnum(root, key);
	jfree(root);
	if (isnan(res->iops) || isnan(res->bw_bytes)) {
		p_err("fio's report for %s lacks jobs[0].%s", job->name, dir);
		return -1;
	}
	return 0;
}

int need_fio(void)
{
	if (in_path("fio"))
		return 0;
	p_err("fio is not installed (apt-get install fio)");
	return -1;
}

/* ---- measure: the book's chapter 9 measure.sh ------------------------------ */

#define NSCHED	2
#define NRA	2

static const char *const scheds[NSCHED] = { "mq-deadline", "none" };
static const unsigned int ra_kbs[NRA] = { 128, 0 };

struct meas_args {
	char disk[64], node[80];
	const char *dir;
	uint64_t size_mb, runtime, max_jobs;
};

struct meas_model {
	int model;
	struct fio_result ra[NSCHED][NRA];
	struct fio_result *wr;		/* [sched * max_jobs + jobs - 1] */
};

int save_state(const char *disk, struct saved *sv)
{
	if (ctl_read(disk, "model", sv->model, sizeof(sv->model)) ||
	    ctl_read(disk, "policy", sv->policy, sizeof(sv->policy)) ||
	    stock_scheduler(disk, sv->sched, sizeof(sv->sched)) ||
	    queue_read(disk, "read_ahead_kb", sv->ra, sizeof(sv->ra))) {
		p_err("cannot read the settings of %s", disk);
		return -1;
	}
	return 0;
}

void restore_state(const char *disk, const struct saved *sv)
{
	int err;

	err = ctl_write(disk, "model", sv->model);
	if (!err)
		err = ctl_write(disk, "policy", sv->policy);
	if (err)
		p_warn("could not restore model %s, policy %s: %s", sv->model,
		       sv->policy, strerror(-err));
	queue_write(disk, "scheduler", sv->sched);
	queue_write(disk, "read_ahead_kb", sv->ra);
}

int set_ctl(const char *disk, const char *key, const char *v)
{
	int err = ctl_write(disk, key, v);

	if (err)
		p_err("cannot set %s %s on %s: %s", key, v, disk, why(-err));
	return err;
}

static int drop_caches(void)
{
	int err;

	sync();
	err = write_file_str("/proc/sys/vm/drop_caches", "3");
	if (err)
		p_err("cannot drop the page cache: %s", why(-err));
	return err;
}

/* DIR/MODEL-readahead-SCHED-raKB.json, DIR/MODEL-sched-SCHED-jJOBS.json */
static void meas_file(char *buf, size_t size, const struct meas_args *a,
		      const char *model, int s, int ra, unsigned int jobs)
{
	if (ra >= 0)
		snprintf(buf, size, "%s/%s-readahead-%s-ra%d.json", a->dir, model,
			 scheds[s], ra);
	else
		snprintf(buf, size, "%s/%s-sched-%s-j%u.json", a->dir, model,
			 scheds[s], jobs);
}

static void meas_line(const char *model, const char *test, const char *sched,
		      int ra, unsigned int jobs, const struct fio_result *r)
{
	if (opt_json)
		return;
	char ra_s[16] = "-";

	if (ra >= 0)
		snprintf(ra_s, sizeof(ra_s), "%d", ra);
	printf("%-5s %-10s %-12s %6s %5u %10.1f %10.0f %10.1f\n", model, test,
	       sched, ra_s, jobs, r->bw_bytes / 1e6, r->iops, r->lat_ns_mean / 1e3);
	fflush(stdout);
}

static int meas_readahead(const struct meas_args *a, struct meas_model *m)
{
	const char *model = MODEL_NAME((unsigned int)m->model);
	struct fio_job job = {
		.name = "seq", .filename = a->node, .rw = "read", .bs = "1M",
		.size = a->size_mb << 20, .runtime = (unsigned int)a->runtime,
	};
	char out[PATH_MAX], ra[16];
	int s, r;

	for (s = 0; s < NSCHED; s++) {
		for (r = 0; r < NRA; r++) {
			snprintf(ra, sizeof(ra), "%u", ra_kbs[r]);
			if (queue_write(a->disk, "scheduler", scheds[s]) ||
			    queue_write(a->disk, "read_ahead_kb", ra) || drop_caches())
				return -1;
			meas_file(out, sizeof(out), a, model, s, (int)ra_kbs[r], 1);
			if (fio_run(&job, out, &m->ra[s][r]))
				return -1;
			meas_line(model, "seqread", scheds[s], (int)ra_kbs[r], 1,
				  &m->ra[s][r]);
		}
	}
	return 0;
}

static int meas_sched(const struct meas_args *a, struct meas_model *m)
{
	const char *model = MODEL_NAME((unsigned int)m->model);
	struct fio_job job = {
		.name = "randwrite", .filename = a->node, .rw = "randwrite",
		.bs = "4k", .size = 4 << 20, .direct = true,
		.runtime = (unsigned int)a->runtime,
	};
	char out[PATH_MAX];
	struct fio_result *r;
	unsigned int j;
	int s;

	for (s = 0; s < NSCHED; s++) {
		if (queue_write(a->disk, "scheduler", scheds[s]))
			return -1;
		for (j = 1; j <= a->max_jobs; j++) {
			r = &m->wr[(size_t)s * a->max_jobs + j - 1];
			job.numjobs = j;
			meas_file(out, sizeof(out), a, model, s, -1, j);
			if (fio_run(&job, out, r))
				return -1;
			meas_line(model, "randwrite", scheds[s], -1, j, r);
		}
	}
	return 0;
}

static void meas_json(struct json *j, const struct meas_args *a,
		      const struct meas_model *mm, int n)
{
	char file[PATH_MAX];
	unsigned int k;
	int i, s, r;

	json_object_begin(j, NULL);
	json_string(j, "disk", a->disk);
	json_u64(j, "size_mb", a->size_mb);
	json_u64(j, "runtime", a->runtime);
	json_u64(j, "max_jobs", a->max_jobs);
	json_array_begin(j, "models");
	for (i = 0; i < n; i++) {
		const struct meas_model *m = &mm[i];
		const char *model = MODEL_NAME((unsigned int)m->model);

		json_object_begin(j, NULL);
		json_string(j, "model", model);
		json_array_begin(j, "readahead");
		for (s = 0; s < NSCHED; s++) {
			for (r = 0; r < NRA; r++) {
				json_object_begin(j, NULL);
				json_string(j, "scheduler", scheds[s]);
				json_u64(j, "read_ahead_kb", ra_kbs[r]);
				json_double(j, "bw_bytes", m->ra[s][r].bw_bytes);
				json_double(j, "iops", m->ra[s][r].iops);
				json_double(j, "lat_ns_mean", m->ra[s][r].lat_ns_mean);
				meas_file(file, sizeof(file), a, model, s, (int)ra_kbs[r], 1);
				json_string(j, "file", file);
				json_object_end(j);
			}
		}
		json_array_end(j);
		json_array_begin(j, "scheduler");
		for (s = 0; s < NSCHED; s++) {
			for (k = 1; k <= a->max_jobs; k++) {
				const struct fio_result *w =
					&m->wr[(size_t)s * a->max_jobs + k - 1];

				json_object_begin(j, NULL);
				json_string(j, "scheduler", scheds[s]);
				json_u64(j, "numjobs", k);
				json_double(j, "bw_bytes", w->bw_bytes);
				json_double(j, "iops", w->iops);
				json_double(j, "lat_ns_mean", w->lat_ns_mean);
				json_double(j, "deadline_vs_none_pct", s ? NAN :
					    100.0 * w->iops / m->wr[a->max_jobs + k - 1].iops);
				meas_file(file, sizeof(file), a, model, s, -1, k);
				json_string(j, "file", file);
				json_object_end(j);
			}
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

static int meas_write_json(const struct meas_args *a, const struct meas_model *mm,
			   int n)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/measure.json", a->dir);
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	meas_json(json_new(f, true), a, mm, n);
	if (fclose(f)) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	if (opt_json)
		meas_json(json_stdout(), a, mm, n);
	return 0;
}

#define MEAS_SERIES	(ARRAY_SIZE(model_names) * NSCHED)

struct meas_plot {
	struct plot_series iops[MEAS_SERIES], lat[MEAS_SERIES], seq[MEAS_SERIES];
	struct plot_series rel[ARRAY_SIZE(model_names) + 1];
	char labels[MEAS_SERIES][32];
	double *x, *y;		/* x: 1..max_jobs; y: every series' values */
	double rax[NRA], ref[2], refx[2];
};

/* The series of model @i under scheduler @s, in @p. */
static void meas_series(struct meas_plot *p, const struct meas_args *a,
			const struct meas_model *m, int i, int s)
{
	size_t nj = a->max_jobs, k = (size_t)(i * NSCHED + s);
	double *iops = p->y + k * (3 * nj + NRA), *lat = iops + nj;
	double *rel = lat + nj, *seq = rel + nj;
	size_t jj;
	int r;

	for (jj = 0; jj < nj; jj++) {
		iops[jj] = m->wr[s * nj + jj].iops;
		lat[jj] = m->wr[s * nj + jj].lat_ns_mean / 1e3;
		rel[jj] = 100.0 * m->wr[jj].iops / m->wr[nj + jj].iops;
	}
	for (r = 0; r < NRA; r++)
		seq[r] = m->ra[s][r].bw_bytes / 1e6;
	snprintf(p->labels[k], sizeof(p->labels[k]), "%s %s",
		 MODEL_NAME((unsigned int)m->model), scheds[s]);
	p->iops[k] = (struct plot_series){ p->labels[k], p->x, iops, nj, false };
	p->lat[k] = (struct plot_series){ p->labels[k], p->x, lat, nj, false };
	p->seq[k] = (struct plot_series){ p->labels[k], p->rax, seq, NRA, false };
	if (!s)
		p->rel[i] = (struct plot_series){ MODEL_NAME((unsigned int)m->model),
						  p->x, rel, nj, false };
}

static int meas_svg(const struct meas_args *a, const struct meas_model *mm, int n)
{
	size_t nj = a->max_jobs, ns = (size_t)n * NSCHED;
	struct meas_plot p = { 0 };
	struct plot panels[4];
	char path[PATH_MAX];
	int i, s, ret = -1;
	FILE *f;

	p.x = calloc(nj, sizeof(double));
	p.y = calloc(ns * (3 * nj + NRA), sizeof(double));
	if (!p.x || !p.y) {
		p_err("out of memory");
		goto out;
	}
	for (i = 0; i < (int)nj; i++)
		p.x[i] = i + 1;
	for (i = 0; i < NRA; i++)
		p.rax[i] = ra_kbs[i];
	p.refx[0] = 1;
	p.refx[1] = (double)nj;
	p.ref[0] = 100;
	p.ref[1] = 100;
	for (i = 0; i < n; i++)
		for (s = 0; s < NSCHED; s++)
			meas_series(&p, a, &mm[i], i, s);
	p.rel[n] = (struct plot_series){ "equal", p.refx, p.ref, 2, true };
	panels[0] = (struct plot){ "4K random writes: IOPS", "numjobs", "IOPS",
				   false, false, p.iops, ns };
	panels[1] = (struct plot){ "4K random writes: mean latency", "numjobs",
				   "latency (us)", false, false, p.lat, ns };
	panels[2] = (struct plot){ "IOPS, mq-deadline relative to none", "numjobs",
				   "percent", false, false, p.rel, (size_t)n + 1 };
	panels[3] = (struct plot){ "buffered sequential read", "read_ahead_kb",
				   "MB/s", false, false, p.seq, ns };
	snprintf(path, sizeof(path), "%s/measure.svg", a->dir);
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	ret = svg_write_plots(f, "shikumi blk measure: I/O scheduler and read-ahead",
			      panels, 4);
	if (fclose(f) || ret) {
		p_err("cannot write %s", path);
		ret = -1;
	}
out:
	free(p.x);
	free(p.y);
	return ret;
}

static int meas_model_run(const struct meas_args *a, struct meas_model *m)
{
	if (set_ctl(a->disk, "model", model_names[m->model]))
		return -1;
	if (meas_readahead(a, m))
		return -1;
	return meas_sched(a, m);
}

static int meas_run(const struct meas_args *a, const int *models, int n)
{
	struct meas_model mm[ARRAY_SIZE(model_names)] = { 0 };
	struct saved sv;
	int i, ret = 0;

	if (save_state(a->disk, &sv))
		return -1;
	if (!opt_json)
		printf("%-5s %-10s %-12s %6s %5s %10s %10s %10s\n", "MODEL", "TEST",
		       "SCHEDULER", "RA_KB", "JOBS", "MB/s", "IOPS", "LAT_US");
	for (i = 0; i < n && !ret; i++) {
		mm[i].model = models[i];
		mm[i].wr = calloc(NSCHED * a->max_jobs, sizeof(*mm[i].wr));
		if (!mm[i].wr) {
			p_err("out of memory");
			ret = -1;
			break;
		}
		ret = meas_model_run(a, &mm[i]);
	}
	restore_state(a->disk, &sv);
	if (!ret)
		ret = meas_write_json(a, mm, n);
	if (!ret)
		ret = meas_svg(a, mm, n);
	if (!ret && !opt_json)
		printf("fio reports, %s/measure.json and %s/measure.svg written\n",
		       a->dir, a->dir);
	for (i = 0; i < n; i++)
		free(mm[i].wr);
	return ret;
}

static int make_dir(const char *dir)
{
	struct stat st;

	if (!mkdir(dir, 0755) || (errno == EEXIST && !stat(dir, &st) &&
				  S_ISDIR(st.st_mode)))
		return 0;
	p_err("cannot create %s: %s", dir, strerror(errno));
	return -1;
}

static const struct cmd_help measure_help = {
	.usage = "[-d NAME] [-o DIR] [--models LIST] [--size MB] [--runtime S]\n"
		 "       [--max-jobs N] [--json]",
	.summary = "The book's chapter 9 measure.sh, with fio, on each model: buffered\n"
		   "sequential reads under mq-deadline and none with read_ahead_kb 128 and\n"
		   "0, then 4K O_DIRECT random writes with 1 to N jobs under both elevators.\n"
		   "Needs root and fio.",
	.details = "DIR (default blk-measure) receives every fio report as\n"
		   "MODEL-readahead-SCHED-raKB.json and MODEL-sched-SCHED-jJOBS.json, a\n"
		   "summary in measure.json and the plots in measure.svg.  --runtime caps\n"
		   "each fio run.  The model, elevator and read_ahead_kb are restored.",
};

int blk_measure(int argc, char **argv)
{
	const char *disk_s = DEFAULT_DISK, *models_s = "hdd,ssd";
	struct meas_args a = { .dir = "blk-measure", .size_mb = 128 };
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_STR('o', "output", &a.dir, "DIR", "where the reports go (default blk-measure)"),
		OPT_STR(0, "models", &models_s, "LIST", "models to measure (default hdd,ssd)"),
		OPT_NUM('s', "size", &a.size_mb, "MB", "sequential read size (default 128)"),
		OPT_NUM('t', "runtime", &a.runtime, "S", "cap each fio run at S seconds"),
		OPT_NUM('J', "max-jobs", &a.max_jobs, "N", "numjobs up to N (default: CPUs)"),
		OPT_FINISH(),
	};
	int models[ARRAY_SIZE(model_names)], n, first, ret;

	first = parse_options(argc, argv, opts, &measure_help);
	if (first < argc)
		return usage_error(&measure_help, "unexpected argument '%s'", argv[first]);
	n = parse_names(models_s, model_names, ARRAY_SIZE(model_names), models,
			(int)ARRAY_SIZE(models));
	if (n < 0)
		return usage_error(&measure_help, "bad model list '%s' (ram, ssd, hdd)",
				   models_s);
	if (!a.max_jobs) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		a.max_jobs = cpus < 1 ? 1 : cpus > 256 ? 256 : (uint64_t)cpus;
	}
	if (a.max_jobs < 1 || a.max_jobs > 256 || a.size_mb < 1 || a.runtime > 86400)
		return usage_error(&measure_help, "--max-jobs must be 1 to 256, --size at least 1");
	ret = need_disk(disk_s, a.disk, sizeof(a.disk), &measure_help);
	if (ret)
		return ret;
	snprintf(a.node, sizeof(a.node), "/dev/%s", a.disk);
	if (a.size_mb << 20 > disk_sectors(a.disk) * 512) {
		p_err("--size %llu MB is larger than %s", (unsigned long long)a.size_mb, a.disk);
		return EXIT_USAGE;
	}
	if (need_fio())
		return EXIT_FAIL;
	if (!is_root()) {
		p_err("needs root (drop_caches, the elevator, the model)");
		return EXIT_FAIL;
	}
	if (make_dir(a.dir))
		return EXIT_FAIL;
	return meas_run(&a, models, n) ? EXIT_FAIL : EXIT_OK;
}
