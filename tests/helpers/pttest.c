// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-pttest: test helper for shikumi_ptdump (tests/ptdump.bats).
 *
 *   shikumi-pttest hold [FILE]	make a process with heap, stack, a file
 *				mapping of FILE, anonymous memory and a THP,
 *				print its layout, then sleep until killed
 *   shikumi-pttest check PID	compare every present page of PID's dump
 *				with /proc/PID/pagemap (PID should be
 *				stopped); print the counts; exit 1 on any
 *				difference
 *   shikumi-pttest cow		fork, and check copy-on-write and MAP_SHARED
 *				in both processes' dumps and pagemaps
 *   shikumi-pttest churn SECS	fork, mmap, munmap and exit in a loop
 *   shikumi-pttest leader-exit	the main thread exits, a second thread runs
 *				on: prints "pid PID tid TID", then sleeps
 *   shikumi-pttest hugetlb	map 2 MiB hugetlb pages, shared and private,
 *				write them, print where, sleep until killed
 *   shikumi-pttest swap [hold]	write 8 MiB, swap most of it out
 *				(MADV_PAGEOUT: needs swap on), read a little
 *				back; check every page of its own dump against
 *				its /proc/self/pagemap: swap type and offset of
 *				the swapped, PFN of the present; print the
 *				counts and one swapped page; exit 1 on any
 *				difference; with hold, then sleep until killed
 *   shikumi-pttest swap-user	the same swap-out, unprivileged: does
 *				pagemap hide the swap offsets, and is the
 *				dump refused?
 *
 * It reads the dump in the raw format of <shikumi/ptdump.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shikumi/ptdump.h>

#include "proc.h"

#define DUMP		"/sys/kernel/debug/shikumi/ptdump/dump"
#define PAGE		4096UL
#define PM_PFN(e)	((e) & ((1ULL << 55) - 1))
#define PM_EXCLUSIVE	(1ULL << 56)
#define PM_FILE		(1ULL << 61)
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)

static void die(const char *what)
{
	perror(what);
	exit(2);
}

/* one page of a dump */
struct page_rec {
	uint64_t va, pfn, raw;
	uint32_t flags;
	int level;
};

struct dump {
	struct page_rec *p;
	size_t n, cap;
	uint64_t tables[SHIKUMI_PT_LEVELS], leaves[SHIKUMI_PT_LEVELS];
	uint64_t records;
};

/* Read PID's dump of [start, end) (0, 0: everything), page by page. */
static void dump_read(pid_t pid, uint64_t start, uint64_t end, struct dump *d)
{
	struct shikumi_pt_rec recs[512];
	char q[160];
	ssize_t n;
	int fd, i;
	uint64_t k, pages;

	memset(d, 0, sizeof(*d));
	fd = open(DUMP, O_RDWR);
	if (fd < 0)
		die(DUMP);
	if (end)
		snprintf(q, sizeof(q), "pid=%d view=full format=raw range=0x%" PRIx64 "-0x%" PRIx64,
			 pid, start, end);
	else
		snprintf(q, sizeof(q), "pid=%d view=full format=raw", pid);
	if (write(fd, q, strlen(q)) < 0)
		die("query");
	while ((n = read(fd, recs, sizeof(recs))) > 0) {
		if (n % sizeof(recs[0])) {
			fprintf(stderr, "read %zd bytes: not whole records\n", n);
			exit(2);
		}
		for (i = 0; i < n / (ssize_t)sizeof(recs[0]); i++) {
			struct shikumi_pt_rec *r = &recs[i];

			d->records++;
			if (r->type == SHIKUMI_PT_REC_STATS) {
				d->tables[r->level] = r->count;
				d->leaves[r->level] = r->leaves;
			}
			if (r->type != SHIKUMI_PT_REC_LEAF)
				continue;
			pages = r->level == SHIKUMI_PT_PTE ? 1 :
				r->level == SHIKUMI_PT_PMD ? 512 : 512 * 512;
			for (k = 0; k < pages; k++) {
				if (d->n == d->cap) {
					d->cap = d->cap ? 2 * d->cap : 4096;
					d->p = realloc(d->p, d->cap * sizeof(*d->p));
					if (!d->p)
						die("realloc");
				}
				d->p[d->n++] = (struct page_rec){
					.va = r->va + k * PAGE, .pfn = r->pfn + k,
					.raw = r->raw, .flags = r->flags,
					.level = r->level };
			}
		}
	}
	if (n < 0)
		die("read " DUMP);
	close(fd);
}

