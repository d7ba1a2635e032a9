// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo buffer: the block device's own page cache, which
 * free(1) calls buffers (chapter 8).  Reading the device itself fills it,
 * and so does a file system reading its metadata: ext4 reads inode tables
 * and directory blocks through the device's cache (sb_bread()), with
 * REQ_META.  Each step shows the device's cached pages (shikumi_pgcache),
 * /proc/meminfo's Buffers, and the metadata reads in the disk's trace.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache-demo.h"

#define PER_DIR		50	/* files in each directory of the tree */

struct bf_step {
	bool have;
	uint64_t cached, range;		/* the device's pages; of them, in the read range */
	uint64_t meta_reads, meta_bytes;	/* reads with REQ_META */
	uint64_t files, dirs;		/* what the walk found */
};

struct bf_demo {
	char devpath[PATH_MAX];		/* /dev/DEV */
	char tree[PATH_MAX];		/* DIR/shikumi-cache-demo-buffer.PID */
	uint64_t files, made;		/* asked for; made (to remove) */
	uint64_t dirs;			/* directories made (to remove) */
	uint64_t found_files, found_dirs;
	struct bf_step st[DEMO_MAX_STEPS];
};

static const struct cmd_help buffer_help = {
	.usage = "--dir DIR [--size MIB] [--files N] [--keep] [--json]",
	.summary = "The block device's own cache (free's buffers): reading the device under\n"
		   "DIR with read(), and a file system reading its metadata, fill it.",
	.details =
	"The demo makes a tree of --files empty files (default 1000), 50 to a\n"
	"directory, in DIR and syncs it.  It drops the caches and reads the first\n"
	"--size MiB (default 8) of the block device DIR is on (the partition, or\n"
	"the disk), 64 KiB a read(), with POSIX_FADV_RANDOM so that no readahead\n"
	"reads past them: the device's cache gains those pages and /proc/meminfo's\n"
	"Buffers grows by as much.  (The requests carry the readahead flag, as\n"
	"they go out through the readahead code, but hold only the pages asked\n"
	"for.)  It drops the caches again and walks the tree (readdir and stat):\n"
	"the file system reads its inode tables and directory blocks into the\n"
	"device's cache, and the trace shows those reads, sent by this process,\n"
	"with the meta flag (REQ_META; what ext4 reads ahead goes without it).\n"
	"Each step shows the device's cached pages (shikumi_pgcache), Buffers,\n"
	"and the steps' outside and inside views as in 'shikumi cache demo read'.\n"
	"The tree is removed at the end unless --keep.  Needs root,\n"
	"shikumi_ramdisk and shikumi_pgcache.",
};

/* ---- the tree -------------------------------------------------------------- */

static void tree_name(const struct bf_demo *b, uint64_t i, bool file, char *p, size_t size)
{
	if (file)
		snprintf(p, size, "%s/d%04llu/f%04llu", b->tree, U(i / PER_DIR), U(i % PER_DIR));
	else
		snprintf(p, size, "%s/d%04llu", b->tree, U(i / PER_DIR));
}

static int tree_make(struct demo *d, struct bf_demo *b)
{
	char p[PATH_MAX + 32];
	uint64_t i;
	int fd;

	snprintf(b->tree, sizeof(b->tree), "%s/shikumi-cache-demo-buffer.%d", d->dir, (int)d->pid);
	if (mkdir(b->tree, 0700)) {
		p_err("cannot make %s: %s", b->tree, strerror(errno));
		b->tree[0] = '\0';
		return -1;
	}
	for (i = 0; i < b->files; i++) {
		tree_name(b, i, false, p, sizeof(p));
		if (i % PER_DIR == 0) {
			if (mkdir(p, 0700)) {
				p_err("cannot make %s: %s", p, strerror(errno));
				return -1;
			}
			b->dirs = i / PER_DIR + 1;
		}
		tree_name(b, i, true, p, sizeof(p));
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			p_err("cannot create %s: %s", p, strerror(errno));
			return -1;
		}
		close(fd);
		b->made = i + 1;
		if (demo_stopped())
			return -1;
	}
	sync();
	return 0;
}

