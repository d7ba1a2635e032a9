// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ptdump: the walk of a process's VMAs and page tables.
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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/hugetlb_inline.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/spinlock.h>

#include <shikumi/compat/mm.h>

#include "ptdump.h"

/* Page-table isolation: user space runs on a PGD of its own */
bool shikumi_pt_pti(void)
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
static pgd_t *shikumi_pt_pgd_offset(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgdp = pgd_offset(mm, addr);

#ifdef SHIKUMI_PTI
	if (shikumi_pt_pti())
		pgdp = kernel_to_user_pgdp(pgdp);
#endif
	return pgdp;
}

/* compat/mm.h's kinds, as the user API numbers them */
static const u8 shikumi_pt_np_kinds[] = {
	[SHIKUMI_LEAF_UNKNOWN]			= SHIKUMI_PT_NP_UNKNOWN,
	[SHIKUMI_LEAF_SWAP]			= SHIKUMI_PT_NP_SWAP,
	[SHIKUMI_LEAF_MIGRATION_READ]		= SHIKUMI_PT_NP_MIGRATION_READ,
	[SHIKUMI_LEAF_MIGRATION_READ_EXCLUSIVE]	= SHIKUMI_PT_NP_MIGRATION_READ_EXCL,
	[SHIKUMI_LEAF_MIGRATION_WRITE]		= SHIKUMI_PT_NP_MIGRATION_WRITE,
	[SHIKUMI_LEAF_DEVICE_PRIVATE_READ]	= SHIKUMI_PT_NP_DEVICE_PRIVATE_READ,
	[SHIKUMI_LEAF_DEVICE_PRIVATE_WRITE]	= SHIKUMI_PT_NP_DEVICE_PRIVATE_WRITE,
	[SHIKUMI_LEAF_DEVICE_EXCLUSIVE]		= SHIKUMI_PT_NP_DEVICE_EXCLUSIVE,
	[SHIKUMI_LEAF_HWPOISON]			= SHIKUMI_PT_NP_HWPOISON,
	[SHIKUMI_LEAF_MARKER]			= SHIKUMI_PT_NP_MARKER,
};

/*
 * A non-present entry's bits are not the hardware's: of those, only its
 * soft-dirty bit has a meaning here.  The rest is the kernel's: what kind
 * of entry it is, and for a swap entry the swap area (its type), in the
 * record's flags; the swap offset, PFN or marker bits in *@val, the
 * record's pfn.
 */
static u32 shikumi_pt_nonpresent_flags(u64 raw, struct shikumi_leaf leaf,
				       unsigned long *val)
{
	u32 flags = 0;

	if (_PAGE_SWP_SOFT_DIRTY && (raw & _PAGE_SWP_SOFT_DIRTY))
		flags |= SHIKUMI_PT_F_SOFT_DIRTY;
	if (leaf.kind >= ARRAY_SIZE(shikumi_pt_np_kinds))
		leaf.kind = SHIKUMI_LEAF_UNKNOWN;
	flags |= (u32)shikumi_pt_np_kinds[leaf.kind] << SHIKUMI_PT_F_NP_KIND_SHIFT;
	*val = leaf.kind == SHIKUMI_LEAF_UNKNOWN ? 0 : leaf.val;
	if (leaf.kind == SHIKUMI_LEAF_MARKER)
		*val = (leaf.val & SHIKUMI_LEAF_MARK_UFFD_WP ? SHIKUMI_PT_MARK_UFFD_WP : 0) |
		       (leaf.val & SHIKUMI_LEAF_MARK_POISONED ? SHIKUMI_PT_MARK_POISONED : 0) |
		       (leaf.val & SHIKUMI_LEAF_MARK_GUARD ? SHIKUMI_PT_MARK_GUARD : 0);
	if (leaf.kind == SHIKUMI_LEAF_SWAP)
		flags |= (leaf.type << SHIKUMI_PT_F_NP_SWAP_TYPE_SHIFT) &
			 SHIKUMI_PT_F_NP_SWAP_TYPE;
	return flags;
}

/* a non-present PTE, or a hugetlb PMD or PUD (which have the PTE's format) */
static u32 shikumi_pt_nonpresent_pte(u64 raw, unsigned long *val)
{
	return shikumi_pt_nonpresent_flags(raw, shikumi_leaf_from_pte(__pte(raw)), val);
}

