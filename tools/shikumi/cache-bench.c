// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache bench: a benchmark, not a test: the state of every page
 * of a fully cached file through shikumi_pgcache, against fincore(1),
 * which reports residency only, and against the mincore(2) call that
 * fincore makes.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

static const struct cmd_help bench_help = {
	.usage = "[--dir DIR] [--size MiB] [--repeat N] [--json]",
	.summary = "A benchmark, not a test: write a file of --size MiB (default 1024) in\n"
		   "DIR (default /dev/shm, a tmpfs, so that every page stays cached), then\n"
		   "--repeat times (default 5), in turn: the module's view of every folio\n"
		   "(what shikumi cache show reads: index, PFN, flags, mapcount), the\n"
		   "fincore command (util-linux: residency only, a process of its own),\n"
		   "and the mincore() call fincore makes, in this process.  Reports the\n"
		   "medians and the view's ratio to each.",
	.details = "The file is removed at the end.  Needs root and shikumi_pgcache,\n"
		   "and fincore for its column.",
};

enum { B_VIEW, B_FINCORE, B_MINCORE, B_NR };

static const char *const bench_names[B_NR] = { "view", "fincore", "mincore" };

struct cache_bench {
	char path[PATH_MAX];
	uint64_t size;			/* bytes */
	unsigned int repeat;
	uint64_t pages, cached;		/* the file's, and the view's */
	double ms[B_NR][64];		/* each run */
	double median[B_NR];
	bool have_fincore;
};

static int bench_fill(const char *path, uint64_t size)
{
	static char buf[1 << 20];
	uint64_t done;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		p_err("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	for (done = 0; done < size; done += sizeof(buf)) {
		ssize_t n;

		memset(buf, (int)(done >> 20), sizeof(buf));
		n = write(fd, buf, sizeof(buf));
		if (n != (ssize_t)sizeof(buf)) {
			p_err("cannot write %s: %s", path,
			      n < 0 ? strerror(errno) : "the filesystem is full");
			close(fd);
			return -1;
		}
	}
	return close(fd);
}

/* mincore() over the whole file, as fincore does: the resident pages */
static long long bench_mincore(const char *path, uint64_t size)
{
	size_t pages = (size + PGC_PAGE - 1) / PGC_PAGE, i;
	long long resident = -1;
	unsigned char *vec;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	vec = malloc(pages);
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (!vec || map == MAP_FAILED || mincore(map, size, vec)) {
		p_err("mincore of %s: %s", path, strerror(errno));
	} else {
		for (resident = 0, i = 0; i < pages; i++)
			resident += vec[i] & 1;
	}
	if (map != MAP_FAILED)
		munmap(map, size);
	free(vec);
	close(fd);
	return resident;
}

/* One run of each, in turn; the times in b->ms[][run] */
static int bench_run(struct cache_bench *b, unsigned int run)
{
	char *fincore[] = { "fincore", "--bytes", "--noheadings", b->path, NULL };
	struct pgc_view v;
	uint64_t t;

	t = now_ns();
	if (pgc_view_read(b->path, NULL, &v))
		return -1;
	b->ms[B_VIEW][run] = (double)(now_ns() - t) / 1e6;
	b->cached = v.cached;
	pgc_view_free(&v);
	if (b->cached != b->pages) {
		p_err("%s is not fully cached (%llu of %llu pages): give a --dir on tmpfs",
		      b->path, U(b->cached), U(b->pages));
		return -1;
	}
	if (b->have_fincore) {
		t = now_ns();
		if (run_prog(fincore, NULL)) {
			p_err("fincore %s failed", b->path);
			return -1;
		}
		b->ms[B_FINCORE][run] = (double)(now_ns() - t) / 1e6;
	}
	t = now_ns();
	if (bench_mincore(b->path, b->size) != (long long)b->pages) {
		p_err("mincore does not see all of %s cached", b->path);
		return -1;
	}
	b->ms[B_MINCORE][run] = (double)(now_ns() - t) / 1e6;
	return 0;
}

