// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt stats: a process's page-table pages per level and its leaves
 * per page size, against the kernel's own counts (VmPTE, VmRSS) and the
 * lag VmRSS may have.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pt.h"

/* ---- stats ------------------------------------------------------------------ */

/* What a full walk says that the per-level statistics do not. */
struct walk_rss {
	uint64_t pages;		/* 4 KiB units mapped by present leaves */
	uint64_t rss_pages;	/* of which VmRSS counts */
	uint64_t zero, nopage, hugetlb;	/* 4 KiB units VmRSS leaves out */
	uint64_t deposits;	/* PTE pages deposited under anonymous THPs */
	uint64_t nonpresent;	/* entries not present, of which: */
	uint64_t swap;		/* swap entries: 4 KiB pages (VmSwap counts them) */
	uint64_t migration;	/* entries of pages being moved */
};

static void walk_nonpresent(const struct shikumi_pt_rec *r, struct walk_rss *w)
{
	w->nonpresent++;
	switch (SHIKUMI_PT_NP_KIND(r->flags)) {
	case SHIKUMI_PT_NP_SWAP:
		w->swap++;	/* a swap entry is a PTE: one 4 KiB page */
		break;
	case SHIKUMI_PT_NP_MIGRATION_READ:
	case SHIKUMI_PT_NP_MIGRATION_READ_EXCL:
	case SHIKUMI_PT_NP_MIGRATION_WRITE:
		w->migration++;
		break;
	default:
		break;
	}
}

static void walk_rss(const struct pt_dump *d, struct walk_rss *w)
{
	bool la57 = paging_levels(&d->r[0]) == 5;
	uint32_t vf = 0;
	size_t i;

	memset(w, 0, sizeof(*w));
	for (i = 1; i < d->n; i++) {
		const struct shikumi_pt_rec *r = &d->r[i];
		uint64_t n;

		if (r->type == SHIKUMI_PT_REC_VMA)
			vf = r->flags;
		if (r->type == SHIKUMI_PT_REC_NONPRESENT)
			walk_nonpresent(r, w);
		if (r->type != SHIKUMI_PT_REC_LEAF)
			continue;
		n = level_size(r->level, la57) / SZ_4K;
		w->pages += n;
		if (vf & SHIKUMI_PT_VMA_HUGETLB)
			w->hugetlb += n;
		else if (r->flags & SHIKUMI_PT_F_ZERO)
			w->zero += n;
		else if (r->flags & (SHIKUMI_PT_F_NOPAGE | SHIKUMI_PT_F_SPECIAL))
			w->nopage += n;
		else
			w->rss_pages += n;
		/*
		 * x86 keeps a PTE page aside ("deposited") under every anonymous
		 * PMD mapping, for splitting it later, and counts it in VmPTE.
		 */
		if (r->level == SHIKUMI_PT_PMD && !(vf & SHIKUMI_PT_VMA_HUGETLB) &&
		    ((r->flags & SHIKUMI_PT_F_ANON) ||
		     ((r->flags & SHIKUMI_PT_F_ZERO) && !(vf & SHIKUMI_PT_VMA_SHARED))))
			w->deposits++;
	}
}

/*
 * How far VmRSS may lag behind the page tables, and why: the kernel does
 * not add every page to the process's counters at once.
 *  - Since 6.2 (percpu): each of the three counters that make VmRSS (anon,
 *    file, shmem) is per CPU, and /proc reads only what the CPUs have
 *    folded in: each CPU keeps up to percpu_counter_batch - 1 pages
 *    (batch = max(32, 2 * CPUs)).
 *  - Before (split RSS counting): each thread keeps its own changes and
 *    adds them to the process's counters every 64 page faults
 *    (TASK_RSS_EVENTS_THRESH), and one fault may map up to
 *    fault_around_bytes of a file (16 pages by default).  A sleeping
 *    thread adds its share at its next fault, or when it exits.
 */
struct rss_lag {
	bool percpu;		/* since 6.2; else split RSS counting */
	uint64_t slack_kb;
	long threads, cpus, batch, fault_around;
};

