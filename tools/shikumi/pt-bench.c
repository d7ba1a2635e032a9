// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt bench: a benchmark, not a test: a dump through
 * shikumi_ptdump against /proc/PID/pagemap, in time and in the kernel
 * memory that open dumps hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pt.h"

/* ---- the benchmark: a dump against /proc/PID/pagemap ----------------------------------- */

static const struct cmd_help bench_help = {
	.usage = "[--size MiB] [--repeat N] [--json]",
	.summary = "A benchmark, not a test: a child maps and writes --size MiB (default\n"
		   "1024, 4 KiB pages), then its range is read, --repeat times (default 5)\n"
		   "in turn, from /proc/PID/pagemap (8 bytes per page: the PFN, no upper\n"
		   "levels) and from shikumi_ptdump: raw records with every level (what\n"
		   "shikumi pt dump reads), the full text view, and the stats view (the\n"
		   "walk alone).  Reports the medians and each one's ratio to pagemap.",
	.details = "Every reader uses 1 MiB read() calls.  Then 32 dumps of the child and\n"
		   "32 of a small process are held open, mid-read, and the kernel memory\n"
		   "they use is measured from MemFree and from the module's own count.\n"
		   "Needs root and shikumi_ptdump.",
};

#define BENCH_BUF	(1024 * 1024)
#define BENCH_HOLD	32

/* Read one dump of [a, b) to the end; returns the bytes, or -1. */
static long long bench_dump(pid_t pid, const char *view, const char *format, uint64_t a,
			    uint64_t b, char *buf)
{
	char q[160];
	long long total = 0;
	ssize_t n;
	int fd = pt_open();

	if (fd < 0)
		return -1;
	snprintf(q, sizeof(q), "pid=%d view=%s format=%s range=0x%llx-0x%llx", pid, view,
		 format, U(a), U(b));
	if (pt_query(fd, pid, q, NULL)) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, BENCH_BUF)) > 0)
		total += n;
	if (n < 0) {
		p_err("reading %s: %s", PT_DUMP, strerror(errno));
		total = -1;
	}
	close(fd);
	return total;
}

/* Read pagemap's entries for [a, b); returns the present pages, or -1. */
static long long bench_pagemap(pid_t pid, uint64_t a, uint64_t b, char *buf)
{
	char path[64];
	long long present = 0;
	uint64_t off = a / SZ_4K * 8, end = b / SZ_4K * 8;
	ssize_t n, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (off < end) {
		n = pread(fd, buf, end - off < BENCH_BUF ? end - off : BENCH_BUF, (off_t)off);
		if (n <= 0) {
			p_err("reading %s: %s", path, n ? strerror(errno) : "end of file");
			close(fd);
			return -1;
		}
		for (i = 0; i + 8 <= n; i += 8)
			present += ((uint64_t *)(void *)(buf + i))[0] >> 63;
		off += (uint64_t)n;
	}
	close(fd);
	return present;
}

/*
 * Hold BENCH_HOLD dumps of @pid open, each one read() once so that its walk
 * has started; returns the kernel memory per open dump, from MemFree, and
 * the module's count in @module.
 */
