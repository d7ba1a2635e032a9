// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-stall: a reader whose buffer faults, and never resolves, must
 * hold nothing the module's controls wait for.
 *
 *   shikumi-stall FILE CTL VALUE [CTL VALUE...]
 *
 * A thread of a child process reads FILE into a page registered with
 * userfaultfd that nobody serves (as a FUSE mapping whose daemon hangs),
 * and sleeps in the fault, inside the module's read().  Then another
 * process writes each VALUE to its CTL, in order: all of it must complete
 * within 10 s.  Then SIGKILL must end the reader.  FILE must have data to
 * read, or the reader sleeps waiting for it, not in the fault.
 *
 * Prints "ok", or "skip: no userfaultfd"; exit status 1 on a failure.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include "stall.h"

#define CTL_SEC		10	/* what "at once" may take on a busy TCG guest */
#define WAIT_SEC	60

struct reader {
	const char *path;
	void *page;
};

static void *read_into_page(void *arg)
{
	struct reader *r = arg;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		stall_die(r->path);
	if (read(fd, r->page, STALL_PAGE) < 0)
		stall_die("the stalled read failed");
	fprintf(stderr, "stall: the stalled read of %s returned\n", r->path);
	exit(1);
}

/* the reader's process: tells READY 'y' once its thread sleeps in the fault */
static void __attribute__((noreturn)) reader_child(const char *path, int ready)
{
	struct reader r = { .path = path };
	pthread_t t;
	int uffd;

	r.page = stalling_page(&uffd);
	if (!r.page) {
		if (write(ready, "s", 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (pthread_create(&t, NULL, read_into_page, &r))
		stall_die("pthread_create");
	if (!stall_wait_fault(uffd, WAIT_SEC)) {
		fprintf(stderr, "stall: the read of %s never faulted on its buffer\n", path);
		_exit(1);
	}
	if (write(ready, "y", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* PID's wait status within SEC seconds, or -1 */
static int wait_sec(pid_t pid, unsigned int sec)
{
	uint64_t end = now_ns() + sec * 1000000000ULL;
	int status;

	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(20000);
	} while (now_ns() < end);
	return -1;
}

/* write each VALUE to its CTL, in a child: exit 0 if all went in */
static pid_t spawn_controls(char **pairs, int n)
{
	pid_t pid = fork();
	int i, fd;

	if (pid < 0)
		stall_die("fork");
	if (pid)
		return pid;
	for (i = 0; i + 1 < n; i += 2) {
		ssize_t len = strlen(pairs[i + 1]);

		fd = open(pairs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pairs[i + 1], len) != len) {
			fprintf(stderr, "stall: writing '%s' to %s: %s\n",
				pairs[i + 1], pairs[i], strerror(errno));
			_exit(1);
		}
		close(fd);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct pollfd pr;
	int p[2], st_ctl, st_rd, failures = 0;
	pid_t reader, ctl;
	char c = 0;

	if (argc < 4 || (argc - 2) % 2) {
		fprintf(stderr, "usage: shikumi-stall FILE CTL VALUE [CTL VALUE...]\n");
		return 2;
	}
	if (pipe(p))
		stall_die("pipe");
	reader = fork();
	if (reader < 0)
		stall_die("fork");
	if (!reader) {
		close(p[0]);
		reader_child(argv[1], p[1]);
	}
	close(p[1]);
	pr.fd = p[0];
	pr.events = POLLIN;
	if (poll(&pr, 1, (WAIT_SEC + 10) * 1000) != 1 || read(p[0], &c, 1) != 1 ||
	    c != 'y') {
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
		if (c == 's') {
			printf("skip: no userfaultfd\n");
			return 0;
		}
		fprintf(stderr, "stall: the reader did not stall in its buffer's fault\n");
		return 1;
	}
	/* the reader sleeps in read(), in the fault on its buffer */
	ctl = spawn_controls(argv + 2, argc - 2);
	st_ctl = wait_sec(ctl, CTL_SEC);
	kill(reader, SIGKILL);
	st_rd = wait_sec(reader, WAIT_SEC);
	if (st_ctl < 0 && wait_sec(ctl, WAIT_SEC) < 0)
		st_ctl = -2;
	if (st_ctl < 0) {
		fprintf(stderr, "stall: the controls waited while a reader of %s faulted%s\n",
			argv[1], st_ctl == -1 ? ", until the reader was killed" : "");
		failures++;
	} else if (!WIFEXITED(st_ctl) || WEXITSTATUS(st_ctl)) {
		fprintf(stderr, "stall: the controls failed (status 0x%x)\n", st_ctl);
		failures++;
	}
	if (st_rd < 0 || !WIFSIGNALED(st_rd) || WTERMSIG(st_rd) != SIGKILL) {
		fprintf(stderr, "stall: the reader did not end by SIGKILL (status 0x%x)\n",
			st_rd);
		failures++;
	}
	if (!failures)
		printf("ok\n");
	return failures ? 1 : 0;
}
