// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-rdorigin: test helper for the ramdisk's trace (tests/ramdisk.bats):
 * who submitted each request and why, against ftrace's block events.
 *
 *   shikumi-rdorigin DISK	e.g. shikumi-ram0
 *
 * In a private ftrace instance it records block_bio_queue (the task that
 * submits a bio) and block_rq_issue (a request's flags, as rwbs) for DISK,
 * while four workloads run on disjoint regions of the disk, each in a
 * child named for it:
 *   rd-reader	buffered reads after the cache is dropped: readahead
 *   rd-direct	O_DIRECT writes: sync, from the application itself
 *   rd-fsync	buffered writes and fsync: sync, from the application
 *   rd-dirty	buffered writes left dirty; with dirty_expire_centisecs and
 *		dirty_writeback_centisecs lowered, the flusher writes them
 *		back: background, from a kworker, never from rd-dirty
 * Then every read and write record of the driver's trace must name the
 * task that ftrace's block_bio_queue names for its first sector, and carry
 * the flags that block_rq_issue's rwbs shows (S sync, A readahead, M meta,
 * F fua or preflush), and each workload's records must look as above.
 * Exits 1 on any difference, after printing them all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shikumi/ramdisk.h>

#define TRACEFS		"/sys/kernel/tracing"
#define DEBUGFS		"/sys/kernel/debug/shikumi"
#define VM		"/proc/sys/vm/"
#define REGION		(16ULL << 20)	/* bytes between the workloads' regions */
#define MAX_EV		65536
#define MAX_REC		65536

struct event {
	bool write, used;
	uint64_t sector;
	int pid;
	char comm[17];
	char rwbs[16];
};

static char inst[128];
static int failures;
static char saved_expire[32], saved_writeback[32];

static void die(const char *what)
{
	fprintf(stderr, "rdorigin: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("rdorigin: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	failures++;
}

static void put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0 || write(fd, v, strlen(v)) != (ssize_t)strlen(v))
		die(path);
	close(fd);
}

static void get(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		die(path);
	n = read(fd, buf, size - 1);
	if (n < 0)
		die(path);
	buf[n] = '\0';
	close(fd);
}

static void inst_put(const char *file, const char *v)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", inst, file);
	put(path, v);
}

/* A private instance, so that the global trace is left alone. */
static void ftrace_start(dev_t dev)
{
	char filter[64];

	snprintf(inst, sizeof(inst), TRACEFS "/instances/shikumi-rdorigin-%d", getpid());
	if (mkdir(inst, 0700))
		die(inst);
	/* the kernel's dev_t: major << 20 | minor */
	snprintf(filter, sizeof(filter), "dev == %u", major(dev) << 20 | minor(dev));
	inst_put("buffer_size_kb", "8192");
	inst_put("events/block/block_bio_queue/filter", filter);
	inst_put("events/block/block_rq_issue/filter", filter);
	inst_put("events/block/block_bio_queue/enable", "1");
	inst_put("events/block/block_rq_issue/enable", "1");
	inst_put("tracing_on", "1");
}

static void ftrace_cleanup(void)
{
	if (!inst[0])
		return;
	inst_put("tracing_on", "0");
	inst_put("events/block/block_bio_queue/enable", "0");
	inst_put("events/block/block_rq_issue/enable", "0");
	if (rmdir(inst))
		perror(inst);
	inst[0] = '\0';
}

static void vm_restore(void)
{
	if (saved_expire[0])
		put(VM "dirty_expire_centisecs", saved_expire);
	if (saved_writeback[0])
		put(VM "dirty_writeback_centisecs", saved_writeback);
}

static void cleanup(void)
{
	vm_restore();
	ftrace_cleanup();
}

/* "  comm with spaces-123   [001] ..." : the pid after the comm's last '-' */
static int line_pid(const char *line)
{
	const char *cpu = strstr(line, " [");
	const char *dash;

	if (!cpu)
		return -1;
	for (dash = cpu; dash > line && *dash != '-'; dash--)
		;
	return *dash == '-' ? atoi(dash + 1) : -1;
}

/* One line of the instance's trace; 0 if it is not one of ours */
static int parse_event(const char *line, struct event *e)
{
	const char *p, *q;
	unsigned int maj, min, bytes;
	char rwbs[16];

	memset(e, 0, sizeof(*e));
	p = strstr(line, " block_bio_queue: ");
	if (p) {
		if (sscanf(p + 18, "%u,%u %15s %" SCNu64, &maj, &min, rwbs, &e->sector) != 4)
			return 0;
		q = strrchr(p, '[');
		if (!q)
			return 0;
		snprintf(e->comm, sizeof(e->comm), "%.*s", (int)strcspn(q + 1, "]"), q + 1);
		e->pid = line_pid(line);
		e->rwbs[0] = '\0';
	} else {
		p = strstr(line, " block_rq_issue: ");
		if (!p || sscanf(p + 17, "%u,%u %15s %u", &maj, &min, rwbs, &bytes) != 4)
			return 0;
		q = strstr(p, ") ");
		if (!q || sscanf(q + 2, "%" SCNu64, &e->sector) != 1)
			return 0;
		snprintf(e->rwbs, sizeof(e->rwbs), "%s", rwbs);
		e->pid = -1;
	}
	e->write = strchr(rwbs, 'W') != NULL;
	if (!e->write && !strchr(rwbs, 'R'))
		return 0;	/* a flush or a discard */
	return 1;
}

