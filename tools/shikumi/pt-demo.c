// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt demo: the book's experiments mmap, demand, thp and sparse
 * (cow is in pt-demo-cow.c), each run in the worker of pt-worker.c, and
 * the table of the demos.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "pt.h"

/* ---- demo mmap ---------------------------------------------------------------- */

static const struct cmd_help mmap_help = {
	.usage = "[--size MIB] [--json]",
	.summary = "mmap() 1 GiB of anonymous memory (PROT_READ|PROT_WRITE, MAP_PRIVATE)\n"
		   "in a child process: the VMA appears, but not one page-table page or\n"
		   "page behind it.  Then write one byte: now there are tables and a page.",
	.details = "The mapping is MADV_NOHUGEPAGE, so that the one byte brings one 4 KiB\n"
		   "page.  Needs root and shikumi_ptdump.",
};

static void json_stats_delta(struct json *j, const char *key,
			     const struct pt_stats *a, const struct pt_stats *b)
{
	int l;

	json_object_begin(j, key);
	for (l = 0; l < SHIKUMI_PT_LEVELS; l++) {
		json_object_begin(j, level_names[l]);
		json_i64(j, "table_pages", (int64_t)(b->tables[l] - a->tables[l]));
		json_i64(j, "leaves", (int64_t)(b->leaves[l] - a->leaves[l]));
		json_object_end(j);
	}
	json_object_end(j);
}

static void print_stats_delta(const char *what, const struct pt_stats *a,
			      const struct pt_stats *b)
{
	int l;

	printf("  %-34s", what);
	for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
		printf(" %s %+lld/%+lld", level_names[l],
		       (long long)(b->tables[l] - a->tables[l]),
		       (long long)(b->leaves[l] - a->leaves[l]));
	printf("\n");
}

/* What mmap counts: before the mmap (0), after it (1), after the write (2). */
struct mmap_run {
	uint64_t size_mib, addr, len;
	bool noreserve;
	struct pt_stats s0, s1, s2;
	long long vsz0, vsz1, rss0, rss1, rss2;
	struct leafcount lc1, lc2;
};

/* Map, and count before and after. */
static int mmap_map(struct worker *w, struct mmap_run *r)
{
	if (worker_warm_up(w) || pt_get_stats(w->pid, NULL, &r->s0))
		return -1;
	r->vsz0 = proc_status_kb(w->pid, "VmSize");
	r->rss0 = proc_status_kb(w->pid, "VmRSS");
	r->addr = worker_do(w, W_MMAP, 0, 0, r->len, 0, SZ_2M);
	if (!r->addr && errno == ENOMEM) {
		r->noreserve = true;	/* overcommit refused it: do not reserve */
		r->addr = worker_do(w, W_MMAP, WM_NORESERVE, 0, r->len, 0, SZ_2M);
	}
	if (!r->addr || !worker_do(w, W_MADVISE, MADV_NOHUGEPAGE, r->addr, r->len, 0, 0)) {
		p_err("mmap of %llu MiB in pid %d: %s", U(r->size_mib), w->pid, strerror(errno));
		return -1;
	}
	if (pt_get_stats(w->pid, NULL, &r->s1) ||
	    count_leaves(w->pid, r->addr, r->addr + r->len, &r->lc1, NULL, NULL))
		return -1;
	r->vsz1 = proc_status_kb(w->pid, "VmSize");
	r->rss1 = proc_status_kb(w->pid, "VmRSS");
	return 0;
}

/* Write one byte, and count again; translate the address into @d if given. */
static int mmap_touch(struct worker *w, struct mmap_run *r, struct pt_dump *d)
{
	if (!worker_do(w, W_TOUCH, 1, r->addr, 1, 1, 0) || pt_get_stats(w->pid, NULL, &r->s2) ||
	    count_leaves(w->pid, r->addr, r->addr + r->len, &r->lc2, NULL, NULL) ||
	    (d && pt_translate(w->pid, r->addr, d)))
		return -1;
	r->rss2 = proc_status_kb(w->pid, "VmRSS");
	return 0;
}