static void rss_lag(pid_t pid, struct rss_lag *r)
{
	char rel[64] = "";
	int major = 0, minor = 0;
	long long v;

	r->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (r->cpus < 1)
		r->cpus = 1;
	r->batch = r->cpus * 2 > 32 ? r->cpus * 2 : 32;
	r->threads = proc_status_kb(pid, "Threads");
	if (r->threads < 1)
		r->threads = 1;
	v = -1;
	if (!read_file_str("/sys/kernel/debug/fault_around_bytes", rel, sizeof(rel)))
		v = atoll(rel) / 4096;
	r->fault_around = v > 0 ? v : 16;
	if (read_file_str("/proc/sys/kernel/osrelease", rel, sizeof(rel)) ||
	    sscanf(rel, "%d.%d", &major, &minor) != 2) {
		major = 6;
		minor = 2;
	}
	r->percpu = major > 6 || (major == 6 && minor >= 2);
	if (r->percpu)
		r->slack_kb = 3 * (uint64_t)r->cpus * (r->batch - 1) * 4;
	else
		r->slack_kb = (uint64_t)r->threads * 65 * r->fault_around * 4;
}

static void rss_lag_text(const struct rss_lag *r)
{
	if (r->percpu)
		printf("  (since 6.2 VmRSS adds up per-CPU counters, and each of %ld CPUs may\n"
		       "  hold back up to %ld pages of each of 3 counters)\n",
		       r->cpus, r->batch - 1);
	else
		printf("  (before 6.2 each thread adds its RSS changes to VmRSS only every\n"
		       "  64 page faults, and a fault may map %ld pages: %ld thread(s) x 65\n"
		       "  faults x %ld pages; a sleeping thread adds its share at its next\n"
		       "  fault or when it exits)\n",
		       r->fault_around, r->threads, r->fault_around);
}

static const struct cmd_help stats_help = {
	.usage = "PID [--range START-END] [--json]",
	.summary = "Count the page tables of process PID: page-table pages per level (and\n"
		   "their bytes), and present leaves per page size.",
	.details =
	"Then compares with what the kernel counts itself, in /proc/PID/status:\n"
	"  VmPTE  the bytes of PUD, PMD and PTE pages (the PGD is not counted), and\n"
	"         one PTE page deposited under each anonymous 2 MiB THP\n"
	"  VmRSS  the resident pages; the zero page, pages with no struct page\n"
	"         and hugetlb pages are not counted\n"
	"  VmSwap the pages swapped out: the swap entries in the page tables\n"
	"         (a swapped-out page of shared memory or tmpfs leaves its entry\n"
	"         empty, and is in neither)\n"
	"VmRSS may lag behind the tables, by a bound the kernel allows and the\n"
	"command prints: per-CPU counters since 6.2, per-thread ones before.\n"
	"Beyond it, the process ran meanwhile: kill -STOP it.\n"
	"Needs root and shikumi_ptdump.",
};

/* What stats reports, gathered before it is printed. */
struct stats_report {
	pid_t pid;
	const char *range;
	char comm[64];
	struct pt_stats st;
	struct walk_rss w;
	struct rss_lag lag;
	long long vmrss, vmpte, vmswap;
	uint64_t walk_pte_kb, slack, rss_kb, mapped;
	bool pte_agree, rss_agree, rss_slack_ok;
};

static int stats_gather(pid_t pid, const char *range, struct stats_report *s)
{
	struct pt_stats *st = &s->st;
	struct pt_dump d;
	int l;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->range = range;
	if (pt_get_stats(pid, range, st))
		return EXIT_FAIL;
	if (fetch_range(pid, "full", range, &d))
		return EXIT_FAIL;
	walk_rss(&d, &s->w);
	pt_dump_free(&d);
	s->vmrss = proc_status_kb(pid, "VmRSS");
	s->vmpte = proc_status_kb(pid, "VmPTE");
	s->vmswap = proc_status_kb(pid, "VmSwap");
	rss_lag(pid, &s->lag);
	s->slack = s->lag.slack_kb;
	proc_comm(pid, s->comm, sizeof(s->comm));
	for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
		s->mapped += st->leaves[l] * level_size((unsigned int)l, st->levels == 5);

	s->walk_pte_kb = (st->tables[SHIKUMI_PT_PUD] + st->tables[SHIKUMI_PT_PMD] +
			  st->tables[SHIKUMI_PT_PTE] + st->kept) * 4;
	s->rss_kb = s->w.rss_pages * 4;
	s->pte_agree = s->vmpte >= 0 && (uint64_t)s->vmpte == s->walk_pte_kb;
	s->rss_agree = s->vmrss >= 0 && (uint64_t)s->vmrss == s->rss_kb;
	s->rss_slack_ok = s->vmrss >= 0 &&
			  (uint64_t)llabs(s->vmrss - (long long)s->rss_kb) <= s->slack;
	return EXIT_OK;
}

