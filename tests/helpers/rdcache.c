// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-rdcache: test helper for the ramdisk's volatile write cache and
 * power cuts (tests/ramdisk-cache.bats), many checks in one process.
 *
 *   shikumi-rdcache raw DISK		checks 1-4 on the raw device
 *   shikumi-rdcache ext4 DISK MNT	check 5: an fsync on ext4, against
 *					ftrace's block events
 *   shikumi-rdcache loop DISK MNT N	check 6: N torn cuts of ext4 under
 *					a write load; fsck and checksums
 *
 * DISK is e.g. shikumi-ram0, with ext4 already made on it for ext4 and
 * loop.  What is checked comes from outside the module where it can: the
 * content read back against what was written before and after the last
 * flush, the queue's own write_cache and fua files, ftrace's block_rq_issue
 * and block_rq_complete (rwbs FF: a flush, W.F: a FUA write), fsck.ext4.
 * Prints "ok ..." per check and every failure; exits 1 on any.
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <sys/syscall.h>
#include <shikumi/ramdisk.h>

#include "rdstats.h"

#define TRACEFS		"/sys/kernel/tracing"
#define SECTOR		512
#define REGION		(64 * 1024)		/* bytes of each region */
#define REGION_SECTORS	(REGION / SECTOR)

static const char *disk;
static char dev[128];
static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
	failures++;
}

