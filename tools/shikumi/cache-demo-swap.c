// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo swap: anonymous pages pushed out to a swap area on a
 * shikumi disk and faulted back in (chapters 4 and 8): the swap device,
 * made by the demo if it is not swap yet, the demo's own region of memory
 * and the steps.  The views and the report are in
 * cache-demo-swap-report.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cache-demo-swap.h"

#define PAGEOUT_TRIES	8	/* MADV_PAGEOUT calls until every page is out */
#define IDLE_WAIT_S	10	/* for the disk's requests in flight */
#define SWAP_PRIO	32767	/* the demo's swap area comes first */

static const struct cmd_help swap_help = {
	.usage = "--dev DEV [--size MIB] [--pause] [-o FILE.svg] [--json]",
	.summary = "Swap: fill SIZE of anonymous memory in this process, push it out to a swap\n"
		   "area on the shikumi disk DEV with madvise(MADV_PAGEOUT), read it back\n"
		   "from the swap cache, push it out again, and touch it: major faults, and\n"
		   "reads of the slots the page-out wrote.",
	.details =
	"DEV is a whole shikumi disk (/dev/shikumi-ramN).  If it is active swap (in\n"
	"/proc/swaps) the demo uses it as it is; otherwise it writes a swap header on\n"
	"it, as mkswap does, if it is empty (its first 128 KiB zero, or an inactive\n"
	"swap area: a disk with a file system or a partition table is refused, and so\n"
	"is a mounted one), swapon()s it with the highest priority and swapoff()s it\n"
	"at the end, also on an error and on SIGINT, SIGTERM, SIGHUP or SIGQUIT.  Each\n"
	"step is shown from outside (free's swap used, /proc/meminfo's SwapFree,\n"
	"sar -B's pswpout, pswpin and pgmajfault from /proc/vmstat, the process's\n"
	"VmSwap and VmRSS and its getrusage() ru_majflt and ru_minflt) and from\n"
	"inside: the region's PTEs from shikumi_ptdump (present, or swap entries with\n"
	"the device's swap type and the slot's offset) and the requests the disk\n"
	"served (shikumi_ramdisk's trace; slot N is sectors 8N to 8N+7; the kernel\n"
	"flags its swap writes, not its swap reads, as swap).  After each page-out,\n"
	"the demo counts the pages whose slot a write of the step covered (matched)\n"
	"and those whose slot none did (unmatched); after each touch, the same with\n"
	"the reads and the slots the pages had before. Slots that the step's requests\n"
	"covered and no page holds are counted as stray.  Pages that go elsewhere\n"
	"(another swap area of higher priority, or zswap, which keeps them compressed\n"
	"in memory and never writes their slot) are counted, not hidden: other swap\n"
	"types in the PTE counts, and unmatched slots.  The first page-out writes\n"
	"every page and leaves it in the swap cache, so reading the pages back costs\n"
	"minor faults and no read.  The pages are still clean copies of their slots,\n"
	"so the second page-out drops them without writing, and the touch that\n"
	"follows is a major fault and reads the same slots (swap readahead may read\n"
	"several slots for one fault).  --pause stops the demo (SIGSTOP) after the\n"
	"first page-out and says so on stderr, for another program to look at its\n"
	"pages (shikumi pt dump PID, /proc/PID/pagemap); kill -CONT PID lets it go\n"
	"on.  -o plots each page's slot against its index as SVG.  The demo runs on one\n"
	"CPU (the one it started on): madvise() drains only its own CPU's batches of\n"
	"pages waiting for the LRU.  Needs root, shikumi_ramdisk and shikumi_ptdump.",
};

/* ---- the device ------------------------------------------------------------ */