static int mmap_json(struct worker *w, struct mmap_run *r, struct pt_dump *d)
{
	struct json *j = json_stdout();
	struct xlate x = { 0 };

	json_object_begin(j, NULL);
	json_u64(j, "pid", (uint64_t)w->pid);
	json_u64(j, "addr", r->addr);
	json_u64(j, "size", r->len);
	json_bool(j, "noreserve", r->noreserve);
	json_i64(j, "vmsize_delta_kb", r->vsz1 - r->vsz0);
	json_i64(j, "vmrss_delta_kb", r->rss1 - r->rss0);
	json_stats_delta(j, "after_mmap", &r->s0, &r->s1);
	json_u64(j, "leaves_in_vma", r->lc1.pte + r->lc1.pmd + r->lc1.pud);
	json_object_begin(j, "translate");
	xlate_render(d, r->addr, j, "", &x);
	json_object_end(j);
	pt_dump_free(d);
	/* the touch, below, closes the object */
	if (mmap_touch(w, r, NULL)) {
		json_object_end(j);
		json_free(j);
		return EXIT_FAIL;
	}
	json_stats_delta(j, "after_touch", &r->s1, &r->s2);
	json_u64(j, "leaves_in_vma_after_touch", r->lc2.pte + r->lc2.pmd + r->lc2.pud);
	json_i64(j, "vmrss_delta_after_touch_kb", r->rss2 - r->rss1);
	json_object_end(j);
	json_free(j);
	return EXIT_OK;
}

static int mmap_text(struct worker *w, struct mmap_run *r, struct pt_dump *d)
{
	struct xlate x = { 0 };

	printf("pid %d: mmap(NULL, %llu MiB, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS%s) = 0x%llx\n",
	       w->pid, U(r->size_mib), r->noreserve ? "|MAP_NORESERVE" : "", U(r->addr));
	printf("  VmSize %+lld kB, VmRSS %+lld kB\n", r->vsz1 - r->vsz0, r->rss1 - r->rss0);
	printf("  page-table pages/leaves added, per level:\n");
	print_stats_delta("after mmap:", &r->s0, &r->s1);
	printf("  leaves in the new VMA: %llu\n", U(r->lc1.pte + r->lc1.pmd + r->lc1.pud));
	printf("  translating its first address:\n");
	xlate_render(d, r->addr, NULL, "    ", &x);
	pt_dump_free(d);
	if (mmap_touch(w, r, d))
		return EXIT_FAIL;
	printf("\npid %d writes one byte at 0x%llx: a page fault\n", w->pid, U(r->addr));
	print_stats_delta("after the write:", &r->s1, &r->s2);
	printf("  leaves in the VMA: %llu; VmRSS %+lld kB\n",
	       U(r->lc2.pte + r->lc2.pmd + r->lc2.pud), r->rss2 - r->rss1);
	xlate_render(d, r->addr, NULL, "    ", &x);
	pt_dump_free(d);
	printf("(level +T/+L: page-table pages / leaves added at that level)\n");
	return EXIT_OK;
}

static int demo_mmap(int argc, char **argv)
{
	uint64_t size_mib = 1024;
	const struct opt opts[] = {
		OPT_NUM('s', "size", &size_mib, "MIB", "how much to map (default 1024)"),
		OPT_FINISH(),
	};
	struct mmap_run r = { 0 };
	struct worker w = { 0 };
	struct pt_dump d;
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &mmap_help);
	if (first < argc)
		return usage_error(&mmap_help, "unexpected argument '%s'", argv[first]);
	if (!size_mib || size_mib > 64 * 1024)
		return usage_error(&mmap_help, "--size must be 1 to 65536 MiB");
	r.size_mib = size_mib;
	r.len = size_mib * MIB;
	if (need_root() || worker_start(&w))
		return EXIT_FAIL;
	if (mmap_map(&w, &r) || pt_translate(w.pid, r.addr, &d))
		goto out;
	if (opt_json)
		ret = mmap_json(&w, &r, &d);
	else
		ret = mmap_text(&w, &r, &d);
out:
	worker_stop(&w);
	return ret;
}

/* ---- demo demand ---------------------------------------------------------------- */

static const struct cmd_help demand_help = {
	.usage = "[--size MIB] [--step MIB] [--svg FILE] [--json]",
	.summary = "Demand paging: a child maps SIZE MiB (default 100) and writes it STEP\n"
		   "MiB (default 10) at a time; after each step, the present PTEs in the\n"
		   "mapping and the page-table pages per level, against VmRSS and the\n"
		   "minor faults that /proc counts.",
	.details = "The mapping is MADV_NOHUGEPAGE: 4 KiB pages, one fault each.\n"
		   "-o plots PTEs and page-table pages against the MiB written.\n"
		   "Needs root and shikumi_ptdump.",
};

