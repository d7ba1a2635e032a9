// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt dump: a process's VMAs and the page-table entries under
 * each, merged into runs (--summary) or one line per page (--full), with
 * the ELF marks of pt-marks.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pt.h"

/* ---- dump ------------------------------------------------------------------ */

struct run {
	bool active;
	uint8_t type, level;
	uint32_t flags;
	uint64_t start, end, count;
};

struct dump_ctx {
	pid_t pid;
	bool full, la57;
	struct json *j;
	const struct maps *maps;
	const struct elfset *es;
	bool *file_told;	/* the ELF line was printed for es->f[i] */
	const struct shikumi_pt_rec *tab[SHIKUMI_PT_LEVELS];
	uint64_t vma_start, vma_end;
	struct run run;
	bool in_vma, any_entry;
};

static void run_flush(struct dump_ctx *c)
{
	struct run *r = &c->run;
	char sz[24], bits[64], pg[48];
	uint32_t own = entry_bits(r->type, r->flags);

	if (!r->active)
		return;
	r->active = false;
	if (c->j) {
		json_object_begin(c->j, NULL);
		json_u64(c->j, "start", r->start);
		json_u64(c->j, "end", r->end);
		json_u64(c->j, "size", r->end - r->start);
		json_string(c->j, "level", level_name(r->level));
		json_string(c->j, "type", r->type == SHIKUMI_PT_REC_LEAF ?
			    "leaf" : "nonpresent");
		json_u64(c->j, "count", r->count);
		json_flags(c->j, "flags", own);
		if (r->type == SHIKUMI_PT_REC_NONPRESENT) {
			json_string(c->j, "kind", np_kind_name(r->flags));
			if (SHIKUMI_PT_NP_KIND(r->flags) == SHIKUMI_PT_NP_SWAP)
				json_u64(c->j, "swap_type",
					 SHIKUMI_PT_NP_SWAP_TYPE(r->flags));
		}
		json_object_end(c->j);
		return;
	}
	printf("    0x%016llx-0x%016llx %6s %-3s %6llu  %s  %s\n", U(r->start),
	       U(r->end), size_str(r->end - r->start, sz, sizeof(sz)),
	       level_name(r->level), U(r->count), bits_str(own, bits, sizeof(bits)),
	       r->type == SHIKUMI_PT_REC_LEAF ? page_str(r->flags, pg, sizeof(pg)) :
	       np_str(r->flags, false, 0, pg, sizeof(pg)));
}

static void vma_end(struct dump_ctx *c)
{
	if (!c->in_vma)
		return;
	run_flush(c);
	if (c->j) {
		json_array_end(c->j);
		json_object_end(c->j);
	} else if (!c->any_entry) {
		printf("    (no page-table entries: nothing here was touched yet)\n");
	}
	c->in_vma = false;
}

static void vma_json(const struct dump_ctx *c, const struct shikumi_pt_rec *r,
		     const struct map_ent *me, const struct elf_file *ef, int seg,
		     const char *perms)
{
	size_t i;

	json_object_begin(c->j, NULL);
	json_u64(c->j, "start", r->va);
	json_u64(c->j, "end", r->end);
	json_string(c->j, "perms", perms);
	json_string(c->j, "kind", vma_kind(r->flags));
	json_hex(c->j, "vm_flags", r->vm_flags);
	json_bool(c->j, "hugepage", r->flags & SHIKUMI_PT_VMA_HUGEPAGE);
	json_bool(c->j, "nohugepage", r->flags & SHIKUMI_PT_VMA_NOHUGEPAGE);
	json_bool(c->j, "hugetlb", r->flags & SHIKUMI_PT_VMA_HUGETLB);
	json_string(c->j, "path", me ? me->path : NULL);
	if (me && me->path[0] == '/')
		json_u64(c->j, "offset", me->offset);
	if (ef) {
		json_object_begin(c->j, "elf");
		json_string(c->j, "file", ef->path);
		if (seg >= 0)
			json_u64(c->j, "segment", (uint64_t)seg);
		else
			json_null(c->j, "segment");
		json_object_end(c->j);
	}
	json_array_begin(c->j, "sections");
	for (i = 0; i < c->es->nm; i++) {
		const struct mark *m = &c->es->m[i];

		if (!overlaps(m->start, m->end, r->va, r->end))
			continue;
		json_object_begin(c->j, NULL);
		json_string(c->j, "name", m->name);
		json_string(c->j, "file", m->file->path);
		json_u64(c->j, "start", m->start);
		json_u64(c->j, "end", m->end);
		json_object_end(c->j);
	}
	json_array_end(c->j);
	json_array_begin(c->j, c->full ? "entries" : "runs");
}