/* the median, as pt bench takes it, of a copy: the runs keep their order */
static double median_of(const double *v, unsigned int n)
{
	double s[64];

	memcpy(s, v, n * sizeof(*v));
	return percentile(s, n, 50);
}

static void bench_json(const struct cache_bench *b)
{
	struct json *j = json_stdout();
	unsigned int i, r;

	json_object_begin(j, NULL);
	json_string(j, "file", b->path);
	json_u64(j, "bytes", b->size);
	json_u64(j, "pages", b->pages);
	json_u64(j, "repeat", b->repeat);
	for (i = 0; i < B_NR; i++) {
		if (i == B_FINCORE && !b->have_fincore)
			continue;
		json_object_begin(j, bench_names[i]);
		json_double(j, "median_ms", b->median[i]);
		json_array_begin(j, "runs_ms");
		for (r = 0; r < b->repeat; r++)
			json_double(j, NULL, b->ms[i][r]);
		json_array_end(j);
		if (i != B_VIEW)
			json_double(j, "view_ratio", b->median[B_VIEW] / b->median[i]);
		json_object_end(j);
	}
	json_object_end(j);
	json_free(j);
}

static void bench_text(const struct cache_bench *b)
{
	static const char *const what[B_NR] = {
		"shikumi_pgcache: every folio's index, PFN, flags, mapcount",
		"fincore (util-linux): resident pages, a process",
		"mincore(): resident pages, in this process",
	};
	unsigned int i;

	printf("a fully cached file of %llu MiB (%llu pages), %s; medians of %u runs in turn\n",
	       U(b->size >> 20), U(b->pages), b->path, b->repeat);
	printf("%-10s %12s %12s  %s\n", "READER", "MEDIAN_MS", "VIEW/IT", "WHAT IT READS");
	for (i = 0; i < B_NR; i++) {
		if (i == B_FINCORE && !b->have_fincore) {
			printf("%-10s %12s %12s  not installed\n", bench_names[i], "-", "-");
			continue;
		}
		printf("%-10s %12.2f %12.2f  %s\n", bench_names[i], b->median[i],
		       b->median[B_VIEW] / b->median[i], what[i]);
	}
}

static int bench_parse(int argc, char **argv, struct cache_bench *b)
{
	const char *dir = "/dev/shm";
	uint64_t size_mb = 1024, repeat = 5;
	const struct opt opts[] = {
		OPT_STR('D', "dir", &dir, "DIR", "where the file goes (default /dev/shm)"),
		OPT_NUM('s', "size", &size_mb, "MiB", "the file's size (default 1024)"),
		OPT_NUM('n', "repeat", &repeat, "N", "runs of each (default 5, at most 64)"),
		OPT_FINISH(),
	};
	int first = parse_options(argc, argv, opts, &bench_help);

	if (first < 0)
		return first;
	if (first < argc)
		return usage_error(&bench_help, "unexpected argument '%s'", argv[first]);
	if (!size_mb || size_mb > 65536)
		return usage_error(&bench_help, "--size takes 1 to 65536 (MiB)");
	if (!repeat || repeat > 64)
		return usage_error(&bench_help, "--repeat takes 1 to 64");
	snprintf(b->path, sizeof(b->path), "%s/shikumi-cache-bench.%d", dir, getpid());
	b->size = size_mb << 20;
	b->pages = b->size / PGC_PAGE;
	b->repeat = (unsigned int)repeat;
	return 0;
}

int cache_bench_cmd(int argc, char **argv)
{
	struct cache_bench b = { 0 };
	unsigned int i, r;
	int ret;

	ret = bench_parse(argc, argv, &b);
	if (ret)
		return ret;
	b.have_fincore = in_path("fincore");
	if (bench_fill(b.path, b.size)) {
		unlink(b.path);
		return EXIT_FAIL;
	}
	for (r = 0; r < b.repeat; r++) {
		if (bench_run(&b, r)) {
			unlink(b.path);
			return EXIT_FAIL;
		}
	}
	unlink(b.path);
	for (i = 0; i < B_NR; i++)
		b.median[i] = median_of(b.ms[i], b.repeat);
	if (opt_json)
		bench_json(&b);
	else
		bench_text(&b);
	return 0;
}
