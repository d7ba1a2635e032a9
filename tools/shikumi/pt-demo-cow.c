// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt demo cow: copy-on-write after fork, seen in the page tables
 * of parent and child: shared PFNs with the write bit cleared, then the
 * copies a write makes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pt.h"

/* ---- demo cow ------------------------------------------------------------------ */

struct pairs {
	uint64_t both, same_pfn, diff_pfn, w_a, w_b, only_a, only_b;
};

/* Compare the 4K leaves of @a and @b in [lo, hi), address by address. */
static void pair_count(const struct entry *a, size_t na, const struct entry *b,
		       size_t nb, uint64_t lo, uint64_t hi, struct pairs *p)
{
	size_t i = 0, k = 0;

	memset(p, 0, sizeof(*p));
	while (i < na || k < nb) {
		const struct entry *x = i < na ? &a[i] : NULL, *y = k < nb ? &b[k] : NULL;
		uint64_t va;

		if (x && y && x->va == y->va) {
			va = x->va;
			i++;
			k++;
			if (va < lo || va >= hi)
				continue;
			p->both++;
			if (x->pfn == y->pfn)
				p->same_pfn++;
			else
				p->diff_pfn++;
			p->w_a += !!(x->flags & SHIKUMI_PT_F_WRITE);
			p->w_b += !!(y->flags & SHIKUMI_PT_F_WRITE);
		} else if (x && (!y || x->va < y->va)) {
			i++;
			if (x->va >= lo && x->va < hi) {
				p->only_a++;
				p->w_a += !!(x->flags & SHIKUMI_PT_F_WRITE);
			}
		} else {
			k++;
			if (y->va >= lo && y->va < hi) {
				p->only_b++;
				p->w_b += !!(y->flags & SHIKUMI_PT_F_WRITE);
			}
		}
	}
}

static const struct entry *find_entry(const struct entry *e, size_t n, uint64_t va)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (e[mid].va == va)
			return &e[mid];
		if (e[mid].va < va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void print_examples(const char *la, const struct entry *a, size_t na,
			   const char *lb, const struct entry *b, size_t nb,
			   uint64_t lo, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		uint64_t va = lo + (uint64_t)i * SZ_4K;
		const struct entry *x = find_entry(a, na, va), *y = find_entry(b, nb, va);
		char pa[24] = "(none)", pb[24] = "(none)";

		if (x)
			snprintf(pa, sizeof(pa), "0x%llx", U(x->pfn));
		if (y)
			snprintf(pb, sizeof(pb), "0x%llx", U(y->pfn));
		printf("      0x%016llx  %s pfn %-9s %-2s %-6s  %s pfn %-9s %-2s %s\n", U(va),
		       la, pa, x ? (x->flags & SHIKUMI_PT_F_WRITE ? "RW" : "ro") : "",
		       x ? (x->flags & SHIKUMI_PT_F_SHARED ? "shared" : "excl") : "",
		       lb, pb, y ? (y->flags & SHIKUMI_PT_F_WRITE ? "RW" : "ro") : "",
		       y ? (y->flags & SHIKUMI_PT_F_SHARED ? "shared" : "excl") : "");
	}
}

static void json_pairs(struct json *j, const char *key, const struct pairs *p,
		       const char *a, const char *b)
{
	char k1[32], k2[32], k3[32], k4[32];

	snprintf(k1, sizeof(k1), "%s_writable", a);
	snprintf(k2, sizeof(k2), "%s_writable", b);
	snprintf(k3, sizeof(k3), "%s_only", a);
	snprintf(k4, sizeof(k4), "%s_only", b);
	json_object_begin(j, key);
	json_u64(j, "both_mapped", p->both);
	json_u64(j, "same_pfn", p->same_pfn);
	json_u64(j, "different_pfn", p->diff_pfn);
	json_u64(j, k1, p->w_a);
	json_u64(j, k2, p->w_b);
	json_u64(j, k3, p->only_a);
	json_u64(j, k4, p->only_b);
	json_object_end(j);
}

static void print_pairs(const char *what, const struct pairs *p, const char *a,
			const char *b)
{
	printf("    %-22s %llu mapped in both: %llu on the same PFN, %llu on different PFNs; "
	       "writable: %s %llu, %s %llu",
	       what, U(p->both), U(p->same_pfn), U(p->diff_pfn), a, U(p->w_a), b, U(p->w_b));
	if (p->only_a || p->only_b)
		printf("; only in the %s %llu, only in the %s %llu", a, U(p->only_a), b,
		       U(p->only_b));
	printf("\n");
}