static void vma_text(struct dump_ctx *c, const struct shikumi_pt_rec *r,
		     const struct map_ent *me, const struct elf_file *ef, int seg,
		     const char *perms)
{
	size_t i;

	printf("\n0x%016llx-0x%016llx %s %-7s %s", U(r->va), U(r->end), perms,
	       vma_kind(r->flags), me ? me->path : "");
	if (me && me->path[0] == '/')
		printf(" (file offset 0x%llx)", U(me->offset));
	if (r->flags & SHIKUMI_PT_VMA_HUGEPAGE)
		printf(" [MADV_HUGEPAGE]");
	if (r->flags & SHIKUMI_PT_VMA_NOHUGEPAGE)
		printf(" [MADV_NOHUGEPAGE]");
	if (r->flags & SHIKUMI_PT_VMA_HUGETLB)
		printf(" [hugetlb]");
	printf("\n");
	if (ef && !c->file_told[ef - c->es->f]) {
		c->file_told[ef - c->es->f] = true;
		if (ef->err)
			printf("  # ELF %s: not read: %s\n", ef->path,
			       ef->err == ENOEXEC ? "not an ELF executable or library" :
			       strerror(ef->err));
		else if (ef->have_bias)
			printf("  # ELF %s: %s, load bias 0x%llx\n", base_name(ef->path),
			       elf_kind_str(ef), U(ef->bias));
		else
			printf("  # ELF %s: %s, no mapping starts a PT_LOAD segment\n",
			       base_name(ef->path), elf_kind_str(ef));
	}
	if (seg >= 0) {
		const struct elf_segment *sg = &ef->ei.load[seg];
		char fl[4];

		seg_flags(sg->flags, fl);
		printf("  # PT_LOAD[%d] %s: file offset 0x%llx, vaddr 0x%llx + bias = 0x%llx-0x%llx\n",
		       seg, fl, U(sg->offset), U(sg->vaddr), U(sg->vaddr + ef->bias),
		       U(sg->vaddr + sg->memsz + ef->bias));
	}
	for (i = 0; i < c->es->nm; i++) {
		const struct mark *m = &c->es->m[i];

		if (overlaps(m->start, m->end, r->va, r->end))
			printf("  # %-13s 0x%016llx-0x%016llx %s\n", m->name,
			       U(m->start), U(m->end), base_name(m->file->path));
	}
}

static void vma_begin(struct dump_ctx *c, const struct shikumi_pt_rec *r)
{
	const struct map_ent *me = maps_find(c->maps, r->va);
	const struct elf_file *ef;
	char perms[8];
	int seg;

	vma_end(c);
	if (me && (me->start != r->va || me->end != r->end))
		me = NULL;	/* changed since the maps were read */
	ef = elfset_file(c->es, me);
	seg = vma_segment(ef, me);
	vma_perms(r->flags, perms);
	c->in_vma = true;
	c->any_entry = false;
	c->vma_start = r->va;
	c->vma_end = r->end;
	if (c->j)
		vma_json(c, r, me, ef, seg, perms);
	else
		vma_text(c, r, me, ef, seg, perms);
}

/* The TABLE record of @level above @va, if the walk went through one. */
static const struct shikumi_pt_rec *table_above(const struct dump_ctx *c,
						unsigned int level, uint64_t va)
{
	const struct shikumi_pt_rec *t = c->tab[level];

	if (!t || va < t->va || va - t->va >= level_size(level, c->la57))
		return NULL;
	return t;
}

