// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt: page tables, through shikumi_ptdump's debugfs file.  This
 * file is the family's table of contents: the verbs, and the file each
 * one lives in.
 *
 *   dump       pt-dump.c       a process's VMAs and page-table entries
 *                              (summary or full), with the sections of its
 *                              ELF files marked (pt-marks.c)
 *   translate  pt-translate.c  one address, level by level
 *   stats      pt-stats.c      page-table pages per level, against VmPTE
 *                              and VmRSS
 *   snapshot   pt-snap.c       save the raw entries of a process to a file
 *   diff       pt-snap.c       what changed between two snapshots
 *   demo       pt-demo.c       the book's experiments: mmap, demand, cow
 *                              (pt-demo-cow.c), thp, sparse; they run their
 *                              workload in the child of pt-worker.c
 *   bench      pt-bench.c      a dump against /proc/PID/pagemap
 *
 * What they share: pt.c, the access layer of the module's debugfs file
 * and the decoders; proc.c, the /proc readers (declared in shikumi.h);
 * pt.h, the family's private header.
 *
 * Every report reads raw records (struct shikumi_pt_rec) and renders them
 * itself; the module's own text format is for cat.
 */
#include "shikumi.h"
#include "pt.h"

/* ---- the command tables -------------------------------------------------------------- */

static const struct cmd pt_cmds[] = {
	{ "dump",      pt_dump_cmd,      "VMAs and page-table entries, ELF sections marked" },
	{ "translate", pt_translate_cmd, "one address through every level" },
	{ "stats",     pt_stats_cmd,     "table pages per level, against VmPTE and VmRSS" },
	{ "snapshot",  pt_snapshot_cmd,  "save a process's entries to a file" },
	{ "diff",      pt_diff_cmd,      "what changed between two snapshots" },
	{ "demo",      pt_demo,          "the book's experiments: mmap, demand, cow, thp, sparse" },
	{ "bench",     pt_bench_cmd,     "a benchmark: a dump against /proc/PID/pagemap" },
	{ NULL, NULL, NULL },
};

int cmd_pt(int argc, char **argv)
{
	return run_subcommand(argc, argv, pt_cmds, "shikumi pt COMMAND [OPTIONS]");
}
