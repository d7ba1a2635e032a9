// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi-cycles: the load/unload cycles of tests/cycles.bats in one
 * process.  A cycle's users are forked, not exec'd, and the module goes
 * in and out with finit_module(2) and delete_module(2), as insmod and
 * rmmod do: on the debug kernel under hackbench a fork+exec costs up to a
 * second, and the shell's cycle made a dozen of them.
 *
 *   shikumi-cycles MODULE KO CYCLES
 *
 * MODULE is chrdev, ramdisk, ptdump, cstrace or pgcache, KO its .ko, not
 * loaded.
 * Each cycle loads KO (with parameters that vary from cycle to cycle),
 * puts it to work with users that hold it open, tries to unload it while
 * in use, stops the users (SIGKILL to each one's process group, until no
 * member is left), unloads it, and checks that nothing of it is left.
 * - chrdev: nr_devices=1..4; a reader blocked on chr0, a writer of 100000
 *   bytes to one of the devices.
 * - ramdisk: nr_disks=1..2, the model and policy switched; one user holds
 *   the disk open, one writes and reads 256 KiB O_DIRECT over and over.
 * - ptdump: `shikumi pt dump` of this process in a loop, and beside it, in
 *   odd cycles, a dump held open through the debugfs file, which must keep
 *   the module; in even ones, full dumps through the file 50 ms apart,
 *   with the unload after 0-0.4 s (in cycles 2, 12, 22..., once the CLI
 *   has completed a dump): a dump in progress refuses it, between two it may
 *   go, and then the dumpers must end on their own, their next dump
 *   failing.  Over the run, both kinds of dumper must have completed some.
 * - cstrace: on, with trace_raw's reader; every other cycle unloaded while
 *   still on.
 * - pgcache: views of a file (KO itself, cached as it was just read) read
 *   through the debugfs file again and again, 4 KiB at a time, each from a
 *   fresh query; in odd cycles one view is held open after its first read.
 *   The open file keeps the module; between two views it may go, and then
 *   the viewer's next open fails and it ends.
 * In use, the unload must be refused the kernel's way (EWOULDBLOCK, refcnt
 * above 0, the module still live).  After the unload, /sys/module/NAME and
 * the module's /dev nodes, sysfs and debugfs entries must be gone.
 *
 * Stops at the first violation, with what it found; prints a summary line.
 * Exit status: 0 clean, 1 a violation, 2 an error of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_USERS	4
#define RAM		"/dev/shikumi-ram0"
#define RAM_SYS		"/sys/block/shikumi-ram0/shikumi/"
#define CS_DIR		"/sys/kernel/debug/shikumi/cstrace"

struct module_kind {
	const char *name;		/* chrdev */
	void (*cycle)(int i);
	const char *const leftovers[4];	/* globs gone after unload */
};

static const struct module_kind *kind;
static char modname[64];		/* shikumi_chrdev */
static int ko_fd;
static pid_t users[MAX_USERS];
static int nr_users;
static unsigned long refused, went_early, forked;
static int cycle_no;

static void stop_users(void);

static void die(const char *what)
{
	fprintf(stderr, "cycles: %s: %s\n", what, strerror(errno));
	stop_users();
	exit(2);
}

/* a violation ends the run: the users go first, then the module can */
static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cycles: %s, cycle %d: ", modname, cycle_no);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	stop_users();
	exit(1);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(val);

	if (fd < 0 || write(fd, val, len) != len)
		fail("cannot write '%s' to %s: %s", val, path, strerror(errno));
	close(fd);
}

static bool loaded(void)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", modname);
	return !access(path, F_OK);
}

/* ---- users ---------------------------------------------------------------- */

/*
 * Fork a user in a process group of its own, so that it and whatever it
 * forks can be killed at once.  It keeps only stdin, stdout and stderr:
 * bats's fd 3 must not outlive the test.
 */
static void start_user(void (*body)(int arg), int arg)
{
	pid_t pid;

	if (nr_users == MAX_USERS)
		fail("too many users");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		setpgid(0, 0);
		closefrom(3);
		signal(SIGPIPE, SIG_DFL);
		body(arg);
		_exit(0);
	}
	setpgid(pid, pid);
	users[nr_users++] = pid;
	forked++;
}

/*
 * SIGKILL to every user's group, and reap until no process of ours is
 * left: this process is their subreaper, so the users' own children come
 * back to it, not to init, and are reaped here too.
 */