/* The instance's events: bio_queue ones in @q, rq_issue ones in @iss. */
static void ftrace_read(struct event *q, size_t *nq, struct event *iss, size_t *ni)
{
	char path[256], line[512];
	struct event e;
	FILE *f;

	inst_put("tracing_on", "0");
	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	if (!f)
		die(path);
	*nq = *ni = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !parse_event(line, &e))
			continue;
		if (e.pid >= 0 && *nq < MAX_EV)
			q[(*nq)++] = e;
		else if (e.pid < 0 && *ni < MAX_EV)
			iss[(*ni)++] = e;
	}
	fclose(f);
}

static size_t drain(const char *disk, struct shikumi_blk_trace *r, size_t max)
{
	char path[256];
	size_t n = 0;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), DEBUGFS "/%s/trace_raw", disk);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	while (n < max) {
		got = read(fd, r + n, (max - n) * sizeof(*r));
		if (got < 0)
			die(path);
		if (!got)
			break;
		n += (size_t)got / sizeof(*r);
	}
	close(fd);
	return n;
}

/* ---- the workloads ------------------------------------------------------ */

static void xpwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		die("pwrite");
}

static void work(const char *path, const char *name, int region)
{
	off_t off = (off_t)(region * REGION);
	static char buf[1 << 20] __attribute__((aligned(4096)));
	int fd, i;

	prctl(PR_SET_NAME, name);
	memset(buf, region, sizeof(buf));
	if (!strcmp(name, "rd-reader")) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))
			die(path);
		for (i = 0; i < 256; i++)
			if (pread(fd, buf, 4096, off + i * 4096) != 4096)
				die("pread");
	} else if (!strcmp(name, "rd-direct")) {
		fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		if (fd < 0)
			die(path);
		for (i = 0; i < 8; i++)
			xpwrite(fd, buf, 65536, off + i * 65536);
	} else {
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			die(path);
		xpwrite(fd, buf, 256 << 10, off);
		if (!strcmp(name, "rd-fsync") && fsync(fd))
			die("fsync");
	}
	close(fd);
	_exit(0);
}

static void run_work(const char *path, const char *name, int region)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid)
		work(path, name, region);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("workload %s failed", name);
}

/* The sectors written to @disk so far, from /sys/block/DISK/stat */
static uint64_t written(const char *disk)
{
	char path[128], buf[512];
	unsigned long long v[7];

	snprintf(path, sizeof(path), "/sys/block/%s/stat", disk);
	get(path, buf, sizeof(buf));
	if (sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6]) != 7)
		die(path);
	return v[6];
}

/* rd-dirty's pages, left for the flusher, which runs every 0.5 s now */
static void run_dirty(const char *path, const char *disk)
{
	uint64_t before = written(disk);
	int i;

	get(VM "dirty_expire_centisecs", saved_expire, sizeof(saved_expire));
	get(VM "dirty_writeback_centisecs", saved_writeback, sizeof(saved_writeback));
	put(VM "dirty_expire_centisecs", "50");
	put(VM "dirty_writeback_centisecs", "50");
	run_work(path, "rd-dirty", 4);
	for (i = 0; i < 600 && written(disk) < before + (256 << 10) / 512; i++)
		usleep(100000);
	vm_restore();
	if (i == 600)
		fail("the flusher did not write rd-dirty's pages back in 60 s");
}

/* ---- the comparison ----------------------------------------------------- */

/* The rwbs letters shikumi's flags stand for, in blk_fill_rwbs()'s order */
static void flags_rwbs(uint32_t f, bool write, char *out)
{
	if (f & SHIKUMI_BLK_F_PREFLUSH)
		*out++ = 'F';
	*out++ = write ? 'W' : 'R';
	if (f & SHIKUMI_BLK_F_FUA)
		*out++ = 'F';
	if (f & SHIKUMI_BLK_F_READAHEAD)
		*out++ = 'A';
	if (f & SHIKUMI_BLK_F_SYNC)
		*out++ = 'S';
	if (f & SHIKUMI_BLK_F_META)
		*out++ = 'M';
	*out = '\0';
}

/* The oldest unused event of @ev for (@write, @sector) */
static struct event *take(struct event *ev, size_t n, bool write, uint64_t sector)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ev[i].used && ev[i].write == write && ev[i].sector == sector) {
			ev[i].used = true;
			return &ev[i];
		}
	}
	return NULL;
}

struct tally {
	unsigned int records, reader, readahead, direct, direct_sync;
	unsigned int fsync, fsync_sync, flusher, flusher_bg, dirty_self;
};

static void check_workload(const struct shikumi_blk_trace *r, const char *comm,
			   struct tally *t)
{
	bool write = r->op == SHIKUMI_BLK_OP_WRITE;
	uint32_t f = r->flags;

