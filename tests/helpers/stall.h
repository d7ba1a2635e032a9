/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A user buffer whose first touch never completes, for the helpers' tests
 * that a module holds no lock while it copies to or from user space: a
 * page registered with userfaultfd that nobody serves, as a FUSE mapping
 * whose daemon hangs.  Registrations do not pass to a child over fork(),
 * so the faulting call must run in a thread of the process that made it.
 */
#ifndef SHIKUMI_TESTS_STALL_H
#define SHIKUMI_TESTS_STALL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#define STALL_PAGE	4096

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

#endif