static void die(const char *what)
{
	printf("FAIL: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- files ---------------------------------------------------------- */

static int put(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, v, strlen(v)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void get(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		die(path);
	n = read(fd, buf, size - 1);
	if (n < 0)
		die(path);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	close(fd);
}

static void ctl(const char *key, const char *v)
{
	char p[256];
	int err;

	snprintf(p, sizeof(p), "/sys/block/%s/shikumi/%s", disk, key);
	err = put(p, v);
	if (err) {
		errno = -err;
		die(p);
	}
}

static void queue_get(const char *key, char *buf, size_t size)
{
	char p[256];

	snprintf(p, sizeof(p), "/sys/block/%s/queue/%s", disk, key);
	get(p, buf, size);
}

/* One value of the debugfs stats */
static uint64_t stat_of(const char *key)
{
	unsigned long long v = 0;

	if (rd_stat(disk, key, &v) < 0)
		die("the disk's debugfs stats");
	return v;
}

/* ---- data ------------------------------------------------------------ */

/* the content of a sector in generation @gen: every word says which */
static void fill(uint64_t *buf, uint64_t first_sector, size_t bytes, uint64_t gen)
{
	size_t i;

	for (i = 0; i < bytes / 8; i++)
		buf[i] = shikumi_blk_torn_mix(gen << 40 ^ (first_sector + i / 64) << 8 ^ (i % 64));
}

static void *xalloc(size_t n)
{
	void *p;

	if (posix_memalign(&p, 4096, n))
		die("posix_memalign");
	return p;
}

static void pwrite_all(int fd, const void *buf, size_t n, off_t off)
{
	if (pwrite(fd, buf, n, off) != (ssize_t)n)
		die("pwrite");
}

static void pread_all(int fd, void *buf, size_t n, off_t off)
{
	if (pread(fd, buf, n, off) != (ssize_t)n)
		die("pread");
}

/* write generation @gen to region @r (64 KiB at r * 64 KiB) */
static void region_write(int fd, int r, uint64_t gen)
{
	uint64_t *buf = xalloc(REGION);

	fill(buf, (uint64_t)r * REGION_SECTORS, REGION, gen);
	pwrite_all(fd, buf, REGION, (off_t)r * REGION);
	free(buf);
}

/*
 * Write generation @gen to region @r with FUA alone: an asynchronous
 * RWF_DSYNC write (Linux AIO) on O_DIRECT.  A synchronous O_DSYNC write
 * to a block device is FUA too, but the kernel then sends a flush
 * (generic_write_sync()), which makes every write durable; the async
 * path completes on the FUA write itself.
 */
static void region_write_fua(int fd, int r, uint64_t gen)
{
	struct iocb cb = { 0 }, *cbs[1] = { &cb };
	uint64_t *buf = xalloc(REGION);
	aio_context_t ctx = 0;
	struct io_event ev;

	fill(buf, (uint64_t)r * REGION_SECTORS, REGION, gen);
	if (syscall(SYS_io_setup, 1, &ctx))
		die("io_setup");
	cb.aio_fildes = fd;
	cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	cb.aio_buf = (uintptr_t)buf;
	cb.aio_nbytes = REGION;
	cb.aio_offset = (int64_t)r * REGION;
	cb.aio_rw_flags = RWF_DSYNC;
	if (syscall(SYS_io_submit, ctx, 1, cbs) != 1)
		die("io_submit");
	if (syscall(SYS_io_getevents, ctx, 1, 1, &ev, NULL) != 1)
		die("io_getevents");
	if (ev.res != REGION)
		fail("the RWF_DSYNC write returned %lld", (long long)ev.res);
	syscall(SYS_io_destroy, ctx);
	free(buf);
}

/*
 * Which generation each sector of region @r holds, of @a and @b: a bitmap
 * (1: @b) in @is_b; -1 if a sector holds neither.
 */
static int region_which(int fd, int r, uint64_t a, uint64_t b, bool *is_b)
{
	uint64_t *buf = xalloc(REGION), *ea = xalloc(SECTOR), *eb = xalloc(SECTOR);
	uint64_t s0 = (uint64_t)r * REGION_SECTORS;
	int s, ret = 0;

	pread_all(fd, buf, REGION, (off_t)r * REGION);
	for (s = 0; s < REGION_SECTORS; s++) {
		fill(ea, s0 + s, SECTOR, a);
		fill(eb, s0 + s, SECTOR, b);
		if (!memcmp(buf + s * 64, eb, SECTOR))
			is_b[s] = true;
		else if (!memcmp(buf + s * 64, ea, SECTOR))
			is_b[s] = false;
		else
			ret = -1;
	}
	free(buf);
	free(ea);
	free(eb);
	return ret;
}

/* region @r holds generation @gen exactly */
static void expect_region(int fd, int r, uint64_t gen, const char *what)
{
	bool is_b[REGION_SECTORS];
	int s;

	if (region_which(fd, r, ~0ULL, gen, is_b)) {
		fail("%s: region %d holds something else than generation %" PRIu64,
		     what, r, gen);
		return;
	}
	for (s = 0; s < REGION_SECTORS; s++)
		if (!is_b[s]) {
			fail("%s: region %d sector %d is not generation %" PRIu64,
			     what, r, s, gen);
			return;
		}
}

static void cut(const char *how)
{
	char v[64];

	snprintf(v, sizeof(v), "off%s%s", how[0] ? " " : "", how);
	ctl("power", v);
}

/* while off, reads and writes fail with EIO */
static void expect_eio(int fd)
{
	void *buf = xalloc(4096);

	errno = 0;
	if (pread(fd, buf, 4096, 0) != -1 || errno != EIO)
		fail("a read while the power is off: %s, not EIO", strerror(errno));
	errno = 0;
	if (pwrite(fd, buf, 4096, 0) != -1 || errno != EIO)
		fail("a write while the power is off: %s, not EIO", strerror(errno));
	free(buf);
}

/* ---- raw: checks 1 to 4 ---------------------------------------------- */

static void raw_cache_off(int fd)
{
	char v[64];

	ctl("write_cache", "0");
	queue_get("write_cache", v, sizeof(v));
	if (strcmp(v, "write through"))
		fail("cache off: queue/write_cache says '%s'", v);
	region_write(fd, 0, 1);
	cut("");
	expect_eio(fd);
	ctl("power", "on");
	expect_region(fd, 0, 1, "cache off, plain cut");
	printf("ok 1 cache off: a cut loses nothing, queue says write through\n");
}

static void raw_cache_on(int fd, int dsync_fd)
{
	uint64_t dropped = stat_of("cut_sectors_dropped"), flushes, fua;
	char v[64];
	int r;

	ctl("write_cache", "1");
	queue_get("write_cache", v, sizeof(v));
	if (strcmp(v, "write back"))
		fail("cache on: queue/write_cache says '%s'", v);
	queue_get("fua", v, sizeof(v));
	if (strcmp(v, "1"))
		fail("cache on: queue/fua says '%s'", v);
	for (r = 0; r < 4; r++)
		region_write(fd, r, 10);
	if (fsync(fd))
		die("fsync");
	/* O_DSYNC|O_DIRECT: FUA, then a flush */
	flushes = stat_of("cache_flushes");
	fua = stat_of("cache_fua_writes");
	region_write(dsync_fd, 2, 11);		/* kept */
	if (stat_of("cache_flushes") != flushes + 1 ||
	    stat_of("cache_fua_writes") != fua + 1)
		fail("an O_DSYNC|O_DIRECT write: %" PRIu64 " flushes and %" PRIu64
		     " FUA writes, not 1 and 1", stat_of("cache_flushes") - flushes,
		     stat_of("cache_fua_writes") - fua);
	region_write(fd, 0, 11);		/* lost */
	flushes = stat_of("cache_flushes");
	region_write_fua(fd, 1, 11);		/* FUA alone: kept */
	if (stat_of("cache_flushes") != flushes ||
	    stat_of("cache_fua_writes") != fua + 2)
		fail("an async RWF_DSYNC write: %" PRIu64 " flushes and %" PRIu64
		     " FUA writes, not 0 and 1", stat_of("cache_flushes") - flushes,
		     stat_of("cache_fua_writes") - fua - 1);
	region_write(fd, 3, 11);		/* lost */
	if (stat_of("cache_log_pages") != 2 * REGION / 4096)
		fail("the log holds %" PRIu64 " pages, not %d",
		     stat_of("cache_log_pages"), 2 * REGION / 4096);
	cut("");
	expect_eio(fd);
	ctl("power", "on");
	expect_region(fd, 0, 10, "unflushed write, plain cut");
	expect_region(fd, 1, 11, "FUA write, plain cut");
	expect_region(fd, 2, 11, "O_DSYNC|O_DIRECT write, plain cut");
	expect_region(fd, 3, 10, "unflushed write, plain cut");
	if (stat_of("cut_sectors_dropped") - dropped != 2 * REGION_SECTORS)
		fail("the cut dropped %" PRIu64 " sectors, not %d",
		     stat_of("cut_sectors_dropped") - dropped, 2 * REGION_SECTORS);
	printf("ok 2 cache on: O_DSYNC and FUA writes survive a cut, unflushed ones go back to their old content\n");
}

/*
 * A torn cut of region 0 rewritten from generation @old to @new, with
 * region 1 written with FUA and region 2 fsynced: which sectors of region
 * 0 were kept, in @kept_map; their number.
 */
static int torn_once(int fd, int dsync_fd, const char *how, uint64_t old,
		     uint64_t new, bool *kept_map, uint64_t *seed)
{
	uint64_t k0 = stat_of("cut_sectors_kept"), d0 = stat_of("cut_sectors_dropped");
	uint64_t base = 0, kept, dropped;
	int s, n = 0;

	region_write(fd, 0, old);
	if (fsync(fd))
		die("fsync");
	region_write(dsync_fd, 2, new);
	region_write(fd, 0, new);
	region_write_fua(fd, 1, new);
	cut(how);
	expect_eio(fd);
	ctl("power", "on");
	*seed = stat_of("cut_last_seed");
	if (region_which(fd, 0, old, new, kept_map))
		fail("torn: a sector of region 0 is neither old nor new");
	expect_region(fd, 1, new, "FUA write, torn cut");
	expect_region(fd, 2, new, "O_DSYNC write, torn cut");
	for (s = 0; s < REGION_SECTORS; s++)
		n += kept_map[s];
	for (s = 0; s < REGION_SECTORS; s++) {
		bool want = shikumi_blk_torn_mix(*seed + base + s) >> 63;

		if (kept_map[s] != want) {
			fail("torn seed %" PRIu64 ": sector %d %s, the seed says %s",
			     *seed, s, kept_map[s] ? "kept" : "dropped",
			     want ? "kept" : "dropped");
			break;
		}
	}
	kept = stat_of("cut_sectors_kept") - k0;
	dropped = stat_of("cut_sectors_dropped") - d0;
	if (kept != (uint64_t)n || kept + dropped != REGION_SECTORS)
		fail("torn: stats say %" PRIu64 " kept + %" PRIu64 " dropped; read back %d kept of %d",
		     kept, dropped, n, REGION_SECTORS);
	return n;
}

static void raw_torn(int fd, int dsync_fd)
{
	bool map1[REGION_SECTORS], map2[REGION_SECTORS], map3[REGION_SECTORS];
	bool map4[REGION_SECTORS];
	uint64_t seed1, seed2, seed3, seed4;
	int k1, k2, k3, k4;

	k1 = torn_once(fd, dsync_fd, "torn 12345", 20, 21, map1, &seed1);
	k2 = torn_once(fd, dsync_fd, "torn 12345", 20, 21, map2, &seed2);
	if (seed1 != 12345 || seed2 != 12345)
		fail("torn: last seed %" PRIu64 ", %" PRIu64 ", not 12345", seed1, seed2);
	if (k1 != k2 || memcmp(map1, map2, sizeof(map1)))
		fail("torn: seed 12345 replayed kept %d sectors, then %d, not the same ones",
		     k1, k2);
	if (!k1 || k1 == REGION_SECTORS)
		fail("torn: kept %d of %d", k1, REGION_SECTORS);
	/* a seed above INT64_MAX: the whole u64 range is a seed, both ways */
	k4 = torn_once(fd, dsync_fd, "torn 0xfedcba9876543210", 40, 41, map4, &seed4);
	if (seed4 != 0xfedcba9876543210ULL)
		fail("torn: last seed %" PRIu64 ", not 0xfedcba9876543210", seed4);
	k3 = torn_once(fd, dsync_fd, "torn", 30, 31, map3, &seed3);
	printf("ok 3 torn: seed 12345: %d non-durable sectors, %d kept, %d dropped; replayed: %d kept, the same; seed %" PRIu64 ": %d kept; random seed %" PRIu64 ": %d kept\n",
	       REGION_SECTORS, k1, REGION_SECTORS - k1, k2, seed4, k4, seed3, k3);
}

/* the cache destages when full, and when turned off */
static void raw_destage(int fd)
{
	uint64_t d0 = stat_of("cache_destages");
	int r;

	ctl("write_cache_kb", "1024");
	for (r = 0; r < 24; r++)	/* 1.5 MiB, unflushed */
		region_write(fd, 4 + r, 40);
	if (stat_of("cache_destages") == d0)
		fail("1.5 MiB unflushed in a 1 MiB cache: no destage");
	if (stat_of("cache_log_pages") * 4 > 1024)
		fail("the log holds %" PRIu64 " pages, over 1 MiB",
		     stat_of("cache_log_pages"));
	ctl("write_cache_kb", "16384");
	region_write(fd, 4, 41);
	d0 = stat_of("cache_destages");
	ctl("write_cache", "0");
	if (stat_of("cache_log_pages") || stat_of("cache_destages") != d0 + 1)
		fail("turning the cache off did not destage");
	cut("");
	ctl("power", "on");
	expect_region(fd, 4, 41, "destaged by turning the cache off");
	ctl("write_cache", "1");
	printf("ok 4 the cache destages when full and when turned off\n");
}

static int do_raw(void)
{
	int fd, dsync_fd;

	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	dsync_fd = open(dev, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
	if (fd < 0 || dsync_fd < 0)
		die(dev);
	raw_cache_off(fd);
	raw_cache_on(fd, dsync_fd);
	raw_torn(fd, dsync_fd);
	raw_destage(fd);
	ctl("write_cache", "0");
	close(dsync_fd);
	close(fd);
	return failures ? 1 : 0;
}

/* ---- ext4: check 5 ---------------------------------------------------- */

static char inst[128];

static void inst_put(const char *file, const char *v)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", inst, file);
	if (put(path, v)) {
		errno = EIO;
		die(path);
	}
}

struct counts {
	unsigned int issue_flush, issue_fua, done_flush, done_fua;
};

/* rwbs FF: a flush (REQ_OP_FLUSH with PREFLUSH); W then F: a FUA write */
static void count_rwbs(const char *rwbs, unsigned int *flush, unsigned int *fua)
{
	if (rwbs[0] == 'F' && rwbs[1] == 'F')
		(*flush)++;
	else if (rwbs[0] == 'W' && rwbs[1] == 'F')
		(*fua)++;
}

static void ftrace_counts(struct counts *c)
{
	char path[256], line[512], rwbs[16];
	unsigned int ma, mi;
	const char *p;
	FILE *f;

	memset(c, 0, sizeof(*c));
	inst_put("tracing_on", "0");
	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		bool issue = strstr(line, "block_rq_issue: ");

		p = strstr(line, issue ? "block_rq_issue: " : "block_rq_complete: ");
		if (!p)
			continue;
		p = strchr(p, ':') + 2;
		if (sscanf(p, "%u,%u %15s", &ma, &mi, rwbs) != 3)
			continue;
		if (issue)
			count_rwbs(rwbs, &c->issue_flush, &c->issue_fua);
		else
			count_rwbs(rwbs, &c->done_flush, &c->done_fua);
	}
	fclose(f);
}

static int do_ext4(const char *mnt)
{
	uint64_t f0, u0, flushes, fua;
	char path[256], filter[64];
	struct counts c;
	struct stat st;
	void *buf;
	int fd;

	if (stat(dev, &st))
		die(dev);
	snprintf(inst, sizeof(inst), TRACEFS "/instances/shikumi-rdcache-%d", getpid());
	if (mkdir(inst, 0700))
		die(inst);
	snprintf(filter, sizeof(filter), "dev == %u",
		 major(st.st_rdev) << 20 | minor(st.st_rdev));
	inst_put("events/block/block_rq_issue/filter", filter);
	inst_put("events/block/block_rq_complete/filter", filter);
	inst_put("events/block/block_rq_issue/enable", "1");
	inst_put("events/block/block_rq_complete/enable", "1");

	snprintf(path, sizeof(path), "%s/fsynced", mnt);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	buf = xalloc(65536);
	fill(buf, 0, 65536, 50);
	if (write(fd, buf, 65536) != 65536)
		die("write");
	f0 = stat_of("cache_flushes");
	u0 = stat_of("cache_fua_writes");
	inst_put("tracing_on", "1");
	if (fsync(fd))
		die("fsync");
	ftrace_counts(&c);
	flushes = stat_of("cache_flushes") - f0;
	fua = stat_of("cache_fua_writes") - u0;
	close(fd);
	free(buf);
	inst_put("events/block/block_rq_issue/enable", "0");
	inst_put("events/block/block_rq_complete/enable", "0");
	if (rmdir(inst))
		perror(inst);

	if (!c.issue_flush || !c.issue_fua)
		fail("ext4 fsync: ftrace saw %u flushes and %u FUA writes issued",
		     c.issue_flush, c.issue_fua);
	/*
	 * Each completed: at least once.  A FUA write that also carries
	 * REQ_PREFLUSH (ext4's commit block) goes through blk-flush's state
	 * machine: the driver's blk_mq_end_request() traces its completion,
	 * and the machine's own blk_mq_end_request() at the end of the
	 * sequence traces it again.  A plain FUA write shows once.
	 */
	if (c.done_flush < c.issue_flush || c.done_fua < c.issue_fua)
		fail("ext4 fsync: %u/%u flushes and %u/%u FUA writes completed",
		     c.done_flush, c.issue_flush, c.done_fua, c.issue_fua);
	if (flushes != c.issue_flush || fua != c.issue_fua)
		fail("ext4 fsync: the disk counted %" PRIu64 " flushes and %" PRIu64
		     " FUA writes; ftrace %u and %u", flushes, fua, c.issue_flush,
		     c.issue_fua);
	printf("ok 5 ext4 fsync: %u flushes and %u FUA writes in ftrace's block events, %" PRIu64
	       " and %" PRIu64 " in the disk's stats\n", c.issue_flush, c.issue_fua,
	       flushes, fua);
	return failures ? 1 : 0;
}

/* ---- loop: check 6 ----------------------------------------------------- */

#define FILES_PER_ROUND	4
#define FILE_BYTES	(16 * 1024)

static uint64_t sum(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ULL;
	return h;
}

static void write_file(const char *mnt, const char *name, uint64_t gen,
		       bool durable, uint64_t *csum)
{
	char path[256];
	void *buf = xalloc(FILE_BYTES);
	int fd;

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	fill(buf, gen, FILE_BYTES, gen);
	if (write(fd, buf, FILE_BYTES) != FILE_BYTES)
		die(path);
	if (durable && fsync(fd))
		die("fsync");
	/* not durable: the data goes to the disk's cache, not further */
	if (!durable && sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE |
					SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER))
		die("sync_file_range");
	if (csum)
		*csum = sum(buf, FILE_BYTES);
	close(fd);
	free(buf);
}

static int check_file(const char *mnt, const char *name, uint64_t csum)
{
	char path[256];
	void *buf = xalloc(FILE_BYTES);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, FILE_BYTES);
	if (fd >= 0)
		close(fd);
	if (n != FILE_BYTES || sum(buf, FILE_BYTES) != csum) {
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

static int run(const char *const argv[])
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void xmount(const char *mnt)
{
	if (mount(dev, mnt, "ext4", 0, "no_prefetch_block_bitmaps"))
		die("mount");
}

/* drop what the page cache of the device kept from before the cut */
static void flush_bdev(void)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die(dev);
	ioctl(fd, BLKFLSBUF, 0);	/* fails to write back: the power is off */
	close(fd);
}

static int do_loop(const char *mnt, int rounds)
{
	static uint64_t csums[64][FILES_PER_ROUND];
	const char *const fsck[] = { "fsck.ext4", "-fn", dev, NULL };
	uint64_t kept = 0, dropped = 0, k0, d0;
	char name[64];
	int r, i, j, bad;

	if (rounds > 64)
		rounds = 64;
	for (r = 0; r < rounds; r++) {
		uint64_t seed = 1000 + r;
		char how[32];

		xmount(mnt);
		for (i = 0; i < FILES_PER_ROUND; i++) {
			snprintf(name, sizeof(name), "durable-%d-%d", r, i);
			write_file(mnt, name, (uint64_t)r * 16 + i, true, &csums[r][i]);
			snprintf(name, sizeof(name), "volatile-%d-%d", r, i);
			write_file(mnt, name, 1000 + (uint64_t)r * 16 + i, false, NULL);
		}
		k0 = stat_of("cut_sectors_kept");
		d0 = stat_of("cut_sectors_dropped");
		snprintf(how, sizeof(how), "torn %" PRIu64, seed);
		cut(how);
		umount2(mnt, 0);
		flush_bdev();
		ctl("power", "on");
		kept += stat_of("cut_sectors_kept") - k0;
		dropped += stat_of("cut_sectors_dropped") - d0;
		xmount(mnt);
		bad = 0;
		for (j = 0; j <= r; j++)
			for (i = 0; i < FILES_PER_ROUND; i++) {
				snprintf(name, sizeof(name), "durable-%d-%d", j, i);
				if (check_file(mnt, name, csums[j][i]))
					bad++;
			}
		if (umount2(mnt, 0))
			die("umount");
		if (bad)
			fail("round %d (seed %" PRIu64 "): %d fsynced files lost or changed",
			     r, seed, bad);
		if (run(fsck))
			fail("round %d (seed %" PRIu64 "): fsck.ext4 -fn finds problems", r, seed);
		printf("# round %d seed %" PRIu64 ": %" PRIu64 " kept, %" PRIu64 " dropped so far\n",
		       r, seed, kept, dropped);
		if (failures)
			break;
	}
	if (!dropped)
		fail("no cut dropped anything: the load left nothing non-durable");
	printf("ok 6 %d torn cuts of ext4: journal replayed, fsck clean, every fsynced file intact (%" PRIu64
	       " sectors kept, %" PRIu64 " dropped)\n", r, kept, dropped);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s raw|ext4|loop DISK [MNT [N]]\n", argv[0]);
		return 2;
	}
	disk = argv[2];
	snprintf(dev, sizeof(dev), "/dev/%s", disk);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "raw"))
		return do_raw();
	if (!strcmp(argv[1], "ext4") && argc == 4)
		return do_ext4(argv[3]);
	if (!strcmp(argv[1], "loop") && argc == 5)
		return do_loop(argv[3], atoi(argv[4]));
	fprintf(stderr, "usage: %s raw|ext4|loop DISK [MNT [N]]\n", argv[0]);
	return 2;
}