static void entry_full(struct dump_ctx *c, const struct shikumi_pt_rec *r)
{
	uint64_t size = level_size(r->level, c->la57);
	bool np = r->type == SHIKUMI_PT_REC_NONPRESENT;
	char sz[24], bits[64], pg[64], pfn[24];
	unsigned int l;
	size_t i;

	if (c->j) {
		json_object_begin(c->j, NULL);
		json_u64(c->j, "va", r->va);
		json_string(c->j, "type", r->type == SHIKUMI_PT_REC_LEAF ?
			    "leaf" : "nonpresent");
		json_string(c->j, "level", level_name(r->level));
		json_u64(c->j, "size", size);
		if (r->type == SHIKUMI_PT_REC_LEAF || (np && np_has_pfn(r->flags)))
			json_u64(c->j, "pfn", r->pfn);
		else
			json_null(c->j, "pfn");
		if (np)
			json_np(c->j, r->flags, r->pfn);
		json_hex(c->j, "raw", r->raw);
		json_u64(c->j, "index", r->index);
		json_flags(c->j, "flags", entry_bits(r->type, r->flags));
		json_string(c->j, "page", r->flags & SHIKUMI_PT_F_ZERO ? "zero" :
			    r->flags & SHIKUMI_PT_F_ANON ? "anon" :
			    r->flags & SHIKUMI_PT_F_FILE ? "file" : NULL);
		json_bool(c->j, "shared", r->flags & SHIKUMI_PT_F_SHARED);
		json_array_begin(c->j, "tables");
		for (l = 0; l < r->level && l < SHIKUMI_PT_LEVELS; l++) {
			const struct shikumi_pt_rec *t = table_above(c, l, r->va);

			if (!t)
				continue;
			json_object_begin(c->j, NULL);
			json_string(c->j, "level", level_name(l));
			json_u64(c->j, "index", t->index);
			json_hex(c->j, "raw", t->raw);
			json_u64(c->j, "pfn", t->pfn);
			json_object_end(c->j);
		}
		json_array_end(c->j);
		json_array_begin(c->j, "sections");
		for (i = 0; i < c->es->nm; i++)
			if (overlaps(c->es->m[i].start, c->es->m[i].end, r->va, r->va + size))
				json_string(c->j, NULL, c->es->m[i].name);
		json_array_end(c->j);
		json_object_end(c->j);
		return;
	}
	if (r->type == SHIKUMI_PT_REC_LEAF || (np && np_has_pfn(r->flags)))
		snprintf(pfn, sizeof(pfn), "0x%llx", U(r->pfn));
	else
		snprintf(pfn, sizeof(pfn), "-");
	printf("    0x%016llx %4s %-3s %-9s %s  %-11s ", U(r->va),
	       size_str(size, sz, sizeof(sz)), level_name(r->level), pfn,
	       bits_str(entry_bits(r->type, r->flags), bits, sizeof(bits)),
	       np ? np_str(r->flags, true, r->pfn, pg, sizeof(pg)) :
	       page_str(r->flags, pg, sizeof(pg)));
	for (l = 0; l < r->level && l < SHIKUMI_PT_LEVELS; l++) {
		const struct shikumi_pt_rec *t = table_above(c, l, r->va);

		if (t)
			printf(" %s[%u]=0x%llx", level_name(l), t->index, U(t->raw));
	}
	printf(" %s[%u]=0x%llx", level_name(r->level), r->index, U(r->raw));
	for (i = 0; i < c->es->nm; i++)
		if (overlaps(c->es->m[i].start, c->es->m[i].end, r->va, r->va + size))
			printf(" <%s>", c->es->m[i].name);
	printf("\n");
}

static void entry_summary(struct dump_ctx *c, const struct shikumi_pt_rec *r)
{
	struct run *run = &c->run;
	uint64_t size = level_size(r->level, c->la57);

	if (run->active && run->type == r->type && run->level == r->level &&
	    run->flags == r->flags && run->end == r->va) {
		run->end += size;
		run->count++;
		return;
	}
	run_flush(c);
	*run = (struct run){ .active = true, .type = r->type, .level = r->level,
			     .flags = r->flags, .start = r->va, .end = r->va + size,
			     .count = 1 };
}

