// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-rdqueues: does I/O submitted on each CPU land on the hardware
 * queue the kernel maps that CPU to?  (tests/ramdisk.bats)
 *
 *   shikumi-rdqueues DEV [--queues N] [--reads N]
 *
 * Reads the kernel's own map, /sys/block/NAME/mq/Q/cpu_list for every
 * hardware queue Q, and checks it: every CPU this task may run on is in
 * exactly one queue's list (and there are N queues, with --queues).  Then,
 * for each such CPU, pinned to it with sched_setaffinity(), it reads
 * READS (default 64) 4 KiB blocks of DEV with O_DIRECT, each a request,
 * and reads the driver's per-queue counts (debugfs "queues") before and
 * after: the queue cpu_list names must have served at least READS more,
 * and every other queue fewer than READS (nobody else's I/O is ours).
 * One line per CPU, a summary last; exit status 1 on any violation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_QUEUES	1024
#define BLK		4096

static int failures;

#define violation(...) do {					\
	failures++;						\
	fprintf(stderr, "rdqueues: " __VA_ARGS__);		\
	fputc('\n', stderr);					\
} while (0)

static void die(const char *what)
{
	fprintf(stderr, "rdqueues: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Parse a cpu_list ("0-3,5") into @set. */
static void parse_cpu_list(const char *s, cpu_set_t *set)
{
	char *end;

	CPU_ZERO(set);
	while (*s && *s != '\n') {
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			break;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			s = end;
		}
		for (; a <= b && a < CPU_SETSIZE; a++)
			CPU_SET(a, set);
		if (*s == ',')
			s++;
	}
}

/* The queues' cpu_lists; returns how many queues. */
static int read_map(const char *name, cpu_set_t *map)
{
	char path[256], buf[4096];
	int q;

	for (q = 0; q < MAX_QUEUES; q++) {
		FILE *f;

		snprintf(path, sizeof(path), "/sys/block/%s/mq/%d/cpu_list", name, q);
		f = fopen(path, "re");
		if (!f)
			break;
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		parse_cpu_list(buf, &map[q]);
	}
	return q;
}

/* The driver's count of requests each queue served. */
static void read_served(const char *name, long long *served, int nq)
{
	char path[256], line[128];
	long long n;
	int q, seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/shikumi/%s/queues", name);
	f = fopen(path, "re");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d served %lld", &q, &n) != 2 || q < 0 || q >= nq) {
			violation("%s: unexpected line: %s", path, line);
			continue;
		}
		served[q] = n;
		seen++;
	}
	fclose(f);
	if (seen != nq)
		violation("%s has %d queues, mq/ has %d", path, seen, nq);
}

int main(int argc, char **argv)
{
	static cpu_set_t map[MAX_QUEUES];
	static long long before[MAX_QUEUES], after[MAX_QUEUES];
	int nq, want_queues = -1, reads = 64, cpu, q, i, fd, tested = 0;
	const char *dev, *name;
	cpu_set_t allowed, one;
	void *buf;

	if (argc < 2) {
		fprintf(stderr, "usage: shikumi-rdqueues DEV [--queues N] [--reads N]\n");
		return 2;
	}
	dev = argv[1];
	for (i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--queues"))
			want_queues = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--reads"))
			reads = atoi(argv[i + 1]);
	}
	name = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	nq = read_map(name, map);
	if (!nq)
		die("no /sys/block/NAME/mq/0/cpu_list");
	if (want_queues >= 0 && nq != want_queues)
		violation("%d hardware queues, want %d", nq, want_queues);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		die("sched_getaffinity");
	fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		die(dev);
	if (posix_memalign(&buf, BLK, BLK))
		die("posix_memalign");

	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		int home = -1, in = 0;

		if (!CPU_ISSET(cpu, &allowed))
			continue;
		for (q = 0; q < nq; q++) {
			if (CPU_ISSET(cpu, &map[q])) {
				home = q;
				in++;
			}
		}
		if (in != 1) {
			violation("cpu %d is in %d queues' cpu_list", cpu, in);
			continue;
		}
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			die("sched_setaffinity");
		read_served(name, before, nq);
		for (i = 0; i < reads; i++)
			if (pread(fd, buf, BLK, (off_t)i * BLK) != BLK)
				die("pread");
		if (sched_getcpu() != cpu)
			violation("pinned to cpu %d, running on %d", cpu, sched_getcpu());
		read_served(name, after, nq);
		printf("cpu %d: cpu_list puts it on queue %d; served:", cpu, home);
		for (q = 0; q < nq; q++) {
			long long d = after[q] - before[q];

			printf(" q%d +%lld", q, d);
			if (q == home && d < reads)
				violation("cpu %d: its queue %d served %lld of our %d reads",
					  cpu, q, d, reads);
			if (q != home && d >= reads)
				violation("cpu %d: queue %d, not its own %d, served %lld",
					  cpu, q, home, d);
		}
		printf("\n");
		tested++;
	}
	sched_setaffinity(0, sizeof(allowed), &allowed);
	close(fd);
	free(buf);
	printf("rdqueues %s: %d hardware queues, %d CPUs, %d reads each landed on the queue cpu_list names, %d violations\n",
	       name, nq, tested, reads, failures);
	return failures || !tested ? 1 : 0;
}
