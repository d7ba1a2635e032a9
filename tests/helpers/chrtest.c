// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-chrtest: syscall-level checks of shikumi_chrdev for
 * tests/chrdev.bats.
 *
 * Each subcommand does one precise thing to a /dev/shikumi-chrN and prints
 * a short result for bats to assert: an errno name such as "EAGAIN", a
 * poll mask, a byte count or "ok".  Subcommands that check several things
 * at once print what failed on stderr and exit 1.  Exit status 2 is a
 * usage error, 3 means the watchdog fired: every run is bounded, so a
 * driver that never wakes a sleeper cannot hang the suite.
 *
 * Run without arguments for the list of subcommands.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <shikumi/chrdev.h>

#include "stall.h"

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL
#define PAGE		4096

/*
 * Bounds on what must happen, generous for a busy machine: they only
 * cost time when something is wrong.
 */
#define WAIT_SEC	60	/* for another process, or the device */
#define WATCHDOG_SEC	120	/* default bound on one run, above WAIT_SEC */
#define HOLD_SEC	600	/* bound on hold and hold-mmap */

typedef volatile struct shikumi_chr_regs vregs;

static const char *progname = "shikumi-chrtest";

#define U(x) ((unsigned long long)(x))	/* for %llu */
#define CHECK(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

/* ------------------------------------------------------------------ */
/* Plumbing                                                             */
/* ------------------------------------------------------------------ */

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

/* What a system call returned, as bats sees it: "ok" or an errno name. */
static const char *result(int err)
{
	return err ? errname(err) : "ok";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static unsigned long long parse_num(const char *s, const char *what)
{
	unsigned long long n;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die("%s: not a number: '%s'", what, s);
	return n;
}

static void *shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap of %zu shared bytes: %m", size);
	return p;
}

static void watchdog_fired(int sig)
{
	static const char msg[] = "shikumi-chrtest: watchdog expired\n";

	ssize_t n;

	(void)sig;
	n = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)n;
	_exit(3);
}

/*
 * End this process with status 3 after @sec seconds.  Uses SIGUSR2 and a
 * POSIX timer, so the tests keep SIGALRM and ITIMER_REAL for themselves.
 * Timers are not inherited: every child arms its own.
 */
static void watchdog_arm(unsigned int sec)
{
	struct sigaction sa = { .sa_handler = watchdog_fired };
	struct sigevent sev = {
		.sigev_notify = SIGEV_SIGNAL,
		.sigev_signo = SIGUSR2,
	};
	struct itimerspec its = { .it_value.tv_sec = sec };
	timer_t timer;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL))
		die("sigaction: %m");
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		die("timer_create: %m");
	if (timer_settime(timer, 0, &its, NULL))
		die("timer_settime: %m");
}

static int open_dev(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		die("open %s: %m", path);
	return fd;
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK))
		die("fcntl: %m");
}

/* Fill @buf with a recognisable pattern. */
static void pattern(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)('a' + i % 26);
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %m");
		p += n;
		len -= (size_t)n;
	}
}

/* ------------------------------------------------------------------ */
/* Signals and other processes                                          */
/* ------------------------------------------------------------------ */

/* SIGALRM handler calls, in shared memory so that a child can watch it. */
static volatile sig_atomic_t *alarm_hits;

static void on_alarm(int sig)
{
	(void)sig;
	(*alarm_hits)++;
}

static void alarm_handler(bool restart)
{
	struct sigaction sa = {
		.sa_handler = on_alarm,
		.sa_flags = restart ? SA_RESTART : 0,
	};

	if (!alarm_hits)
		alarm_hits = shared_alloc(sizeof(*alarm_hits));
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL))
		die("sigaction: %m");
}

static bool proc_read(pid_t pid, const char *file, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return true;
}

/*
 * Is @pid asleep (state S) inside system call @nr?  /proc/PID/syscall
 * names the call a blocked task is in, so this tells "blocked in read"
 * apart from "about to call read" or "faulting in a page".
 */
static bool blocked_in(pid_t pid, long nr)
{
	char buf[512], *p;

	if (!proc_read(pid, "syscall", buf, sizeof(buf)) ||
	    strtol(buf, NULL, 10) != nr || buf[0] == 'r')
		return false;
	if (!proc_read(pid, "stat", buf, sizeof(buf)))
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void wait_blocked(pid_t pid, const long *nrs, size_t n)
{
	uint64_t end = now_ns() + WAIT_SEC * NSEC_PER_SEC;
	size_t i;

	while (now_ns() < end) {
		for (i = 0; i < n; i++)
			if (blocked_in(pid, nrs[i]))
				return;
		sleep_ms(2);
	}
	die("process %d never went to sleep in the expected system call",
	    (int)pid);
}

/* Run @fn(@dev, @arg) in a child with its own watchdog. */
static pid_t spawn(void (*fn)(const char *, long), const char *dev, long arg)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %m");
	if (pid == 0) {
		progname = "shikumi-chrtest (child)";
		watchdog_arm(WATCHDOG_SEC);
		fn(dev, arg);
		exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		die("waitpid: %m");
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("child %d failed (status 0x%x)", (int)pid, status);
}

/* ------------------------------------------------------------------ */
/* The register page                                                    */
/* ------------------------------------------------------------------ */

static vregs *map_regs(int fd)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap of the register page: %m");
	return p;
}

static void snap(vregs *r, struct shikumi_chr_regs *s)
{
	s->done_seq = __atomic_load_n(&r->done_seq, __ATOMIC_ACQUIRE);
	s->magic = r->magic;
	s->version = r->version;
	s->status = r->status;
	s->ctrl = r->ctrl;
	s->cmd_seq = r->cmd_seq;
	s->latency_ns = r->latency_ns;
	s->submit_ns = r->submit_ns;
	s->complete_ns = r->complete_ns;
	s->completions = r->completions;
	s->irqs = r->irqs;
	s->polls = r->polls;
}

/* Spin on the mapped done_seq until it reaches @seq: no system calls. */
static uint64_t wait_done(vregs *r, uint64_t seq, uint64_t timeout_ns)
{
	uint64_t end = now_ns() + timeout_ns, spins = 0;

	while (__atomic_load_n(&r->done_seq, __ATOMIC_ACQUIRE) < seq) {
		if (!(++spins & 0xfff) && now_ns() > end)
			die("done_seq stayed at %llu, waiting for %llu",
			    U(r->done_seq), U(seq));
	}
	return spins;
}

static int submit(int fd, uint32_t wait, uint64_t latency_ns,
		  struct shikumi_chr_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->wait = wait;
	cmd->latency_ns = latency_ns;
	return ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd) ? errno : 0;
}

