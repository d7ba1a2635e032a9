// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ptdump: what the walk finds, written into the open file's
 * buffer as text lines or as struct shikumi_pt_rec records.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/string.h>

#include "ptdump.h"

const char * const shikumi_pt_level_names[SHIKUMI_PT_LEVELS] = {
	"pgd", "p4d", "pud", "pmd", "pte",
};

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

__printf(2, 3) void shikumi_pt_printf(struct shikumi_pt_file *pf, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	pf->len += vscnprintf(pf->buf + pf->len, shikumi_pt_room(pf), fmt, args);
	va_end(args);
}

static const char * const shikumi_pt_np_names[] = SHIKUMI_PT_NP_NAMES;

static const char *shikumi_pt_np_name(u32 f)
{
	u32 kind = SHIKUMI_PT_NP_KIND(f);

	return kind < ARRAY_SIZE(shikumi_pt_np_names) && shikumi_pt_np_names[kind] ?
	       shikumi_pt_np_names[kind] : "not present";
}

/*
 * A non-present entry: its kind, and with @val (the record's pfn) where it
 * points: "swap type 0 offset 1234", "migration-write pfn 0x1a2b3"...
 * Without @val (a summary's run, whose entries differ in it), the kind.
 */
static void shikumi_pt_np_string(char *s, size_t size, u32 f, const u64 *val)
{
	const char *sd = f & SHIKUMI_PT_F_SOFT_DIRTY ? " SD" : "";

	switch (SHIKUMI_PT_NP_KIND(f)) {
	case SHIKUMI_PT_NP_SWAP:
		if (val)
			scnprintf(s, size, "swap type %u offset %llu%s",
				  SHIKUMI_PT_NP_SWAP_TYPE(f), *val, sd);
		else
			scnprintf(s, size, "swap type %u%s", SHIKUMI_PT_NP_SWAP_TYPE(f), sd);
		return;
	case SHIKUMI_PT_NP_UNKNOWN:
		scnprintf(s, size, "not present%s", sd);
		return;
	case SHIKUMI_PT_NP_MARKER:
		if (!val)
			break;
		scnprintf(s, size, "marker%s%s%s%s",
			  *val & SHIKUMI_PT_MARK_UFFD_WP ? " uffd-wp" : "",
			  *val & SHIKUMI_PT_MARK_POISONED ? " poisoned" : "",
			  *val & SHIKUMI_PT_MARK_GUARD ? " guard" : "", sd);
		return;
	default:
		if (!val)
			break;
		scnprintf(s, size, "%s pfn 0x%llx%s", shikumi_pt_np_name(f), *val, sd);
		return;
	}
	scnprintf(s, size, "%s%s", shikumi_pt_np_name(f), sd);
}

static void shikumi_pt_flag_string(char *s, size_t size, u8 type, u32 f)
{
	const char *page;

	if (type == SHIKUMI_PT_REC_NONPRESENT) {
		shikumi_pt_np_string(s, size, f, NULL);
		return;
	}
	if (f & SHIKUMI_PT_F_ANON)
		page = "anon";
	else if (f & SHIKUMI_PT_F_FILE)
		page = "file";
	else if (f & SHIKUMI_PT_F_ZERO)
		page = "zero";
	else if (f & SHIKUMI_PT_F_NOPAGE)
		page = "pfn ";
	else
		page = "kern";
	scnprintf(s, size, "%s %s %s %s %s %s %s %s %s %s %s %s",
		  f & SHIKUMI_PT_F_PROTNONE ? "pn" :
		  f & SHIKUMI_PT_F_PRESENT ? "P " : "  ",
		  f & SHIKUMI_PT_F_WRITE ? "RW" : "ro",
		  f & SHIKUMI_PT_F_USER ? "USR" : "   ",
		  f & SHIKUMI_PT_F_ACCESSED ? "A" : " ",
		  f & SHIKUMI_PT_F_DIRTY ? "D" : " ",
		  f & SHIKUMI_PT_F_NX ? "NX" : "x ",
		  f & SHIKUMI_PT_F_GLOBAL ? "GLB" : "   ",
		  f & SHIKUMI_PT_F_HUGE ? "PSE" : "   ",
		  f & SHIKUMI_PT_F_SOFT_DIRTY ? "SD" : "  ",
		  f & SHIKUMI_PT_F_SPECIAL ? "SPC" : "   ",
		  page,
		  f & (SHIKUMI_PT_F_ANON | SHIKUMI_PT_F_FILE) ?
		  (f & SHIKUMI_PT_F_SHARED ? "shared" : "excl") : "");
}