/* the entry's own bits, decoded */
u32 shikumi_pt_entry_flags(u64 raw, int level)
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
static u32 shikumi_pt_page_flags(const struct shikumi_pt_file *pf, unsigned long pfn,
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
static void shikumi_pt_empty(struct shikumi_pt_file *pf, int level, unsigned long va)
{
	if (pf->q.view != SHIKUMI_PT_VIEW_TRANSLATE)
		return;
	va &= ~(shikumi_pt_level_size(level) - 1);
	if (pf->q.raw)
		shikumi_pt_emit(pf, SHIKUMI_PT_REC_EMPTY, level,
				pf->chain[level].index, 0, va, 0, 0);
	else
		shikumi_pt_printf(pf, "%s[%3u]  0x%016llx  empty: nothing mapped below\n",
				  shikumi_pt_level_names[level], pf->chain[level].index, 0ULL);
}

/* ------------------------------------------------------------------ */
/* The walk                                                             */
/* ------------------------------------------------------------------ */

/*
 * Each shikumi_pt_walk_* visits the entries of one table that map [addr, end).
 * It returns true when the fill must stop (the buffer is full or the
 * budget spent); pf->cursor is then the address to resume from.
 */
static bool shikumi_pt_must_stop(struct shikumi_pt_file *pf, unsigned long addr)
{
	if (shikumi_pt_room(pf) >= SHIKUMI_PT_ENTRY_ROOM && pf->budget > 0)
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
static void shikumi_pt_walk_pte_fast(struct shikumi_pt_file *pf, pte_t *ptep,
				     unsigned long addr, unsigned long n)
{
	struct shikumi_pt_rec *rec = (void *)(pf->buf + pf->len);
	bool stats = pf->q.view == SHIKUMI_PT_VIEW_STATS;
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
			if (stats)
				continue;
			flags = shikumi_pt_nonpresent_pte(raw, &pfn);
			rec->type = SHIKUMI_PT_REC_NONPRESENT;
		} else {
			leaves++;
			if (stats)
				continue;
			pfn = pte_pfn(pte);
			flags = shikumi_pt_entry_flags(raw, SHIKUMI_PT_PTE);
			flags |= shikumi_pt_page_flags(pf, pfn, flags);
			rec->type = SHIKUMI_PT_REC_LEAF;
		}
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

static bool shikumi_pt_walk_pte(struct shikumi_pt_file *pf, pmd_t *pmdp, pmd_t pmd,
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
	if (pf->q.view == SHIKUMI_PT_VIEW_STATS ||
	    (pf->q.raw && pf->q.view == SHIKUMI_PT_VIEW_FULL)) {
		n = (end - addr) >> PAGE_SHIFT;
		room = pf->q.view == SHIKUMI_PT_VIEW_STATS ? n :
		       shikumi_pt_room(pf) / sizeof(struct shikumi_pt_rec);
		room = min_t(unsigned long, room, max(pf->budget, 0L));
		if (room < n) {
			pf->cursor = addr + (room << PAGE_SHIFT);
			n = room;
			stop = true;
		}
		shikumi_pt_walk_pte_fast(pf, ptep, addr, n);
		goto unlock;
	}
	do {
		pte_t pte = ptep_get(ptep);
		u64 raw = pte_val(pte);
		unsigned long val;
		u32 flags;

		if (shikumi_pt_must_stop(pf, addr)) {
			stop = true;
			break;
		}
		pf->budget--;
		pf->chain[SHIKUMI_PT_PTE].index = pte_index(addr);
		pf->chain[SHIKUMI_PT_PTE].raw = raw;
		if (pte_none(pte)) {
			shikumi_pt_empty(pf, SHIKUMI_PT_PTE, addr);
			continue;
		}
		if (!pte_present(pte)) {
			flags = shikumi_pt_nonpresent_pte(raw, &val);
			shikumi_pt_entry(pf, SHIKUMI_PT_REC_NONPRESENT, SHIKUMI_PT_PTE,
					 addr, raw, val, flags);
			continue;
		}
		flags = shikumi_pt_entry_flags(raw, SHIKUMI_PT_PTE);
		flags |= shikumi_pt_page_flags(pf, pte_pfn(pte), flags);
		shikumi_pt_entry(pf, SHIKUMI_PT_REC_LEAF, SHIKUMI_PT_PTE, addr, raw,
				 pte_pfn(pte), flags);
	} while (ptep++, addr += PAGE_SIZE, addr != end);
unlock:
	spin_unlock(ptl);
	rcu_read_unlock();
	return stop;
}

/* a huge PMD: read it again under its lock, and see the page it maps */
static bool shikumi_pt_pmd_leaf(struct shikumi_pt_file *pf, pmd_t *pmdp, pmd_t pmd,
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
	flags = shikumi_pt_entry_flags(raw, SHIKUMI_PT_PMD);
	flags |= shikumi_pt_page_flags(pf, pmd_pfn(pmd), flags);
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
	shikumi_pt_entry(pf, SHIKUMI_PT_REC_LEAF, SHIKUMI_PT_PMD, addr, raw,
			 pmd_pfn(pmd), flags);
	spin_unlock(ptl);
	return true;
}

/*
 * A THP's migration entry, or a hugetlb page's swap-type entry (migration,
 * hwpoison, marker), which hugetlb keeps in the PTE's format
 */
static void shikumi_pt_pmd_nonpresent(struct shikumi_pt_file *pf, pmd_t pmd,
				      unsigned long addr)
{
	u64 raw = pmd_val(pmd);
	unsigned long val;
	u32 flags;

	if (is_vm_hugetlb_page(pf->vma))
		flags = shikumi_pt_nonpresent_pte(raw, &val);
	else
		flags = shikumi_pt_nonpresent_flags(raw, shikumi_leaf_from_pmd(pmd), &val);
	shikumi_pt_entry(pf, SHIKUMI_PT_REC_NONPRESENT, SHIKUMI_PT_PMD, addr, raw,
			 val, flags);
}

static bool shikumi_pt_walk_pmd(struct shikumi_pt_file *pf, pud_t pud,
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
		if (shikumi_pt_must_stop(pf, addr))
			return true;
		/* no spinlock or RCU is held here, only mmap_lock */
		cond_resched();
		retry = false;
		pmd = READ_ONCE(*pmdp);
		pf->chain[SHIKUMI_PT_PMD].index = pmd_index(addr);
		pf->chain[SHIKUMI_PT_PMD].raw = pmd_val(pmd);
		pf->budget--;
		if (pmd_none(pmd)) {
			shikumi_pt_empty(pf, SHIKUMI_PT_PMD, addr);
			continue;
		}
		if (!pmd_present(pmd)) {
			shikumi_pt_pmd_nonpresent(pf, pmd, addr);
			continue;
		}
		if (pmd_leaf(pmd)) {
			if (!shikumi_pt_pmd_leaf(pf, pmdp, pmd, addr))
				goto again;
			continue;
		}
		if (pmd_bad(pmd))
			continue;
		shikumi_pt_table(pf, SHIKUMI_PT_PMD, addr, pmd_val(pmd));
		if (shikumi_pt_walk_pte(pf, pmdp, pmd, addr, next, &retry))
			return true;
		if (retry)
			goto again;
	} while (pmdp++, addr = next, addr != end);
	return false;
}

/* a huge PUD (1 GiB hugetlb, or DAX) */
static bool shikumi_pt_pud_leaf(struct shikumi_pt_file *pf, pud_t *pudp, pud_t pud,
				unsigned long addr)
{
	u64 raw = pud_val(pud);
	u32 flags;

	spin_lock(&pf->mm->page_table_lock);
	if (!pud_same(pud, READ_ONCE(*pudp))) {
		spin_unlock(&pf->mm->page_table_lock);
		return false;
	}
	flags = shikumi_pt_entry_flags(raw, SHIKUMI_PT_PUD);
	flags |= shikumi_pt_page_flags(pf, pud_pfn(pud), flags);
	shikumi_pt_entry(pf, SHIKUMI_PT_REC_LEAF, SHIKUMI_PT_PUD, addr, raw,
			 pud_pfn(pud), flags);
	spin_unlock(&pf->mm->page_table_lock);
	return true;
}

static bool shikumi_pt_walk_pud(struct shikumi_pt_file *pf, p4d_t p4d,
				unsigned long addr, unsigned long end)
{
	pud_t *pudp = pud_offset(&p4d, addr);
	unsigned long next;

	do {
		unsigned long val;
		pud_t pud;

		next = pud_addr_end(addr, end);
again:
		if (shikumi_pt_must_stop(pf, addr))
			return true;
		cond_resched();
		pf->budget--;
		pud = READ_ONCE(*pudp);
		pf->chain[SHIKUMI_PT_PUD].index = pud_index(addr);
		pf->chain[SHIKUMI_PT_PUD].raw = pud_val(pud);
		if (pud_none(pud)) {
			shikumi_pt_empty(pf, SHIKUMI_PT_PUD, addr);
			continue;
		}
		if (!pud_present(pud)) {
			/* only hugetlb's 1 GiB pages: the PTE's format */
			u32 flags = shikumi_pt_nonpresent_pte(pud_val(pud), &val);

			shikumi_pt_entry(pf, SHIKUMI_PT_REC_NONPRESENT, SHIKUMI_PT_PUD,
					 addr, pud_val(pud), val, flags);
			continue;
		}
		if (pud_leaf(pud)) {
			if (!shikumi_pt_pud_leaf(pf, pudp, pud, addr))
				goto again;
			continue;
		}
		if (pud_bad(pud))
			continue;
		shikumi_pt_table(pf, SHIKUMI_PT_PUD, addr, pud_val(pud));
		if (shikumi_pt_walk_pmd(pf, pud, addr, next))
			return true;
	} while (pudp++, addr = next, addr != end);
	return false;
}

/*
 * With 4-level paging the kernel folds the P4D into the PGD: p4d_offset()
 * returns the PGD entry itself.  The entries are then shown as the PGD's.
 */
static bool shikumi_pt_walk_p4d(struct shikumi_pt_file *pf, pgd_t *pgdp,
				unsigned long addr, unsigned long end)
{
	p4d_t *p4dp = p4d_offset(pgdp, addr);
	int level = shikumi_pt_p4d_folded() ? SHIKUMI_PT_PGD : SHIKUMI_PT_P4D;
	unsigned long next;

	do {
		p4d_t p4d;

		next = p4d_addr_end(addr, end);
		if (shikumi_pt_must_stop(pf, addr))
			return true;
		pf->budget--;
		p4d = READ_ONCE(*p4dp);
		pf->chain[level].index = level == SHIKUMI_PT_PGD ?
					 pgd_index(addr) : p4d_index(addr);
		pf->chain[level].raw = p4d_val(p4d);
		if (p4d_none(p4d)) {
			shikumi_pt_empty(pf, level, addr);
			continue;
		}
		if (p4d_bad(p4d))
			continue;
		shikumi_pt_table(pf, level, addr, p4d_val(p4d));
		if (shikumi_pt_walk_pud(pf, p4d, addr, next))
			return true;
	} while (p4dp++, addr = next, addr != end);
	return false;
}

static bool shikumi_pt_walk_pgd(struct shikumi_pt_file *pf, unsigned long addr,
				unsigned long end)
{
	pgd_t *pgdp = shikumi_pt_pgd_offset(pf->mm, addr);
	unsigned long next;

	do {
		pgd_t pgd;

		next = pgd_addr_end(addr, end);
		if (shikumi_pt_p4d_folded()) {
			if (shikumi_pt_walk_p4d(pf, pgdp, addr, next))
				return true;
			continue;
		}
		if (shikumi_pt_must_stop(pf, addr))
			return true;
		pgd = READ_ONCE(*pgdp);
		pf->chain[SHIKUMI_PT_PGD].index = pgd_index(addr);
		pf->chain[SHIKUMI_PT_PGD].raw = pgd_val(pgd);
		if (pgd_none(pgd)) {
			shikumi_pt_empty(pf, SHIKUMI_PT_PGD, addr);
			continue;
		}
		if (pgd_bad(pgd))
			continue;
		shikumi_pt_table(pf, SHIKUMI_PT_PGD, addr, pgd_val(pgd));
		if (shikumi_pt_walk_p4d(pf, pgdp, addr, next))
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
static bool shikumi_pt_walk_vma(struct shikumi_pt_file *pf, struct vm_area_struct *vma,
				unsigned long start, unsigned long end)
{
	struct address_space *mapping = NULL;
	bool stop;

	if (is_vm_hugetlb_page(vma) && (vma->vm_flags & VM_MAYSHARE) &&
	    vma->vm_file)
		mapping = vma->vm_file->f_mapping;
	if (mapping)
		i_mmap_lock_read(mapping);
	stop = shikumi_pt_walk_pgd(pf, start, end);
	if (mapping)
		i_mmap_unlock_read(mapping);
	return stop;
}

/*
 * Walk the VMAs in [cursor, q.end) until done (false) or told to stop
 * (true).  The caller holds mmap_read_lock.
 */
static bool shikumi_pt_walk_vmas(struct shikumi_pt_file *pf)
{
	struct vm_area_struct *vma;
	unsigned long start, end;

	while (pf->cursor < pf->q.end) {
		vma = find_vma(pf->mm, pf->cursor);
		if (!vma || vma->vm_start >= pf->q.end)
			return false;
		if (vma->vm_start != pf->vma_start) {
			if (shikumi_pt_room(pf) < SHIKUMI_PT_VMA_ROOM)
				return true;
			pf->vma_start = vma->vm_start;
			shikumi_pt_vma(pf, vma);
		}
		start = max(pf->cursor, vma->vm_start);
		end = min(vma->vm_end, pf->q.end);
		pf->vma = vma;
		if (shikumi_pt_walk_vma(pf, vma, start, end))
			return true;
		pf->cursor = end;
	}
	return false;
}

static void shikumi_pt_header(struct shikumi_pt_file *pf)
{
	const struct shikumi_pt_query *q = &pf->q;
	u32 flags = 0;

	if (shikumi_pt_p4d_folded())
		flags |= SHIKUMI_PT_H_P4D_FOLDED;
	if (IS_ENABLED(CONFIG_MEM_SOFT_DIRTY))
		flags |= SHIKUMI_PT_H_SOFT_DIRTY;
	if (IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		flags |= SHIKUMI_PT_H_THP;
	if (shikumi_pt_pti())
		flags |= SHIKUMI_PT_H_PTI_USER;
	if (q->raw) {
		shikumi_pt_emit(pf, SHIKUMI_PT_REC_HEADER, SHIKUMI_PT_LEVELS,
				SHIKUMI_PT_VERSION, flags, q->start, q->pid, q->end);
		return;
	}
	shikumi_pt_printf(pf, "# shikumi_ptdump: pid %d (%s), ", q->pid, pf->comm);
	if (q->view == SHIKUMI_PT_VIEW_TRANSLATE)
		shikumi_pt_printf(pf, "translate 0x%lx\n", q->addr);
	else
		shikumi_pt_printf(pf, "0x%lx-0x%lx, %s\n", q->start, q->end,
				  shikumi_pt_view_names[q->view]);
	if (q->view == SHIKUMI_PT_VIEW_STATS)
		return;
	shikumi_pt_printf(pf, "# paging: %s\n", shikumi_pt_p4d_folded() ?
			  "4 levels, the p4d is folded into the pgd" : "5 levels");
	if (shikumi_pt_pti())
		shikumi_pt_printf(pf, "# pgd: the user copy (page-table isolation)\n");
	if (q->view == SHIKUMI_PT_VIEW_SUMMARY)
		shikumi_pt_printf(pf, "# runs: start-end count x size level flags\n");
	shikumi_pt_printf(pf, "# flags: P present (pn: PROT_NONE), RW/ro, USR user,\n");
	shikumi_pt_printf(pf, "#   A accessed, D dirty, NX/x, GLB global, PSE huge,\n");
	shikumi_pt_printf(pf, "#   SD soft-dirty, SPC special;\n");
	shikumi_pt_printf(pf, "#   page: anon/file/zero/pfn (no struct page)/kern, shared/excl;\n");
	shikumi_pt_printf(pf, "#   not present: swap type T offset O (slot O of swap area T),\n");
	shikumi_pt_printf(pf, "#   migration-{read,read-exclusive,write} pfn P (moving),\n");
	shikumi_pt_printf(pf, "#   device-private/device-exclusive/hwpoison pfn P, marker\n");
}

static void shikumi_pt_tail(struct shikumi_pt_file *pf)
{
	u64 pgtable_bytes;
	int l;

	pf->tables[SHIKUMI_PT_PGD] = 1;
	if (pf->q.view == SHIKUMI_PT_VIEW_SUMMARY)
		shikumi_pt_flush_run(pf);
	if (pf->q.raw) {
		if (pf->q.view == SHIKUMI_PT_VIEW_FULL || pf->q.view == SHIKUMI_PT_VIEW_STATS)
			for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
				shikumi_pt_emit(pf, SHIKUMI_PT_REC_STATS, l, 0,
						l == SHIKUMI_PT_PTE ? pf->deposited : 0,
						0, pf->leaves[l], pf->tables[l]);
		shikumi_pt_emit(pf, SHIKUMI_PT_REC_END, 0, 0,
				pf->exited ? SHIKUMI_PT_E_EXITED : 0, pf->cursor,
				pf->nonpresent, pf->records);
		return;
	}
	if (pf->q.view == SHIKUMI_PT_VIEW_TRANSLATE && !pf->vmas && !pf->exited)
		shikumi_pt_printf(pf, "0x%lx is in no VMA: nothing can be mapped there\n",
				  pf->q.addr);
	if (pf->q.view == SHIKUMI_PT_VIEW_STATS) {
		for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
			shikumi_pt_printf(pf, "tables_%s %llu\n", shikumi_pt_level_names[l],
					  pf->tables[l]);
		pgtable_bytes = (pf->tables[SHIKUMI_PT_PUD] +
				 pf->tables[SHIKUMI_PT_PMD] +
				 pf->tables[SHIKUMI_PT_PTE]) * PAGE_SIZE;
		shikumi_pt_printf(pf, "pgtable_bytes %llu\n", pgtable_bytes);
		shikumi_pt_printf(pf, "pte_tables_deposited %llu\n", pf->deposited);
		/* what /proc/PID/status calls VmPTE (the PGD and P4D aside) */
		shikumi_pt_printf(pf, "vmpte_bytes %llu\n",
				  pgtable_bytes + pf->deposited * PAGE_SIZE);
		shikumi_pt_printf(pf, "pages_4k %llu\npages_2m %llu\npages_1g %llu\n",
				  pf->leaves[SHIKUMI_PT_PTE],
				  pf->leaves[SHIKUMI_PT_PMD],
				  pf->leaves[SHIKUMI_PT_PUD]);
		shikumi_pt_printf(pf, "nonpresent %llu\nvmas %llu\n",
				  pf->nonpresent, pf->vmas);
		shikumi_pt_printf(pf, "p4d_folded %d\n", shikumi_pt_p4d_folded());
	}
	if (pf->exited)
		shikumi_pt_printf(pf, "# the process exited during the dump\n");
}

/* Fill the empty buffer with what comes next. */
int shikumi_pt_fill(struct shikumi_pt_file *pf)
{
	bool stop;

	pf->head = 0;
	pf->len = 0;
	switch (pf->stage) {
	case SHIKUMI_PT_STAGE_HEADER:
		shikumi_pt_header(pf);
		pf->stage = SHIKUMI_PT_STAGE_WALK;
		return 0;
	case SHIKUMI_PT_STAGE_WALK:
		if (!mmget_not_zero(pf->mm)) {
			pf->exited = true;
			pf->stage = SHIKUMI_PT_STAGE_TAIL;
			return 0;
		}
		if (mmap_read_lock_killable(pf->mm)) {
			mmput(pf->mm);
			return -EINTR;
		}
		pf->budget = SHIKUMI_PT_FILL_BUDGET;
		stop = shikumi_pt_walk_vmas(pf);
		mmap_read_unlock(pf->mm);
		mmput(pf->mm);
		if (!stop)
			pf->stage = SHIKUMI_PT_STAGE_TAIL;
		return 0;
	case SHIKUMI_PT_STAGE_TAIL:
		shikumi_pt_tail(pf);
		pf->stage = SHIKUMI_PT_STAGE_DONE;
		return 0;
	default:
		return 0;
	}
}
