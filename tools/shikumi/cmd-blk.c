// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk: the RAM disk of chapters 6 and 9.
 *
 *   info     the disks, their service model, policy and stock queue
 *   stats    the driver's counters and latency histograms (debugfs)
 *   policy   the driver's own scheduling policy
 *   model    the service model (ram, ssd, hdd) and its parameters
 *   trace    drain the per-request trace (debugfs trace_raw)
 *   plot     the head's path under each policy, on one random workload
 *   measure  the book's chapter 9 measure.sh, with fio
 *   bench    shikumi against brd and null_blk; policies under the hdd model
 *
 * The controls are sysfs files in /sys/block/DISK/shikumi/, the statistics
 * and the trace debugfs files in /sys/kernel/debug/shikumi/DISK/; the
 * contract is include/uapi/shikumi/ramdisk.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shikumi/ramdisk.h>

#include "shikumi.h"
#include "blk.h"

/* ---- the subcommand ------------------------------------------------------ */

static const struct cmd blk_cmds[] = {
	{ "info",    blk_info,    "the disks: model, policy, queue, memory" },
	{ "stats",   blk_stats,   "counters and latency percentiles (debugfs)" },
	{ "policy",  blk_policy,  "show or set the driver's scheduling policy" },
	{ "model",   blk_model,   "show or set the service model and its parameters" },
	{ "trace",   blk_trace,   "drain the per-request trace (table, JSON, raw)" },
	{ "plot",    blk_plot,    "the head's path under each policy (SVG)" },
	{ "measure", blk_measure, "the book's measure.sh: elevators, read-ahead (fio)" },
	{ "bench",   blk_bench,   "shikumi vs brd and null_blk; policies under hdd (fio)" },
	{ NULL, NULL, NULL },
};

int cmd_blk(int argc, char **argv)
{
	return run_subcommand(argc, argv, blk_cmds, "shikumi blk COMMAND [OPTIONS]");
}
