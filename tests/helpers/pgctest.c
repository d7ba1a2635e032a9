// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-pgctest: test helper for shikumi_pgcache (tests/pgcache.bats).
 * Each command checks the module's view of a file's page cache against
 * the kernel's other views of it, in one process, and exits 1 on any
 * difference.
 *
 *   shikumi-pgctest resident FILE	every page of FILE (a regular file or a
 *					block device): cached in the view iff
 *					mincore(2) says so; the totals against
 *					cachestat(2) where the kernel has it
 *   shikumi-pgctest flags FILE		map FILE shared, read some pages and
 *					write others: each mapped page's PFN
 *					and flags as /proc/PID/pagemap and
 *					/proc/kpageflags show them
 *   shikumi-pgctest dirty FILE N	write N pages of FILE: the view's dirty
 *					pages are N, and /proc/meminfo's
 *					Dirty + Writeback grew by as many
 *   shikumi-pgctest churn FILE SECS	truncate, rewrite and evict FILE in one
 *					thread while another reads the view:
 *					every read well-formed, none fails
 *   shikumi-pgctest large FILE N	N MiB of FILE, on a tmpfs mounted
 *					huge=always: 2 MiB folios in the view,
 *					compound heads and tails and THPs in
 *					kpageflags at pagemap's PFNs
 *
 * Flags of the view and of kpageflags are read a moment apart; a page
 * whose flags moved meanwhile (the view read twice disagrees with itself)
 * is read again, up to ten times, and a difference that stays fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <linux/kernel-page-flags.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <shikumi/pgcache.h>

#define CACHE		"/sys/kernel/debug/shikumi/pgcache/cache"
#define PAGE		4096UL
#define PM_PFN(e)	((e) & ((1ULL << 55) - 1))
#define PM_PRESENT	(1ULL << 63)
#define NR_CACHESTAT	451

/* the flags both the view and kpageflags show, by the same rules */
#define CMP_FLAGS	((1ULL << KPF_LOCKED) | (1ULL << KPF_REFERENCED) | \
			 (1ULL << KPF_UPTODATE) | (1ULL << KPF_DIRTY) | \
			 (1ULL << KPF_LRU) | (1ULL << KPF_ACTIVE) | \
			 (1ULL << KPF_WRITEBACK) | (1ULL << KPF_RECLAIM) | \
			 (1ULL << KPF_MMAP) | (1ULL << KPF_SWAPBACKED) | \
			 (1ULL << KPF_UNEVICTABLE) | (1ULL << KPF_COMPOUND_HEAD) | \
			 (1ULL << SHIKUMI_PGC_KPF_PRIVATE))

struct cachestat_range {
	uint64_t off, len;
};

struct cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* the view of one file: a record per cached page, by index */
struct view {
	struct shikumi_pgc_rec *page;	/* page[i].nr_pages == 0: not cached */
	uint64_t npages, cached, dirty, writeback, records;
};

/* Read the view of @fd, a descriptor of the file, into @v. */
static void view_read(int fd, uint64_t npages, struct view *v)
{
	struct shikumi_pgc_rec recs[256];
	char q[64];
	uint64_t i, k;
	ssize_t n;
	int cfd;

	free(v->page);
	memset(v, 0, sizeof(*v));
	v->npages = npages;
	v->page = calloc(npages + 1, sizeof(*v->page));
	if (!v->page)
		die("calloc");
	cfd = open(CACHE, O_RDWR | O_CLOEXEC);
	if (cfd < 0)
		die(CACHE);
	snprintf(q, sizeof(q), "fd=%d format=raw", fd);
	if (write(cfd, q, strlen(q)) != (ssize_t)strlen(q))
		die("query");
	while ((n = read(cfd, recs, sizeof(recs))) > 0) {
		if (n % sizeof(recs[0])) {
			fprintf(stderr, "a read of %zd bytes: not whole records\n", n);
			exit(1);
		}
		for (k = 0; k < (uint64_t)n / sizeof(recs[0]); k++) {
			const struct shikumi_pgc_rec *r = &recs[k];

			v->records++;
			if (!r->nr_pages || r->index >= npages + 512) {
				fprintf(stderr, "a bad record: index %" PRIu64 ", %u pages\n",
					(uint64_t)r->index, r->nr_pages);
				exit(1);
			}
			v->cached += r->nr_pages;
			if (r->flags & (1ULL << KPF_DIRTY))
				v->dirty += r->nr_pages;
			if (r->flags & (1ULL << KPF_WRITEBACK))
				v->writeback += r->nr_pages;
			for (i = r->index; i < r->index + r->nr_pages && i < npages; i++) {
				v->page[i] = *r;
				v->page[i].pfn = r->pfn + (i - r->index);
			}
		}
	}
	if (n < 0)
		die("read the view");
	close(cfd);
}

