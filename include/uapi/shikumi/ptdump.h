/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shikumi_ptdump: user API of the page-table dumper.
 *
 * One file, /sys/kernel/debug/shikumi/ptdump/dump (root only; opening it
 * also needs CAP_SYS_ADMIN, as PFNs are as sensitive as pagemap's, and a
 * query for another process needs CAP_SYS_PTRACE too, standing in for
 * pagemap's ptrace access check: EPERM without).
 *
 * Every open file has its own query, so two users dumping different
 * processes at once never disturb each other.  A new open file dumps the
 * process that opened it, as a summary of its whole address space:
 *
 *	cat /sys/kernel/debug/shikumi/ptdump/dump	(cat's own tables)
 *
 * To dump another process, write a query to the file, then read the same
 * open file:
 *
 *	exec 3<>/sys/kernel/debug/shikumi/ptdump/dump
 *	echo "pid=1234 view=full range=0x400000-0x500000" >&3
 *	cat <&3
 *
 * A query is a line of space-separated key=value words, all optional:
 *
 *	pid=N		the process (its thread group's address space);
 *			default: the process that opened the file
 *	range=A-B	virtual addresses [A, B), decimal or 0x-prefixed hex;
 *			rounded out to pages; default: all of user space
 *	addr=A		for view=translate: the address to translate
 *	view=summary	VMAs, and runs of consecutive entries with the same
 *			level and flags merged into one line (the default)
 *	view=full	one line per entry: every present translation with
 *			each level's index and raw value, and every
 *			non-present entry with its raw value and what it
 *			holds: "swap type 0 offset 1234" (the slot in the
 *			swap area), "migration-write pfn 0x...", ...
 *	view=translate	every level's entry for addr, down to the leaf or to
 *			the first empty entry
 *	view=stats	page-table pages per level and mapped pages per size,
 *			for the VMAs in the range, as "key value" lines:
 *			tables_{pgd,p4d,pud,pmd,pte}, pgtable_bytes (PUD, PMD
 *			and PTE tables), pte_tables_deposited, vmpte_bytes
 *			(the two, as VmPTE counts them), pages_{4k,2m,1g},
 *			nonpresent, vmas, p4d_folded
 *	format=text	lines for people (the default)
 *	format=raw	struct shikumi_pt_rec records, for tools; with view=
 *			full, translate or stats
 *
 * A write sets the query and restarts the dump; the write fails, and the
 * old query stays, on a bad query:
 *	EINVAL	unknown key or value, A >= B, an address outside user space,
 *		format=raw with view=summary
 *	ESRCH	no such pid
 *	ENXIO	the pid is a kernel thread: it has no user address space
 *
 * The file is a stream: reads continue where the last one stopped, and
 * return 0 at the end.  The target may run, fault, fork, munmap or exit
 * meanwhile; each read() sees the tables as they are at that moment.  If
 * the process exits, the dump ends early (the END record says so).
 * Raw reads return whole records only, so their size must be at least
 * sizeof(struct shikumi_pt_rec).
 *
 * The address space is held (like /proc/PID/pagemap holds it) from the
 * query until the file is closed or queried again: a process that execs
 * after the query keeps being dumped from its old address space, which
 * then reads as exited.
 */
#ifndef _UAPI_SHIKUMI_PTDUMP_H
#define _UAPI_SHIKUMI_PTDUMP_H

#include <linux/types.h>

/*
 * The version is in the HEADER record.  The kernel's stream carries no
 * magic; files that save a stream (shikumi pt snapshot) begin with this.
 */
#define SHIKUMI_PT_MAGIC	0x74705453	/* "STpt" */
#define SHIKUMI_PT_VERSION	1

/* page-table levels, from the root */
#define SHIKUMI_PT_PGD		0
#define SHIKUMI_PT_P4D		1
#define SHIKUMI_PT_PUD		2
#define SHIKUMI_PT_PMD		3
#define SHIKUMI_PT_PTE		4
#define SHIKUMI_PT_LEVELS	5

/* record types */
#define SHIKUMI_PT_REC_HEADER	1	/* first record of every raw dump */
#define SHIKUMI_PT_REC_VMA	2	/* a VMA, before its entries */
#define SHIKUMI_PT_REC_TABLE	3	/* an entry that points to a table */
#define SHIKUMI_PT_REC_LEAF	4	/* a present translation */
#define SHIKUMI_PT_REC_NONPRESENT 5	/* not present, not empty: swap... */
#define SHIKUMI_PT_REC_EMPTY	6	/* an empty entry (translate only) */
#define SHIKUMI_PT_REC_STATS	7	/* one per level, after the walk */
#define SHIKUMI_PT_REC_END	8	/* last record of every raw dump */

/*
 * Flags of TABLE, LEAF and NONPRESENT records.  The first eleven are the
 * entry's own bits (x86-64; of a NONPRESENT entry, only SOFT_DIRTY); in
 * LEAF records, bits 16 and up say what the kernel knows of the page it
 * maps.  NONPRESENT records use bits 11 to 23 instead, below.
 */
#define SHIKUMI_PT_F_PRESENT	(1U << 0)	/* hardware present bit */
#define SHIKUMI_PT_F_WRITE	(1U << 1)
#define SHIKUMI_PT_F_USER	(1U << 2)
#define SHIKUMI_PT_F_ACCESSED	(1U << 3)
#define SHIKUMI_PT_F_DIRTY	(1U << 4)
#define SHIKUMI_PT_F_NX		(1U << 5)
#define SHIKUMI_PT_F_GLOBAL	(1U << 6)
#define SHIKUMI_PT_F_HUGE	(1U << 7)	/* PSE: a leaf above PTE */
#define SHIKUMI_PT_F_SOFT_DIRTY	(1U << 8)	/* if the kernel has it */
#define SHIKUMI_PT_F_SPECIAL	(1U << 9)	/* no struct page behind it */
#define SHIKUMI_PT_F_PROTNONE	(1U << 10)	/* PROT_NONE or NUMA hinting */
#define SHIKUMI_PT_F_ANON	(1U << 16)	/* anonymous page */
#define SHIKUMI_PT_F_FILE	(1U << 17)	/* page-cache page */
#define SHIKUMI_PT_F_SHARED	(1U << 18)	/* mapped more than once */
#define SHIKUMI_PT_F_ZERO	(1U << 19)	/* the shared zero page */
#define SHIKUMI_PT_F_NOPAGE	(1U << 20)	/* PFN without a struct page */

/*
 * A NONPRESENT record: the kernel's own entry in the hardware's place.
 * What kind it is, in flags bits 11-15 (SHIKUMI_PT_NP_KIND(flags)); of a
 * swap entry, the swap area in bits 16-23 (SHIKUMI_PT_NP_SWAP_TYPE(flags):
 * the "type", 0 for the first area swapon'd); and in the record's pfn:
 *	SWAP		the offset: the slot of the page in its swap area
 *	MIGRATION_*	the PFN of the page being migrated (the old page)
 *	DEVICE_*	the PFN of the device's (or the CPU's) page
 *	HWPOISON	the PFN of the page that had a memory error
 *	MARKER		SHIKUMI_PT_MARK_* bits: no page at all
 *	UNKNOWN		0
 * Like /proc/PID/pagemap, which shows a swap entry's type and offset only
 * to the readers it shows PFNs to (CAP_SYS_ADMIN at open): this file
 * cannot be opened without it.
 */
#define SHIKUMI_PT_F_NP_KIND_SHIFT	11
#define SHIKUMI_PT_F_NP_KIND		(0x1fU << SHIKUMI_PT_F_NP_KIND_SHIFT)
#define SHIKUMI_PT_F_NP_SWAP_TYPE_SHIFT	16
#define SHIKUMI_PT_F_NP_SWAP_TYPE	(0xffU << SHIKUMI_PT_F_NP_SWAP_TYPE_SHIFT)
#define SHIKUMI_PT_NP_KIND(flags) \
	(((flags) & SHIKUMI_PT_F_NP_KIND) >> SHIKUMI_PT_F_NP_KIND_SHIFT)
#define SHIKUMI_PT_NP_SWAP_TYPE(flags) \
	(((flags) & SHIKUMI_PT_F_NP_SWAP_TYPE) >> SHIKUMI_PT_F_NP_SWAP_TYPE_SHIFT)

#define SHIKUMI_PT_NP_UNKNOWN		0	/* a kind the module does not know */
#define SHIKUMI_PT_NP_SWAP		1	/* swapped out: a fault reads it in */
#define SHIKUMI_PT_NP_MIGRATION_READ	2	/* moving; was mapped read-only */
#define SHIKUMI_PT_NP_MIGRATION_READ_EXCL 3	/* ... read-only, anon exclusive */
#define SHIKUMI_PT_NP_MIGRATION_WRITE	4	/* ... was mapped writable */
#define SHIKUMI_PT_NP_DEVICE_PRIVATE_READ 5	/* in device memory (HMM), read */
#define SHIKUMI_PT_NP_DEVICE_PRIVATE_WRITE 6	/* ... writable */
#define SHIKUMI_PT_NP_DEVICE_EXCLUSIVE	7	/* a device holds it for atomics */
#define SHIKUMI_PT_NP_HWPOISON		8	/* the page had a memory error */
#define SHIKUMI_PT_NP_MARKER		9	/* a PTE marker, below */

/*
 * The kinds' names, as the module's text views and the CLI spell them: an
 * initializer for a const char *const array indexed by the kinds above,
 * shared so that the two cannot disagree.  SHIKUMI_PT_NP_UNKNOWN has no
 * name here: each reader says it its own way.
 */
#define SHIKUMI_PT_NP_NAMES {						\
	[SHIKUMI_PT_NP_SWAP]			= "swap",		\
	[SHIKUMI_PT_NP_MIGRATION_READ]		= "migration-read",	\
	[SHIKUMI_PT_NP_MIGRATION_READ_EXCL]	= "migration-read-exclusive", \
	[SHIKUMI_PT_NP_MIGRATION_WRITE]		= "migration-write",	\
	[SHIKUMI_PT_NP_DEVICE_PRIVATE_READ]	= "device-private-read", \
	[SHIKUMI_PT_NP_DEVICE_PRIVATE_WRITE]	= "device-private-write", \
	[SHIKUMI_PT_NP_DEVICE_EXCLUSIVE]	= "device-exclusive",	\
	[SHIKUMI_PT_NP_HWPOISON]		= "hwpoison",		\
	[SHIKUMI_PT_NP_MARKER]			= "marker",		\
}

/* the pfn of a MARKER record */
#define SHIKUMI_PT_MARK_UFFD_WP		(1U << 0) /* userfaultfd write-protect */
#define SHIKUMI_PT_MARK_POISONED	(1U << 1) /* the page was lost: SIGBUS */
#define SHIKUMI_PT_MARK_GUARD		(1U << 2) /* MADV_GUARD_INSTALL */

/* flags of the HEADER record */
#define SHIKUMI_PT_H_P4D_FOLDED	(1U << 0)	/* 4-level paging: P4D = PGD */
#define SHIKUMI_PT_H_SOFT_DIRTY	(1U << 1)	/* the kernel has soft-dirty */
#define SHIKUMI_PT_H_THP	(1U << 2)	/* the kernel has THP */
/* page-table isolation: the PGD entries are the user copy's */
#define SHIKUMI_PT_H_PTI_USER	(1U << 3)

/* flags of the END record */
#define SHIKUMI_PT_E_EXITED	(1U << 0)	/* the address space went away */

/* the backing of a VMA record, in flags */
#define SHIKUMI_PT_VMA_ANON	0
#define SHIKUMI_PT_VMA_FILE	1
#define SHIKUMI_PT_VMA_HEAP	2
#define SHIKUMI_PT_VMA_STACK	3
#define SHIKUMI_PT_VMA_SPECIAL	4	/* vdso, vvar, ... */
#define SHIKUMI_PT_VMA_KIND	0xffU	/* mask of the above */
#define SHIKUMI_PT_VMA_READ	(1U << 8)
#define SHIKUMI_PT_VMA_WRITE	(1U << 9)
#define SHIKUMI_PT_VMA_EXEC	(1U << 10)
#define SHIKUMI_PT_VMA_SHARED	(1U << 11)	/* MAP_SHARED */
#define SHIKUMI_PT_VMA_HUGEPAGE	(1U << 12)	/* MADV_HUGEPAGE */
#define SHIKUMI_PT_VMA_NOHUGEPAGE (1U << 13)	/* MADV_NOHUGEPAGE */
#define SHIKUMI_PT_VMA_HUGETLB	(1U << 14)

/*
 * One record, 32 bytes.  What the fields mean depends on the type:
 *
 *	type		level	index	flags	va	raw	  pfn/end/count
 *	HEADER		levels	version	H_*	start	pid	  end
 *	VMA		-	-	VMA_*	start	vm_flags  end
 *	TABLE		level	index	F_*	va	raw	  pfn of the table
 *	LEAF		level	index	F_*	va	raw	  pfn
 *	NONPRESENT	level	index	F_*,NP	va	raw	  offset/pfn/marks
 *	EMPTY		level	index	0	va	0	  0
 *	STATS		level	-	kept	-	leaves	  table pages
 *	END		-	-	E_*	next	entries   records before
 *
 * HEADER's level is always SHIKUMI_PT_LEVELS, the levels records name; the
 * machine walks 4 of them when flags has SHIKUMI_PT_H_P4D_FOLDED, else 5.
 * va is the first address the entry maps (for TABLE and LEAF records, the
 * address aligned down to the entry's size).  A LEAF's page size follows
 * from its level: 4 KiB for PTE, 2 MiB for PMD, 1 GiB for PUD.  A TABLE
 * record comes once per table entry the walk goes through, before the
 * records under it.  In STATS, "leaves" counts present translations at
 * that level and "table pages" the page-table pages of that level (the
 * PGD is counted as 1).  In the PTE level's STATS, "kept" (in flags) counts
 * the PTE tables the kernel keeps deposited for anonymous huge PMDs, ready
 * for a split: nothing points at them, but VmPTE in /proc/PID/status
 * counts them, with the PUD, PMD and PTE tables.  END's "entries" counts
 * the NONPRESENT records.
 */
struct shikumi_pt_rec {
	__u8	type;
	__u8	level;
	__u16	index;
	__u32	flags;
	__u64	va;
	union {
		__u64	raw;
		__u64	pid;
		__u64	vm_flags;
		__u64	leaves;
		__u64	entries;
	};
	union {
		__u64	pfn;
		__u64	end;
		__u64	count;
	};
};

#endif /* _UAPI_SHIKUMI_PTDUMP_H */
