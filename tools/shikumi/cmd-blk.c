// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk: the RAM disk of chapters 6 and 9.
 *
 *   info     blk-ctl.c      the disks, their model, policy and stock queue
 *   stats    blk-stats.c    the driver's counters and latency histograms
 *   policy   blk-ctl.c      the driver's own scheduling policy
 *   model    blk-ctl.c      the service model (ram, ssd, hdd), its parameters
 *   trace    blk-trace.c    drain the per-request trace (debugfs trace_raw)
 *   plot     blk-plot.c     the head's path under each policy, random reads
 *   measure  blk-measure.c  the book's chapter 9 measure.sh, with fio
 *   bench    blk-bench.c    shikumi against brd and null_blk; hdd policies
 *   cache    blk-cache.c    the volatile write cache: show, on, off, size
 *   powercut blk-power.c    cut the power: non-durable writes lost or torn
 *   poweron  blk-power.c    power the disk on again
 *   demo     blk-demo-powercut.c  power cuts under ext4, barriers on and off
 *                                 (the report: blk-demo-powercut-report.c)
 *
 * blk.c is the access layer (the disk's sysfs controls and queue, debugfs),
 * blk.h the family's private header; the JSON reader for fio's reports is
 * jsonr.c.
 *
 * The controls are sysfs files in /sys/block/DISK/shikumi/, the statistics
 * and the trace debugfs files in /sys/kernel/debug/shikumi/DISK/; the
 * contract is include/uapi/shikumi/ramdisk.h.
 */
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
	{ "cache",   blk_cache,   "show or set the volatile write cache (on, off, size)" },
	{ "powercut", blk_powercut, "cut the power: unflushed writes are lost, or torn" },
	{ "poweron", blk_poweron, "power the disk on again after a cut" },
	{ "demo",    blk_demo,    "powercut: ext4 through power cuts, barriers on and off" },
	{ NULL, NULL, NULL },
};

int cmd_blk(int argc, char **argv)
{
	return run_subcommand(argc, argv, blk_cmds, "shikumi blk COMMAND [OPTIONS]");
}