/* @d->path must be a whole shikumi disk: its name in @d->disk. */
static int check_dev(struct swap_demo *d)
{
	char sys[64], real[PATH_MAX], p[PATH_MAX + 16], *base;
	struct stat st;

	if (stat(d->path, &st)) {
		p_err("cannot use %s: %s", d->path, strerror(errno));
		return -1;
	}
	if (!S_ISBLK(st.st_mode)) {
		p_err("%s is not a block device: give a shikumi disk, /dev/shikumi-ramN", d->path);
		return -1;
	}
	d->rdev = st.st_rdev;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	if (!realpath(sys, real)) {
		p_err("cannot find %s in /sys/dev/block: %s", d->path, strerror(errno));
		return -1;
	}
	base = strrchr(real, '/') + 1;
	snprintf(p, sizeof(p), "%s/partition", real);
	if (strncmp(base, DISK_PREFIX, strlen(DISK_PREFIX)) || !access(p, F_OK) ||
	    !ctl_exists(base, "")) {
		p_err("%s is %s, not a whole shikumi disk: shikumi load ramdisk, then give --dev /dev/shikumi-ram0",
		      d->path, base);
		return -1;
	}
	copy_str(d->disk, sizeof(d->disk), base);
	d->nslots = disk_sectors(d->disk) / 8;
	/*
	 * Over half full, swap is "full" to the kernel (vm_swap_full()), which
	 * then frees a slot when its page comes back: the second page-out
	 * would write again.
	 */
	if (d->nslots < 2 * d->pages + 2) {
		p_err("%s has %llu slots of 4 KiB: %llu pages must fill at most half of them",
		      d->path, U(d->nslots), U(d->pages));
		return -1;
	}
	return 0;
}

/* The swap type of @d's device: its place in /proc/swaps, or -1. */
static int find_type(const struct swap_demo *d)
{
	char line[PATH_MAX + 128], name[PATH_MAX];
	struct stat st;
	int type = -1, i = 0;
	FILE *f = fopen("/proc/swaps", "re");

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f))	/* the header */
		goto out;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%4095s", name) == 1 && !stat(name, &st) &&
		    S_ISBLK(st.st_mode) && st.st_rdev == d->rdev) {
			type = i;
			break;
		}
		i++;
	}
out:
	fclose(f);
	return type;
}

/*
 * The demo makes swap only of a disk with nothing on it: its first
 * EMPTY_CHECK bytes all zero (where partition tables and the superblocks of
 * ext4, XFS and btrfs live), or an inactive swap area (a first page with
 * mkswap's signature).  @fd is the disk opened O_EXCL, which no mount or
 * other exclusive opener can share, from this check to the header's write.
 */
#define EMPTY_CHECK	(128 * 1024)

