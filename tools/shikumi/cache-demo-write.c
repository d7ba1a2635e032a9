// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo write: buffered writes leave dirty pages, which the
 * flusher writes back when they are old enough (the vm sysctls
 * dirty_expire_centisecs and dirty_writeback_centisecs, lowered for the
 * demo and always put back) or fsync() writes at once (chapter 8).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache-demo.h"

#define VM_EXPIRE	"/proc/sys/vm/dirty_expire_centisecs"
#define VM_INTERVAL	"/proc/sys/vm/dirty_writeback_centisecs"
#define SAMPLE_NS	(100 * NSEC_PER_MSEC)
#define WAIT_S		60	/* for the flusher, at most */

static const struct cmd_help write_help = {
	.usage = "--dir DIR [--size MIB] [--keep] [--expire CS] [--interval CS] [-o FILE.svg] [--json]",
	.summary = "The book's write experiment: write a file in DIR with buffered write()s,\n"
		   "64 KiB each, and watch the flusher write its dirty pages back; then write\n"
		   "it again and fsync() it.",
	.details =
	"The demo lowers vm.dirty_writeback_centisecs (how often the flusher wakes)\n"
	"to --interval (default 50) first: a new value wakes the flusher to write\n"
	"everything dirty at once, which would hide what follows.  After the write\n"
	"the file's pages are all dirty and the disk has received none of them.\n"
	"Then it lowers vm.dirty_expire_centisecs (how old a dirty page must be for\n"
	"the flusher to write it) to --expire (default 100) and samples the file's\n"
	"dirty and writeback pages and /proc/meminfo's Dirty and Writeback every\n"
	"100 ms until all are written: the writes come from the flusher's kworker,\n"
	"not sync; whether they carry the background flag is up to the file system\n"
	"(ext4 sends its data writeback without it).  The old values are put back\n"
	"after the fsync, also on an error and on SIGINT, SIGTERM, SIGHUP or\n"
	"SIGQUIT.\n"
	"The second write's fsync() sends the writes from this process, with the\n"
	"sync flag, and leaves no page dirty.  -o plots the dirty pages over time\n"
	"as SVG.  The steps are shown as in 'shikumi cache demo read'; the file is\n"
	"removed at the end unless --keep.  Needs root, shikumi_ramdisk and\n"
	"shikumi_pgcache.",
};

/* ---- the vm sysctls --------------------------------------------------------------- */

static int save_sysctls(struct demo *d)
{
	if (read_file_str(VM_EXPIRE, d->expire_old, sizeof(d->expire_old)) ||
	    read_file_str(VM_INTERVAL, d->interval_old, sizeof(d->interval_old))) {
		p_err("cannot read %s and %s", VM_EXPIRE, VM_INTERVAL);
		d->expire_old[0] = '\0';
		return -1;
	}
	return 0;
}

static int set_sysctl(const char *path, const char *v)
{
	int err = write_file_str(path, v);

	if (err)
		p_err("cannot write %s to %s: %s", v, path, strerror(-err));
	return err;
}

/* Lower one of the sysctls to @v; the old values are put back at the end. */
static int lower_sysctl(struct demo *d, const char *path, uint64_t v)
{
	char buf[32];

	d->lowered = true;
	snprintf(buf, sizeof(buf), "%llu", U(v));
	return set_sysctl(path, buf) ? -1 : 0;
}

/* Put the old values back, if the demo changed them; -1 if it could not. */
static int restore_sysctls(struct demo *d)
{
	int err;

	if (!d->lowered)
		return 0;
	err = set_sysctl(VM_EXPIRE, d->expire_old);
	err |= set_sysctl(VM_INTERVAL, d->interval_old);
	if (err) {
		p_err("put them back by hand: sysctl vm.dirty_expire_centisecs=%s vm.dirty_writeback_centisecs=%s",
		      d->expire_old, d->interval_old);
		return -1;
	}
	d->lowered = false;
	return 0;
}

/* ---- the flusher at work ------------------------------------------------------------ */

static int add_sample(struct demo *d, uint64_t t0)
{
	struct demo_sample *p;

	if (d->nsmp == d->capsmp) {
		size_t cap = d->capsmp ? 2 * d->capsmp : 256;

		p = realloc(d->smp, cap * sizeof(*p));
		if (!p) {
			p_err("out of memory");
			return -1;
		}
		d->smp = p;
		d->capsmp = cap;
	}
	p = &d->smp[d->nsmp];
	if (demo_view(d, &p->dirty, &p->writeback))
		return -1;
	p->dirty_kb = meminfo_kb("Dirty");
	p->writeback_kb = meminfo_kb("Writeback");
	p->t_s = (double)(now_ns() - t0) / 1e9;
	d->nsmp++;
	return 0;
}