static long long bench_memory(pid_t pid, char *buf, long long *module)
{
	char status[1024], q[64], *p;
	int fds[BENCH_HOLD], i, n = 0;
	long long before, after;

	snprintf(q, sizeof(q), "pid=%d view=full format=raw", pid);
	before = meminfo_kb("MemFree");
	for (i = 0; i < BENCH_HOLD; i++) {
		fds[i] = pt_open();
		if (fds[i] < 0)
			break;
		n++;
		if (pt_query(fds[i], pid, q, NULL) || read(fds[i], buf, 4096) <= 0)
			break;
	}
	after = meminfo_kb("MemFree");
	*module = -1;
	if (!read_file_str(DEBUGFS_ROOT "/shikumi/ptdump/status", status, sizeof(status))) {
		p = strstr(status, "memory_bytes ");
		if (p)
			*module = strtoll(p + strlen("memory_bytes "), NULL, 10) / (n ? n : 1);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (n < BENCH_HOLD)
		return -1;
	return (before - after) * 1024 / BENCH_HOLD;
}

enum { B_PAGEMAP, B_RAW, B_TEXT, B_STATS, B_NR };

static const char *const bench_names[B_NR] = { "pagemap", "dump raw", "dump full text",
					       "dump stats" };

/* What bench measured; t[reader][run] in ms. */
struct bench_run {
	pid_t pid;
	uint64_t size, repeat, addr, len;
	char *buf;
	double *t[B_NR], med[B_NR];
	long long bytes[B_NR], present, mem_big, mem_small, mod_big, mod_small;
};

/* The child maps and writes the memory the readers will read. */
static int bench_setup(struct worker *w, struct bench_run *br)
{
	if (worker_warm_up(w))
		return -1;
	br->len = br->size * MIB;
	br->addr = worker_do(w, W_MMAP, 0, 0, br->len, 0, SZ_2M);
	if (!br->addr || !worker_do(w, W_MADVISE, MADV_NOHUGEPAGE, br->addr, br->len, 0, 0) ||
	    !worker_do(w, W_TOUCH, 1, br->addr, br->len, SZ_4K, 0)) {
		p_err("the child could not map and write %llu MiB: %s", U(br->size),
		      strerror(errno));
		return -1;
	}
	return 0;
}

/* One read by reader @b; returns the bytes read, or -1. */
static long long bench_read(struct bench_run *br, int b)
{
	uint64_t addr = br->addr, len = br->len;
	long long v;

	if (b != B_PAGEMAP)
		return bench_dump(br->pid, b == B_STATS ? "stats" : "full",
				  b == B_TEXT ? "text" : "raw", addr, addr + len, br->buf);
	v = bench_pagemap(br->pid, addr, addr + len, br->buf);
	if (v < 0)
		return -1;
	if ((uint64_t)v != len / SZ_4K) {
		p_err("pagemap shows %lld present pages, not %llu", v, U(len / SZ_4K));
		return -1;
	}
	return (long long)(len / SZ_4K * 8);
}

/* Each reader --repeat times, in turn; then the medians and the memory. */
static int bench_measure(struct bench_run *br)
{
	uint64_t r;
	int k;

	for (r = 0; r < br->repeat; r++) {
		for (k = 0; k < B_NR; k++) {
			/* take turns, starting with a different reader each run */
			int b = (int)((k + r) % B_NR);
			uint64_t t0 = now_ns();
			long long v = bench_read(br, b);

			if (v < 0)
				return -1;
			br->t[b][r] = (double)(now_ns() - t0) / 1e6;
			br->bytes[b] = v;
		}
	}
	/* the raw dump had one record per PTE, and a few more */
	if ((uint64_t)br->bytes[B_RAW] < br->len / SZ_4K * sizeof(struct shikumi_pt_rec)) {
		p_err("the raw dump has %lld bytes: fewer than one record per page",
		      br->bytes[B_RAW]);
		return -1;
	}
	for (k = 0; k < B_NR; k++)
		br->med[k] = percentile(br->t[k], br->repeat, 50);
	br->mem_big = bench_memory(br->pid, br->buf, &br->mod_big);
	br->mem_small = bench_memory(getpid(), br->buf, &br->mod_small);
	br->present = (long long)(br->len / SZ_4K);
	return 0;
}

static void bench_json(const struct bench_run *br)
{
	struct json *j = json_stdout();
	int k;

	json_object_begin(j, NULL);
	json_u64(j, "pid", (uint64_t)br->pid);
	json_u64(j, "size_mib", br->size);
	json_u64(j, "ptes", (uint64_t)br->present);
	json_u64(j, "repeat", br->repeat);
	json_array_begin(j, "readers");
	for (k = 0; k < B_NR; k++) {
		json_object_begin(j, NULL);
		json_string(j, "reader", bench_names[k]);
		json_double(j, "median_ms", br->med[k]);
		json_u64(j, "bytes", (uint64_t)br->bytes[k]);
		json_double(j, "ratio_to_pagemap", br->med[k] / br->med[B_PAGEMAP]);
		json_object_end(j);
	}
	json_array_end(j);
	json_i64(j, "memory_per_dump_large", br->mem_big);
	json_i64(j, "memory_per_dump_small", br->mem_small);
	json_i64(j, "module_bytes_per_dump_large", br->mod_big);
	json_i64(j, "module_bytes_per_dump_small", br->mod_small);
	json_object_end(j);
	json_free(j);
}

static void bench_text(const struct bench_run *br)
{
	int k;

	printf("%-16s %12s %12s %10s\n", "READER", "MEDIAN ms", "BYTES", "/ PAGEMAP");
	for (k = 0; k < B_NR; k++)
		printf("%-16s %12.1f %12lld %9.2fx\n", bench_names[k], br->med[k], br->bytes[k],
		       br->med[k] / br->med[B_PAGEMAP]);
	printf("kernel memory per open dump, from MemFree over %d dumps held open:\n"
	       "  of this %llu MiB process: %lld bytes; of a small one (pid %d): %lld bytes\n"
	       "  (the module's own count: %lld and %lld bytes)\n",
	       BENCH_HOLD, U(br->size), br->mem_big, getpid(), br->mem_small, br->mod_big,
	       br->mod_small);
}

int pt_bench_cmd(int argc, char **argv)
{
	uint64_t size = 1024, repeat = 5;
	const struct opt opts[] = {
		OPT_NUM('s', "size", &size, "MiB",
			"memory the child maps and writes (default 1024)"),
		OPT_NUM('n', "repeat", &repeat, "N", "runs of each reader (default 5)"),
		OPT_FINISH(),
	};
	struct bench_run br = { 0 };
	struct worker w = { 0 };
	int first, ret = EXIT_FAIL, k;

	first = parse_options(argc, argv, opts, &bench_help);
	if (first < argc)
		return usage_error(&bench_help, "unexpected argument '%s'", argv[first]);
	if (!size || size > 64 * 1024 || !repeat || repeat > 100)
		return usage_error(&bench_help, "--size must be 1 to 65536, --repeat 1 to 100");
	if (need_root() || worker_start(&w))
		return EXIT_FAIL;
	br.pid = w.pid;
	br.size = size;
	br.repeat = repeat;
	br.buf = malloc(BENCH_BUF);
	for (k = 0; k < B_NR; k++)
		br.t[k] = calloc(repeat, sizeof(double));
	if (!br.buf || !br.t[0] || !br.t[1] || !br.t[2] || !br.t[3]) {
		p_err("out of memory");
		goto out;
	}
	if (bench_setup(&w, &br))
		goto out;
	if (!opt_json)
		printf("pid %d maps and has written %llu MiB: %llu PTEs; %llu runs of each reader\n",
		       w.pid, U(size), U(br.len / SZ_4K), U(repeat));
	if (bench_measure(&br))
		goto out;
	if (opt_json)
		bench_json(&br);
	else
		bench_text(&br);
	ret = EXIT_OK;
out:
	worker_stop(&w);
	for (k = 0; k < B_NR; k++)
		free(br.t[k]);
	free(br.buf);
	return ret;
}