/* Remove what tree_make() made; 0, or -1 after saying what stayed. */
static int tree_remove(struct bf_demo *b)
{
	char p[PATH_MAX + 32];
	uint64_t i;
	int ret = 0;

	if (!b->tree[0])
		return 0;
	for (i = 0; i < b->made; i++) {
		tree_name(b, i, true, p, sizeof(p));
		if (unlink(p) && errno != ENOENT)
			ret = -1;
	}
	/* every directory made, also one whose first file failed */
	for (i = 0; i < b->dirs; i++) {
		tree_name(b, i * PER_DIR, false, p, sizeof(p));
		if (rmdir(p) && errno != ENOENT)
			ret = -1;
	}
	if (rmdir(b->tree) && errno != ENOENT)
		ret = -1;
	if (ret)
		p_warn("could not remove all of %s", b->tree);
	b->tree[0] = '\0';
	return ret;
}

/* readdir every directory of the tree, and stat what it holds */
static int tree_walk(struct bf_demo *b, const char *path, int depth)
{
	struct dirent *e;
	struct stat st;
	DIR *dir = opendir(path);
	int ret = 0;

	if (!dir) {
		p_err("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	b->found_dirs++;
	while (!ret && (e = readdir(dir))) {
		char p[PATH_MAX];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			p_err("cannot stat %s/%s: %s", path, e->d_name, strerror(errno));
			ret = -1;
		} else if (S_ISDIR(st.st_mode) && depth < 2) {
			snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
			ret = tree_walk(b, p, depth + 1);
		} else {
			b->found_files += !!S_ISREG(st.st_mode);
		}
	}
	closedir(dir);
	return ret;
}

/* ---- the device ------------------------------------------------------------- */

/* Read the device's first @d->size bytes, 64 KiB a read(), no readahead. */
static int dev_read(struct demo *d, const struct bf_demo *b)
{
	uint64_t off, size = 0;
	ssize_t n;
	int fd = open(b->devpath, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		p_err("cannot open %s: %s", b->devpath, strerror(errno));
		return -1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) || size < d->size) {
		p_err("%s holds %llu MiB, fewer than --size %llu", b->devpath, U(size >> 20),
		      U(d->size >> 20));
		close(fd);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
	for (off = 0; off < d->size; off += (uint64_t)n) {
		n = pread(fd, d->buf, DEMO_CHUNK, (off_t)off);
		if (n < 0 && errno == EINTR && !demo_signal) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			p_err("cannot read %s: %s", b->devpath,
			      n ? strerror(errno) : "end of device");
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

/* The end of a step: the frame's, then the device's view and meta reads. */
static int bf_step_end(struct demo *d, struct demo_step *s)
{
	struct bf_demo *b = d->own;
	struct bf_step *st = &b->st[s - d->step];
	struct pgc_view v;
	size_t i;

	if (demo_step_end(d, s) || pgc_view_read(b->devpath, NULL, &v))
		return -1;
	for (i = 0; i < v.n; i++)
		if (v.r[i].index < d->pages)
			st->range += v.r[i].index + v.r[i].nr_pages <= d->pages ?
				     v.r[i].nr_pages : d->pages - v.r[i].index;
	s->have_view = true;
	s->cached = v.cached;
	s->dirty = v.dirty;
	s->writeback = v.writeback;
	st->have = true;
	st->cached = v.cached;
	pgc_view_free(&v);
	for (i = 0; i < s->t.n; i++) {
		if (s->t.r[i].op != SHIKUMI_BLK_OP_READ ||
		    !(s->t.r[i].flags & SHIKUMI_BLK_F_META))
			continue;
		st->meta_reads++;
		st->meta_bytes += s->t.r[i].bytes;
	}
	st->files = b->found_files;
	st->dirs = b->found_dirs;
	return 0;
}

static int buffer_steps(struct demo *d, struct bf_demo *b)
{
	struct demo_step *s;

	s = demo_step_begin(d, "make_tree", "make the tree, sync");
	if (!s || tree_make(d, b) || bf_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "drop_caches", "drop_caches");
	if (!s || demo_drop_caches() || bf_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "read_device", "read the device");
	if (!s || dev_read(d, b) || bf_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "drop_caches_again", "drop_caches again");
	if (!s || demo_drop_caches() || bf_step_end(d, s) || demo_stopped())
		return -1;
	s = demo_step_begin(d, "walk_tree", "walk the tree");
	if (!s || tree_walk(b, b->tree, 0) || bf_step_end(d, s) || demo_stopped())
		return -1;
	if (d->keep)
		return 0;
	s = demo_step_begin(d, "remove", "remove the tree");
	if (!s || tree_remove(b) || bf_step_end(d, s))
		return -1;
	return 0;
}

/* ---- the report's own part -------------------------------------------------- */

static void bf_text(const struct demo *d)
{
	const struct bf_demo *b = d->own;
	const struct bf_step *st;
	int i;

	printf("\nthe device's own cache: %s (shikumi_pgcache), /proc/meminfo's Buffers (kB)\n",
	       b->devpath);
	printf("  %-22s %8s %8s %9s %9s %9s %10s %8s %6s\n", "step", "cached", "dcached",
	       "read_rng", "Buffers", "dBuffers", "meta_reads", "meta_KiB", "files");
	for (i = 0; i < d->nstep; i++) {
		const struct demo_step *s = &d->step[i];
		int64_t dc = i ? (int64_t)b->st[i].cached - (int64_t)b->st[i - 1].cached : 0;

		st = &b->st[i];
		printf("  %-22s %8" PRIu64 " %+8" PRId64 " %9" PRIu64 " %9lld %+9lld %10" PRIu64
		       " %8" PRIu64 " %6" PRIu64 "\n", s->label, st->cached, dc, st->range,
		       s->b.buffers_kb, s->b.buffers_kb - s->a.buffers_kb, st->meta_reads,
		       st->meta_bytes / 1024, st->files);
	}
	printf("  read_rng: of the device's first %" PRIu64 " pages (the read), those cached;\n"
	       "  the tree holds %" PRIu64 " files in %" PRIu64 " directories\n", d->pages,
	       b->files, (b->files + PER_DIR - 1) / PER_DIR);
}

static void bf_json(struct json *j, const struct demo *d, int step)
{
	const struct bf_demo *b = d->own;
	const struct bf_step *st = &b->st[step];

	json_object_begin(j, "device");
	json_string(j, "path", b->devpath);
	json_u64(j, "cached", st->cached);
	json_u64(j, "read_range_cached", st->range);
	json_u64(j, "meta_reads", st->meta_reads);
	json_u64(j, "meta_read_bytes", st->meta_bytes);
	json_u64(j, "files_found", st->files);
	json_u64(j, "dirs_found", st->dirs);
	json_object_end(j);
}

int demo_buffer_cmd(int argc, char **argv)
{
	struct demo d = { 0 };
	struct bf_demo b = { 0 };
	const char *dir = NULL;
	uint64_t mib = DEMO_DEFAULT_MIB, files = 1000;
	int ret;
	const struct opt opts[] = {
		DIR_OPT(&dir),
		OPT_NUM('s', "size", &mib, "MIB", "MiB of the device to read (default 8)"),
		OPT_NUM('n', "files", &files, "N", "files in the tree (default 1000)"),
		OPT_BOOLEAN('k', "keep", &d.keep,
			    "leave the tree in DIR at the end (remove it yourself)"),
		OPT_FINISH(),
	};

	ret = demo_args(argc, argv, opts, &buffer_help, &dir, &mib);
	if (ret)
		return ret;
	if (!files || files > 100000)
		return usage_error(&buffer_help, "--files: give 1 to 100000");
	b.files = files;
	d.own = &b;
	d.own_text = bf_text;
	d.own_json = bf_json;
	d.what = "device read";
	ret = EXIT_FAIL;
	if (demo_open(&d, "buffer", mib, dir))
		goto out;
	snprintf(b.devpath, sizeof(b.devpath), "/dev/%s", d.dev);
	if (buffer_steps(&d, &b) || demo_report(&d))
		goto out;
	ret = EXIT_OK;
out:
	if (!d.keep && tree_remove(&b))
		ret = EXIT_FAIL;
	demo_close(&d);
	return ret;
}
