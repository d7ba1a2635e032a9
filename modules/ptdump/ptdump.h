/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi_ptdump's private header: the limits, the query, the state of
 * an open dump, and the small helpers that every file uses.
 */
#ifndef _SHIKUMI_PTDUMP_H
#define _SHIKUMI_PTDUMP_H

#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/types.h>

#include <uapi/shikumi/ptdump.h>

static_assert(sizeof(struct shikumi_pt_rec) == 32);

/* the output buffer of one open file */
#define SHIKUMI_PT_BUF_SIZE		(64 * 1024)
/* room one entry's output may need: a flushed run plus a full line */
#define SHIKUMI_PT_ENTRY_ROOM		512
/* room a VMA line may need, with its path */
#define SHIKUMI_PT_VMA_ROOM		(SHIKUMI_PT_ENTRY_ROOM + PATH_MAX + 128)
/* entries one fill may walk before it drops the locks */
#define SHIKUMI_PT_FILL_BUDGET		(64 * PTRS_PER_PTE)
/* the longest query */
#define SHIKUMI_PT_QUERY_MAX		256

enum shikumi_pt_view {
	SHIKUMI_PT_VIEW_SUMMARY,
	SHIKUMI_PT_VIEW_FULL,
	SHIKUMI_PT_VIEW_TRANSLATE,
	SHIKUMI_PT_VIEW_STATS,
};

enum shikumi_pt_stage {
	SHIKUMI_PT_STAGE_HEADER,
	SHIKUMI_PT_STAGE_WALK,
	SHIKUMI_PT_STAGE_TAIL,
	SHIKUMI_PT_STAGE_DONE,
};

struct shikumi_pt_query {
	pid_t pid;
	unsigned long start, end;	/* [start, end), page aligned */
	unsigned long addr;		/* view=translate */
	enum shikumi_pt_view view;
	bool raw;
};

/* view=summary: consecutive entries with the same attributes */
struct shikumi_pt_run {
	bool valid;
	u8 type;			/* LEAF or NONPRESENT */
	u8 level;
	u32 flags;
	unsigned long start, end;
	unsigned long count;
};

/* the entries above the one being visited, for view=full lines */
struct shikumi_pt_chain {
	u16 index;
	u64 raw;
};

struct shikumi_pt_file {
	struct mutex lock;		/* the rest, against concurrent reads */
	struct shikumi_pt_query q;
	struct mm_struct *mm;		/* mmgrab()ed */
	char comm[TASK_COMM_LEN];

	/* the walk */
	enum shikumi_pt_stage stage;
	unsigned long cursor;		/* next address to visit */
	unsigned long vma_start;	/* the VMA last reported, or -1 */
	unsigned long entry_va[SHIKUMI_PT_LEVELS]; /* last entry gone through */
	struct shikumi_pt_chain chain[SHIKUMI_PT_LEVELS];
	long budget;
	bool exited;
	struct vm_area_struct *vma;	/* being walked, under mmap_lock */
	struct shikumi_pt_run run;

	/* what the walk counted */
	u64 tables[SHIKUMI_PT_LEVELS];
	u64 leaves[SHIKUMI_PT_LEVELS];
	u64 nonpresent;
	u64 deposited;			/* PTE tables kept for huge PMDs */
	u64 vmas;
	u64 records;

	/* output: [head, len) of buf is still to be read */
	char *buf;
	size_t head, len;
	char *path;			/* PATH_MAX, for text views */
};

/* formatting an entry (output.c) */
extern const char * const shikumi_pt_level_names[SHIKUMI_PT_LEVELS];
__printf(2, 3) void shikumi_pt_printf(struct shikumi_pt_file *pf, const char *fmt, ...);
unsigned long shikumi_pt_level_size(int level);
void shikumi_pt_flush_run(struct shikumi_pt_file *pf);
void shikumi_pt_entry(struct shikumi_pt_file *pf, u8 type, int level,
		      unsigned long va, u64 raw, unsigned long pfn, u32 flags);
void shikumi_pt_table(struct shikumi_pt_file *pf, int level, unsigned long va, u64 raw);
void shikumi_pt_vma(struct shikumi_pt_file *pf, struct vm_area_struct *vma);

/* the walk (walk.c) */
bool shikumi_pt_pti(void);
u32 shikumi_pt_entry_flags(u64 raw, int level);
int shikumi_pt_fill(struct shikumi_pt_file *pf);

/* the query (main.c) */
extern const char * const shikumi_pt_view_names[];

static inline bool shikumi_pt_p4d_folded(void)
{
	return PTRS_PER_P4D == 1;
}

static inline size_t shikumi_pt_room(const struct shikumi_pt_file *pf)
{
	return SHIKUMI_PT_BUF_SIZE - pf->len;
}

static inline void shikumi_pt_emit(struct shikumi_pt_file *pf, u8 type, u8 level, u16 index,
				   u32 flags, u64 va, u64 raw, u64 pfn)
{
	struct shikumi_pt_rec *rec;

	if (WARN_ON_ONCE(shikumi_pt_room(pf) < sizeof(*rec)))
		return;
	rec = (struct shikumi_pt_rec *)(pf->buf + pf->len);
	/* every field: struct shikumi_pt_rec has no padding */
	rec->type = type;
	rec->level = level;
	rec->index = index;
	rec->flags = flags;
	rec->va = va;
	rec->raw = raw;
	rec->pfn = pfn;
	pf->len += sizeof(*rec);
	pf->records++;
}

#endif /* _SHIKUMI_PTDUMP_H */
