/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences in memory management: page-table isolation,
 * VMA flags, the mapcount, the folio batch.
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

#endif /* _SHIKUMI_COMPAT_MM_H */
