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
#include "stall.h"

#define CTL_SEC		10	/* what "at once" may take on a busy TCG guest */

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
	struct reader r = { .path = argv[1] };
	int st_ctl, st_rd, failures = 0;
	pid_t reader, ctl;

	if (argc < 4 || (argc - 2) % 2) {
		fprintf(stderr, "usage: shikumi-stall FILE CTL VALUE [CTL VALUE...]\n");
		return 2;
	}
	reader = stall_start(read_into_page, &r, &r.page);
	if (!reader) {
		printf("skip: no userfaultfd\n");
		return 0;
	}
	/* the reader sleeps in read(), in the fault on its buffer */
	ctl = spawn_controls(argv + 2, argc - 2);
	st_ctl = stall_wait_exit(ctl, CTL_SEC);
	kill(reader, SIGKILL);
	st_rd = stall_wait_exit(reader, STALL_WAIT_SEC);
	if (st_ctl < 0 && stall_wait_exit(ctl, STALL_WAIT_SEC) < 0)
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
