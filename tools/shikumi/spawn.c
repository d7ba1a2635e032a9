// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI's one way to start a process: a program to exec (fio, modprobe,
 * the command 'sched record' traces) or a function of ours in a child (the
 * page-table experiments' worker, the scheduler experiments' processes).
 * A child may be pinned to a CPU, die with shikumi, write its stdout to a
 * file, and wait at a gate until the parent has set up its tracing.  Every
 * step that fails undoes the steps before it: no pipe, no child is left.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shikumi.h"

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int gate_open(struct gate *g)
{
	int p[2];

	g->r = -1;
	g->w = -1;
	if (pipe2(p, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		return -1;
	}
	g->r = p[0];
	g->w = p[1];
	return 0;
}

/* Let @n children waiting at @g go at once; 0, or errno. */
int gate_release(struct gate *g, int n)
{
	char go[64];
	int e = 0;

	memset(go, 'g', sizeof(go));
	while (n > 0 && !e) {
		ssize_t w = write(g->w, go, n < (int)sizeof(go) ? (size_t)n : sizeof(go));

		if (w > 0)
			n -= (int)w;
		else if (w < 0 && errno != EINTR)
			e = errno;
	}
	gate_close(g);
	return e;
}

/* Children still waiting at @g exit without running anything. */
void gate_close(struct gate *g)
{
	close_fd(&g->r);
	close_fd(&g->w);
}

/* Run the calling process on @cpu only: 0, or -1 with errno */
int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* In the child: the steps of @how in order, then exec or @how->fn. */
static void __attribute__((noreturn)) child_run(const struct spawn *how, int err)
{
	ssize_t n;
	char c;
	int e, fd;

	if (how->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (how->pin && pin_to(how->cpu))
		_exit(126);
	if (how->out) {
		fd = open(how->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", prog_name, how->out,
				strerror(errno));
			_exit(126);
		}
	}
	if (how->err) {
		fd = open(how->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
			fprintf(stderr, "%s: cannot write %s: %s\n", prog_name, how->err,
				strerror(errno));
			_exit(126);
		}
	}
	if (how->gate) {
		close(how->gate->w);
		do
			n = read(how->gate->r, &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127);	/* shikumi gave up */
	}
	if (!how->argv) {
		how->fn(how->index, how->arg);
		_exit(0);
	}
	execvp(how->argv[0], how->argv);
	e = errno;
	if (write(err, &e, sizeof(e)) != sizeof(e))
		_exit(127);
	_exit(127);
}

/*
 * Start a child as @how says; 0, or -1 after saying why, with nothing left
 * behind.  A program's exec has not necessarily happened yet on return:
 * child_exec_error() waits for it.
 */
int spawn(const struct spawn *how, struct child *c)
{
	int ep[2] = { -1, -1 };

	c->pid = -1;
	c->err = -1;
	if (how->argv && pipe2(ep, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0) {
		p_err("fork: %s", strerror(errno));
		close_fd(&ep[0]);
		close_fd(&ep[1]);
		return -1;
	}
	if (!c->pid) {
		close_fd(&ep[0]);
		child_run(how, ep[1]);
	}
	close_fd(&ep[1]);
	c->err = ep[0];
	return 0;
}

/*
 * Wait until a program's child has exec'd (after its gate, if it has one):
 * 0, or exec's errno.  For a function's child, 0 at once.
 */
int child_exec_error(struct child *c)
{
	ssize_t n;
	int e = 0;

	if (c->err < 0)
		return 0;
	do
		n = read(c->err, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close_fd(&c->err);
	return n == sizeof(e) ? e : 0;
}

/* A wait status as a shell's $?: the exit code, or 128 + the signal */
int exit_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/*
 * Reap the child: with @block, wait for it; without, only if it has
 * exited.  1 when reaped (its wait status in *@status, its resource usage
 * in *@ru, each if not NULL), 0 while it runs, -1 on error.
 */
int child_reap(struct child *c, bool block, int *status, struct rusage *ru)
{
	int st;
	pid_t p;

	if (c->pid <= 0)
		return -1;
	do
		p = wait4(c->pid, &st, block ? 0 : WNOHANG, ru);
	while (p < 0 && errno == EINTR);
	if (!p)
		return 0;
	close_fd(&c->err);
	c->pid = -1;
	if (p < 0) {
		p_err("wait: %s", strerror(errno));
		return -1;
	}
	if (status)
		*status = st;
	return 1;
}

/* Kill the child, if it is still there, and reap it. */
void child_kill(struct child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		child_reap(c, true, NULL, NULL);
	}
	close_fd(&c->err);
}

/*
 * Run @argv, its stdout into @out (or /dev/null), and wait for it: its
 * exit code, 127 if it could not be run (said on stderr), -1 on error.
 */
int run_prog(char *const *argv, const char *out)
{
	return run_prog_err(argv, out, NULL);
}

/* The same, its stderr into @err too (NULL: ours). */
int run_prog_err(char *const *argv, const char *out, const char *err)
{
	struct spawn how = { .argv = argv, .out = out ? out : "/dev/null", .err = err };
	struct child c;
	int e, status;

	if (spawn(&how, &c))
		return -1;
	e = child_exec_error(&c);
	if (e)
		p_err("cannot run %s: %s", argv[0], strerror(e));
	if (child_reap(&c, true, &status, NULL) < 0)
		return -1;
	return exit_code(status);
}
