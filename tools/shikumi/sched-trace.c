// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched: the session with shikumi_cstrace's debugfs files (filters,
 * enable, trace_raw, stats), the signals that end a session, and the sort
 * of a session's records by time.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shikumi.h"
#include "sched.h"

/* ---- the tracer ---------------------------------------------------------------- */

volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static void on_sigchld(int sig)
{
	(void)sig;	/* only to cut a sleep short */
}

/* Catch SIGINT, SIGTERM and SIGHUP (so that tracing is always switched off). */
void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction sc = { .sa_handler = on_sigchld, .sa_flags = SA_NOCLDSTOP };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(&sc.sa_mask);
	sigaction(SIGCHLD, &sc, NULL);
}

void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / NSEC_PER_SEC), (long)(ns % NSEC_PER_SEC) };

	nanosleep(&ts, NULL);	/* EINTR (a child exited, a signal) is welcome */
}

/* Say why opening or writing a tracer file failed. */
static void cs_error(const char *what, const char *file, int err)
{
	char path[128];

	snprintf(path, sizeof(path), CS_DIR "/%s", file);
	if (err == EBUSY)
		p_err("the tracer is busy: %s: %s: another 'shikumi sched' or a reader of trace_pipe or trace_raw is using it",
		      path, strerror(err));
	else
		explain_debugfs_err(CS_MODULE, what, path, err,
				    "CAP_PERFMON or CAP_SYS_ADMIN");
}

static int cs_write(const char *file, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), CS_DIR "/%s", file);
	return write_file_str(path, value);
}

static int cs_read(const char *file, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), CS_DIR "/%s", file);
	return read_file_str(path, buf, size);
}

/* Is the tracer there and ours to use?  Says why not. */
int cs_check(void)
{
	char buf[16];
	int err = cs_read("enable", buf, sizeof(buf));

	if (err) {
		cs_error("read", "enable", -err);
		return -1;
	}
	return 0;
}

/* The per-CPU lines of the stats file: "cpuN written W dropped D ...". */
void cs_stats_parse(const char *text, struct cs_stats_cpu *c, int ncpu)
{
	const char *s = text;

	memset(c, 0, (size_t)ncpu * sizeof(*c));
	while (*s) {
		unsigned long long w, d, l, f;
		int cpu;

		if (sscanf(s, "cpu%d written %llu dropped %llu lost_records %llu max_fill %llu",
			   &cpu, &w, &d, &l, &f) == 5 && cpu >= 0 && cpu < ncpu) {
			c[cpu] = (struct cs_stats_cpu){ w, d, l, f, true };
		}
		s += strcspn(s, "\n");
		s += *s == '\n';
	}
}

static void cs_restore(struct cs_session *s)
{
	static const char *const defaults[][2] = {
		{ "filter_pid", "none" }, { "filter_tgid", "none" },
		{ "filter_cpu", "all" }, { "follow_fork", "0" },
	};
	size_t i;
	int err;

	if (!s->configured)
		return;
	s->configured = false;
	for (i = 0; i < ARRAY_SIZE(defaults); i++) {
		err = cs_write(defaults[i][0], defaults[i][1]);
		if (err)
			p_warn("cannot put back %s/%s: %s", CS_DIR, defaults[i][0],
			       strerror(-err));
	}
}

/*
 * Start a session.  The order matters:
 *   1. nothing else may be tracing (enable reads 0) or have a reader open
 *      (trace_raw opens, then is closed again);
 *   2. the filters, while tracing is off;
 *   3. enable, with no reader open: the module empties the rings and
 *      zeroes its counters, so no stale record of an earlier session is
 *      read and the per-CPU counters are this session's own;
 *   4. open trace_raw.  Until the caller lets its workload go, the tasks
 *      traced are all blocked, so nothing is lost in between.
 * Prints why and returns -1 on failure, with everything put back.
 */
