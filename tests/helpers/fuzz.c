// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-fuzz: a seeded random fuzzer of one shikumi module's user-space
 * entry points, for tests/fuzz.bats.
 *
 *	shikumi-fuzz MODULE [--calls N] [--seed S] [--fail-nth PCT] [--ko PATH]
 *		[--loads N] [--time SEC] [--keep-going] [-v]
 *
 * MODULE is chrdev, ramdisk, ptdump or cstrace.  The first line printed is
 * "seed S": the same seed replays the same run (as far as the kernel's
 * answers are the same).  Every call's result is classified against the
 * errnos that entry point may return; anything else (an unexpected errno,
 * a kernel-internal errno >= 512, a read or write returning more than was
 * asked, a malformed text file, FIFO data that differs from what was
 * written) is an improper result: the call, its arguments, the errno and
 * the seed are printed and the exit status is 1.
 *
 * --fail-nth PCT injects an allocation failure (through
 * /proc/thread-self/fail-nth) into PCT% of the calls; such calls may also
 * fail with ENOMEM, EIO, EAGAIN, EFAULT, ENOSPC or EINTR.
 *
 * A few calls are module loads: with the module unloaded, finit_module(2)
 * of its .ko with random parameters; the module is left loaded with its
 * default parameters at the end.
 *
 * Exit status: 0 all proper, 1 improper result, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <shikumi/chrdev.h>
#include <shikumi/cstrace.h>
#include <shikumi/ptdump.h>
#include <shikumi/ramdisk.h>

#define PAGE		4096UL
#define BUFSZ		(1UL << 20)	/* I/O buffers, each followed by a guard */
#define MAX_FILES	10
#define MAX_MAPS	8
#define MAX_NODES	256
#define MAX_KIDS	4
#define DBG		"/sys/kernel/debug/shikumi"

#define U(x) ((unsigned long long)(x))

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64 seeds xoshiro256**                                  */
/* ------------------------------------------------------------------ */