static const char *const wait_names[] = {
	[SHIKUMI_CHR_WAIT_IRQ] = "irq",
	[SHIKUMI_CHR_WAIT_POLL] = "poll",
	[SHIKUMI_CHR_WAIT_NONE] = "none",
};

static uint32_t parse_wait(const char *s)
{
	uint32_t i;

	for (i = 0; i < sizeof(wait_names) / sizeof(wait_names[0]); i++)
		if (!strcmp(s, wait_names[i]))
			return i;
	die("wait mode is irq, poll or none, not '%s'", s);
}

/* ------------------------------------------------------------------ */
/* FIFO subcommands                                                     */
/* ------------------------------------------------------------------ */

static bool parse_block(const char *s)
{
	if (!strcmp(s, "block"))
		return true;
	if (!strcmp(s, "nonblock"))
		return false;
	die("expected block or nonblock, not '%s'", s);
}

/* try-read DEV N block|nonblock: one read(2); prints the count or errno. */
static int cmd_try_read(char **argv)
{
	size_t len = parse_num(argv[1], "length");
	bool block = parse_block(argv[2]);
	char *buf = malloc(len + 1);
	ssize_t n;
	int fd;

	if (!buf)
		die("out of memory");
	fd = open_dev(argv[0], O_RDONLY | (block ? 0 : O_NONBLOCK));
	n = read(fd, buf, len);
	if (n < 0)
		printf("%s\n", errname(errno));
	else
		printf("%zd\n", n);
	return 0;
}

/* try-write DEV N block|nonblock: one write(2); prints the count or errno. */
static int cmd_try_write(char **argv)
{
	size_t len = parse_num(argv[1], "length");
	bool block = parse_block(argv[2]);
	char *buf = malloc(len + 1);
	ssize_t n;
	int fd;

	if (!buf)
		die("out of memory");
	pattern(buf, len);
	fd = open_dev(argv[0], O_WRONLY | (block ? 0 : O_NONBLOCK));
	n = write(fd, buf, len);
	if (n < 0)
		printf("%s\n", errname(errno));
	else
		printf("%zd\n", n);
	return 0;
}

/* read DEV N: blocking reads until N bytes arrived; copies them to stdout. */
static int cmd_read(char **argv)
{
	size_t left = parse_num(argv[1], "length");
	char buf[8192];
	int fd = open_dev(argv[0], O_RDONLY);

	while (left) {
		ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0)
			die("read: %s", n ? errname(errno) : "end of file");
		write_all(STDOUT_FILENO, buf, (size_t)n);
		left -= (size_t)n;
	}
	return 0;
}

/* drain DEV: non-blocking reads until EAGAIN; copies the bytes to stdout. */
static int cmd_drain(char **argv)
{
	char buf[8192];
	int fd = open_dev(argv[0], O_RDONLY | O_NONBLOCK);

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			die("read: %s", n ? errname(errno) : "end of file");
		write_all(STDOUT_FILENO, buf, (size_t)n);
	}
}

struct bit_name {
	unsigned int bit;
	const char *name;
};

static void print_bits(unsigned int mask, const struct bit_name *names)
{
	const char *sep = "";

	for (; names->name; names++) {
		if (mask & names->bit) {
			printf("%s%s", sep, names->name);
			sep = " ";
			mask &= ~names->bit;
		}
	}
	if (mask)
		printf("%s0x%x", sep, mask);
	else if (!*sep)
		printf("none");
	putchar('\n');
}

static const struct bit_name poll_bits[] = {
	{ POLLIN, "POLLIN" }, { POLLPRI, "POLLPRI" }, { POLLOUT, "POLLOUT" },
	{ POLLRDNORM, "POLLRDNORM" }, { POLLWRNORM, "POLLWRNORM" },
	{ POLLERR, "POLLERR" }, { POLLHUP, "POLLHUP" }, { POLLNVAL, "POLLNVAL" },
	{ 0, NULL }
};

static const struct bit_name epoll_bits[] = {
	{ EPOLLIN, "EPOLLIN" }, { EPOLLPRI, "EPOLLPRI" },
	{ EPOLLOUT, "EPOLLOUT" }, { EPOLLRDNORM, "EPOLLRDNORM" },
	{ EPOLLWRNORM, "EPOLLWRNORM" }, { EPOLLERR, "EPOLLERR" },
	{ EPOLLHUP, "EPOLLHUP" }, { EPOLLRDHUP, "EPOLLRDHUP" },
	{ 0, NULL }
};

#define EPOLL_ALL (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | \
		   EPOLLRDHUP)

#define POLL_ALL (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM)

/* Readiness of @fd for @events after at most @ms, as poll(2) reports it. */
static unsigned int ready_poll(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = poll(&p, 1, ms);

	if (n < 0)
		die("poll: %m");
	return n ? (unsigned int)p.revents : 0;
}

static int epoll_for(int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		die("epoll: %m");
	return ep;
}

static unsigned int ready_epoll(int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	if (n < 0)
		die("epoll_wait: %m");
	return n ? ev.events : 0;
}

/* Returns "read", "write", "read write" or "none" as select(2) sees it. */
static const char *ready_select(int fd, struct timeval *tv, bool want_write)
{
	fd_set rd, wr;
	int n;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fd, &rd);
	if (want_write)
		FD_SET(fd, &wr);
	n = select(fd + 1, &rd, &wr, NULL, tv);
	if (n < 0)
		die("select: %m");
	if (FD_ISSET(fd, &rd))
		return FD_ISSET(fd, &wr) ? "read write" : "read";
	return FD_ISSET(fd, &wr) ? "write" : "none";
}

/* poll DEV, epoll DEV, select DEV: readiness right now. */
static int cmd_poll(char **argv)
{
	int fd = open_dev(argv[0], O_RDWR);

	print_bits(ready_poll(fd, POLL_ALL, 0), poll_bits);
	return 0;
}

static int cmd_epoll(char **argv)
{
	int fd = open_dev(argv[0], O_RDWR);

	print_bits(ready_epoll(epoll_for(fd, EPOLL_ALL), 0), epoll_bits);
	return 0;
}

static int cmd_select(char **argv)
{
	struct timeval tv = { 0 };
	int fd = open_dev(argv[0], O_RDWR);

	printf("%s\n", ready_select(fd, &tv, true));
	return 0;
}

static const char wake_msg[] = "wake";

