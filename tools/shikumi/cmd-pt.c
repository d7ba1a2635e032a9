// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt: page tables, through shikumi_ptdump's debugfs file.
 *
 *   dump       a process's VMAs and page-table entries (summary or full),
 *              with the sections of its ELF files marked
 *   translate  one address, level by level
 *   stats      page-table pages per level, against VmPTE and VmRSS
 *   snapshot   save the raw entries of a process to a file
 *   diff       what changed between two snapshots
 *   demo       the book's experiments: mmap, demand, cow, thp, sparse
 *
 * Every report reads raw records (struct shikumi_pt_rec) and renders them
 * here; the module's own text format is for cat.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <shikumi/ptdump.h>

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