static void stop_users(void)
{
	int i;

	for (i = 0; i < nr_users; i++)
		if (users[i])
			kill(-users[i], SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	nr_users = 0;
}

/* Has one of the users PATH open?  Compared by device and inode. */
static bool user_has_open(const struct stat *want)
{
	char dir[64], path[320];
	struct dirent *d;
	struct stat st;
	DIR *fds;
	int i;

	for (i = 0; i < nr_users; i++) {
		snprintf(dir, sizeof(dir), "/proc/%d/fd", users[i]);
		fds = opendir(dir);
		if (!fds)
			continue;
		while ((d = readdir(fds))) {
			snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
			if (d->d_name[0] != '.' && !stat(path, &st) &&
			    st.st_dev == want->st_dev &&
			    st.st_ino == want->st_ino) {
				closedir(fds);
				return true;
			}
		}
		closedir(fds);
	}
	return false;
}

/* until one of the users has PATH open: 60 s at most */
static void wait_open(const char *path)
{
	struct stat want;
	int i;

	if (stat(path, &want))
		fail("%s after the load: %s", path, strerror(errno));
	for (i = 0; i < 1200; i++) {
		if (user_has_open(&want))
			return;
		nap_ms(50);
	}
	fail("no user opened %s in 60 s", path);
}

static void read_to_end(int path_arg)
{
	const char *path = path_arg ? CS_DIR "/trace_raw" : "/dev/shikumi-chr0";
	static char buf[65536];
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		_exit(1);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

/* ---- the module ----------------------------------------------------------- */

static void load(const char *params)
{
	if (syscall(SYS_finit_module, ko_fd, params, 0))
		fail("cannot load it (%s): %s", params, strerror(errno));
}

static long read_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	return len > 0 ? strtol(buf, NULL, 10) : -1;
}

/* In use: the unload is refused, and the module stays live */
static void busy_unload(void)
{
	char path[128], state[16] = "";
	long refcnt;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", modname);
	refcnt = read_long(path);
	if (refcnt <= 0)
		fail("in use, but refcnt is %ld", refcnt);
	if (!syscall(SYS_delete_module, modname, O_NONBLOCK))
		fail("unloaded while in use (refcnt %ld)", refcnt);
	if (errno != EWOULDBLOCK && errno != EBUSY)
		fail("unload in use: %s, not EWOULDBLOCK", strerror(errno));
	snprintf(path, sizeof(path), "/sys/module/%s/initstate", modname);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, state, sizeof(state) - 1) < 4 ||
	    strncmp(state, "live", 4))
		fail("after the refused unload: initstate '%s'", state);
	close(fd);
	refused++;
}

/* unloaded: nothing of it is left */
static void check_gone(void)
{
	struct stat st;
	glob_t g;
	int i;

	if (loaded())
		fail("/sys/module/%s is left after the unload", modname);
	for (i = 0; kind->leftovers[i]; i++) {
		if (glob(kind->leftovers[i], 0, NULL, &g))
			continue;
		lstat(g.gl_pathv[0], &st);
		fail("%s is left after the unload (mode %o)", g.gl_pathv[0],
		     st.st_mode);
	}
}

/* the module's users are gone: it unloads, and leaves nothing */
static void unload(void)
{
	if (syscall(SYS_delete_module, modname, O_NONBLOCK))
		fail("cannot unload it with its users gone: %s",
		     strerror(errno));
	check_gone();
}

/* ---- chrdev --------------------------------------------------------------- */

static void chr_writer(int dev)
{
	static char zeros[8192];
	char path[32];
	size_t done = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/dev/shikumi-chr%d", dev);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		_exit(1);
	while (done < 100000) {
		n = write(fd, zeros, sizeof(zeros) < 100000 - done ?
			  sizeof(zeros) : 100000 - done);
		if (n <= 0)
			_exit(1);
		done += n;
	}
	_exit(0);
}

static void chrdev_cycle(int i)
{
	char params[32];
	int nr = 1 + i % 4;

	snprintf(params, sizeof(params), "nr_devices=%d", nr);
	load(params);
	start_user(read_to_end, 0);
	start_user(chr_writer, i % nr);
	wait_open("/dev/shikumi-chr0");
	busy_unload();
	stop_users();
	unload();
}

/* ---- ramdisk -------------------------------------------------------------- */

static void ram_holder(int unused)
{
	int fd = open(RAM, O_RDONLY);

	(void)unused;
	if (fd < 0)
		_exit(1);
	pause();
}

