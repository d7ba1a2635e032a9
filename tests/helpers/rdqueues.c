// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-rdqueues: does I/O submitted on each CPU land on the hardware
 * queue the kernel maps that CPU to?  (tests/ramdisk.bats)
 *
 *   shikumi-rdqueues DEV [--queues N] [--reads N]
 *   shikumi-rdqueues DEV --trace [--reads N]
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
 *
 * --trace: the trace's per-queue rings, merged.  After a reset and a
 * drain of the trace, one thread per CPU (up to 16), each pinned to its
 * CPU, all released at once, reads READS blocks of its own with O_DIRECT.
 * Then trace_raw must hold, against the disk's own stats: every record
 * numbered from 0 with no gap, in completion order; each thread's
 * records its own blocks, each once, or dropped when its ring was full;
 * kept and dropped adding up to the requests completed.  Then each thread
 * reads one block more: the records dropped show now as gaps in seq,
 * just before those records, as many as stats counted dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shikumi/ramdisk.h>

#include "rdstats.h"

#define MAX_QUEUES	1024
#define MAX_THREADS	16
#define MAX_RECORDS	65536
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

/* A value from the disk's debugfs stats ("key value" lines). */
static long long stat_of(const char *name, const char *key)
{
	unsigned long long v = 0;
	int ret = rd_stat(name, key, &v);

	if (ret < 0)
		die("the disk's debugfs stats");
	if (ret) {
		violation("%s's stats: no %s", name, key);
		return -1;
	}
	return (long long)v;
}

