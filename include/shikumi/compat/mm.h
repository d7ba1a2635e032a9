/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences in memory management: page-table isolation,
 * VMA flags, the mapcount, the folio batch, the entries that are not
 * present (swap, migration...).
 * See <shikumi/compat.h> for how the feature tests work.
 */
#ifndef _SHIKUMI_COMPAT_MM_H
#define _SHIKUMI_COMPAT_MM_H

#include <linux/mm.h>
#ifdef SHIKUMI_HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
#endif
#include <linux/swap.h>		/* swapops.h needs MAX_SWAPFILES */
#ifdef SHIKUMI_HAVE_SOFTLEAF
#include <linux/leafops.h>
#else
#include <linux/swapops.h>
#endif

/*
 * v6.9: CONFIG_PAGE_TABLE_ISOLATION became
 * CONFIG_MITIGATION_PAGE_TABLE_ISOLATION.  SHIKUMI_PTI: the kernel can
 * run user space on a PGD of its own (kernel_to_user_pgdp()).
 */
#if defined(CONFIG_PAGE_TABLE_ISOLATION) || \
	defined(CONFIG_MITIGATION_PAGE_TABLE_ISOLATION)
#define SHIKUMI_PTI 1
#endif

/* v6.3: vma->vm_flags is read-only; vm_flags_mod() and friends write it. */
static inline void shikumi_vm_flags_mod(struct vm_area_struct *vma,
					vm_flags_t set, vm_flags_t clear)
{
#ifdef SHIKUMI_HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * Is this mapped page mapped more than once (by another process, or twice
 * in one)?  /proc/PID/pagemap's PM_MMAP_EXCLUSIVE is the opposite.  Until
 * v6.12 every page has a mapcount.  From v6.12 a small folio's mapcount is
 * the page's; a large folio says only whether it is (likely) shared.
 * The caller holds the page table lock that maps the page.
 */
static inline bool shikumi_page_mapped_shared(struct page *page)
{
#if defined(SHIKUMI_HAVE_FOLIO_MAYBE_MAPPED_SHARED) || \
	defined(SHIKUMI_HAVE_FOLIO_LIKELY_MAPPED_SHARED)
	struct folio *folio = page_folio(page);

	if (!folio_test_large(folio))
		return folio_mapcount(folio) > 1;
#ifdef SHIKUMI_HAVE_FOLIO_MAYBE_MAPPED_SHARED
	return folio_maybe_mapped_shared(folio);
#else
	return folio_likely_mapped_shared(folio);
#endif
#else
	return page_mapcount(page) > 1;
#endif
}

/*
 * How many page-table entries map @folio, a page-cache folio (not
 * hugetlbfs).  v6.1's folio_mapcount() is not exported: this is what it
 * counts, for a folio that is not anonymous.  Later kernels keep the
 * count in the folio, and their folio_mapcount() is inline.
 */
static inline int shikumi_folio_mapcount(struct folio *folio)
{
#ifdef SHIKUMI_HAVE_FOLIO_MAPCOUNT_INLINE
	return folio_mapcount(folio);
#else
	long i, nr = folio_nr_pages(folio);
	int entire, n = 0;

	if (!folio_test_large(folio))
		return atomic_read(&folio->_mapcount) + 1;
	/* a file THP's PMD mappings are in each page's count too */
	entire = folio_entire_mapcount(folio);
	for (i = 0; i < nr; i++)
		n += atomic_read(&folio_page(folio, i)->_mapcount) + 1;
	return n - entire * (nr - 1);
#endif
}

/*
 * A page-table entry that is not present and not empty holds what the
 * kernel put there in the hardware's place ("swap entries", whatever they
 * stand for): a type and an offset.  struct shikumi_leaf says which kind,
 * and decodes the rest.
 */