/* 256 KiB of fresh data written and read back, O_DIRECT, over and over */
static void ram_io(int seed)
{
	uint64_t x = 0x9e3779b97f4a7c15ull * (seed + 1), *p;
	void *buf;
	size_t k;
	int fd;

	if (posix_memalign(&buf, 4096, 65536))
		_exit(1);
	for (;;) {
		fd = open(RAM, O_RDWR | O_DIRECT);
		if (fd < 0)
			_exit(1);
		for (k = 0; k < 4; k++) {
			for (p = buf; (char *)p < (char *)buf + 65536; p++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				*p = x;
			}
			if (pwrite(fd, buf, 65536, k * 65536) < 0)
				break;
		}
		for (k = 0; k < 4; k++)
			if (pread(fd, buf, 65536, k * 65536) < 0)
				break;
		close(fd);
	}
}

static void ramdisk_cycle(int i)
{
	static const char *const models[] = { "ram", "ssd", "hdd" };
	static const char *const policies[] = { "fifo", "sstf", "clook" };
	char params[48];

	snprintf(params, sizeof(params), "nr_disks=%d size_mb=16", 1 + i % 2);
	load(params);
	write_file(RAM_SYS "model", models[i % 3]);
	write_file(RAM_SYS "policy", policies[i % 3]);
	start_user(ram_holder, 0);
	start_user(ram_io, i);
	wait_open(RAM);
	busy_unload();
	stop_users();
	unload();
}

/* ---- ptdump --------------------------------------------------------------- */

#define PT_DUMP		"/sys/kernel/debug/shikumi/ptdump/dump"

/* what the dumpers did, counted where the parent can see it */
struct pt_counts {
	unsigned long cli_ok, direct_ok;
};
static struct pt_counts *pt_counts;

/* `shikumi pt dump PID` again and again, until one fails */
static void pt_cli_dumper(int pid)
{
	char arg[16];
	int status, null = open("/dev/null", O_WRONLY);
	pid_t child;

	snprintf(arg, sizeof(arg), "%d", pid);
	for (;;) {
		child = fork();
		if (child < 0)
			_exit(1);
		if (!child) {
			dup2(null, 1);
			dup2(null, 2);
			execlp("shikumi", "shikumi", "pt", "dump", arg, NULL);
			_exit(127);
		}
		if (waitpid(child, &status, 0) < 0 || status)
			_exit(0);
		__atomic_add_fetch(&pt_counts->cli_ok, 1, __ATOMIC_RELAXED);
	}
}

/*
 * Full dumps of PID through the file itself, 4 KiB a read, 50 ms apart;
 * or (pt_hold) one dump, left open after its first read.
 */
static bool pt_hold;

static void pt_direct_dumper(int pid)
{
	static char buf[4096];
	char q[64];
	int fd, len;
	ssize_t n;

	len = snprintf(q, sizeof(q), "pid=%d view=full", pid);
	for (;;) {
		fd = open(PT_DUMP, O_RDWR);
		if (fd < 0 || write(fd, q, len) != len)
			_exit(0);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (pt_hold)
				pause();
		close(fd);
		if (n < 0)
			_exit(0);
		__atomic_add_fetch(&pt_counts->direct_ok, 1, __ATOMIC_RELAXED);
		nap_ms(50);
	}
}

/* until every user has exited by itself: false after 60 s */
static bool users_exit(void)
{
	int i, left, tries;

	for (tries = 0; tries < 1200; tries++) {
		for (i = left = 0; i < nr_users; i++)
			if (users[i] && waitpid(users[i], NULL, WNOHANG) == 0)
				left++;
			else
				users[i] = 0;
		if (!left)
			return true;
		nap_ms(50);
	}
	return false;
}

/*
 * Unload while users open, use and close the module's files in a loop
 * (@what they do): refused while one is open; if it went between two,
 * every user's next open fails and it ends on its own.
 */
static void unload_between(const char *what)
{
	if (!syscall(SYS_delete_module, modname, O_NONBLOCK)) {
		went_early++;
		if (!users_exit())
			fail("a user of %s still runs 60 s after the module went", what);
	} else if (errno == EWOULDBLOCK || errno == EBUSY) {
		refused++;
	} else {
		fail("unload during %s: %s", what, strerror(errno));
	}
}

