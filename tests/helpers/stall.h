/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user buffer whose first touch never completes, for the helpers' tests
 * that a module holds no lock while it copies to or from user space: a
 * page registered with userfaultfd that nobody serves, as a FUSE mapping
 * whose daemon hangs.  Registrations do not pass to a child over fork(),
 * so the faulting call runs in a thread of the process that made it:
 * stall_start() forks that process and returns once the call sleeps.
 */
#ifndef SHIKUMI_TESTS_STALL_H
#define SHIKUMI_TESTS_STALL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#define STALL_PAGE	4096
#define STALL_WAIT_SEC	60	/* for the fault, or a process's end */

static void stall_die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(2);
}

/* the page, and its userfaultfd in *UFFD; NULL without userfaultfd */
static void *stalling_page(int *uffd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	void *page;

	*uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (*uffd < 0 && (errno == ENOSYS || errno == EPERM))
		return NULL;
	if (*uffd < 0 || ioctl(*uffd, UFFDIO_API, &api))
		stall_die("userfaultfd");
	page = mmap(NULL, STALL_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		stall_die("mmap");
	reg.range.start = (unsigned long)page;
	reg.range.len = STALL_PAGE;
	if (ioctl(*uffd, UFFDIO_REGISTER, &reg))
		stall_die("UFFDIO_REGISTER");
	return page;
}

/* until a thread faults on the page (true), or SEC seconds pass */
static int stall_wait_fault(int uffd, unsigned int sec)
{
	struct pollfd pu = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	return poll(&pu, 1, sec * 1000) == 1 &&
	       read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
	       msg.event == UFFD_EVENT_PAGEFAULT;
}

/*
 * The stalled call's process: @body(@arg) runs in a thread whose buffer,
 * *@page, is the stalling page; this thread waits for its fault and tells
 * the parent through @ready: 'y' once the call sleeps in it, 's' without
 * userfaultfd.  Then it waits for SIGKILL.
 */
static void __attribute__((noreturn))
stall_child(int ready, void *(*body)(void *), void *arg, void **page)
{
	pthread_t t;
	int uffd;

	*page = stalling_page(&uffd);
	if (!*page) {
		if (write(ready, "s", 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (pthread_create(&t, NULL, body, arg))
		stall_die("pthread_create");
	if (!stall_wait_fault(uffd, STALL_WAIT_SEC)) {
		fprintf(stderr, "the stalled call never faulted on its buffer\n");
		_exit(1);
	}
	if (write(ready, "y", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/*
 * Fork the stalled call's process (stall_child()): its pid, once the call
 * sleeps in the fault; 0 without userfaultfd.  Exits 1 if it never does.
 */
static pid_t stall_start(void *(*body)(void *), void *arg, void **page)
{
	struct pollfd pr;
	char c = 0;
	int p[2];
	pid_t pid;

	if (pipe(p))
		stall_die("pipe");
	pid = fork();
	if (pid < 0)
		stall_die("fork");
	if (!pid) {
		close(p[0]);
		stall_child(p[1], body, arg, page);
	}
	close(p[1]);
	pr.fd = p[0];
	pr.events = POLLIN;
	if (poll(&pr, 1, (STALL_WAIT_SEC + 10) * 1000) != 1 ||
	    read(p[0], &c, 1) != 1 || c != 'y') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (c == 's')
			return 0;
		fprintf(stderr, "the call did not stall in its buffer's fault\n");
		exit(1);
	}
	close(p[0]);
	return pid;
}

/* PID's wait status if it ends within SEC seconds, else -1 */
static int stall_wait_exit(pid_t pid, unsigned int sec)
{
	struct timespec now, end;
	int status;
	pid_t r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += sec;
	do {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0)
			stall_die("waitpid");
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec ||
		 (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
	return -1;
}

#endif
