// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache: the access layer of shikumi_pgcache's debugfs file.  A
 * view opens the file itself, hands the module its descriptor (the module
 * looks at the cache of the file the descriptor is open on, so the
 * kernel's own permission checks decide who may look at what), and reads
 * the raw records of its cached folios.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"

static const struct {
	uint64_t bit;
	const char *name;
} flag_names[] = {
	{ PGC_UPTODATE, "uptodate" },
	{ PGC_DIRTY, "dirty" },
	{ PGC_WRITEBACK, "writeback" },
	{ PGC_MMAP, "mapped" },
	{ PGC_LRU, "lru" },
	{ PGC_ACTIVE, "active" },
	{ PGC_REFERENCED, "referenced" },
	{ PGC_RECLAIM, "reclaim" },
	{ PGC_UNEVICTABLE, "unevictable" },
	{ PGC_LOCKED, "locked" },
	{ PGC_SWAPBACKED, "swapbacked" },
	{ PGC_LARGE, "large" },
	{ PGC_PRIVATE, "private" },
};

/*
 * A flag's name.  On a page that is not under writeback, PG_reclaim is
 * PG_readahead: the mark where the next asynchronous readahead starts.
 */
static const char *flag_name(uint64_t f, size_t i)
{
	if (flag_names[i].bit == PGC_RECLAIM && !(f & PGC_WRITEBACK))
		return "readahead";
	return flag_names[i].name;
}

const char *pgc_flags_str(uint64_t f, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(flag_names) && len < size; i++)
		if (f & flag_names[i].bit)
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
						len ? "," : "", flag_name(f, i));
	if (!buf[0])
		snprintf(buf, size, "-");
	return buf;
}

void pgc_json_flags(struct json *j, const char *key, uint64_t f)
{
	size_t i;

	json_array_begin(j, key);
	for (i = 0; i < ARRAY_SIZE(flag_names); i++)
		if (f & flag_names[i].bit)
			json_string(j, NULL, flag_name(f, i));
	json_array_end(j);
}

void pgc_view_free(struct pgc_view *v)
{
	free(v->r);
	v->r = NULL;
	v->n = 0;
	v->cap = 0;
}

static void pgc_count(struct pgc_view *v, const struct shikumi_pgc_rec *r)
{
	uint64_t n = r->nr_pages;

	v->cached += n;
	v->folios++;
	v->large += !!(r->flags & PGC_LARGE);
	v->dirty += r->flags & PGC_DIRTY ? n : 0;
	v->writeback += r->flags & PGC_WRITEBACK ? n : 0;
	v->mapped += r->flags & PGC_MMAP ? n : 0;
	v->active += r->flags & PGC_ACTIVE ? n : 0;
	v->referenced += r->flags & PGC_REFERENCED ? n : 0;
	v->unevictable += r->flags & PGC_UNEVICTABLE ? n : 0;
}

static int pgc_push(struct pgc_view *v, const struct shikumi_pgc_rec *r, size_t n)
{
	size_t i;

	if (v->n + n > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 1024;
		struct shikumi_pgc_rec *p;

		while (cap < v->n + n)
			cap *= 2;
		p = realloc(v->r, cap * sizeof(*p));
		if (!p) {
			p_err("out of memory");
			return -1;
		}
		v->r = p;
		v->cap = cap;
	}
	for (i = 0; i < n; i++)
		pgc_count(v, &r[i]);
	memcpy(v->r + v->n, r, n * sizeof(*r));
	v->n += n;
	return 0;
}

/* What the module said to a query, as a sentence about @v->path. */
static void pgc_query_err(const struct pgc_view *v, const char *query, int err)
{
	switch (err) {
	case EISDIR:
		p_err("%s is a directory: give a file or a block device", v->path);
		break;
	case ENOTBLK:
		p_err("%s is neither a regular file nor a block device: it has no page cache",
		      v->path);
		break;
	case EOPNOTSUPP:
		p_err("%s is on hugetlbfs, whose cache %s does not show", v->path, PGC_MODULE);
		break;
	case EPERM:
	case EACCES:
		p_err("query '%s': %s: needs root (CAP_SYS_ADMIN)", query, strerror(err));
		break;
	default:
		p_err("%s refused the query '%s': %s", PGC_MODULE, query, strerror(err));
	}
}

static int pgc_file_open(struct pgc_view *v)
{
	struct stat st;
	int fd;

	fd = open(v->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		p_err("cannot open %s: %s", v->path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st)) {
		p_err("cannot stat %s: %s", v->path, strerror(errno));
		close(fd);
		return -1;
	}
	v->blockdev = S_ISBLK(st.st_mode);
	v->size = (uint64_t)st.st_size;
	if (v->blockdev && ioctl(fd, BLKGETSIZE64, &v->size)) {
		p_err("cannot size %s: %s", v->path, strerror(errno));
		close(fd);
		return -1;
	}
	v->pages = (v->size + PGC_PAGE - 1) / PGC_PAGE;
	return fd;
}

/* Read the cached folios of @path (in byte @range, "A-B", if not NULL). */
int pgc_view_read(const char *path, const char *range, struct pgc_view *v)
{
	struct shikumi_pgc_rec buf[512];
	char query[160];
	int fd, cfd, ret = -1;
	ssize_t n;

	memset(v, 0, sizeof(*v));
	v->path = path;
	fd = pgc_file_open(v);
	if (fd < 0)
		return -1;
	cfd = open(PGC_CACHE, O_RDWR | O_CLOEXEC);
	if (cfd < 0) {
		explain_debugfs_err(PGC_MODULE, "open", PGC_CACHE, errno, "CAP_SYS_ADMIN");
		goto close_file;
	}
	snprintf(query, sizeof(query), "fd=%d format=raw%s%s", fd, range ? " range=" : "",
		 range ? range : "");
	if (write(cfd, query, strlen(query)) != (ssize_t)strlen(query)) {
		pgc_query_err(v, query, errno ? errno : EIO);
		goto close_cache;
	}
	/* a signal (a demo's SIGTERM) interrupts the walk, which goes on */
	while ((n = read(cfd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && pgc_push(v, buf, (size_t)n / sizeof(buf[0])))
			goto close_cache;
	if (n < 0) {
		p_err("reading %s: %s", PGC_CACHE, strerror(errno));
		goto close_cache;
	}
	ret = 0;
close_cache:
	close(cfd);
close_file:
	close(fd);
	if (ret)
		pgc_view_free(v);
	return ret;
}