static const struct cmd_help cow_help = {
	.usage = "[--pages N] [--json]",
	.summary = "Copy-on-write: shikumi maps N private pages (default 256) and N\n"
		   "MAP_SHARED pages, writes them, and forks.  Parent and child then map\n"
		   "the same PFNs with the write bit cleared; when the child writes, it\n"
		   "gets new PFNs, writable.  The shared mapping stays on one PFN in both,\n"
		   "writable.  Last, the parent writes: its pages are its own again.",
	.details = "The private mapping is MADV_NOHUGEPAGE (4 KiB pages).\n"
		   "Needs root and shikumi_ptdump.",
};

/*
 * What cow saw.  The entries of the private (p) and shared (s) mappings,
 * in the parent (pp, ps) and the child (cp, cs): [0] after fork, [1] after
 * the child writes, pp[2] after the parent writes.
 */
struct cow_run {
	pid_t self, child;
	uint64_t npages, len, half, priv, shr;
	struct entry *pp[3], *cp[2], *ps[2], *cs[2];
	size_t npp[3], ncp[2], nps[2], ncs[2];
	struct pairs p1, s1, p2w, p2n, s2, p2par, p3;
};

/* Map the private and the shared pages in shikumi itself, and write them. */
static int cow_map(struct cow_run *r)
{
	int err;

	r->priv = map_aligned(r->len, SZ_2M, 0, &err);
	if (!r->priv || madvise((void *)(uintptr_t)r->priv, r->len, MADV_NOHUGEPAGE)) {
		p_err("mapping %llu private pages: %s", U(r->npages), strerror(err ? err : errno));
		return -1;
	}
	r->shr = map_aligned(r->len, 0, WM_SHARED, &err);
	if (!r->shr) {
		p_err("mapping %llu shared pages: %s", U(r->npages), strerror(err));
		return -1;
	}
	touch(r->priv, r->len, SZ_4K, true);
	touch(r->shr, r->len, SZ_4K, true);
	return 0;
}

/* The entries of both mappings in parent and child, into slot @k. */
static int cow_count(struct cow_run *r, int k)
{
	uint64_t priv = r->priv, shr = r->shr, len = r->len;
	struct leafcount lc;

	return count_leaves(r->self, priv, priv + len, &lc, &r->pp[k], &r->npp[k]) ||
	       count_leaves(r->child, priv, priv + len, &lc, &r->cp[k], &r->ncp[k]) ||
	       count_leaves(r->self, shr, shr + len, &lc, &r->ps[k], &r->nps[k]) ||
	       count_leaves(r->child, shr, shr + len, &lc, &r->cs[k], &r->ncs[k]);
}

static int cow_gather(struct worker *w, struct cow_run *r)
{
	uint64_t priv = r->priv, shr = r->shr, len = r->len, half = r->half;
	struct leafcount lc;

	r->child = w->pid;
	/* 1: after fork */
	if (cow_count(r, 0))
		return -1;
	pair_count(r->pp[0], r->npp[0], r->cp[0], r->ncp[0], priv, priv + len, &r->p1);
	pair_count(r->ps[0], r->nps[0], r->cs[0], r->ncs[0], shr, shr + len, &r->s1);

	/* 2: the child writes half of the private pages, and the shared ones */
	if (!worker_do(w, W_TOUCH, 1, priv, half, SZ_4K, 0) ||
	    !worker_do(w, W_TOUCH, 1, shr, len, SZ_4K, 0)) {
		p_err("the child: %s", strerror(errno));
		return -1;
	}
	if (cow_count(r, 1))
		return -1;
	pair_count(r->pp[1], r->npp[1], r->cp[1], r->ncp[1], priv, priv + half, &r->p2w);
	pair_count(r->pp[1], r->npp[1], r->cp[1], r->ncp[1], priv + half, priv + len, &r->p2n);
	pair_count(r->pp[0], r->npp[0], r->pp[1], r->npp[1], priv, priv + len, &r->p2par);
	pair_count(r->ps[1], r->nps[1], r->cs[1], r->ncs[1], shr, shr + len, &r->s2);

	/* 3: the parent writes the same half */
	touch(priv, half, SZ_4K, true);
	if (count_leaves(r->self, priv, priv + len, &lc, &r->pp[2], &r->npp[2]))
		return -1;
	pair_count(r->pp[1], r->npp[1], r->pp[2], r->npp[2], priv, priv + half, &r->p3);
	return 0;
}