/* One step of demand: what was written so far, and what it mapped. */
struct demand_step {
	uint64_t written;
	struct leafcount lc;
	uint64_t pte_pages, pmd_pages, pud_pages;	/* added since the mmap */
	long long rss_kb, minflt;			/* added since the mmap */
};

struct demand_run {
	uint64_t size_mib, step_mib, addr, len;
	size_t nsteps;
	struct demand_step *steps;
};

/* Map, then write step by step, and count after each step. */
static int demand_gather(struct worker *w, struct demand_run *dr)
{
	uint64_t done = 0;
	struct pt_stats s0, s;
	long long rss0, flt0;
	size_t i;

	if (need_root() || worker_start(w) || worker_warm_up(w))
		return -1;
	dr->addr = worker_do(w, W_MMAP, 0, 0, dr->len, 0, SZ_2M);
	if (!dr->addr || !worker_do(w, W_MADVISE, MADV_NOHUGEPAGE, dr->addr, dr->len, 0, 0)) {
		p_err("mmap of %llu MiB in pid %d: %s", U(dr->size_mib), w->pid, strerror(errno));
		return -1;
	}
	if (pt_get_stats(w->pid, NULL, &s0))
		return -1;
	rss0 = proc_status_kb(w->pid, "VmRSS");
	flt0 = proc_minflt(w->pid);
	for (i = 0; i < dr->nsteps; i++) {
		struct demand_step *st = &dr->steps[i];

		if (i) {
			uint64_t n = dr->step_mib * MIB < dr->len - done ?
				     dr->step_mib * MIB : dr->len - done;

			worker_do(w, W_TOUCH, 1, dr->addr + done, n, SZ_4K, 0);
			done += n;
		}
		if (pt_get_stats(w->pid, NULL, &s) ||
		    count_leaves(w->pid, dr->addr, dr->addr + dr->len, &st->lc, NULL, NULL))
			return -1;
		st->rss_kb = proc_status_kb(w->pid, "VmRSS") - rss0;
		st->minflt = proc_minflt(w->pid) - flt0;
		st->written = done;
		st->pte_pages = s.tables[SHIKUMI_PT_PTE] - s0.tables[SHIKUMI_PT_PTE];
		st->pmd_pages = s.tables[SHIKUMI_PT_PMD] - s0.tables[SHIKUMI_PT_PMD];
		st->pud_pages = s.tables[SHIKUMI_PT_PUD] - s0.tables[SHIKUMI_PT_PUD];
	}
	return 0;
}

static void demand_json(pid_t pid, const struct demand_run *dr, const char *svg)
{
	struct json *j = json_stdout();
	size_t i;

	json_object_begin(j, NULL);
	json_u64(j, "pid", (uint64_t)pid);
	json_u64(j, "addr", dr->addr);
	json_u64(j, "size", dr->len);
	json_array_begin(j, "steps");
	for (i = 0; i < dr->nsteps; i++) {
		const struct demand_step *st = &dr->steps[i];

		json_object_begin(j, NULL);
		json_u64(j, "written", st->written);
		json_u64(j, "ptes", st->lc.pte);
		json_u64(j, "pmd_leaves", st->lc.pmd);
		json_i64(j, "pte_pages", (int64_t)st->pte_pages);
		json_i64(j, "pmd_pages", (int64_t)st->pmd_pages);
		json_i64(j, "pud_pages", (int64_t)st->pud_pages);
		json_i64(j, "vmrss_kb", st->rss_kb);
		json_i64(j, "minflt", st->minflt);
		json_object_end(j);
	}
	json_array_end(j);
	json_string(j, "svg", svg);
	json_object_end(j);
	json_free(j);
}

static void demand_text(pid_t pid, const struct demand_run *dr)
{
	size_t i;

	printf("pid %d maps %llu MiB at 0x%llx (MADV_NOHUGEPAGE) and writes it %llu MiB at a time\n",
	       pid, U(dr->size_mib), U(dr->addr), U(dr->step_mib));
	printf("%9s %10s %10s %10s %10s %12s %12s\n", "WRITTEN", "PTEs", "PTE pages",
	       "PMD pages", "PUD pages", "VmRSS kB", "minor flt");
	printf("%9s %10s %10s %10s %10s %12s %12s\n", "", "(in VMA)", "(+)", "(+)",
	       "(+)", "(+)", "(+)");
	for (i = 0; i < dr->nsteps; i++) {
		const struct demand_step *st = &dr->steps[i];

		printf("%6llu MiB %10llu %+10lld %+10lld %+10lld %+12lld %+12lld\n",
		       U(st->written / MIB), U(st->lc.pte),
		       (long long)st->pte_pages, (long long)st->pmd_pages,
		       (long long)st->pud_pages, st->rss_kb, st->minflt);
	}
	printf("Each 4 KiB written is one fault and one PTE; each 2 MiB needs one more\n"
	       "PTE page (512 entries), each 1 GiB one more PMD page.\n");
}

