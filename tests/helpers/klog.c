// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-klog: the kernel log since a mark, for every test's setup and
 * teardown (tests/common.bash), in one process instead of a pipe of dmesg,
 * wc, head and tail run several times per test.
 *
 *   shikumi-klog mark		print the sequence number the next record
 *				of the kernel log will get
 *   shikumi-klog since SEQ	print every record from SEQ on, as dmesg
 *				prints them ("[  12.345678] text"); exit 2,
 *				saying so, if any of them is gone (the log
 *				buffer wrapped)
 *
 * Records come from /dev/kmsg, whose sequence numbers, unlike line counts,
 * tell a record that was overwritten from one that never was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a record is at most 1 KiB of text plus its dictionary, escaped */
#define REC_MAX 8192

struct rec {
	uint64_t seq;
	uint64_t usec;
	const char *text;	/* up to the newline, escaped as /dev/kmsg does */
	size_t len;
};

static int parse(char *buf, size_t n, struct rec *r)
{
	char *semi, *end, *nl;
	unsigned long long seq, usec;
	int prio;

	semi = memchr(buf, ';', n);
	if (!semi)
		return -1;
	*semi = '\0';
	if (sscanf(buf, "%d,%llu,%llu", &prio, &seq, &usec) != 3)
		return -1;
	r->seq = seq;
	r->usec = usec;
	r->text = semi + 1;
	end = buf + n;
	nl = memchr(semi + 1, '\n', end - (semi + 1));
	r->len = (nl ? nl : end) - (semi + 1);
	return 0;
}

/*
 * Read the next record: 1 with one in *r, 0 at the end of the log, -1 on
 * error.  EPIPE (records overwritten since the last read) is reported
 * through *lost and the read goes on from the oldest record left.
 */
static int next_rec(int fd, char *buf, struct rec *r, int *lost)
{
	ssize_t n;

	for (;;) {
		n = read(fd, buf, REC_MAX - 1);
		if (n > 0)
			break;
		if (n < 0 && errno == EPIPE) {
			*lost = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN)
			return 0;
		perror("shikumi-klog: read /dev/kmsg");
		return -1;
	}
	buf[n] = '\0';
	if (parse(buf, n, r)) {
		fprintf(stderr, "shikumi-klog: a record of /dev/kmsg without a header\n");
		return -1;
	}
	return 1;
}

static int do_mark(int fd, char *buf)
{
	struct rec r;
	uint64_t next = 0;
	int lost = 0, got;

	while ((got = next_rec(fd, buf, &r, &lost)) > 0)
		next = r.seq + 1;
	if (got < 0)
		return 1;
	printf("%" PRIu64 "\n", next);
	return 0;
}

static int do_since(int fd, char *buf, uint64_t from)
{
	struct rec r;
	uint64_t want = from;
	int lost = 0, got;

	while ((got = next_rec(fd, buf, &r, &lost)) > 0) {
		if (r.seq < from)
			continue;
		if (r.seq != want) {
			fprintf(stderr,
				"the kernel log buffer wrapped: records %" PRIu64
				" to %" PRIu64 " are gone, this test's log cannot be checked\n",
				want, r.seq - 1);
			return 2;
		}
		want = r.seq + 1;
		printf("[%5" PRIu64 ".%06" PRIu64 "] %.*s\n", r.usec / 1000000,
		       r.usec % 1000000, (int)r.len, r.text);
	}
	if (got < 0)
		return 1;
	if (fflush(stdout) || ferror(stdout)) {
		perror("shikumi-klog: write");
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[REC_MAX];
	unsigned long long from;
	char *end;
	int fd, rc;

	if (argc == 2 && !strcmp(argv[1], "mark")) {
		from = 0;
	} else if (argc == 3 && !strcmp(argv[1], "since")) {
		errno = 0;
		from = strtoull(argv[2], &end, 10);
		if (errno || end == argv[2] || *end) {
			fprintf(stderr, "shikumi-klog: not a sequence number: '%s'\n", argv[2]);
			return 2;
		}
	} else {
		fprintf(stderr, "usage: shikumi-klog mark | since SEQ\n");
		return 2;
	}
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		perror("shikumi-klog: /dev/kmsg");
		return 1;
	}
	rc = argc == 2 ? do_mark(fd, buf) : do_since(fd, buf, from);
	close(fd);
	return rc;
}
