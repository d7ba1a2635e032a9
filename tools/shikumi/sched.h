/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi sched: the family's private header.  The types, macros and
 * functions shared between cmd-sched.c and the sched-*.c files.
 */
#ifndef SHIKUMI_SCHED_H
#define SHIKUMI_SCHED_H

#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <shikumi/cstrace.h>

#include "shikumi.h"

#define CS_MODULE	"shikumi_cstrace"
#define CS_DIR		SHIKUMI_DEBUGFS "/cstrace"
#define SCHED_DEBUGFS	DEBUGFS_ROOT "/sched"

#define REC_SIZE	sizeof(struct shikumi_cs_rec)
#define DRAIN_NS	(10 * NSEC_PER_MSEC)	/* how often a session drains */

_Static_assert(sizeof(struct shikumi_cs_rec) == 80, "struct shikumi_cs_rec is 80 bytes");

struct tun_kv {
	char name[32];
	char value[48];
	char source[160];
};

struct tunables {
	struct tun_kv kv[24];
	size_t n;
};

struct cs_stats_cpu {
	uint64_t written, dropped, lost_records, max_fill;
	bool present;
};

struct cs_session {
	int fd;			/* trace_raw */
	bool configured;	/* filters written: put them back */
	bool enabled;
	uint64_t start_ns, end_ns;
	struct shikumi_cs_rec *r;
	size_t n, cap;
	char stats[16384];
	uint64_t nr_events;	/* the module's ring size, records per CPU */
};

/* What a trace covers, from a recording's header or a live session. */
struct trace_meta {
	uint64_t start_ns, end_ns;
	int nr_cpus;
	const bool *cpu_on;	/* the CPUs traced */
	bool all_tasks;		/* no task filter */
	bool follow;		/* follow_fork: children of traced tasks are traced */
	const int *pids, *tgids;
	size_t npids, ntgids;
};

struct task {
	int32_t pid, tgid;
	char comm[SHIKUMI_CS_COMM_LEN];
	bool traced;		/* the filters pass it: all its events are here */
	bool born;		/* WAKEUP_NEW seen: it started inside the trace */
	bool exited;		/* switched out dead (X) or zombie (Z) */
	bool has_base;		/* base_nv/base_niv are its counters' last values */
	bool seen_in;		/* a switch-in of it was seen */
	int on_cpu;		/* where it runs since run_start, or -1 */
	uint64_t run_start;
	uint64_t runnable_since;	/* 0: not waiting for a CPU, or not known */
	uint32_t base_nv, base_niv;
	uint64_t runtime, slices, switch_outs, vol, invol, inferred, anomalies;
	uint64_t waits, wait_total, wait_max, migrations;
	uint64_t first_ns, last_ns;
};

struct slice {
	uint64_t start, end;
	uint32_t task;
	uint16_t cpu;
	bool partial;		/* cut by the trace's start or end: not a whole slice */
};

struct cpu_acc {
	uint64_t switches, busy, lost, lost_records, first_ns;
	bool seen;		/* a SWITCH on it was seen */
};

struct analysis {
	struct task *t;
	size_t nt, capt;
	struct slice *s;
	size_t ns, caps;
	struct cpu_acc *cpu;
	int ncpu;
	uint32_t *hash;		/* pid -> task index + 1, open addressing */
	size_t hsize;
	uint64_t count[SHIKUMI_CS_LOST + 1];
	uint64_t inferred, anomalies, lost, unordered;
};

/* min, median and max of a task's whole slices, in ns; false if none */
struct spread {
	double min, median, max;
	size_t n;
};

#define SCHED_MAGIC	"SHKMSCHD"
#define SCHED_VERSION	1

#define SF_ALL_TASKS	0x1	/* no task filter (record -a) */
#define SF_FOLLOW_FORK	0x2
#define SF_WAITED	0x4	/* wstatus is the command's */

/* the text blocks after the header, in this order */
enum { SB_CMD, SB_PIDS, SB_TGIDS, SB_CPUS, SB_TUNABLES, SB_STATS, SB_NR };

/*
 * A recording: this header, SB_NR text blocks (blob_len[] bytes each: the
 * command line with its arguments NUL-separated, the filters as written,
 * the tunables as "name\tvalue\tsource" lines, the module's stats file at
 * the end), then nr_recs struct shikumi_cs_rec, merged by time.
 */
