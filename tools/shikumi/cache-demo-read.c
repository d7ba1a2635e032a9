// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo read and direct: the book's first and second read of
 * a file (chapter 8), and O_DIRECT, which goes around the page cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-demo.h"

#define READ_BS		4096	/* the read demo's read()s, as dd bs=4k */

/* ---- demo read ------------------------------------------------------------------ */

static const struct cmd_help read_help = {
	.usage = "--dir DIR [--size MIB] [--keep] [-o FILE.svg] [--json]",
	.summary = "The book's read experiment: write a file in DIR and fsync it, drop the\n"
		   "caches (echo 3 > /proc/sys/vm/drop_caches), then read it twice, 4 KiB a\n"
		   "read(), and drop the caches again.",
	.details =
	"DIR must be on a file system on a shikumi disk (/dev/shikumi-ramN or one of\n"
	"its partitions).  Each step is shown from outside (free's Cached, Dirty and\n"
	"Writeback in /proc/meminfo, pgpgin and pgpgout in /proc/vmstat, the disk's\n"
	"/sys/block/DISK/stat, the wall-clock time) and from inside: the file's pages\n"
	"in the page cache (shikumi_pgcache) and the requests the disk served\n"
	"(shikumi_ramdisk's trace), with who sent them and why.  Every request the\n"
	"disk served during the demo is counted in exactly one step.  The first\n"
	"read sends read requests, most of them readahead, whose sizes show the\n"
	"readahead window growing; the second sends none.  -o writes those sizes\n"
	"as an SVG plot.  The file is removed at the end unless\n"
	"--keep.  Needs root, shikumi_ramdisk and shikumi_pgcache.",
};

/* The first read's request sizes, in order, as a plot. */
static int read_svg(const struct demo *d, const struct demo_step *s)
{
	struct plot_series ser = { "read requests", NULL, NULL, 0, false };
	struct plot p = { "the first read: request sizes in order", "request",
			  "KiB", false, false, &ser, 1 };
	double *x = calloc(s->t.n + 1, sizeof(double));
	double *y = calloc(s->t.n + 1, sizeof(double));
	size_t i;
	int ret = -1;

	if (!x || !y) {
		p_err("out of memory");
		goto out;
	}
	for (i = 0; i < s->t.n; i++) {
		if (s->t.r[i].op != SHIKUMI_BLK_OP_READ)
			continue;
		x[ser.n] = (double)ser.n + 1;
		y[ser.n++] = s->t.r[i].bytes / 1024.0;
	}
	ser.x = x;
	ser.y = y;
	ret = write_svg(d->svg, "shikumi cache demo read: readahead", &p);
out:
	free(x);
	free(y);
	return ret;
}

static int read_steps(struct demo *d)
{
	struct demo_step *s;

	s = demo_step_begin(d, "write", "write + fsync");
	if (!s || demo_create(d, 0) || demo_write_all(d) || demo_fsync(d))
		return -1;
	if (demo_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "drop_caches", "drop_caches");
	if (!s || demo_drop_caches() || demo_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "first_read", "first read");
	if (!s || demo_read_all(d, READ_BS) || demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "second_read", "second read");
	if (!s || demo_read_all(d, READ_BS) || demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "drop_caches_again", "drop_caches again");
	if (!s || demo_drop_caches() || demo_step_end(d, s) || demo_stopped())
		return -1;
	return demo_remove_step(d);
}

int demo_read_cmd(int argc, char **argv)
{
	struct demo d = { 0 };
	const char *dir = NULL, *svg = NULL;
	uint64_t mib = DEMO_DEFAULT_MIB;
	int ret;
	const struct opt opts[] = {
		DIR_OPT(&dir),
		SIZE_OPT(&mib),
		KEEP_OPT(&d.keep),
		OPT_STR('o', "output", &svg, "FILE.svg", "plot the first read's request sizes"),
		OPT_FINISH(),
	};

	ret = demo_args(argc, argv, opts, &read_help, &dir, &mib);
	if (ret)
		return ret;
	d.svg = svg;
	ret = EXIT_FAIL;
	if (demo_open(&d, "read", mib, dir) || read_steps(&d))
		goto out;
	if (demo_report(&d) || (svg && read_svg(&d, &d.step[2])))
		goto out;
	ret = EXIT_OK;
out:
	demo_close(&d);
	return ret;
}

/* ---- demo direct ----------------------------------------------------------------- */

static const struct cmd_help direct_help = {
	.usage = "--dir DIR [--size MIB] [--keep] [--json]",
	.summary = "Write a file in DIR with O_DIRECT, 64 KiB a write(), then read it back\n"
		   "with O_DIRECT: each write reaches the disk before it returns, sent by\n"
		   "this process, and the page cache holds none of the file's pages.",
	.details =
	"DIR must be on a file system on a shikumi disk; the steps are shown as in\n"
	"'shikumi cache demo read'.  The file is removed at the end unless\n"
	"--keep.  Needs root, shikumi_ramdisk and shikumi_pgcache.",
};

static int direct_steps(struct demo *d)
{
	struct demo_step *s;

	s = demo_step_begin(d, "direct_write", "O_DIRECT write");
	if (!s || demo_create(d, O_DIRECT))
		return -1;
	if (demo_write_all(d) || demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "direct_read", "O_DIRECT read");
	if (!s || demo_read_all(d, DEMO_CHUNK) || demo_step_end(d, s))
		return -1;
	return demo_remove_step(d);
}

int demo_direct_cmd(int argc, char **argv)
{
	struct demo d = { 0 };
	const char *dir = NULL;
	uint64_t mib = DEMO_DEFAULT_MIB;
	int ret;
	const struct opt opts[] = {
		DIR_OPT(&dir),
		SIZE_OPT(&mib),
		KEEP_OPT(&d.keep),
		OPT_FINISH(),
	};

	ret = demo_args(argc, argv, opts, &direct_help, &dir, &mib);
	if (ret)
		return ret;
	ret = EXIT_FAIL;
	if (demo_open(&d, "direct", mib, dir) || direct_steps(&d) || demo_report(&d))
		goto out;
	ret = EXIT_OK;
out:
	demo_close(&d);
	return ret;
}
