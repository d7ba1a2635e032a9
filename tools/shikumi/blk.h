/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The blk family's private header (shikumi blk, cmd-blk.c): its
 * paths and macros, name tables, shared types and the prototypes of what
 * crosses its files.
 */
#ifndef SHIKUMI_BLK_H
#define SHIKUMI_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <shikumi/ramdisk.h>

#include "shikumi.h"

#define SYS_BLOCK	"/sys/block"
#define DEBUGFS_DIR	SHIKUMI_DEBUGFS
#define DISK_PREFIX	"shikumi-ram"
#define DEFAULT_DISK	DISK_PREFIX "0"
#define RAMDISK_MODULE	"shikumi_ramdisk"
#define OP_NR		5	/* request operations, in the stats */
#define OP_NAMES_NR	(SHIKUMI_BLK_OP_POWERCUT + 1)	/* and in the trace */

#define DISK_OPT(v)	OPT_STR('d', "disk", (v), "NAME", \
				"the disk (default " DEFAULT_DISK ")")

extern const char *const model_names[SHIKUMI_BLK_MODEL_HDD + 1];
extern const char *const policy_names[SHIKUMI_BLK_POLICY_DEADLINE + 1];
extern const char *const op_names[OP_NAMES_NR];
extern const char *const flag_names[SHIKUMI_BLK_NR_FLAGS];

const char *name_of(const char *const *names, size_t n, unsigned int i);
int index_of(const char *const *names, size_t n, const char *s);

#define MODEL_NAME(i)	name_of(model_names, ARRAY_SIZE(model_names), (i))
#define POLICY_NAME(i)	name_of(policy_names, ARRAY_SIZE(policy_names), (i))
#define OP_NAME(i)	name_of(op_names, OP_NAMES_NR, (i))

/* blk.c: the access layer */
char *read_all(int fd, size_t *lenp);
char *read_path(const char *path);
bool is_root(void);
const char *why(int err);
int need_module(void);
int need_disk(const char *arg, char *disk, size_t size,
	      const struct cmd_help *help);
void ctl_path(char *p, size_t size, const char *disk, const char *key);
int ctl_read(const char *disk, const char *key, char *buf, size_t size);
int ctl_write(const char *disk, const char *key, const char *v);
bool ctl_exists(const char *disk, const char *key);
int queue_read(const char *disk, const char *key, char *buf, size_t size);
int queue_write(const char *disk, const char *key, const char *v);
int stock_scheduler(const char *disk, char *buf, size_t size);
uint64_t disk_sectors(const char *disk);
int list_params(const char *disk, const char *prefix, char **names,
		int max);
void free_names(char **names, int n);
int dbg_open(const char *disk, const char *file);

/* blk-stats.c */
struct op_stats {
	uint64_t count, bytes, lat_ns;
	uint64_t hist[SHIKUMI_BLK_HIST_BUCKETS];
};

struct blk_stats {
	char model[16], policy[16];
	uint64_t submitted, completed, in_driver, errors, merged;
	uint64_t head_travel, head, trace_records, trace_dropped;
	uint64_t trace_record_bytes;	/* 0: a module that does not say */
	/* the write cache; write_cache_kb 0: a module without one */
	uint64_t write_cache, write_cache_kb, power_off;
	uint64_t cache_flushes, cache_fua_writes, cache_destages;
	uint64_t cache_log_pages, power_cuts;
	uint64_t cut_sectors_dropped, cut_sectors_kept, cut_last_seed;
	uint64_t deferred;	/* served by the driver's work item */
	struct op_stats op[OP_NR];
};

int read_stats(const char *disk, struct blk_stats *st);
int blk_stats(int argc, char **argv);

/* blk-cache.c */
int blk_cache(int argc, char **argv);
int need_disk_arg(int argc, char **argv, int *first, char *disk, size_t size,
		  const struct cmd_help *help);
void p_ctl_err(const char *disk, const char *key, const char *what, int err);

/* blk-power.c */
int blk_powercut(int argc, char **argv);
int blk_poweron(int argc, char **argv);

/* blk-demo-powercut.c */
int blk_demo(int argc, char **argv);

/* blk-ctl.c */
int blk_policy(int argc, char **argv);
int blk_model(int argc, char **argv);
int blk_info(int argc, char **argv);

/* blk-trace.c */
#define REC_SIZE	sizeof(struct shikumi_blk_trace)

struct trace_buf {
	struct shikumi_blk_trace *r;
	size_t n, cap;
};

int trace_reserve(struct trace_buf *t, size_t more);
void trace_free(struct trace_buf *t);
int drain_trace(const char *disk, struct trace_buf *t);
int load_trace_file(const char *path, struct trace_buf *t);
int save_trace_file(const char *path, const struct shikumi_blk_trace *r,
		    size_t n);
uint64_t seq_gaps(const struct shikumi_blk_trace *r, size_t n);
uint64_t seek_of(const struct shikumi_blk_trace *r);
uint64_t first_queued(const struct shikumi_blk_trace *r, size_t n);
double rel_ms(uint64_t t, uint64_t t0);
void flags_text(char *buf, size_t size, uint32_t flags);
int blk_trace(int argc, char **argv);

/* blk-plot.c */
int parse_names(const char *s, const char *const *names, size_t n,
		int *out, int max);
int blk_plot(int argc, char **argv);

/* blk-measure.c */
struct fio_job {
	const char *name, *filename, *rw, *bs, *ioengine;
	uint64_t size;		/* bytes */
	unsigned int iodepth, numjobs, runtime;
	bool direct, time_based;
};

struct fio_result {
	double bw_bytes, iops, lat_ns_mean;
};

/* The state measure and bench change, to put back at the end. */
struct saved {
	char model[16], policy[16], sched[32], ra[16];
};

int fio_run(const struct fio_job *job, const char *out,
	    struct fio_result *res);
int need_fio(void);
int save_state(const char *disk, struct saved *sv);
void restore_state(const char *disk, const struct saved *sv);
int set_ctl(const char *disk, const char *key, const char *v);
int blk_measure(int argc, char **argv);

/* blk-bench.c */
int blk_bench(int argc, char **argv);

#endif /* SHIKUMI_BLK_H */
