// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched: the process scheduler (the book's chapter 3), through
 * shikumi_cstrace's debugfs files.
 *
 *   record     trace a command and everything it forks (or every task) to a file
 *   report     per task: runtime, slices, voluntary and involuntary switches,
 *              time spent runnable but waiting, migrations; per CPU: use, drops
 *   timeline   one lane per CPU, every slice coloured by its task, as SVG
 *   demo       the book's sched experiment, with the slices the kernel gave
 *   nice       two CPU-bound tasks, one niced, against the scheduler's weights
 *   tunables   the running scheduler and the tunables behind slice lengths
 *
 * Every report reads raw records (struct shikumi_cs_rec); the module's
 * trace_pipe is for cat.
 *
 * This file holds the command table.  Where each verb lives:
 *   record     sched-record.c
 *   report     sched-report.c
 *   timeline   sched-timeline.c
 *   demo       sched-demo.c, on the CPU-bound harness in sched-harness.c
 *   nice       sched-demo.c, on the same harness
 *   tunables   sched-tunables.c
 * and what they share: the session with shikumi_cstrace in sched-trace.c,
 * the analysis of the records in sched-analysis.c, the recording file
 * format in sched-file.c, the types and prototypes in sched.h; the CPU and
 * pid lists are generic, in cpus.c (declared in shikumi.h).
 */
#include "shikumi.h"
#include "sched.h"

/* ---- the command table ------------------------------------------------------------------ */

static const struct cmd sched_cmds[] = {
	{ "record",   sched_record_cmd,   "trace a command (or every task) to a file" },
	{ "report",   sched_report_cmd,   "per task: runtime, slices, switches, waits; per CPU" },
	{ "timeline", sched_timeline_cmd, "one lane per CPU, slices coloured by task (SVG)" },
	{ "demo",     sched_demo_cmd,     "the book's sched: NPROC processes on one CPU" },
	{ "nice",     sched_nice_cmd,     "two processes, one niced, against the weights" },
	{ "tunables", sched_tunables_cmd, "the scheduler and the tunables behind slices" },
	{ NULL, NULL, NULL },
};

int cmd_sched(int argc, char **argv)
{
	return run_subcommand(argc, argv, sched_cmds, "shikumi sched COMMAND [OPTIONS]");
}
