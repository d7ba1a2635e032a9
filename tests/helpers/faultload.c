// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-faultload: fault injection for tests/fault.bats (debug kernel).
 *
 *   shikumi-faultload load KO [PARAMS] [--all] [--last N] [--open DEV]
 *	Load KO once to count the allocations a clean load makes (P), then
 *	load it again and again, failing one of them each time through
 *	/proc/thread-self/fail-nth: each of the last max(300, P/2), where the
 *	module's init and the kernel's registration of it are, and every 4th
 *	before that, in the loader's copying of the image (--all: each of
 *	the P; --last N: each of the last N only).  Every load that fails
 *	must fail with a proper errno and leave nothing behind
 *	(/sys/module/NAME, /dev, /sys/class, /sys/block and debugfs entries
 *	of shikumi); every load that succeeds must unload.  With --open, a
 *	second thread opens DEV every 2 ms, holding it 10 ms when it can:
 *	no open may succeed during a load that then fails, for the kernel
 *	frees a module whose init failed whatever user space holds of it.
 *	The caller sets failslab and fail_page_alloc up (tests/common.bash:
 *	fault_injection_begin); fail-nth counts the loader thread's only.
 *
 *   shikumi-faultload io DEV [WRITES] [--nowait]
 *	On a shikumi_ramdisk DEV: write a reference area, then WRITES
 *	(default 300) O_DIRECT writes of fresh 4 KiB blocks and as many reads,
 *	each with one of its allocations failed, the 1st, the 2nd, ... of
 *	those a clean write (or read) makes, round and round.  The writes go
 *	through Linux AIO: a pwrite() sleeps with its request still plugged,
 *	and blk-mq then issues it from kblockd, out of reach of this task's
 *	fail-nth; io_submit() issues it from this task.  A failed write
 *	must fail with EIO, ENOMEM or EAGAIN and leave its block all zero (never
 *	written) or whole; a successful one must read back; a read must give
 *	the right data or an error, never wrong data; the reference area must
 *	survive.  The driver's ->queue_rq() allocates with GFP_NOWAIT (its
 *	store's pages, the write cache's undo log) and defers a request that
 *	cannot get memory to its work item, which allocates again with
 *	GFP_NOIO, out of reach of fail-nth: a write whose fault was injected
 *	there succeeds, and the driver's "deferred" counter (debugfs stats)
 *	goes up by one.  At least one write must have been deferred so, and
 *	each deferred one must read back whole at once.
 *	--nowait: the writes are RWF_NOWAIT, which are never deferred (the
 *	counter must not move) and must never fail with EIO, only EAGAIN; at
 *	least one must.
 *
 * Both end with a one-line summary; exit status 1 on any violation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rdstats.h"

#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define BLK		4096
#define REF_BLOCKS	64
#define MAX_ERRNO	512

static int failures;
static unsigned long errnos[MAX_ERRNO];

/* the first few violations are enough to go on */
#define violation(...) do {					\
	if (failures++ < 10) {					\
		fprintf(stderr, "faultload: " __VA_ARGS__);	\
		fputc('\n', stderr);				\
	}							\
} while (0)

