// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache show: which pages of a file are in the page cache, in
 * folios of what size, and in what state: the inside of the book's
 * chapter 8, where free(1) shows only the total (buff/cache).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"

static const struct cmd_help show_help = {
	.usage = "cache show FILE [-r START-END] [-f] [--json]",
	.summary = "Which pages of FILE are in the page cache, and their state.",
	.details =
	"FILE is a regular file or a block device (then the device's own cache,\n"
	"the buffer cache, is shown).  Looking reads nothing in and marks no page\n"
	"accessed: shikumi_pgcache walks the cache as the kernel's own walkers do.\n"
	"The report gives the totals, then the cached pages in runs of folios\n"
	"with the same state (with -f, each folio: its first page's index, its\n"
	"size in pages, its PFN and how many page-table entries map it).\n"
	"Needs root and shikumi_pgcache.",
};

/* a run of consecutive folios in the same state */
struct run {
	uint64_t first, pages, flags;
	size_t folios;
};

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

static void show_totals(const struct pgc_view *v)
{
	printf("%s: %s of %" PRIu64 " bytes, %" PRIu64 " pages\n", v->path,
	       v->blockdev ? "a block device" : "a file", v->size, v->pages);
	printf("  cached       %8" PRIu64 " pages (%.0f%%)", v->cached, pct(v->cached, v->pages));
	printf(" in %" PRIu64 " folios, %" PRIu64 " large\n", v->folios, v->large);
	printf("  dirty        %8" PRIu64 "   writeback %8" PRIu64 "   mapped %8" PRIu64 "\n",
	       v->dirty, v->writeback, v->mapped);
	printf("  active       %8" PRIu64 "   referenced %7" PRIu64 "   unevictable %3" PRIu64 "\n",
	       v->active, v->referenced, v->unevictable);
}

static void show_run(const struct run *r)
{
	char flags[256];

	printf("  %10" PRIu64 "-%-10" PRIu64 " %8" PRIu64 " pages %6zu folio%s  %s\n",
	       r->first, r->first + r->pages - 1, r->pages, r->folios,
	       r->folios == 1 ? " " : "s", pgc_flags_str(r->flags, flags, sizeof(flags)));
}

/* The cached pages in runs: contiguous folios with the same flags. */
static void show_runs(const struct pgc_view *v)
{
	struct run r = { 0 };
	size_t i;

	if (!v->n)
		return;
	printf("  %-21s %14s %13s  %s\n", "pages", "", "", "state");
	for (i = 0; i < v->n; i++) {
		const struct shikumi_pgc_rec *f = &v->r[i];

		if (r.folios && f->index == r.first + r.pages && f->flags == r.flags) {
			r.pages += f->nr_pages;
			r.folios++;
			continue;
		}
		if (r.folios)
			show_run(&r);
		r.first = f->index;
		r.pages = f->nr_pages;
		r.flags = f->flags;
		r.folios = 1;
	}
	show_run(&r);
}

static void show_folios(const struct pgc_view *v)
{
	char flags[256];
	size_t i;

	printf("  %10s %6s %12s %8s  %s\n", "index", "pages", "pfn", "mapcount", "state");
	for (i = 0; i < v->n; i++) {
		const struct shikumi_pgc_rec *f = &v->r[i];

		printf("  %10" PRIu64 " %6u %#12" PRIx64 " %8d  %s\n", (uint64_t)f->index,
		       f->nr_pages, (uint64_t)f->pfn, f->mapcount,
		       pgc_flags_str(f->flags, flags, sizeof(flags)));
	}
}

static void show_json(const struct pgc_view *v)
{
	struct json *j = json_stdout();
	size_t i;

	json_object_begin(j, NULL);
	json_string(j, "path", v->path);
	json_bool(j, "block_device", v->blockdev);
	json_u64(j, "size", v->size);
	json_u64(j, "pages", v->pages);
	json_u64(j, "cached", v->cached);
	json_u64(j, "folios", v->folios);
	json_u64(j, "large_folios", v->large);
	json_u64(j, "dirty", v->dirty);
	json_u64(j, "writeback", v->writeback);
	json_u64(j, "mapped", v->mapped);
	json_u64(j, "active", v->active);
	json_u64(j, "referenced", v->referenced);
	json_u64(j, "unevictable", v->unevictable);
	json_array_begin(j, "cache");
	for (i = 0; i < v->n; i++) {
		const struct shikumi_pgc_rec *f = &v->r[i];

		json_object_begin(j, NULL);
		json_u64(j, "index", f->index);
		json_u64(j, "pages", f->nr_pages);
		json_u64(j, "pfn", f->pfn);
		json_i64(j, "mapcount", f->mapcount);
		pgc_json_flags(j, "flags", f->flags);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

int cache_show_cmd(int argc, char **argv)
{
	const char *range = NULL;
	bool full = false;
	const struct opt opts[] = {
		OPT_STR('r', "range", &range, "START-END", "only bytes [START, END) of the file"),
		OPT_BOOLEAN('f', "full", &full, "every folio, not runs of them"),
		OPT_FINISH(),
	};
	struct pgc_view v;
	uint64_t a, b;
	int first;

	first = parse_options(argc, argv, opts, &show_help);
	if (first >= argc)
		return usage_error(&show_help, "which file? give a path");
	if (first + 1 < argc)
		return usage_error(&show_help, "unexpected argument '%s'", argv[first + 1]);
	if (range && (parse_range(range, &a, &b) || a >= b))
		return usage_error(&show_help, "bad range '%s': give START-END, START < END",
				   range);
	if (pgc_view_read(argv[first], range, &v))
		return EXIT_FAIL;
	if (opt_json) {
		show_json(&v);
	} else {
		show_totals(&v);
		if (full)
			show_folios(&v);
		else
			show_runs(&v);
	}
	pgc_view_free(&v);
	return EXIT_OK;
}
