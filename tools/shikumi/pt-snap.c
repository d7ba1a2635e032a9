// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt snapshot and diff: a process's raw records saved to a file,
 * and what changed between two such files, entry by entry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pt.h"

/* ---- snapshot and diff ------------------------------------------------------ */

#define SNAP_MAGIC	"SHKMPTSN"
#define SNAP_VERSION	1

/* A snapshot file: this header, then the raw records as the module gave them. */
struct snap_hdr {
	char magic[8];
	uint32_t version;
	uint32_t rec_size;
	uint32_t pt_magic;	/* SHIKUMI_PT_MAGIC */
	uint32_t pt_version;	/* SHIKUMI_PT_VERSION */
	uint64_t pid;
	uint64_t time_ns;	/* CLOCK_REALTIME */
	uint64_t nrecs;
	char comm[16];
	char kernel[64];
};

static const struct cmd_help snapshot_help = {
	.usage = "PID -o FILE [--range START-END] [--json]",
	.summary = "Save the page-table entries of process PID (the module's raw records,\n"
		   "after a small header with the pid and the time) to FILE, for 'shikumi\n"
		   "pt diff'.",
	.details = "Needs root and shikumi_ptdump.",
};

int pt_snapshot_cmd(int argc, char **argv)
{
	const char *range = NULL, *out = NULL;
	const struct opt opts[] = {
		OPT_STR('o', "output", &out, "FILE", "the snapshot file to write"),
		OPT_STR('r', "range", &range, "START-END", "only addresses in [START, END)"),
		OPT_FINISH(),
	};
	struct snap_hdr h = { 0 };
	struct timespec ts;
	struct pt_dump d;
	char comm[64];
	uint64_t a, b, entries = 0;
	int first, ret = EXIT_FAIL;
	size_t i;
	FILE *f;
	pid_t pid;

	first = parse_options(argc, argv, opts, &snapshot_help);
	if (first >= argc)
		return usage_error(&snapshot_help, "which process? give a PID");
	if (first + 1 < argc)
		return usage_error(&snapshot_help, "unexpected argument '%s'",
				   argv[first + 1]);
	if (parse_pid(argv[first], &pid))
		return usage_error(&snapshot_help, "'%s' is not a process ID", argv[first]);
	if (!out)
		return usage_error(&snapshot_help, "-o FILE is required");
	if (range && parse_range(range, &a, &b))
		return usage_error(&snapshot_help, "bad range '%s': give START-END", range);
	if (fetch_range(pid, "full", range, &d))
		return EXIT_FAIL;
	clock_gettime(CLOCK_REALTIME, &ts);
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.version = SNAP_VERSION;
	h.rec_size = sizeof(struct shikumi_pt_rec);
	h.pt_magic = SHIKUMI_PT_MAGIC;
	h.pt_version = SHIKUMI_PT_VERSION;
	h.pid = (uint64_t)pid;
	h.time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	h.nrecs = d.n;
	proc_comm(pid, comm, sizeof(comm));
	snprintf(h.comm, sizeof(h.comm), "%.15s", comm);
	snprintf(h.kernel, sizeof(h.kernel), "%s", kernel_release());
	for (i = 0; i < d.n; i++)
		entries += d.r[i].type == SHIKUMI_PT_REC_LEAF ||
			   d.r[i].type == SHIKUMI_PT_REC_NONPRESENT;

	f = fopen(out, "we");
	if (!f) {
		p_err("cannot write %s: %s", out, strerror(errno));
		goto out;
	}
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
	    fwrite(d.r, sizeof(*d.r), d.n, f) != d.n) {
		p_err("cannot write %s: %s", out, strerror(errno));
		fclose(f);
		goto out;
	}
	if (fclose(f)) {
		p_err("cannot write %s: %s", out, strerror(errno));
		goto out;
	}
	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_u64(j, "pid", (uint64_t)pid);
		json_string(j, "comm", comm);
		json_string(j, "file", out);
		json_u64(j, "records", d.n);
		json_u64(j, "entries", entries);
		json_u64(j, "time_ns", h.time_ns);
		json_object_end(j);
		json_free(j);
	} else {
		printf("pid %d (%s): %llu entries (%zu records) saved to %s\n", pid, comm,
		       U(entries), d.n, out);
	}
	ret = EXIT_OK;
out:
	pt_dump_free(&d);
	return ret;
}