static uint64_t file_pages(int fd)
{
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st))
		die("fstat");
	size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size))
		die("BLKGETSIZE64");
	return (size + PAGE - 1) / PAGE;
}

/* ---- resident ------------------------------------------------------------ */

static int cmd_resident(const char *path)
{
	struct cachestat_range range = { 0, 0 };
	struct view v = { 0 };
	struct cachestat cs;
	uint64_t npages, i, bad = 0, in = 0;
	unsigned char *vec;
	void *map;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	npages = file_pages(fd);
	if (!npages) {
		fprintf(stderr, "%s is empty\n", path);
		return 1;
	}
	map = mmap(NULL, npages * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	vec = malloc(npages);
	if (map == MAP_FAILED || !vec)
		die("mmap");
	/* mincore() on a file's mapping reads the cache, faults nothing in */
	if (mincore(map, npages * PAGE, vec))
		die("mincore");
	view_read(fd, npages, &v);
	for (i = 0; i < npages; i++) {
		bool ours = v.page[i].nr_pages, theirs = vec[i] & 1;

		in += ours;
		if (ours != theirs && bad++ < 10)
			fprintf(stderr, "page %" PRIu64 ": %s in the view, %s to mincore\n",
				i, ours ? "cached" : "not cached", theirs ? "cached" : "not");
	}
	printf("resident: %" PRIu64 " of %" PRIu64 " pages cached, %" PRIu64
	       " differ from mincore\n", in, npages, bad);
	if (syscall(NR_CACHESTAT, fd, &range, &cs, 0) == 0) {
		printf("cachestat: cache %" PRIu64 " dirty %" PRIu64 " writeback %" PRIu64
		       "; the view: %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
		       (uint64_t)cs.nr_cache, (uint64_t)cs.nr_dirty,
		       (uint64_t)cs.nr_writeback, v.cached, v.dirty, v.writeback);
		if (cs.nr_cache != v.cached || cs.nr_dirty != v.dirty ||
		    cs.nr_writeback != v.writeback)
			bad++;
	} else if (errno == ENOSYS) {
		printf("cachestat: not in this kernel (6.5 and later)\n");
	} else {
		die("cachestat");
	}
	return bad ? 1 : 0;
}

/* ---- flags --------------------------------------------------------------- */

static uint64_t pread_u64(int fd, uint64_t index, const char *what)
{
	uint64_t e;

	if (pread(fd, &e, sizeof(e), (off_t)(index * sizeof(e))) != sizeof(e))
		die(what);
	return e;
}

static int cmd_flags(const char *path)
{
	struct view v = { 0 }, v2 = { 0 };
	uint64_t npages, i, checked = 0, bad = 0, e, pfn, kpf;
	int fd, pm, kf, tries;
	volatile char *map;

	fd = open(path, O_RDWR | O_CLOEXEC);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pm < 0 || kf < 0)
		die("open");
	npages = file_pages(fd);
	map = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	/* read every second page, write every fourth: clean and dirty, mapped */
	for (i = 0; i < npages; i += 2)
		(void)map[i * PAGE];
	for (i = 0; i < npages; i += 4)
		map[i * PAGE] = 1;
	for (i = 0; i < npages; i += 2) {
		e = pread_u64(pm, (uint64_t)(uintptr_t)(map + i * PAGE) / PAGE, "pagemap");
		if (!(e & PM_PRESENT) || !PM_PFN(e)) {
			fprintf(stderr, "page %" PRIu64 " is not mapped (pagemap %#" PRIx64 ")\n",
				i, e);
			return 1;
		}
		pfn = PM_PFN(e);
		for (tries = 0; tries < 10; tries++) {
			view_read(fd, npages, &v);
			kpf = pread_u64(kf, pfn, "kpageflags");
			view_read(fd, npages, &v2);
			if (v.page[i].pfn == pfn &&
			    (v.page[i].flags & CMP_FLAGS) == (kpf & CMP_FLAGS))
				break;
			/* still a difference while the page stood still: a bug */
			if (v.page[i].flags == v2.page[i].flags && v.page[i].pfn == v2.page[i].pfn &&
			    tries >= 2)
				break;
		}
		checked++;
		if (v.page[i].pfn != pfn ||
		    (v.page[i].flags & CMP_FLAGS) != (kpf & CMP_FLAGS)) {
			if (bad++ < 10)
				fprintf(stderr, "page %" PRIu64 ": the view says pfn %#" PRIx64
					" flags %#" PRIx64 ", pagemap pfn %#" PRIx64
					" and kpageflags %#" PRIx64 "\n", i,
					(uint64_t)v.page[i].pfn, (uint64_t)(v.page[i].flags & CMP_FLAGS),
					pfn, (uint64_t)(kpf & CMP_FLAGS));
		}
	}
	printf("flags: %" PRIu64 " mapped pages, %" PRIu64 " differ from pagemap and kpageflags\n",
	       checked, bad);
	/* and the mapped ones are mapped, the written ones dirty */
	for (i = 0; i < npages; i += 4) {
		if (!(v.page[i].flags & (1ULL << KPF_DIRTY)) ||
		    !(v.page[i].flags & (1ULL << KPF_MMAP))) {
			fprintf(stderr, "page %" PRIu64 " was written through a mapping: flags %#"
				PRIx64 "\n", i, (uint64_t)v.page[i].flags);
			bad++;
		}
	}
	return bad ? 1 : 0;
}