/* @x holds six series of @n: x, PTEs, VmRSS, faults, PTE and PMD pages */
static int demand_plot(const char *svg, const double *x, size_t n)
{
	struct plot_series a[3] = {
		{ "present PTEs", x, x + n, n, false },
		{ "VmRSS / 4 KiB", x, x + 2 * n, n, false },
		{ "minor faults", x, x + 3 * n, n, false },
	};
	struct plot_series b[2] = {
		{ "PTE pages", x, x + 4 * n, n, false },
		{ "PMD pages", x, x + 5 * n, n, false },
	};
	struct plot panels[2] = {
		{ "Pages mapped as they are written", "MiB written", "pages", false,
		  false, a, 3 },
		{ "Page-table pages added", "MiB written", "page-table pages", false,
		  false, b, 2 },
	};

	return write_svg_file(svg, "shikumi pt demo demand: demand paging", panels, 2);
}

static int demand_svg(const char *svg, const struct demand_run *dr)
{
	size_t n = dr->nsteps, i;
	double *x = calloc(6 * n, sizeof(double));
	int ret;

	if (!x) {
		p_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const struct demand_step *st = &dr->steps[i];

		x[i] = (double)st->written / (double)MIB;
		x[n + i] = (double)st->lc.pte;
		x[2 * n + i] = (double)st->rss_kb / 4;
		x[3 * n + i] = (double)st->minflt;
		x[4 * n + i] = (double)st->pte_pages;
		x[5 * n + i] = (double)st->pmd_pages;
	}
	ret = demand_plot(svg, x, n);
	free(x);
	return ret;
}

static int demo_demand(int argc, char **argv)
{
	uint64_t size_mib = 100, step_mib = 10;
	const char *svg = NULL;
	const struct opt opts[] = {
		OPT_NUM('s', "size", &size_mib, "MIB", "mapping size (default 100)"),
		OPT_NUM(0, "step", &step_mib, "MIB", "written per step (default 10)"),
		OPT_STR(0, "svg", &svg, "FILE", "plot to FILE"),
		OPT_FINISH(),
	};
	struct worker w = { 0 };
	struct demand_run dr = { 0 };
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &demand_help);
	if (first < argc)
		return usage_error(&demand_help, "unexpected argument '%s'", argv[first]);
	if (!size_mib || size_mib > 4096 || !step_mib || step_mib > size_mib)
		return usage_error(&demand_help,
				   "--size must be 1 to 4096 MiB and --step 1 to --size");
	dr.size_mib = size_mib;
	dr.step_mib = step_mib;
	dr.len = size_mib * MIB;
	dr.nsteps = (size_t)((size_mib + step_mib - 1) / step_mib) + 1;
	dr.steps = calloc(dr.nsteps, sizeof(*dr.steps));
	if (!dr.steps) {
		p_err("out of memory");
		goto out;
	}
	if (demand_gather(&w, &dr))
		goto out;
	if (opt_json)
		demand_json(w.pid, &dr, svg);
	else
		demand_text(w.pid, &dr);
	if (svg) {
		if (demand_svg(svg, &dr))
			goto out;
		if (!opt_json)
			printf("plot written to %s\n", svg);
	}
	ret = EXIT_OK;
out:
	worker_stop(&w);
	free(dr.steps);
	return ret;
}

/* ---- demo thp --------------------------------------------------------------------- */

static const struct cmd_help thp_help = {
	.usage = "[--json]",
	.summary = "Transparent huge pages: a child maps 4 MiB aligned to 2 MiB, asks for\n"
		   "huge pages on the first 2 MiB (madvise MADV_HUGEPAGE) and refuses them\n"
		   "on the second (MADV_NOHUGEPAGE), and writes both.  The first should be\n"
		   "one PMD entry mapping a 2 MiB page; the second, 512 PTEs of 4 KiB.",
	.details = "If THP is 'never' in " THP_DIR "/enabled, or the kernel\n"
		   "has no THP, both are PTEs: that is the expected result then.\n"
		   "Needs root and shikumi_ptdump.",
};