int cs_start(struct cs_session *s, const char *pids, const char *tgids,
	     const char *cpus, bool follow)
{
	const char *files[4][2] = {
		{ "filter_pid", pids && *pids ? pids : "none" },
		{ "filter_tgid", tgids && *tgids ? tgids : "none" },
		{ "filter_cpu", cpus ? cpus : "all" },
		{ "follow_fork", follow ? "1" : "0" },
	};
	char buf[64];
	size_t i;
	int err, fd;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	err = cs_read("enable", buf, sizeof(buf));
	if (err) {
		cs_error("read", "enable", -err);
		return -1;
	}
	if (strcmp(buf, "0")) {
		p_err("the tracer is busy: tracing is already on (another 'shikumi sched'?). "
		      "If nothing is using it, stop it with: echo 0 > %s/enable", CS_DIR);
		return -1;
	}
	fd = open(CS_DIR "/trace_raw", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		cs_error("open", "trace_raw", errno);
		return -1;
	}
	close(fd);
	if (read_file_u64("/sys/module/" CS_MODULE "/parameters/nr_events", &s->nr_events))
		s->nr_events = 0;

	s->configured = true;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		err = cs_write(files[i][0], files[i][1]);
		if (err == -EINVAL) {
			p_err("%s refused %s '%s': %s", CS_MODULE, files[i][0], files[i][1],
			      strerror(-err));
			goto fail;
		}
		if (err) {
			cs_error("write", files[i][0], -err);
			goto fail;
		}
	}
	s->start_ns = now_ns();
	err = cs_write("enable", "1");
	if (err) {
		cs_error("write", "enable", -err);
		goto fail;
	}
	s->enabled = true;
	s->fd = open(CS_DIR "/trace_raw", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (s->fd < 0) {
		cs_error("open", "trace_raw", errno);
		goto fail;
	}
	return 0;
fail:
	if (s->enabled)
		cs_write("enable", "0");
	s->enabled = false;
	cs_restore(s);
	return -1;
}

/* Read what is there.  1 at the end of the trace, 0 when empty, -1 on error. */
int cs_drain(struct cs_session *s)
{
	static struct shikumi_cs_rec buf[1024];

	for (;;) {
		ssize_t n = read(s->fd, buf, sizeof(buf));
		size_t k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			p_err("reading %s/trace_raw: %s", CS_DIR, strerror(errno));
			return -1;
		}
		if (!n)
			return 1;
		if (n % REC_SIZE) {
			p_err("%s/trace_raw returned %zd bytes, not whole %zu-byte records",
			      CS_DIR, n, REC_SIZE);
			return -1;
		}
		k = (size_t)n / REC_SIZE;
		if (s->n + k > s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 65536;
			void *p;

			while (cap < s->n + k)
				cap *= 2;
			p = realloc(s->r, cap * REC_SIZE);
			if (!p) {
				p_err("out of memory after %zu records", s->n);
				return -1;
			}
			s->r = p;
			s->cap = cap;
		}
		memcpy(s->r + s->n, buf, (size_t)n);
		s->n += k;
	}
}

/*
 * Stop tracing, read the rest to the end of the trace, keep the stats and
 * put the filters back.  Returns -1 if the trace could not be read whole.
 */
int cs_stop(struct cs_session *s)
{
	int ret = 0, r, tries = 0;

	if (s->enabled) {
		int err = cs_write("enable", "0");

		s->end_ns = now_ns();
		if (err) {
			cs_error("write", "enable", -err);
			ret = -1;
		}
		s->enabled = false;
	}
	while (s->fd >= 0 && !ret) {
		r = cs_drain(s);
		if (r == 1)
			break;
		if (r < 0) {
			ret = -1;
			break;
		}
		/* tracing is off: trace_raw should say end of file, not EAGAIN */
		if (++tries > 100) {
			p_err("%s/trace_raw still returns EAGAIN 1 s after tracing stopped, "
			      "instead of end of file", CS_DIR);
			ret = -1;
			break;
		}
		sleep_ns(10 * NSEC_PER_MSEC);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (cs_read("stats", s->stats, sizeof(s->stats)))
		s->stats[0] = '\0';
	cs_restore(s);
	return ret;
}

void cs_free(struct cs_session *s)
{
	free(s->r);
	s->r = NULL;
	s->n = 0;
	s->cap = 0;
}

/* Sort a session's records by time; a CPU's own records keep their order. */
struct rec_key {
	uint64_t ts;
	size_t seq;
};

static int cmp_rec_key(const void *a, const void *b)
{
	const struct rec_key *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

int recs_sort(struct shikumi_cs_rec *r, size_t n)
{
	struct rec_key *k = malloc((n ? n : 1) * sizeof(*k));
	struct shikumi_cs_rec *o = malloc((n ? n : 1) * REC_SIZE);
	size_t i;

	if (!k || !o) {
		free(k);
		free(o);
		p_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		k[i] = (struct rec_key){ r[i].ts_ns, i };
	qsort(k, n, sizeof(*k), cmp_rec_key);
	for (i = 0; i < n; i++)
		o[i] = r[k[i].seq];
	memcpy(r, o, n * REC_SIZE);
	free(k);
	free(o);
	return 0;
}
