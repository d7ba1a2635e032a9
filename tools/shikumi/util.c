// SPDX-License-Identifier: GPL-2.0
/* Messages, files, time and the source tree. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "shikumi.h"

static void vmsg(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s", prog_name, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/*
 * An error goes to stderr and, under --json, also to stdout as
 * {"error": "..."}, as bpftool does, so that a script reading stdout
 * learns why there is no report: once, and only if no report has begun.
 */
void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
	if (opt_json) {
		char msg[1024];

		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		json_error(msg);
	}
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("note: ", fmt, ap);
	va_end(ap);
}

int read_file_str(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int read_file_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int ret;

	ret = read_file_str(path, buf, sizeof(buf));
	if (ret)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static bool is_repo_root(const char *dir)
{
	char p[PATH_MAX + 32];
	struct stat st;

	snprintf(p, sizeof(p), "%s/include/uapi/shikumi", dir);
	if (stat(p, &st) || !S_ISDIR(st.st_mode))
		return false;
	snprintf(p, sizeof(p), "%s/Kbuild", dir);
	return !stat(p, &st) && S_ISREG(st.st_mode);
}

const char *find_repo_root(void)
{
	static char root[PATH_MAX];
	static bool done;
	char *slash;

	if (done)
		return root[0] ? root : NULL;
	done = true;
	if (!getcwd(root, sizeof(root))) {
		root[0] = '\0';
		return NULL;
	}
	for (;;) {
		if (is_repo_root(root))
			return root;
		slash = strrchr(root, '/');
		if (!slash || slash == root)
			break;
		*slash = '\0';
	}
	root[0] = '\0';
	return NULL;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* scandir() order of numbered device names: shikumi-chr2 before shikumi-chr10 */
int cmp_dev_names(const struct dirent **a, const struct dirent **b)
{
	size_t la = strlen((*a)->d_name), lb = strlen((*b)->d_name);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp((*a)->d_name, (*b)->d_name);
}

int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double percentile(double *v, size_t n, double p)
{
	size_t rank;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	/* nearest rank: the smallest value with at least p% at or below it */
	rank = (size_t)((p / 100.0) * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

/* Write @v to a sysfs-like file in one write(): 0 or -errno. */
int write_file_str(const char *path, const char *v)
{
	size_t len = strlen(v);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, v, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* Is debugfs mounted at /sys/kernel/debug? */
bool debugfs_mounted(void)
{
	struct statfs sf;

	return !statfs("/sys/kernel/debug", &sf) && sf.f_type == 0x64626720;
}

/*
 * Is the kernel in lockdown?  "[none] integrity confidentiality" is not.
 * Under lockdown debugfs refuses every file that is not 0444.
 */
bool kernel_locked_down(void)
{
	char buf[128];

	return !read_file_str("/sys/kernel/security/lockdown", buf, sizeof(buf)) &&
	       !strstr(buf, "[none]");
}

void p_not_loaded(const char *module)
{
	p_err("%s is not loaded: run 'shikumi load %s' as root", module, module);
}

void explain_debugfs_err(const char *module, const char *what,
			 const char *path, int err, const char *priv)
{
	bool denied = err == EACCES || err == EPERM;

	if (err == ENOENT && !debugfs_mounted())
		p_err("debugfs is not mounted: mount -t debugfs none " DEBUGFS_ROOT);
	else if (err == ENOENT && !module_is_loaded(module))
		p_not_loaded(module);
	else if (denied && !geteuid() && kernel_locked_down())
		p_err("cannot %s %s: %s: the kernel is locked down (Secure Boot), and lockdown allows no writable debugfs file",
		      what, path, strerror(err));
	else if (denied)
		p_err("cannot %s %s: %s: needs root (%s)", what, path,
		      strerror(err), priv);
	else
		p_err("cannot %s %s: %s", what, path, strerror(err));
}

/* A number, decimal or 0x-hex, as an address or an offset: 0, or -1 */
int parse_addr(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

int parse_range(const char *s, uint64_t *a, uint64_t *b)
{
	char buf[64], *dash;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	dash = strchr(buf, '-');
	if (!dash)
		return -1;
	*dash = '\0';
	return parse_addr(buf, a) || parse_addr(dash + 1, b) ? -1 : 0;
}

/* Whether @prog is a program in $PATH, as the shell would find it. */
bool in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	const char *p, *colon;

	for (p = path ? path : "/usr/bin:/bin"; *p; p = colon + 1) {
		colon = strchrnul(p, ':');
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)(colon - p), p, prog);
		if (!access(buf, X_OK))
			return true;
		if (!*colon)
			break;
	}
	return false;
}