static void cow_text(const struct cow_run *r)
{
	printf("copy-on-write: shikumi (pid %d, the parent) maps %llu private pages at 0x%llx\n"
	       "and %llu MAP_SHARED pages at 0x%llx, writes them all, and forks pid %d.\n",
	       r->self, U(r->npages), U(r->priv), U(r->npages), U(r->shr), r->child);
	printf("\n1. after fork(), before anyone writes\n");
	print_pairs("private:", &r->p1, "parent", "child");
	print_examples("parent", r->pp[0], r->npp[0], "child", r->cp[0], r->ncp[0], r->priv, 3);
	print_pairs("shared:", &r->s1, "parent", "child");
	if (!r->s1.both && r->s1.only_a)
		printf("      fork() copies no PTEs of a shared mapping: the child will fault\n"
		       "      them in from the page cache on first access\n");

	printf("\n2. the child writes the first %llu private pages and every shared page\n",
	       U(r->npages / 2));
	print_pairs("private, written:", &r->p2w, "parent", "child");
	print_examples("parent", r->pp[1], r->npp[1], "child", r->cp[1], r->ncp[1], r->priv, 3);
	print_pairs("private, not written:", &r->p2n, "parent", "child");
	print_pairs("parent, before/after:", &r->p2par, "before", "after");
	print_pairs("shared:", &r->s2, "parent", "child");
	print_examples("parent", r->ps[1], r->nps[1], "child", r->cs[1], r->ncs[1], r->shr, 3);

	printf("\n3. the parent writes the same %llu pages: the child no longer maps them\n",
	       U(r->npages / 2));
	print_pairs("parent, before/after:", &r->p3, "before", "after");
	printf("      same PFN: the kernel saw the page was the parent's alone and\n"
	       "      reused it (no copy); a new PFN means it copied after all\n"
	       "      (e.g. while another reference was held briefly)\n");
}

static void cow_json(const struct cow_run *r)
{
	struct json *j = json_stdout();

	json_object_begin(j, NULL);
	json_u64(j, "parent_pid", (uint64_t)r->self);
	json_u64(j, "child_pid", (uint64_t)r->child);
	json_u64(j, "pages", r->npages);
	json_u64(j, "private_addr", r->priv);
	json_u64(j, "shared_addr", r->shr);
	json_object_begin(j, "after_fork");
	json_pairs(j, "private", &r->p1, "parent", "child");
	json_pairs(j, "shared", &r->s1, "parent", "child");
	json_object_end(j);
	json_object_begin(j, "after_child_writes");
	json_pairs(j, "private_written", &r->p2w, "parent", "child");
	json_pairs(j, "private_not_written", &r->p2n, "parent", "child");
	json_pairs(j, "parent_private_vs_after_fork", &r->p2par, "before", "after");
	json_pairs(j, "shared", &r->s2, "parent", "child");
	json_object_end(j);
	json_object_begin(j, "after_parent_writes");
	json_pairs(j, "parent_private_written", &r->p3, "before", "after");
	json_object_end(j);
	json_object_end(j);
	json_free(j);
}

static void cow_free(struct cow_run *r)
{
	int i;

	for (i = 0; i < 3; i++)
		free(r->pp[i]);
	for (i = 0; i < 2; i++) {
		free(r->cp[i]);
		free(r->ps[i]);
		free(r->cs[i]);
	}
	munmap((void *)(uintptr_t)r->priv, r->len);
	if (r->shr)
		munmap((void *)(uintptr_t)r->shr, r->len);
}

int demo_cow(int argc, char **argv)
{
	uint64_t npages = 256;
	const struct opt opts[] = {
		OPT_NUM('n', "pages", &npages, "N", "pages per mapping (default 256, even)"),
		OPT_FINISH(),
	};
	struct cow_run r = { 0 };
	struct worker w = { 0 };
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &cow_help);
	if (first < argc)
		return usage_error(&cow_help, "unexpected argument '%s'", argv[first]);
	if (npages < 2 || npages > 262144 || npages % 2)
		return usage_error(&cow_help, "--pages must be even, 2 to 262144");
	r.self = getpid();
	r.npages = npages;
	r.len = npages * SZ_4K;
	r.half = r.len / 2;
	if (need_root())
		return EXIT_FAIL;
	if (cow_map(&r))
		return EXIT_FAIL;
	if (worker_start(&w) || cow_gather(&w, &r))
		goto out;
	if (opt_json)
		cow_json(&r);
	else
		cow_text(&r);
	ret = EXIT_OK;
out:
	worker_stop(&w);
	cow_free(&r);
	return ret;
}
