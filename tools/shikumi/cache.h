/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi cache: the family's private header.  What the cache files share:
 * the module's paths, the view of one file, and the prototypes of the
 * functions one cache file calls in another.
 */
#ifndef SHIKUMI_CACHE_H
#define SHIKUMI_CACHE_H

#include <stdint.h>

#include <shikumi/pgcache.h>

#include "shikumi.h"

#define PGC_MODULE	"shikumi_pgcache"
#define PGC_CACHE	SHIKUMI_DEBUGFS "/pgcache/cache"

/* the flags of a folio, as the module reports them (1 << KPF_*) */
#define PGC_LOCKED	(1ULL << 0)
#define PGC_REFERENCED	(1ULL << 2)
#define PGC_UPTODATE	(1ULL << 3)
#define PGC_DIRTY	(1ULL << 4)
#define PGC_LRU		(1ULL << 5)
#define PGC_ACTIVE	(1ULL << 6)
#define PGC_WRITEBACK	(1ULL << 8)
#define PGC_RECLAIM	(1ULL << 9)
#define PGC_MMAP	(1ULL << 11)
#define PGC_SWAPBACKED	(1ULL << 14)
#define PGC_LARGE	(1ULL << 15)
#define PGC_UNEVICTABLE	(1ULL << 18)
#define PGC_PRIVATE	(1ULL << SHIKUMI_PGC_KPF_PRIVATE)

/* cache.c: the module's view of one file */
struct pgc_view {
	const char *path;
	uint64_t size;			/* bytes */
	uint64_t pages;			/* the file's size in pages */
	uint64_t first, last;		/* the pages asked for */
	bool blockdev;
	struct shikumi_pgc_rec *r;	/* the cached folios, by index */
	size_t n, cap;
	/* the totals, in pages */
	uint64_t cached, folios, large, dirty, writeback, mapped, active;
	uint64_t referenced, uptodate, lru, unevictable, priv;
};

int pgc_view_read(const char *path, const char *range, struct pgc_view *v);
void pgc_view_free(struct pgc_view *v);
const char *pgc_flags_str(uint64_t f, char *buf, size_t size);
void pgc_json_flags(struct json *j, const char *key, uint64_t f);

/* the verbs */
int cache_show_cmd(int argc, char **argv);

#endif