/* Child of `wake`: once the parent sleeps, write a few bytes. */
static void wake_writer(const char *dev, long nr)
{
	long nrs[2] = { nr, nr };
	int fd = open_dev(dev, O_WRONLY);

	/* select(2) may be select or pselect6 in the C library */
	if (nr == SYS_select)
		nrs[1] = SYS_pselect6;
	if (nr == SYS_epoll_wait)
		nrs[1] = SYS_epoll_pwait;
	wait_blocked(getppid(), nrs, 2);
	write_all(fd, wake_msg, sizeof(wake_msg) - 1);
}

/*
 * wake DEV read|poll|select|epoll: sleep on an empty FIFO; another process
 * writes once this one is seen asleep; the sleeper must wake and see data.
 */
static int cmd_wake(char **argv)
{
	const char *dev = argv[0], *mode = argv[1];
	int fd = open_dev(dev, O_RDONLY);
	char buf[64];
	bool woke;
	long nr;
	pid_t pid;

	if (ready_poll(fd, POLLIN, 0))
		die("the FIFO is not empty");
	if (!strcmp(mode, "read"))
		nr = SYS_read;
	else if (!strcmp(mode, "poll"))
		nr = SYS_poll;
	else if (!strcmp(mode, "select"))
		nr = SYS_select;
	else if (!strcmp(mode, "epoll"))
		nr = SYS_epoll_wait;
	else
		die("wake: mode is read, poll, select or epoll, not '%s'", mode);

	if (nr == SYS_epoll_wait) {
		int ep = epoll_for(fd, EPOLLIN);

		pid = spawn(wake_writer, dev, nr);
		woke = ready_epoll(ep, WAIT_SEC * 1000) == EPOLLIN;
	} else if (nr == SYS_poll) {
		pid = spawn(wake_writer, dev, nr);
		woke = ready_poll(fd, POLLIN | POLLRDNORM, WAIT_SEC * 1000) ==
		       (POLLIN | POLLRDNORM);
	} else if (nr == SYS_select) {
		struct timeval tv = { .tv_sec = WAIT_SEC };

		pid = spawn(wake_writer, dev, nr);
		woke = !strcmp(ready_select(fd, &tv, false), "read");
	} else {
		pid = spawn(wake_writer, dev, nr);
		woke = true;
	}
	if (!woke)
		die("%s did not report the data another process wrote", mode);
	if (read(fd, buf, sizeof(buf)) != sizeof(wake_msg) - 1 ||
	    memcmp(buf, wake_msg, sizeof(wake_msg) - 1))
		die("read did not return what the other process wrote");
	reap(pid);
	printf("ok\n");
	return 0;
}

/*
 * stress DEV WRITERS READERS RECORDS: WRITERS processes each write RECORDS
 * 8-byte records, 1 or 2 per write(2), while READERS processes read them.
 * Every record must arrive exactly once.
 *
 * A write of at most the FIFO's size is atomic, and a reader takes all
 * the FIFO holds (its buffer is larger than any FIFO here), so each read
 * must return whole writes: a pair written together must be read
 * together, the first immediately followed by the second.  A driver that
 * let a write in by halves, or let two writers interleave, breaks a pair.
 */
#define REC_MAGIC	0x5348ULL
#define REC_SINGLE	0ULL
#define REC_FIRST	1ULL	/* first of a pair */
#define REC_SECOND	2ULL	/* second of a pair */
#define STRESS_BUF	65536	/* bytes; larger than the FIFOs it is run on */

struct stress {
	unsigned int writers, readers, records;
	unsigned int writers_done;
	unsigned int bad;
	uint64_t bytes;
	uint64_t sum;		/* of the records read */
	uint64_t written;	/* sum of the records written */
	unsigned int seen[];	/* [writer * records + seq] */
};

static struct stress *st;

/* magic:16 | part:8 | writer:8 | seq:32 */
static uint64_t record(unsigned int w, unsigned int seq, uint64_t part)
{
	return REC_MAGIC << 48 | part << 40 | (uint64_t)w << 32 | seq;
}

static void stress_writer(const char *dev, long w)
{
	int fd = open_dev(dev, O_WRONLY);
	uint64_t buf[2];
	unsigned int seq = 0;

	while (seq < st->records) {
		unsigned int n = 1 + (seq + (unsigned int)w) % 2;
		ssize_t ret;

		if (n > st->records - seq)
			n = st->records - seq;
		if (n == 1) {
			buf[0] = record((unsigned int)w, seq, REC_SINGLE);
		} else {
			buf[0] = record((unsigned int)w, seq, REC_FIRST);
			buf[1] = record((unsigned int)w, seq + 1, REC_SECOND);
		}
		ret = write(fd, buf, n * sizeof(buf[0]));
		if (ret != (ssize_t)(n * sizeof(buf[0])))
			die("writer %ld: write of %u records returned %zd (%m)",
			    w, n, ret);
		__atomic_fetch_add(&st->written, n == 1 ? buf[0] : buf[0] + buf[1],
				   __ATOMIC_SEQ_CST);
		seq += n;
	}
	__atomic_fetch_add(&st->writers_done, 1, __ATOMIC_SEQ_CST);
}

static void stress_bad(long r, const char *what, uint64_t v)
{
	/* the first few tell the story */
	if (__atomic_fetch_add(&st->bad, 1, __ATOMIC_SEQ_CST) < 10)
		fprintf(stderr, "reader %ld: %s: %#llx\n", r, what, U(v));
}

/* Account for the records of one read(2); check that pairs are whole. */
static void stress_check(long r, const uint64_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v = buf[i], part = v >> 40 & 0xff;
		unsigned int w = (unsigned int)(v >> 32 & 0xff);
		unsigned int seq = (unsigned int)v;

		if (v >> 48 != REC_MAGIC || part > REC_SECOND ||
		    w >= st->writers || seq >= st->records) {
			stress_bad(r, "bad record", v);
			continue;
		}
		if (part == REC_FIRST &&
		    (i + 1 == n || buf[i + 1] != record(w, seq + 1, REC_SECOND)))
			stress_bad(r, "first of a pair without the second", v);
		if (part == REC_SECOND &&
		    (i == 0 || buf[i - 1] != record(w, seq - 1, REC_FIRST)))
			stress_bad(r, "second of a pair without the first", v);
		__atomic_fetch_add(&st->seen[w * st->records + seq], 1,
				   __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&st->sum, v, __ATOMIC_SEQ_CST);
	}
}

