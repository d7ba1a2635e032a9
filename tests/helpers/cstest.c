// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-cstest: workloads and a record decoder for tests/cstrace.bats.
 *
 *   shikumi-cstest decode			raw records on stdin, one text
 *					line each on stdout:
 *	TYPE CPU TS FLAGS STATE PREV_PID PREV_TGID NEXT_PID NEXT_TGID
 *	NVCSW NIVCSW LOST CPU_FROM CPU_TO PREV_COMM NEXT_COMM
 *   shikumi-cstest drain FILE OUT	read FILE (trace_raw) to its end into
 *					OUT; OUT.ready appears once FILE
 *					is open
 *   shikumi-cstest work ITER DIR	three tasks on CPU 0, ITER rounds each:
 *					"sleeper" spins 1 ms then sleeps,
 *					"spinner" only spins, "yielder"
 *					spins and calls sched_yield().  Each
 *					writes its pid to DIR/ROLE.pid, then
 *					blocks on the FIFO DIR/go until the
 *					test has read its counters.
 *   shikumi-cstest pingpong N		two processes pass a byte back and
 *					forth N times over pipes
 *   shikumi-cstest poll DIR		poll() on DIR/trace_pipe and
 *					DIR/trace_raw: not readable while no
 *					record waits, readable as soon as
 *					one is written, EPOLLHUP once tracing
 *					is off and all is read.  Sets
 *					DIR/filter_pid; leaves tracing off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>

#include <shikumi/cstrace.h>

#include "proc.h"

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static const char *type_name(unsigned int type)
{
	switch (type) {
	case SHIKUMI_CS_SWITCH:		return "switch";
	case SHIKUMI_CS_WAKEUP:		return "wakeup";
	case SHIKUMI_CS_WAKEUP_NEW:	return "wakeup_new";
	case SHIKUMI_CS_MIGRATE:	return "migrate";
	case SHIKUMI_CS_LOST:		return "lost";
	}
	return "unknown";
}

/* a record read whole from a pipe or file, or 0 at the end */
static int read_rec(int fd, struct shikumi_cs_rec *r)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(*r)) {
		n = read(fd, (char *)r + got, sizeof(*r) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0) {
			if (got) {
				fprintf(stderr, "decode: a partial record\n");
				exit(1);
			}
			return 0;
		}
		got += n;
	}
	return 1;
}

static int decode(void)
{
	struct shikumi_cs_rec r;

	_Static_assert(sizeof(r) == 80, "struct shikumi_cs_rec is 80 bytes");
	while (read_rec(0, &r)) {
		int sw = r.type == SHIKUMI_CS_SWITCH;
		int wk = r.type == SHIKUMI_CS_WAKEUP ||
			 r.type == SHIKUMI_CS_WAKEUP_NEW ||
			 r.type == SHIKUMI_CS_MIGRATE;

		printf("%s %u %llu %u %c %d %d %d %d %u %u %llu %d %d %s %s\n",
		       type_name(r.type), r.cpu, (unsigned long long)r.ts_ns,
		       r.flags, SHIKUMI_CS_STATE_CHARS[r.prev_state % 9],
		       r.prev_pid, r.prev_tgid, r.next_pid, r.next_tgid,
		       sw ? r.prev_nvcsw : 0, sw ? r.prev_nivcsw : 0,
		       r.type == SHIKUMI_CS_LOST ?
		       (unsigned long long)r.lost : 0ULL,
		       wk ? (int)r.cpu_from : -1, wk ? (int)r.cpu_to : -1,
		       r.prev_comm[0] ? r.prev_comm : "-",
		       r.next_comm[0] ? r.next_comm : "-");
	}
	return 0;
}

static int drain(const char *path, const char *out)
{
	static char buf[80 * 4096];
	char ready[4096];
	int fd, ofd;
	ssize_t n;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ofd < 0)
		die(out);
	snprintf(ready, sizeof(ready), "%s.ready", out);
	close(open(ready, O_WRONLY | O_CREAT, 0644));
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0)
			return 0;
		if (n % sizeof(struct shikumi_cs_rec)) {
			fprintf(stderr, "drain: a read of %zd bytes\n", n);
			return 1;
		}
		if (write(ofd, buf, n) != n)
			die("write");
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* spin for @ns of wall time */
static void spin(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void worker(const char *role, int iter, const char *dir)
{
	char path[4096], go[4096];
	FILE *f;
	int i, fd;

	for (i = 0; i < iter; i++) {
		spin(1000000);
		if (!strcmp(role, "sleeper"))
			usleep(500);
		else if (!strcmp(role, "yielder"))
			sched_yield();
	}
	snprintf(path, sizeof(path), "%s/%s.pid.tmp", dir, role);
	f = fopen(path, "w");
	if (!f)
		die(path);
	fprintf(f, "%d\n", getpid());
	fclose(f);
	snprintf(go, sizeof(go), "%s/%s.pid", dir, role);
	if (rename(path, go))
		die("rename");
	/*
	 * Block until the test has read our counters and opens the FIFO to
	 * write; then read to its end, so that the writer never finds the
	 * FIFO without readers (EPIPE) because we left too early.
	 */
	snprintf(go, sizeof(go), "%s/go", dir);
	fd = open(go, O_RDONLY);
	if (fd < 0)
		die(go);
	while (read(fd, path, sizeof(path)) > 0)
		;
	exit(0);
}

static int work(int iter, const char *dir)
{
	static const char *const roles[] = { "sleeper", "spinner", "yielder" };
	char go[4096];
	int i, status, ret = 0;

	snprintf(go, sizeof(go), "%s/go", dir);
	if (mkfifo(go, 0600) && errno != EEXIST)
		die(go);
	pin_cpu0();
	for (i = 0; i < 3; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (!pid)
			worker(roles[i], iter, dir);
	}
	for (i = 0; i < 3; i++) {
		if (wait(&status) < 0)
			die("wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "work: a worker ended with status %#x\n",
				status);
			ret = 1;
		}
	}
	return ret;
}