static void stats_json_levels(struct json *j, const struct pt_stats *st)
{
	int l;

	json_array_begin(j, "per_level");
	for (l = 0; l < SHIKUMI_PT_LEVELS; l++) {
		json_object_begin(j, NULL);
		json_string(j, "level", level_names[l]);
		json_u64(j, "table_pages", st->tables[l]);
		json_u64(j, "table_bytes", st->tables[l] * SZ_4K);
		json_u64(j, "leaves", st->leaves[l]);
		json_u64(j, "entry_size", level_size((unsigned int)l, st->levels == 5));
		json_object_end(j);
	}
	json_array_end(j);
}

/* What /proc/PID/status said, or null where it did not say. */
static void json_kernel_kb(struct json *j, long long kb)
{
	if (kb >= 0)
		json_u64(j, "kernel_kb", (uint64_t)kb);
	else
		json_null(j, "kernel_kb");
}

static void stats_json(const struct stats_report *s)
{
	const struct pt_stats *st = &s->st;
	const struct walk_rss *w = &s->w;
	struct json *j = json_stdout();

	json_object_begin(j, NULL);
	json_u64(j, "pid", (uint64_t)s->pid);
	json_string(j, "comm", s->comm);
	json_u64(j, "levels", st->levels);
	json_bool(j, "p4d_folded", st->hflags & SHIKUMI_PT_H_P4D_FOLDED);
	json_string(j, "range", s->range);
	stats_json_levels(j, st);
	json_u64(j, "table_pages", stats_tables(st));
	json_u64(j, "table_bytes", stats_tables(st) * SZ_4K);
	json_u64(j, "mapped_bytes", s->mapped);
	json_object_begin(j, "vmpte");
	json_kernel_kb(j, s->vmpte);
	json_u64(j, "walk_kb", s->walk_pte_kb);
	json_u64(j, "thp_deposits", st->kept);
	/* the same, counted here from the walk's anonymous PMD leaves */
	json_u64(j, "thp_deposits_walk", w->deposits);
	json_bool(j, "agree", s->pte_agree);
	json_object_end(j);
	json_object_begin(j, "rss");
	json_kernel_kb(j, s->vmrss);
	json_u64(j, "walk_kb", s->rss_kb);
	json_u64(j, "zero_page_kb", w->zero * 4);
	json_u64(j, "nopage_kb", w->nopage * 4);
	json_u64(j, "hugetlb_kb", w->hugetlb * 4);
	json_u64(j, "nonpresent_entries", w->nonpresent);
	json_u64(j, "migration_entries", w->migration);
	json_bool(j, "agree", s->rss_agree);
	json_u64(j, "slack_kb", s->slack);
	json_string(j, "lag_model", s->lag.percpu ? "percpu" : "split_rss");
	json_u64(j, "threads", (uint64_t)s->lag.threads);
	json_bool(j, "within_slack", s->rss_slack_ok);
	json_object_end(j);
	json_object_begin(j, "swap");
	json_kernel_kb(j, s->vmswap);
	json_u64(j, "walk_kb", w->swap * 4);
	json_u64(j, "entries", w->swap);
	json_bool(j, "agree", s->vmswap >= 0 && (uint64_t)s->vmswap == w->swap * 4);
	json_object_end(j);
	json_object_end(j);
	json_free(j);
}