/* What thp saw: the THP settings, the two halves' leaves, and vmstat. */
struct thp_run {
	char enabled[128], defrag[128];
	bool thp_on;
	pid_t pid;
	uint64_t addr;
	long long alloc0, fb0, alloc1, fb1;
	struct leafcount la, lb;
	struct pt_dump da, db;
};

/* Map 4 MiB, huge pages asked on one half and refused on the other; write it. */
static int thp_gather(struct worker *w, struct thp_run *r)
{
	uint64_t addr;

	r->pid = w->pid;
	addr = worker_do(w, W_MMAP, 0, 0, 2 * SZ_2M, 0, SZ_2M);
	r->addr = addr;
	if (!addr) {
		p_err("mmap of 4 MiB: %s", strerror(errno));
		return -1;
	}
	if ((!worker_do(w, W_MADVISE, MADV_HUGEPAGE, addr, SZ_2M, 0, 0) ||
	     !worker_do(w, W_MADVISE, MADV_NOHUGEPAGE, addr + SZ_2M, SZ_2M, 0, 0)) &&
	    r->thp_on) {
		p_err("madvise: %s", strerror(errno));
		return -1;
	}
	r->alloc0 = vmstat("thp_fault_alloc");
	r->fb0 = vmstat("thp_fault_fallback");
	worker_do(w, W_TOUCH, 1, addr, 2 * SZ_2M, SZ_4K, 0);
	r->alloc1 = vmstat("thp_fault_alloc");
	r->fb1 = vmstat("thp_fault_fallback");
	if (count_leaves(w->pid, addr, addr + SZ_2M, &r->la, NULL, NULL) ||
	    count_leaves(w->pid, addr + SZ_2M, addr + 2 * SZ_2M, &r->lb, NULL, NULL) ||
	    pt_translate(w->pid, addr, &r->da) || pt_translate(w->pid, addr + SZ_2M, &r->db))
		return -1;
	return 0;
}

static void thp_json(const struct thp_run *r)
{
	struct json *j = json_stdout();
	const struct leafcount *la = &r->la, *lb = &r->lb;
	struct xlate xa, xb;

	json_object_begin(j, NULL);
	json_u64(j, "pid", (uint64_t)r->pid);
	json_string(j, "enabled", r->enabled);
	json_string(j, "defrag", r->defrag);
	json_u64(j, "addr", r->addr);
	json_object_begin(j, "hugepage");
	json_u64(j, "pmd_leaves", la->pmd);
	json_u64(j, "pte_leaves", la->pte);
	xlate_render(&r->da, r->addr, j, "", &xa);
	json_object_end(j);
	json_object_begin(j, "nohugepage");
	json_u64(j, "pmd_leaves", lb->pmd);
	json_u64(j, "pte_leaves", lb->pte);
	xlate_render(&r->db, r->addr + SZ_2M, j, "", &xb);
	json_object_end(j);
	json_i64(j, "thp_fault_alloc", r->alloc1 - r->alloc0);
	json_i64(j, "thp_fault_fallback", r->fb1 - r->fb0);
	json_bool(j, "expected", r->thp_on ? la->pmd == 1 && !lb->pmd : !la->pmd && !lb->pmd);
	json_object_end(j);
	json_free(j);
}