static void stress_reader(const char *dev, long r)
{
	int fd = open_dev(dev, O_RDONLY | O_NONBLOCK);
	uint64_t *buf = malloc(STRESS_BUF);
	ssize_t n;

	if (!buf)
		die("out of memory");
	for (;;) {
		if (!ready_poll(fd, POLLIN, 100)) {
			if (__atomic_load_n(&st->writers_done, __ATOMIC_SEQ_CST) ==
			    st->writers)
				return;
			continue;
		}
		n = read(fd, buf, STRESS_BUF);
		if (n < 0 && errno == EAGAIN)
			continue;	/* another reader was faster */
		if (n <= 0)
			die("reader %ld: read: %s", r,
			    n ? errname(errno) : "end of file");
		if (n % 8)
			stress_bad(r, "read returned a part of a record",
				   (uint64_t)n);
		stress_check(r, buf, (size_t)n / 8);
		__atomic_fetch_add(&st->bytes, (uint64_t)n, __ATOMIC_SEQ_CST);
	}
}

static int cmd_stress(char **argv)
{
	unsigned int writers = parse_num(argv[1], "writers");
	unsigned int readers = parse_num(argv[2], "readers");
	unsigned int records = parse_num(argv[3], "records");
	unsigned int w, i, missing = 0, dup = 0;
	uint64_t total;
	pid_t pids[64];
	size_t n = 0;

	if (!writers || !readers || !records || writers + readers > 64)
		die("stress: bad process or record counts");
	total = (uint64_t)writers * records;
	st = shared_alloc(sizeof(*st) + total * sizeof(st->seen[0]));
	st->writers = writers;
	st->readers = readers;
	st->records = records;

	for (i = 0; i < readers; i++)
		pids[n++] = spawn(stress_reader, argv[0], i);
	for (w = 0; w < writers; w++)
		pids[n++] = spawn(stress_writer, argv[0], w);
	for (i = 0; i < n; i++)
		reap(pids[i]);

	for (w = 0; w < writers; w++) {
		for (i = 0; i < records; i++) {
			unsigned int seen = st->seen[w * records + i];

			missing += seen == 0;
			dup += seen > 1;
		}
	}
	if (missing || dup || st->bad || st->bytes != total * 8 ||
	    st->sum != st->written)
		die("stress: %u records missing, %u duplicated, %u bad, "
		    "%llu of %llu bytes, checksum %s", missing, dup, st->bad,
		    U(st->bytes), U(total * 8),
		    st->sum == st->written ? "ok" : "wrong");
	printf("ok %llu records\n", U(total));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Signals                                                              */
/* ------------------------------------------------------------------ */

static bool parse_restart(const char *s)
{
	if (!strcmp(s, "restart"))
		return true;
	if (!strcmp(s, "norestart"))
		return false;
	die("expected restart or norestart, not '%s'", s);
}

static const char restart_msg[] = "restarted";

/*
 * In a child: once the parent sleeps in system call @nr, send it SIGALRM
 * and wait until its handler ran.  Signalling a sleeper, rather than
 * arming a timer, cannot fire too early on a slow machine.
 */
static void interrupt_parent(long nr)
{
	pid_t parent = getppid();

	wait_blocked(parent, &nr, 1);
	if (kill(parent, SIGALRM))
		die("kill: %m");
	while (*alarm_hits < 1)
		sleep_ms(1);
}

static void interrupter(const char *dev, long nr)
{
	(void)dev;
	interrupt_parent(nr);
}

/* Child of sig-read: interrupt, then write once the read sleeps again. */
static void restart_writer(const char *dev, long nr)
{
	int fd = open_dev(dev, O_WRONLY);

	interrupt_parent(nr);
	wait_blocked(getppid(), &nr, 1);
	write_all(fd, restart_msg, sizeof(restart_msg) - 1);
}

/* Child of sig-write: interrupt, then make room once the write sleeps. */
static void restart_reader(const char *dev, long nr)
{
	int fd = open_dev(dev, O_RDONLY | O_NONBLOCK);
	char buf[64];

	interrupt_parent(nr);
	wait_blocked(getppid(), &nr, 1);
	if (read(fd, buf, sizeof(buf)) <= 0)
		die("read: %m");
}

/*
 * sig-read DEV restart|norestart: a read(2) on an empty FIFO, interrupted
 * by SIGALRM.  Without SA_RESTART it fails with EINTR; with SA_RESTART it
 * goes back to sleep and returns what a child writes after the signal.
 */
static int cmd_sig_read(char **argv)
{
	bool restart = parse_restart(argv[1]);
	int fd = open_dev(argv[0], O_RDONLY);
	char buf[64];
	pid_t pid;
	ssize_t n;

	if (ready_poll(fd, POLLIN, 0))
		die("the FIFO is not empty");
	alarm_handler(restart);
	pid = spawn(restart ? restart_writer : interrupter, argv[0], SYS_read);
	n = read(fd, buf, sizeof(buf));
	if (*alarm_hits != 1)
		kill(pid, SIGKILL);
	if (*alarm_hits != 1)
		die("read returned before the signal (%d handler calls)",
		    (int)*alarm_hits);
	if (n < 0) {
		printf("%s\n", errname(errno));
	} else if (n == sizeof(restart_msg) - 1 &&
		   !memcmp(buf, restart_msg, (size_t)n)) {
		printf("ok\n");
	} else {
		printf("%zd\n", n);
	}
	reap(pid);
	return 0;
}

/*
 * sig-write DEV restart|norestart: fill the FIFO, then a 1-byte write(2)
 * sleeps for room and is interrupted by SIGALRM.  Without SA_RESTART it
 * fails with EINTR; with SA_RESTART it completes once a child reads.
 */
static int cmd_sig_write(char **argv)
{
	bool restart = parse_restart(argv[1]);
	int fd = open_dev(argv[0], O_WRONLY | O_NONBLOCK);
	char c = 'x';
	pid_t pid;
	ssize_t n;

	while ((n = write(fd, &c, 1)) == 1)
		;
	if (errno != EAGAIN)
		die("filling the FIFO: %m");
	set_nonblock(fd, false);
	alarm_handler(restart);
	pid = spawn(restart ? restart_reader : interrupter, argv[0], SYS_write);
	n = write(fd, &c, 1);
	if (*alarm_hits != 1)
		kill(pid, SIGKILL);
	if (*alarm_hits != 1)
		die("write returned before the signal (%d handler calls)",
		    (int)*alarm_hits);
	if (n < 0)
		printf("%s\n", errname(errno));
	else if (n == 1)
		printf("ok\n");
	else
		printf("%zd\n", n);
	reap(pid);
	return 0;
}

/*
 * sig-submit DEV restart|norestart: a WAIT_IRQ command of 1 s, interrupted
 * by SIGALRM once it sleeps.  The wait ends with EINTR even with SA_RESTART (restarting
 * would submit the command twice); the device stays busy until the
 * command completes, then accepts the next one.
 */
static int cmd_sig_submit(char **argv)
{
	bool restart = parse_restart(argv[1]);
	int fd = open_dev(argv[0], O_RDWR);
	vregs *r = map_regs(fd);
	struct shikumi_chr_regs before, after;
	struct shikumi_chr_cmd cmd;
	uint64_t seq, t0, t1;
	pid_t pid;
	int err;

	snap(r, &before);
	if (before.status & SHIKUMI_CHR_ST_BUSY)
		die("the device is busy");
	seq = before.cmd_seq + 1;

	alarm_handler(restart);
	pid = spawn(interrupter, argv[0], SYS_ioctl);
	t0 = now_ns();
	err = submit(fd, SHIKUMI_CHR_WAIT_IRQ, SHIKUMI_CHR_LATENCY_MAX_NS, &cmd);
	t1 = now_ns();
	printf("submit: %s\n", result(err));
	if (*alarm_hits != 1) {
		kill(pid, SIGKILL);
		die("SUBMIT returned before the signal");
	}
	reap(pid);
	if (t1 - t0 >= SHIKUMI_CHR_LATENCY_MAX_NS)
		die("SUBMIT waited for the device: %llu ms",
		    U((t1 - t0) / NSEC_PER_MSEC));
	if (r->cmd_seq != seq || !(r->status & SHIKUMI_CHR_ST_BUSY))
		die("the command is not in flight after the signal");

	err = submit(fd, SHIKUMI_CHR_WAIT_NONE, 0, &cmd);
	printf("again: %s\n", result(err));
	if (!err)
		die("a second command was accepted while one is in flight");

	wait_done(r, seq, WAIT_SEC * NSEC_PER_SEC);
	snap(r, &after);
	if (after.completions != before.completions + 1 ||
	    after.irqs != before.irqs + 1)
		die("completions %llu -> %llu, irqs %llu -> %llu",
		    U(before.completions), U(after.completions),
		    U(before.irqs), U(after.irqs));

	err = submit(fd, SHIKUMI_CHR_WAIT_IRQ, NSEC_PER_MSEC, &cmd);
	if (!err && cmd.seq != seq + 1)
		die("the next command got seq %llu, not %llu",
		    U(cmd.seq), U(seq + 1));
	printf("later: %s\n", result(err));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Commands and the register page                                       */
/* ------------------------------------------------------------------ */

/*
 * submit DEV irq|poll|none LATENCY_NS: one command, checked against the
 * mapped register page before and after.  For none, the call must return
 * at once and the mapped page must show the completion later on its own.
 */
static int cmd_submit(char **argv)
{
	uint32_t wait = parse_wait(argv[1]);
	uint64_t latency = parse_num(argv[2], "latency");
	int fd = open_dev(argv[0], O_RDWR);
	vregs *r = map_regs(fd);
	struct shikumi_chr_regs b, a;
	struct shikumi_chr_cmd cmd;
	uint64_t seq, t0, t1, done, spins = 0;
	uint32_t status;
	int err;

	snap(r, &b);
	CHECK(!(b.status & SHIKUMI_CHR_ST_BUSY), "the device is busy");
	seq = b.cmd_seq + 1;
	t0 = now_ns();
	err = submit(fd, wait, latency, &cmd);
	/* first thing: is the command still in flight? */
	done = __atomic_load_n(&r->done_seq, __ATOMIC_ACQUIRE);
	status = r->status;
	t1 = now_ns();
	CHECK(!err, "SUBMIT: %s", errname(err));
	CHECK(cmd.seq == seq, "SUBMIT returned seq %llu, expected %llu",
	      U(cmd.seq), U(seq));

	if (wait == SHIKUMI_CHR_WAIT_NONE) {
		CHECK(cmd.complete_ns == 0, "WAIT_NONE returned complete_ns");
		spins = wait_done(r, seq, latency + WAIT_SEC * NSEC_PER_SEC);
	} else {
		CHECK(t1 - t0 >= latency, "SUBMIT returned after %llu ns, before "
		      "the latency", U(t1 - t0));
		CHECK(done == seq, "done_seq is %llu after SUBMIT, expected %llu",
		      U(done), U(seq));
	}
	/* The interrupt handler acknowledges right after the completion. */
	if (wait == SHIKUMI_CHR_WAIT_IRQ) {
		uint64_t end = now_ns() + 100 * NSEC_PER_MSEC;

		while ((r->status & SHIKUMI_CHR_ST_IRQ_PENDING) && now_ns() < end)
			;
	}
	snap(r, &a);
	/*
	 * WAIT_NONE returns at once: done_seq and status, read before t1,
	 * must show the command in flight if the device completed it after
	 * t1 (it takes complete_ns before it publishes the completion).  A
	 * machine too busy to read them before the completion cannot tell.
	 */
	if (wait == SHIKUMI_CHR_WAIT_NONE && t1 < a.complete_ns)
		CHECK(done < seq && (status & SHIKUMI_CHR_ST_BUSY),
		      "the command completed before SUBMIT returned "
		      "(after %llu ms)", U((t1 - t0) / NSEC_PER_MSEC));

	CHECK(a.cmd_seq == seq && a.done_seq == seq,
	      "cmd_seq %llu, done_seq %llu, expected %llu",
	      U(a.cmd_seq), U(a.done_seq), U(seq));
	CHECK(a.status == SHIKUMI_CHR_ST_DONE, "status 0x%x, expected DONE",
	      a.status);
	CHECK(a.latency_ns == latency, "latency_ns register %llu",
	      U(a.latency_ns));
	CHECK(a.submit_ns == cmd.submit_ns, "submit_ns %llu in the page, %llu "
	      "returned", U(a.submit_ns), U(cmd.submit_ns));
	CHECK(a.submit_ns >= t0 && a.submit_ns <= t1,
	      "submit_ns is outside the system call");
	CHECK(a.complete_ns >= a.submit_ns &&
	      a.complete_ns - a.submit_ns >= latency,
	      "completed %lld ns after submission, latency %llu",
	      (long long)(a.complete_ns - a.submit_ns), U(latency));
	CHECK(a.completions == b.completions + 1, "completions %llu -> %llu",
	      U(b.completions), U(a.completions));

	switch (wait) {
	case SHIKUMI_CHR_WAIT_IRQ:
		CHECK(a.ctrl == SHIKUMI_CHR_CTRL_IRQ_ENABLE, "ctrl 0x%x", a.ctrl);
		CHECK(cmd.complete_ns == a.complete_ns, "complete_ns differs");
		CHECK(a.irqs == b.irqs + 1, "irqs %llu -> %llu",
		      U(b.irqs), U(a.irqs));
		CHECK(a.polls == b.polls, "polls changed in irq mode");
		break;
	case SHIKUMI_CHR_WAIT_POLL:
		CHECK(a.ctrl == 0, "ctrl 0x%x", a.ctrl);
		CHECK(cmd.complete_ns == a.complete_ns, "complete_ns differs");
		CHECK(a.irqs == b.irqs, "irqs changed in poll mode");
		CHECK(a.polls - b.polls == cmd.polls,
		      "polls %llu -> %llu, SUBMIT returned %llu",
		      U(b.polls), U(a.polls), U(cmd.polls));
		CHECK(cmd.polls > 0 || latency == 0, "no polls");
		break;
	default:
		CHECK(a.ctrl == 0, "ctrl 0x%x", a.ctrl);
		CHECK(a.irqs == b.irqs, "irqs changed in WAIT_NONE mode");
		CHECK(a.polls == b.polls, "polls changed in WAIT_NONE mode");
		break;
	}
	printf("ok seq=%llu\n", U(seq));
	if (spins)
		fprintf(stderr, "spun %llu times on the mapped page\n", U(spins));
	return 0;
}

/*
 * start DEV LATENCY_NS: submit a WAIT_NONE command and exit at once.
 * Prints its seq and when it is due (CLOCK_MONOTONIC ns, as `now`).
 */
static int cmd_start(char **argv)
{
	uint64_t latency = parse_num(argv[1], "latency");
	int fd = open_dev(argv[0], O_RDWR);
	struct shikumi_chr_cmd cmd;
	int err = submit(fd, SHIKUMI_CHR_WAIT_NONE, latency, &cmd);

	CHECK(!err, "SUBMIT: %s", errname(err));
	printf("seq=%llu due=%llu\n", U(cmd.seq), U(cmd.submit_ns + latency));
	return 0;
}

/* now: CLOCK_MONOTONIC in ns, the clock of the register page. */
static int cmd_now(char **argv)
{
	(void)argv;
	printf("%llu\n", U(now_ns()));
	return 0;
}

/* try-submit DEV irq|poll|none LATENCY_NS: prints ok or the errno. */
static int cmd_try_submit(char **argv)
{
	uint32_t wait = parse_wait(argv[1]);
	uint64_t latency = parse_num(argv[2], "latency");
	int fd = open_dev(argv[0], O_RDWR);
	struct shikumi_chr_cmd cmd;

	printf("%s\n", result(submit(fd, wait, latency, &cmd)));
	return 0;
}

/* regs DEV: the mapped register page, one field a line. */
static int cmd_regs(char **argv)
{
	int fd = open_dev(argv[0], O_RDONLY);
	struct shikumi_chr_regs s;

	snap(map_regs(fd), &s);
	printf("magic=0x%x\nversion=%u\nstatus=0x%x\nctrl=0x%x\n"
	       "cmd_seq=%llu\ndone_seq=%llu\nlatency_ns=%llu\nsubmit_ns=%llu\n"
	       "complete_ns=%llu\ncompletions=%llu\nirqs=%llu\npolls=%llu\n",
	       s.magic, s.version, s.status, s.ctrl, U(s.cmd_seq),
	       U(s.done_seq), U(s.latency_ns), U(s.submit_ns),
	       U(s.complete_ns), U(s.completions), U(s.irqs), U(s.polls));
	return 0;
}

/* reset DEV: SHIKUMI_CHR_IOC_RESET; prints ok or the errno. */
static int cmd_reset(char **argv)
{
	int fd = open_dev(argv[0], O_RDWR);

	printf("%s\n", result(ioctl(fd, SHIKUMI_CHR_IOC_RESET) ? errno : 0));
	return 0;
}

/* ------------------------------------------------------------------ */
/* probe: calls that must be refused (or, at the limits, accepted)       */
/* ------------------------------------------------------------------ */

static struct shikumi_chr_cmd *valid_cmd(void)
{
	static struct shikumi_chr_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.wait = SHIKUMI_CHR_WAIT_NONE;
	return &cmd;
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? errno : 0;
}

static int probe_magic(int fd, vregs *r)
{
	(void)r;
	return do_ioctl(fd, _IOWR(SHIKUMI_CHR_IOC_MAGIC + 1, 1,
				  struct shikumi_chr_cmd), valid_cmd());
}

static int probe_nr0(int fd, vregs *r)
{
	(void)r;
	return do_ioctl(fd, _IOWR(SHIKUMI_CHR_IOC_MAGIC, 0,
				  struct shikumi_chr_cmd), valid_cmd());
}

static int probe_nr3(int fd, vregs *r)
{
	(void)r;
	return do_ioctl(fd, _IOWR(SHIKUMI_CHR_IOC_MAGIC, 3,
				  struct shikumi_chr_cmd), valid_cmd());
}

static int probe_dir(int fd, vregs *r)
{
	(void)r;
	return do_ioctl(fd, _IOW(SHIKUMI_CHR_IOC_MAGIC, 1,
				 struct shikumi_chr_cmd), valid_cmd());
}

static int probe_size(int fd, vregs *r)
{
	(void)r;
	return do_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, SHIKUMI_CHR_IOC_MAGIC,
				 1, 8), valid_cmd());
}