static uint64_t pagemap_entry(int pm, uint64_t va)
{
	uint64_t e;

	if (pread(pm, &e, sizeof(e), (va / PAGE) * sizeof(e)) != sizeof(e))
		die("pread pagemap");
	return e;
}

static int open_pagemap(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	return fd;
}

/* the VMAs of /proc/PID/maps, and what kind each one is */
struct vma {
	uint64_t start, end;
	const char *kind;
};

static size_t read_maps(pid_t pid, struct vma *v, size_t max)
{
	char path[64], line[512];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long s, e, ino;
		char name[256] = "";

		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %255s", &s, &e, &ino, name) < 3)
			continue;
		if (e > 0x800000000000UL)	/* [vsyscall] */
			continue;
		v[n].start = s;
		v[n].end = e;
		if (!strcmp(name, "[heap]"))
			v[n].kind = "heap";
		else if (!strcmp(name, "[stack]"))
			v[n].kind = "stack";
		else if (ino)
			v[n].kind = "file";
		else if (!name[0])
			v[n].kind = "anon";
		else
			v[n].kind = "other";
		n++;
	}
	fclose(f);
	return n;
}

static const char *vma_kind(struct vma *v, size_t n, uint64_t va)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (va >= v[i].start && va < v[i].end)
			return v[i].kind;
	return "none";
}

/*
 * Every page the dump shows is in pagemap with the same PFN, the same
 * anon/file and exclusive/shared; and every page pagemap shows present in
 * a VMA is in the dump.
 */
static int cmd_check(pid_t pid)
{
	uint64_t heap = 0, stack = 0, file = 0, anon = 0, thp = 0, other = 0;
	uint64_t bad = 0, pm_present = 0, i, va;
	static struct vma v[4096];
	struct dump d;
	size_t nv;
	int pm;

	dump_read(pid, 0, 0, &d);
	nv = read_maps(pid, v, 4096);
	pm = open_pagemap(pid);
	for (i = 0; i < d.n; i++) {
		struct page_rec *p = &d.p[i];
		uint64_t e = pagemap_entry(pm, p->va);
		const char *kind;
		bool anon_pm = !(e & PM_FILE);

		if (!(e & PM_PRESENT) || PM_PFN(e) != p->pfn) {
			if (bad++ < 10)
				printf("MISMATCH 0x%" PRIx64 ": dump pfn 0x%" PRIx64 ", pagemap 0x%" PRIx64 " (%s)\n",
				       p->va, p->pfn, e, e & PM_PRESENT ? "present" : "not present");
			continue;
		}
		/* pagemap says "file" for any page that is not anon */
		if (!(p->flags & (SHIKUMI_PT_F_NOPAGE | SHIKUMI_PT_F_ZERO)) &&
		    !!(p->flags & SHIKUMI_PT_F_ANON) != anon_pm) {
			if (bad++ < 10)
				printf("MISMATCH 0x%" PRIx64 ": anon %d, pagemap file bit %d\n",
				       p->va, !!(p->flags & SHIKUMI_PT_F_ANON), !anon_pm);
			continue;
		}
		/*
		 * Shared or not: the module says it of the folio, pagemap of
		 * the page.  They agree on small anonymous folios, but not
		 * always on a large page-cache folio mapped in part.
		 */
		if (p->level == SHIKUMI_PT_PTE && (p->flags & SHIKUMI_PT_F_ANON) &&
		    !!(p->flags & SHIKUMI_PT_F_SHARED) == !!(e & PM_EXCLUSIVE)) {
			if (bad++ < 10)
				printf("MISMATCH 0x%" PRIx64 ": shared %d, pagemap exclusive %d\n",
				       p->va, !!(p->flags & SHIKUMI_PT_F_SHARED),
				       !!(e & PM_EXCLUSIVE));
			continue;
		}
		if (p->level != SHIKUMI_PT_PTE) {
			thp++;
			continue;
		}
		kind = vma_kind(v, nv, p->va);
		if (!strcmp(kind, "heap"))
			heap++;
		else if (!strcmp(kind, "stack"))
			stack++;
		else if (!strcmp(kind, "file"))
			file++;
		else if (!strcmp(kind, "anon"))
			anon++;
		else
			other++;
	}

	/* the other way round: pagemap's present pages, VMA by VMA */
	for (i = 0; i < nv; i++)
		for (va = v[i].start; va < v[i].end; va += PAGE)
			if (pagemap_entry(pm, va) & PM_PRESENT)
				pm_present++;
	close(pm);

	printf("pages %" PRIu64 " pagemap_present %" PRIu64 " mismatches %" PRIu64 "\n",
	       (uint64_t)d.n, pm_present, bad);
	printf("heap %" PRIu64 " stack %" PRIu64 " file %" PRIu64 " anon %" PRIu64 " thp %" PRIu64 " other %" PRIu64 "\n",
	       heap, stack, file, anon, thp, other);
	printf("tables pgd %" PRIu64 " p4d %" PRIu64 " pud %" PRIu64 " pmd %" PRIu64 " pte %" PRIu64 "\n",
	       d.tables[0], d.tables[1], d.tables[2], d.tables[3], d.tables[4]);
	if (pm_present != d.n) {
		printf("MISMATCH: the dump has %zu present pages, pagemap %" PRIu64 "\n",
		       d.n, pm_present);
		bad++;
	}
	free(d.p);
	return bad ? 1 : 0;
}