static void stats_text_levels(const struct stats_report *s)
{
	const struct pt_stats *st = &s->st;
	char sz[24], msz[24];
	int l;

	printf("pid %d (%s): page tables%s%s, %u-level paging\n", s->pid, s->comm,
	       s->range ? " in " : "", s->range ? s->range : "", st->levels);
	printf("  %-5s %11s %10s %9s  %s\n", "LEVEL", "TABLE PAGES", "BYTES",
	       "LEAVES", "ONE ENTRY MAPS");
	for (l = 0; l < SHIKUMI_PT_LEVELS; l++) {
		char bytes[24];

		if (l == SHIKUMI_PT_P4D && (st->hflags & SHIKUMI_PT_H_P4D_FOLDED)) {
			printf("  %-5s %11s %10s %9s  (folded into the PGD)\n", "p4d", "-",
			       "-", "-");
			continue;
		}
		printf("  %-5s %11llu %10s %9llu  %s\n", level_names[l], U(st->tables[l]),
		       size_str(st->tables[l] * SZ_4K, bytes, sizeof(bytes)),
		       U(st->leaves[l]),
		       size_str(level_size((unsigned int)l, st->levels == 5), sz, sizeof(sz)));
	}
	printf("  %-5s %11llu %10s            (%s mapped)\n", "total",
	       U(stats_tables(st)), size_str(stats_tables(st) * SZ_4K, sz, sizeof(sz)),
	       size_str(s->mapped, msz, sizeof(msz)));
	if (s->range)
		printf("  (VmPTE and VmRSS count the whole process; with --range they differ)\n");
}

static void stats_text(const struct stats_report *s)
{
	const struct pt_stats *st = &s->st;
	const struct walk_rss *w = &s->w;

	stats_text_levels(s);
	printf("\nVmPTE: the kernel says %lld kB; the walk: (pud %llu + pmd %llu + pte %llu",
	       s->vmpte, U(st->tables[SHIKUMI_PT_PUD]), U(st->tables[SHIKUMI_PT_PMD]),
	       U(st->tables[SHIKUMI_PT_PTE]));
	if (st->kept)
		printf(" + %llu deposited under THPs", U(st->kept));
	printf(") x 4 KiB = %llu kB: %s\n", U(s->walk_pte_kb),
	       s->pte_agree ? "they agree" : "they differ");
	printf("VmRSS: the kernel says %lld kB; the walk: %llu kB of present pages",
	       s->vmrss, U(s->rss_kb));
	if (w->zero || w->nopage || w->hugetlb)
		printf(" (not counting %llu kB of zero page, %llu kB without struct page, %llu kB hugetlb)",
		       U(w->zero * 4), U(w->nopage * 4), U(w->hugetlb * 4));
	if (s->rss_agree)
		printf(": they agree\n");
	else
		printf(":\n  they differ by %lld kB, %s the %llu kB the kernel's RSS counting may lag%s\n",
		       s->vmrss - (long long)s->rss_kb, s->rss_slack_ok ? "within" : "beyond",
		       U(s->slack),
		       s->rss_slack_ok ? "" : ": the process ran meanwhile (kill -STOP it)");
	if (!s->rss_agree)
		rss_lag_text(&s->lag);
	if (w->swap || s->vmswap > 0)
		printf("VmSwap: the kernel says %lld kB; the walk: %llu swap entries x 4 KiB = %llu kB: %s\n",
		       s->vmswap, U(w->swap), U(w->swap * 4),
		       s->vmswap >= 0 && (uint64_t)s->vmswap == w->swap * 4 ?
		       "they agree" : "they differ (the kernel's counters may lag, as VmRSS's)");
	if (w->nonpresent > w->swap)
		printf("%llu entries are not present: %llu swapped out, %llu being migrated, %llu other\n",
		       U(w->nonpresent), U(w->swap), U(w->migration),
		       U(w->nonpresent - w->swap - w->migration));
}

int pt_stats_cmd(int argc, char **argv)
{
	const char *range = NULL;
	const struct opt opts[] = {
		OPT_STR('r', "range", &range, "START-END", "only the VMAs in [START, END)"),
		OPT_FINISH(),
	};
	struct stats_report s;
	uint64_t a, b;
	int first;
	pid_t pid;

	first = parse_options(argc, argv, opts, &stats_help);
	if (first >= argc)
		return usage_error(&stats_help, "which process? give a PID");
	if (first + 1 < argc)
		return usage_error(&stats_help, "unexpected argument '%s'", argv[first + 1]);
	if (parse_pid(argv[first], &pid))
		return usage_error(&stats_help, "'%s' is not a process ID", argv[first]);
	if (range && parse_range(range, &a, &b))
		return usage_error(&stats_help, "bad range '%s': give START-END", range);

	if (stats_gather(pid, range, &s))
		return EXIT_FAIL;
	if (opt_json)
		stats_json(&s);
	else
		stats_text(&s);
	return EXIT_OK;
}