/* Everything trace_raw holds now, into @rec; returns how many. */
static int drain(const char *name, struct shikumi_blk_trace *rec, int max)
{
	char path[256];
	ssize_t n;
	int fd, got = 0;

	snprintf(path, sizeof(path), "/sys/kernel/debug/shikumi/%s/trace_raw", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	while (got < max) {
		n = read(fd, rec + got, (size_t)(max - got) * sizeof(*rec));
		if (n < 0)
			die(path);
		if (!n)
			break;
		got += n / sizeof(*rec);
	}
	close(fd);
	return got;
}

struct reader {
	pthread_t thread;
	int cpu, fd, reads, first;	/* its blocks: first .. first + reads - 1 */
	pid_t tid;
	pthread_barrier_t *start;
};

static void *reader_fn(void *arg)
{
	struct reader *r = arg;
	cpu_set_t one;
	void *buf;
	int i;

	r->tid = gettid();
	CPU_ZERO(&one);
	CPU_SET(r->cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		die("sched_setaffinity");
	if (posix_memalign(&buf, BLK, BLK))
		die("posix_memalign");
	pthread_barrier_wait(r->start);
	for (i = 0; i < r->reads; i++)
		if (pread(r->fd, buf, BLK, (off_t)(r->first + i) * BLK) != BLK)
			die("pread");
	free(buf);
	return NULL;
}

/* Run @nr readers, all at once; each reads its @reads blocks from @first. */
static void run_readers(struct reader *rd, int nr, int reads, int first)
{
	pthread_barrier_t start;
	int t;

	pthread_barrier_init(&start, NULL, nr);
	for (t = 0; t < nr; t++) {
		rd[t].reads = reads;
		rd[t].first = first + t * reads;
		rd[t].start = &start;
		if (pthread_create(&rd[t].thread, NULL, reader_fn, &rd[t]))
			die("pthread_create");
	}
	for (t = 0; t < nr; t++)
		pthread_join(rd[t].thread, NULL);
	pthread_barrier_destroy(&start);
}

/* Each reader's records in @rec: its own blocks, once each; returns kept. */
static int check_readers(const struct reader *rd, int nr,
			 const struct shikumi_blk_trace *rec, int n)
{
	static unsigned char seen[MAX_THREADS * MAX_RECORDS / 16];
	int t, i, ours = 0;
	long long blk;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		for (t = 0; t < nr && rec[i].pid != rd[t].tid; t++)
			;
		if (t == nr)
			continue;
		blk = (long long)rec[i].sector / (BLK / 512) - rd[t].first;
		if (rec[i].op != SHIKUMI_BLK_OP_READ || rec[i].bytes != BLK ||
		    blk < 0 || blk >= rd[t].reads || rec[i].sector % (BLK / 512))
			violation("reader on cpu %d: a record not of its reads: seq %llu sector %llu bytes %u",
				  rd[t].cpu, (unsigned long long)rec[i].seq,
				  (unsigned long long)rec[i].sector, rec[i].bytes);
		else if (seen[rd[t].first + blk]++)
			violation("reader on cpu %d: block %lld traced twice", rd[t].cpu,
				  rd[t].first + blk);
		ours++;
	}
	return ours;
}

static int trace_check(int fd, const char *name, const cpu_set_t *allowed,
		       int reads)
{
	static struct shikumi_blk_trace rec[MAX_RECORDS];
	struct reader rd[MAX_THREADS];
	long long dropped, completed, records, gaps = 0, c0, d0;
	char path[256];
	int nr = 0, cpu, n, i, ours, after;
	FILE *f;

	for (cpu = 0; cpu < CPU_SETSIZE && nr < MAX_THREADS; cpu++)
		if (CPU_ISSET(cpu, allowed))
			rd[nr++] = (struct reader){ .cpu = cpu, .fd = fd };
	if (nr < 2) {
		fprintf(stderr, "rdqueues: --trace needs two CPUs or more, this task may use %d\n",
			nr);
		return 2;
	}
	if (reads < 1 || (long long)reads * (nr + 1) > MAX_RECORDS / 16) {
		fprintf(stderr, "rdqueues: --reads %d: too many for %d CPUs\n", reads, nr);
		return 2;
	}
	snprintf(path, sizeof(path), "/sys/block/%s/shikumi/reset", name);
	f = fopen(path, "we");
	if (!f || fputs("1\n", f) < 0 || fclose(f))
		die(path);
	drain(name, rec, MAX_RECORDS);
	c0 = stat_of(name, "completed");
	d0 = stat_of(name, "trace_dropped");

	run_readers(rd, nr, reads, 0);
	dropped = stat_of(name, "trace_dropped") - d0;
	completed = stat_of(name, "completed") - c0;
	records = stat_of(name, "trace_records");
	n = drain(name, rec, MAX_RECORDS);
	if (n != records)
		violation("trace_raw gave %d records, stats said %lld", n, records);
	for (i = 0; i < n; i++) {
		if (rec[i].seq != (unsigned long long)i)
			violation("record %d has seq %llu: a gap, or out of order", i,
				  (unsigned long long)rec[i].seq);
		if (i && rec[i].completed_ns < rec[i - 1].completed_ns)
			violation("record %d completed before record %d", i, i - 1);
	}
	ours = check_readers(rd, nr, rec, n);
	if (ours + dropped != (long long)nr * reads || ours != n || n + dropped != completed)
		violation("%d of our %d reads kept, %lld dropped; %d kept in all, %lld completed",
			  ours, nr * reads, dropped, n, completed);

	/* one read more each, one after the other: the drops show as gaps */
	for (i = 0; i < nr; i++)
		run_readers(&rd[i], 1, 1, nr * reads + i);
	after = drain(name, rec, MAX_RECORDS);
	for (i = 0; i < after; i++) {
		unsigned long long want = (i ? rec[i - 1].seq + 1 : (unsigned long long)n);

		if (rec[i].seq < want)
			violation("seq %llu after %llu", (unsigned long long)rec[i].seq,
				  want - 1);
		else
			gaps += rec[i].seq - want;
	}
	if (gaps != dropped || check_readers(rd, nr, rec, after) != nr)
		violation("then %d more records, %lld numbers skipped, %lld dropped",
			  after, gaps, dropped);
	printf("rdqueues %s --trace: %d readers of %d blocks, one per CPU: %d records kept in order, %lld dropped, %lld seq skipped after; %d violations\n",
	       name, nr, reads, n, dropped, gaps, failures);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	static cpu_set_t map[MAX_QUEUES];
	static long long before[MAX_QUEUES], after[MAX_QUEUES];
	int nq, want_queues = -1, reads = 64, cpu, q, i, fd, tested = 0;
	bool trace = false;
	const char *dev, *name;
	cpu_set_t allowed, one;
	void *buf;

	if (argc < 2) {
		fprintf(stderr, "usage: shikumi-rdqueues DEV [--queues N] [--reads N] [--trace]\n");
		return 2;
	}
	dev = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--trace"))
			trace = true;
		else if (!strcmp(argv[i], "--queues") && i + 1 < argc)
			want_queues = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--reads") && i + 1 < argc)
			reads = atoi(argv[++i]);
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
	if (trace)
		return trace_check(fd, name, &allowed, reads);
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
