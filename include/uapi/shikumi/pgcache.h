/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shikumi_pgcache: user API of the page-cache viewer.
 *
 * One file, /sys/kernel/debug/shikumi/pgcache/cache (root only; opening it
 * also needs CAP_SYS_ADMIN, as PFNs are as sensitive as pagemap's).  It
 * shows the pages of one file that are in the page cache, or of a block
 * device's own cache (the buffer cache), without touching them: nothing is
 * read in, and no page is marked accessed.
 *
 * Every open file has its own query.  The query names the file by a
 * descriptor that the writer has open on it, so that the kernel's own
 * permission checks decide who may look at which file:
 *
 *	exec 3<>/sys/kernel/debug/shikumi/pgcache/cache
 *	exec 4</mnt/data/file
 *	echo "fd=4 view=folios" >&3
 *	cat <&3
 *
 * A query is a line of space-separated key=value words:
 *
 *	fd=N		a descriptor of the writing process, open on a regular
 *			file or a block device (required)
 *	range=A-B	byte offsets [A, B) of the file, decimal or 0x-hex;
 *			rounded out to pages; default: the whole file
 *	view=folios	a line per folio in the cache: its first page's index,
 *			its size in pages, its PFN, how many page-table
 *			entries map it and its flags, then the totals (the
 *			default)
 *	view=summary	the totals alone, as "key value" lines:
 *			file_pages (the file's size in pages), cached_pages,
 *			folios, large_folios, and the pages that are dirty,
 *			writeback, mapped, uptodate, referenced, active, lru,
 *			unevictable, private (buffer heads or similar)
 *	format=text	lines for people (the default)
 *	format=raw	struct shikumi_pgc_rec records, for tools, with
 *			view=folios
 *
 * A write sets the query and restarts the listing; the write fails, and
 * the old query stays, on a bad one:
 *	EINVAL	unknown key or value, A >= B, format=raw with view=summary
 *	EBADF	fd= is not an open descriptor of the writer
 *	EISDIR	fd= is a directory
 *	ENOTBLK	fd= is neither a regular file nor a block device
 *	EOPNOTSUPP fd= is a file of hugetlbfs
 *	EPERM	the writer lacks CAP_SYS_ADMIN
 * A read before any query fails with EINVAL.
 *
 * The file is a stream: reads continue where the last one stopped, and
 * return 0 at the end.  The file may be written, truncated or evicted
 * meanwhile; each read() sees the cache as it is at that moment, and a
 * folio truncated away while being looked at is left out.  The queried
 * file stays open (its descriptor's file is held) until the next query or
 * the close, as if the viewer had opened it too.
 *
 * Flags use the bit numbers of /proc/kpageflags (<linux/kernel-page-flags.h>),
 * with the same meaning, read from the folio: KPF_LOCKED, KPF_REFERENCED,
 * KPF_UPTODATE, KPF_DIRTY, KPF_LRU, KPF_ACTIVE, KPF_WRITEBACK, KPF_RECLAIM,
 * KPF_MMAP, KPF_SWAPBACKED, KPF_UNEVICTABLE, KPF_COMPOUND_HEAD (a large
 * folio) and the kernel-internal bit 35, KPF_PRIVATE.
 */
#ifndef _UAPI_SHIKUMI_PGCACHE_H
#define _UAPI_SHIKUMI_PGCACHE_H

#include <linux/types.h>

/* one folio in the page cache, format=raw */
struct shikumi_pgc_rec {
	__u64 index;		/* its first page's index in the file */
	__u64 pfn;		/* its first page's frame number */
	__u64 flags;		/* 1 << KPF_* */
	__u32 nr_pages;		/* its size in pages */
	__s32 mapcount;		/* page-table entries that map it */
};

/* KPF_PRIVATE, which <linux/kernel-page-flags.h> keeps to the kernel */
#define SHIKUMI_PGC_KPF_PRIVATE	35

#endif /* _UAPI_SHIKUMI_PGCACHE_H */