static int probe_flags(int fd, vregs *r)
{
	struct shikumi_chr_cmd *cmd = valid_cmd();

	(void)r;
	cmd->flags = 1;
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd);
}

static int probe_reserved0(int fd, vregs *r)
{
	struct shikumi_chr_cmd *cmd = valid_cmd();

	(void)r;
	cmd->reserved[0] = 1;
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd);
}

static int probe_reserved1(int fd, vregs *r)
{
	struct shikumi_chr_cmd *cmd = valid_cmd();

	(void)r;
	cmd->reserved[1] = 1ULL << 63;
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd);
}

static int probe_wait3(int fd, vregs *r)
{
	struct shikumi_chr_cmd *cmd = valid_cmd();

	(void)r;
	cmd->wait = 3;
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd);
}

static int probe_null(int fd, vregs *r)
{
	(void)r;
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, NULL);
}

static int probe_unmapped(int fd, vregs *r)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)r;
	if (p == MAP_FAILED || munmap(p, PAGE))
		die("mmap/munmap: %m");
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, p);
}

static int probe_latency_over(int fd, vregs *r)
{
	struct shikumi_chr_cmd *cmd = valid_cmd();

	(void)r;
	cmd->latency_ns = SHIKUMI_CHR_LATENCY_MAX_NS + 1;
	return do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd);
}