	if (!strcmp(comm, "rd-reader") && !write) {
		t->reader++;
		t->readahead += !!(f & SHIKUMI_BLK_F_READAHEAD);
	} else if (!strcmp(comm, "rd-direct") && write) {
		t->direct++;
		t->direct_sync += !!(f & SHIKUMI_BLK_F_SYNC);
	} else if (!strcmp(comm, "rd-fsync") && write) {
		t->fsync++;
		t->fsync_sync += !!(f & SHIKUMI_BLK_F_SYNC);
	} else if (!strcmp(comm, "rd-dirty")) {
		t->dirty_self++;
	} else if (!strncmp(comm, "kworker", 7) && write &&
		   r->sector >= 4 * REGION / 512 && r->sector < 5 * REGION / 512) {
		t->flusher++;
		t->flusher_bg += (f & (SHIKUMI_BLK_F_BACKGROUND | SHIKUMI_BLK_F_SYNC)) ==
				 SHIKUMI_BLK_F_BACKGROUND;
	}
}

static void check_record(const struct shikumi_blk_trace *r, struct event *q, size_t nq,
			 struct event *iss, size_t ni, struct tally *t)
{
	bool write = r->op == SHIKUMI_BLK_OP_WRITE;
	char comm[17], rwbs[16];
	struct event *e;

	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(r->comm), r->comm);
	t->records++;
	e = take(q, nq, write, r->sector);
	if (!e)
		fail("seq %llu: %s of sector %llu by %d (%s): no block_bio_queue event",
		     (unsigned long long)r->seq, write ? "write" : "read",
		     (unsigned long long)r->sector, r->pid, comm);
	else if (e->pid != r->pid || strcmp(e->comm, comm))
		fail("seq %llu: sector %llu: the trace says %d (%s), block_bio_queue %d (%s)",
		     (unsigned long long)r->seq, (unsigned long long)r->sector,
		     r->pid, comm, e->pid, e->comm);
	e = take(iss, ni, write, r->sector);
	flags_rwbs(r->flags, write, rwbs);
	if (!e)
		fail("seq %llu: sector %llu: no block_rq_issue event",
		     (unsigned long long)r->seq, (unsigned long long)r->sector);
	else if (strcmp(e->rwbs, rwbs))
		fail("seq %llu: sector %llu: the trace's flags are %s, block_rq_issue's %s",
		     (unsigned long long)r->seq, (unsigned long long)r->sector,
		     rwbs, e->rwbs);
	check_workload(r, comm, t);
}

static void expect(const char *what, unsigned int got, unsigned int lo, unsigned int hi)
{
	if (got < lo || got > hi)
		fail("%s: %u, expected %u..%u", what, got, lo, hi);
}

static void check_tally(const struct tally *t)
{
	expect("rd-reader's reads", t->reader, 1, 256);
	expect("of them with readahead", t->readahead, 1, t->reader);
	expect("rd-direct's writes", t->direct, 1, 8);
	expect("of them with sync", t->direct_sync, t->direct, t->direct);
	expect("rd-fsync's writes", t->fsync, 1, 64);
	expect("of them with sync", t->fsync_sync, t->fsync, t->fsync);
	expect("writes of rd-dirty's region by a kworker", t->flusher, 1, 64);
	expect("of them background, not sync", t->flusher_bg, t->flusher, t->flusher);
	expect("requests submitted by rd-dirty itself", t->dirty_self, 0, 0);
}

int main(int argc, char **argv)
{
	static struct shikumi_blk_trace r[MAX_REC];
	static struct event q[MAX_EV], iss[MAX_EV];
	struct tally t = { 0 };
	char path[128];
	size_t n, nq, ni, i;
	struct stat st;
	int hold;

	if (argc != 2) {
		fprintf(stderr, "usage: shikumi-rdorigin DISK\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/dev/%s", argv[1]);
	/* held open: the last close would write the dirty pages back itself */
	hold = open(path, O_RDONLY | O_CLOEXEC);
	if (hold < 0 || fstat(hold, &st))
		die(path);
	atexit(cleanup);
	ftrace_start(st.st_rdev);
	drain(argv[1], r, MAX_REC);
	run_work(path, "rd-reader", 1);
	run_work(path, "rd-direct", 2);
	run_work(path, "rd-fsync", 3);
	run_dirty(path, argv[1]);
	ftrace_read(q, &nq, iss, &ni);
	n = drain(argv[1], r, MAX_REC);
	for (i = 0; i < n; i++)
		if (r[i].op == SHIKUMI_BLK_OP_READ || r[i].op == SHIKUMI_BLK_OP_WRITE)
			check_record(&r[i], q, nq, iss, ni, &t);
	check_tally(&t);
	printf("%u requests, each its submitter's and its flags as ftrace shows them; rd-reader %u (%u readahead), rd-direct %u (sync), rd-fsync %u (sync), the flusher %u (background) for rd-dirty; %u mismatches\n",
	       t.records, t.reader, t.readahead, t.direct, t.fsync, t.flusher, failures);
	close(hold);
	return failures ? 1 : 0;
}