/* ---- dirty --------------------------------------------------------------- */

static int64_t meminfo_kb(const char *key)
{
	char line[256];
	size_t len = strlen(key);
	int64_t v = -1;
	int fd;
	FILE *f;

	/* fold the per-CPU counters into the totals first, or they lag */
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		die("/proc/sys/vm/stat_refresh");
	close(fd);
	f = fopen("/proc/meminfo", "re");
	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static int cmd_dirty(const char *path, uint64_t n)
{
	int64_t before, after, grew;
	char buf[PAGE];
	struct view v = { 0 };
	uint64_t i;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	memset(buf, 'd', sizeof(buf));
	before = meminfo_kb("Dirty") + meminfo_kb("Writeback");
	for (i = 0; i < n; i++)
		if (pwrite(fd, buf, sizeof(buf), (off_t)(i * PAGE)) != sizeof(buf))
			die("pwrite");
	view_read(fd, n, &v);
	after = meminfo_kb("Dirty") + meminfo_kb("Writeback");
	grew = (after - before) / 4;
	printf("dirty: wrote %" PRIu64 " pages; the view: %" PRIu64 " dirty, %" PRIu64
	       " writeback; meminfo's Dirty + Writeback grew by %" PRId64 " pages\n",
	       n, v.dirty, v.writeback, grew);
	if (v.dirty + v.writeback != n || v.cached != n)
		return 1;
	/* the filesystem's own metadata may add a few dirty blocks */
	if (grew < (int64_t)n || grew > (int64_t)n + 64)
		return 1;
	if (fsync(fd))
		die("fsync");
	view_read(fd, n, &v);
	printf("dirty: after fsync %" PRIu64 " dirty, %" PRIu64 " writeback\n",
	       v.dirty, v.writeback);
	return v.dirty || v.writeback ? 1 : 0;
}

/* ---- churn --------------------------------------------------------------- */

static volatile bool churn_stop;

static void *churn_writer(void *arg)
{
	const char *path = arg;
	char buf[PAGE * 4];
	unsigned int seed = 1;
	int fd;

	memset(buf, 'c', sizeof(buf));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(path);
	while (!churn_stop) {
		off_t off = (off_t)(rand_r(&seed) % 256) * PAGE;

		switch (rand_r(&seed) % 4) {
		case 0:
			if (ftruncate(fd, (off_t)(rand_r(&seed) % 256) * PAGE))
				die("ftruncate");
			break;
		case 1:
			posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			break;
		default:
			if (pwrite(fd, buf, sizeof(buf), off) < 0)
				die("pwrite");
		}
	}
	close(fd);
	return NULL;
}

static int cmd_churn(const char *path, int secs)
{
	struct shikumi_pgc_rec recs[64];
	uint64_t reads = 0, records = 0, last;
	char q[64];
	pthread_t t;
	time_t end;
	ssize_t n;
	int fd, cfd, bad = 0;
	bool first;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	cfd = open(CACHE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || cfd < 0)
		die("open");
	if (pthread_create(&t, NULL, churn_writer, (void *)path))
		die("pthread_create");
	end = time(NULL) + secs;
	while (time(NULL) < end && !bad) {
		snprintf(q, sizeof(q), "fd=%d format=raw", fd);
		if (write(cfd, q, strlen(q)) != (ssize_t)strlen(q))
			die("query");
		first = true;
		last = 0;
		while ((n = read(cfd, recs, sizeof(recs))) > 0) {
			for (size_t k = 0; k < (size_t)n / sizeof(recs[0]); k++) {
				/* indexes rise; every folio has pages */
				if (!recs[k].nr_pages || (!first && recs[k].index < last)) {
					fprintf(stderr, "record %" PRIu64 ": index %" PRIu64
						" after %" PRIu64 ", %u pages\n", records,
						(uint64_t)recs[k].index, last, recs[k].nr_pages);
					bad = 1;
				}
				last = recs[k].index + recs[k].nr_pages;
				first = false;
				records++;
			}
		}
		if (n < 0) {
			perror("read the view");
			bad = 1;
		}
		reads++;
	}
	churn_stop = true;
	pthread_join(t, NULL);
	printf("churn: %" PRIu64 " views read, %" PRIu64 " records, all well-formed: %s\n",
	       reads, records, bad ? "no" : "yes");
	return bad;
}

/* ---- large --------------------------------------------------------------- */

/*
 * FILE is on a tmpfs mounted huge=always, N MiB of it written: every 2 MiB
 * of it is one folio of 512 pages in the view, whose PFN is the one
 * pagemap gives for its first page, a compound head and a THP in
 * kpageflags, its other pages compound tails at the PFNs that follow; and
 * /proc/meminfo's ShmemHugePages holds at least as much.
 */
static int cmd_large(const char *path, uint64_t mib)
{
	uint64_t npages = mib << 8, i, e, kpf, large = 0, bad = 0;
	int64_t huge_kb;
	struct view v = { 0 };
	volatile char *map;
	int fd, pm, kf;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	kf = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pm < 0 || kf < 0)
		die("open");
	if (ftruncate(fd, (off_t)(npages * PAGE)))
		die("ftruncate");
	map = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		die("mmap");
	for (i = 0; i < npages; i++)
		map[i * PAGE] = 1;
	view_read(fd, npages, &v);
	for (i = 0; i < npages; i++) {
		const struct shikumi_pgc_rec *r = &v.page[i];

		e = pread_u64(pm, (uint64_t)(uintptr_t)(map + i * PAGE) / PAGE, "pagemap");
		kpf = pread_u64(kf, PM_PFN(e), "kpageflags");
		if (r->nr_pages != 512 || r->index != (i & ~511ULL) || r->pfn != PM_PFN(e) ||
		    !(r->flags & (1ULL << KPF_COMPOUND_HEAD)) ||
		    !(kpf & (1ULL << (i % 512 ? KPF_COMPOUND_TAIL : KPF_COMPOUND_HEAD))) ||
		    !(kpf & (1ULL << KPF_THP))) {
			if (bad++ < 10)
				fprintf(stderr, "page %" PRIu64 ": the view says a folio at %"
					PRIu64 " of %u pages, pfn %#" PRIx64 " flags %#" PRIx64
					"; pagemap pfn %#" PRIx64 ", kpageflags %#" PRIx64 "\n",
					i, (uint64_t)r->index, r->nr_pages, (uint64_t)r->pfn,
					(uint64_t)r->flags, (uint64_t)PM_PFN(e), kpf);
			continue;
		}
		large += !(i % 512);
	}
	huge_kb = meminfo_kb("ShmemHugePages");
	printf("large: %" PRIu64 " folios of 2 MiB in %" PRIu64 " records, %" PRIu64
	       " pages differ from pagemap and kpageflags; ShmemHugePages %" PRId64 " kB\n",
	       large, v.records, bad, huge_kb);
	if (v.records != npages / 512 || huge_kb < (int64_t)(npages * 4))
		bad++;
	munmap((void *)map, npages * PAGE);
	close(fd);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "resident"))
		return cmd_resident(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "flags"))
		return cmd_flags(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "dirty"))
		return cmd_dirty(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "churn"))
		return cmd_churn(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "large"))
		return cmd_large(argv[2], strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: shikumi-pgctest resident|flags FILE | dirty FILE N | churn FILE SECS | large FILE MiB\n");
	return 2;
}
