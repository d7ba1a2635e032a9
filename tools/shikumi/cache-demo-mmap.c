// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo mmap: two processes map one file MAP_SHARED (the
 * book's chapters 7 and 8).  Both page tables hold the PFN of the one
 * page-cache page; a store through one mapping sets the dirty bit in that
 * process's PTE and dirties the page, and sends nothing to the disk;
 * msync(MS_SYNC) writes the page from the msyncing process, and the kernel
 * cleans and write-protects every PTE that maps it (folio_mkclean()).
 * Each step's page tables come from shikumi_ptdump, the page's PFN and
 * mapcount from shikumi_pgcache, and they are compared page by page.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "cache-demo.h"
#include "pt.h"

#define MM_PROCS	2	/* [0] the demo, which stores and msyncs; [1] its child */
#define NO_PFN		UINT64_MAX

/* one process's PTEs over its mapping of the file */
struct mm_pt {
	uint64_t present, dirty, writable, accessed;
};

struct mm_step {
	bool mapped;
	struct mm_pt pt[MM_PROCS];
	uint64_t same_pfn;	/* pages: one PFN in both page tables and the view */
	uint64_t view_ptes;	/* the view's mapcounts, summed */
	uint64_t view_mapped;	/* pages the view calls mapped */
	uint64_t *pfn[MM_PROCS];	/* each page's PFN in each page table */
};

struct mm_demo {
	pid_t pid[MM_PROCS];
	uint64_t va[MM_PROCS];
	unsigned char *map;
	int req, rep;		/* to the child, from it */
	bool child, mapped;	/* the child is running; both have mapped */
	unsigned int retouched;	/* looks that found pages unmapped, then touched again */
	struct mm_step st[DEMO_MAX_STEPS];
};

#define MM_LOOKS	4	/* the map step's looks, at most */

static const struct cmd_help mmap_help = {
	.usage = "--dir DIR [--size MIB] [--keep] [--json]",
	.summary = "Two processes map one file in DIR shared: the same PFN in both page\n"
		   "tables, the dirty bit in the PTE of the process that stores, the page\n"
		   "dirty in the page cache and no request sent; msync(MS_SYNC) writes it\n"
		   "and leaves the page and the PTEs clean.",
	.details =
	"The demo writes the file and fsyncs it, then it and a child it forks map\n"
	"it MAP_SHARED, with MADV_NOHUGEPAGE, and read every page (without it, on\n"
	"7.x, khugepaged may collapse the file's folios into 2 MiB ones, mapped by\n"
	"PMDs: it unmaps every PTE while it does).  The demo stores a byte into every\n"
	"page through its mapping and calls msync(MS_SYNC); at the end both unmap.\n"
	"Besides the steps' outside and inside views (as in 'shikumi cache demo\n"
	"read'; meminfo's Mapped counts each mapped page once), each step shows\n"
	"both processes' PTEs over the mapping (shikumi_ptdump: present, dirty,\n"
	"writable, accessed), how many pages have the same PFN in both page\n"
	"tables and in the page cache (shikumi_pgcache), and the page cache's\n"
	"mapcounts summed, which count both processes' PTEs.  The file is removed\n"
	"at the end unless --keep.  Needs root, shikumi_ramdisk, shikumi_pgcache\n"
	"and shikumi_ptdump.",
};

/* ---- the child ------------------------------------------------------------ */

/* Map @path, read every page, say where, and wait until the demo closes. */
static void __attribute__((noreturn)) child_run(const char *path, uint64_t size,
						int req, int rep)
{
	void *p;
	uint64_t va = 0;
	char c;
	int fd;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	fd = open(path, O_RDWR | O_CLOEXEC);
	p = fd < 0 ? MAP_FAILED : mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		va = (uintptr_t)p;
		madvise(p, size, MADV_NOHUGEPAGE);	/* 4 KiB pages, as the demo's */
		touch(va, size, PGC_PAGE, false);
	} else {
		p_err("child: cannot map %s: %s", path, strerror(errno));
	}
	if (write(rep, &va, sizeof(va)) != sizeof(va) || !va)
		_exit(1);
	/* a byte: touch every page again and say so; end of file: the end */
	for (;;) {
		ssize_t n = read(req, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			break;
		touch(va, size, PGC_PAGE, false);
		if (write(rep, &va, sizeof(va)) != sizeof(va))
			break;
	}
	_exit(0);
}