unsigned long shikumi_pt_level_size(int level)
{
	switch (level) {
	case SHIKUMI_PT_PGD:
		return PGDIR_SIZE;
	case SHIKUMI_PT_P4D:
		return P4D_SIZE;
	case SHIKUMI_PT_PUD:
		return PUD_SIZE;
	case SHIKUMI_PT_PMD:
		return PMD_SIZE;
	default:
		return PAGE_SIZE;
	}
}

static const char *shikumi_pt_size_name(int level)
{
	switch (level) {
	case SHIKUMI_PT_PUD:
		return "1G";
	case SHIKUMI_PT_PMD:
		return "2M";
	default:
		return "4K";
	}
}

void shikumi_pt_flush_run(struct shikumi_pt_file *pf)
{
	struct shikumi_pt_run *run = &pf->run;
	char flags[96];

	if (!run->valid)
		return;
	run->valid = false;
	shikumi_pt_flag_string(flags, sizeof(flags), run->type, run->flags);
	shikumi_pt_printf(pf, "  0x%016lx-0x%016lx %6lu x %s %s  %s\n",
			  run->start, run->end, run->count,
			  run->type == SHIKUMI_PT_REC_LEAF ?
			  shikumi_pt_size_name(run->level) : "  ",
			  shikumi_pt_level_names[run->level], flags);
}

/* view=translate: what a non-present entry means for the address */
static void shikumi_pt_translate_np(struct shikumi_pt_file *pf, u32 flags,
				    unsigned long val)
{
	switch (SHIKUMI_PT_NP_KIND(flags)) {
	case SHIKUMI_PT_NP_SWAP:
		shikumi_pt_printf(pf, "0x%lx -> swapped out, to slot %lu of swap area %u:",
				  pf->q.addr, val, SHIKUMI_PT_NP_SWAP_TYPE(flags));
		shikumi_pt_printf(pf, " an access is a major fault that reads it back\n");
		break;
	case SHIKUMI_PT_NP_MIGRATION_READ:
	case SHIKUMI_PT_NP_MIGRATION_READ_EXCL:
	case SHIKUMI_PT_NP_MIGRATION_WRITE:
		shikumi_pt_printf(pf, "0x%lx -> being moved from pfn 0x%lx:", pf->q.addr, val);
		shikumi_pt_printf(pf, " an access waits until the move is done\n");
		break;
	default:
		break;
	}
}