static uint64_t rs[4];

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rnd(void)
{
	uint64_t r = rotl(rs[1] * 5, 7) * 9, t = rs[1] << 17;

	rs[2] ^= rs[0];
	rs[3] ^= rs[1];
	rs[1] ^= rs[2];
	rs[0] ^= rs[3];
	rs[2] ^= t;
	rs[3] = rotl(rs[3], 45);
	return r;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

#define PICK(arr) ((arr)[below(sizeof(arr) / sizeof((arr)[0]))])

/* ------------------------------------------------------------------ */
/* State and accounting                                                 */
/* ------------------------------------------------------------------ */

typedef unsigned __int128 emask;
#define B(e) ((emask)1 << (e))

enum mod { M_CHR, M_RD, M_PT, M_CS };
static const char *const mod_names[] = { "chrdev", "ramdisk", "ptdump", "cstrace" };
static const char *const mod_kname[] = { "shikumi_chrdev", "shikumi_ramdisk",
					 "shikumi_ptdump", "shikumi_cstrace" };
static enum mod mod;

static uint64_t seed, max_calls = 100000, total, improper, faults, sigbus, sigsegv;
static uint64_t loads_tried, loads_ok, nr_loads = ~0ULL, kid_sigs;
static unsigned int fail_pct;
static int fail_fd = -1;
static bool keep_going, verbose;
static time_t time_cap, t_start;
static char ko_path[PATH_MAX];
static bool mod_loaded;

static uint64_t errhist[512];
static uint64_t errhist_inj[512];

/* entry points, for the summary */
enum ep {
	EP_OPEN, EP_CLOSE, EP_READ, EP_PREAD, EP_WRITE, EP_PWRITE, EP_LSEEK,
	EP_POLL, EP_IOCTL, EP_IOCTL_RAND, EP_MMAP, EP_MUNMAP, EP_MREMAP,
	EP_MPROTECT, EP_FSYNC, EP_FINIT, EP_DELETE, EP_MAX
};
static const char *const ep_names[] = {
	"open", "close", "read", "pread", "write", "pwrite", "lseek", "poll",
	"ioctl", "ioctl-random", "mmap", "munmap", "mremap", "mprotect",
	"fsync", "finit_module", "delete_module",
};
static uint64_t ep_calls[EP_MAX], ep_ok[EP_MAX];

static const char *errname(int e)
{
	static char buf[16];
	static const char *const n[] = {
		[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH",
		[EINTR] = "EINTR", [EIO] = "EIO", [ENXIO] = "ENXIO",
		[E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC", [EBADF] = "EBADF",
		[ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
		[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY",
		[EEXIST] = "EEXIST", [ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR",
		[EISDIR] = "EISDIR", [EINVAL] = "EINVAL", [ENOTTY] = "ENOTTY",
		[ETXTBSY] = "ETXTBSY", [EFBIG] = "EFBIG", [ENOSPC] = "ENOSPC",
		[ESPIPE] = "ESPIPE", [EROFS] = "EROFS", [ERANGE] = "ERANGE",
		[ENOSYS] = "ENOSYS", [EOVERFLOW] = "EOVERFLOW",
		[EOPNOTSUPP] = "EOPNOTSUPP", [ETIMEDOUT] = "ETIMEDOUT",
		[ENOKEY] = "ENOKEY", [EKEYREJECTED] = "EKEYREJECTED",
		[ENODATA] = "ENODATA", [EILSEQ] = "EILSEQ",
	};

	if (e > 0 && (size_t)e < sizeof(n) / sizeof(n[0]) && n[e])
		return n[e];
	switch (e) {
	case 512: return "ERESTARTSYS";
	case 513: return "ERESTARTNOINTR";
	case 514: return "ERESTARTNOHAND";
	case 515: return "ENOIOCTLCMD";
	case 516: return "ERESTART_RESTARTBLOCK";
	case 524: return "ENOTSUPP";
	}
	snprintf(buf, sizeof(buf), "errno%d", e);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Signals: the watchdog alarm and faults on touched mappings           */
/* ------------------------------------------------------------------ */

static sigjmp_buf touch_jmp;
static volatile sig_atomic_t touching, alarm_armed;

static void on_fault(int sig)
{
	static const char msg[] =
		"shikumi-fuzz: SIGSEGV or SIGBUS outside the mappings under test\n";
	ssize_t r;

	if (touching)
		siglongjmp(touch_jmp, sig);
	/* say so before dying of it: the fuzzer's own bug, or its own page */
	r = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)r;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* a one-shot timer: its SIGALRM (no SA_RESTART) ends a blocked call */
static void arm(unsigned int ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
	alarm_armed = 1;
}

static void disarm(void)
{
	struct itimerval it = { 0 };

	if (!alarm_armed)
		return;
	setitimer(ITIMER_REAL, &it, NULL);
	alarm_armed = 0;
}

/* ------------------------------------------------------------------ */
/* Fault injection                                                      */
/* ------------------------------------------------------------------ */

static bool inj_armed;

/*
 * How long each call took, from pre() (or call_start()) to check(): the
 * slowest is in the summary, and one over SLOW_CALL_S is improper, since
 * no entry point should keep a caller that long (a sleep in D state
 * cannot be interrupted by the watchdog).
 */
#define SLOW_CALL_S 120
static double call_t0, slowest_s;
static char slowest_desc[160];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void call_start(void)
{
	call_t0 = now_s();
}

static void pre(void)
{
	char b[8];
	int n;

	call_start();
	inj_armed = false;
	if (fail_fd < 0 || !chance(fail_pct))
		return;
	n = snprintf(b, sizeof(b), "%u", (unsigned int)(1 + below(20)));
	if (pwrite(fail_fd, b, n, 0) == n)
		inj_armed = true;
}

static bool post(void)
{
	char b[16] = "";
	bool hit;

	if (!inj_armed)
		return false;
	inj_armed = false;
	hit = pread(fail_fd, b, sizeof(b) - 1, 0) > 0 && atoi(b) == 0;
	if (pwrite(fail_fd, "0", 1, 0) != 1) {
		fprintf(stderr, "cannot reset fail-nth: %m\n");
		exit(2);
	}
	if (hit)
		faults++;
	return hit;
}

/* ------------------------------------------------------------------ */
/* Classification                                                       */
/* ------------------------------------------------------------------ */

static void cleanup(void);
static void summary(void);

static void __attribute__((format(printf, 2, 3)))
bad(const char *what, const char *fmt, ...)
{
	va_list ap;

	improper++;
	fflush(stdout);
	fprintf(stderr, "IMPROPER: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (seed %llu, call %llu)\n", U(seed), U(total));
	if (!keep_going) {
		cleanup();
		summary();
		exit(1);
	}
}

static const emask INJ_ERRS = B(ENOMEM) | B(EIO) | B(EAGAIN) | B(EFAULT) |
			      B(ENOSPC) | B(EINTR);

/*
 * Account for one call.  ret < 0 (the value -1) with err is a failure.
 * The call description is formatted only when it is improper.
 */
static void __attribute__((format(printf, 6, 7)))
check(enum ep ep, long ret, int err, emask allowed, bool inj,
      const char *fmt, ...)
{
	char desc[512];
	va_list ap;
	int e = ret < 0 ? err : 0;
	double took = call_t0 ? now_s() - call_t0 : 0;

	call_t0 = 0;
	if (took > slowest_s) {
		slowest_s = took;
		va_start(ap, fmt);
		vsnprintf(slowest_desc, sizeof(slowest_desc), fmt, ap);
		va_end(ap);
		if (took > SLOW_CALL_S)
			bad(ep_names[ep], "%s took %.0f s", slowest_desc, took);
	}
	total++;
	ep_calls[ep]++;
	if (ret >= 0) {
		ep_ok[ep]++;
		return;
	}
	if (e >= 0 && e < 512)
		(inj ? errhist_inj : errhist)[e]++;
	if (alarm_armed)
		allowed |= B(EINTR);
	if (inj)
		allowed |= INJ_ERRS;
	if (ret == -1 && e > 0 && e < 128 && (allowed & B(e)))
		return;
	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	if (ret != -1)
		bad(ep_names[ep], "%s returned %ld", desc, ret);
	else if (e >= 512)
		bad(ep_names[ep], "%s: kernel-internal errno %d (%s) leaked%s",
		    desc, e, errname(e), inj ? " (fault injected)" : "");
	else
		bad(ep_names[ep], "%s: unexpected %s%s", desc, errname(e),
		    inj ? " (fault injected)" : "");
}

/* ------------------------------------------------------------------ */
/* Buffers                                                              */
/* ------------------------------------------------------------------ */

static char *wbuf, *rbuf, *robuf;	/* write source, read target, read-only page */
static char *unmapped;			/* an address with nothing mapped */

static char *guarded(size_t size)
{
	char *p = mmap(NULL, size + PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	mprotect(p + size, PAGE, PROT_NONE);
	return p;
}

static void setup_buffers(void)
{
	uint64_t *q;
	size_t i;

	wbuf = guarded(BUFSZ);
	rbuf = guarded(BUFSZ);
	robuf = guarded(PAGE);
	for (q = (uint64_t *)wbuf, i = 0; i < BUFSZ / 8; i++)
		q[i] = rnd();
	mprotect(robuf, PAGE, PROT_READ);
	/* reserved, never mapped: nothing else can land there */
	unmapped = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* a size to ask for: 0, 1, odd, page-sized, big, huge */
static size_t rsize(void)
{
	static const size_t fixed[] = { 0, 1, 2, 7, 31, 32, 79, 80, 81, 255,
		256, 257, 511, 512, 513, 1023, 4095, 4096, 4097, 8192, 65536 };

	switch (below(10)) {
	case 0: case 1: case 2: case 3:
		return PICK(fixed);
	case 4: case 5: case 6:
		return 1 + below(4096);
	case 7:
		return 1 + below(65536);
	case 8:
		return below(8) ? 1 + below(BUFSZ) : BUFSZ;
	default:
		return PICK(((const size_t[]){ BUFSZ + 1, 1UL << 30,
					       (size_t)SSIZE_MAX, SIZE_MAX }));
	}
}

/*
 * A user pointer for @count bytes from @base (a BUFSZ buffer): mostly
 * valid, sometimes NULL, unmapped, misaligned, read-only, kernel or
 * running into the guard page.
 */
static char *rptr(char *base, size_t count, bool for_read, const char **how)
{
	unsigned int r = below(100);

	*how = "buf";
	if (r < 3) {
		*how = "NULL";
		return NULL;
	}
	if (r < 5) {
		*how = "unmapped";
		return unmapped;
	}
	if (r < 6) {
		*how = "kernel";
		return (char *)0xffff888000000000UL;
	}
	if (r < 8 && for_read) {
		*how = "read-only";
		return robuf;
	}
	if (r < 11) {
		*how = "near-guard";
		if (count <= BUFSZ)
			return base + BUFSZ - count + 1 + below(64);
		return base + BUFSZ - below(4096);
	}
	if (r < 20) {
		*how = "misaligned";
		return base + 1 + below(7);
	}
	if (count < BUFSZ)
		return base + (below(2) ? 0 : below(BUFSZ - count) & ~(r < 60 ? 511UL : 0));
	return base;
}

/* ------------------------------------------------------------------ */
/* Nodes: the files of the module                                       */
/* ------------------------------------------------------------------ */

enum kind {
	K_CHR,		/* /dev/shikumi-chrN */
	K_BLK,		/* /dev/shikumi-ramN */
	K_SYSFS,	/* a sysfs attribute */
	K_PARAM,	/* /sys/module/.../parameters/ (read only) */
	K_SEQ,		/* a debugfs seq_file */
	K_RAW,		/* ramdisk trace, trace_raw */
	K_STREAM,	/* ptdump dump, cstrace trace_pipe/raw */
};

enum nid {
	N_GEN, N_CHR_STATUS, N_CHR_NUM, N_RD_MODEL, N_RD_POLICY, N_RD_DEPTH,
	N_RD_RESET, N_RD_PARAM, N_RD_PAGES, N_RD_STATS, N_RD_TRACE,
	N_RD_TRACE_RAW, N_PT_DUMP, N_PT_STATUS, N_CS_ENABLE, N_CS_FPID,
	N_CS_FTGID, N_CS_FCPU, N_CS_FOLLOW, N_CS_PIPE, N_CS_RAW, N_CS_STATS,
};

struct node {
	char path[160];
	enum kind kind;
	enum nid id;
	bool r, w;		/* by design */
	int dev;		/* device index */
	long lo, hi;		/* numeric range of a number attribute */
};

static struct node nodes[MAX_NODES];
static int nr_nodes;

static struct node *add_node(enum kind kind, enum nid id, bool r, bool w,
			     int dev, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static struct node *add_node(enum kind kind, enum nid id, bool r, bool w,
			     int dev, const char *fmt, ...)
{
	struct node *n;
	va_list ap;
	struct stat st;

	if (nr_nodes == MAX_NODES)
		return NULL;
	n = &nodes[nr_nodes];
	va_start(ap, fmt);
	vsnprintf(n->path, sizeof(n->path), fmt, ap);
	va_end(ap);
	if (stat(n->path, &st))
		return NULL;
	n->kind = kind;
	n->id = id;
	n->r = r;
	n->w = w;
	n->dev = dev;
	n->lo = 0;
	n->hi = 0;
	nr_nodes++;
	return n;
}

/*
 * The disks' model parameters: the range the kernel accepts, and for those
 * that can make I/O slow, the range outside which they do and the quick
 * value that rd_make_fast() sets instead.  At the slowest accepted values
 * a request takes seconds: 16 MiB of scattered dirty pages written back
 * through such a disk would take an hour, uninterruptibly.
 */
struct rd_param { const char *name; long lo, hi, slow_below, slow_above, fast; };
#define NEVER_SLOW 0, LONG_MAX, 0
static const struct rd_param rd_params[] = {
	{ "hdd_rpm", 1000, 30000, 5000, LONG_MAX, 15000 },
	{ "hdd_settle_us", 0, 100000, 0, 2000, 0 },
	{ "hdd_full_seek_us", 0, 1000000, 0, 5000, 1000 },
	{ "hdd_media_mbps", 1, 10000, 200, LONG_MAX, 2000 },
	{ "hdd_cache_kb", 0, 65536, NEVER_SLOW },
	{ "hdd_iface_mbps", 1, 100000, 200, LONG_MAX, 4000 },
	{ "ssd_latency_us", 0, 1000000, 0, 1000, 10 },
	{ "ssd_channel_mbps", 1, 100000, 200, LONG_MAX, 4000 },
	{ "ssd_channels", 1, 64, NEVER_SLOW },
	{ "deadline_read_expire_ms", 1, 60000, NEVER_SLOW },
	{ "deadline_write_expire_ms", 1, 60000, NEVER_SLOW },
	{ "deadline_fifo_batch", 1, 1024, NEVER_SLOW },
	{ "deadline_writes_starved", 0, 1024, NEVER_SLOW },
};
#define NR_RD_PARAMS (int)(sizeof(rd_params) / sizeof(rd_params[0]))

static int nr_devs;		/* chrdev devices / ramdisk disks */
static unsigned int chr_fifo_size[16];
static unsigned long long rd_bytes[16];
static int rd_model[16];
static bool rd_dirty[16];	/* buffered or mapped writes since the last flush */
static void rd_before_io(int dev);
static void rd_flush(int dev);
static long rd_pval[16][NR_RD_PARAMS];

static long read_num(const char *path)
{
	char b[64] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, b, sizeof(b) - 1) < 0)
		b[0] = 0;
	close(fd);
	return strtol(b, NULL, 0);
}

static long chr_attr(int dev, const char *name)
{
	char p[128];

	snprintf(p, sizeof(p), "/sys/class/shikumi-chr/shikumi-chr%d/%s", dev, name);
	return read_num(p);
}

static void enumerate(void)
{
	static const char *const chr_attrs[] = { "completions", "irqs", "polls",
		"cmd_seq", "fifo_size", "fifo_len" };
	const char *pdir = "/sys/module";
	struct node *n;
	int i, j;

	nr_nodes = 0;
	nr_devs = 0;
	switch (mod) {
	case M_CHR:
		for (i = 0; i < 16; i++) {
			if (!add_node(K_CHR, N_GEN, true, true, i, "/dev/shikumi-chr%d", i))
				break;
			nr_devs++;
			for (j = 0; j < 6; j++)
				add_node(K_SYSFS, N_CHR_NUM, true, false, i,
					 "/sys/class/shikumi-chr/shikumi-chr%d/%s",
					 i, chr_attrs[j]);
			add_node(K_SYSFS, N_CHR_STATUS, true, false, i,
				 "/sys/class/shikumi-chr/shikumi-chr%d/status", i);
			chr_fifo_size[i] = chr_attr(i, "fifo_size");
		}
		add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_chrdev/parameters/nr_devices", pdir);
		add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_chrdev/parameters/fifo_size", pdir);
		break;
	case M_RD:
		for (i = 0; i < 16; i++) {
			char sys[64];
			int fd;

			if (!add_node(K_BLK, N_GEN, true, true, i, "/dev/shikumi-ram%d", i))
				break;
			nr_devs++;
			fd = open(nodes[nr_nodes - 1].path, O_RDONLY);
			rd_bytes[i] = 0;
			if (fd >= 0) {
				if (ioctl(fd, BLKGETSIZE64, &rd_bytes[i]))
					rd_bytes[i] = 0;
				close(fd);
			}
			snprintf(sys, sizeof(sys), "/sys/block/shikumi-ram%d/shikumi", i);
			add_node(K_SYSFS, N_RD_MODEL, true, true, i, "%s/model", sys);
			add_node(K_SYSFS, N_RD_POLICY, true, true, i, "%s/policy", sys);
			n = add_node(K_SYSFS, N_RD_DEPTH, true, true, i, "%s/queue_depth", sys);
			if (n) {
				n->lo = 1;
				n->hi = 128;
			}
			add_node(K_SYSFS, N_RD_RESET, false, true, i, "%s/reset", sys);
			add_node(K_SYSFS, N_RD_PAGES, true, false, i, "%s/pages", sys);
			for (j = 0; j < NR_RD_PARAMS; j++) {
				n = add_node(K_SYSFS, N_RD_PARAM, true, true, i, "%s/%s",
					     sys, rd_params[j].name);
				if (n) {
					n->lo = rd_params[j].lo;
					n->hi = rd_params[j].hi;
				}
				rd_pval[i][j] = n ? read_num(n->path) : 0;
			}
			rd_model[i] = 0;
			add_node(K_SEQ, N_RD_STATS, true, false, i, DBG "/shikumi-ram%d/stats", i);
			add_node(K_RAW, N_RD_TRACE, true, false, i, DBG "/shikumi-ram%d/trace", i);
			add_node(K_RAW, N_RD_TRACE_RAW, true, false, i, DBG "/shikumi-ram%d/trace_raw", i);
		}
		n = add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_ramdisk/parameters/queue_depth", pdir);
		for (i = 0; n && i < nr_nodes; i++)
			if (nodes[i].id == N_RD_DEPTH)
				nodes[i].hi = read_num(n->path);
		add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_ramdisk/parameters/nr_disks", pdir);
		add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_ramdisk/parameters/size_mb", pdir);
		add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_ramdisk/parameters/trace_entries", pdir);
		break;
	case M_PT:
		add_node(K_STREAM, N_PT_DUMP, true, true, 0, DBG "/ptdump/dump");
		add_node(K_SEQ, N_PT_STATUS, true, false, 0, DBG "/ptdump/status");
		break;
	case M_CS:
		add_node(K_SEQ, N_CS_ENABLE, true, true, 0, DBG "/cstrace/enable");
		add_node(K_SEQ, N_CS_FPID, true, true, 0, DBG "/cstrace/filter_pid");
		add_node(K_SEQ, N_CS_FTGID, true, true, 0, DBG "/cstrace/filter_tgid");
		add_node(K_SEQ, N_CS_FCPU, true, true, 0, DBG "/cstrace/filter_cpu");
		add_node(K_SEQ, N_CS_FOLLOW, true, true, 0, DBG "/cstrace/follow_fork");
		add_node(K_STREAM, N_CS_PIPE, true, false, 0, DBG "/cstrace/trace_pipe");
		add_node(K_STREAM, N_CS_RAW, true, false, 0, DBG "/cstrace/trace_raw");
		add_node(K_SEQ, N_CS_STATS, true, false, 0, DBG "/cstrace/stats");
		add_node(K_PARAM, N_GEN, true, false, 0, "%s/shikumi_cstrace/parameters/nr_events", pdir);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Open files and mappings                                              */
/* ------------------------------------------------------------------ */

struct ofile {
	int fd;
	struct node *n;
	int flags;
};

static struct ofile files[MAX_FILES];
static int nr_files;
static int cs_readers;		/* cstrace trace_pipe/trace_raw files we hold */

struct map {
	char *addr;
	size_t len;
	int prot;
	bool shared;
	struct node *n;
	uint64_t off;		/* file offset */
};

static struct map maps[MAX_MAPS];
static int nr_maps;

static pid_t kids[MAX_KIDS];
static int nr_kids;

static bool ramdisk_inj;	/* a fault hit block I/O: writeback may report EIO */

static const char *flagstr(int f)
{
	static char b[96];

	snprintf(b, sizeof(b), "%s%s%s%s%s%s",
		 (f & O_ACCMODE) == O_RDONLY ? "O_RDONLY" :
		 (f & O_ACCMODE) == O_WRONLY ? "O_WRONLY" :
		 (f & O_ACCMODE) == O_RDWR ? "O_RDWR" : "O_ACCMODE",
		 f & O_NONBLOCK ? "|O_NONBLOCK" : "", f & O_DIRECT ? "|O_DIRECT" : "",
		 f & O_EXCL ? "|O_EXCL" : "", f & O_TRUNC ? "|O_TRUNC" : "",
		 f & O_APPEND ? "|O_APPEND" : "");
	return b;
}

static bool is_reader(const struct node *n)
{
	return n->id == N_CS_PIPE || n->id == N_CS_RAW;
}

static void reap_kids(bool all)
{
	int i, st;

	for (i = 0; i < nr_kids; i++) {
		if (all)
			kill(kids[i], SIGKILL);
		if (waitpid(kids[i], &st, all ? 0 : WNOHANG) == kids[i]) {
			kids[i--] = kids[--nr_kids];
		}
	}
}

static emask open_allowed(const struct node *n, int flags)
{
	emask a = B(EINVAL);	/* O_DIRECT on a file without direct I/O */
	bool wr = (flags & O_ACCMODE) != O_RDONLY;

	if (flags & O_TRUNC)
		a |= B(EPERM) | B(EACCES) | B(EOPNOTSUPP);
	switch (n->kind) {
	case K_BLK:
		a |= B(EBUSY);			/* O_EXCL while another holds it */
		break;
	case K_SYSFS:
	case K_PARAM:
		if ((wr && !n->w) || ((flags & O_ACCMODE) != O_WRONLY && !n->r))
			a |= B(EACCES);
		break;
	case K_SEQ:
	case K_RAW:
	case K_STREAM:
		if (wr && !n->w)
			a |= B(EACCES) | B(EPERM);
		if (is_reader(n)) {
			a |= B(EBUSY);
			if (nr_kids == 0 && cs_readers == 0)
				a &= ~B(EBUSY);
		}
		break;
	default:
		break;
	}
	return a;
}

static int do_open(struct node *n, int flags)
{
	int fd, err;
	bool inj;

	pre();
	fd = open(n->path, flags | O_CLOEXEC);
	err = errno;
	inj = post();
	if (fd >= 0 && is_reader(n) && cs_readers > 0)
		bad("open", "%s %s: a second reader was let in (expected EBUSY)",
		    n->path, flagstr(flags));
	check(EP_OPEN, fd, err, open_allowed(n, flags), inj, "open(%s, %s)",
	      n->path, flagstr(flags));
	if (fd >= 0 && is_reader(n))
		cs_readers++;
	errno = err;
	return fd;
}

static void close_file(int i)
{
	struct ofile *f = &files[i];
	int r, err;

	/* closing the last writer of a block device flushes it */
	if (f->n->kind == K_BLK)
		rd_before_io(f->n->dev);
	call_start();
	r = close(f->fd);
	err = errno;
	check(EP_CLOSE, r, err, f->n->kind == K_BLK && ramdisk_inj ? B(EIO) : 0,
	      false, "close(%s)", f->n->path);
	if (is_reader(f->n))
		cs_readers--;
	files[i] = files[--nr_files];
}

static void close_all(void)
{
	while (nr_files)
		close_file(nr_files - 1);
}

static void unmap_all(void)
{
	char line[512];
	FILE *f;

	while (nr_maps) {
		nr_maps--;
		munmap(maps[nr_maps].addr, maps[nr_maps].len);
	}
	/* anything left, say after a failed munmap: each holds the module */
	f = fopen("/proc/self/maps", "re");
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		if (strstr(line, " /dev/shikumi-") && sscanf(line, "%lx-%lx", &a, &b) == 2)
			munmap((void *)a, b - a);
	}
	if (f)
		fclose(f);
}

static struct node *pick_node(bool (*want)(const struct node *))
{
	int i, cand[MAX_NODES], nc = 0;

	for (i = 0; i < nr_nodes; i++)
		if (!want || want(&nodes[i]))
			cand[nc++] = i;
	return nc ? &nodes[cand[below(nc)]] : NULL;
}

static int rand_flags(const struct node *n)
{
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int f;

	if (n->r && n->w)
		f = PICK(acc);
	else if (n->w)
		f = chance(85) ? O_WRONLY : PICK(acc);
	else
		f = chance(85) ? O_RDONLY : PICK(acc);
	if (chance(n->kind == K_CHR || n->kind == K_STREAM ? 80 : 30))
		f |= O_NONBLOCK;
	if (chance(n->kind == K_BLK ? 35 : 2))
		f |= O_DIRECT;
	if (n->kind == K_BLK && chance(8))
		f |= O_EXCL;
	if (n->kind != K_BLK && n->kind != K_CHR && chance(2))
		f |= O_TRUNC;
	if (chance(3))
		f |= O_APPEND;
	return f;
}

static bool is_dev(const struct node *n)
{
	return n->kind == K_CHR || n->kind == K_BLK || n->kind == K_STREAM;
}

static void op_open(void)
{
	struct node *n = pick_node(chance(70) ? is_dev : NULL);
	int flags, fd;

	if (!n)
		return;
	if (nr_files == MAX_FILES)
		close_file(below(nr_files));
	flags = rand_flags(n);
	fd = do_open(n, flags);
	if (fd < 0)
		return;
	files[nr_files].fd = fd;
	files[nr_files].n = n;
	files[nr_files].flags = flags;
	nr_files++;
}

static struct ofile *pick_file(void)
{
	if (!nr_files || chance(5))
		op_open();
	return nr_files ? &files[below(nr_files)] : NULL;
}

/* ------------------------------------------------------------------ */
/* Text: values to write, and format checks of what is read             */
/* ------------------------------------------------------------------ */

static const char *const rd_models[] = { "ram", "ssd", "hdd" };
static const char *const rd_policies[] = { "fifo", "sstf", "clook", "deadline" };

/* a number near the range [lo, hi], or an overflowing or negative one */
static int num_text(char *s, size_t size, long lo, long hi)
{
	switch (below(12)) {
	case 0: return snprintf(s, size, "%ld", lo);
	case 1: return snprintf(s, size, "%ld", hi);
	case 2: return snprintf(s, size, "%ld", lo - 1);
	case 3: return snprintf(s, size, "%ld", hi + 1);
	case 4: return snprintf(s, size, "-%llu", U(below(100)));
	case 5: return snprintf(s, size, "%s", PICK(((const char *const[]){
			"4294967295", "4294967296", "18446744073709551615",
			"18446744073709551616", "99999999999999999999999",
			"-2147483648", "0", "00", "0x", "0x10", "010", "1e3",
			"+1", " 1", "1 ", "1\n\n", "\n1", "1 2", "0b1" })));
	case 6: return snprintf(s, size, "0x%lx", lo + (long)below(hi - lo + 1));
	default: return snprintf(s, size, "%ld", lo + (long)below(hi - lo + 1));
	}
}

/* garbage, empty, long, NUL inside, no newline, many lines */
static size_t junk_text(char *s, size_t size)
{
	size_t n, i;

	switch (below(8)) {
	case 0:
		return 0;
	case 1:
		n = 1 + below(64);
		for (i = 0; i < n && i < size; i++)
			s[i] = (char)rnd();
		return i;
	case 2:
		n = 4090 + below(10);
		if (chance(20))
			n = 70000;
		n = n < size ? n : size;
		for (i = 0; i < n; i++)
			s[i] = '0' + (char)below(10);
		return n;
	case 3:
		memcpy(s, "1\0garbage\n", 10);
		return 10;
	case 4:
		n = 0;
		for (i = 0; i < 50; i++)
			n += snprintf(s + n, size - n, "%llu\n", U(below(100)));
		return n;
	case 5:
		return snprintf(s, size, "%s", PICK(((const char *const[]){
			"\n", " ", "\t", ",", "-", "none", "all", "y", "N", "on",
			"off", "yes", "%s%s%n", "../../", "\xff\xfe", "1-", "-1",
			"1-0", "1,,2", "1:2/3", "0-1:1/2" })));
	default:
		n = 1 + below(40);
		for (i = 0; i < n && i < size; i++)
			s[i] = 32 + below(95);
		return i;
	}
}

/* A value to write to @n: mostly valid for it, sometimes not. */
static size_t value_for(const struct node *n, char *s, size_t size)
{
	size_t len;
	int r = below(100);

	if (r < 25)
		return junk_text(s, size);
	switch (n->id) {
	case N_RD_MODEL:
		len = snprintf(s, size, "%s", below(10) ? PICK(rd_models) : "floppy");
		break;
	case N_RD_POLICY:
		len = snprintf(s, size, "%s", below(10) ? PICK(rd_policies) : "cfq");
		break;
	case N_RD_RESET:
	case N_CS_ENABLE:
	case N_CS_FOLLOW:
		len = snprintf(s, size, "%s", PICK(((const char *const[]){
			"1", "0", "y", "n", "Y", "N", "on", "off", "2", "10", "-1" })));
		break;
	case N_CS_FPID:
	case N_CS_FTGID:
		len = snprintf(s, size, "%s", PICK(((const char *const[]){
			"", "none", "1", "0", "1-100", "100-1", "4194303",
			"4194304", "4194305", "2147483648", "1-4194303",
			"1,2 3\t4", "1-1000:2/3", "1-", "x", "none 1", "  7  " })));
		if (chance(30))
			len = snprintf(s, size, "%d", getpid());
		break;
	case N_CS_FCPU:
		len = snprintf(s, size, "%s", PICK(((const char *const[]){
			"all", "0", "1", "0-1", "1-0", "0,1", "8191", "8192",
			"100000", "", "none", "all,0", "0-", "0-1:1/2" })));
		break;
	case N_PT_DUMP:
		len = 0;	/* done by op_pt_query */
		break;
	default:
		if (n->hi > n->lo || n->hi)
			len = num_text(s, size, n->lo, n->hi);
		else
			len = num_text(s, size, 0, 100);
		break;
	}
	if (chance(50) && len < size - 1)
		s[len++] = '\n';
	return len;
}

static bool all_digits(const char *s, const char *end)
{
	if (s == end)
		return false;
	for (; s < end; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* lines of "key value..." */
static bool keyval_lines(const char *b, size_t len)
{
	const char *p = b, *e = b + len, *nl;

	if (!len || b[len - 1] != '\n')
		return false;
	for (; p < e; p = nl + 1) {
		nl = memchr(p, '\n', e - p);
		if (!memchr(p, ' ', nl - p) || *p == ' ')
			return false;
	}
	return true;
}

/*
 * Check the whole content of a text file, read from offset 0 in one
 * call; returns a complaint or NULL.
 */
static const char *check_text(const struct node *n, const char *b, size_t len)
{
	const char *e = b + len;
	size_t i;

	if (!len)
		return n->id == N_RD_TRACE || is_reader(n) ? NULL : "empty";
	switch (n->id) {
	case N_CHR_NUM:
	case N_RD_DEPTH:
	case N_RD_PARAM:
	case N_RD_PAGES:
		return e[-1] == '\n' && all_digits(b, e - 1) ? NULL : "not a number";
	case N_CHR_STATUS:
		return (!strncmp(b, "busy", 4) || !strncmp(b, "idle", 4)) &&
		       e[-1] == '\n' ? NULL : "not a status";
	case N_RD_MODEL:
		for (i = 0; i < 3; i++)
			if (len == strlen(rd_models[i]) + 1 &&
			    !memcmp(b, rd_models[i], len - 1))
				return NULL;
		return "not a model";
	case N_RD_POLICY:
		for (i = 0; i < 4; i++)
			if (len == strlen(rd_policies[i]) + 1 &&
			    !memcmp(b, rd_policies[i], len - 1))
				return NULL;
		return "not a policy";
	case N_CS_ENABLE:
	case N_CS_FOLLOW:
		return len == 2 && (b[0] == '0' || b[0] == '1') && b[1] == '\n' ?
		       NULL : "not 0 or 1";
	case N_CS_FPID:
	case N_CS_FTGID:
	case N_CS_FCPU:
		if (e[-1] != '\n')
			return "no newline";
		if ((len == 5 && !memcmp(b, "none", 4)) || (len == 4 && !memcmp(b, "all", 3)))
			return NULL;
		for (i = 0; i < len - 1; i++)
			if (!strchr("0123456789,-", b[i]))
				return "not a list";
		return NULL;
	case N_RD_STATS:
	case N_PT_STATUS:
	case N_CS_STATS:
		return keyval_lines(b, len) ? NULL : "not key value lines";
	case N_RD_TRACE: {
		const char *p, *nl;
		int sp;

		if (e[-1] != '\n')
			return "a partial line";
		for (p = b; p < e; p = nl + 1) {
			nl = memchr(p, '\n', e - p);
			if (*p == '#')
				continue;
			for (sp = 0, i = 0; p + i < nl; i++)
				sp += p[i] == ' ';
			/* the last, the submitter's name, may hold spaces */
			if (sp < 14)
				return "a trace line without its 15 fields";
		}
		return NULL;
	}
	default:
		return NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Shadow of the chrdev FIFOs: what is read must be what was written    */
/* ------------------------------------------------------------------ */

struct shadow {
	char *buf;
	size_t size, head, len;
	bool valid;
};

static struct shadow shadows[16];

static void shadow_reset(void)
{
	int i;

	for (i = 0; i < 16; i++) {
		free(shadows[i].buf);
		shadows[i].buf = NULL;
		shadows[i].valid = false;
		if (mod == M_CHR && i < nr_devs) {
			shadows[i].size = chr_fifo_size[i];
			shadows[i].buf = malloc(chr_fifo_size[i]);
			shadows[i].head = shadows[i].len = 0;
			/* valid if the FIFO was empty when we started */
			shadows[i].valid = shadows[i].buf && chr_fifo_size[i] > 0 &&
					   chr_attr(i, "fifo_len") == 0;
		}
	}
}

static void shadow_write(int dev, const char *src, size_t n)
{
	struct shadow *s = &shadows[dev];
	size_t i;

	if (!s->valid)
		return;
	if (s->len + n > s->size) {
		bad("write", "/dev/shikumi-chr%d took %zu bytes with %zu of %zu held",
		    dev, n, s->len, s->size);
		s->valid = false;
		return;
	}
	for (i = 0; i < n; i++)
		s->buf[(s->head + s->len + i) % s->size] = src[i];
	s->len += n;
}

static void shadow_read(int dev, const char *dst, size_t n)
{
	struct shadow *s = &shadows[dev];
	size_t i;

	if (!s->valid)
		return;
	if (n > s->len) {
		bad("read", "/dev/shikumi-chr%d returned %zu bytes, %zu written", dev,
		    n, s->len);
		s->valid = false;
		return;
	}
	for (i = 0; i < n; i++)
		if (dst[i] != s->buf[(s->head + i) % s->size]) {
			bad("read", "/dev/shikumi-chr%d: byte %zu of %zu read differs from what was written",
			    dev, i, n);
			s->valid = false;
			return;
		}
	s->head = (s->head + n) % s->size;
	s->len -= n;
}

/* ------------------------------------------------------------------ */
/* read, write, lseek, poll                                             */
/* ------------------------------------------------------------------ */

static bool may_block(const struct ofile *f)
{
	if (f->flags & O_NONBLOCK)
		return false;
	return f->n->kind == K_CHR || is_reader(f->n);
}

static emask read_allowed(const struct ofile *f, bool positional)
{
	const struct node *n = f->n;
	emask a = B(EFAULT);

	if ((f->flags & O_ACCMODE) == O_WRONLY)
		a |= B(EBADF);
	/* a negative offset, or f_pos + count past LLONG_MAX (after lseek) */
	if (positional || n->kind != K_CHR)
		a |= B(EINVAL);
	switch (n->kind) {
	case K_CHR:
		a |= B(EAGAIN) | (positional ? B(ESPIPE) : 0);
		break;
	case K_BLK:
		a |= B(EINVAL) | B(EAGAIN) | B(EOPNOTSUPP);
		break;
	case K_SYSFS:
	case K_PARAM:
	case K_SEQ:
		break;
	case K_RAW:
		a |= B(EINVAL);
		break;
	case K_STREAM:
		a |= B(EINVAL) | B(EAGAIN) | (positional ? B(ESPIPE) : 0);
		break;
	}
	return a;
}

static emask write_allowed(const struct ofile *f, bool positional)
{
	const struct node *n = f->n;
	emask a = B(EFAULT);

	if ((f->flags & O_ACCMODE) == O_RDONLY)
		a |= B(EBADF);
	/* seq_file and stream_open files are not pwrite()able */
	if (positional)
		a |= B(EINVAL) | (n->kind != K_BLK ? B(ESPIPE) : 0);
	if (!n->w)
		return a | B(EINVAL) | B(EBADF) | B(EACCES) | B(EPERM) | B(EIO);
	switch (n->kind) {
	case K_CHR:
		a |= B(EAGAIN) | (positional ? B(ESPIPE) : 0);
		break;
	case K_BLK:
		a |= B(ENOSPC) | B(EINVAL) | B(EAGAIN) | B(EOPNOTSUPP) | B(EFBIG);
		break;
	case K_SYSFS:
		a |= B(EINVAL) | B(ERANGE) | B(E2BIG) | B(EBUSY);
		break;
	case K_SEQ:
		a |= B(EINVAL) | B(ERANGE) | B(E2BIG) | B(EBUSY) | B(EOVERFLOW);
		break;
	case K_STREAM:	/* ptdump dump */
		a |= B(EINVAL) | B(ESRCH) | B(ENXIO) | (positional ? B(ESPIPE) : 0);
		break;
	default:
		break;
	}
	return a;
}

/* an offset for pread/pwrite/lseek */
static off_t roff(const struct node *n)
{
	uint64_t size = n->kind == K_BLK ? rd_bytes[n->dev] : 4096;

	switch (below(10)) {
	case 0:
		return 0;
	case 1:
		return -(off_t)below(4097) - 1;
	case 2:
		return PICK(((const off_t[]){ LLONG_MAX, LLONG_MAX - 511,
					      (off_t)1 << 62, (off_t)1 << 40 }));
	case 3:
		return size - below(2) * 512 - below(3);
	case 4:
		return size + below(3) * 512 + below(2);
	case 5:
		return below(size + 1);
	default:
		return below(n->kind == K_BLK ? 8 << 20 : 8192) & ~(chance(70) ? 511ULL : 0);
	}
}

static void after_read(const struct ofile *f, long r, size_t count, const char *p,
		       off_t off)
{
	const char *why;

	if (r < 0)
		return;
	if ((size_t)r > count) {
		bad("read", "%s: returned %ld, asked %zu", f->n->path, r, count);
		return;
	}
	if (f->n->kind == K_CHR)
		shadow_read(f->n->dev, p, r);
	if (f->n->id == N_RD_TRACE_RAW && r % sizeof(struct shikumi_blk_trace))
		bad("read", "%s: %ld bytes, not whole records", f->n->path, r);
	if (f->n->id == N_CS_RAW && r % sizeof(struct shikumi_cs_rec))
		bad("read", "%s: %ld bytes, not whole records", f->n->path, r);
	if (f->n->id == N_CS_RAW && p == rbuf) {
		const struct shikumi_cs_rec *c = (const void *)p;
		long i;

		for (i = 0; i < r / (long)sizeof(*c); i++)
			if (c[i].type < SHIKUMI_CS_SWITCH || c[i].type > SHIKUMI_CS_LOST ||
			    c[i].reserved || (c[i].type == SHIKUMI_CS_SWITCH &&
					       c[i].prev_state > SHIKUMI_CS_STATE_IDLE))
				bad("read", "%s: record %ld is malformed (type %u)",
				    f->n->path, i, c[i].type);
	}
	if (f->n->id == N_RD_TRACE_RAW && p == rbuf) {
		const struct shikumi_blk_trace *t = (const void *)p;
		long i;

		for (i = 0; i < r / (long)sizeof(*t); i++)
			if (t[i].op > SHIKUMI_BLK_OP_WRITE_ZEROES ||
			    t[i].model > SHIKUMI_BLK_MODEL_HDD ||
			    t[i].policy > SHIKUMI_BLK_POLICY_DEADLINE || t[i].reserved)
				bad("read", "%s: record %ld is malformed", f->n->path, i);
	}
	if (off == 0 && count >= 65536 && p == rbuf && (size_t)r < count &&
	    (f->n->kind == K_SYSFS || f->n->kind == K_PARAM || f->n->kind == K_SEQ ||
	     f->n->id == N_RD_TRACE) && (why = check_text(f->n, p, r)))
		bad("read", "%s: %s: \"%.*s\"", f->n->path, why, (int)(r < 200 ? r : 200), p);
}

/* O_DIRECT needs aligned buffers and sizes: get them right most times */
static void direct_fix(const struct ofile *f, size_t *count, off_t *off, char **p,
		       char *base)
{
	if (!(f->flags & O_DIRECT) || chance(15))
		return;
	*count &= ~511UL;
	if (*count > BUFSZ)
		*count = BUFSZ;
	*off &= ~511LL;
	*p = base + (below(BUFSZ - *count + 1) & ~511UL);
}

/* keep the block device's memory small: big writes near its start only */
static void blk_bound(const struct ofile *f, size_t *count, off_t *off)
{
	if (f->n->kind != K_BLK)
		return;
	if (*count > 262144 && chance(90))
		*count = 4096 * (1 + below(64));
	if (*off >= 0 && *off < (off_t)rd_bytes[f->n->dev] - (16 << 20) && chance(80))
		*off %= 16 << 20;
}


/*
 * What a read and a write do alike around the call: pick the position, keep
 * O_DIRECT aligned most times and the disk's memory small, let the disk
 * settle, arm the watchdog and the fault.  io_end() says whether a fault
 * was injected; one in block I/O means writeback may later report EIO.
 */
static void io_begin(const struct ofile *f, bool positional, const char *how,
		     char *base, size_t *count, off_t *off, char **p)
{
	if (positional)
		*off = roff(f->n);
	if (!strcmp(how, "buf"))
		direct_fix(f, count, off, p, base);
	blk_bound(f, count, off);
	if (f->n->kind == K_BLK) {
		rd_before_io(f->n->dev);
		rd_dirty[f->n->dev] = true;
	}
	if (may_block(f))
		arm(20);
	pre();
}

static bool io_end(const struct ofile *f)
{
	bool inj = post();

	if (inj && f->n->kind == K_BLK)
		ramdisk_inj = true;
	return inj;
}

static void op_read(bool positional)
{
	struct ofile *f = pick_file();
	const char *how;
	size_t count;
	off_t off = 0;
	char *p;
	long r;
	int err;
	bool inj;

	if (!f)
		return;
	count = rsize();
	p = rptr(rbuf, count, true, &how);
	io_begin(f, positional, how, rbuf, &count, &off, &p);
	r = positional ? pread(f->fd, p, count, off) : read(f->fd, p, count);
	err = errno;
	inj = io_end(f);
	check(positional ? EP_PREAD : EP_READ, r, err, read_allowed(f, positional), inj,
	      "%s(%s %s, %s%+ld, %zu, %lld)", positional ? "pread" : "read",
	      f->n->path, flagstr(f->flags), how, p && !strcmp(how, "buf") ? (long)(p - rbuf) : 0L,
	      count, (long long)off);
	disarm();
	after_read(f, r, count, p, positional ? off : -1);
}

static void op_write(bool positional)
{
	struct ofile *f = pick_file();
	char text[8192];
	const char *how = "text";
	size_t count;
	off_t off = 0;
	char *p;
	long r;
	int err;
	bool inj;

	if (!f || f->n->id == N_PT_DUMP)
		return;
	if (f->n->kind == K_CHR || f->n->kind == K_BLK || chance(10)) {
		count = rsize();
		p = rptr(wbuf, count, false, &how);
	} else {
		count = value_for(f->n, text, sizeof(text));
		p = text;
	}
	io_begin(f, positional, how, wbuf, &count, &off, &p);
	r = positional ? pwrite(f->fd, p, count, off) : write(f->fd, p, count);
	err = errno;
	inj = io_end(f);
	check(positional ? EP_PWRITE : EP_WRITE, r, err, write_allowed(f, positional), inj,
	      "%s(%s %s, %s, %zu \"%.*s\", %lld)", positional ? "pwrite" : "write",
	      f->n->path, flagstr(f->flags), how, count,
	      p == text ? (int)(count < 64 ? count : 64) : 0, p == text ? text : "",
	      (long long)off);
	disarm();
	if (r >= 0 && (size_t)r > count)
		bad("write", "%s: returned %ld, asked %zu", f->n->path, r, count);
	if (r > 0 && !f->n->w)
		bad("write", "%s is read only, a write of %zu bytes returned %ld",
		    f->n->path, count, r);
	if (r > 0 && f->n->kind == K_CHR)
		shadow_write(f->n->dev, p, r);
	if (r < 0 && f->n->kind == K_CHR && err == EFAULT && inj)
		shadows[f->n->dev].valid = false;
}

static void op_lseek(void)
{
	struct ofile *f = pick_file();
	static const int wh[] = { SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA, SEEK_HOLE, 7 };
	off_t off, r;
	int w, err;
	bool inj;

	if (!f)
		return;
	off = chance(30) ? (off_t)below(4096) - 2048 : roff(f->n);
	w = PICK(wh);
	pre();
	r = lseek(f->fd, off, w);
	err = errno;
	inj = post();
	check(EP_LSEEK, r < 0 ? -1 : 0, err, B(EINVAL) | B(ENXIO) | B(ESPIPE) | B(EOVERFLOW),
	      inj, "lseek(%s, %lld, %d)", f->n->path, (long long)off, w);
}

static void op_poll(void)
{
	struct pollfd p[4];
	int i, n = 1 + below(3), r, err;
	bool inj;

	if (!nr_files)
		return op_open();
	for (i = 0; i < n; i++) {
		p[i].fd = files[below(nr_files)].fd;
		p[i].events = rnd();
		if (chance(50))
			p[i].events = POLLIN | POLLOUT;
	}
	if (chance(5))
		p[0].fd = 1000;		/* not open: POLLNVAL */
	pre();
	r = poll(chance(2) ? (struct pollfd *)unmapped : p, n, 0);
	err = errno;
	inj = post();
	check(EP_POLL, r, err, B(EFAULT), inj, "poll(%d fds)", n);
	if (r > n)
		bad("poll", "returned %d for %d fds", r, n);
}

static void op_fsync(void)
{
	struct ofile *f = pick_file();
	int r, err;
	bool inj;

	if (!f)
		return;
	if (f->n->kind == K_BLK)
		rd_before_io(f->n->dev);
	pre();
	r = chance(50) ? fsync(f->fd) : fdatasync(f->fd);
	err = errno;
	inj = io_end(f);
	check(EP_FSYNC, r, err, B(EINVAL) | (f->n->kind == K_BLK && ramdisk_inj ? B(EIO) : 0),
	      inj, "fsync(%s)", f->n->path);
}

/* one-shot: open a text file, write a value, close */
static void op_text_write(void)
{
	struct node *n = pick_node(NULL);
	struct ofile f;
	char text[80000];
	size_t len;
	long r;
	int err, fd;
	bool inj;

	if (!n || n->kind == K_CHR || n->kind == K_BLK || n->id == N_PT_DUMP)
		return;
	f.n = n;
	f.flags = chance(90) ? O_WRONLY : O_RDWR;
	if (n->id == N_RD_MODEL || n->id == N_RD_PARAM || n->id == N_RD_DEPTH)
		rd_flush(n->dev);
	fd = do_open(n, f.flags);
	if (fd < 0)
		return;
	f.fd = fd;
	len = value_for(n, text, sizeof(text));
	pre();
	r = write(fd, chance(3) ? NULL : text, len);
	err = errno;
	inj = post();
	check(EP_WRITE, r, err, write_allowed(&f, false), inj, "write(%s, %zu \"%.*s\")",
	      n->path, len, (int)(len < 64 ? len : 64), text);
	if (r > 0 && !n->w)
		bad("write", "%s is read only, a write of %zu bytes returned %ld", n->path, len, r);
	if (r >= 0 && (size_t)r > len)
		bad("write", "%s: returned %ld, asked %zu", n->path, r, len);
	if (r >= 0 && n->id == N_RD_MODEL) {
		int i;

		for (i = 0; i < 3; i++)
			if (!strncmp(text, rd_models[i], 3))
				rd_model[n->dev] = i;
	}
	if (r >= 0 && n->id == N_RD_PARAM) {
		int i;

		for (i = 0; i < NR_RD_PARAMS; i++)
			if (!strcmp(strrchr(n->path, '/') + 1, rd_params[i].name))
				rd_pval[n->dev][i] = strtol(text, NULL, 0);
	}
	check(EP_CLOSE, close(fd), errno, 0, false, "close(%s)", n->path);
	if (is_reader(n))
		cs_readers--;
}

/* one-shot: open, read with a random size and offset, check, close */
static void op_text_read(void)
{
	struct node *n = pick_node(NULL);
	struct ofile f;
	size_t count = chance(60) ? 65536 : rsize();
	off_t off = chance(70) ? 0 : roff(n ? n : &nodes[0]);
	long r;
	int err, fd;
	bool inj;

	if (!n || n->kind == K_CHR || n->kind == K_BLK || is_reader(n))
		return;
	if (count > BUFSZ && chance(80))
		count = BUFSZ;
	f.n = n;
	f.flags = O_RDONLY | (chance(20) ? O_NONBLOCK : 0);
	fd = do_open(n, f.flags);
	if (fd < 0)
		return;
	f.fd = fd;
	pre();
	r = off || chance(20) ? pread(fd, rbuf, count, off) : read(fd, rbuf, count);
	err = errno;
	inj = post();
	check(EP_READ, r, err, read_allowed(&f, true), inj, "read(%s, %zu, %lld)", n->path,
	      count, (long long)off);
	after_read(&f, r, count, rbuf, off);
	check(EP_CLOSE, close(fd), errno, 0, false, "close(%s)", n->path);
}

/* ------------------------------------------------------------------ */
/* ioctl                                                                */
/* ------------------------------------------------------------------ */

static void *ioctl_arg(size_t size, const char **how)
{
	unsigned int r = below(100);

	*how = "ok";
	if (r < 4) {
		*how = "NULL";
		return NULL;
	}
	if (r < 7) {
		*how = "unmapped";
		return unmapped;
	}
	if (r < 9) {
		*how = "read-only";
		return robuf;
	}
	if (r < 11) {
		*how = "straddles guard";
		return rbuf + BUFSZ - size / 2;
	}
	if (r < 14) {
		*how = "misaligned";
		return rbuf + 1 + below(7);
	}
	if (r < 15) {
		*how = "kernel";
		return (void *)0xffffffff81000000UL;
	}
	return rbuf + 64 * below(16);
}

static unsigned long rand_cmd(void)
{
	static const unsigned int skip[] = { 0x00, 0x12, 0x54, 0x58, 0x66, 0x94, 0x15 };
	unsigned int type, i, dir, size, nr;

	for (;;) {
		type = below(4) ? below(256) : (mod == M_CHR ? SHIKUMI_CHR_IOC_MAGIC : 0x12);
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (type == skip[i])
				break;
		if (i == sizeof(skip) / sizeof(skip[0]))
			break;
		if (mod == M_CHR && type == SHIKUMI_CHR_IOC_MAGIC)
			break;
	}
	dir = below(4);
	size = chance(50) ? sizeof(struct shikumi_chr_cmd) : below(1 << 14);
	nr = chance(50) ? below(4) : below(256);
	return _IOC(dir, type, nr, size);
}

static void op_ioctl_random(void)
{
	struct ofile *f = pick_file();
	unsigned long cmd = rand_cmd();
	const char *how;
	void *arg;
	long r;
	int err;
	bool inj;

	if (!f)
		return;
	arg = ioctl_arg(_IOC_SIZE(cmd) ? _IOC_SIZE(cmd) : 8, &how);
	if (f->n->kind == K_BLK && _IOC_TYPE(cmd) == 0x12)
		return;		/* real block ioctls are done by op_blk_ioctl */
	if (may_block(f))
		arm(50);
	pre();
	r = ioctl(f->fd, cmd, arg);
	err = errno;
	inj = post();
	check(EP_IOCTL_RAND, r, err,
	      B(ENOTTY) | B(EINVAL) | B(EFAULT) | B(EPERM) | B(EACCES) | B(EBADF) |
	      B(EOPNOTSUPP) | (f->n->kind == K_CHR ? B(EBUSY) : 0),
	      inj, "ioctl(%s, %#lx, %s)", f->n->path, cmd, how);
	disarm();
}

/* ------------------------------------------------------------------ */
/* mmap, touch, mremap, munmap, fork                                    */
/* ------------------------------------------------------------------ */

static void op_mmap(void)
{
	struct ofile *f = pick_file();
	static const size_t lens[] = { 0, 1, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, 16 * PAGE,
				       1UL << 20, 1UL << 47 };
	size_t len;
	uint64_t off;
	int prot, flags, err;
	char *p;
	bool inj;

	if (!f)
		return;
	len = chance(50) ? PAGE : PICK(lens);
	switch (below(6)) {
	case 0: off = 0; break;
	case 1: off = 1 + below(PAGE - 1); break;
	case 2: off = PAGE * below(4); break;
	case 3: off = f->n->kind == K_BLK ? (rd_bytes[f->n->dev] & ~(PAGE - 1)) - PAGE * below(3) : PAGE; break;
	case 4: off = (uint64_t)-PAGE; break;
	default: off = chance(70) ? 0 : PAGE * below(1 << 20); break;
	}
	if (f->n->kind == K_BLK && chance(50))
		off = PAGE * below((8 << 20) / PAGE);
	prot = below(8);
	if (chance(50))
		prot = PROT_READ;
	flags = chance(60) ? MAP_SHARED : MAP_PRIVATE;
	if (chance(3))
		flags |= MAP_FIXED_NOREPLACE;
	if (nr_maps == MAX_MAPS) {
		nr_maps--;
		munmap(maps[nr_maps].addr, maps[nr_maps].len);
	}
	pre();
	p = mmap(flags & MAP_FIXED_NOREPLACE ? unmapped : NULL, len, prot, flags, f->fd, off);
	err = errno;
	inj = post();
	check(EP_MMAP, p == MAP_FAILED ? -1 : 0, err,
	      B(EINVAL) | B(EACCES) | B(ENODEV) | B(ENOMEM) | B(EPERM) | B(EOVERFLOW) |
	      B(EBADF) | B(EEXIST), inj,
	      "mmap(%s %s, len %zu, prot %#x, flags %#x, off %#llx)", f->n->path,
	      flagstr(f->flags), len, prot, flags, U(off));
	if (p == MAP_FAILED)
		return;
	if (f->n->kind == K_CHR && (off || len == 0 || len > PAGE || (prot & PROT_WRITE)))
		bad("mmap", "%s: off %#llx len %zu prot %#x accepted", f->n->path, U(off), len, prot);
	maps[nr_maps++] = (struct map){ p, len, prot, flags & MAP_SHARED, f->n, off };
}

/* touch a byte; returns the signal it raised, or 0 */
static int touch(volatile char *p, bool write)
{
	int sig;

	touching = 1;
	sig = sigsetjmp(touch_jmp, 1);
	if (!sig) {
		if (write)
			*p = *p + 1;
		else
			(void)*p;
	}
	touching = 0;
	return sig;
}

static void op_touch(void)
{
	struct map *m;
	size_t at;
	uint64_t fileoff;
	bool write;
	int sig;

	if (!nr_maps)
		return op_mmap();
	m = &maps[below(nr_maps)];
	if (!(m->prot & (PROT_READ | PROT_WRITE)))
		return;
	at = below(m->len);
	if (chance(30))
		at &= ~(PAGE - 1);
	if (m->len > (1UL << 30))
		at = below(1 << 20);
	write = (m->prot & PROT_WRITE) && chance(50);
	/* a shared write lands on the disk: only the first 16 MiB */
	fileoff = m->off + at;
	if (write && m->shared && m->n->kind == K_BLK && fileoff >= (16 << 20) &&
	    fileoff < rd_bytes[m->n->dev])
		write = false;
	if (write && m->shared && m->n->kind == K_BLK)
		rd_dirty[m->n->dev] = true;
	sig = touch(m->addr + at, write);
	if (sig == SIGBUS)
		sigbus++;
	if (sig == SIGSEGV)
		sigsegv++;
	if (!sig) {
		if (m->n->kind == K_CHR && at == 0 && !write &&
		    *(volatile uint32_t *)m->addr != SHIKUMI_CHR_REGS_MAGIC)
			bad("touch", "%s: the register page has magic %#x", m->n->path,
			    *(volatile uint32_t *)m->addr);
		return;
	}
	/* past the end of the disk, SIGBUS is right; anything else is not */
	if (sig == SIGBUS && m->n->kind == K_BLK && fileoff >= rd_bytes[m->n->dev])
		return;
	bad("touch", "%s %s at %zu of a %zu-byte mapping (prot %#x, %s, file offset %#llx) raised %s",
	    write ? "write" : "read", m->n->path, at, m->len, m->prot,
	    m->shared ? "shared" : "private", U(fileoff), strsignal(sig));
}

static void op_remap(void)
{
	struct map *m;
	size_t nlen;
	void *p;
	int r, err, i, prot;
	bool inj;

	if (!nr_maps)
		return op_mmap();
	i = below(nr_maps);
	m = &maps[i];
	switch (below(4)) {
	case 0:
		nlen = chance(50) ? m->len * 2 : (m->len > PAGE ? m->len / 2 : m->len + PAGE);
		if (chance(10))
			nlen = 0;
		pre();
		p = mremap(m->addr, m->len, nlen, chance(80) ? MREMAP_MAYMOVE : 0);
		err = errno;
		inj = post();
		check(EP_MREMAP, p == MAP_FAILED ? -1 : 0, err,
		      B(EFAULT) | B(EINVAL) | B(ENOMEM) | B(EAGAIN), inj,
		      "mremap(%s, %zu -> %zu)", m->n->path, m->len, nlen);
		if (p != MAP_FAILED) {
			if (m->n->kind == K_CHR && nlen > PAGE)
				bad("mremap", "%s: the register page grew to %zu bytes",
				    m->n->path, nlen);
			m->addr = p;
			m->len = nlen;
		}
		break;
	case 1:
		prot = below(8);
		pre();
		r = mprotect(m->addr, m->len, prot);
		err = errno;
		inj = post();
		check(EP_MPROTECT, r, err, B(EACCES) | B(EINVAL) | B(ENOMEM), inj,
		      "mprotect(%s, %zu, %#x)", m->n->path, m->len, prot);
		if (!r) {
			if (m->n->kind == K_CHR && (prot & PROT_WRITE))
				bad("mprotect", "%s: the register page was made writable",
				    m->n->path);
			m->prot = prot;
		}
		break;
	default:
		pre();
		r = munmap(m->addr, m->len);
		err = errno;
		inj = post();
		check(EP_MUNMAP, r, err, B(EINVAL) | B(ENOMEM), inj, "munmap(%s, %zu)",
		      m->n->path, m->len);
		if (!r)		/* a failed munmap leaves it mapped */
			maps[i] = maps[--nr_maps];
		break;
	}
}

/* a child touches a shared mapping (and dies if it should) */
static void op_fork_touch(void)
{
	struct map *m;
	pid_t pid;
	size_t at;
	int st, i;

	reap_kids(false);
	if (!nr_maps || nr_kids == MAX_KIDS)
		return;
	m = &maps[below(nr_maps)];
	if (!(m->prot & PROT_READ) || m->len > (1UL << 30))
		return;
	at = below(m->len);
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		(void)*(volatile char *)(m->addr + at);
		_exit(0);
	}
	arm(5000);
	i = waitpid(pid, &st, 0);
	disarm();
	if (i != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		bad("fork", "a child reading %s at %zu hung", m->n->path, at);
		return;
	}
	if (WIFSIGNALED(st)) {
		kid_sigs++;
		if (!(WTERMSIG(st) == SIGBUS && m->n->kind == K_BLK &&
		      m->off + at >= rd_bytes[m->n->dev]))
			bad("fork", "a child reading %s at %zu (file offset %#llx) died of %s",
			    m->n->path, at, U(m->off + at), strsignal(WTERMSIG(st)));
	}
}

/* ------------------------------------------------------------------ */
/* chrdev                                                               */
/* ------------------------------------------------------------------ */

static void op_chr_submit(void)
{
	struct ofile *f = pick_file();
	struct shikumi_chr_cmd *c;
	const char *how;
	unsigned long cmd = SHIKUMI_CHR_IOC_SUBMIT;
	long r;
	int err;
	bool inj, valid;

	if (!f || f->n->kind != K_CHR)
		return;
	if (chance(10)) {
		pre();
		r = ioctl(f->fd, SHIKUMI_CHR_IOC_RESET, chance(50) ? NULL : unmapped);
		err = errno;
		inj = post();
		check(EP_IOCTL, r, err, 0, inj, "ioctl(%s, RESET)", f->n->path);
		return;
	}
	c = ioctl_arg(sizeof(*c), &how);
	valid = !strcmp(how, "ok") || !strcmp(how, "misaligned");
	if (valid) {
		memset(c, 0, sizeof(*c));
		c->wait = below(3);
		switch (below(12)) {
		case 0: c->latency_ns = SHIKUMI_CHR_LATENCY_MAX_NS; break;
		case 1: c->latency_ns = SHIKUMI_CHR_LATENCY_MAX_NS + 1; break;
		case 2: c->latency_ns = ~0ULL; break;
		case 3: c->latency_ns = below(SHIKUMI_CHR_LATENCY_MAX_NS); break;
		case 4: c->latency_ns = 1; break;
		default: c->latency_ns = below(100000); break;
		}
		if (c->wait == SHIKUMI_CHR_WAIT_POLL && c->latency_ns > 1000000 && chance(90))
			c->latency_ns = below(1000000);
		if (chance(5))
			c->wait = 3 + below(100);
		if (chance(5))
			c->flags = 1U << below(32);
		if (chance(5))
			c->reserved[below(2)] = 1 + below(10);
		if (chance(3))
			c->seq = rnd();
	}
	if (chance(3))
		cmd = _IOWR(SHIKUMI_CHR_IOC_MAGIC, 1, char[below(2) ? 8 : 64]);
	if (chance(3))
		cmd = _IOR(SHIKUMI_CHR_IOC_MAGIC, 1, struct shikumi_chr_cmd);
	arm(50);
	pre();
	r = ioctl(f->fd, cmd, c);
	err = errno;
	inj = post();
	check(EP_IOCTL, r, err, B(EINVAL) | B(EFAULT) | B(EBUSY) | B(ENOTTY), inj,
	      "ioctl(%s, SUBMIT %#lx, %s: latency %llu wait %u flags %#x)", f->n->path,
	      cmd, how, valid ? U(c->latency_ns) : 0, valid ? c->wait : 0,
	      valid ? c->flags : 0);
	disarm();
	if (!r && cmd != SHIKUMI_CHR_IOC_SUBMIT)
		bad("ioctl", "%s: SUBMIT with a wrong command %#lx succeeded", f->n->path, cmd);
	if (!r && valid && (c->flags || c->reserved[0] || c->reserved[1] || c->wait > 2 ||
			    c->latency_ns > SHIKUMI_CHR_LATENCY_MAX_NS))
		bad("ioctl", "%s: a bad command was accepted", f->n->path);
}

/* ------------------------------------------------------------------ */
/* ramdisk                                                              */
/* ------------------------------------------------------------------ */

static int param_idx(const char *name)
{
	int i;

	for (i = 0; i < NR_RD_PARAMS; i++)
		if (!strcmp(rd_params[i].name, name))
			return i;
	return 0;
}

/* does parameter @i make I/O through this disk's model slow? */
static bool rd_param_slow(int dev, int i)
{
	const char *prefix = rd_model[dev] == SHIKUMI_BLK_MODEL_HDD ? "hdd_" :
			     rd_model[dev] == SHIKUMI_BLK_MODEL_SSD ? "ssd_" : NULL;
	long v = rd_pval[dev][i];

	return prefix && !strncmp(rd_params[i].name, prefix, 4) &&
	       (v < rd_params[i].slow_below || v > rd_params[i].slow_above);
}

/* would an I/O take long with this disk's model and parameters? */
static bool rd_slow(int dev)
{
	int i;

	for (i = 0; i < NR_RD_PARAMS; i++)
		if (rd_param_slow(dev, i))
			return true;
	return false;
}

static void write_attr(int dev, const char *name, long val)
{
	char path[160], b[32];
	int fd, n, r, err;
	bool inj;

	snprintf(path, sizeof(path), "/sys/block/shikumi-ram%d/shikumi/%s", dev, name);
	n = snprintf(b, sizeof(b), "%ld\n", val);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	pre();
	r = write(fd, b, n);
	err = errno;
	inj = post();
	check(EP_WRITE, r, err, 0, inj, "write(%s, %ld)", path, val);
	close(fd);
	if (r == n)
		rd_pval[dev][param_idx(name)] = val;
}

/* set the parameters that make I/O slow back to quick values */
static void rd_make_fast(int dev)
{
	int i;

	for (i = 0; i < NR_RD_PARAMS; i++)
		if (rd_param_slow(dev, i))
			write_attr(dev, rd_params[i].name, rd_params[i].fast);
}

/*
 * Write the disk's dirty pages back while it is quick: before its model or
 * parameters change, since the kernel writes them back whenever it likes
 * and a sync waits for that.  No fault injected here: a failed switch to
 * the ram model would leave the flush to a slow disk.
 */
static void rd_flush(int dev)
{
	char path[64];
	int fd;

	if (!rd_dirty[dev])
		return;
	if (rd_slow(dev)) {
		snprintf(path, sizeof(path), "/sys/block/shikumi-ram%d/shikumi/model", dev);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && write(fd, "ram\n", 4) == 4)
			rd_model[dev] = SHIKUMI_BLK_MODEL_RAM;
		if (fd >= 0)
			close(fd);
	}
	snprintf(path, sizeof(path), "/dev/shikumi-ram%d", dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);	/* EIO after an injected fault is fine here */
		close(fd);
	}
	rd_dirty[dev] = false;
}

static void op_rd_switch_to(int dev, int model);

/*
 * The hdd and ssd models serve a request in milliseconds (tens under
 * TCG): most I/O goes to the ram model, the rest with quick parameters.
 */
static void rd_before_io(int dev)
{
	if (rd_model[dev] != SHIKUMI_BLK_MODEL_RAM && chance(90))
		op_rd_switch_to(dev, SHIKUMI_BLK_MODEL_RAM);
	else if (rd_slow(dev))
		rd_make_fast(dev);
}

static void op_blk_ioctl(void)
{
	struct ofile *f = pick_file();
	uint64_t size, range[2] = { 0, 0 }, *arg;
	const char *how, *name;
	unsigned long cmd;
	emask a = B(EFAULT);
	long r;
	int err;
	bool inj, wr;

	if (!f || f->n->kind != K_BLK)
		return;
	size = rd_bytes[f->n->dev];
	wr = (f->flags & O_ACCMODE) != O_RDONLY;
	arg = ioctl_arg(16, &how);
	switch (below(10)) {
	case 0: cmd = BLKGETSIZE64; name = "BLKGETSIZE64"; break;
	case 1: cmd = BLKSSZGET; name = "BLKSSZGET"; break;
	case 2: cmd = BLKGETSIZE; name = "BLKGETSIZE"; break;
	case 3: cmd = BLKPBSZGET; name = "BLKPBSZGET"; break;
	case 4: cmd = BLKFLSBUF; name = "BLKFLSBUF"; a |= ramdisk_inj ? B(EIO) : 0; break;
	case 5: cmd = BLKRRPART; name = "BLKRRPART"; a |= B(EBUSY) | B(EINVAL); break;
	case 6: cmd = BLKZEROOUT; name = "BLKZEROOUT"; goto range;
	case 7: cmd = BLKSECDISCARD; name = "BLKSECDISCARD"; goto range;
	default:
		cmd = BLKDISCARD;
		name = "BLKDISCARD";
range:
		a |= B(EINVAL) | B(EBUSY) | B(EOPNOTSUPP);
		if (!wr)
			a |= B(EBADF);
		switch (below(6)) {
		case 0: range[0] = 0; range[1] = size; break;
		case 1: range[0] = below(size); range[1] = below(1 << 20); break;
		case 2: range[0] = size - 4096; range[1] = 8192; break;
		case 3: range[0] = ~0ULL - 511; range[1] = 1024; break;
		default:
			range[0] = below(16 << 20) & ~(chance(80) ? 4095ULL : 0);
			range[1] = below(1 << 20) & ~(chance(80) ? 511ULL : 0);
			break;
		}
		if (!strcmp(how, "ok") || !strcmp(how, "misaligned"))
			memcpy(arg, range, sizeof(range));
		break;
	}
	rd_before_io(f->n->dev);
	pre();
	r = ioctl(f->fd, cmd, arg);
	err = errno;
	inj = post();
	if (inj)
		ramdisk_inj = true;
	check(EP_IOCTL, r, err, a, inj, "ioctl(%s %s, %s, %s [%#llx, %#llx])", f->n->path,
	      flagstr(f->flags), name, how, U(range[0]), U(range[1]));
	if (!r && cmd == BLKGETSIZE64 && !strcmp(how, "ok") && *arg != size)
		bad("ioctl", "%s: BLKGETSIZE64 says %llu, was %llu", f->n->path, U(*arg), U(size));
	if (!r && cmd == BLKSSZGET && !strcmp(how, "ok") && *(int *)arg != 512)
		bad("ioctl", "%s: BLKSSZGET says %d", f->n->path, *(int *)arg);
}

/* switch the model, policy or queue depth through sysfs between I/Os */
static void rd_switch(int dev, int what, int model)
{
	char path[160], b[32];
	int fd, n, r, err, m;
	const char *attr;
	bool inj;

	switch (what) {
	case 0:
		attr = "model";
		m = model;
		n = snprintf(b, sizeof(b), "%s", rd_models[m]);
		break;
	case 1:
		attr = "policy";
		n = snprintf(b, sizeof(b), "%s\n", PICK(rd_policies));
		m = -1;
		break;
	default:
		attr = "queue_depth";
		n = snprintf(b, sizeof(b), "%llu", U(1 + below(chance(50) ? 4 : 128)));
		m = -1;
		break;
	}
	snprintf(path, sizeof(path), "/sys/block/shikumi-ram%d/shikumi/%s", dev, attr);
	rd_flush(dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	pre();
	r = write(fd, b, n);
	err = errno;
	inj = post();
	check(EP_WRITE, r, err, B(EINVAL), inj, "write(%s, \"%s\")", path, b);
	close(fd);
	if (r == n && m >= 0)
		rd_model[dev] = m;
}

static void op_rd_switch_to(int dev, int model)
{
	rd_switch(dev, 0, model);
}

static void op_rd_switch(void)
{
	rd_switch(below(nr_devs ? nr_devs : 1), below(3), below(3));
}

/* ------------------------------------------------------------------ */
/* ptdump                                                               */
/* ------------------------------------------------------------------ */

static pid_t pt_child(void)
{
	pid_t pid;
	unsigned int life = below(200);

	reap_kids(false);
	if (nr_kids == MAX_KIDS)
		return kids[below(nr_kids)];
	pid = fork();
	if (pid < 0)
		return getpid();
	if (!pid) {
		/* some address space, then exit after a while */
		char *p = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t i;

		if (p != MAP_FAILED)
			for (i = 0; i < (4u << 20); i += 4096 * 7)
				p[i] = 1;
		usleep(life * 1000);
		_exit(0);
	}
	kids[nr_kids++] = pid;
	return pid;
}

static size_t pt_query(char *q, size_t size)
{
	size_t n = 0;
	int words = below(5), i;
	unsigned long a, b2;

	if (chance(5)) {
		n = junk_text(q, size > 300 ? 300 : size);
		return n;
	}
	for (i = 0; i < words && n < size - 100; i++) {
		if (i)
			n += snprintf(q + n, size - n, "%s", PICK(((const char *const[]){
				" ", " ", " ", "\t", "  ", "\n" })));
		switch (below(8)) {
		case 0: case 1: {
			long pid;

			switch (below(10)) {
			case 0: pid = 1; break;
			case 1: pid = 2; break;
			case 2: pid = 0; break;
			case 3: pid = -1; break;
			case 4: pid = 4194304 + below(1000); break;
			case 5: pid = 2147483647L; break;
			case 6: pid = 2147483648L; break;
			case 7: pid = getpid(); break;
			default: pid = pt_child(); break;
			}
			n += snprintf(q + n, size - n, "pid=%ld", pid);
			break;
		}
		case 2:
			n += snprintf(q + n, size - n, "view=%s", PICK(((const char *const[]){
				"summary", "full", "translate", "stats", "STATS", "" })));
			break;
		case 3:
			n += snprintf(q + n, size - n, "format=%s", PICK(((const char *const[]){
				"text", "raw", "raw", "binary" })));
			break;
		case 4: case 5:
			a = PICK(((const unsigned long[]){ 0, 1, 0x400000, (unsigned long)wbuf,
				0x7ffffffff000UL, 0x800000000000UL, ~0UL, 4095 }));
			b2 = PICK(((const unsigned long[]){ 0, 1, 0x500000,
				(unsigned long)wbuf + BUFSZ, 0x7ffffffff000UL, 0x800000000000UL,
				~0UL, 4097 }));
			if (chance(30)) {
				a = below(1UL << 47);
				b2 = a + below(1UL << 32);
			}
			n += snprintf(q + n, size - n, chance(50) ? "range=%#lx-%#lx" : "range=%lu-%lu",
				      a, b2);
			break;
		case 6:
			a = PICK(((const unsigned long[]){ 0, (unsigned long)wbuf,
				(unsigned long)&n, 0x7fffffffefffUL, 0x800000000000UL, ~0UL }));
			n += snprintf(q + n, size - n, "addr=%#lx", a);
			break;
		default:
			n += snprintf(q + n, size - n, "%s", PICK(((const char *const[]){
				"pid", "bogus=1", "=", "pid==1", "range=1", "range=-", "addr=",
				"view=translate addr=0x1000", "view=full format=raw",
				"view=stats format=raw range=0x0-0x7ffffffff000" })));
			break;
		}
	}
	if (chance(50))
		q[n++] = '\n';
	if (chance(3)) {
		while (n < 300 && n < size)
			q[n++] = ' ';
	}
	return n;
}

static void op_pt_query(void)
{
	struct ofile *f = pick_file();
	char q[1024];
	size_t len;
	long r;
	int err;
	bool inj;

	if (!f || f->n->id != N_PT_DUMP)
		return;
	len = pt_query(q, sizeof(q));
	pre();
	r = write(f->fd, chance(3) ? (char *)unmapped : q, len);
	err = errno;
	inj = post();
	check(EP_WRITE, r, err, write_allowed(f, false), inj, "write(%s, %zu \"%.*s\")",
	      f->n->path, len, (int)len, q);
	if (r >= 0 && (size_t)r != len)
		bad("write", "%s: query of %zu bytes returned %ld", f->n->path, len, r);
	/* sometimes the target exits right after the query */
	if (chance(10) && nr_kids)
		kill(kids[below(nr_kids)], SIGKILL);
}

/* ------------------------------------------------------------------ */
/* cstrace                                                              */
/* ------------------------------------------------------------------ */

static void op_cs_toggle(void)
{
	struct node *n = &nodes[0];	/* enable */
	char v = chance(50) ? '1' : '0';
	int fd, r, err;
	bool inj;

	if (nr_nodes == 0 || n->id != N_CS_ENABLE)
		return;
	fd = do_open(n, O_WRONLY);
	if (fd < 0)
		return;
	pre();
	r = write(fd, &v, 1);
	err = errno;
	inj = post();
	check(EP_WRITE, r, err, 0, inj, "write(%s, \"%c\")", n->path, v);
	close(fd);
	if (v == '1' && chance(30))
		sched_yield();
}

/* ------------------------------------------------------------------ */
/* Module loads                                                         */
/* ------------------------------------------------------------------ */

static bool find_ko(void)
{
	struct utsname u;
	char exe[PATH_MAX - 200], *s;
	ssize_t n;

	if (ko_path[0])
		return !access(ko_path, R_OK);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || uname(&u))
		return false;
	exe[n] = 0;
	/* build/bin/shikumi-fuzz -> the repository */
	for (int i = 0; i < 3 && (s = strrchr(exe, '/')); i++)
		*s = 0;
	snprintf(ko_path, sizeof(ko_path), "%s/build/kmod/%s/modules/%s/%s.ko", exe,
		 u.release, mod_names[mod], mod_kname[mod]);
	return !access(ko_path, R_OK);
}

static void param_string(char *s, size_t size)
{
	size_t n = 0;
	int words = below(4), i;

	s[0] = 0;
	for (i = 0; i < words && n < size - 64; i++) {
		const char *name;
		long lo, hi;

		switch (mod) {
		case M_CHR:
			if (below(2)) {
				name = "nr_devices"; lo = 1; hi = 16;
			} else {
				name = "fifo_size"; lo = 16; hi = 1 << 20;
				if (chance(60)) {
					n += snprintf(s + n, size - n, "%sfifo_size=%lu", i ? " " : "",
						      1UL << (4 + below(17)));
					continue;
				}
			}
			break;
		case M_RD:
			switch (below(4)) {
			case 0: name = "nr_disks"; lo = 1; hi = 16; break;
			case 1: name = "size_mb"; lo = 1; hi = 65536; break;
			case 2: name = "queue_depth"; lo = 1; hi = 10240; break;
			default: name = "trace_entries"; lo = 16; hi = 65536; break;
			}
			break;
		case M_CS:
			name = "nr_events"; lo = 256; hi = chance(10) ? 1 << 20 : 65536;
			break;
		default:
			name = "bogus"; lo = 0; hi = 1;
			break;
		}
		if (chance(8))
			name = PICK(((const char *const[]){ "bogus", "nr", "fifo_size.x",
							     "NR_DISKS", "" }));
		n += snprintf(s + n, size - n, "%s%s", i ? " " : "", name);
		if (chance(5))
			continue;	/* no "=" */
		s[n++] = '=';
		if (chance(15))
			n += junk_text(s + n, 20 < size - n ? 20 : size - n - 1);
		else
			n += num_text(s + n, size - n, lo, hi);
		s[n] = 0;
	}
	for (i = 0; (size_t)i < n; i++)
		if (!s[i] || s[i] == '\n')
			s[i] = ' ';
	/* no more than 64 MiB of ramdisk trace buffers */
	if (mod == M_RD && (strstr(s, "nr_disks=1") || strstr(s, "nr_disks=0x1")) &&
	    strstr(s, "trace_entries"))
		snprintf(s, size, "nr_disks=%llu", U(1 + below(16)));
}

static bool unload(void)
{
	int i, r = -1, err = 0;

	close_all();
	unmap_all();
	reap_kids(true);
	if (mod == M_CS) {
		int fd = open(DBG "/cstrace/enable", O_WRONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (write(fd, "0", 1) != 1)
				err = errno;
			close(fd);
		}
	}
	for (i = 0; i < 60; i++) {
		r = syscall(SYS_delete_module, mod_kname[mod], O_NONBLOCK);
		err = errno;
		if (!r || (err != EAGAIN && err != EBUSY))
			break;
		usleep(50000);	/* udev may have the new disk open */
	}
	check(EP_DELETE, r, err, 0, false, "delete_module(%s)", mod_kname[mod]);
	mod_loaded = r != 0;
	return !r;
}

static bool load(const char *params, bool fuzzed)
{
	int fd, r, err;
	bool inj;

	fd = open(ko_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %m\n", ko_path);
		exit(2);
	}
	if (fuzzed)
		loads_tried++;
	if (fuzzed)
		pre();
	r = syscall(SYS_finit_module, fd, params, 0);
	err = errno;
	inj = fuzzed && post();
	close(fd);
	check(EP_FINIT, r, err,
	      fuzzed ? B(ENOENT) | B(EINVAL) | B(ERANGE) | B(ENOSPC) | B(EEXIST) : 0,
	      inj, "finit_module(%s, \"%s\")", ko_path, params);
	if (r)
		return false;
	if (fuzzed)
		loads_ok++;
	mod_loaded = true;
	/* udev settles the nodes of the new devices; devtmpfs has them already */
	usleep(mod == M_RD ? 100000 : 10000);
	enumerate();
	shadow_reset();
	return true;
}

static void op_reload(void)
{
	char params[512];

	if (!unload())
		return;
	param_string(params, sizeof(params));
	if (verbose)
		printf("load %s \"%s\"\n", mod_kname[mod], params);
	if (!load(params, true))
		load("", false);
}

/* ------------------------------------------------------------------ */
/* The loop                                                             */
/* ------------------------------------------------------------------ */

struct op { void (*fn)(void); unsigned int w[4]; };	/* weights per module */

static void op_read_s(void) { op_read(false); }
static void op_pread_s(void) { op_read(true); }
static void op_write_s(void) { op_write(false); }
static void op_pwrite_s(void) { op_write(true); }
static void op_close(void) { if (nr_files) close_file(below(nr_files)); }

static const struct op ops[] = {
	/*                    chr  rd  pt  cs */
	{ op_open,          { 10, 10, 10, 10 } },
	{ op_close,         {  8,  8,  8,  8 } },
	{ op_read_s,        { 16, 14, 20, 18 } },
	{ op_pread_s,       {  3,  8,  3,  3 } },
	{ op_write_s,       { 16, 12,  3,  4 } },
	{ op_pwrite_s,      {  3,  8,  2,  2 } },
	{ op_lseek,         {  3,  4,  3,  3 } },
	{ op_poll,          {  3,  2,  2,  3 } },
	{ op_fsync,         {  1,  2,  1,  1 } },
	{ op_ioctl_random,  {  4,  3,  2,  2 } },
	{ op_mmap,          {  5,  4,  1,  1 } },
	{ op_touch,         {  6,  5,  0,  0 } },
	{ op_remap,         {  3,  3,  0,  0 } },
	{ op_text_write,    {  2, 12,  3, 18 } },
	{ op_text_read,     {  6,  8,  5,  8 } },
	{ op_chr_submit,    { 14,  0,  0,  0 } },
	{ op_blk_ioctl,     {  0,  8,  0,  0 } },
	{ op_rd_switch,     {  0,  3,  0,  0 } },
	{ op_pt_query,      {  0,  0, 20,  0 } },
	{ op_cs_toggle,     {  0,  0,  0,  6 } },
};
#define NR_OPS (sizeof(ops) / sizeof(ops[0]))

static uint64_t op_ns[NR_OPS];

static void cleanup(void)
{
	disarm();
	close_all();
	unmap_all();
	reap_kids(true);
	if (mod == M_CS && mod_loaded) {
		static const char *const f[] = { "enable", "filter_pid", "filter_tgid",
						 "filter_cpu", "follow_fork" };
		static const char *const v[] = { "0", "none", "none", "all", "0" };
		char path[128];
		int i, fd;

		for (i = 0; i < 5; i++) {
			snprintf(path, sizeof(path), DBG "/cstrace/%s", f[i]);
			fd = open(path, O_WRONLY | O_CLOEXEC);
			if (fd >= 0) {
				if (write(fd, v[i], strlen(v[i])) < 0)
					fprintf(stderr, "%s: %m\n", path);
				close(fd);
			}
		}
	}
}

static void summary(void)
{
	int i;

	printf("calls per entry point:");
	for (i = 0; i < EP_MAX; i++)
		if (ep_calls[i])
			printf(" %s %llu (%llu ok)", ep_names[i], U(ep_calls[i]), U(ep_ok[i]));
	printf("\nerrnos:");
	for (i = 0; i < 512; i++)
		if (errhist[i] || errhist_inj[i])
			printf(" %s %llu%s", errname(i), U(errhist[i] + errhist_inj[i]),
			       errhist_inj[i] ? "*" : "");
	printf("  (* some with a fault injected)\n");
	if (verbose) {
		printf("ms per operation:");
		for (i = 0; i < (int)NR_OPS; i++)
			if (op_ns[i])
				printf(" %d:%llu", i, U(op_ns[i] / 1000000));
		printf("\n");
	}
	printf("faults injected %llu, signals caught: SIGBUS %llu, SIGSEGV %llu, children killed by a signal %llu\n",
	       U(faults), U(sigbus), U(sigsegv), U(kid_sigs));
	printf("module loads: %llu attempted, %llu succeeded\n", U(loads_tried), U(loads_ok));
	printf("slowest call: %.1f s, %s\n", slowest_s, slowest_desc);
	printf("fuzz %s: seed %llu, %llu calls, %llu faults injected, %llu improper results, %lld s\n",
	       mod_names[mod], U(seed), U(total), U(faults), U(improper),
	       (long long)(time(NULL) - t_start));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: shikumi-fuzz chrdev|ramdisk|ptdump|cstrace [--calls N] [--seed S]\n"
		"       [--fail-nth PCT] [--ko PATH] [--loads N] [--time SEC]\n"
		"       [--keep-going] [-v]\n");
	exit(2);
}

/*
 * The stack grows on a fault, and growing it allocates (on 6.1 the
 * maple tree's nodes, in expand_downwards()): an allocation failure
 * injected then, while the fuzzer's own code runs between pre() and the
 * call, is a SIGSEGV of the fuzzer's, not of the module's.  So the stack
 * is grown by 1 MiB at the start, and mlockall() keeps it.
 */
static void __attribute__((noinline)) grow_stack(void)
{
	volatile char pad[1 << 20];
	size_t i;

	for (i = 0; i < sizeof(pad); i += PAGE)
		pad[i] = 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	uint64_t x, w[NR_OPS], wsum = 0, next_load = ~0ULL, load_every = 0;
	bool have_seed = false;
	size_t i;
	int a;

	if (argc < 2)
		usage();
	for (i = 0; i < 4; i++)
		if (!strcmp(argv[1], mod_names[i]) || !strcmp(argv[1], mod_kname[i]))
			break;
	if (i == 4)
		usage();
	mod = i;
	for (a = 2; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!strcmp(o, "--keep-going")) {
			keep_going = true;
			continue;
		}
		if (!strcmp(o, "-v")) {
			verbose = true;
			continue;
		}
		if (!v)
			usage();
		a++;
		if (!strcmp(o, "--calls"))
			max_calls = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--seed"))
			seed = strtoull(v, NULL, 0), have_seed = true;
		else if (!strcmp(o, "--fail-nth"))
			fail_pct = atoi(v);
		else if (!strcmp(o, "--ko"))
			snprintf(ko_path, sizeof(ko_path), "%s", v);
		else if (!strcmp(o, "--loads"))
			nr_loads = strtoull(v, NULL, 0);
		else if (!strcmp(o, "--time"))
			time_cap = atoi(v);
		else
			usage();
	}
	if (!have_seed && getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = time(NULL) ^ ((uint64_t)getpid() << 32);
	printf("seed %llu\n", U(seed));
	fflush(stdout);
	x = seed;
	for (i = 0; i < 4; i++)
		rs[i] = splitmix(&x);

	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_handler = on_alarm;
	sa.sa_flags = 0;		/* no SA_RESTART: a blocked call ends */
	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	t_start = time(NULL);

	setup_buffers();
	/*
	 * An allocation failure injected while this process pages in its own
	 * text (from 9p in the lab) is a read error, so SIGBUS: keep all of
	 * it resident, the grown stack with it.  Not MCL_FUTURE, which would
	 * populate the mappings under test.
	 */
	if (fail_pct)
		grow_stack();
	if (fail_pct && mlockall(MCL_CURRENT))
		fprintf(stderr, "mlockall: %m (an injected fault may hit our own pages)\n");
	{
		char p[128];

		snprintf(p, sizeof(p), "/sys/module/%s/initstate", mod_kname[mod]);
		mod_loaded = !access(p, F_OK);
	}
	if (!mod_loaded) {
		fprintf(stderr, "%s is not loaded\n", mod_kname[mod]);
		return 2;
	}
	if (nr_loads == ~0ULL)
		nr_loads = max_calls / 2000 < 50 ? max_calls / 2000 : 50;
	if (nr_loads && !find_ko()) {
		printf("no %s.ko found (%s): no module loads\n", mod_kname[mod], ko_path);
		nr_loads = 0;
	}
	if (nr_loads) {
		load_every = max_calls / (nr_loads + 1);
		next_load = load_every / 2 + below(load_every);
	}
	if (fail_pct) {
		fail_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
		if (fail_fd < 0) {
			printf("no /proc/thread-self/fail-nth (%m): running without fault injection\n");
			fail_pct = 0;
		}
	}
	enumerate();
	shadow_reset();
	if (!nr_nodes) {
		fprintf(stderr, "no files of %s found\n", mod_kname[mod]);
		return 2;
	}
	for (i = 0; i < NR_OPS; i++)
		wsum += w[i] = ops[i].w[mod];

	while (total < max_calls) {
		uint64_t r = below(wsum);

		if (total >= next_load) {
			op_reload();
			next_load = total + load_every / 2 + below(load_every);
			if (loads_tried >= nr_loads)
				next_load = ~0ULL;
			continue;
		}
		if (mod == M_CHR || mod == M_CS || mod == M_PT) {
			if (chance(1) && chance(20))
				op_fork_touch();
		} else if (chance(1) && chance(20)) {
			op_fork_touch();
		}
		for (i = 0; r >= w[i]; i++)
			r -= w[i];
		if (verbose) {
			struct timespec t0, t1;

			clock_gettime(CLOCK_MONOTONIC, &t0);
			ops[i].fn();
			clock_gettime(CLOCK_MONOTONIC, &t1);
			op_ns[i] += (t1.tv_sec - t0.tv_sec) * 1000000000ULL + t1.tv_nsec - t0.tv_nsec;
		} else {
			ops[i].fn();
		}
		if (time_cap && !(total & 255) && time(NULL) - t_start >= time_cap) {
			printf("time cap of %lld s reached\n", (long long)time_cap);
			break;
		}
		if (!(total & 1023))
			reap_kids(false);
	}

	cleanup();
	/* leave the module loaded with its defaults */
	if (loads_tried) {
		if (mod_loaded && !unload())
			return 1;
		if (!load("", false))
			return 1;
		cleanup();
	}
	summary();
	return improper ? 1 : 0;
}