static void thp_text(const struct thp_run *r)
{
	uint64_t addr = r->addr;
	struct xlate xa, xb;

	printf("THP: enabled [%s], defrag [%s] (%s)\n", r->enabled, r->defrag, THP_DIR);
	printf("pid %d maps 4 MiB at 0x%llx (2 MiB aligned) and writes all of it\n\n",
	       r->pid, U(addr));
	printf("0x%llx-0x%llx MADV_HUGEPAGE:   %llu PMD leaves (2 MiB), %llu PTE leaves (4 KiB)\n",
	       U(addr), U(addr + SZ_2M), U(r->la.pmd), U(r->la.pte));
	xlate_render(&r->da, addr, NULL, "    ", &xa);
	printf("0x%llx-0x%llx MADV_NOHUGEPAGE: %llu PMD leaves (2 MiB), %llu PTE leaves (4 KiB)\n",
	       U(addr + SZ_2M), U(addr + 2 * SZ_2M), U(r->lb.pmd), U(r->lb.pte));
	xlate_render(&r->db, addr + SZ_2M, NULL, "    ", &xb);
	printf("\nthp_fault_alloc %+lld, thp_fault_fallback %+lld (/proc/vmstat)\n",
	       r->alloc1 - r->alloc0, r->fb1 - r->fb0);
	if (!r->thp_on)
		printf("THP is %s here, so 4 KiB PTEs everywhere is the expected result.\n",
		       strcmp(r->enabled, "absent") ? "'never'" : "not in this kernel");
	else if (r->la.pmd == 1)
		printf("As expected: one PMD entry with PSE maps the whole 2 MiB, and no PTE\n"
		       "page is walked for it; the other half needs a PTE page of 512 entries.\n");
	else
		printf("The kernel fell back to 4 KiB pages for the MADV_HUGEPAGE half: it found\n"
		       "no free 2 MiB block (see thp_fault_fallback); try after\n"
		       "'echo 1 > /proc/sys/vm/compact_memory'.\n");
}

static int demo_thp(int argc, char **argv)
{
	const struct opt opts[] = { OPT_FINISH() };
	struct thp_run r = { 0 };
	struct worker w = { 0 };
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &thp_help);
	if (first < argc)
		return usage_error(&thp_help, "unexpected argument '%s'", argv[first]);
	thp_setting("enabled", r.enabled, sizeof(r.enabled));
	thp_setting("defrag", r.defrag, sizeof(r.defrag));
	r.thp_on = strcmp(r.enabled, "never") && strcmp(r.enabled, "absent");
	if (need_root() || worker_start(&w) || worker_warm_up(&w))
		return EXIT_FAIL;
	if (thp_gather(&w, &r))
		goto out;
	if (opt_json)
		thp_json(&r);
	else
		thp_text(&r);
	ret = EXIT_OK;
out:
	pt_dump_free(&r.da);
	pt_dump_free(&r.db);
	worker_stop(&w);
	return ret;
}

/* ---- demo sparse -------------------------------------------------------------------- */

struct layout {
	const char *name;
	uint64_t stride;
	uint64_t tables[SHIKUMI_PT_LEVELS];	/* added */
	uint64_t leaves;
};

static int bars_svg(const char *path, const struct layout *ly, size_t n,
		    uint64_t npages)
{
	static const char *const colors[] = { "#1f77b4", "#ff7f0e", "#2ca02c" };
	static const int levels[] = { SHIKUMI_PT_PTE, SHIKUMI_PT_PMD, SHIKUMI_PT_PUD };
	const double W = 640, H = 420, x0 = 80, y0 = 60, pw = 520, ph = 280;
	double maxv = 1, bw = pw / (double)n * 0.5;
	size_t i, k;
	FILE *f;

	for (i = 0; i < n; i++) {
		double t = 0;

		for (k = 0; k < 3; k++)
			t += (double)ly[i].tables[levels[k]];
		if (t > maxv)
			maxv = t;
	}
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
		"<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
		"font-family='sans-serif' font-size='12'>\n"
		"<rect width='%.0f' height='%.0f' fill='white'/>\n", W, H, W, H);
	fprintf(f, "<text x='%.0f' y='28' text-anchor='middle' font-size='15'>"
		"Page-table pages for %llu touched pages, by layout</text>\n", W / 2, U(npages));
	fprintf(f, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='black'/>\n",
		x0, y0 + ph, x0 + pw, y0 + ph);
	fprintf(f, "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='black'/>\n",
		x0, y0, x0, y0 + ph);
	fprintf(f, "<text transform='translate(24 %.0f) rotate(-90)' text-anchor='middle'>"
		"page-table pages added</text>\n", y0 + ph / 2);
	for (k = 0; k <= 4; k++) {
		double v = maxv * (double)k / 4, y = y0 + ph - ph * (double)k / 4;

		fprintf(f, "<text x='%.0f' y='%.1f' text-anchor='end'>%.0f</text>\n",
			x0 - 6, y + 4, v);
	}
	for (i = 0; i < n; i++) {
		double cx = x0 + pw * ((double)i + 0.5) / (double)n, y = y0 + ph, total = 0;

		for (k = 0; k < 3; k++) {
			double v = (double)ly[i].tables[levels[k]], h = ph * v / maxv;

			total += v;
			if (h <= 0)
				continue;
			y -= h;
			fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s'/>\n",
				cx - bw / 2, y, bw, h, colors[k]);
		}
		fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%.0f pages, %.1f%%</text>\n",
			cx, y - 6, total, 100.0 * total / (double)npages);
		fprintf(f, "<text x='%.1f' y='%.0f' text-anchor='middle'>%s</text>\n", cx,
			y0 + ph + 20, ly[i].name);
	}
	for (k = 0; k < 3; k++) {
		fprintf(f, "<rect x='%.0f' y='%.0f' width='14' height='14' fill='%s'/>\n",
			x0 + 20 + 140 * (double)k, H - 40, colors[k]);
		fprintf(f, "<text x='%.0f' y='%.0f'>%s pages</text>\n",
			x0 + 40 + 140 * (double)k, H - 28, level_names[levels[k]]);
	}
	fprintf(f, "</svg>\n");
	if (fclose(f)) {
		p_err("cannot write %s", path);
		return -1;
	}
	return 0;
}

