// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi: see what the kernel did in the experiments of
 * "[Tameshite Rikai] Linux no Shikumi".
 *
 * One binary with subcommands, in the style of perf and bpftool.  Each
 * subcommand lives in its own cmd-*.c file; option parsing, the JSON
 * writer and the SVG plotter are shared.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"

/* the experiments in the order of the book's chapters, each named */
static const struct cmd top_cmds[] = {
	CMD_HEADING("the modules"),
	{ "load",   cmd_load,   "load shikumi modules (with parameters)" },
	{ "unload", cmd_unload, "unload shikumi modules" },
	{ "status", cmd_status, "show which shikumi modules are loaded" },
	{ "doctor", cmd_doctor,
	  "is this machine ready? each check, and the command that fixes it" },
	{ "tour",   cmd_tour,
	  "the book's experiments on this machine, stop by stop (--chapter N)" },
	CMD_HEADING("the book's chapters"),
	{ "sched",  cmd_sched,
	  "ch. 3, the scheduler: record, report, timeline, the book's experiments" },
	{ "pt",     cmd_pt,
	  "ch. 4-5, page tables: dump, translate, stats, diff, the book's experiments" },
	{ "chr",    cmd_chr,    "ch. 6, the character device: info, bench, sweep" },
	{ "blk",    cmd_blk,
	  "ch. 6 and 9, the RAM disk: models, policies, stats, trace, plots, fio" },
	{ "cache",  cmd_cache,
	  "ch. 8, the page cache: which pages of a file are in memory, and their state" },
	{ NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	int ret;

	argv[0] = "shikumi";
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("shikumi %s\n", SHIKUMI_VERSION);
		ret = EXIT_OK;
	} else {
		ret = run_subcommand(argc, argv, top_cmds,
				     "shikumi [--version] COMMAND [ARGS...]");
	}
	json_stdout_close();
	/*
	 * As perf does: a report that could not be written (a full disk, a
	 * closed pipe) is a failure, not a silent success.
	 */
	if (fflush(stdout) || ferror(stdout) || fclose(stdout)) {
		opt_json = false;	/* stdout is no place for the error now */
		p_err("cannot write the output: %s", strerror(errno ? errno : EIO));
		return ret ? ret : EXIT_FAIL;
	}
	return ret;
}
