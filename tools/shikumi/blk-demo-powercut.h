/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi blk demo powercut: what blk-demo-powercut.c gathers and
 * blk-demo-powercut-report.c shows.
 */
#ifndef SHIKUMI_BLK_DEMO_POWERCUT_H
#define SHIKUMI_BLK_DEMO_POWERCUT_H

#include <stdbool.h>
#include <stdint.h>

#define PC_FILE_BYTES	(16 * 1024)
#define PC_MAX_ROUNDS	64
#define PC_MAX_FILES	64
#define PC_MODES	2	/* with barriers, then barrier=0 */

/* One fsynced file of a round: its POSIX cksum (cksum(1)), and its fate. */
struct pc_file {
	char name[32];
	uint32_t crc;		/* of what was written and fsynced */
	bool intact;		/* read back whole and equal after the cut */
};

struct pc_round {
	uint64_t seed;
	bool mounted;		/* the mount after the cut (journal replay) worked */
	int mount_errno;	/* why not */
	int fsck;		/* fsck.ext4 -fn's exit code: 0 clean */
	unsigned int intact;	/* fsynced files intact */
	/* the disk's counts over the load, up to the cut */
	uint64_t flushes, fua_writes;
	uint64_t dropped, kept;	/* non-durable sectors the cut dropped, kept */
	struct pc_file file[PC_MAX_FILES];
};

struct pc_mode {
	const char *name;	/* "barrier" or "nobarrier" */
	const char *mount_opts;
	bool run;
	struct pc_round round[PC_MAX_ROUNDS];
};

struct pc_demo {
	char disk[64], dev[80], mnt[64];
	uint64_t rounds, files, seed;
	struct pc_mode mode[PC_MODES];
};

/* blk-demo-powercut-report.c */
void pc_report_text(const struct pc_demo *d);
void pc_report_json(const struct pc_demo *d);

#endif /* SHIKUMI_BLK_DEMO_POWERCUT_H */