struct sched_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;
	uint32_t rec_size;
	uint32_t nr_cpus;	/* possible CPUs: every record's cpu is below */
	uint64_t nr_recs;
	uint64_t start_ns;	/* CLOCK_MONOTONIC: tracing on */
	uint64_t end_ns;	/* tracing off */
	uint64_t wall_ns;	/* CLOCK_REALTIME at the start */
	int32_t pid;		/* the command's pid; 0 for every task */
	int32_t wstatus;	/* its wait status (SF_WAITED) */
	uint32_t flags;		/* SF_* */
	uint32_t nr_events;	/* the module's ring, records per CPU */
	uint32_t blob_len[SB_NR];
	char kernel[64];
	uint8_t reserved[8];
};

_Static_assert(sizeof(struct sched_hdr) == 168, "struct sched_hdr has no holes");

struct recording {
	struct sched_hdr h;
	char *blob[SB_NR];	/* NUL-terminated */
	struct shikumi_cs_rec *r;
	struct tunables tun;
	struct cs_stats_cpu *stats;	/* h.nr_cpus */
	bool *cpu_on;		/* the traced CPUs that were online */
	int *pids, *tgids;
	size_t npids, ntgids;
	struct trace_meta meta;
};

struct kids {
	pid_t *pid;
	struct rusage *ru;
	bool *reaped;
	int n;
	struct gate gate;	/* they wait at it until kids_trace() */
};

/* sched-tunables.c */
const char *tun_get(const struct tunables *t, const char *name);
uint64_t tun_u64(const struct tunables *t, const char *name);
void tunables_read(struct tunables *t, char *why, size_t wsize);
char *tunables_serialise(const struct tunables *t);
void tunables_parse(struct tunables *t, const char *s);
uint64_t expected_slice(const struct tunables *t, unsigned int nr, char *how,
			size_t hsize);
void tunables_json(struct json *j, const char *key, const struct tunables *t);
int sched_tunables_cmd(int argc, char **argv);

/* sched-trace.c */
extern volatile sig_atomic_t got_signal;
void catch_signals(void);
void sleep_ns(uint64_t ns);
int cs_check(void);
void cs_stats_parse(const char *text, struct cs_stats_cpu *c, int ncpu);
int cs_start(struct cs_session *s, const char *pids, const char *tgids, const char *cpus,
	     bool follow);
int cs_drain(struct cs_session *s);
int cs_stop(struct cs_session *s);
void cs_free(struct cs_session *s);
int recs_sort(struct shikumi_cs_rec *r, size_t n);

/* sched-analysis.c */
double ms(uint64_t ns);
void analyse(struct analysis *a, const struct shikumi_cs_rec *r, size_t n,
	     const struct trace_meta *m);
void analysis_free(struct analysis *a);
struct spread slice_spread(const struct analysis *a, size_t task);
void json_spread_ms(struct json *j, const char *key, struct spread sp);

/* sched-file.c */
void recording_free(struct recording *rec);
int recording_load(const char *path, struct recording *rec);
int recording_write(const char *path, FILE *f, struct sched_hdr *h,
		    char *const blob[SB_NR], const size_t blen[SB_NR],
		    const struct shikumi_cs_rec *r);
uint64_t warn_drops(const struct cs_stats_cpu *st, const struct analysis *a,
		    uint64_t nr_events, FILE *out);

/* sched-record.c */
int sched_record_cmd(int argc, char **argv);

/* sched-report.c */
size_t *tasks_by_runtime(const struct analysis *a, size_t *n);
void describe_recording(const struct recording *rec, char *buf, size_t size);
int sched_report_cmd(int argc, char **argv);

/* sched-timeline.c */
extern const char *const task_colors[12];
void svg_begin(FILE *f, double w, double h);
void svg_time_axis(FILE *f, double x0, double x1, double ytop, double ybot, double span,
		   const char *label);
int svg_end(FILE *f, const char *path);
int sched_timeline_cmd(int argc, char **argv);

/* sched-harness.c */
void burn(uint64_t n);
uint64_t calibrate(uint64_t ns);
int pick_cpu(void);
void move_off(int cpu, const cpu_set_t *allowed);
uint64_t rusage_ns(const struct rusage *ru);
int kids_fork(struct kids *k, int n, int cpu, void (*fn)(int, void *), void *arg);
void kids_kill(struct kids *k);
int kids_trace(struct kids *k, int cpu, struct cs_session *s, uint64_t *t_go,
	       void (*at_go)(uint64_t, void *), void *arg);
void kids_analyse(struct analysis *a, struct cs_session *s, struct kids *k, int cpu,
		  bool *cpu_on, int ncpu);
size_t task_of(const struct analysis *a, pid_t pid);
uint64_t session_dropped(const struct cs_session *s, int ncpu);

/* sched-demo.c */
int sched_demo_cmd(int argc, char **argv);
int sched_nice_cmd(int argc, char **argv);

#endif /* SHIKUMI_SCHED_H */
