// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk: the access layer of the shikumi_ramdisk disks: the name
 * tables, files, the disk's sysfs controls and queue, and debugfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"

/* the module's own names: <uapi/shikumi/ramdisk.h> */
const char *const model_names[] = SHIKUMI_BLK_MODEL_NAMES;
const char *const policy_names[] = SHIKUMI_BLK_POLICY_NAMES;
const char *const op_names[OP_NAMES_NR] = SHIKUMI_BLK_OP_NAMES;
const char *const flag_names[SHIKUMI_BLK_NR_FLAGS] = SHIKUMI_BLK_FLAG_NAMES;

const char *name_of(const char *const *names, size_t n, unsigned int i)
{
	return i < n && names[i] ? names[i] : "?";
}

int index_of(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* ---- files --------------------------------------------------------------- */

/* Read all of @fd into a NUL-terminated, malloc'ed buffer. */
char *read_all(int fd, size_t *lenp)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t n;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

char *read_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = read_all(fd, NULL);
	err = errno;
	close(fd);
	errno = err;
	return buf;
}

void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool is_root(void)
{
	return geteuid() == 0;
}

const char *why(int err)
{
	if (err == EACCES || err == EPERM)
		return "needs root";
	return strerror(err);
}

/* ---- the disk ------------------------------------------------------------ */

/* "shikumi-ram0" or "/dev/shikumi-ram0" to "shikumi-ram0". */
static int disk_name(const char *arg, char *name, size_t size)
{
	if (!strncmp(arg, "/dev/", 5))
		arg += 5;
	if (!*arg || *arg == '.' || strchr(arg, '/') || strlen(arg) >= size)
		return -1;
	snprintf(name, size, "%s", arg);
	return 0;
}

int need_module(void)
{
	if (module_is_loaded(RAMDISK_MODULE))
		return 0;
	p_not_loaded(RAMDISK_MODULE);
	return EXIT_FAIL;
}

/* Check -d NAME: a usage error if malformed, a failure if no such disk. */
int need_disk(const char *arg, char *disk, size_t size,
	      const struct cmd_help *help)
{
	char p[PATH_MAX];
	struct stat st;

	if (disk_name(arg, disk, size))
		return usage_error(help, "bad disk name '%s'", arg);
	if (need_module())
		return EXIT_FAIL;
	snprintf(p, sizeof(p), SYS_BLOCK "/%s/shikumi", disk);
	if (stat(p, &st)) {
		p_err("%s is not a shikumi RAM disk (no %s)", disk, p);
		return EXIT_FAIL;
	}
	return 0;
}

void ctl_path(char *p, size_t size, const char *disk, const char *key)
{
	if (snprintf(p, size, SYS_BLOCK "/%s/shikumi/%s", disk, key) >= (int)size)
		p[0] = '\0';	/* too long: open() fails with ENOENT */
}

int ctl_read(const char *disk, const char *key, char *buf, size_t size)
{
	char p[PATH_MAX];

	ctl_path(p, sizeof(p), disk, key);
	return read_file_str(p, buf, size);
}

int ctl_write(const char *disk, const char *key, const char *v)
{
	char p[PATH_MAX];

	ctl_path(p, sizeof(p), disk, key);
	return write_file_str(p, v);
}

bool ctl_exists(const char *disk, const char *key)
{
	char p[PATH_MAX];
	struct stat st;

	ctl_path(p, sizeof(p), disk, key);
	return !stat(p, &st);
}

int queue_read(const char *disk, const char *key, char *buf, size_t size)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/queue/%s", disk, key);
	return read_file_str(p, buf, size);
}

int queue_write(const char *disk, const char *key, const char *v)
{
	char p[PATH_MAX];
	int err;

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/queue/%s", disk, key);
	err = write_file_str(p, v);
	if (err)
		p_err("cannot write '%s' to %s: %s", v, p, why(-err));
	return err;
}

/* The stock elevator in use: the bracketed name of queue/scheduler. */
int stock_scheduler(const char *disk, char *buf, size_t size)
{
	char line[256], *l, *r;

	if (queue_read(disk, "scheduler", line, sizeof(line)))
		return -1;
	l = strchr(line, '[');
	r = l ? strchr(l, ']') : NULL;
	if (r)
		*r = '\0';
	copy_str(buf, size, l && r ? l + 1 : line);
	return 0;
}

uint64_t disk_sectors(const char *disk)
{
	char p[PATH_MAX];
	uint64_t v = 0;

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/size", disk);
	read_file_u64(p, &v);
	return v;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The sysfs controls of @disk whose names start with "@prefix_", sorted.
 * Returns how many (at most @max), or -1; free each name.
 */
int list_params(const char *disk, const char *prefix, char **names,
		int max)
{
	char p[PATH_MAX];
	size_t plen = strlen(prefix);
	struct dirent *de;
	DIR *d;
	int n = 0;

	ctl_path(p, sizeof(p), disk, "");
	d = opendir(p);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max) {
		if (strncmp(de->d_name, prefix, plen) || de->d_name[plen] != '_')
			continue;
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), cmp_str);
	return n;
}

void free_names(char **names, int n)
{
	while (n > 0)
		free(names[--n]);
}

/* ---- debugfs ------------------------------------------------------------- */

int dbg_open(const char *disk, const char *file)
{
	char p[PATH_MAX];
	int fd, err;

	snprintf(p, sizeof(p), DEBUGFS_DIR "/%s/%s", disk, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno;
	explain_debugfs_err(RAMDISK_MODULE, "open", p, err, "root");
	return -1;
}