enum shikumi_leaf_kind {
	SHIKUMI_LEAF_UNKNOWN,		/* a type this code does not know */
	SHIKUMI_LEAF_SWAP,		/* the page is in slot @val of swap area @type */
	SHIKUMI_LEAF_MIGRATION_READ,	/* page @val migrates; mapped read-only */
	SHIKUMI_LEAF_MIGRATION_READ_EXCLUSIVE, /* ... read-only, anon exclusive */
	SHIKUMI_LEAF_MIGRATION_WRITE,	/* ... mapped writable */
	SHIKUMI_LEAF_DEVICE_PRIVATE_READ, /* device memory the CPU cannot reach */
	SHIKUMI_LEAF_DEVICE_PRIVATE_WRITE,
	SHIKUMI_LEAF_DEVICE_EXCLUSIVE,	/* a device holds page @val for atomics */
	SHIKUMI_LEAF_HWPOISON,		/* page @val had a memory error */
	SHIKUMI_LEAF_MARKER,		/* no page: @val is SHIKUMI_LEAF_MARK_* */
};

#define SHIKUMI_LEAF_MARK_UFFD_WP	BIT(0)	/* userfaultfd write-protected */
#define SHIKUMI_LEAF_MARK_POISONED	BIT(1)	/* the page was lost: SIGBUS */
#define SHIKUMI_LEAF_MARK_GUARD		BIT(2)	/* MADV_GUARD_INSTALL */

struct shikumi_leaf {
	enum shikumi_leaf_kind kind;
	unsigned int type;		/* SWAP: the swap area (swp_type()) */
	unsigned long val;		/* the offset, the PFN or the marker bits */
};

#ifdef SHIKUMI_HAVE_SOFTLEAF
/*
 * v6.19 (about): softleaf_t and <linux/leafops.h> say what an entry is;
 * pte_to_swp_entry(), non_swap_entry() and is_migration_entry() are gone.
 */
static inline struct shikumi_leaf shikumi_leaf_decode(softleaf_t e)
{
	struct shikumi_leaf l = { .kind = SHIKUMI_LEAF_UNKNOWN };
	pte_marker m;

	switch (softleaf_type(e)) {
	case SOFTLEAF_SWAP:
		l.kind = SHIKUMI_LEAF_SWAP;
		l.type = swp_type(e);
		l.val = swp_offset(e);
		return l;
	case SOFTLEAF_MIGRATION_READ:
		l.kind = SHIKUMI_LEAF_MIGRATION_READ;
		break;
	case SOFTLEAF_MIGRATION_READ_EXCLUSIVE:
		l.kind = SHIKUMI_LEAF_MIGRATION_READ_EXCLUSIVE;
		break;
	case SOFTLEAF_MIGRATION_WRITE:
		l.kind = SHIKUMI_LEAF_MIGRATION_WRITE;
		break;
	case SOFTLEAF_DEVICE_PRIVATE_READ:
		l.kind = SHIKUMI_LEAF_DEVICE_PRIVATE_READ;
		break;
	case SOFTLEAF_DEVICE_PRIVATE_WRITE:
		l.kind = SHIKUMI_LEAF_DEVICE_PRIVATE_WRITE;
		break;
	case SOFTLEAF_DEVICE_EXCLUSIVE:
		l.kind = SHIKUMI_LEAF_DEVICE_EXCLUSIVE;
		break;
	case SOFTLEAF_HWPOISON:
		l.kind = SHIKUMI_LEAF_HWPOISON;
		break;
	case SOFTLEAF_MARKER:
		l.kind = SHIKUMI_LEAF_MARKER;
		m = softleaf_to_marker(e);
		l.val = (m & PTE_MARKER_UFFD_WP ? SHIKUMI_LEAF_MARK_UFFD_WP : 0) |
			(m & PTE_MARKER_POISONED ? SHIKUMI_LEAF_MARK_POISONED : 0) |
			(m & PTE_MARKER_GUARD ? SHIKUMI_LEAF_MARK_GUARD : 0);
		return l;
	default:
		return l;
	}
	l.val = softleaf_to_pfn(e);
	return l;
}

/*
 * What a non-present, non-none PTE holds.  Hugetlb keeps its PMD and PUD
 * entries in the PTE's format too (huge_ptep_get() returns a pte_t):
 * decode those with __pte(pmd_val(pmd)).
 */