/* Lower the expiry, then sample until nothing of the file is dirty. */
static int flusher_wait(struct demo *d)
{
	struct timespec ts = { 0, SAMPLE_NS };
	uint64_t t0 = now_ns();
	const struct demo_sample *p;

	if (lower_sysctl(d, VM_EXPIRE, d->expire) || add_sample(d, t0))
		return -1;
	for (;;) {
		p = &d->smp[d->nsmp - 1];
		if (!p->dirty && !p->writeback)
			return 0;
		if (p->t_s > WAIT_S) {
			p_err("after %d s, %llu pages of %s are still dirty and %llu under writeback",
			      WAIT_S, U(p->dirty), d->path, U(p->writeback));
			return -1;
		}
		nanosleep(&ts, NULL);	/* a signal cuts it short */
		if (demo_stopped() || add_sample(d, t0))
			return -1;
	}
}

static int write_svg_plot(const struct demo *d)
{
	struct plot_series ser[4] = {
		{ "the file's dirty pages", NULL, NULL, d->nsmp, false },
		{ "the file's pages under writeback", NULL, NULL, d->nsmp, false },
		{ "meminfo Dirty / 4 KiB", NULL, NULL, d->nsmp, false },
		{ "meminfo Writeback / 4 KiB", NULL, NULL, d->nsmp, false },
	};
	struct plot p = { "dirty pages while the flusher writes them back",
			  "seconds since the sysctls were lowered", "pages",
			  false, false, ser, 4 };
	double *v = calloc(5 * d->nsmp + 1, sizeof(double));
	size_t i;
	int ret;

	if (!v) {
		p_err("out of memory");
		return -1;
	}
	for (i = 0; i < d->nsmp; i++) {
		v[i] = d->smp[i].t_s;
		v[d->nsmp + i] = (double)d->smp[i].dirty;
		v[2 * d->nsmp + i] = (double)d->smp[i].writeback;
		v[3 * d->nsmp + i] = (double)d->smp[i].dirty_kb / 4;
		v[4 * d->nsmp + i] = (double)d->smp[i].writeback_kb / 4;
	}
	for (i = 0; i < 4; i++) {
		ser[i].x = v;
		ser[i].y = v + (i + 1) * d->nsmp;
	}
	ret = write_svg(d->svg, "shikumi cache demo write: the flusher", &p);
	free(v);
	return ret;
}

static int write_steps(struct demo *d)
{
	struct demo_step *s;

	/*
	 * A new dirty_writeback_centisecs wakes the flusher to write all that
	 * is dirty at once (neither periodic nor background writeback): so it
	 * is lowered before the file has dirty pages, and the expiry after.
	 */
	s = demo_step_begin(d, "interval", "lower writeback interval");
	if (!s || save_sysctls(d) || lower_sysctl(d, VM_INTERVAL, d->interval) ||
	    demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "write", "buffered write");
	if (!s || demo_create(d, 0) || demo_write_all(d) || demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "flusher", "lower expiry, flusher");
	if (!s || flusher_wait(d) || demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "rewrite", "buffered write again");
	if (!s || demo_write_all(d) || demo_step_end(d, s))
		return -1;
	s = demo_step_begin(d, "fsync", "fsync");
	if (!s || demo_fsync(d))
		return -1;
	if (demo_step_end(d, s) || demo_stopped() || restore_sysctls(d))
		return -1;
	return demo_remove_step(d);
}

int demo_write_cmd(int argc, char **argv)
{
	struct demo d = { 0 };
	const char *dir = NULL, *svg = NULL;
	uint64_t mib = DEMO_DEFAULT_MIB, expire = 100, interval = 50;
	int ret;
	const struct opt opts[] = {
		DIR_OPT(&dir),
		SIZE_OPT(&mib),
		KEEP_OPT(&d.keep),
		OPT_NUM(0, "expire", &expire, "CS",
			"dirty_expire_centisecs during the demo (default 100)"),
		OPT_NUM(0, "interval", &interval, "CS",
			"dirty_writeback_centisecs during the demo (default 50)"),
		OPT_STR('o', "output", &svg, "FILE.svg", "plot the dirty pages over time"),
		OPT_FINISH(),
	};

	ret = demo_args(argc, argv, opts, &write_help, &dir, &mib);
	if (ret)
		return ret;
	if (!expire || expire > 3000 || !interval || interval > 3000)
		return usage_error(&write_help, "--expire, --interval: give 1 to 3000 centiseconds");
	d.svg = svg;
	d.expire = expire;
	d.interval = interval;
	ret = EXIT_FAIL;
	if (demo_open(&d, "write", mib, dir) || write_steps(&d))
		goto out;
	if (demo_report(&d) || (svg && write_svg_plot(&d)))
		goto out;
	ret = EXIT_OK;
out:
	if (restore_sysctls(&d))
		ret = EXIT_FAIL;
	demo_close(&d);
	return ret;
}
