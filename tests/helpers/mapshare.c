// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-mapshare FILE PFNS: the oracle of 'shikumi cache demo mmap',
 * from /proc alone.  Maps FILE MAP_SHARED in this process and in a forked
 * child, reads every page in both, and takes each page's PFN from both
 * processes' /proc/PID/pagemap; writes this process's PFNs to PFNS, one a
 * line, in page order.  Then stores into every page through its mapping
 * and msyncs, counting the pages /proc/kpageflags calls dirty before the
 * store, after it and after msync(MS_SYNC).  Prints "key value" lines:
 * pages, present (in both), same (one PFN in both), mapped (KPF_MMAP),
 * dirty_before, dirty_stored, dirty_synced.  Root only (PFNs).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kernel-page-flags.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096UL
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN		((1ULL << 55) - 1)

static void die(const char *what)
{
	fprintf(stderr, "shikumi-mapshare: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Map @path shared and read every page; the mapping. */
static unsigned char *map_read(const char *path, size_t size)
{
	volatile unsigned char *p;
	size_t i;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		die(path);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	/* as the demo's: 4 KiB pages, which khugepaged leaves alone */
	madvise((void *)p, size, MADV_NOHUGEPAGE);
	for (i = 0; i < size; i += PAGE)
		(void)p[i];
	return (unsigned char *)p;
}

/* This process's PFN of each page of @p (0: not present). */
static void pfns_of(const unsigned char *p, size_t pages, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	size_t i;

	if (fd < 0)
		die("/proc/self/pagemap");
	if (pread(fd, pfn, pages * 8, (off_t)((uintptr_t)p / PAGE * 8)) != (ssize_t)(pages * 8))
		die("reading /proc/self/pagemap");
	close(fd);
	for (i = 0; i < pages; i++)
		pfn[i] = pfn[i] & PM_PRESENT ? pfn[i] & PM_PFN : 0;
}

/* Pages among @pfn whose /proc/kpageflags has @bit. */
static size_t count_flag(const uint64_t *pfn, size_t pages, int bit)
{
	int fd = open("/proc/kpageflags", O_RDONLY);
	size_t i, n = 0;
	uint64_t f;

	if (fd < 0)
		die("/proc/kpageflags");
	for (i = 0; i < pages; i++) {
		if (!pfn[i])
			continue;
		if (pread(fd, &f, 8, (off_t)(pfn[i] * 8)) != 8)
			die("reading /proc/kpageflags");
		n += !!(f & (1ULL << bit));
	}
	close(fd);
	return n;
}

/* The child: its PFNs down @out; then it waits for @in to close. */
static void child(const char *path, size_t size, int in, int out)
{
	size_t pages = size / PAGE;
	uint64_t *pfn = calloc(pages, 8);
	char c;

	if (!pfn)
		die("calloc");
	pfns_of(map_read(path, size), pages, pfn);
	if (write(out, pfn, pages * 8) != (ssize_t)(pages * 8))
		die("write");
	while (read(in, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void child_pfns(int fd, uint64_t *pfn, size_t pages)
{
	size_t got = 0;
	ssize_t n;

	while (got < pages * 8) {
		n = read(fd, (char *)pfn + got, pages * 8 - got);
		if (n <= 0)
			die("reading the child's PFNs");
		got += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	int down[2], up[2];
	uint64_t *a, *b;
	size_t size, pages, i, present = 0, same = 0;
	unsigned char *p;
	struct stat st;
	FILE *f;
	pid_t pid;

	if (argc != 3 || stat(argv[1], &st)) {
		fprintf(stderr, "usage: shikumi-mapshare FILE PFNS\n");
		return 2;
	}
	size = (size_t)st.st_size / PAGE * PAGE;
	pages = size / PAGE;
	a = calloc(pages, 8);
	b = calloc(pages, 8);
	if (!a || !b || pipe(down) || pipe(up))
		die("setup");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		close(down[1]);	/* or its read would never see the end */
		close(up[0]);
		child(argv[1], size, down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	child_pfns(up[0], b, pages);
	p = map_read(argv[1], size);
	pfns_of(p, pages, a);
	for (i = 0; i < pages; i++) {
		present += a[i] && b[i];
		same += a[i] && a[i] == b[i];
	}
	f = fopen(argv[2], "w");
	if (!f)
		die(argv[2]);
	for (i = 0; i < pages; i++)
		fprintf(f, "%llu\n", (unsigned long long)a[i]);
	if (fclose(f))
		die(argv[2]);
	printf("pages %zu\npresent %zu\nsame %zu\n", pages, present, same);
	printf("mapped %zu\n", count_flag(a, pages, KPF_MMAP));
	printf("dirty_before %zu\n", count_flag(a, pages, KPF_DIRTY));
	for (i = 0; i < size; i += PAGE)
		p[i] ^= 0xa5;
	printf("dirty_stored %zu\n", count_flag(a, pages, KPF_DIRTY));
	if (msync(p, size, MS_SYNC))
		die("msync");
	printf("dirty_synced %zu\n", count_flag(a, pages, KPF_DIRTY));
	close(down[1]);
	if (waitpid(pid, NULL, 0) != pid)
		die("waitpid");
	return 0;
}