static void *map_aligned(size_t size, size_t align)
{
	char *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		die("mmap");
	a = ((uintptr_t)p + align - 1) & ~(align - 1);
	return (void *)a;
}

static void touch(volatile char *p, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE)
		p[i] = 1;
}

static void __attribute__((noinline)) use_stack(size_t depth)
{
	volatile char buf[64 * 1024];

	touch(buf, sizeof(buf));
	if (depth > 1)
		use_stack(depth - 1);
	else
		pause();
	buf[0] = 0;
}

static int cmd_hold(const char *file)
{
	size_t heap = 8 << 20, anon = 24 << 20, thp = 4 << 20, fsz = 8 << 20;
	volatile char *h, *a, *t, *f, *z, *sp;
	char c = 0;
	size_t i;
	int fd;

	h = malloc(heap);	/* glibc uses mmap above 128 KiB: use brk */
	if (!h)
		die("malloc");
	free((void *)h);
	h = sbrk(heap);
	if (h == (void *)-1)
		die("sbrk");
	madvise((void *)(((uintptr_t)h + PAGE - 1) & ~(PAGE - 1)), heap - PAGE,
		MADV_NOHUGEPAGE);
	touch(h, heap);
	a = mmap(NULL, anon, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		die("mmap");
	/* 4 KiB pages here, whatever THP's setting */
	madvise((void *)a, anon, MADV_NOHUGEPAGE);
	touch(a, anon);
	t = map_aligned(thp, 2 << 20);
	if (madvise((void *)t, thp, MADV_HUGEPAGE))
		perror("madvise(MADV_HUGEPAGE)");
	touch(t, thp);
	/* read, never written: the huge zero page, if THP maps one */
	z = map_aligned(2 << 20, 2 << 20);
	if (madvise((void *)z, 2 << 20, MADV_HUGEPAGE))
		perror("madvise(MADV_HUGEPAGE)");
	c += z[0];
	/* one page written, and the next 2 MiB never touched */
	sp = map_aligned(4 << 20, 2 << 20);
	madvise((void *)sp, 4 << 20, MADV_NOHUGEPAGE);
	sp[0] = 1;
	f = NULL;
	if (file) {
		fd = open(file, O_RDONLY);
		if (fd < 0)
			die(file);
		f = mmap(NULL, fsz, PROT_READ, MAP_PRIVATE, fd, 0);
		if (f == MAP_FAILED)
			die("mmap file");
		for (i = 0; i < fsz; i += PAGE)
			c += f[i];
		close(fd);
	}
	printf("pid %d heap %p anon %p anon_end %p thp %p file %p %d hzero %p sparse %p\n",
	       getpid(), (void *)h, (void *)a, (void *)(a + anon), (void *)t,
	       (void *)f, c, (void *)z, (void *)sp);
	fflush(stdout);
	use_stack(16);		/* 1 MiB of stack, then pause() */
	return 0;
}

static int check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "ok:  " : "FAIL:", what);
	return ok ? 0 : 1;
}