static int snap_load(const char *path, struct snap_hdr *h, struct pt_dump *d)
{
	struct stat st;
	FILE *f;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	f = fopen(path, "re");
	if (!f) {
		p_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || fread(h, sizeof(*h), 1, f) != 1 ||
	    memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic))) {
		p_err("%s is not a snapshot of 'shikumi pt snapshot'", path);
		goto out;
	}
	/* the file is not to be trusted: its strings end here */
	h->comm[sizeof(h->comm) - 1] = '\0';
	h->kernel[sizeof(h->kernel) - 1] = '\0';
	if (h->version != SNAP_VERSION || h->rec_size != sizeof(struct shikumi_pt_rec) ||
	    h->pt_magic != SHIKUMI_PT_MAGIC) {
		p_err("%s: snapshot version %u with %u-byte records; this shikumi reads version %u",
		      path, h->version, h->rec_size, SNAP_VERSION);
		goto out;
	}
	if ((uint64_t)st.st_size != sizeof(*h) + h->nrecs * sizeof(struct shikumi_pt_rec)) {
		p_err("%s: %llu bytes, the header announces %llu records: truncated?",
		      path, U(st.st_size), U(h->nrecs));
		goto out;
	}
	d->r = calloc(h->nrecs ? h->nrecs : 1, sizeof(*d->r));
	if (!d->r) {
		p_err("out of memory");
		goto out;
	}
	d->cap = h->nrecs;
	d->n = d->cap;
	if (fread(d->r, sizeof(*d->r), d->n, f) != d->n) {
		p_err("cannot read %s", path);
		goto out;
	}
	ret = pt_check(d, path);
out:
	fclose(f);
	if (ret)
		pt_dump_free(d);
	return ret;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->va != y->va)
		return x->va < y->va ? -1 : 1;
	return (int)y->level - (int)x->level;
}

/* The LEAF and NONPRESENT records of a dump, sorted by address. */
struct entry *entries_of(const struct pt_dump *d, size_t *n)
{
	struct entry *e = calloc(d->n ? d->n : 1, sizeof(*e));
	size_t i;

	*n = 0;
	if (!e)
		return NULL;
	for (i = 0; i < d->n; i++) {
		const struct shikumi_pt_rec *r = &d->r[i];

		if (r->type != SHIKUMI_PT_REC_LEAF && r->type != SHIKUMI_PT_REC_NONPRESENT)
			continue;
		e[(*n)++] = (struct entry){ r->va, r->type == SHIKUMI_PT_REC_LEAF ?
					    r->pfn : 0, r->raw,
					    r->type == SHIKUMI_PT_REC_NONPRESENT ? r->pfn : 0,
					    r->flags, r->type, r->level };
	}
	qsort(e, *n, sizeof(*e), cmp_entry);
	return e;
}

enum { D_NEW, D_REMOVED, D_PFN, D_WCLEAR, D_WSET, D_OTHER, D_UNCHANGED, D_NR };

static const char *const diff_keys[D_NR] = {
	"new", "removed", "pfn_changed", "write_cleared", "write_set",
	"other_flags", "unchanged",
};

/* A non-present entry of a diff: what it holds, or null for a present one. */
static void diff_np_json(struct json *j, const char *key, const struct entry *e)
{
	if (e->type != SHIKUMI_PT_REC_NONPRESENT) {
		json_null(j, key);
		return;
	}
	json_object_begin(j, key);
	if (np_has_pfn(e->flags))
		json_u64(j, "pfn", e->np);
	json_np(j, e->flags, e->np);
	json_object_end(j);
}

/* A diff's entry as text: its page, or what a non-present entry holds. */
static const char *diff_what(const struct entry *e, char *buf, size_t size)
{
	if (e->type == SHIKUMI_PT_REC_NONPRESENT)
		return np_str(e->flags, true, e->np, buf, size);
	return page_str(e->flags, buf, size);
}

static void diff_line_json(struct json *j, char sign, const struct entry *a,
			   const struct entry *b, bool la57)
{
	const struct entry *e = a ? a : b;

	json_object_begin(j, NULL);
	json_u64(j, "va", e->va);
	json_string(j, "change", sign == '+' ? "new" : sign == '-' ? "removed" :
		    "changed");
	json_string(j, "level", level_name(e->level));
	json_u64(j, "size", level_size(e->level, la57));
	if (a) {
		json_u64(j, "pfn_a", a->pfn);
		json_hex(j, "raw_a", a->raw);
		json_flags(j, "flags_a", entry_bits(a->type, a->flags));
		diff_np_json(j, "nonpresent_a", a);
	}
	if (b) {
		json_u64(j, "pfn_b", b->pfn);
		json_hex(j, "raw_b", b->raw);
		json_flags(j, "flags_b", entry_bits(b->type, b->flags));
		diff_np_json(j, "nonpresent_b", b);
	}
	if (a && b) {
		json_bool(j, "pfn_changed", a->pfn != b->pfn);
		if ((a->flags ^ b->flags) & SHIKUMI_PT_F_WRITE)
			json_string(j, "write", b->flags & SHIKUMI_PT_F_WRITE ?
				    "set" : "cleared");
		else
			json_null(j, "write");
	}
	json_object_end(j);
}