/* one leaf or non-present entry, in the query's view */
void shikumi_pt_entry(struct shikumi_pt_file *pf, u8 type, int level,
		      unsigned long va, u64 raw, unsigned long pfn, u32 flags)
{
	struct shikumi_pt_run *run = &pf->run;
	unsigned long size = shikumi_pt_level_size(level);
	char fs[96];
	int l;

	va &= ~(size - 1);
	if (type == SHIKUMI_PT_REC_LEAF)
		pf->leaves[level]++;
	else
		pf->nonpresent++;

	switch (pf->q.view) {
	case SHIKUMI_PT_VIEW_SUMMARY:
		if (run->valid && run->end == va && run->type == type &&
		    run->level == level && run->flags == flags) {
			run->end += size;
			run->count++;
			return;
		}
		shikumi_pt_flush_run(pf);
		*run = (struct shikumi_pt_run){ .valid = true, .type = type,
			.level = level, .flags = flags, .start = va,
			.end = va + size, .count = 1 };
		return;
	case SHIKUMI_PT_VIEW_STATS:
		return;
	default:
		break;
	}

	if (pf->q.raw) {
		shikumi_pt_emit(pf, type, level, pf->chain[level].index, flags, va,
				raw, pfn);
		return;
	}

	if (type == SHIKUMI_PT_REC_NONPRESENT)
		shikumi_pt_np_string(fs, sizeof(fs), flags, &(u64){ pfn });
	else
		shikumi_pt_flag_string(fs, sizeof(fs), type, flags);
	if (pf->q.view == SHIKUMI_PT_VIEW_TRANSLATE) {
		if (type != SHIKUMI_PT_REC_LEAF) {
			shikumi_pt_printf(pf, "%s[%3u]  0x%016llx  %s\n",
					  shikumi_pt_level_names[level],
					  pf->chain[level].index, raw, fs);
			shikumi_pt_translate_np(pf, flags, pfn);
			return;
		}
		shikumi_pt_printf(pf, "%s[%3u]  0x%016llx  %s page at pfn 0x%lx  %s\n",
				  shikumi_pt_level_names[level], pf->chain[level].index, raw,
				  shikumi_pt_size_name(level), pfn, fs);
		shikumi_pt_printf(pf, "0x%lx -> physical address 0x%llx\n",
				  pf->q.addr, ((u64)pfn << PAGE_SHIFT) +
				  (pf->q.addr & (size - 1)));
		return;
	}

	shikumi_pt_printf(pf, "0x%016lx", va);
	for (l = SHIKUMI_PT_PGD; l < level; l++) {
		if (l == SHIKUMI_PT_P4D && shikumi_pt_p4d_folded())
			continue;
		shikumi_pt_printf(pf, " %s[%3u]=0x%016llx", shikumi_pt_level_names[l],
				  pf->chain[l].index, pf->chain[l].raw);
	}
	if (type == SHIKUMI_PT_REC_LEAF)
		shikumi_pt_printf(pf, " %s[%3u]=0x%016llx %s pfn=0x%lx %s\n",
				  shikumi_pt_level_names[level], pf->chain[level].index, raw,
				  shikumi_pt_size_name(level), pfn, fs);
	else
		shikumi_pt_printf(pf, " %s[%3u]=0x%016llx %s\n",
				  shikumi_pt_level_names[level], pf->chain[level].index, raw,
				  fs);
}

/*
 * The walk goes through an entry that points to a table.  The entry is
 * shown, and the table counted, once, however many reads the walk takes.
 */
void shikumi_pt_table(struct shikumi_pt_file *pf, int level, unsigned long va,
		      u64 raw)
{
	unsigned long base = va & ~(shikumi_pt_level_size(level) - 1);
	int child = level + 1;
	u64 table_pfn = (raw & PTE_PFN_MASK) >> PAGE_SHIFT;
	char fs[96];

	if (level == SHIKUMI_PT_PGD && shikumi_pt_p4d_folded())
		child = SHIKUMI_PT_PUD;
	if (pf->entry_va[level] == base)
		return;
	pf->entry_va[level] = base;
	/* a new entry at this level: the ones below it are new too */
	memset(&pf->entry_va[level + 1], 0xff,
	       sizeof(pf->entry_va[0]) * (SHIKUMI_PT_LEVELS - level - 1));
	pf->tables[child]++;

	if (pf->q.view != SHIKUMI_PT_VIEW_FULL && pf->q.view != SHIKUMI_PT_VIEW_TRANSLATE)
		return;
	if (pf->q.raw) {
		shikumi_pt_emit(pf, SHIKUMI_PT_REC_TABLE, level,
				pf->chain[level].index, shikumi_pt_entry_flags(raw, level),
				base, raw, table_pfn);
	} else if (pf->q.view == SHIKUMI_PT_VIEW_TRANSLATE) {
		shikumi_pt_flag_string(fs, sizeof(fs), SHIKUMI_PT_REC_TABLE,
				       shikumi_pt_entry_flags(raw, level) |
				       SHIKUMI_PT_F_NOPAGE);
		shikumi_pt_printf(pf, "%s[%3u]  0x%016llx  table at pfn 0x%llx  %.29s\n",
				  shikumi_pt_level_names[level], pf->chain[level].index, raw,
				  table_pfn, fs);
	}
}