static void ptdump_cycle(int i)
{
	unsigned long cli_ok = pt_counts->cli_ok;
	int t;

	load("");
	/* odd cycles: a dump held open, which must keep the module */
	pt_hold = i % 2;
	start_user(pt_cli_dumper, getpid());
	start_user(pt_direct_dumper, getpid());
	if (pt_hold) {
		wait_open(PT_DUMP);
		busy_unload();
		goto stop;
	}
	nap_ms(100 * (i % 5));
	/* cycles 2, 12, 22...: once the CLI has completed a dump (60 s at most) */
	for (t = 0; i % 10 == 2 && pt_counts->cli_ok == cli_ok; t++) {
		if (t == 1200)
			fail("no dump by the CLI completed in 60 s");
		nap_ms(50);
	}
	/* an open dump holds the module; between two it may go */
	unload_between("dumps");
stop:
	stop_users();
	if (loaded())
		unload();
	else
		check_gone();
}

/* ---- cstrace -------------------------------------------------------------- */

static void cstrace_cycle(int i)
{
	load("");
	write_file(CS_DIR "/enable", "1");
	start_user(read_to_end, 1);
	wait_open(CS_DIR "/trace_raw");
	busy_unload();
	stop_users();
	/* no reader: unloading with tracing on is allowed every other time */
	if (!(i % 2))
		write_file(CS_DIR "/enable", "0");
	unload();
}

/* ---- pgcache ------------------------------------------------------------- */

#define PGC_DIR		"/sys/kernel/debug/shikumi/pgcache"

static const char *pgc_target;	/* the file whose cache is viewed: KO */
static bool pgc_hold;

static void pgc_viewer(int unused)
{
	static char buf[4096];
	char q[64];
	int fd, tfd, len;
	ssize_t n;

	(void)unused;
	tfd = open(pgc_target, O_RDONLY);
	if (tfd < 0)
		_exit(1);
	len = snprintf(q, sizeof(q), "fd=%d", tfd);
	for (;;) {
		fd = open(PGC_DIR "/cache", O_RDWR);
		if (fd < 0 || write(fd, q, len) != len)
			_exit(0);
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (pgc_hold)
				pause();
		close(fd);
		if (n < 0)
			_exit(0);
	}
}

static void pgcache_cycle(int i)
{
	load("");
	pgc_hold = i % 2;
	start_user(pgc_viewer, 0);
	wait_open(PGC_DIR "/cache");
	if (pgc_hold)
		busy_unload();
	else
		unload_between("views");
	stop_users();
	if (loaded())
		unload();
	else
		check_gone();
}

static const struct module_kind kinds[] = {
	{ "chrdev", chrdev_cycle,
	  { "/dev/shikumi-chr*", "/sys/class/shikumi-chr" } },
	{ "ramdisk", ramdisk_cycle,
	  { "/dev/shikumi-ram*", "/sys/block/shikumi-ram*",
	    "/sys/kernel/debug/shikumi/shikumi-ram*" } },
	{ "ptdump", ptdump_cycle, { "/sys/kernel/debug/shikumi/ptdump" } },
	{ "cstrace", cstrace_cycle, { CS_DIR } },
	{ "pgcache", pgcache_cycle, { PGC_DIR } },
};

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	size_t k;
	int n;

	if (argc != 4 || (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: shikumi-cycles MODULE KO CYCLES\n");
		return 2;
	}
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(argv[1], kinds[k].name))
			kind = &kinds[k];
	if (!kind) {
		fprintf(stderr, "cycles: no module kind '%s'\n", argv[1]);
		return 2;
	}
	snprintf(modname, sizeof(modname), "shikumi_%s", kind->name);
	pgc_target = argv[2];
	ko_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (ko_fd < 0)
		die(argv[2]);
	if (loaded())
		fail("already loaded");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		die("PR_SET_CHILD_SUBREAPER");
	if (!strcmp(kind->name, "ptdump")) {
		pt_counts = mmap(NULL, sizeof(*pt_counts), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (pt_counts == MAP_FAILED)
			die("mmap");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (cycle_no = 1; cycle_no <= n; cycle_no++)
		kind->cycle(cycle_no);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the dumps must have run, or the cycles proved nothing */
	if (pt_counts && (!pt_counts->cli_ok || !pt_counts->direct_ok))
		fail("the dumpers did too little: %lu by the CLI, %lu through the file",
		     pt_counts->cli_ok, pt_counts->direct_ok);
	printf("cycles %s: %d load/unload cycles, %lu users forked, %lu unloads refused in use",
	       modname, n, forked, refused);
	if (pt_counts)
		printf(", %lu gone between two dumps; %lu dumps by the CLI and %lu through the file completed",
		       went_early, pt_counts->cli_ok, pt_counts->direct_ok);
	printf(", %ld s\n", (long)(t1.tv_sec - t0.tv_sec));
	return 0;
}
