// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache: the page cache (chapter 8), through shikumi_pgcache's
 * debugfs file.  This file is the family's table of contents: the verbs,
 * and the file each one lives in.
 *
 *   show       cache-show.c    which pages of a file (or of a block
 *                              device's own cache) are in memory, in
 *                              folios of what size, dirty, under
 *                              writeback, mapped, active
 *   demo       cache-demo.c    the book's experiments, read, write
 *                              (cache-demo-write.c) and direct
 *                              (cache-demo-read.c), mmap and buffer
 *                              (cache-demo-mmap.c, -buffer.c): the
 *                              outside view beside the file's pages and
 *                              the disk's requests (cache-demo-report.c);
 *                              swap (cache-demo-swap.c, its own report
 *                              in cache-demo-swap-report.c): the PTEs'
 *                              swap entries beside the disk's requests
 *   bench      cache-bench.c   a benchmark: the view of a fully cached
 *                              file against fincore and mincore()
 *
 * What they share: cache.c, the access layer of the module's file and the
 * flag names; cache.h, the family's private header.
 */
#include "shikumi.h"
#include "cache.h"

static const struct cmd cache_cmds[] = {
	{ "show", cache_show_cmd, "a file's pages in the page cache, and their state" },
	{ "demo", cache_demo_cmd, "the book's read, write, direct, mmap, buffer and swap" },
	{ "bench", cache_bench_cmd, "a benchmark: the view of a cached file against fincore" },
	{ NULL, NULL, NULL },
};

int cmd_cache(int argc, char **argv)
{
	return run_subcommand(argc, argv, cache_cmds, "shikumi cache COMMAND [OPTIONS]");
}