static const char *shikumi_pt_vma_kind_name(u32 kind)
{
	static const char * const names[] = {
		[SHIKUMI_PT_VMA_ANON]		= "anon",
		[SHIKUMI_PT_VMA_FILE]		= "file",
		[SHIKUMI_PT_VMA_HEAP]		= "heap",
		[SHIKUMI_PT_VMA_STACK]		= "stack",
		[SHIKUMI_PT_VMA_SPECIAL]	= "special",
	};

	return kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

void shikumi_pt_vma(struct shikumi_pt_file *pf, struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	const char *name = NULL;
	u32 flags;

	if (vma->vm_file) {
		flags = SHIKUMI_PT_VMA_FILE;
	} else if (vma->vm_ops && vma->vm_ops->name) {
		flags = SHIKUMI_PT_VMA_SPECIAL;
		name = vma->vm_ops->name(vma);
	} else if (vma->vm_start <= mm->brk && vma->vm_end >= mm->start_brk) {
		flags = SHIKUMI_PT_VMA_HEAP;
	} else if (vma->vm_start <= mm->start_stack &&
		   vma->vm_end >= mm->start_stack) {
		flags = SHIKUMI_PT_VMA_STACK;
	} else {
		flags = SHIKUMI_PT_VMA_ANON;
	}
	if (vma->vm_flags & VM_READ)
		flags |= SHIKUMI_PT_VMA_READ;
	if (vma->vm_flags & VM_WRITE)
		flags |= SHIKUMI_PT_VMA_WRITE;
	if (vma->vm_flags & VM_EXEC)
		flags |= SHIKUMI_PT_VMA_EXEC;
	if (vma->vm_flags & VM_MAYSHARE)
		flags |= SHIKUMI_PT_VMA_SHARED;
	if (vma->vm_flags & VM_HUGEPAGE)
		flags |= SHIKUMI_PT_VMA_HUGEPAGE;
	if (vma->vm_flags & VM_NOHUGEPAGE)
		flags |= SHIKUMI_PT_VMA_NOHUGEPAGE;
	if (vma->vm_flags & VM_HUGETLB)
		flags |= SHIKUMI_PT_VMA_HUGETLB;

	pf->vmas++;
	if (pf->q.view == SHIKUMI_PT_VIEW_STATS)
		return;
	if (pf->q.raw) {
		shikumi_pt_emit(pf, SHIKUMI_PT_REC_VMA, 0, 0, flags, vma->vm_start,
				vma->vm_flags, vma->vm_end);
		return;
	}
	shikumi_pt_flush_run(pf);
	if (vma->vm_file && pf->path) {
		name = file_path(vma->vm_file, pf->path, PATH_MAX);
		if (IS_ERR(name))
			name = "(path too long)";
	}
	shikumi_pt_printf(pf, "%s0x%016lx-0x%016lx %c%c%c%c %8luK %-7s %s\n",
			  pf->q.view == SHIKUMI_PT_VIEW_TRANSLATE ? "vma " : "",
			  vma->vm_start, vma->vm_end,
			  flags & SHIKUMI_PT_VMA_READ ? 'r' : '-',
			  flags & SHIKUMI_PT_VMA_WRITE ? 'w' : '-',
			  flags & SHIKUMI_PT_VMA_EXEC ? 'x' : '-',
			  flags & SHIKUMI_PT_VMA_SHARED ? 's' : 'p',
			  (vma->vm_end - vma->vm_start) >> 10,
			  shikumi_pt_vma_kind_name(flags & SHIKUMI_PT_VMA_KIND),
			  name ?: "");
}
