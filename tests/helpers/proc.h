/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says of a process, for the helpers.
 */
#ifndef SHIKUMI_TESTS_PROC_H
#define SHIKUMI_TESTS_PROC_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* @pid's state letter ('S' asleep, 'Z' a zombie...); 0 if unreadable */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the comm, in parentheses, may hold spaces and ')' */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

#endif