static void die(const char *what)
{
	fprintf(stderr, "faultload: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int nth_fd = -1;

/* Fail the nth fault-injection point this thread reaches from now on. */
static void fail_nth(unsigned long n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%lu", n);

	if (nth_fd < 0) {
		nth_fd = open(FAIL_NTH, O_RDWR);
		if (nth_fd < 0)
			die(FAIL_NTH);
	}
	if (pwrite(nth_fd, buf, len, 0) != len)
		die("writing " FAIL_NTH);
}

/* What is left of the count; 0 means the fault was injected. */
static unsigned long fail_nth_left(void)
{
	char buf[32] = "";
	ssize_t len = pread(nth_fd, buf, sizeof(buf) - 1, 0);

	if (len <= 0)
		die("reading " FAIL_NTH);
	buf[len] = '\0';
	return strtoul(buf, NULL, 10);
}

/* Read back and clear: true if the armed fault was injected. */
static bool fail_nth_done(unsigned long armed, unsigned long *used)
{
	unsigned long left = fail_nth_left();

	fail_nth(0);
	if (used)
		*used = armed - left;
	return left == 0;
}

static void count_errno(int e)
{
	errnos[e > 0 && e < MAX_ERRNO ? e : 0]++;
}

static void print_errnos(void)
{
	bool first = true;
	int e;

	printf(" (");
	for (e = 0; e < MAX_ERRNO; e++) {
		if (!errnos[e])
			continue;
		printf("%s%s %lu", first ? "" : ", ",
		       e ? strerrorname_np(e) : "other", errnos[e]);
		first = false;
	}
	printf(")");
}

/* ---- load -------------------------------------------------------------- */

/* --open: a thread that opens a device of the module while it loads */
static struct {
	const char *path;
	unsigned long seq;	/* the loader's: the load in progress */
	unsigned long opened;	/* the seq of the last successful open */
	unsigned long opens, refused, bad;
	int trying;		/* between reading seq and closing */
	bool stop;
} op;

static void *opener(void *unused)
{
	const struct timespec hold = { 0, 10000000 }, gap = { 0, 2000000 };
	unsigned long seq;
	int fd;

	(void)unused;
	while (!__atomic_load_n(&op.stop, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&op.trying, 1, __ATOMIC_SEQ_CST);
		seq = __atomic_load_n(&op.seq, __ATOMIC_SEQ_CST);
		fd = open(op.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			__atomic_store_n(&op.opened, seq, __ATOMIC_SEQ_CST);
			op.opens++;
			nanosleep(&hold, NULL);
			close(fd);
		} else if (errno == ENXIO) {
			op.refused++;
		} else if (errno != ENOENT) {
			op.bad++;
		}
		__atomic_store_n(&op.trying, 0, __ATOMIC_SEQ_CST);
		nanosleep(&gap, NULL);
	}
	return NULL;
}

/* after a failed load: did the opener get in while it ran? */
static bool opened_during(unsigned long seq)
{
	while (__atomic_load_n(&op.trying, __ATOMIC_SEQ_CST))
		usleep(1000);
	return __atomic_load_n(&op.opened, __ATOMIC_SEQ_CST) == seq;
}

static const char *const leftovers[] = {
	"/dev/shikumi-*",
	"/sys/class/shikumi-*",
	"/sys/block/shikumi-*",
	"/sys/kernel/debug/shikumi/*",
};

static void check_nothing_left(const char *name, unsigned long n)
{
	char path[256];
	struct stat st;
	size_t i;

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	if (!stat(path, &st))
		violation("fault %lu: failed load left %s", n, path);
	for (i = 0; i < sizeof(leftovers) / sizeof(leftovers[0]); i++) {
		glob_t g;

		if (!glob(leftovers[i], 0, NULL, &g)) {
			violation("fault %lu: failed load left %s", n,
				  g.gl_pathv[0]);
			globfree(&g);
		}
	}
}

static void unload(const char *name, unsigned long n)
{
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			break;
		if (errno != EAGAIN && errno != EBUSY) {
			violation("fault %lu: cannot unload %s: %s", n, name,
				  strerror(errno));
			return;
		}
		usleep(20000);
	}
	check_nothing_left(name, n);
}

static bool proper_load_errno(int e)
{
	switch (e) {
	case ENOMEM: case ENOSPC: case EINVAL: case ENOENT: case EBUSY:
	case EEXIST: case ENODEV: case ENXIO: case EIO: case ENOEXEC:
		return true;
	default:
		return false;
	}
}

/* the failed loads' fault numbers, as ranges: where the hard failures are */
static void print_ranges(const unsigned char *failed_at, unsigned long points)
{
	unsigned long n, start = 0;
	int shown = 0;

	printf(", failing at");
	for (n = 1; n <= points + 1; n++) {
		bool f = n <= points && failed_at[n];

		if (f && !start)
			start = n;
		if (!f && start) {
			if (shown++ < 12)
				printf(start == n - 1 ? " %lu" : " %lu-%lu",
				       start, n - 1);
			start = 0;
		}
	}
	if (shown > 12)
		printf(" and %d more ranges", shown - 12);
}

static int do_load(const char *ko, const char *params, bool all,
		   unsigned long last)
{
	unsigned long points, n, injected = 0, failed = 0, survived = 0;
	unsigned long tried = 0, window;
	unsigned char *failed_at;
	char name[128], *dot;
	const char *base;
	struct timespec t0, t1;
	pthread_t thread;
	int fd;

	base = strrchr(ko, '/') ? strrchr(ko, '/') + 1 : ko;
	snprintf(name, sizeof(name), "%s", base);
	dot = strchr(name, '.');
	if (dot)
		*dot = '\0';
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(ko);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a clean load, counting the fault points it passes */
	fail_nth(1000000);
	if (syscall(SYS_finit_module, fd, params, 0))
		die("a load without faults");
	fail_nth_done(1000000, &points);
	unload(name, 0);
	failed_at = calloc(points + 2, 1);
	if (!failed_at)
		die("calloc");
	window = points / 2 > 300 ? points / 2 : 300;
	op.opened = ULONG_MAX;
	if (op.path && pthread_create(&thread, NULL, opener, NULL))
		die("pthread_create");

	for (n = 1; n <= points; n++) {
		bool hit;
		int r, e;

		if (last ? n + last <= points :
		    !all && n + window <= points && n % 4)
			continue;
		tried++;
		__atomic_store_n(&op.seq, n, __ATOMIC_SEQ_CST);
		fail_nth(n);
		r = syscall(SYS_finit_module, fd, params, 0);
		e = errno;
		hit = fail_nth_done(n, NULL);
		injected += hit;
		if (!r) {
			survived += hit;
			unload(name, n);
			continue;
		}
		failed++;
		failed_at[n] = 1;
		count_errno(e);
		if (!hit)
			violation("load %lu failed with no fault injected: %s",
				  n, strerror(e));
		else if (!proper_load_errno(e))
			violation("fault %lu: load failed with %s (%d)", n,
				  strerror(e), e);
		check_nothing_left(name, n);
		if (op.path && opened_during(n))
			violation("fault %lu: %s was opened during the load, which failed (%s)",
				  n, op.path, strerror(e));
	}
	if (op.path) {
		__atomic_store_n(&op.stop, true, __ATOMIC_SEQ_CST);
		pthread_join(thread, NULL);
		if (op.bad)
			violation("%lu opens of %s failed with neither ENOENT nor ENXIO",
				  op.bad, op.path);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("faultload %s: %lu fault points in a clean load, %lu loads tried, %lu faults injected, %lu loads failed",
	       name, points, tried, injected, failed);
	print_errnos();
	print_ranges(failed_at, points);
	if (op.path)
		printf(", %s opened %lu times, refused %lu times (ENXIO)",
		       op.path, op.opens, op.refused);
	printf(", %lu loaded anyway and unloaded, %d violations, %.0f s\n",
	       survived, failures,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	free(failed_at);
	close(fd);
	return failures ? 1 : 0;
}

/* ---- io ---------------------------------------------------------------- */

/* The driver's "deferred" counter, from DEV's debugfs stats. */
static unsigned long long read_deferred(const char *dev)
{
	const char *name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	unsigned long long v = 0;
	int ret = rd_stat(name, "deferred", &v);

	if (ret < 0)
		die("the disk's debugfs stats");
	if (ret) {
		errno = ENOENT;
		die("no deferred counter in the stats");
	}
	return v;
}

static void fill(unsigned char *buf, unsigned long block, unsigned int gen)
{
	uint64_t x = block * 0x9e3779b97f4a7c15ULL + gen + 1;
	size_t i;

	for (i = 0; i < BLK; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
}

static bool all_zero(const unsigned char *buf)
{
	size_t i;

	for (i = 0; i < BLK; i++)
		if (buf[i])
			return false;
	return true;
}

static int ioctl_discard_all(int fd)
{
	uint64_t range[2] = { 0, 0 };

	if (ioctl(fd, BLKGETSIZE64, &range[1]))
		return -1;
	return ioctl(fd, BLKDISCARD, range);
}

/* io --nowait: the writes are RWF_NOWAIT (REQ_NOWAIT in the driver) */
static bool io_nowait;

/* One O_DIRECT write through Linux AIO: its result, or -errno. */
static ssize_t aio_write(aio_context_t ctx, int fd, const void *buf,
			 off_t off, unsigned long n, bool *hit,
			 unsigned long *used)
{
	struct iocb cb = {
		.aio_lio_opcode = IOCB_CMD_PWRITE,
		.aio_fildes = fd,
		.aio_buf = (uintptr_t)buf,
		.aio_nbytes = BLK,
		.aio_offset = off,
		.aio_rw_flags = io_nowait ? RWF_NOWAIT : 0,
	};
	struct iocb *cbs[1] = { &cb };
	struct io_event ev;
	long r;

	fail_nth(n);
	r = syscall(SYS_io_submit, ctx, 1, cbs);
	*hit = fail_nth_done(n, used);
	if (r != 1)
		return r < 0 ? -errno : -EIO;
	if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1)
		die("io_getevents");
	return ev.res;
}

static int do_io(const char *dev, unsigned long writes)
{
	aio_context_t ctx = 0;
	unsigned long n, b, injected = 0, wfail = 0, rfail = 0, eio = 0, eagain = 0;
	unsigned long deferred = 0, deferred_hit = 0;
	unsigned long long d0, d1, dstart;
	unsigned char *buf, *want, *got;
	unsigned char *state;		/* per block: 0 zero, 1 pattern */
	unsigned long nblocks = REF_BLOCKS + 1 + writes;
	unsigned long wpoints, rpoints, k;
	bool hit;
	int fd;

	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		die(dev);
	if (syscall(SYS_io_setup, 1, &ctx))
		die("io_setup");
	if (posix_memalign((void **)&buf, BLK, BLK) ||
	    posix_memalign((void **)&got, BLK, BLK))
		die("posix_memalign");
	want = malloc(BLK);
	state = calloc(nblocks, 1);
	if (!want || !state)
		die("malloc");

	/* a clean start, then the reference area */
	if (ioctl_discard_all(fd))
		die("BLKDISCARD");
	for (b = 0; b < REF_BLOCKS; b++) {
		fill(buf, b, 0);
		if (pwrite(fd, buf, BLK, b * BLK) != BLK)
			die("writing the reference area");
		state[b] = 1;
	}

	/*
	 * How many fault points one write of a fresh block and one read pass:
	 * then each write and read fails one of them, in turn.
	 */
	fill(buf, REF_BLOCKS, 0);
	if (aio_write(ctx, fd, buf, REF_BLOCKS * BLK, 1000000, &hit,
		      &wpoints) != BLK)
		die("a write without faults");
	state[REF_BLOCKS] = 1;
	fail_nth(1000000);
	if (pread(fd, got, BLK, 0) != BLK)
		die("a read without faults");
	fail_nth_done(1000000, &rpoints);
	/* an O_DIRECT read of a block that holds a page allocates nothing */
	if (!wpoints)
		die("no fault point in a write");
	dstart = read_deferred(dev);

	for (n = 1; n <= writes; n++) {
		ssize_t r;
		int e;

		b = REF_BLOCKS + n;
		k = 1 + (n - 1) % wpoints;
		fill(buf, b, 0);
		d0 = read_deferred(dev);
		r = aio_write(ctx, fd, buf, b * BLK, k, &hit, NULL);
		e = r < 0 ? -r : 0;
		r = r < 0 ? -1 : r;
		injected += hit;
		d1 = read_deferred(dev);
		if (d1 != d0) {
			/* the driver's GFP_NOWAIT failed; its work item redid it */
			deferred++;
			deferred_hit += hit;
			if (io_nowait)
				violation("write %lu, RWF_NOWAIT, was deferred", n);
			if (r != BLK)
				violation("write %lu was deferred and failed: %s",
					  n, r < 0 ? strerror(e) : "short");
			else if (pread(fd, got, BLK, b * BLK) != BLK ||
				 memcmp(buf, got, BLK))
				violation("write %lu was deferred: block %lu does not read back",
					  n, b);
		}
		if (r == BLK) {
			state[b] = 1;
		} else if (r < 0) {
			wfail++;
			count_errno(e);
			eio += e == EIO;
			eagain += e == EAGAIN;
			if (!hit)
				violation("write %lu failed with no fault: %s",
					  n, strerror(e));
			else if (io_nowait && e == EIO)
				violation("write %lu, RWF_NOWAIT, failed with EIO: a write that must not wait for memory may fail with EAGAIN only",
					  n);
			else if (e != EIO && e != ENOMEM && e != EAGAIN)
				violation("write %lu failed with %s", n,
					  strerror(e));
			state[b] = 2;	/* zero or whole: checked below */
		} else {
			violation("write %lu returned %zd of %d", n, r, BLK);
			state[b] = 2;
		}

		/* read a written block back, failing its nth allocation */
		b = (n * 7) % (REF_BLOCKS + 1 + n);
		k = rpoints ? 1 + (n - 1) % rpoints : 0;
		if (k)
			fail_nth(k);
		r = pread(fd, got, BLK, b * BLK);
		e = errno;
		if (k)
			injected += fail_nth_done(k, NULL);
		if (r == BLK) {
			if (state[b] == 1) {
				fill(want, b, 0);
				if (memcmp(want, got, BLK))
					violation("read %lu: block %lu has wrong data",
						  n, b);
			}
		} else if (r < 0) {
			rfail++;
			count_errno(e);
			if (e != EIO && e != ENOMEM)
				violation("read %lu failed with %s", n,
					  strerror(e));
		} else {
			violation("read %lu returned %zd of %d", n, r, BLK);
		}
	}

	/* every block, without faults: exactly what the results promised */
	for (b = 0; b < nblocks; b++) {
		if (pread(fd, got, BLK, b * BLK) != BLK)
			die("the final read");
		fill(want, b, 0);
		if (state[b] == 1 && memcmp(want, got, BLK))
			violation("block %lu lost its data", b);
		else if (state[b] == 0 && !all_zero(got))
			violation("block %lu was never written but is not zero", b);
		else if (state[b] == 2 && !all_zero(got) && memcmp(want, got, BLK))
			violation("block %lu holds neither zeros nor its data after a failed write",
				  b);
	}
	if (!io_nowait && !deferred_hit)
		violation("no write with a fault injected was deferred: no fault reached the driver");
	if (io_nowait && !eagain)
		violation("no RWF_NOWAIT write failed with EAGAIN");
	d1 = read_deferred(dev);
	if (d1 - dstart != deferred)
		violation("the driver deferred %llu requests, %lu of them writes seen deferred",
			  d1 - dstart, deferred);

	printf("faultload io %s%s: %lu writes and %lu reads (%lu and %lu fault points each), %lu faults injected, %lu writes deferred (%lu with a fault injected) and read back, %lu writes failed (%lu EIO, %lu EAGAIN), %lu reads failed",
	       dev, io_nowait ? " (RWF_NOWAIT writes)" : "", writes, writes,
	       wpoints, rpoints, injected, deferred, deferred_hit, wfail, eio,
	       eagain, rfail);
	print_errnos();
	printf(", %lu blocks verified, %d violations\n", nblocks, failures);
	syscall(SYS_io_destroy, ctx);
	close(fd);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "load")) {
		const char *params = "";
		unsigned long last = 0;
		bool all = false;
		int i;

		for (i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--all"))
				all = true;
			else if (!strcmp(argv[i], "--last") && i + 1 < argc)
				last = strtoul(argv[++i], NULL, 0);
			else if (!strcmp(argv[i], "--open") && i + 1 < argc)
				op.path = argv[++i];
			else
				params = argv[i];
		}
		return do_load(argv[2], params, all, last);
	}
	if (argc >= 3 && !strcmp(argv[1], "io")) {
		io_nowait = !strcmp(argv[argc - 1], "--nowait");
		return do_io(argv[2], argc > 3 + io_nowait ?
			     strtoul(argv[3], NULL, 0) : 300);
	}
	fprintf(stderr, "usage: shikumi-faultload load KO [PARAMS] [--all] [--last N] [--open DEV] | io DEV [WRITES] [--nowait]\n");
	return 2;
}
