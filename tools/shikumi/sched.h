/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi sched: the family's private header.  The types, macros and
 * functions shared between cmd-sched.c and the sched-*.c files.
 */
#ifndef SHIKUMI_SCHED_H
#define SHIKUMI_SCHED_H

#include <signal.h>

#include <shikumi/cstrace.h>

#include "shikumi.h"

#define CS_MODULE	"shikumi_cstrace"
#define DEBUGFS_ROOT	"/sys/kernel/debug"
#define CS_DIR		DEBUGFS_ROOT "/shikumi/cstrace"
#define SCHED_DEBUGFS	DEBUGFS_ROOT "/sched"

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL
#define REC_SIZE	sizeof(struct shikumi_cs_rec)
#define DRAIN_NS	(10 * NSEC_PER_MSEC)	/* how often a session drains */

#define U(x)		((unsigned long long)(x))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

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

/* cmd-sched.c */
double ms(uint64_t ns);

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

#endif /* SHIKUMI_SCHED_H */