static int probe_latency_max(int fd, vregs *r)
{
	struct shikumi_chr_cmd *cmd = valid_cmd();
	int err;

	cmd->latency_ns = SHIKUMI_CHR_LATENCY_MAX_NS;
	err = do_ioctl(fd, SHIKUMI_CHR_IOC_SUBMIT, cmd);
	if (!err) {
		CHECK(r->latency_ns == SHIKUMI_CHR_LATENCY_MAX_NS,
		      "latency_ns register %llu", U(r->latency_ns));
		wait_done(r, cmd->seq, WAIT_SEC * NSEC_PER_SEC);
	}
	return err;
}

static int probe_busy(int fd, vregs *r)
{
	struct shikumi_chr_cmd cmd;
	uint64_t seq;
	int err;

	err = submit(fd, SHIKUMI_CHR_WAIT_NONE, 500 * NSEC_PER_MSEC, &cmd);
	CHECK(!err, "first SUBMIT: %s", errname(err));
	seq = cmd.seq;
	err = submit(fd, SHIKUMI_CHR_WAIT_IRQ, 0, &cmd);
	wait_done(r, seq, WAIT_SEC * NSEC_PER_SEC);
	return err;
}

static int try_mmap(int fd, int prot, int flags, size_t len, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return errno;
	munmap(p, len);
	return 0;
}

