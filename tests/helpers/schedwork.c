// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-schedwork: workloads for tests/cli-sched.bats, to be run under
 * 'shikumi sched record'.
 *
 *   shikumi-schedwork spawn N MS PIDFILE
 *	fork N workers on CPU 0.  Each runs MS ms of CPU in 5 rounds, with a
 *	1 ms sleep after each round (voluntary switches; the workers also
 *	preempt one another: involuntary ones), then blocks in pause() for
 *	good.  Once every worker is asleep in pause(), so that its switch
 *	counters are final, their pids go to PIDFILE, one a line, and
 *	shikumi-schedwork exits: the recording ends there.  The workers stay
 *	until killed.
 *   shikumi-schedwork spin N MS
 *	N processes, on any CPU, each running MS ms of CPU; wait for them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while (now_ns() < end)
		;
}

static void worker(int note, uint64_t ms)
{
	struct timespec nap = { 0, 1000000 };
	cpu_set_t set;
	pid_t self = getpid();
	int fd, i;

	/* nothing of the caller's (bats' fd 3, a pipe to 'run') stays open */
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	for (i = 3; i < 1024; i++)
		if (i != note)
			close(i);
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(1);
	for (i = 0; i < 5; i++) {
		spin_ns(ms * 1000000 / 5);
		nanosleep(&nap, NULL);
	}
	if (write(note, &self, sizeof(self)) != sizeof(self))
		_exit(1);
	close(note);
	for (;;)
		pause();
}

static int spawn(int n, uint64_t ms, const char *pidfile)
{
	pid_t *pid = calloc((size_t)n, sizeof(*pid)), w;
	int note[2], i, got;
	FILE *f;

	if (!pid || pipe(note)) {
		perror("shikumi-schedwork");
		return 1;
	}
	for (i = 0; i < n; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			perror("fork");
			return 1;
		}
		if (!pid[i]) {
			close(note[0]);
			worker(note[1], ms);
		}
	}
	close(note[1]);
	for (got = 0; got < n; got++) {
		if (read(note[0], &w, sizeof(w)) != sizeof(w)) {
			fprintf(stderr, "shikumi-schedwork: a worker died\n");
			return 1;
		}
		/* after its note, a worker's only sleep is pause() */
		while (proc_state(w) != 'S')
			sched_yield();
	}
	f = fopen(pidfile, "w");
	if (!f) {
		perror(pidfile);
		return 1;
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%d\n", pid[i]);
	if (fclose(f)) {
		perror(pidfile);
		return 1;
	}
	return 0;
}

static int spin(int n, uint64_t ms)
{
	int i;

	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (!p) {
			spin_ns(ms * 1000000);
			_exit(0);
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "spawn"))
		return spawn(atoi(argv[2]), strtoull(argv[3], NULL, 10), argv[4]);
	if (argc == 4 && !strcmp(argv[1], "spin"))
		return spin(atoi(argv[2]), strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: shikumi-schedwork spawn N MS PIDFILE | spin N MS\n");
	return 2;
}
