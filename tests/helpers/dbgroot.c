// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-dbgroot: the modules that share /sys/kernel/debug/shikumi/ go
 * in and out at once, and the directory must hold every loaded module's
 * files and go with the last one.
 *
 *   shikumi-dbgroot CYCLES KO...
 *
 * Each KO (shikumi_ptdump, shikumi_cstrace, shikumi_ramdisk or
 * shikumi_pgcache, none of them loaded) gets a process of its own that
 * loads it with finit_module(2), reads one of its debugfs files, and
 * unloads it with delete_module(2),
 * CYCLES times, beside the others.  So the shared directory is created
 * and removed while other modules add and remove their own directories in
 * it.  Violations: a load refused, a loaded module's file missing or
 * unreadable, and at the end, with every module gone, the directory left.
 * It also counts how often a process found the directory gone just after
 * its own unload: if never, the modules never raced for it and the run
 * proved little (reported, not a failure: one CPU may serialise them).
 *
 * Exit status: 0 clean, 1 a violation, 2 an error of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROOT	"/sys/kernel/debug/shikumi"
#define MAX_KO	4

struct ko_kind {
	const char *name;	/* module name */
	const char *params;
	const char *file;	/* one of its debugfs files */
};

static const struct ko_kind kinds[] = {
	{ "shikumi_ptdump", "", ROOT "/ptdump/status" },
	{ "shikumi_cstrace", "", ROOT "/cstrace/stats" },
	{ "shikumi_ramdisk", "nr_disks=1 size_mb=16", ROOT "/shikumi-ram0/stats" },
	{ "shikumi_pgcache", "", ROOT "/pgcache/status" },
};

struct counts {
	unsigned long loads, root_gone;
};

static const struct ko_kind *kind_of(const char *ko)
{
	const char *base = strrchr(ko, '/');
	size_t k;

	base = base ? base + 1 : ko;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strncmp(base, kinds[k].name, strlen(kinds[k].name)) &&
		    !strcmp(base + strlen(kinds[k].name), ".ko"))
			return &kinds[k];
	return NULL;
}

static int read_file(const char *path)
{
	char buf[4096];
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	do
		r = read(fd, buf, sizeof(buf));
	while (r > 0);
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* the cycles of one module; returns the exit status */
static int run_cycles(const struct ko_kind *k, int ko_fd, int cycles,
		      struct counts *c)
{
	struct stat st;
	int i, r;

	for (i = 1; i <= cycles; i++) {
		if (syscall(SYS_finit_module, ko_fd, k->params, 0)) {
			printf("dbgroot: cycle %d: loading %s: %s\n", i, k->name,
			       strerror(errno));
			return 1;
		}
		c->loads++;
		r = read_file(k->file);
		if (r) {
			printf("dbgroot: cycle %d: %s loaded, but %s: %s\n", i,
			       k->name, k->file, strerror(-r));
			return 1;
		}
		while (syscall(SYS_delete_module, k->name, O_NONBLOCK)) {
			/* a reader of another module's file may hold us */
			if (errno != EWOULDBLOCK && errno != EAGAIN) {
				printf("dbgroot: cycle %d: unloading %s: %s\n",
				       i, k->name, strerror(errno));
				return 1;
			}
			usleep(1000);
		}
		if (stat(ROOT, &st))
			c->root_gone++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct ko_kind *k[MAX_KO];
	int fds[MAX_KO], n, i, status, bad = 0;
	unsigned long loads = 0, gone = 0;
	struct counts *c;
	struct stat st;

	if (argc < 3 || argc - 2 > MAX_KO || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: shikumi-dbgroot CYCLES KO...\n");
		return 2;
	}
	c = mmap(NULL, sizeof(*c) * MAX_KO, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (i = 0; i < argc - 2; i++) {
		k[i] = kind_of(argv[i + 2]);
		fds[i] = open(argv[i + 2], O_RDONLY | O_CLOEXEC);
		if (!k[i] || fds[i] < 0) {
			fprintf(stderr, "dbgroot: %s: not a module this test knows\n",
				argv[i + 2]);
			return 2;
		}
	}
	fflush(stdout);
	for (i = 0; i < argc - 2; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (!pid)
			_exit(run_cycles(k[i], fds[i], n, &c[i]));
	}
	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	for (i = 0; i < argc - 2; i++) {
		loads += c[i].loads;
		gone += c[i].root_gone;
	}
	if (!bad && !stat(ROOT, &st)) {
		printf("dbgroot: every module unloaded, but %s is left\n", ROOT);
		bad = 1;
	}
	printf("dbgroot: %lu loads of %d modules at once; %s gone after %lu of the unloads%s\n",
	       loads, argc - 2, ROOT, gone, bad ? "; FAILED" : "");
	return bad;
}