static const struct cmd_help sparse_help = {
	.usage = "[--pages N] [--svg FILE] [--json]",
	.summary = "Sparse versus dense: a child touches N pages (default 256) side by\n"
		   "side, then the same N pages 2 MiB apart, then 1 GiB apart, and counts\n"
		   "the page-table pages each layout added per level: the cost of the\n"
		   "tables per byte of memory mapped.",
	.details = "Each layout is one MAP_NORESERVE|MADV_NOHUGEPAGE mapping, unmapped\n"
		   "before the next, aligned to 1 GiB (512 GiB for the last) so that it\n"
		   "shares no table with other mappings.  -o draws the page-table pages as stacked bars.\n"
		   "Needs root and shikumi_ptdump.",
};

/* Map, touch and unmap each layout in turn, counting what it added. */
static int sparse_gather(struct worker *w, struct layout *ly, size_t nly, uint64_t npages)
{
	struct pt_stats s0, s1;
	struct leafcount lc;
	size_t i;
	int l;

	for (i = 0; i < nly; i++) {
		/*
		 * Each layout gets address space of its own, aligned to what
		 * one table of the level above maps, so that it shares no PTE
		 * or PMD page with other mappings: what it adds is its own.
		 */
		uint64_t align = ly[i].stride == SZ_1G ? 512 * SZ_1G : SZ_1G;
		uint64_t len = (npages * ly[i].stride + align - 1) & ~(align - 1), addr;

		if (pt_get_stats(w->pid, NULL, &s0))
			return -1;
		addr = worker_do(w, W_MMAP, WM_NORESERVE, 0, len, 0, align);
		if (!addr || !worker_do(w, W_MADVISE, MADV_NOHUGEPAGE, addr, len, 0, 0) ||
		    !worker_do(w, W_TOUCH, 1, addr, npages * ly[i].stride, ly[i].stride, 0)) {
			p_err("%s: mapping %llu MiB: %s", ly[i].name, U(len / MIB),
			      strerror(errno));
			return -1;
		}
		if (pt_get_stats(w->pid, NULL, &s1) ||
		    count_leaves(w->pid, addr, addr + len, &lc, NULL, NULL))
			return -1;
		for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
			ly[i].tables[l] = s1.tables[l] - s0.tables[l];
		ly[i].leaves = lc.pte + lc.pmd + lc.pud;
		worker_do(w, W_MUNMAP, 0, addr, len, 0, 0);
	}
	return 0;
}

/* The page-table pages a layout added, all levels. */
static uint64_t layout_tables(const struct layout *ly)
{
	uint64_t t = 0;
	int l;

	for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
		t += ly->tables[l];
	return t;
}

static void sparse_json(pid_t pid, const struct layout *ly, size_t nly, uint64_t npages,
			const char *svg)
{
	struct json *j = json_stdout();
	size_t i;

	json_object_begin(j, NULL);
	json_u64(j, "pid", (uint64_t)pid);
	json_u64(j, "pages", npages);
	json_array_begin(j, "layouts");
	for (i = 0; i < nly; i++) {
		uint64_t t = layout_tables(&ly[i]);
		double ov = (double)(t * SZ_4K) / (double)(npages * SZ_4K);

		json_object_begin(j, NULL);
		json_string(j, "layout", ly[i].name);
		json_u64(j, "stride", ly[i].stride);
		json_u64(j, "leaves", ly[i].leaves);
		json_u64(j, "pte_pages", ly[i].tables[SHIKUMI_PT_PTE]);
		json_u64(j, "pmd_pages", ly[i].tables[SHIKUMI_PT_PMD]);
		json_u64(j, "pud_pages", ly[i].tables[SHIKUMI_PT_PUD]);
		json_u64(j, "upper_pages", ly[i].tables[SHIKUMI_PT_P4D] +
			 ly[i].tables[SHIKUMI_PT_PGD]);
		json_u64(j, "table_bytes", t * SZ_4K);
		json_double(j, "overhead_per_mapped_byte", ov);
		json_object_end(j);
	}
	json_array_end(j);
	json_string(j, "svg", svg);
	json_object_end(j);
	json_free(j);
}