static void diff_line_text(char sign, const struct entry *a, const struct entry *b,
			   bool la57)
{
	const struct entry *e = a ? a : b;
	char sz[24], bits[64], pg[64], pgb[64], delta[256];

	size_str(level_size(e->level, la57), sz, sizeof(sz));
	if (!a || !b) {
		printf("  %c 0x%016llx %4s %-3s pfn 0x%-9llx %s  %s\n", sign, U(e->va), sz,
		       level_name(e->level), U(e->pfn),
		       bits_str(entry_bits(e->type, e->flags), bits, sizeof(bits)),
		       diff_what(e, pg, sizeof(pg)));
		return;
	}
	printf("  ~ 0x%016llx %4s %-3s", U(e->va), sz, level_name(e->level));
	if (a->pfn != b->pfn)
		printf(" pfn 0x%llx -> 0x%llx", U(a->pfn), U(b->pfn));
	else
		printf(" pfn 0x%llx", U(a->pfn));
	if ((a->flags ^ b->flags) & SHIKUMI_PT_F_WRITE)
		printf(", write bit %s", b->flags & SHIKUMI_PT_F_WRITE ? "set" : "cleared");
	flag_delta(entry_bits(a->type, a->flags), entry_bits(b->type, b->flags),
		   delta, sizeof(delta));
	if (delta[0])
		printf(",%s", delta);
	/* swapped out or in, migrated, or another slot */
	if ((a->type == SHIKUMI_PT_REC_NONPRESENT || b->type == SHIKUMI_PT_REC_NONPRESENT) &&
	    (a->type != b->type || a->flags != b->flags || a->np != b->np))
		printf(", %s -> %s", diff_what(a, pg, sizeof(pg)), diff_what(b, pgb, sizeof(pgb)));
	printf("\n");
}

static const struct cmd_help diff_help = {
	.usage = "FILE1 FILE2 [--max N] [--json]",
	.summary = "Compare two snapshots of 'shikumi pt snapshot': entries that are new,\n"
		   "removed, or point to another page (PFN), whose write bit was cleared\n"
		   "or set, or whose other flags changed; then counts of each.",
	.details =
	"Lines: '+' new, '-' removed, '~' changed.  An entry may count in several\n"
	"columns (a copy-on-write fault changes the PFN and sets the write bit).\n"
	"An entry whose page size changed (a THP split or collapse) is removed and\n"
	"new.  A page swapped out (or in, or migrated) is a changed entry that\n"
	"says so: '..., anon excl -> swap type 0 offset 1234'.",
};

/* One snapshot of a diff: its file, header and entries. */
struct diff_side {
	const char *file;
	struct snap_hdr h;
	struct pt_dump d;
	struct entry *e;
	size_t n;
};

/* One change: '+' new (only b), '-' removed (only a), '~' changed (both). */
struct diff_change {
	char sign;
	const struct entry *a, *b;
};

struct diff_report {
	uint64_t count[D_NR];
	struct diff_change *ch;
	size_t nch;
	bool la57;
};

/* Count how entry @a became @b; '~' if it changed, 0 if not. */
static char diff_pair(const struct entry *a, const struct entry *b, uint64_t *count)
{
	bool changed = false;

	if (a->pfn != b->pfn) {
		count[D_PFN]++;
		changed = true;
	}
	if ((a->flags ^ b->flags) & SHIKUMI_PT_F_WRITE) {
		count[b->flags & SHIKUMI_PT_F_WRITE ? D_WSET : D_WCLEAR]++;
		changed = true;
	}
	if ((a->flags ^ b->flags) & ~SHIKUMI_PT_F_WRITE || a->type != b->type ||
	    a->np != b->np) {
		count[D_OTHER]++;
		changed = true;
	}
	if (!changed) {
		count[D_UNCHANGED]++;
		return 0;
	}
	return '~';
}

/* Walk both sorted entry lists side by side: the changes, and their counts. */
static int diff_gather(const struct diff_side *sa, const struct diff_side *sb,
		       struct diff_report *r)
{
	const struct entry *ea = sa->e, *eb = sb->e;
	size_t na = sa->n, nb = sb->n, i = 0, k = 0;

