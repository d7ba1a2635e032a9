/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi cache: the family's private header.  What the cache files share:
 * the module's paths, the view of one file, and the prototypes of the
 * functions one cache file calls in another.
 */
#ifndef SHIKUMI_CACHE_H
#define SHIKUMI_CACHE_H

#include <linux/kernel-page-flags.h>
#include <stdint.h>

#include <shikumi/pgcache.h>

#include "shikumi.h"

#define PGC_MODULE	"shikumi_pgcache"
#define PGC_CACHE	SHIKUMI_DEBUGFS "/pgcache/cache"
#define PGC_PAGE	4096ULL		/* the unit of the view's indexes */

/* the flags of a folio, as the module reports them: 1 << KPF_* */
#define PGC_F(kpf)	(1ULL << (kpf))
#define PGC_LOCKED	PGC_F(KPF_LOCKED)
#define PGC_REFERENCED	PGC_F(KPF_REFERENCED)
#define PGC_UPTODATE	PGC_F(KPF_UPTODATE)
#define PGC_DIRTY	PGC_F(KPF_DIRTY)
#define PGC_LRU		PGC_F(KPF_LRU)
#define PGC_ACTIVE	PGC_F(KPF_ACTIVE)
#define PGC_WRITEBACK	PGC_F(KPF_WRITEBACK)
#define PGC_RECLAIM	PGC_F(KPF_RECLAIM)
#define PGC_MMAP	PGC_F(KPF_MMAP)
#define PGC_SWAPBACKED	PGC_F(KPF_SWAPBACKED)
#define PGC_LARGE	PGC_F(KPF_COMPOUND_HEAD)
#define PGC_UNEVICTABLE	PGC_F(KPF_UNEVICTABLE)
#define PGC_PRIVATE	PGC_F(SHIKUMI_PGC_KPF_PRIVATE)

/* cache.c: the module's view of one file */
struct pgc_view {
	const char *path;
	uint64_t size;			/* bytes */
	uint64_t pages;			/* the file's size in pages */
	bool blockdev;
	struct shikumi_pgc_rec *r;	/* the cached folios, by index */
	size_t n, cap;
	/* the totals, in pages */
	uint64_t cached, folios, large, dirty, writeback, mapped, active;
	uint64_t referenced, unevictable;
};

int pgc_view_read(const char *path, const char *range, struct pgc_view *v);
void pgc_view_free(struct pgc_view *v);
const char *pgc_flags_str(uint64_t f, char *buf, size_t size);
void pgc_json_flags(struct json *j, const char *key, uint64_t f);

/* the verbs */
int cache_show_cmd(int argc, char **argv);
int cache_demo_cmd(int argc, char **argv);
int cache_bench_cmd(int argc, char **argv);

#endif