static int probe_mmap_ro(int fd, vregs *r)
{
	(void)r;
	return try_mmap(fd, PROT_READ, MAP_SHARED, PAGE, 0);
}

static int probe_mmap_rw(int fd, vregs *r)
{
	(void)r;
	return try_mmap(fd, PROT_READ | PROT_WRITE, MAP_SHARED, PAGE, 0);
}

static int probe_mmap_private(int fd, vregs *r)
{
	(void)r;
	return try_mmap(fd, PROT_READ | PROT_WRITE, MAP_PRIVATE, PAGE, 0);
}

static int probe_mprotect(int fd, vregs *r)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);

	(void)r;
	if (p == MAP_FAILED)
		die("read-only mmap: %m");
	return mprotect(p, PAGE, PROT_READ | PROT_WRITE) ? errno : 0;
}

static int probe_mprotect_private(int fd, vregs *r)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);

	(void)r;
	if (p == MAP_FAILED)
		die("read-only private mmap: %m");
	return mprotect(p, PAGE, PROT_READ | PROT_WRITE) ? errno : 0;
}

static int probe_mmap_2pages(int fd, vregs *r)
{
	(void)r;
	return try_mmap(fd, PROT_READ, MAP_SHARED, 2 * PAGE, 0);
}

static int probe_mmap_offset(int fd, vregs *r)
{
	(void)r;
	return try_mmap(fd, PROT_READ, MAP_SHARED, PAGE, PAGE);
}

static int probe_lseek(int fd, vregs *r)
{
	(void)r;
	return lseek(fd, 0, SEEK_SET) < 0 ? errno : 0;
}

static int probe_pread(int fd, vregs *r)
{
	char c;

	(void)r;
	return pread(fd, &c, 1, 0) < 0 ? errno : 0;
}

struct probe {
	const char *name;
	int (*fn)(int fd, vregs *r);
	int expect;		/* 0 or an errno */
	unsigned int submits;	/* commands the device must have seen */
};

static const struct probe probes[] = {
	{ "ioctl-magic", probe_magic, ENOTTY, 0 },
	{ "ioctl-nr0", probe_nr0, ENOTTY, 0 },
	{ "ioctl-nr3", probe_nr3, ENOTTY, 0 },
	{ "ioctl-dir", probe_dir, ENOTTY, 0 },
	{ "ioctl-size", probe_size, EINVAL, 0 },
	{ "submit-flags", probe_flags, EINVAL, 0 },
	{ "submit-reserved0", probe_reserved0, EINVAL, 0 },
	{ "submit-reserved1", probe_reserved1, EINVAL, 0 },
	{ "submit-wait3", probe_wait3, EINVAL, 0 },
	{ "submit-null", probe_null, EFAULT, 0 },
	{ "submit-unmapped", probe_unmapped, EFAULT, 0 },
	{ "submit-latency-over", probe_latency_over, EINVAL, 0 },
	{ "submit-latency-max", probe_latency_max, 0, 1 },
	{ "submit-busy", probe_busy, EBUSY, 1 },
	{ "mmap-ro", probe_mmap_ro, 0, 0 },
	{ "mmap-rw", probe_mmap_rw, EACCES, 0 },
	{ "mmap-private-rw", probe_mmap_private, EACCES, 0 },
	{ "mmap-mprotect", probe_mprotect, EACCES, 0 },
	{ "mmap-private-mprotect", probe_mprotect_private, EACCES, 0 },
	{ "mmap-2pages", probe_mmap_2pages, EINVAL, 0 },
	{ "mmap-offset", probe_mmap_offset, EINVAL, 0 },
	{ "lseek", probe_lseek, ESPIPE, 0 },
	{ "pread", probe_pread, ESPIPE, 0 },
	{ NULL, NULL, 0, 0 }
};

/*
 * probe DEV CASE...: run each case on a fresh O_RDWR descriptor and print
 * "CASE RESULT".  Exits 1 if a result is not the expected one or if the
 * device saw a different number of commands than the case should submit.
 */
static int cmd_probe(int argc, char **argv)
{
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		const struct probe *p;
		uint64_t seq0;
		vregs *r;
		int fd, err;

		for (p = probes; p->name && strcmp(p->name, argv[i]); p++)
			;
		if (!p->name)
			die("no probe '%s'", argv[i]);
		fd = open_dev(argv[0], O_RDWR);
		r = map_regs(fd);
		seq0 = r->cmd_seq;
		err = p->fn(fd, r);
		printf("%s %s\n", p->name, result(err));
		if (err != p->expect) {
			fprintf(stderr, "%s: %s: expected %s\n", progname,
				p->name, result(p->expect));
			bad++;
		}
		if (r->cmd_seq != seq0 + p->submits) {
			fprintf(stderr, "%s: %s: the device saw %llu commands, "
				"expected %u\n", progname, p->name,
				U(r->cmd_seq - seq0), p->submits);
			bad++;
		}
		munmap((void *)r, PAGE);
		close(fd);
	}
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* A user copy that never completes                                     */
/* ------------------------------------------------------------------ */

#define STALL_SEC	10	/* what "at once" may take on a busy TCG guest */

struct stall_write {
	const char *dev;
	void *page;
};

static void *stall_writer(void *arg)
{
	struct stall_write *w = arg;
	int fd = open_dev(w->dev, O_WRONLY);

	if (write(fd, w->page, 16) < 0)
		die("the stalled write failed: %m");
	die("the stalled write returned");
}