	r->ch = calloc(na + nb ? na + nb : 1, sizeof(*r->ch));
	if (!r->ch) {
		p_err("out of memory");
		return -1;
	}
	while (i < na || k < nb) {
		const struct entry *a = i < na ? &ea[i] : NULL;
		const struct entry *b = k < nb ? &eb[k] : NULL;
		struct diff_change c = { 0, NULL, NULL };

		if (a && b && a->va == b->va && a->level == b->level) {
			i++;
			k++;
			c = (struct diff_change){ diff_pair(a, b, r->count), a, b };
			if (!c.sign)
				continue;
		} else if (!b || (a && cmp_entry(a, b) < 0)) {
			i++;
			r->count[D_REMOVED]++;
			c = (struct diff_change){ '-', a, NULL };
		} else {
			k++;
			r->count[D_NEW]++;
			c = (struct diff_change){ '+', NULL, b };
		}
		r->ch[r->nch++] = c;
	}
	return 0;
}

static void diff_json_side(struct json *j, const char *key, const struct diff_side *s)
{
	json_object_begin(j, key);
	json_string(j, "file", s->file);
	json_u64(j, "pid", s->h.pid);
	json_string(j, "comm", s->h.comm);
	json_u64(j, "time_ns", s->h.time_ns);
	json_u64(j, "entries", s->n);
	json_object_end(j);
}

static void diff_json(const struct diff_side *sa, const struct diff_side *sb,
		      const struct diff_report *r)
{
	struct json *j = json_stdout();
	size_t k;

	json_object_begin(j, NULL);
	diff_json_side(j, "a", sa);
	diff_json_side(j, "b", sb);
	json_object_begin(j, "counts");
	for (k = 0; k < D_NR; k++)
		json_u64(j, diff_keys[k], r->count[k]);
	json_object_end(j);
	json_array_begin(j, "changes");
	for (k = 0; k < r->nch; k++)
		diff_line_json(j, r->ch[k].sign, r->ch[k].a, r->ch[k].b, r->la57);
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

static void diff_text(const struct diff_side *sa, const struct diff_side *sb,
		      const struct diff_report *r, uint64_t max)
{
	uint64_t printed = 0;
	size_t k;

	printf("A: %s, pid %llu (%s), %zu entries\n", sa->file,
	       U(sa->h.pid), sa->h.comm, sa->n);
	printf("B: %s, pid %llu (%s), %zu entries, %.3f s later\n",
	       sb->file, U(sb->h.pid), sb->h.comm, sb->n,
	       ((double)sb->h.time_ns - (double)sa->h.time_ns) / 1e9);
	for (k = 0; k < D_NR; k++)
		printf("  %-14s %llu\n", diff_keys[k], U(r->count[k]));
	if (r->nch)
		printf("changes:\n");
	for (k = 0; k < r->nch && printed < max; k++, printed++)
		diff_line_text(r->ch[k].sign, r->ch[k].a, r->ch[k].b, r->la57);
	if (r->nch > printed)
		printf("  ... and %llu more (--max)\n", U(r->nch - printed));
	else if (!r->nch)
		printf("no changes\n");
}

int pt_diff_cmd(int argc, char **argv)
{
	uint64_t max = 100;
	const struct opt opts[] = {
		OPT_NUM('n', "max", &max, "N", "print at most N changes (default 100)"),
		OPT_FINISH(),
	};
	struct diff_side sa = { 0 }, sb = { 0 };
	struct diff_report r = { 0 };
	int first, ret = EXIT_FAIL;

	first = parse_options(argc, argv, opts, &diff_help);
	if (argc - first != 2)
		return usage_error(&diff_help, "give two snapshot files");
	sa.file = argv[first];
	sb.file = argv[first + 1];
	if (snap_load(sa.file, &sa.h, &sa.d) || snap_load(sb.file, &sb.h, &sb.d))
		goto out;
	sa.e = entries_of(&sa.d, &sa.n);
	sb.e = entries_of(&sb.d, &sb.n);
	if (!sa.e || !sb.e) {
		p_err("out of memory");
		goto out;
	}
	r.la57 = paging_levels(&sa.d.r[0]) == 5;
	if (sa.h.pid != sb.h.pid)
		p_warn("the snapshots are of different processes (pid %llu and %llu)",
		       U(sa.h.pid), U(sb.h.pid));
	if (diff_gather(&sa, &sb, &r))
		goto out;
	if (opt_json)
		diff_json(&sa, &sb, &r);
	else
		diff_text(&sa, &sb, &r, max);
	ret = EXIT_OK;
out:
	free(r.ch);
	free(sa.e);
	free(sb.e);
	pt_dump_free(&sa.d);
	pt_dump_free(&sb.d);
	return ret;
}