static int check_empty(const struct swap_demo *d, int fd, unsigned char *buf)
{
	ssize_t n = pread(fd, buf, EMPTY_CHECK, 0);
	size_t i;

	if (n != EMPTY_CHECK) {
		p_err("cannot read %s: %s", d->path, n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	/* an inactive swap area: its slots hold nothing anyone keeps */
	if (!memcmp(buf + PGC_PAGE - 10, "SWAPSPACE2", 10))
		return 0;
	for (i = 0; i < EMPTY_CHECK && !buf[i]; i++)
		;
	if (i < EMPTY_CHECK) {
		p_err("%s holds data (byte %zu is not zero: a file system, a partition table?), which a swap header would destroy; give an empty shikumi disk, or make it swap yourself: mkswap %s && swapon %s",
		      d->path, i, d->path, d->path);
		return -1;
	}
	return 0;
}

/* If the disk is empty, what mkswap writes: a version 1 header, no bad pages. */
static int write_header(const struct swap_demo *d)
{
	unsigned char *h = calloc(1, EMPTY_CHECK);
	uint32_t v[3] = { 1, (uint32_t)(d->nslots - 1), 0 };
	ssize_t n;
	int fd, ret = -1;

	if (!h) {
		p_err("out of memory");
		return -1;
	}
	fd = open(d->path, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		p_err("cannot open %s%s: %s", d->path, errno == EBUSY ? " (mounted or in use?)" : "",
		      strerror(errno));
		goto out;
	}
	if (check_empty(d, fd, h))
		goto out_close;
	memset(h, 0, PGC_PAGE);
	memcpy(h + 1024, v, sizeof(v));		/* version, last_page, nr_badpages */
	memcpy(h + PGC_PAGE - 10, "SWAPSPACE2", 10);
	n = pwrite(fd, h, PGC_PAGE, 0);
	if (n != (ssize_t)PGC_PAGE || fsync(fd))
		p_err("cannot write a swap header on %s: %s", d->path,
		      n >= 0 && n != (ssize_t)PGC_PAGE ? "short write" : strerror(errno));
	else
		ret = 0;
out_close:
	close(fd);
out:
	free(h);
	return ret;
}

/* Use @d's device if it is swap; else make it swap (undone at the end). */
static int swap_start(struct swap_demo *d)
{
	d->type = find_type(d);
	if (d->type >= 0)
		return 0;
	if (write_header(d))
		return -1;
	if (swapon(d->path, SWAP_FLAG_PREFER | (SWAP_PRIO & SWAP_FLAG_PRIO_MASK))) {
		p_err("swapon %s: %s", d->path, strerror(errno));
		return -1;
	}
	d->made = true;
	d->made_it = true;
	d->type = find_type(d);
	if (d->type < 0) {
		p_err("%s is not in /proc/swaps after swapon", d->path);
		return -1;
	}
	return 0;
}

/*
 * swapoff() gives up with EINTR when a signal comes while it reads the
 * pages back: the signals wait until it is done.
 */
static int swap_stop(struct swap_demo *d)
{
	sigset_t all, old;
	int r, err;

	if (!d->made)
		return 0;
	d->made = false;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	do
		r = swapoff(d->path);
	while (r && errno == EINTR);
	err = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (r) {
		p_err("swapoff %s: %s; do it by hand", d->path, strerror(err));
		return -1;
	}
	return 0;
}

/*
 * Wait until the disk has no request in flight and no page is under
 * writeback: the step's requests are all traced.  inflight counts only the
 * requests the disk has started; a page-out's writes may still wait in a
 * plug that kblockd flushes, but their pages are under writeback from
 * before they are sent until they complete.
 */
static int wait_idle(const struct swap_demo *d)
{
	struct timespec ts = { 0, 5 * NSEC_PER_MSEC };
	char p[PATH_MAX], buf[64];
	unsigned long long r, w;
	int i;

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/inflight", d->disk);
	for (i = 0; i < IDLE_WAIT_S * 200; i++) {
		if (read_file_str(p, buf, sizeof(buf)) ||
		    sscanf(buf, "%llu %llu", &r, &w) != 2) {
			p_err("cannot read %s", p);
			return -1;
		}
		if (!r && !w && vmstat("nr_writeback") == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	p_err("%s still has requests in flight, or pages under writeback, after %d s",
	      d->disk, IDLE_WAIT_S);
	return -1;
}

/* ---- the steps --------------------------------------------------------------- */

static struct swap_step *step_begin(struct swap_demo *d, const char *key,
				    const char *label)
{
	struct swap_step *s = &d->step[d->nstep++];

	struct blk_stats st = { 0 };

	s->key = key;
	s->label = label;
	if (!read_stats(d->disk, &st))
		s->dropped_a = st.trace_dropped;
	swap_snap(&s->a);
	s->t_ns = now_ns();
	return s;
}

/* After the action: the outside, the region's PTEs, the step's requests. */
static int step_end(struct swap_demo *d, struct swap_step *s, bool view)
{
	struct blk_stats st = { 0 };

	if (wait_idle(d))
		return -1;
	s->ns = now_ns() - s->t_ns;
	swap_snap(&s->b);
	if (view && swap_view(d, s))
		return -1;
	if (drain_trace(d->disk, &s->t))
		return -1;
	/* records the trace had no room for: the step's counts are short */
	if (!read_stats(d->disk, &st) && st.trace_dropped > s->dropped_a)
		s->dropped = st.trace_dropped - s->dropped_a;
	return 0;
}

static int fill(struct swap_demo *d)
{
	uint64_t i;
	void *p = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED) {
		p_err("mmap %llu bytes: %s", U(d->size), strerror(errno));
		return -1;
	}
	d->region = p;
	d->base = (uintptr_t)p;
	madvise(p, d->size, MADV_NOHUGEPAGE);	/* 4 KiB pages, one slot each */
	for (i = 0; i < d->pages; i++)		/* not zero: a page worth keeping */
		memset(d->region + i * PGC_PAGE, (int)(i % 251) + 1, 64);
	return 0;
}

/* MADV_PAGEOUT until no page of the region is present (or give up). */
static int pageout(struct swap_demo *d, struct swap_step *s)
{
	for (s->tries = 1; s->tries <= PAGEOUT_TRIES; s->tries++) {
		if (madvise(d->region, d->size, MADV_PAGEOUT)) {
			p_err("madvise(MADV_PAGEOUT): %s", strerror(errno));
			return -1;
		}
		if (wait_idle(d) || swap_view(d, s))
			return -1;
		if (!s->v.present || demo_stopped())
			break;
	}
	if (s->tries > PAGEOUT_TRIES)
		s->tries = PAGEOUT_TRIES;
	return demo_stopped();
}

/* Read one byte of every page; count those that came back unchanged. */
static uint64_t touch_all(const struct swap_demo *d)
{
	uint64_t i, ok = 0;

	for (i = 0; i < d->pages; i++)
		ok += *(volatile char *)(d->region + i * PGC_PAGE) == (char)(i % 251 + 1);
	return ok;
}

static int pageout_step(struct swap_demo *d, const char *key, const char *label,
			int64_t *keep)
{
	struct swap_step *s = step_begin(d, key, label);

	if (pageout(d, s) || step_end(d, s, true))
		return -1;
	swap_match(d, s, CHECK_WRITE, d->slot);
	memcpy(keep, d->slot, d->pages * sizeof(*keep));
	return 0;
}

static int touch_step(struct swap_demo *d, const char *key, const char *label,
		      const int64_t *before)
{
	struct swap_step *s = step_begin(d, key, label);

	s->intact = touch_all(d);
	if (step_end(d, s, true))
		return -1;
	swap_match(d, s, CHECK_READ, before);
	return demo_stopped();
}

/* Stop here for someone to look at the pages, if asked to. */
static void pause_here(const struct swap_demo *d)
{
	if (!d->pause)
		return;
	fprintf(stderr, "shikumi cache demo swap: pid %d stopped with its pages at 0x%llx-0x%llx swapped out to %s (swap type %d); kill -CONT %d to go on\n",
		(int)d->pid, U(d->base), U(d->base + d->size),
		d->path, d->type, (int)d->pid);
	fflush(stderr);
	raise(SIGSTOP);
}

/*
 * Run on one CPU: pages put back on the LRU, and those whose writeback
 * ended, wait in per-CPU batches (holding a reference) until drained, and
 * madvise() drains only its own CPU's.  A page in another CPU's batch
 * would be skipped by MADV_PAGEOUT or stay in the swap cache.
 */
static int pin_cpu(cpu_set_t *old)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	CPU_ZERO(&one);
	CPU_SET(cpu < 0 ? 0 : cpu, &one);
	if (sched_getaffinity(0, sizeof(*old), old) ||
	    sched_setaffinity(0, sizeof(one), &one)) {
		p_err("cannot run on one CPU: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int swap_steps(struct swap_demo *d)
{
	struct swap_step *s;

	s = step_begin(d, "fill", "fill the region");
	if (fill(d) || step_end(d, s, true) || demo_stopped())
		return -1;
	if (pageout_step(d, "pageout", "MADV_PAGEOUT", d->slot_out))
		return -1;
	pause_here(d);
	if (touch_step(d, "swapcache", "read from swap cache", d->slot_out) ||
	    pageout_step(d, "pageout_again", "MADV_PAGEOUT again", d->slot_again) ||
	    touch_step(d, "swapin", "touch: swap-in", d->slot_again))
		return -1;
	s = step_begin(d, "munmap", "munmap");
	if (munmap(d->region, d->size)) {
		p_err("munmap: %s", strerror(errno));
		return -1;
	}
	d->region = NULL;
	return step_end(d, s, false);
}

/* Root, the modules, the device; the arrays; the trace starts empty. */
static int swap_open(struct swap_demo *d)
{
	struct trace_buf t = { 0 };
	int ret;

	if (!is_root()) {
		p_err("needs root (swapon, the page-table dump, the disk's trace): %s",
		      strerror(EPERM));
		return -1;
	}
	if (!module_is_loaded(RAMDISK_MODULE) || !module_is_loaded(PT_MODULE)) {
		p_not_loaded(module_is_loaded(RAMDISK_MODULE) ? PT_MODULE : RAMDISK_MODULE);
		return -1;
	}
	if (check_dev(d))
		return -1;
	d->slot = malloc(d->pages * sizeof(*d->slot));
	d->slot_out = malloc(d->pages * sizeof(*d->slot));
	d->slot_again = malloc(d->pages * sizeof(*d->slot));
	d->cover = calloc(d->nslots, 1);
	if (!d->slot || !d->slot_out || !d->slot_again || !d->cover) {
		p_err("out of memory");
		return -1;
	}
	memset(d->slot_out, 0xff, d->pages * sizeof(*d->slot));		/* -1: none yet */
	memset(d->slot_again, 0xff, d->pages * sizeof(*d->slot));
	demo_catch_signals();
	if (swap_start(d))
		return -1;
	ret = drain_trace(d->disk, &t);
	trace_free(&t);
	return ret;
}

static void swap_close(struct swap_demo *d)
{
	int i;

	if (d->region)
		munmap(d->region, d->size);
	for (i = 0; i < d->nstep; i++)
		trace_free(&d->step[i].t);
	free(d->slot);
	free(d->slot_out);
	free(d->slot_again);
	free(d->cover);
}

int demo_swap_cmd(int argc, char **argv)
{
	struct swap_demo d = { .pid = getpid(), .type = -1 };
	cpu_set_t cpus;
	uint64_t mib = DEMO_DEFAULT_MIB;
	int first, ret = EXIT_FAIL;
	const struct opt opts[] = {
		OPT_STR(0, "dev", &d.path, "DEV", "a whole shikumi disk, swap or to be made swap"),
		OPT_NUM('s', "size", &mib, "MIB", "the region's size (default 8)"),
		OPT_BOOLEAN(0, "pause", &d.pause,
			    "stop (SIGSTOP) after the first page-out until SIGCONT"),
		OPT_STR('o', "output", &d.svg, "FILE.svg", "plot each page's slot"),
		OPT_FINISH(),
	};

	first = parse_options(argc, argv, opts, &swap_help);
	if (first < argc)
		return usage_error(&swap_help, "unexpected argument '%s'", argv[first]);
	if (!d.path)
		return usage_error(&swap_help, "which disk? give --dev /dev/shikumi-ramN");
	if (!mib || mib > 1024)
		return usage_error(&swap_help, "--size: give 1 to 1024 MiB");
	d.size = mib << 20;
	d.pages = d.size / PGC_PAGE;
	if (swap_open(&d) || pin_cpu(&cpus))
		goto out;
	ret = swap_steps(&d) ? EXIT_FAIL : EXIT_OK;
	sched_setaffinity(0, sizeof(cpus), &cpus);
	if (ret || swap_stop(&d) || swap_report(&d) || (d.svg && swap_svg(&d))) {
		ret = EXIT_FAIL;
		goto out;
	}
out:
	swap_close(&d);
	if (swap_stop(&d))
		ret = EXIT_FAIL;
	return ret;
}