static struct page_rec *find(struct dump *d, uint64_t va)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->p[i].va == va)
			return &d->p[i];
	return NULL;
}

/* PTEs of [p, p + n pages) in both dumps: how many share a PFN, are writable */
static void compare(struct dump *pd, struct dump *cd, uint64_t p, size_t n,
		    size_t *same, size_t *pw, size_t *cw, size_t *cshared)
{
	size_t i;

	*same = *pw = *cw = *cshared = 0;
	for (i = 0; i < n; i++) {
		struct page_rec *a = find(pd, p + i * PAGE);
		struct page_rec *b = find(cd, p + i * PAGE);

		if (!a || !b)
			continue;
		*same += a->pfn == b->pfn;
		*pw += !!(a->flags & SHIKUMI_PT_F_WRITE);
		*cw += !!(b->flags & SHIKUMI_PT_F_WRITE);
		*cshared += !!(b->flags & SHIKUMI_PT_F_SHARED);
	}
}

static int cmd_cow(void)
{
	const size_t n = 256, ns = 16;
	size_t same, pw, cw, cshared;
	volatile char *priv, *shared;
	int go[2], done[2], fails = 0;
	struct dump pd, cd;
	uint64_t p, s;
	pid_t child;
	char c;

	priv = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared = mmap(NULL, ns * PAGE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		die("mmap");
	touch(priv, n * PAGE);
	touch(shared, ns * PAGE);
	p = (uintptr_t)priv;
	s = (uintptr_t)shared;
	if (pipe(go) || pipe(done))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		size_t i;

		/* 1: read the shared mapping; 2: write everything */
		for (i = 0; i < ns; i++)
			c = shared[i * PAGE];
		if (write(done[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < n; i++)
			priv[i * PAGE] = 2;
		for (i = 0; i < ns; i++)
			shared[i * PAGE] = 2;
		if (write(done[1], "w", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	if (read(done[0], &c, 1) != 1)
		die("child");

	dump_read(getpid(), p, p + n * PAGE, &pd);
	dump_read(child, p, p + n * PAGE, &cd);
	compare(&pd, &cd, p, n, &same, &pw, &cw, &cshared);
	printf("after fork: private: %zu of %zu PTEs on the same PFN; writable: parent %zu, child %zu; child's shared-flagged %zu\n",
	       same, n, pw, cw, cshared);
	fails += check(pd.n == n && cd.n == n, "both have every private page mapped");
	fails += check(same == n, "parent and child share every PFN");
	fails += check(pw == 0 && cw == 0, "the write bit is clear in both");
	fails += check(cshared == n, "the pages are mapped twice (mapcount 2)");
	free(pd.p);
	free(cd.p);

	dump_read(getpid(), s, s + ns * PAGE, &pd);
	dump_read(child, s, s + ns * PAGE, &cd);
	compare(&pd, &cd, s, ns, &same, &pw, &cw, &cshared);
	printf("after fork: MAP_SHARED: %zu of %zu on the same PFN\n", same, ns);
	fails += check(same == ns && cd.n == ns, "MAP_SHARED: one PFN for both");
	free(pd.p);
	free(cd.p);

	if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
		die("child");
	dump_read(getpid(), p, p + n * PAGE, &pd);
	dump_read(child, p, p + n * PAGE, &cd);
	compare(&pd, &cd, p, n, &same, &pw, &cw, &cshared);
	printf("after the child wrote: private: %zu on the same PFN; writable: parent %zu, child %zu; child's shared-flagged %zu\n",
	       same, pw, cw, cshared);
	fails += check(same == 0, "the child has new PFNs");
	fails += check(cw == n, "the child's PTEs are writable");
	fails += check(cshared == 0, "the child's pages are its own");
	free(pd.p);
	free(cd.p);

	dump_read(getpid(), s, s + ns * PAGE, &pd);
	dump_read(child, s, s + ns * PAGE, &cd);
	compare(&pd, &cd, s, ns, &same, &pw, &cw, &cshared);
	printf("after the child wrote: MAP_SHARED: %zu of %zu on the same PFN, parent reads %d\n",
	       same, ns, shared[0]);
	fails += check(same == ns, "MAP_SHARED: still one PFN for both");
	fails += check(shared[0] == 2, "MAP_SHARED: the parent sees the child's write");
	free(pd.p);
	free(cd.p);

	if (write(go[1], "g", 1) != 1)
		die("child");
	waitpid(child, NULL, 0);
	return fails ? 1 : 0;
}

/*
 * For SECS seconds: a process whose tables keep changing (mmap, write,
 * MADV_DONTNEED, which may free PTE tables, munmap), and children it forks
 * that do the same and exit.
 */
static int cmd_churn(int secs)
{
	time_t end = time(NULL) + secs;

	while (time(NULL) < end) {
		size_t psz = 4 << 20;
		char *pm;
		pid_t pid = fork();

		if (pid > 0) {
			pm = mmap(NULL, psz, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (pm == MAP_FAILED)
				die("mmap");
			touch(pm, psz);
			madvise(pm, psz, MADV_DONTNEED);
			touch(pm, psz / 2);
			munmap(pm, psz);
		}

		if (pid < 0)
			die("fork");
		if (!pid) {
			int i;

			for (i = 0; i < 20; i++) {
				size_t sz = (size_t)(1 + i % 7) << 20;
				char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				if (m == MAP_FAILED)
					_exit(1);
				touch(m, sz);
				if (i % 3 == 0)
					madvise(m, sz, MADV_DONTNEED);
				munmap(m, sz);
			}
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	return 0;
}

/* Two shared and one private 2 MiB hugetlb page, written. */
static int cmd_hugetlb(void)
{
	size_t sz = 2 << 20;
	char *sh, *pr;

	sh = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	pr = mmap(NULL, sz, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (sh == MAP_FAILED || pr == MAP_FAILED)
		die("mmap(MAP_HUGETLB)");
	touch(sh, 2 * sz);
	touch(pr, sz);
	printf("pid %d shared %p private %p\n", getpid(), (void *)sh, (void *)pr);
	fflush(stdout);
	pause();
	return 0;
}

/* ---- swap ----------------------------------------------------------------- */

#define SWAP_PAGES	2048		/* 8 MiB */
#define SWAP_BACK	128		/* read back in after the page-out */
#define SWAP_PROTNONE	16		/* of which the last are PROT_NONE */
#define PM_SWAP_TYPE(e)	((e) & 0x1f)
#define PM_SWAP_OFF(e)	(PM_PFN(e) >> 5)

/*
 * Map SWAP_PAGES of anonymous memory, write them, and page them out until
 * at least 3/4 are in swap (a page the reclaim could not take this time
 * is taken next time); then read SWAP_BACK of them back in.
 */
static char *swap_out(void)
{
	char *p = mmap(NULL, SWAP_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i, swapped = 0;
	int pm, tries;

	if (p == MAP_FAILED)
		die("mmap");
	madvise(p, SWAP_PAGES * PAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < SWAP_PAGES; i++)	/* not zero: a page worth keeping */
		memset(p + i * PAGE, (int)(i % 251) + 1, 64);
	pm = open_pagemap(getpid());
	for (tries = 0; tries < 10 && swapped < SWAP_PAGES * 3 / 4; tries++) {
		if (madvise(p, SWAP_PAGES * PAGE, MADV_PAGEOUT))
			die("madvise(MADV_PAGEOUT)");
		for (swapped = 0, i = 0; i < SWAP_PAGES; i++)
			swapped += !!(pagemap_entry(pm, (uint64_t)(p + i * PAGE)) & PM_SWAP);
	}
	close(pm);
	for (i = 0; i < SWAP_BACK; i++)
		if (p[i * PAGE] != (char)(i % 251 + 1)) {
			fprintf(stderr, "page %zu came back from swap changed\n", i);
			exit(2);
		}
	return p;
}

/* The LEAF and NONPRESENT records of PID's PTEs in [start, start + n pages). */
static void dump_ptes(pid_t pid, uint64_t start, size_t n, struct shikumi_pt_rec *slot)
{
	struct shikumi_pt_rec recs[512];
	char q[160];
	ssize_t got;
	int fd, i;

	memset(slot, 0, n * sizeof(*slot));
	fd = open(DUMP, O_RDWR);
	if (fd < 0)
		die(DUMP);
	snprintf(q, sizeof(q), "pid=%d view=full format=raw range=0x%" PRIx64 "-0x%" PRIx64,
		 pid, start, start + n * PAGE);
	if (write(fd, q, strlen(q)) < 0)
		die("query");
	while ((got = read(fd, recs, sizeof(recs))) > 0) {
		for (i = 0; i < got / (ssize_t)sizeof(recs[0]); i++) {
			struct shikumi_pt_rec *r = &recs[i];

			if ((r->type != SHIKUMI_PT_REC_LEAF &&
			     r->type != SHIKUMI_PT_REC_NONPRESENT) ||
			    r->level != SHIKUMI_PT_PTE || r->va < start ||
			    r->va >= start + n * PAGE)
				continue;
			slot[(r->va - start) / PAGE] = *r;
		}
	}
	if (got < 0)
		die("read " DUMP);
	close(fd);
}

/*
 * One page: does the dump's record @r say what pagemap's @e says?  A
 * PROT_NONE page is present, for pagemap as for the MMU's walk of the
 * kernel, and the dump says PROT_NONE.
 */
static bool swap_page_agrees(const struct shikumi_pt_rec *r, uint64_t e, uint64_t va,
			     bool protnone)
{
	if (e & PM_PRESENT) {
		if (r->type == SHIKUMI_PT_REC_LEAF && r->pfn == PM_PFN(e) &&
		    !!(r->flags & SHIKUMI_PT_F_PROTNONE) == protnone)
			return true;
	} else if (e & PM_SWAP) {
		if (r->type == SHIKUMI_PT_REC_NONPRESENT &&
		    SHIKUMI_PT_NP_KIND(r->flags) == SHIKUMI_PT_NP_SWAP &&
		    SHIKUMI_PT_NP_SWAP_TYPE(r->flags) == PM_SWAP_TYPE(e) &&
		    r->pfn == PM_SWAP_OFF(e))
			return true;
	} else if (!r->type) {
		return true;
	}
	printf("MISMATCH 0x%" PRIx64 ": pagemap 0x%" PRIx64 ", dump type %u flags 0x%x kind %u swap type %u pfn/offset 0x%llx\n",
	       va, e, r->type, r->flags, SHIKUMI_PT_NP_KIND(r->flags),
	       SHIKUMI_PT_NP_SWAP_TYPE(r->flags), (unsigned long long)r->pfn);
	return false;
}

/*
 * Its own dump against its own pagemap, read before and after the dump:
 * a page that changed meanwhile (reclaim may take one) is left out.
 */
static int cmd_swap(bool hold)
{
	static struct shikumi_pt_rec slot[SWAP_PAGES];
	static uint64_t before[SWAP_PAGES];
	uint64_t swapped = 0, present = 0, none = 0, moved = 0, bad = 0, protnone = 0, e;
	char *p = swap_out();
	size_t i, shown = SWAP_PAGES;
	int pm = open_pagemap(getpid());
	bool pn;

	if (mprotect(p + (SWAP_BACK - SWAP_PROTNONE) * PAGE, SWAP_PROTNONE * PAGE, PROT_NONE))
		die("mprotect");
	for (i = 0; i < SWAP_PAGES; i++)
		before[i] = pagemap_entry(pm, (uint64_t)(p + i * PAGE));
	dump_ptes(getpid(), (uint64_t)p, SWAP_PAGES, slot);
	for (i = 0; i < SWAP_PAGES; i++) {
		e = pagemap_entry(pm, (uint64_t)(p + i * PAGE));
		if (e != before[i]) {
			moved++;
			continue;
		}
		pn = i >= SWAP_BACK - SWAP_PROTNONE && i < SWAP_BACK;
		if (!swap_page_agrees(&slot[i], e, (uint64_t)(p + i * PAGE), pn)) {
			bad++;
			continue;
		}
		if (e & PM_PRESENT) {
			present++;
			protnone += pn;
		} else if (e & PM_SWAP) {
			swapped++;
			if (shown == SWAP_PAGES && i >= SWAP_BACK)
				shown = i;
		} else {
			none++;
		}
	}
	close(pm);
	printf("swapped %" PRIu64 " present %" PRIu64 " none %" PRIu64 " moved %" PRIu64 " mismatches %" PRIu64 " protnone %" PRIu64 "\n",
	       swapped, present, none, moved, bad, protnone);
	if (shown < SWAP_PAGES)
		printf("page %p type %u offset %llu\n", (void *)(p + shown * PAGE),
		       SHIKUMI_PT_NP_SWAP_TYPE(slot[shown].flags),
		       (unsigned long long)slot[shown].pfn);
	printf("back %p\n", (void *)p);
	fflush(stdout);
	if (bad || moved > SWAP_PAGES / 100)
		return 1;
	while (hold)
		pause();
	return 0;
}

/* Unprivileged: pagemap shows that a page is swapped, not where. */
static int cmd_swap_user(void)
{
	uint64_t swapped = 0, located = 0, e;
	char *p = swap_out();
	int pm = open_pagemap(getpid()), fd;
	size_t i;

	for (i = 0; i < SWAP_PAGES; i++) {
		e = pagemap_entry(pm, (uint64_t)(p + i * PAGE));
		if (!(e & PM_SWAP))
			continue;
		swapped++;
		located += PM_PFN(e) != 0;
	}
	close(pm);
	fd = open(DUMP, O_RDWR);
	printf("swapped %" PRIu64 " with_type_or_offset %" PRIu64 " dump %s\n",
	       swapped, located, fd >= 0 ? "opened" : errno == EACCES ? "EACCES" :
	       errno == EPERM ? "EPERM" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

static void *leader_exit_thread(void *unused)
{
	int i;

	(void)unused;
	/* once the leader is a zombie: its tid is the pid */
	for (i = 0; i < 1000 && proc_state(getpid()) != 'Z'; i++)
		usleep(10000);
	printf("pid %d tid %d\n", getpid(), (int)syscall(SYS_gettid));
	fflush(stdout);
	for (;;)
		pause();
	return NULL;
}

static int cmd_leader_exit(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, leader_exit_thread, NULL))
		die("pthread_create");
	pthread_exit(NULL);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "hold"))
		return cmd_hold(argc > 2 ? argv[2] : NULL);
	if (argc == 3 && !strcmp(argv[1], "check"))
		return cmd_check(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "cow"))
		return cmd_cow();
	if (argc == 3 && !strcmp(argv[1], "churn"))
		return cmd_churn(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "hugetlb"))
		return cmd_hugetlb();
	if (argc == 2 && !strcmp(argv[1], "leader-exit"))
		return cmd_leader_exit();
	if (argc == 2 && !strcmp(argv[1], "swap"))
		return cmd_swap(false);
	if (argc == 3 && !strcmp(argv[1], "swap") && !strcmp(argv[2], "hold"))
		return cmd_swap(true);
	if (argc == 2 && !strcmp(argv[1], "swap-user"))
		return cmd_swap_user();
	fprintf(stderr, "usage: shikumi-pttest hold [FILE] | check PID | cow | churn SECS | hugetlb | leader-exit | swap [hold] | swap-user\n");
	return 2;
}
