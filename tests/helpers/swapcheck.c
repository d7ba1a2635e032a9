// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-swapcheck: test helper for shikumi cache demo swap
 * (tests/cli-cache-swap.bats).
 *
 *   shikumi-swapcheck PAGEMAP OUT -- shikumi cache demo swap ... --pause
 *
 * Runs the command with its stdout in OUT and its stderr passed on.  When
 * the demo says on stderr that it stopped with its pages at A-B swapped
 * out (swap type T), waits until it is stopped, reads /proc/PID/pagemap
 * for [A, B) and writes each page's swap offset to PAGEMAP, one a line
 * (-1: not a swap entry of type T), then lets the demo go on with SIGCONT.
 * At the end it prints "status S stopped 0|1 swapped N pswpout D pswpin D":
 * the command's exit status, whether it was seen stopped, the pages
 * pagemap showed in swap, and /proc/vmstat's pswpout and pswpin changes
 * over the whole run.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096ULL
#define PM_SWAP		(1ULL << 62)
#define PM_PRESENT	(1ULL << 63)
#define PM_TYPE(e)	((e) & 0x1f)
#define PM_OFFSET(e)	(((e) >> 5) & ((1ULL << 50) - 1))

static pid_t demo;	/* the command, once forked (in the parent) */

/*
 * Never leave the demo stopped, with its swap area on: it is told to end
 * (SIGTERM, then SIGCONT), and swaps off what it made.
 */
static void __attribute__((noreturn)) bail(void)
{
	if (demo > 0) {
		kill(demo, SIGTERM);
		kill(demo, SIGCONT);
	}
	exit(2);
}

static void die(const char *what)
{
	perror(what);
	bail();
}

static long long vmstat(const char *key)
{
	char name[64];
	long long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		die("/proc/vmstat");
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, key))
			found = v;
	fclose(f);
	return found;
}

/* Each page's swap offset in [a, b) of @pid to @out; the swapped count. */
static long pagemap(pid_t pid, uint64_t a, uint64_t b, unsigned int type,
		    const char *out)
{
	char p[64];
	uint64_t e, va;
	long n = 0;
	int fd;
	FILE *f = fopen(out, "we");

	snprintf(p, sizeof(p), "/proc/%d/pagemap", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !f)
		die(fd < 0 ? p : out);
	for (va = a; va < b; va += PAGE) {
		if (pread(fd, &e, sizeof(e), (off_t)(va / PAGE * 8)) != sizeof(e))
			die("pagemap");
		if ((e & PM_SWAP) && !(e & PM_PRESENT) && PM_TYPE(e) == type) {
			fprintf(f, "%" PRIu64 "\n", (uint64_t)PM_OFFSET(e));
			n++;
		} else {
			fprintf(f, "-1\n");
		}
	}
	close(fd);
	if (fclose(f))
		die(out);
	return n;
}

/* Pass the demo's stderr on; at its stop line, look at its pages. */
static long watch(pid_t pid, int err, const char *out, int *stopped)
{
	unsigned long long a, b;
	unsigned int type;
	char line[1024], *s;
	long n = -1;
	FILE *f = fdopen(err, "r");
	int st;

	if (!f)
		die("fdopen");
	while (fgets(line, sizeof(line), f)) {
		fputs(line, stderr);
		s = strstr(line, "with its pages at ");
		if (!s || n >= 0)
			continue;
		if (sscanf(s, "with its pages at %llx-%llx", &a, &b) != 2)
			s = NULL;
		else
			s = strstr(line, "(swap type ");
		if (!s || sscanf(s, "(swap type %u", &type) != 1) {
			fprintf(stderr, "cannot parse the demo's stop line\n");
			bail();
		}
		if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st)) {
			fprintf(stderr, "the demo did not stop\n");
			bail();
		}
		*stopped = 1;
		n = pagemap(pid, a, b, type, out);
		kill(pid, SIGCONT);
	}
	fclose(f);
	return n;
}

int main(int argc, char **argv)
{
	long long out0 = vmstat("pswpout"), in0 = vmstat("pswpin");
	int p[2], fd, st, stopped = 0;
	long swapped;
	pid_t pid;

	if (argc < 5 || strcmp(argv[3], "--")) {
		fprintf(stderr, "usage: shikumi-swapcheck PAGEMAP OUT -- COMMAND...\n");
		return 2;
	}
	if (pipe(p))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(p[1], 2) < 0)
			die(argv[2]);
		close(p[0]);
		execvp(argv[4], argv + 4);
		die(argv[4]);
	}
	close(p[1]);
	demo = pid;
	swapped = watch(pid, p[0], argv[1], &stopped);
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid");
	printf("status %d stopped %d swapped %ld pswpout %lld pswpin %lld\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), stopped, swapped,
	       vmstat("pswpout") - out0, vmstat("pswpin") - in0);
	return 0;
}
