// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi: see what the kernel did in the experiments of
 * "[Tameshite Rikai] Linux no Shikumi".
 *
 * One binary with subcommands, in the style of perf and bpftool.  Each
 * subcommand lives in its own cmd-*.c file; option parsing, the JSON
 * writer and the SVG plotter are shared.
 */
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"

static const struct cmd top_cmds[] = {
	{ "load",   cmd_load,   "load shikumi modules (with parameters)" },
	{ "unload", cmd_unload, "unload shikumi modules" },
	{ "status", cmd_status, "show which shikumi modules are loaded" },
	{ "chr",    cmd_chr,    "the character device: info, bench, sweep" },
	{ "blk",    cmd_blk,    "the RAM disk: models, policies, stats, trace, plots, fio" },
	{ "pt",     cmd_pt,
	  "page tables: dump, translate, stats, diff, the book's experiments" },
	{ "sched",  cmd_sched,
	  "the scheduler: record, report, timeline, the book's experiments" },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("shikumi %s\n", SHIKUMI_VERSION);
		return EXIT_OK;
	}
	argv[0] = "shikumi";
	return run_subcommand(argc, argv, top_cmds,
			      "shikumi [--version] COMMAND [ARGS...]");
}