static int child_start(struct demo *d, struct mm_demo *m)
{
	int req[2], rep[2];
	ssize_t n;

	if (pipe2(req, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(rep, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		goto close_req;
	}
	m->pid[1] = fork();
	if (m->pid[1] < 0) {
		p_err("fork: %s", strerror(errno));
		goto close_rep;
	}
	m->child = m->pid[1] > 0;
	if (!m->pid[1]) {
		close(req[1]);
		close(rep[0]);
		child_run(d->path, d->size, req[0], rep[1]);
	}
	close(req[0]);
	close(rep[1]);
	m->req = req[1];
	m->rep = rep[0];
	do
		n = read(m->rep, &m->va[1], sizeof(m->va[1]));
	while (n < 0 && errno == EINTR && !demo_signal);
	if (n != sizeof(m->va[1]) || !m->va[1]) {
		p_err("the child (pid %d) could not map the file", (int)m->pid[1]);
		return -1;
	}
	return 0;

close_rep:
	close(rep[0]);
	close(rep[1]);
close_req:
	close(req[0]);
	close(req[1]);
	return -1;
}

/* Let the child go (closing its pipe) and reap it. */
static void child_stop(struct mm_demo *m)
{
	if (m->req >= 0)
		close(m->req);
	if (m->rep >= 0)
		close(m->rep);
	m->req = -1;
	m->rep = -1;
	if (m->child) {
		pid_t r;

		do
			r = waitpid(m->pid[1], NULL, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			p_warn("waiting for pid %d: %s", (int)m->pid[1], strerror(errno));
	}
	m->child = false;
}

/* ---- the looks ------------------------------------------------------------ */

/* Process @p's PTEs over its mapping: the counts, and each page's PFN. */
static int pte_look(const struct demo *d, struct mm_demo *m, int p, struct mm_step *st)
{
	uint64_t a = m->va[p], b = a + d->size, i, va, end, size, *pfn;
	struct mm_pt *pt = &st->pt[p];
	struct pt_dump pd;
	size_t k;

	pfn = calloc(d->pages, sizeof(*pfn));
	if (!pfn) {
		p_err("out of memory");
		return -1;
	}
	st->pfn[p] = pfn;
	for (i = 0; i < d->pages; i++)
		pfn[i] = NO_PFN;
	if (fetch_span(m->pid[p], "full", a, b, &pd))
		return -1;
	for (k = 0; k < pd.n; k++) {
		const struct shikumi_pt_rec *r = &pd.r[k];

		if (r->type != SHIKUMI_PT_REC_LEAF)
			continue;
		size = level_size(r->level, false);
		va = r->va > a ? r->va : a;
		end = r->va + size < b ? r->va + size : b;
		for (; va < end; va += PGC_PAGE) {
			pfn[(va - a) / PGC_PAGE] = r->pfn + (va - r->va) / PGC_PAGE;
			pt->present++;
			pt->dirty += !!(r->flags & SHIKUMI_PT_F_DIRTY);
			pt->writable += !!(r->flags & SHIKUMI_PT_F_WRITE);
			pt->accessed += !!(r->flags & SHIKUMI_PT_F_ACCESSED);
		}
	}
	pt_dump_free(&pd);
	return 0;
}

/* The file's view against both page tables, page by page. */
static int view_look(const struct demo *d, struct mm_step *st)
{
	struct pgc_view v;
	uint64_t i, k;
	size_t f;

	if (pgc_view_read(d->path, NULL, &v))
		return -1;
	for (f = 0; f < v.n; f++) {
		const struct shikumi_pgc_rec *r = &v.r[f];

		st->view_ptes += r->mapcount > 0 ? (uint64_t)r->mapcount : 0;
		st->view_mapped += r->flags & PGC_MMAP ? r->nr_pages : 0;
		for (k = 0; k < r->nr_pages; k++) {
			i = r->index + k;
			if (i < d->pages && st->pfn[0][i] == r->pfn + k &&
			    st->pfn[1][i] == r->pfn + k)
				st->same_pfn++;
		}
	}
	pgc_view_free(&v);
	return 0;
}

static int mm_step_end(struct demo *d, struct demo_step *s)
{
	struct mm_demo *m = d->own;
	struct mm_step *st = &m->st[s - d->step];

	if (demo_step_end(d, s))
		return -1;
	if (!m->mapped)
		return 0;
	st->mapped = true;
	if (pte_look(d, m, 0, st) || pte_look(d, m, 1, st))
		return -1;
	return view_look(d, st);
}

/* Both processes touch every page of their mapping again. */
static int retouch(struct demo *d, struct mm_demo *m)
{
	uint64_t va = 0;
	ssize_t n;

	if (write(m->req, "t", 1) != 1) {
		p_err("cannot ask the child (pid %d) to touch again: %s", (int)m->pid[1],
		      strerror(errno));
		return -1;
	}
	do
		n = read(m->rep, &va, sizeof(va));
	while (n < 0 && errno == EINTR && !demo_signal);
	if (n != sizeof(va)) {
		p_err("the child (pid %d) did not touch its mapping again", (int)m->pid[1]);
		return -1;
	}
	touch(m->va[0], d->size, PGC_PAGE, false);
	return 0;
}

/*
 * The map step's look.  Between the touch and the look the kernel may
 * unmap a file's pages from every page table: on 7.2, before the mappings
 * were MADV_NOHUGEPAGE, once in about six runs khugepaged collapsed the
 * file's 64 folios of 16 pages into 2 of 512 and unmapped every PTE while
 * it did.  Should anything else do it, both touch again and the demo looks
 * again, up to MM_LOOKS times, and counts it (the report says so).
 */
static int map_look(struct demo *d, struct mm_demo *m, struct demo_step *s)
{
	struct mm_step *st = &m->st[s - d->step];
	int p, look;

	for (look = 1; ; look++) {
		if (st->pt[0].present == d->pages && st->pt[1].present == d->pages)
			return 0;
		if (look == MM_LOOKS || demo_stopped())
			return demo_stopped();
		m->retouched++;
		for (p = 0; p < MM_PROCS; p++) {
			free(st->pfn[p]);
			st->pfn[p] = NULL;
			memset(&st->pt[p], 0, sizeof(st->pt[p]));
		}
		st->same_pfn = 0;
		st->view_ptes = 0;
		st->view_mapped = 0;
		/* the step's outside view and requests again, with the touch */
		if (retouch(d, m) || demo_step_end(d, s) || pte_look(d, m, 0, st) ||
		    pte_look(d, m, 1, st) || view_look(d, st))
			return -1;
	}
}

/* ---- the steps ------------------------------------------------------------ */

static int map_both(struct demo *d, struct mm_demo *m)
{
	if (child_start(d, m))	/* before the demo maps: the child inherits no mapping */
		return -1;
	m->map = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (m->map == MAP_FAILED) {
		m->map = NULL;
		p_err("cannot map %s: %s", d->path, strerror(errno));
		return -1;
	}
	m->va[0] = (uintptr_t)m->map;
	/* no collapse into 2 MiB folios by khugepaged, no PMD mapping */
	madvise(m->map, d->size, MADV_NOHUGEPAGE);
	touch(m->va[0], d->size, PGC_PAGE, false);
	m->mapped = true;
	return 0;
}

static int msync_all(struct demo *d, struct mm_demo *m)
{
	if (msync(m->map, d->size, MS_SYNC)) {
		p_err("msync %s: %s", d->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void unmap_both(struct demo *d, struct mm_demo *m)
{
	m->mapped = false;
	if (m->map && munmap(m->map, d->size))
		p_warn("munmap: %s", strerror(errno));
	m->map = NULL;
	child_stop(m);
}

static int mmap_steps(struct demo *d, struct mm_demo *m)
{
	struct demo_step *s;

	s = demo_step_begin(d, "write", "write + fsync");
	if (!s || demo_create(d, 0) || demo_write_all(d) || demo_fsync(d))
		return -1;
	if (mm_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "map", "map, read in two procs");
	if (!s || map_both(d, m) || mm_step_end(d, s) || map_look(d, m, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "store", "store via demo's map");
	if (!s)
		return -1;
	touch(m->va[0], d->size, PGC_PAGE, true);
	if (mm_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "msync", "msync(MS_SYNC)");
	if (!s || msync_all(d, m) || mm_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "unmap", "unmap in both");
	if (!s)
		return -1;
	unmap_both(d, m);
	if (mm_step_end(d, s))
		return -1;
	return demo_remove_step(d);
}

/* ---- the report's own part ------------------------------------------------ */

static void mm_text(const struct demo *d)
{
	const struct mm_demo *m = d->own;
	const struct mm_step *st;
	int i, p;

	printf("\nthe mappings: PTEs (shikumi_ptdump) of pid %d, which stores and msyncs, and of\n"
	       "pid %d, its child, which only reads; the file's pages (shikumi_pgcache)\n",
	       (int)m->pid[0], (int)m->pid[1]);
	printf("  %-22s %6s %6s %6s %6s | %6s %6s %6s %6s | %8s %9s %8s\n", "step", "ptes",
	       "dirty", "write", "young", "ptes", "dirty", "write", "young", "same_pfn",
	       "mapcount", "mapped");
	for (i = 0; i < d->nstep; i++) {
		st = &m->st[i];
		printf("  %-22s", d->step[i].label);
		if (!st->mapped) {
			printf(" %-6s\n", "(not mapped)");
			continue;
		}
		for (p = 0; p < MM_PROCS; p++)
			printf(" %6llu %6llu %6llu %6llu |", U(st->pt[p].present),
			       U(st->pt[p].dirty), U(st->pt[p].writable), U(st->pt[p].accessed));
		printf(" %8llu %9llu %8llu\n", U(st->same_pfn), U(st->view_ptes),
		       U(st->view_mapped));
	}
	printf("  same_pfn: pages with one PFN in both page tables and the page cache, of %llu;\n"
	       "  mapcount: the page cache's mapcounts summed (PTEs that map the file's pages)\n",
	       U(d->pages));
	if (m->retouched)
		printf("  the kernel unmapped the file's pages between the touch and the look %u time(s);\n"
		       "  both processes touched them again (the map step's numbers are the last look's)\n",
		       m->retouched);
}

static void mm_json(struct json *j, const struct demo *d, int step)
{
	const struct mm_demo *m = d->own;
	const struct mm_step *st = &m->st[step];
	uint64_t i;
	int p;

	if (!st->mapped) {
		json_null(j, "mapping");
		return;
	}
	json_object_begin(j, "mapping");
	json_array_begin(j, "processes");
	for (p = 0; p < MM_PROCS; p++) {
		json_object_begin(j, NULL);
		json_i64(j, "pid", m->pid[p]);
		json_string(j, "role", p ? "reads" : "stores and msyncs");
		json_u64(j, "ptes", st->pt[p].present);
		json_u64(j, "dirty", st->pt[p].dirty);
		json_u64(j, "writable", st->pt[p].writable);
		json_u64(j, "accessed", st->pt[p].accessed);
		json_array_begin(j, "pfns");	/* -1: no PTE */
		for (i = 0; i < d->pages; i++)
			json_i64(j, NULL, st->pfn[p][i] == NO_PFN ? -1 : (int64_t)st->pfn[p][i]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_u64(j, "same_pfn", st->same_pfn);
	if (!strcmp(d->step[step].key, "map"))
		json_u64(j, "retouched", m->retouched);
	json_u64(j, "view_mapcount", st->view_ptes);
	json_u64(j, "view_mapped", st->view_mapped);
	json_object_end(j);
}

int demo_mmap_cmd(int argc, char **argv)
{
	struct demo d = { 0 };
	struct mm_demo m = { .req = -1, .rep = -1 };
	const char *dir = NULL;
	uint64_t mib = DEMO_DEFAULT_MIB;
	int i, ret;
	const struct opt opts[] = {
		DIR_OPT(&dir),
		SIZE_OPT(&mib),
		KEEP_OPT(&d.keep),
		OPT_FINISH(),
	};

	ret = demo_args(argc, argv, opts, &mmap_help, &dir, &mib);
	if (ret)
		return ret;
	d.own = &m;
	d.own_text = mm_text;
	d.own_json = mm_json;
	ret = EXIT_FAIL;
	if (demo_open(&d, "mmap", mib, dir))
		goto out;
	if (!module_is_loaded(PT_MODULE)) {
		p_not_loaded(PT_MODULE);
		goto out;
	}
	m.pid[0] = d.pid;
	if (mmap_steps(&d, &m) || demo_report(&d))
		goto out;
	ret = EXIT_OK;
out:
	unmap_both(&d, &m);
	for (i = 0; i < DEMO_MAX_STEPS; i++) {
		free(m.st[i].pfn[0]);
		free(m.st[i].pfn[1]);
	}
	demo_close(&d);
	return ret;
}