static int pingpong(long n)
{
	int ab[2], ba[2];
	char c = 0;
	pid_t pid;
	long i;

	if (pipe(ab) || pipe(ba))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		/* only the parent may hold the write end: EOF ends us */
		close(ab[1]);
		close(ba[0]);
		for (;;) {
			if (read(ab[0], &c, 1) != 1)
				exit(0);
			if (write(ba[1], &c, 1) != 1)
				exit(1);
		}
	}
	close(ab[0]);
	close(ba[1]);
	for (i = 0; i < n; i++) {
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			die("pingpong");
	}
	close(ab[1]);
	waitpid(pid, NULL, 0);
	return 0;
}

/* ---- poll and stall ------------------------------------------------------ */

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "cstest: " __VA_ARGS__);		\
		fputc('\n', stderr);					\
	}								\
} while (0)

/* write VAL to DIR/FILE */
static void put(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die(path);
	close(fd);
}

static int open_in(const char *dir, const char *file, int flags)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		die(path);
	return fd;
}

/* poll FD for reading for MS milliseconds: its revents, 0 on timeout */
static int poll_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n < 0)
		die("poll");
	return n ? p.revents : 0;
}

/* read FD (non-blocking) until nothing is left: false at end of file */
static int drain_nb(int fd)
{
	static char buf[64 * 1024];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	if (n < 0 && errno != EAGAIN)
		die("read");
	return n < 0;
}

/* one file: quiet, woken by the first record, EPOLLHUP at the end */
static void poll_one(const char *dir, const char *file)
{
	char pidstr[16];
	int p[2], fd, ev;
	uint64_t t0;
	pid_t child;
	char c = 'x';

	if (pipe(p))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (!child) {
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		usleep(1000);
		_exit(0);
	}
	while (proc_state(child) != 'S')
		usleep(1000);
	put(dir, "enable", "0");
	snprintf(pidstr, sizeof(pidstr), "%d", child);
	put(dir, "filter_pid", pidstr);
	put(dir, "enable", "1");
	fd = open_in(dir, file, O_RDONLY | O_NONBLOCK);
	drain_nb(fd);
	ev = poll_in(fd, 500);
	CHECK(!ev, "%s: poll() says 0x%x with no record to read", file, ev);

	t0 = now_ns();
	if (write(p[1], &c, 1) != 1)
		die("write");
	ev = poll_in(fd, 10000);
	CHECK(ev & POLLIN, "%s: poll() not readable 10 s after a traced task woke (0x%x)",
	      file, ev);
	printf("%s: readable %.0f ms after the wakeup", file, (now_ns() - t0) / 1e6);
	waitpid(child, NULL, 0);
	usleep(100000);
	CHECK(drain_nb(fd), "%s: end of file while tracing is on", file);

	put(dir, "enable", "0");
	ev = poll_in(fd, 5000);
	if (ev & POLLIN)
		CHECK(!drain_nb(fd), "%s: no end of file once tracing is off", file);
	ev = poll_in(fd, 5000);
	CHECK(ev & POLLHUP, "%s: poll() says 0x%x at the end of the trace, not POLLHUP",
	      file, ev);
	printf(", then POLLHUP\n");
	close(fd);
	close(p[0]);
	close(p[1]);
}

static int cmd_poll(const char *dir)
{
	poll_one(dir, "trace_pipe");
	poll_one(dir, "trace_raw");
	put(dir, "filter_pid", "none");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "decode"))
		return decode();
	if (argc == 4 && !strcmp(argv[1], "drain"))
		return drain(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "work"))
		return work(atoi(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "pingpong"))
		return pingpong(atol(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "poll"))
		return cmd_poll(argv[2]);
	fprintf(stderr,
		"usage: shikumi-cstest decode | drain FILE OUT | work ITER DIR | pingpong N | poll DIR\n");
	return 2;
}