static void sparse_text(pid_t pid, const struct layout *ly, size_t nly, uint64_t npages)
{
	size_t i;

	printf("pid %d touches %llu pages (%llu KiB) in three layouts\n", pid,
	       U(npages), U(npages * 4));
	printf("%-20s %7s %9s %9s %9s %9s %11s %10s\n", "LAYOUT", "LEAVES",
	       "PTE pages", "PMD pages", "PUD pages", "P4D/PGD", "TABLE BYTES",
	       "OVERHEAD");
	for (i = 0; i < nly; i++) {
		uint64_t t = layout_tables(&ly[i]);
		double ov = (double)(t * SZ_4K) / (double)(npages * SZ_4K);

		printf("%-20s %7llu %9llu %9llu %9llu %9llu %11llu %9.1f%%\n", ly[i].name,
		       U(ly[i].leaves), U(ly[i].tables[SHIKUMI_PT_PTE]),
		       U(ly[i].tables[SHIKUMI_PT_PMD]), U(ly[i].tables[SHIKUMI_PT_PUD]),
		       U(ly[i].tables[SHIKUMI_PT_P4D] + ly[i].tables[SHIKUMI_PT_PGD]),
		       U(t * SZ_4K), 100.0 * ov);
	}
	printf("OVERHEAD: bytes of page tables per byte mapped.  A PTE page maps 2 MiB\n"
	       "and a PMD page 1 GiB: pages far apart each need tables of their own.\n");
}

static int demo_sparse(int argc, char **argv)
{
	uint64_t npages = 256;
	const char *svg = NULL;
	const struct opt opts[] = {
		OPT_NUM('n', "pages", &npages, "N", "pages to touch (default 256)"),
		OPT_STR(0, "svg", &svg, "FILE", "bar chart to FILE"),
		OPT_FINISH(),
	};
	struct layout ly[] = {
		{ "dense (4 KiB apart)", SZ_4K, { 0 }, 0 },
		{ "2 MiB apart", SZ_2M, { 0 }, 0 },
		{ "1 GiB apart", SZ_1G, { 0 }, 0 },
	};
	const size_t nly = ARRAY_SIZE(ly);
	struct worker w = { 0 };
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &sparse_help);
	if (first < argc)
		return usage_error(&sparse_help, "unexpected argument '%s'", argv[first]);
	if (!npages || npages > 4096)
		return usage_error(&sparse_help, "--pages must be 1 to 4096");
	if (need_root() || worker_start(&w))
		return EXIT_FAIL;
	if (worker_warm_up(&w) || sparse_gather(&w, ly, nly, npages))
		goto out;
	if (opt_json)
		sparse_json(w.pid, ly, nly, npages, svg);
	else
		sparse_text(w.pid, ly, nly, npages);
	if (svg) {
		if (bars_svg(svg, ly, nly, npages))
			goto out;
		if (!opt_json)
			printf("chart written to %s\n", svg);
	}
	ret = EXIT_OK;
out:
	worker_stop(&w);
	return ret;
}

static const struct cmd demo_cmds[] = {
	{ "mmap",   demo_mmap,   "mmap 1 GiB: a VMA, and no page tables behind it" },
	{ "demand", demo_demand, "demand paging: PTEs and table pages as memory is written" },
	{ "cow",    demo_cow,    "copy-on-write after fork: shared PFNs, write bits, copies" },
	{ "thp",    demo_thp,    "transparent huge pages: a PMD leaf against 512 PTEs" },
	{ "sparse", demo_sparse, "sparse vs dense: page-table pages per byte mapped" },
	{ NULL, NULL, NULL },
};

int pt_demo(int argc, char **argv)
{
	return run_subcommand(argc, argv, demo_cmds,
			      "shikumi pt demo mmap|demand|cow|thp|sparse [OPTIONS]");
}
