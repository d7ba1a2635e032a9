// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ptdump: any process's page tables, level by level, in debugfs.
 *
 * This module demonstrates, for chapters 4 and 5 of the book, what the
 * kernel builds behind a process's address space: the VMAs, and for each
 * page the hardware walks PGD -> (P4D) -> PUD -> PMD -> PTE, with each
 * entry's raw value, the PFN it leads to and the page behind it.  Demand
 * paging, copy-on-write, huge pages and the cost of the tables themselves
 * can all be seen in it.  The user API is in <uapi/shikumi/ptdump.h>.
 *
 * How the walk stays safe while the target runs (see mm/pagewalk.c and
 * __pte_offset_map_lock(), which a module cannot call):
 *  - It holds mmap_read_lock, and it walks only the ranges of the VMAs it
 *    finds under that lock.  munmap() frees page tables after it has
 *    detached the VMAs and downgraded to the read lock, so tables outside
 *    every VMA may be going away; tables under a VMA may not.
 *  - Entries are read once (READ_ONCE/ptep_get) and then checked.
 *  - PTE tables can be freed by RCU under the read lock (PT_RECLAIM, and
 *    khugepaged's collapse).  A PTE table is visited inside
 *    rcu_read_lock(), through the PMD value read and checked, under the
 *    table's lock, after checking that the PMD still points at it.  A
 *    huge PMD or PUD is read again under its lock.  Holding the page table
 *    lock keeps the mapped pages mapped while their struct page is read.
 *  - The address space is held with mmgrab() and pinned with
 *    mmget_not_zero() only while it is walked, as /proc/PID/pagemap does:
 *    an open dump does not keep an exited process's memory alive.
 *
 * Streaming: an open file has one fixed buffer.  A read() fills it under
 * the locks, drops them, copies it out, and resumes the walk from the
 * address it stopped at.  Each fill also stops after a fixed amount of
 * walking, so the locks are dropped regularly even when a summary of a
 * large process produces few lines.  Nothing the module allocates grows
 * with the size of the target.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/hugetlb_inline.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <shikumi/compat.h>
#include <shikumi/debugfs.h>

#include "ptdump.h"

static const char * const ptd_view_names[] = {
	[PTD_VIEW_SUMMARY]	= "summary",
	[PTD_VIEW_FULL]		= "full",
	[PTD_VIEW_TRANSLATE]	= "translate",
	[PTD_VIEW_STATS]	= "stats",
};

static struct dentry *ptd_debugfs_dir;
static atomic_long_t ptd_mem_bytes = ATOMIC_LONG_INIT(0);
static atomic_t ptd_open_files = ATOMIC_INIT(0);

/* Page-table isolation: user space runs on a PGD of its own */
static bool ptd_pti(void)
{
#ifdef SHIKUMI_PTI
	return cpu_feature_enabled(X86_FEATURE_PTI);
#else
	return false;
#endif
}

/*
 * The PGD entry the MMU uses for a user address.  With page-table
 * isolation every mm has two PGDs: the kernel's (mm->pgd), in which the
 * kernel forces NX into each user entry so that kernel mode never runs
 * user code, and the user copy in the next page, which the CPU walks in
 * user mode (pti_set_user_pgtbl()).  Both point at the same lower tables;
 * only the top-level entries differ.  Show the user copy, as the kernel's
 * own dumper does for current_user.
 */
static pgd_t *ptd_pgd_offset(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgdp = pgd_offset(mm, addr);

#ifdef SHIKUMI_PTI
	if (ptd_pti())
		pgdp = kernel_to_user_pgdp(pgdp);
#endif
	return pgdp;
}

/*
 * A swap or migration entry's bits are not the hardware's: only its
 * soft-dirty bit has a meaning here.
 */
static u32 ptd_nonpresent_flags(u64 raw)
{
	return _PAGE_SWP_SOFT_DIRTY && (raw & _PAGE_SWP_SOFT_DIRTY) ?
	       SHIKUMI_PT_F_SOFT_DIRTY : 0;
}

/* the entry's own bits, decoded */
u32 ptd_entry_flags(u64 raw, int level)
{
	u32 flags = 0;

	if (raw & _PAGE_PRESENT)
		flags |= SHIKUMI_PT_F_PRESENT;
	if (raw & _PAGE_RW)
		flags |= SHIKUMI_PT_F_WRITE;
	if (raw & _PAGE_USER)
		flags |= SHIKUMI_PT_F_USER;
	if (raw & _PAGE_ACCESSED)
		flags |= SHIKUMI_PT_F_ACCESSED;
	if (raw & _PAGE_DIRTY)
		flags |= SHIKUMI_PT_F_DIRTY;
	if (raw & _PAGE_NX)
		flags |= SHIKUMI_PT_F_NX;
	/* without the present bit, bit 8 is PROTNONE */
	if ((raw & (_PAGE_PRESENT | _PAGE_GLOBAL)) ==
	    (_PAGE_PRESENT | _PAGE_GLOBAL))
		flags |= SHIKUMI_PT_F_GLOBAL;
	/* bit 7 is PSE above the PTE level, PAT in a PTE */
	if (level != SHIKUMI_PT_PTE && (raw & _PAGE_PSE))
		flags |= SHIKUMI_PT_F_HUGE;
	if (_PAGE_SOFT_DIRTY && (raw & _PAGE_SOFT_DIRTY))
		flags |= SHIKUMI_PT_F_SOFT_DIRTY;
	if (raw & _PAGE_SPECIAL)
		flags |= SHIKUMI_PT_F_SPECIAL;
	if ((raw & (_PAGE_PRESENT | _PAGE_PROTNONE)) == _PAGE_PROTNONE)
		flags |= SHIKUMI_PT_F_PROTNONE;
	return flags;
}

/*
 * What the kernel knows of the page a present leaf maps.  The caller holds
 * the page table lock of the leaf, so the page stays mapped meanwhile.
 */
static u32 ptd_page_flags(const struct ptd_file *pf, unsigned long pfn,
			  u32 flags)
{
	struct folio *folio;
	struct page *page;

	if (is_zero_pfn(pfn))
		return SHIKUMI_PT_F_ZERO;
	/*
	 * As vm_normal_page() decides: a special entry has no struct page;
	 * any other has one, but in a VM_PFNMAP or VM_MIXEDMAP mapping.
	 */
	if (flags & SHIKUMI_PT_F_SPECIAL)
		return SHIKUMI_PT_F_NOPAGE;
	if ((pf->vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) && !pfn_valid(pfn))
		return SHIKUMI_PT_F_NOPAGE;
	page = pfn_to_page(pfn);
	folio = page_folio(page);
	if (folio_test_anon(folio))
		flags = SHIKUMI_PT_F_ANON;
	else if (folio->mapping)
		flags = SHIKUMI_PT_F_FILE;
	else
		flags = 0;	/* a kernel page a driver mapped */
	if (shikumi_page_mapped_shared(page))
		flags |= SHIKUMI_PT_F_SHARED;
	return flags;
}

/* an empty entry: only view=translate shows them */
static void ptd_empty(struct ptd_file *pf, int level, unsigned long va)
{
	if (pf->q.view != PTD_VIEW_TRANSLATE)
		return;
	va &= ~(ptd_level_size(level) - 1);
	if (pf->q.raw)
		ptd_emit(pf, SHIKUMI_PT_REC_EMPTY, level,
			 pf->chain[level].index, 0, va, 0, 0);
	else
		ptd_printf(pf, "%s[%3u]  0x%016llx  empty: nothing mapped below\n",
			   ptd_level_names[level], pf->chain[level].index, 0ULL);
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */
/* ------------------------------------------------------------------ */

/*
 * Each ptd_walk_* visits the entries of one table that map [addr, end).
 * It returns true when the fill must stop (the buffer is full or the
 * budget spent); pf->cursor is then the address to resume from.
 */
static bool ptd_must_stop(struct ptd_file *pf, unsigned long addr)
{
	if (ptd_room(pf) >= PTD_ENTRY_ROOM && pf->budget > 0)
		return false;
	pf->cursor = addr;
	return true;
}

/*
 * The PTE level holds nearly all the entries.  The raw and stats views
 * write a fixed size per entry, so the caller works out beforehand how
 * many entries (@n) this fill may take, and the loop writes the records
 * straight into the buffer.
 */
static void ptd_walk_pte_fast(struct ptd_file *pf, pte_t *ptep,
			      unsigned long addr, unsigned long n)
{
	struct shikumi_pt_rec *rec = (void *)(pf->buf + pf->len);
	bool stats = pf->q.view == PTD_VIEW_STATS;
	unsigned long i, leaves = 0, nonpresent = 0;

	for (i = 0; i < n; i++, ptep++, addr += PAGE_SIZE) {
		pte_t pte = ptep_get(ptep);
		u64 raw = pte_val(pte);
		unsigned long pfn;
		u32 flags;

		if (pte_none(pte))
			continue;
		if (!pte_present(pte)) {
			nonpresent++;
			pfn = 0;
			flags = ptd_nonpresent_flags(raw);
			rec->type = SHIKUMI_PT_REC_NONPRESENT;
		} else {
			leaves++;
			if (stats)
				continue;
			pfn = pte_pfn(pte);
			flags = ptd_entry_flags(raw, SHIKUMI_PT_PTE);
			flags |= ptd_page_flags(pf, pfn, flags);
			rec->type = SHIKUMI_PT_REC_LEAF;
		}
		if (stats)
			continue;
		/* every field: struct shikumi_pt_rec has no padding */
		rec->level = SHIKUMI_PT_PTE;
		rec->index = pte_index(addr);
		rec->flags = flags;
		rec->va = addr;
		rec->raw = raw;
		rec->pfn = pfn;
		rec++;
	}
	pf->len = (char *)rec - pf->buf;
	pf->leaves[SHIKUMI_PT_PTE] += leaves;
	pf->nonpresent += nonpresent;
	if (!stats)
		pf->records += leaves + nonpresent;
	pf->budget -= n;
}

static bool ptd_walk_pte(struct ptd_file *pf, pmd_t *pmdp, pmd_t pmd,
			 unsigned long addr, unsigned long end, bool *retry)
{
	spinlock_t *ptl;	/* the PTE table's lock */
	pte_t *ptep;
	bool stop = false;
	unsigned long n, room;

	/*
	 * The PMD was read before the RCU read-side section began: read it
	 * again inside it.  A table that is still there now cannot be freed
	 * (pte_free_defer(), PT_RECLAIM) before rcu_read_unlock().
	 */
	rcu_read_lock();
	if (!pmd_same(pmd, READ_ONCE(*pmdp))) {
		rcu_read_unlock();
		*retry = true;
		return false;
	}
	ptep = pte_offset_kernel(&pmd, addr);
	ptl = pte_lockptr(pf->mm, &pmd);
	spin_lock(ptl);
	if (!pmd_same(pmd, READ_ONCE(*pmdp))) {
		/* the table went away, or was collapsed, meanwhile */
		*retry = true;
		goto unlock;
	}
	if (pf->q.view == PTD_VIEW_STATS ||
	    (pf->q.raw && pf->q.view == PTD_VIEW_FULL)) {
		n = (end - addr) >> PAGE_SHIFT;
		room = pf->q.view == PTD_VIEW_STATS ? n :
		       ptd_room(pf) / sizeof(struct shikumi_pt_rec);
		room = min_t(unsigned long, room, max(pf->budget, 0L));
		if (room < n) {
			pf->cursor = addr + (room << PAGE_SHIFT);
			n = room;
			stop = true;
		}
		ptd_walk_pte_fast(pf, ptep, addr, n);
		goto unlock;
	}
	do {
		pte_t pte = ptep_get(ptep);
		u64 raw = pte_val(pte);
		u32 flags;

		if (ptd_must_stop(pf, addr)) {
			stop = true;
			break;
		}
		pf->budget--;
		pf->chain[SHIKUMI_PT_PTE].index = pte_index(addr);
		pf->chain[SHIKUMI_PT_PTE].raw = raw;
		if (pte_none(pte)) {
			ptd_empty(pf, SHIKUMI_PT_PTE, addr);
			continue;
		}
		if (!pte_present(pte)) {
			ptd_entry(pf, SHIKUMI_PT_REC_NONPRESENT, SHIKUMI_PT_PTE,
				  addr, raw, 0, ptd_nonpresent_flags(raw));
			continue;
		}
		flags = ptd_entry_flags(raw, SHIKUMI_PT_PTE);
		flags |= ptd_page_flags(pf, pte_pfn(pte), flags);
		ptd_entry(pf, SHIKUMI_PT_REC_LEAF, SHIKUMI_PT_PTE, addr, raw,
			  pte_pfn(pte), flags);
	} while (ptep++, addr += PAGE_SIZE, addr != end);
unlock:
	spin_unlock(ptl);
	rcu_read_unlock();
	return stop;
}

/* a huge PMD: read it again under its lock, and see the page it maps */
static bool ptd_pmd_leaf(struct ptd_file *pf, pmd_t *pmdp, pmd_t pmd,
			 unsigned long addr)
{
	spinlock_t *ptl = pmd_lockptr(pf->mm, pmdp);
	u64 raw = pmd_val(pmd);
	u32 flags;

	spin_lock(ptl);
	if (!pmd_same(pmd, READ_ONCE(*pmdp))) {
		spin_unlock(ptl);
		return false;
	}
	flags = ptd_entry_flags(raw, SHIKUMI_PT_PMD);
	flags |= ptd_page_flags(pf, pmd_pfn(pmd), flags);
	/*
	 * An anonymous huge PMD (a THP, or the huge zero page) keeps a PTE
	 * table deposited, ready for the day it is split, and the kernel
	 * counts that table in the process's page-table bytes (VmPTE).
	 */
	if (vma_is_anonymous(pf->vma)) {
		pf->deposited++;
		/*
		 * A huge PMD of an anonymous mapping maps an anonymous THP,
		 * or else the huge zero page (whose PFN is not exported).
		 */
		if (!(flags & SHIKUMI_PT_F_ANON))
			flags = (flags & ~(SHIKUMI_PT_F_NOPAGE |
					   SHIKUMI_PT_F_SHARED)) |
				SHIKUMI_PT_F_ZERO;
	}
	ptd_entry(pf, SHIKUMI_PT_REC_LEAF, SHIKUMI_PT_PMD, addr, raw,
		  pmd_pfn(pmd), flags);
	spin_unlock(ptl);
	return true;
}

static bool ptd_walk_pmd(struct ptd_file *pf, pud_t pud,
			 unsigned long addr, unsigned long end)
{
	/* through the PUD value checked, not a second read of the entry */
	pmd_t *pmdp = pmd_offset(&pud, addr);
	unsigned long next;

	do {
		bool retry;
		pmd_t pmd;

		next = pmd_addr_end(addr, end);
again:
		if (ptd_must_stop(pf, addr))
			return true;
		/* no spinlock or RCU is held here, only mmap_lock */
		cond_resched();
		retry = false;
		pmd = READ_ONCE(*pmdp);
		pf->chain[SHIKUMI_PT_PMD].index = pmd_index(addr);
		pf->chain[SHIKUMI_PT_PMD].raw = pmd_val(pmd);
		pf->budget--;
		if (pmd_none(pmd)) {
			ptd_empty(pf, SHIKUMI_PT_PMD, addr);
			continue;
		}
		if (!pmd_present(pmd)) {
			/* a THP's migration entry */
			ptd_entry(pf, SHIKUMI_PT_REC_NONPRESENT, SHIKUMI_PT_PMD,
				  addr, pmd_val(pmd), 0,
				  ptd_nonpresent_flags(pmd_val(pmd)));
			continue;
		}
		if (pmd_leaf(pmd)) {
			if (!ptd_pmd_leaf(pf, pmdp, pmd, addr))
				goto again;
			continue;
		}
		if (pmd_bad(pmd))
			continue;
		ptd_table(pf, SHIKUMI_PT_PMD, addr, pmd_val(pmd));
		if (ptd_walk_pte(pf, pmdp, pmd, addr, next, &retry))
			return true;
		if (retry)
			goto again;
	} while (pmdp++, addr = next, addr != end);
	return false;
}

/* a huge PUD (1 GiB hugetlb, or DAX) */
static bool ptd_pud_leaf(struct ptd_file *pf, pud_t *pudp, pud_t pud,
			 unsigned long addr)
{
	u64 raw = pud_val(pud);
	u32 flags;

	spin_lock(&pf->mm->page_table_lock);
	if (!pud_same(pud, READ_ONCE(*pudp))) {
		spin_unlock(&pf->mm->page_table_lock);
		return false;
	}
	flags = ptd_entry_flags(raw, SHIKUMI_PT_PUD);
	flags |= ptd_page_flags(pf, pud_pfn(pud), flags);
	ptd_entry(pf, SHIKUMI_PT_REC_LEAF, SHIKUMI_PT_PUD, addr, raw,
		  pud_pfn(pud), flags);
	spin_unlock(&pf->mm->page_table_lock);
	return true;
}

static bool ptd_walk_pud(struct ptd_file *pf, p4d_t p4d,
			 unsigned long addr, unsigned long end)
{
	pud_t *pudp = pud_offset(&p4d, addr);
	unsigned long next;

	do {
		pud_t pud;

		next = pud_addr_end(addr, end);
again:
		if (ptd_must_stop(pf, addr))
			return true;
		cond_resched();
		pf->budget--;
		pud = READ_ONCE(*pudp);
		pf->chain[SHIKUMI_PT_PUD].index = pud_index(addr);
		pf->chain[SHIKUMI_PT_PUD].raw = pud_val(pud);
		if (pud_none(pud)) {
			ptd_empty(pf, SHIKUMI_PT_PUD, addr);
			continue;
		}
		if (!pud_present(pud)) {
			ptd_entry(pf, SHIKUMI_PT_REC_NONPRESENT, SHIKUMI_PT_PUD,
				  addr, pud_val(pud), 0,
				  ptd_nonpresent_flags(pud_val(pud)));
			continue;
		}
		if (pud_leaf(pud)) {
			if (!ptd_pud_leaf(pf, pudp, pud, addr))
				goto again;
			continue;
		}
		if (pud_bad(pud))
			continue;
		ptd_table(pf, SHIKUMI_PT_PUD, addr, pud_val(pud));
		if (ptd_walk_pmd(pf, pud, addr, next))
			return true;
	} while (pudp++, addr = next, addr != end);
	return false;
}

/*
 * With 4-level paging the kernel folds the P4D into the PGD: p4d_offset()
 * returns the PGD entry itself.  The entries are then shown as the PGD's.
 */
static bool ptd_walk_p4d(struct ptd_file *pf, pgd_t *pgdp,
			 unsigned long addr, unsigned long end)
{
	p4d_t *p4dp = p4d_offset(pgdp, addr);
	int level = ptd_p4d_folded() ? SHIKUMI_PT_PGD : SHIKUMI_PT_P4D;
	unsigned long next;

	do {
		p4d_t p4d;

		next = p4d_addr_end(addr, end);
		if (ptd_must_stop(pf, addr))
			return true;
		pf->budget--;
		p4d = READ_ONCE(*p4dp);
		pf->chain[level].index = level == SHIKUMI_PT_PGD ?
					 pgd_index(addr) : p4d_index(addr);
		pf->chain[level].raw = p4d_val(p4d);
		if (p4d_none(p4d)) {
			ptd_empty(pf, level, addr);
			continue;
		}
		if (p4d_bad(p4d))
			continue;
		ptd_table(pf, level, addr, p4d_val(p4d));
		if (ptd_walk_pud(pf, p4d, addr, next))
			return true;
	} while (p4dp++, addr = next, addr != end);
	return false;
}

static bool ptd_walk_pgd(struct ptd_file *pf, unsigned long addr,
			 unsigned long end)
{
	pgd_t *pgdp = ptd_pgd_offset(pf->mm, addr);
	unsigned long next;

	do {
		pgd_t pgd;

		next = pgd_addr_end(addr, end);
		if (ptd_p4d_folded()) {
			if (ptd_walk_p4d(pf, pgdp, addr, next))
				return true;
			continue;
		}
		if (ptd_must_stop(pf, addr))
			return true;
		pgd = READ_ONCE(*pgdp);
		pf->chain[SHIKUMI_PT_PGD].index = pgd_index(addr);
		pf->chain[SHIKUMI_PT_PGD].raw = pgd_val(pgd);
		if (pgd_none(pgd)) {
			ptd_empty(pf, SHIKUMI_PT_PGD, addr);
			continue;
		}
		if (pgd_bad(pgd))
			continue;
		ptd_table(pf, SHIKUMI_PT_PGD, addr, pgd_val(pgd));
		if (ptd_walk_p4d(pf, pgdp, addr, next))
			return true;
	} while (pgdp++, addr = next, addr != end);
	return false;
}

/*
 * A shared hugetlb mapping may share its PMD table with other processes,
 * and huge_pmd_unshare() takes it away from under mmap_read_lock, holding
 * only the file's i_mmap_rwsem for writing: hold it for reading meanwhile,
 * as the kernel's own hugetlb walkers do (mmap_lock, i_mmap_rwsem, then
 * the page table lock).
 */
static bool ptd_walk_vma(struct ptd_file *pf, struct vm_area_struct *vma,
			 unsigned long start, unsigned long end)
{
	struct address_space *mapping = NULL;
	bool stop;

	if (is_vm_hugetlb_page(vma) && (vma->vm_flags & VM_MAYSHARE) &&
	    vma->vm_file)
		mapping = vma->vm_file->f_mapping;
	if (mapping)
		i_mmap_lock_read(mapping);
	stop = ptd_walk_pgd(pf, start, end);
	if (mapping)
		i_mmap_unlock_read(mapping);
	return stop;
}

/*
 * Walk the VMAs in [cursor, q.end) until done (false) or told to stop
 * (true).  The caller holds mmap_read_lock.
 */
static bool ptd_walk_vmas(struct ptd_file *pf)
{
	struct vm_area_struct *vma;
	unsigned long start, end;

	while (pf->cursor < pf->q.end) {
		vma = find_vma(pf->mm, pf->cursor);
		if (!vma || vma->vm_start >= pf->q.end)
			return false;
		if (vma->vm_start != pf->vma_start) {
			if (ptd_room(pf) < PTD_VMA_ROOM)
				return true;
			pf->vma_start = vma->vm_start;
			ptd_vma(pf, vma);
		}
		start = max(pf->cursor, vma->vm_start);
		end = min(vma->vm_end, pf->q.end);
		pf->vma = vma;
		if (ptd_walk_vma(pf, vma, start, end))
			return true;
		pf->cursor = end;
	}
	return false;
}

static void ptd_header(struct ptd_file *pf)
{
	const struct ptd_query *q = &pf->q;
	u32 flags = 0;

	if (ptd_p4d_folded())
		flags |= SHIKUMI_PT_H_P4D_FOLDED;
	if (IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		flags |= SHIKUMI_PT_H_SOFT_DIRTY;
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		flags |= SHIKUMI_PT_H_THP;
	if (ptd_pti())
		flags |= SHIKUMI_PT_H_PTI_USER;
	if (q->raw) {
		ptd_emit(pf, SHIKUMI_PT_REC_HEADER, SHIKUMI_PT_LEVELS,
			 SHIKUMI_PT_VERSION, flags, q->start, q->pid, q->end);
		return;
	}
	ptd_printf(pf, "# shikumi_ptdump: pid %d (%s), ", q->pid, pf->comm);
	if (q->view == PTD_VIEW_TRANSLATE)
		ptd_printf(pf, "translate 0x%lx\n", q->addr);
	else
		ptd_printf(pf, "0x%lx-0x%lx, %s\n", q->start, q->end,
			   ptd_view_names[q->view]);
	if (q->view == PTD_VIEW_STATS)
		return;
	ptd_printf(pf, "# paging: %s\n", ptd_p4d_folded() ?
		   "4 levels, the p4d is folded into the pgd" : "5 levels");
	if (ptd_pti())
		ptd_printf(pf, "# pgd: the user copy (page-table isolation)\n");
	if (q->view == PTD_VIEW_SUMMARY)
		ptd_printf(pf, "# runs: start-end count x size level flags\n");
	ptd_printf(pf, "# flags: P present (pn: PROT_NONE), RW/ro, USR user,\n");
	ptd_printf(pf, "#   A accessed, D dirty, NX/x, GLB global, PSE huge,\n");
	ptd_printf(pf, "#   SD soft-dirty, SPC special;\n");
	ptd_printf(pf, "#   page: anon/file/zero/pfn (no struct page)/kern, shared/excl\n");
}

static void ptd_tail(struct ptd_file *pf)
{
	u64 pgtable_bytes;
	int l;

	pf->tables[SHIKUMI_PT_PGD] = 1;
	if (pf->q.view == PTD_VIEW_SUMMARY)
		ptd_flush_run(pf);
	if (pf->q.raw) {
		if (pf->q.view == PTD_VIEW_FULL || pf->q.view == PTD_VIEW_STATS)
			for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
				ptd_emit(pf, SHIKUMI_PT_REC_STATS, l, 0,
					 l == SHIKUMI_PT_PTE ? pf->deposited : 0,
					 0, pf->leaves[l], pf->tables[l]);
		ptd_emit(pf, SHIKUMI_PT_REC_END, 0, 0,
			 pf->exited ? SHIKUMI_PT_E_EXITED : 0, pf->cursor,
			 pf->nonpresent, pf->records);
		return;
	}
	if (pf->q.view == PTD_VIEW_TRANSLATE && !pf->vmas && !pf->exited)
		ptd_printf(pf, "0x%lx is in no VMA: nothing can be mapped there\n",
			   pf->q.addr);
	if (pf->q.view == PTD_VIEW_STATS) {
		for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
			ptd_printf(pf, "tables_%s %llu\n", ptd_level_names[l],
				   pf->tables[l]);
		pgtable_bytes = (pf->tables[SHIKUMI_PT_PUD] +
				 pf->tables[SHIKUMI_PT_PMD] +
				 pf->tables[SHIKUMI_PT_PTE]) * PAGE_SIZE;
		ptd_printf(pf, "pgtable_bytes %llu\n", pgtable_bytes);
		ptd_printf(pf, "pte_tables_deposited %llu\n", pf->deposited);
		/* what /proc/PID/status calls VmPTE (the PGD and P4D aside) */
		ptd_printf(pf, "vmpte_bytes %llu\n",
			   pgtable_bytes + pf->deposited * PAGE_SIZE);
		ptd_printf(pf, "pages_4k %llu\npages_2m %llu\npages_1g %llu\n",
			   pf->leaves[SHIKUMI_PT_PTE],
			   pf->leaves[SHIKUMI_PT_PMD],
			   pf->leaves[SHIKUMI_PT_PUD]);
		ptd_printf(pf, "nonpresent %llu\nvmas %llu\n",
			   pf->nonpresent, pf->vmas);
		ptd_printf(pf, "p4d_folded %d\n", ptd_p4d_folded());
	}
	if (pf->exited)
		ptd_printf(pf, "# the process exited during the dump\n");
}

/* Fill the empty buffer with what comes next. */
static int ptd_fill(struct ptd_file *pf)
{
	bool stop;

	pf->head = 0;
	pf->len = 0;
	switch (pf->stage) {
	case PTD_STAGE_HEADER:
		ptd_header(pf);
		pf->stage = PTD_STAGE_WALK;
		return 0;
	case PTD_STAGE_WALK:
		if (!mmget_not_zero(pf->mm)) {
			pf->exited = true;
			pf->stage = PTD_STAGE_TAIL;
			return 0;
		}
		if (mmap_read_lock_killable(pf->mm)) {
			mmput(pf->mm);
			return -EINTR;
		}
		pf->budget = PTD_FILL_BUDGET;
		stop = ptd_walk_vmas(pf);
		mmap_read_unlock(pf->mm);
		mmput(pf->mm);
		if (!stop)
			pf->stage = PTD_STAGE_TAIL;
		return 0;
	case PTD_STAGE_TAIL:
		ptd_tail(pf);
		pf->stage = PTD_STAGE_DONE;
		return 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* The file                                                             */
/* ------------------------------------------------------------------ */

static void ptd_restart(struct ptd_file *pf)
{
	pf->stage = PTD_STAGE_HEADER;
	pf->cursor = pf->q.start;
	pf->vma_start = ULONG_MAX;
	memset(pf->entry_va, 0xff, sizeof(pf->entry_va));
	memset(pf->chain, 0, sizeof(pf->chain));
	memset(&pf->run, 0, sizeof(pf->run));
	memset(pf->tables, 0, sizeof(pf->tables));
	memset(pf->leaves, 0, sizeof(pf->leaves));
	pf->nonpresent = 0;
	pf->deposited = 0;
	pf->vmas = 0;
	pf->records = 0;
	pf->exited = false;
	pf->head = 0;
	pf->len = 0;
}

/* the process a query names */
struct ptd_target {
	struct mm_struct *mm;		/* mmgrab()ed */
	char comm[TASK_COMM_LEN];
};

/*
 * The address space of @task's process, from the first of its threads
 * that still has it, as find_lock_task_mm() (which is not exported) finds
 * it: a thread-group leader that has exited has none, while its other
 * threads run on in it.
 */
static struct mm_struct *ptd_get_task_mm(struct task_struct *task)
{
	struct mm_struct *mm = NULL;
	struct task_struct *t;

	rcu_read_lock();
	for_each_thread(task, t) {
		mm = get_task_mm(t);
		if (mm)
			break;
	}
	rcu_read_unlock();
	return mm;
}

/* Find the address space of @nr, in the caller's pid namespace. */
static int ptd_get_target(pid_t nr, struct ptd_target *t)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	int ret = 0;

	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = ptd_get_task_mm(task);
	if (mm) {
		mmgrab(mm);
		mmput(mm);
		t->mm = mm;
		get_task_comm(t->comm, task);
	} else {
		/* a kernel thread has none; an exiting task has lost it */
		ret = task->flags & PF_KTHREAD ? -ENXIO : -ESRCH;
	}
	put_task_struct(task);
	return ret;
}

static int ptd_parse_range(char *val, unsigned long *start,
			   unsigned long *end)
{
	char *dash = strchr(val, '-');

	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (kstrtoul(val, 0, start) || kstrtoul(dash + 1, 0, end))
		return -EINVAL;
	return 0;
}

/* Parse @line into @q, and say which keys it had. */
static int ptd_parse_query(char *line, struct ptd_query *q, bool *has_pid,
			   bool *has_range, bool *has_addr)
{
	char *word, *val;
	int view;

	while ((word = strsep(&line, " \t\n")) != NULL) {
		if (!*word)
			continue;
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(word, "pid")) {
			if (kstrtoint(val, 10, &q->pid) || q->pid <= 0)
				return -EINVAL;
			*has_pid = true;
		} else if (!strcmp(word, "range")) {
			if (ptd_parse_range(val, &q->start, &q->end))
				return -EINVAL;
			*has_range = true;
		} else if (!strcmp(word, "addr")) {
			if (kstrtoul(val, 0, &q->addr))
				return -EINVAL;
			*has_addr = true;
		} else if (!strcmp(word, "view")) {
			view = match_string(ptd_view_names,
					    ARRAY_SIZE(ptd_view_names), val);
			if (view < 0)
				return -EINVAL;
			q->view = view;
		} else if (!strcmp(word, "format")) {
			if (!strcmp(val, "raw"))
				q->raw = true;
			else if (!strcmp(val, "text"))
				q->raw = false;
			else
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static ssize_t ptd_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct ptd_file *pf = file->private_data;
	struct ptd_query q = { .view = PTD_VIEW_SUMMARY };
	bool has_pid = false, has_range = false, has_addr = false;
	struct ptd_target t;
	struct mm_struct *old;
	char *line;
	int ret;

	/*
	 * The query chooses the target, so the writer must be allowed what
	 * the opener was: a descriptor passed on (SCM_RIGHTS, an exec without
	 * O_CLOEXEC) must not carry root's view to a process without it.
	 * /proc/PID/pagemap fixes its target at open instead.
	 */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (count > PTD_QUERY_MAX)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	ret = ptd_parse_query(line, &q, &has_pid, &has_range, &has_addr);
	kfree(line);
	if (ret)
		return ret;
	if (q.raw && q.view == PTD_VIEW_SUMMARY)
		return -EINVAL;
	/* addr= goes with view=translate, which takes no range= */
	if (q.view == PTD_VIEW_TRANSLATE ? !has_addr || has_range : has_addr)
		return -EINVAL;
	if (!has_pid)
		q.pid = task_tgid_vnr(current);

	ret = ptd_get_target(q.pid, &t);
	if (ret)
		return ret;
	/*
	 * Another process's tables: /proc/PID/pagemap asks ptrace_may_access(),
	 * which modules cannot call; the capability that passes it stands in.
	 */
	ret = -EPERM;
	if (t.mm != current->mm &&
	    (!file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE) ||
	     !capable(CAP_SYS_PTRACE)))
		goto drop_mm;
	ret = -EINVAL;
	if (q.view == PTD_VIEW_TRANSLATE) {
		if (q.addr >= t.mm->task_size)
			goto drop_mm;
		q.start = q.addr & PAGE_MASK;
		q.end = q.start + PAGE_SIZE;
	} else if (has_range) {
		if (q.start >= q.end || q.end > t.mm->task_size)
			goto drop_mm;
		q.start &= PAGE_MASK;
		q.end = PAGE_ALIGN(q.end);
	} else {
		q.start = 0;
		q.end = t.mm->task_size;
	}

	ret = mutex_lock_interruptible(&pf->lock);
	if (ret)
		goto drop_mm;
	old = pf->mm;
	pf->mm = t.mm;
	pf->q = q;
	memcpy(pf->comm, t.comm, sizeof(pf->comm));
	ptd_restart(pf);
	mutex_unlock(&pf->lock);
	mmdrop(old);
	return count;

drop_mm:
	mmdrop(t.mm);
	return ret;
}

static ssize_t ptd_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct ptd_file *pf = file->private_data;
	size_t copied = 0, n;
	int ret;

	ret = mutex_lock_interruptible(&pf->lock);
	if (ret)
		return ret;
	if (pf->q.raw && count < sizeof(struct shikumi_pt_rec)) {
		ret = -EINVAL;
		goto unlock;
	}
	while (copied < count) {
		if (pf->head == pf->len) {
			if (pf->stage == PTD_STAGE_DONE)
				break;
			if (fatal_signal_pending(current) ||
			    (!copied && signal_pending(current))) {
				ret = copied ? 0 : -ERESTARTSYS;
				break;
			}
			ret = ptd_fill(pf);
			if (ret)
				break;
			cond_resched();
			continue;
		}
		n = min(pf->len - pf->head, count - copied);
		if (pf->q.raw)
			n = rounddown(n, sizeof(struct shikumi_pt_rec));
		if (!n)
			break;
		if (copy_to_user(ubuf + copied, pf->buf + pf->head, n)) {
			ret = -EFAULT;
			break;
		}
		pf->head += n;
		copied += n;
	}
unlock:
	mutex_unlock(&pf->lock);
	return copied ? copied : ret;
}

#define PTD_FILE_BYTES	(sizeof(struct ptd_file) + PTD_BUF_SIZE + PATH_MAX)

static int ptd_open(struct inode *inode, struct file *file)
{
	struct ptd_file *pf;
	int ret;

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	ret = -ENOMEM;
	pf->buf = kvmalloc(PTD_BUF_SIZE, GFP_KERNEL);
	if (!pf->buf)
		goto free_pf;
	pf->path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!pf->path)
		goto free_buf;
	mutex_init(&pf->lock);
	/* by default, the opener's own address space, in summary */
	ret = -ENXIO;
	if (!current->mm)
		goto free_path;
	mmgrab(current->mm);
	pf->mm = current->mm;
	get_task_comm(pf->comm, current);
	pf->q.pid = task_tgid_vnr(current);
	pf->q.view = PTD_VIEW_SUMMARY;
	pf->q.start = 0;
	pf->q.end = pf->mm->task_size;
	ptd_restart(pf);
	file->private_data = pf;
	atomic_inc(&ptd_open_files);
	atomic_long_add(PTD_FILE_BYTES, &ptd_mem_bytes);
	return stream_open(inode, file);

free_path:
	kfree(pf->path);
free_buf:
	kvfree(pf->buf);
free_pf:
	kfree(pf);
	return ret;
}

static int ptd_release(struct inode *inode, struct file *file)
{
	struct ptd_file *pf = file->private_data;

	mmdrop(pf->mm);
	kfree(pf->path);
	kvfree(pf->buf);
	mutex_destroy(&pf->lock);
	kfree(pf);
	atomic_long_sub(PTD_FILE_BYTES, &ptd_mem_bytes);
	atomic_dec(&ptd_open_files);
	return 0;
}

static const struct file_operations ptd_dump_fops = {
	.owner		= THIS_MODULE,
	.open		= ptd_open,
	.read		= ptd_read,
	.write		= ptd_write,
	.release	= ptd_release,
};

/* status: how many dumps are open, and the memory they hold */
static int ptd_status_show(struct seq_file *m, void *v)
{
	seq_printf(m, "open_files %d\n", atomic_read(&ptd_open_files));
	seq_printf(m, "memory_bytes %ld\n", atomic_long_read(&ptd_mem_bytes));
	seq_printf(m, "bytes_per_open_file %zu\n", PTD_FILE_BYTES);
	seq_printf(m, "p4d_folded %d\n", ptd_p4d_folded());
	seq_printf(m, "pti %d\n", ptd_pti());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ptd_status);

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

static int __init shikumi_ptdump_init(void)
{
	/* in a directory shared by shikumi's modules: <shikumi/debugfs.h> */
	ptd_debugfs_dir = shikumi_debugfs_create_dir("ptdump");
	if (IS_ERR(ptd_debugfs_dir)) {
		pr_err("cannot create /sys/kernel/debug/shikumi/ptdump: %ld\n",
		       PTR_ERR(ptd_debugfs_dir));
		return PTR_ERR(ptd_debugfs_dir);
	}
	debugfs_create_file("dump", 0600, ptd_debugfs_dir, NULL,
			    &ptd_dump_fops);
	debugfs_create_file("status", 0400, ptd_debugfs_dir, NULL,
			    &ptd_status_fops);
	pr_info("page tables of any process in /sys/kernel/debug/shikumi/ptdump/\n");
	return 0;
}

static void __exit shikumi_ptdump_exit(void)
{
	shikumi_debugfs_remove(ptd_debugfs_dir);
}

module_init(shikumi_ptdump_init);
module_exit(shikumi_ptdump_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The shikumi authors");
MODULE_DESCRIPTION("Any process's page tables, level by level, in debugfs");
