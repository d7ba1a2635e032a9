// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi tour: the book's experiments on this machine, stop by stop,
 * each named after its chapter.  The tour is a script (scripts/tour in
 * the source tree, installed as DATADIR/tour): this command finds it and
 * runs it with the options given, so `shikumi tour` works from anywhere
 * once the packages are installed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shikumi.h"

#ifndef SHIKUMI_DATADIR
#define SHIKUMI_DATADIR "/usr/local/share/shikumi"
#endif

static const struct cmd_help tour_help = {
	.usage = "[--chapter N] [-o DIR]",
	.summary = "The book's experiments on this machine, with what shikumi shows of the\n"
		   "kernel's side: one stop per experiment, each named after its chapter.",
	.details = "A stop that cannot run here (a module that does not load, lockdown,\n"
		   "transparent huge pages off, fio missing) says why, and the tour goes on;\n"
		   "shikumi doctor tells what to fix.  Needs root.  It formats\n"
		   "/dev/shikumi-ram0, the RAM disk's own disk, and leaves it alone when it\n"
		   "is mounted or used as swap.  Exit status 1 when a stop failed.",
};

int cmd_tour(int argc, char **argv)
{
	uint64_t chapter = 0;
	const char *out = NULL;
	const struct opt opts[] = {
		OPT_NUM('c', "chapter", &chapter, "N",
			"only the stops of the book's chapter N (3 to 9)"),
		OPT_STR('o', "out", &out, "DIR",
			"the plots' directory (default: ./shikumi-tour; build/tour in the tree)"),
		OPT_FINISH(),
	};
	char script[PATH_MAX], num[24];
	char *args[8];
	int first, n = 0;

	first = parse_options(argc, argv, opts, &tour_help);
	if (first < argc)
		return usage_error(&tour_help, "unexpected argument '%s'", argv[first]);
	if (opt_json)
		return usage_error(&tour_help,
				   "the tour has no JSON report ('shikumi doctor --json' says what can run)");
	if (chapter && (chapter < 3 || chapter > 9))
		return usage_error(&tour_help, "--chapter: the book's chapters 3 to 9, not %llu",
				   (unsigned long long)chapter);
	if (find_repo_root())
		snprintf(script, sizeof(script), "%s/scripts/tour", find_repo_root());
	else
		snprintf(script, sizeof(script), "%s/tour", SHIKUMI_DATADIR);
	args[n++] = script;
	if (chapter) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)chapter);
		args[n++] = "--chapter";
		args[n++] = num;
	}
	if (out) {
		args[n++] = "-o";
		args[n++] = (char *)out;
	}
	args[n] = NULL;
	fflush(stdout);
	execv(script, args);
	p_err("cannot run the tour, %s: %s", script, strerror(errno));
	return EXIT_FAIL;
}