static inline struct shikumi_leaf shikumi_leaf_from_pte(pte_t pte)
{
	return shikumi_leaf_decode(softleaf_from_pte(pte));
}

/* What a non-present, non-none PMD holds, outside hugetlb. */
static inline struct shikumi_leaf shikumi_leaf_from_pmd(pmd_t pmd)
{
	/* none, so SHIKUMI_LEAF_UNKNOWN, without THP migration */
	return shikumi_leaf_decode(softleaf_from_pmd(pmd));
}
#else
/* the marker bits, some of which a kernel may not have */
static inline unsigned long shikumi_leaf_marks(pte_marker m)
{
	unsigned long marks = 0;

	if (m & PTE_MARKER_UFFD_WP)
		marks |= SHIKUMI_LEAF_MARK_UFFD_WP;
#ifdef PTE_MARKER_POISONED	/* v6.5 */
	if (m & PTE_MARKER_POISONED)
		marks |= SHIKUMI_LEAF_MARK_POISONED;
#endif
#ifdef PTE_MARKER_GUARD		/* v6.13 */
	if (m & PTE_MARKER_GUARD)
		marks |= SHIKUMI_LEAF_MARK_GUARD;
#endif
	return marks;
}

/* until v6.19 (about): swp_entry_t, and the is_*_entry() tests */
static inline struct shikumi_leaf shikumi_leaf_decode(swp_entry_t e)
{
	struct shikumi_leaf l = { .kind = SHIKUMI_LEAF_UNKNOWN };

	if (!non_swap_entry(e)) {
		l.kind = SHIKUMI_LEAF_SWAP;
		l.type = swp_type(e);
		l.val = swp_offset(e);
		return l;
	}
	if (is_pte_marker_entry(e)) {
		l.kind = SHIKUMI_LEAF_MARKER;
		l.val = shikumi_leaf_marks(pte_marker_get(e));
		return l;
	}
#ifdef SHIKUMI_HAVE_SWAPIN_ERROR_ENTRY
	/* until v6.4 a swap-in error had a type of its own, later a marker */
	if (is_swapin_error_entry(e)) {
		l.kind = SHIKUMI_LEAF_MARKER;
		l.val = SHIKUMI_LEAF_MARK_POISONED;
		return l;
	}
#endif
	if (!is_pfn_swap_entry(e))
		return l;
	if (is_writable_migration_entry(e))
		l.kind = SHIKUMI_LEAF_MIGRATION_WRITE;
	else if (is_readable_exclusive_migration_entry(e))
		l.kind = SHIKUMI_LEAF_MIGRATION_READ_EXCLUSIVE;
	else if (is_migration_entry(e))
		l.kind = SHIKUMI_LEAF_MIGRATION_READ;
	else if (is_writable_device_private_entry(e))
		l.kind = SHIKUMI_LEAF_DEVICE_PRIVATE_WRITE;
	else if (is_device_private_entry(e))
		l.kind = SHIKUMI_LEAF_DEVICE_PRIVATE_READ;
	else if (is_device_exclusive_entry(e))
		l.kind = SHIKUMI_LEAF_DEVICE_EXCLUSIVE;
	else if (is_hwpoison_entry(e))
		l.kind = SHIKUMI_LEAF_HWPOISON;
	l.val = swp_offset_pfn(e);
	return l;
}

static inline struct shikumi_leaf shikumi_leaf_from_pte(pte_t pte)
{
	return shikumi_leaf_decode(pte_to_swp_entry(pte));
}

/* a PMD outside hugetlb: only a THP's migration entry */
static inline struct shikumi_leaf shikumi_leaf_from_pmd(pmd_t pmd)
{
	if (!is_pmd_migration_entry(pmd))
		return (struct shikumi_leaf){ .kind = SHIKUMI_LEAF_UNKNOWN };
	return shikumi_leaf_decode(pmd_to_swp_entry(pmd));
}
#endif

#endif /* _SHIKUMI_COMPAT_MM_H */