static void print_header_line(const struct shikumi_pt_rec *h, const char *comm)
{
	printf("pid %llu (%s): %u-level paging%s, range 0x%llx-0x%llx%s%s%s\n",
	       U(h->pid), comm, paging_levels(h),
	       h->flags & SHIKUMI_PT_H_P4D_FOLDED ? " (the P4D is folded into the PGD)" : "",
	       U(h->va), U(h->end),
	       h->flags & SHIKUMI_PT_H_THP ? ", THP" : "",
	       h->flags & SHIKUMI_PT_H_SOFT_DIRTY ? ", soft-dirty" : "",
	       h->flags & SHIKUMI_PT_H_PTI_USER ?
	       ", page-table isolation (the PGD shown is the user copy)" : "");
}

void json_header(struct json *j, const struct shikumi_pt_rec *h,
		 const char *comm)
{
	json_u64(j, "pid", h->pid);
	json_string(j, "comm", comm);
	json_u64(j, "levels", paging_levels(h));
	json_bool(j, "p4d_folded", h->flags & SHIKUMI_PT_H_P4D_FOLDED);
	json_bool(j, "thp", h->flags & SHIKUMI_PT_H_THP);
	json_bool(j, "soft_dirty", h->flags & SHIKUMI_PT_H_SOFT_DIRTY);
	json_bool(j, "pti_user_pgd", h->flags & SHIKUMI_PT_H_PTI_USER);
	json_u64(j, "range_start", h->va);
	json_u64(j, "range_end", h->end);
}

static const struct cmd_help dump_help = {
	.usage = "PID [--range START-END] [--summary|--full] [--all-sections] [--json]",
	.summary = "Dump the page tables of process PID: its VMAs (as in /proc/PID/maps),\n"
		   "and under each the entries that map it.",
	.details =
	"--summary (the default) merges consecutive entries of the same level and\n"
	"flags into one line, as the kernel's own x86 page-table dump does:\n"
	"  START-END SIZE LEVEL COUNT FLAGS PAGE\n"
	"--full prints one line per page: its address, size (4K, 2M or 1G), PFN,\n"
	"flags, what the page is (anon/file/zero, shared/excl), and every level's\n"
	"index and raw entry from the PGD down.\n"
	"An entry that is not present (!P) but not empty holds the kernel's own\n"
	"record instead: 'swap type T offset O' for a page swapped out to slot O\n"
	"of swap area T (the T-th swapon; an access is a major fault that reads it\n"
	"back), 'migration-read', 'migration-read-exclusive' or 'migration-write'\n"
	"and the PFN of a page being moved (an access waits for the move),\n"
	"'device-private-*', 'device-exclusive' or 'hwpoison' and a PFN, or\n"
	"'marker' (uffd-wp, poisoned, guard: no page at all).  A summary line of\n"
	"them gives the kind (and swap area); --full gives the offset or PFN.\n"
	"Flags, as in arch/x86/mm/dump_pagetables.c: RW/ro, USR, A(ccessed),\n"
	"D(irty), PSE (a huge leaf), GLB, NX/x; !P not present, SD soft-dirty.\n"
	"The executable and its shared libraries are read with libelf: each\n"
	"PT_LOAD segment and the main sections (.text, .rodata, .data, .bss...)\n"
	"are marked ('# .text 0x...') at their runtime addresses: the link-time\n"
	"address plus the load bias (the VMA's start minus the page-aligned\n"
	"p_vaddr of the segment at the VMA's file offset; 0 for non-PIE).\n"
	"Needs root and shikumi_ptdump.",
};

/* The records of @d, one by one, to the VMA and entry printers. */
static void dump_walk(struct dump_ctx *c, const struct pt_dump *d)
{
	size_t i;

	for (i = 1; i < d->n; i++) {
		const struct shikumi_pt_rec *r = &d->r[i];
		unsigned int l;

		switch (r->type) {
		case SHIKUMI_PT_REC_VMA:
			vma_begin(c, r);
			break;
		case SHIKUMI_PT_REC_TABLE:
			if (r->level >= SHIKUMI_PT_LEVELS)
				break;
			c->tab[r->level] = r;
			for (l = r->level + 1; l < SHIKUMI_PT_LEVELS; l++)
				c->tab[l] = NULL;
			break;
		case SHIKUMI_PT_REC_LEAF:
		case SHIKUMI_PT_REC_NONPRESENT:
			if (!c->in_vma)
				break;
			c->any_entry = true;
			if (c->full)
				entry_full(c, r);
			else
				entry_summary(c, r);
			break;
		default:
			break;
		}
	}
	vma_end(c);
}