/* a child that polls DEV once (no wait) and exits 0 */
static pid_t spawn_poller(const char *dev)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %m");
	if (!pid) {
		struct pollfd p = { .fd = open_dev(dev, O_RDONLY | O_NONBLOCK),
				    .events = POLLIN | POLLOUT };

		_exit(poll(&p, 1, 0) == 1 && (p.revents & POLLOUT) ? 0 : 1);
	}
	return pid;
}

/* a child that reads the sysfs file PATH once and exits 0 */
static pid_t spawn_reader(const char *path)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork: %m");
	if (!pid) {
		char b[32];
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		_exit(fd >= 0 && read(fd, b, sizeof(b)) > 0 ? 0 : 1);
	}
	return pid;
}

/*
 * stall DEV FIFO_LEN: a writer whose buffer faults and never resolves
 * (a userfaultfd page nobody serves, as a FUSE mapping whose daemon hangs)
 * must hold nothing others wait for: another process's poll() and a read
 * of FIFO_LEN (sysfs) return at once, and SIGKILL ends the writer.  Prints
 * "ok", or "skip: ..." without userfaultfd.
 */
static int cmd_stall(char **argv)
{
	struct stall_write w = { .dev = argv[0] };
	int st_w, st_poll, st_len;
	pid_t writer, poller, reader;

	writer = stall_start(stall_writer, &w, &w.page);
	if (!writer) {
		printf("skip: no userfaultfd\n");
		return 0;
	}
	/* the writer sleeps in write(), in the fault on its buffer */
	poller = spawn_poller(argv[0]);
	reader = spawn_reader(argv[1]);
	st_poll = stall_wait_exit(poller, STALL_SEC);
	st_len = stall_wait_exit(reader, STALL_SEC);
	/* SIGKILL ends the writer, and with it whatever it held */
	kill(writer, SIGKILL);
	st_w = stall_wait_exit(writer, WAIT_SEC);
	if (st_poll < 0)
		st_poll = stall_wait_exit(poller, WAIT_SEC) < 0 ? -2 : -1;
	if (st_len < 0)
		st_len = stall_wait_exit(reader, WAIT_SEC) < 0 ? -2 : -1;
	CHECK(st_w >= 0, "the writer outlived SIGKILL by %u s", WAIT_SEC);
	CHECK(WIFSIGNALED(st_w) && WTERMSIG(st_w) == SIGKILL,
	      "the writer ended otherwise than by SIGKILL (status 0x%x)", st_w);
	CHECK(st_poll >= 0, "poll() waited while a writer's buffer faulted%s",
	      st_poll == -1 ? ", until the writer was killed" : "");
	CHECK(st_len >= 0, "a read of %s waited while a writer's buffer faulted%s",
	      argv[1], st_len == -1 ? ", until the writer was killed" : "");
	CHECK(WIFEXITED(st_poll) && !WEXITSTATUS(st_poll), "poll() failed or said not writable");
	CHECK(WIFEXITED(st_len) && !WEXITSTATUS(st_len), "the read of %s failed", argv[1]);
	printf("ok\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Holding the device                                                   */
/* ------------------------------------------------------------------ */

/* hold DEV: keep DEV open; print "ready" and sleep until killed. */
static int cmd_hold(char **argv)
{
	open_dev(argv[0], O_RDONLY);
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

/* hold-mmap DEV: map the register page, close the fd, then like hold. */
static int cmd_hold_mmap(char **argv)
{
	int fd = open_dev(argv[0], O_RDONLY);
	vregs *r = map_regs(fd);

	close(fd);
	CHECK(r->magic == SHIKUMI_CHR_REGS_MAGIC, "bad magic");
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

/* ------------------------------------------------------------------ */

struct subcommand {
	const char *name;
	int argc;		/* arguments after the name; -1: at least 2 */
	const char *usage;
	int (*fn)(char **argv);
};

static const struct subcommand subcommands[] = {
	{ "try-read", 3, "DEV N block|nonblock", cmd_try_read },
	{ "try-write", 3, "DEV N block|nonblock", cmd_try_write },
	{ "read", 2, "DEV N", cmd_read },
	{ "drain", 1, "DEV", cmd_drain },
	{ "poll", 1, "DEV", cmd_poll },
	{ "select", 1, "DEV", cmd_select },
	{ "epoll", 1, "DEV", cmd_epoll },
	{ "wake", 2, "DEV read|poll|select|epoll", cmd_wake },
	{ "stress", 4, "DEV WRITERS READERS RECORDS", cmd_stress },
	{ "stall", 2, "DEV FIFO_LEN", cmd_stall },
	{ "sig-read", 2, "DEV restart|norestart", cmd_sig_read },
	{ "sig-write", 2, "DEV restart|norestart", cmd_sig_write },
	{ "sig-submit", 2, "DEV restart|norestart", cmd_sig_submit },
	{ "submit", 3, "DEV irq|poll|none LATENCY_NS", cmd_submit },
	{ "try-submit", 3, "DEV irq|poll|none LATENCY_NS", cmd_try_submit },
	{ "start", 2, "DEV LATENCY_NS", cmd_start },
	{ "now", 0, "", cmd_now },
	{ "regs", 1, "DEV", cmd_regs },
	{ "reset", 1, "DEV", cmd_reset },
	{ "probe", -1, "DEV CASE...", NULL },
	{ "hold", 1, "DEV", cmd_hold },
	{ "hold-mmap", 1, "DEV", cmd_hold_mmap },
	{ NULL, 0, NULL, NULL }
};

static void __attribute__((noreturn)) usage(void)
{
	const struct subcommand *s;
	const struct probe *p;

	fprintf(stderr, "usage: %s SUBCOMMAND ARGS...\n\n", progname);
	for (s = subcommands; s->name; s++)
		fprintf(stderr, "  %-10s %s\n", s->name, s->usage);
	fprintf(stderr, "\nprobe cases:");
	for (p = probes; p->name; p++)
		fprintf(stderr, "%s%s", (p - probes) % 4 ? " " : "\n  ", p->name);
	fputc('\n', stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const struct subcommand *s;

	if (argc < 2)
		usage();
	for (s = subcommands; s->name && strcmp(s->name, argv[1]); s++)
		;
	if (!s->name)
		usage();
	if (s->argc >= 0 ? argc - 2 != s->argc : argc - 2 < 2)
		usage();

	setvbuf(stdout, NULL, _IOLBF, 0);
	watchdog_arm(strncmp(s->name, "hold", 4) ? WATCHDOG_SEC : HOLD_SEC);
	if (!s->fn)
		return cmd_probe(argc - 2, argv + 2);
	return s->fn(argv + 2);
}
