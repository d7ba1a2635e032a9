/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi cache demo: what the demos' files share (cache-demo.c, the
 * frame; cache-demo-read.c, read and direct; cache-demo-write.c, write;
 * cache-demo-mmap.c and cache-demo-buffer.c; cache-demo-swap.c has its
 * own steps and report, in cache-demo-swap.h).
 * A demo is a row of steps.  Every step looks from outside (meminfo,
 * vmstat, the disk's stat) before and after its action, and from inside
 * (the file's pages in shikumi_pgcache, the requests in shikumi_ramdisk's
 * trace) after it; the trace is drained at the end of every step, so that
 * each request the disk served during the demo is in exactly one step.
 */
#ifndef SHIKUMI_CACHE_DEMO_H
#define SHIKUMI_CACHE_DEMO_H

#include <limits.h>
#include <signal.h>

#include "cache.h"
#include "blk.h"

#define DEMO_MAX_STEPS	8
#define DEMO_CHUNK	(64 * 1024)	/* bytes a write() or an O_DIRECT read() */
#define DEMO_DEFAULT_MIB	8

#define DIR_OPT(v)	OPT_STR('d', "dir", (v), "DIR", \
				"a directory on a file system on a shikumi disk")
#define SIZE_OPT(v)	OPT_NUM('s', "size", (v), "MIB", \
				"the file's size (default 8)")
#define KEEP_OPT(v)	OPT_BOOLEAN('k', "keep", (v), \
				"leave the file in DIR at the end (remove it yourself)")

/* the outside view at one moment */
struct demo_snap {
	long long cached_kb, dirty_kb, writeback_kb;	/* /proc/meminfo */
	long long buffers_kb, mapped_kb;		/* /proc/meminfo */
	long long pgpgin_kb, pgpgout_kb;		/* /proc/vmstat */
	uint64_t rd_ios, rd_sectors, wr_ios, wr_sectors;	/* the disk's stat */
};

struct demo_step {
	const char *key;		/* for JSON: "first_read" */
	const char *label;		/* for the table: "first read" */
	uint64_t t_ns, ns;		/* when the action began; how long it took */
	struct demo_snap a, b;		/* outside: before and after */
	bool have_view;			/* the file is there to look at */
	uint64_t cached, dirty, writeback;	/* inside: the view after */
	struct trace_buf t;		/* the requests served during the step */
};

/* the write demo's samples while the flusher works */
struct demo_sample {
	double t_s;			/* since the sysctls were lowered */
	uint64_t dirty, writeback;	/* the view, pages */
	long long dirty_kb, writeback_kb;	/* /proc/meminfo */
};

struct demo {
	const char *name;		/* "read" */
	const char *dir, *svg;
	uint64_t size, pages;		/* the file's */
	char dev[64], disk[64];		/* shikumi-ram0p1, shikumi-ram0 */
	char path[PATH_MAX];
	pid_t pid;
	int fd;
	bool keep;			/* leave the file at the end */
	void *buf;			/* DEMO_CHUNK bytes, page aligned */
	uint64_t t0;
	struct demo_step step[DEMO_MAX_STEPS];
	int nstep;
	struct demo_sample *smp;
	size_t nsmp, capsmp;
	/* the write demo's sysctls: the values found, and the demo's */
	char expire_old[32], interval_old[32];
	uint64_t expire, interval;
	bool lowered;
	/* a demo's own part of the report (mmap, buffer), and its data */
	const char *what;		/* the report's "file", if NULL */
	void (*own_text)(const struct demo *d);
	void (*own_json)(struct json *j, const struct demo *d, int step);
	void *own;
};

/* cache-demo.c */
int demo_args(int argc, char **argv, const struct opt *opts,
	      const struct cmd_help *help, const char *const *dir,
	      const uint64_t *mib);
int demo_remove_step(struct demo *d);
int demo_open(struct demo *d, const char *name, uint64_t size_mib,
	      const char *dir);
void demo_close(struct demo *d);
struct demo_step *demo_step_begin(struct demo *d, const char *key,
				  const char *label);
int demo_step_end(struct demo *d, struct demo_step *s);
int demo_create(struct demo *d, int flags);
int demo_write_all(struct demo *d);
int demo_fsync(struct demo *d);
int demo_read_all(struct demo *d, size_t chunk);
int demo_drop_caches(void);
int demo_view(struct demo *d, uint64_t *dirty, uint64_t *writeback);
int write_svg(const char *path, const char *title, const struct plot *p);

/* cache-demo-report.c */
int demo_report(const struct demo *d);

/* cache-demo-read.c, cache-demo-write.c */
int demo_read_cmd(int argc, char **argv);
int demo_direct_cmd(int argc, char **argv);
int demo_write_cmd(int argc, char **argv);

/* cache-demo-mmap.c, cache-demo-buffer.c */
int demo_mmap_cmd(int argc, char **argv);
int demo_buffer_cmd(int argc, char **argv);

/* cache-demo-swap.c */
int demo_swap_cmd(int argc, char **argv);

#endif