static void dump_json(struct dump_ctx *c, const struct pt_dump *d, const char *comm)
{
	c->j = json_stdout();
	json_object_begin(c->j, NULL);
	json_header(c->j, &d->r[0], comm);
	json_string(c->j, "view", c->full ? "full" : "summary");
	json_elf_files(c->j, c->es);
	json_array_begin(c->j, "vmas");
	dump_walk(c, d);
	json_array_end(c->j);
	json_bool(c->j, "exited", d->exited);
	json_u64(c->j, "nonpresent", d->r[d->n - 1].entries);
	json_object_end(c->j);
	json_free(c->j);
}

static void dump_text(struct dump_ctx *c, const struct pt_dump *d, const char *comm)
{
	print_header_line(&d->r[0], comm);
	if (c->full)
		printf("    %-18s %4s %-3s %-9s %-24s  %-11s  %s\n", "VA", "SIZE",
		       "LVL", "PFN", "FLAGS", "PAGE", "ENTRIES (index=raw)");
	else
		printf("    %-37s %6s %-3s %6s  %-24s  %s\n", "RANGE", "SIZE",
		       "LVL", "COUNT", "FLAGS", "PAGE");
	dump_walk(c, d);
	if (d->exited)
		printf("\n(the process exited during the dump: the rest is missing)\n");
}

int pt_dump_cmd(int argc, char **argv)
{
	const char *range = NULL;
	bool full = false, summary = false, all = false;
	const struct opt opts[] = {
		OPT_STR('r', "range", &range, "START-END", "only addresses in [START, END)"),
		OPT_BOOLEAN(0, "summary", &summary, "merged runs of entries (the default)"),
		OPT_BOOLEAN('f', "full", &full, "one line per page, with every level's entry"),
		OPT_BOOLEAN(0, "all-sections", &all, "mark every allocated ELF section"),
		OPT_FINISH(),
	};
	struct dump_ctx c = { 0 };
	struct elfset es = { 0 };
	struct maps mp = { 0 };
	struct pt_dump d;
	uint64_t a, b;
	char comm[64];
	int first, ret = EXIT_FAIL;
	pid_t pid;

	first = parse_options(argc, argv, opts, &dump_help);
	if (first >= argc)
		return usage_error(&dump_help, "which process? give a PID");
	if (first + 1 < argc)
		return usage_error(&dump_help, "unexpected argument '%s'", argv[first + 1]);
	if (parse_pid(argv[first], &pid))
		return usage_error(&dump_help, "'%s' is not a process ID", argv[first]);
	if (full && summary)
		return usage_error(&dump_help, "--full or --summary, not both");
	if (range && parse_range(range, &a, &b))
		return usage_error(&dump_help,
				   "bad range '%s': give START-END, e.g. 0x400000-0x500000",
				   range);

	if (fetch_range(pid, "full", range, &d))
		return EXIT_FAIL;
	proc_comm(pid, comm, sizeof(comm));
	maps_read(pid, &mp);
	if (elfset_build(pid, &mp, all, &es)) {
		p_err("out of memory");
		goto out;
	}
	c.file_told = calloc(es.nf + 1, sizeof(bool));
	if (!c.file_told) {
		p_err("out of memory");
		goto out;
	}
	c.pid = pid;
	c.full = full;
	c.la57 = paging_levels(&d.r[0]) == 5;
	c.maps = &mp;
	c.es = &es;
	if (opt_json)
		dump_json(&c, &d, comm);
	else
		dump_text(&c, &d, comm);
	ret = EXIT_OK;
out:
	free(c.file_told);
	elfset_free(&es);
	maps_free(&mp);
	pt_dump_free(&d);
	return ret;
}
