// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo: the frame the book's chapter 8 experiments run in
 * (read, write and direct are in cache-demo-read.c and cache-demo-write.c):
 * the directory and the shikumi disk under it, the demo's file, the steps
 * with their outside and inside views, and the report, and the table of
 * the demos.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cache-demo.h"

#define HOWTO	"make one: shikumi load ramdisk; mkfs.ext4 /dev/shikumi-ram0; " \
		"mkdir -p /mnt/shikumi; mount /dev/shikumi-ram0 /mnt/shikumi; " \
		"then give --dir /mnt/shikumi"

/* The options every demo takes, checked; 0 or an exit code. */
int demo_args(int argc, char **argv, const struct opt *opts,
	      const struct cmd_help *help, const char *const *dir,
	      const uint64_t *mib)
{
	int first = parse_options(argc, argv, opts, help);

	if (first < argc)
		return usage_error(help, "unexpected argument '%s'", argv[first]);
	if (!*dir)
		return usage_error(help, "which directory? give --dir DIR on a shikumi disk");
	if (!*mib || *mib > 1024)
		return usage_error(help, "--size: give 1 to 1024 MiB");
	return 0;
}

/* ---- the directory and its disk ------------------------------------------ */

/* The block device @d->dir is on, and the disk it is (a partition of). */
static int find_disk(struct demo *d)
{
	char sys[64], real[PATH_MAX], p[PATH_MAX + 16], *base;
	struct stat st;

	if (stat(d->dir, &st)) {
		p_err("cannot use %s: %s", d->dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		p_err("%s is not a directory", d->dir);
		return -1;
	}
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_dev),
		 minor(st.st_dev));
	if (!realpath(sys, real)) {
		p_err("%s is not on a block device (its st_dev is %u:%u), so not on a shikumi RAM disk: "
		      HOWTO, d->dir, major(st.st_dev), minor(st.st_dev));
		return -1;
	}
	base = strrchr(real, '/');
	copy_str(d->dev, sizeof(d->dev), base + 1);
	snprintf(p, sizeof(p), "%s/partition", real);
	if (!access(p, F_OK)) {
		*base = '\0';
		base = strrchr(real, '/');
	}
	copy_str(d->disk, sizeof(d->disk), base + 1);
	if (strncmp(d->disk, DISK_PREFIX, strlen(DISK_PREFIX)) ||
	    !ctl_exists(d->disk, "")) {
		p_err("%s is on %s, not on a shikumi RAM disk: " HOWTO, d->dir, d->dev);
		return -1;
	}
	return 0;
}

/* Check root, the modules, @dir and its disk; the trace starts empty. */
int demo_open(struct demo *d, const char *name, uint64_t size_mib,
	      const char *dir)
{
	struct trace_buf t = { 0 };
	unsigned char *b;
	size_t i;

	d->name = name;
	d->dir = dir;
	d->fd = -1;
	d->pid = getpid();
	d->size = size_mib << 20;
	d->pages = d->size / PGC_PAGE;
	if (!is_root()) {
		p_err("needs root (drop_caches, debugfs, the vm sysctls)");
		return -1;
	}
	if (find_disk(d))	/* on a shikumi disk: shikumi_ramdisk is loaded */
		return -1;
	if (!module_is_loaded(PGC_MODULE)) {
		p_not_loaded(PGC_MODULE);
		return -1;
	}
	if (posix_memalign(&d->buf, PGC_PAGE, DEMO_CHUNK)) {
		p_err("out of memory");
		return -1;
	}
	for (b = d->buf, i = 0; i < DEMO_CHUNK; i++)
		b[i] = (unsigned char)(i * 31 + 7);
	demo_catch_signals();
	if (drain_trace(d->disk, &t)) {
		trace_free(&t);
		return -1;
	}
	trace_free(&t);
	d->t0 = now_ns();
	return 0;
}

/* Close and remove the demo's file if still there; free everything. */
void demo_close(struct demo *d)
{
	int i;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->path[0] && !d->keep && unlink(d->path) && errno != ENOENT)
		p_warn("cannot remove %s: %s", d->path, strerror(errno));
	d->path[0] = '\0';
	for (i = 0; i < d->nstep; i++)
		trace_free(&d->step[i].t);
	free(d->buf);
	free(d->smp);
}

/* ---- the views ------------------------------------------------------------ */

static void disk_stat(const struct demo *d, struct demo_snap *s)
{
	unsigned long long v[7] = { 0 };
	char p[PATH_MAX], line[512];

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/stat", d->disk);
	if (read_file_str(p, line, sizeof(line)) ||
	    sscanf(line, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6]) != 7)
		p_warn("cannot read %s", p);
	s->rd_ios = v[0];
	s->rd_sectors = v[2];
	s->wr_ios = v[4];
	s->wr_sectors = v[6];
}

static void snap(const struct demo *d, struct demo_snap *s)
{
	s->cached_kb = meminfo_kb("Cached");
	s->dirty_kb = meminfo_kb("Dirty");
	s->writeback_kb = meminfo_kb("Writeback");
	s->buffers_kb = meminfo_kb("Buffers");
	s->mapped_kb = meminfo_kb("Mapped");
	s->pgpgin_kb = vmstat("pgpgin");
	s->pgpgout_kb = vmstat("pgpgout");
	disk_stat(d, s);
}

/* The file's view: 0 with the totals in the current step, or -1. */
int demo_view(struct demo *d, uint64_t *dirty, uint64_t *writeback)
{
	struct demo_step *s = &d->step[d->nstep - 1];
	struct pgc_view v;

	if (pgc_view_read(d->path, NULL, &v))
		return -1;
	s->have_view = true;
	s->cached = v.cached;
	s->dirty = v.dirty;
	s->writeback = v.writeback;
	if (dirty)
		*dirty = v.dirty;
	if (writeback)
		*writeback = v.writeback;
	pgc_view_free(&v);
	return 0;
}

struct demo_step *demo_step_begin(struct demo *d, const char *key,
				  const char *label)
{
	struct demo_step *s;

	if (d->nstep == DEMO_MAX_STEPS) {
		p_err("too many steps");	/* a bug: raise DEMO_MAX_STEPS */
		return NULL;
	}
	s = &d->step[d->nstep++];
	s->key = key;
	s->label = label;
	snap(d, &s->a);
	s->t_ns = now_ns();
	return s;
}

/* The end of @s: its time, the outside, the inside if the file is there. */
int demo_step_end(struct demo *d, struct demo_step *s)
{
	s->ns = now_ns() - s->t_ns;
	snap(d, &s->b);
	if (d->path[0] && demo_view(d, NULL, NULL))
		return -1;
	return drain_trace(d->disk, &s->t);
}

/* ---- the file -------------------------------------------------------------- */

int demo_create(struct demo *d, int flags)
{
	snprintf(d->path, sizeof(d->path), "%s/shikumi-cache-demo.%d", d->dir,
		 (int)d->pid);
	d->fd = open(d->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | flags, 0600);
	if (d->fd < 0) {
		p_err("cannot create %s: %s", d->path, strerror(errno));
		d->path[0] = '\0';
		return -1;
	}
	return 0;
}

int demo_fsync(struct demo *d)
{
	if (fsync(d->fd)) {
		p_err("fsync %s: %s", d->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Write the whole file from its start, DEMO_CHUNK bytes a write(). */
int demo_write_all(struct demo *d)
{
	uint64_t off;
	ssize_t n;

	for (off = 0; off < d->size; off += (uint64_t)n) {
		size_t len = d->size - off < DEMO_CHUNK ? d->size - off : DEMO_CHUNK;

		if (demo_stopped())
			return -1;
		n = pwrite(d->fd, d->buf, len, (off_t)off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			p_err("cannot write %s: %s", d->path, n ? strerror(errno) : "short write");
			return -1;
		}
	}
	return 0;
}

/* Read the whole file from its start, @chunk bytes a read(). */
int demo_read_all(struct demo *d, size_t chunk)
{
	uint64_t off;
	ssize_t n;

	for (off = 0; off < d->size; off += (uint64_t)n) {
		if (demo_stopped())
			return -1;
		n = pread(d->fd, d->buf, chunk, (off_t)off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			p_err("cannot read %s: %s", d->path, n ? strerror(errno) : "end of file");
			return -1;
		}
	}
	return 0;
}

/* The book's echo 3 > /proc/sys/vm/drop_caches */
int demo_drop_caches(void)
{
	int err = write_file_str("/proc/sys/vm/drop_caches", "3");

	if (err)
		p_err("cannot write 3 to /proc/sys/vm/drop_caches: %s", strerror(-err));
	return err ? -1 : 0;
}

/* One panel to @path as an SVG document */
int write_svg(const char *path, const char *title, const struct plot *p)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ret = svg_write_plots(f, title, p, 1);
	if (fclose(f) || ret) {
		p_err("cannot write %s", path);
		return -1;
	}
	return 0;
}

/* The last step: what unlinking the file asked of the disk, unless kept. */
int demo_remove_step(struct demo *d)
{
	struct demo_step *s;

	close(d->fd);
	d->fd = -1;
	if (d->keep)
		return 0;
	s = demo_step_begin(d, "remove", "remove the file");
	if (!s)
		return -1;
	if (unlink(d->path)) {
		p_err("cannot remove %s: %s", d->path, strerror(errno));
		return -1;
	}
	d->path[0] = '\0';
	return demo_step_end(d, s);
}

/* ---- the table of the demos ----------------------------------------------- */

static const struct cmd demo_cmds[] = {
	{ "read", demo_read_cmd, "a first read goes to the disk, readahead too; a second not" },
	{ "write", demo_write_cmd, "written pages stay dirty until the flusher or fsync" },
	{ "direct", demo_direct_cmd, "O_DIRECT goes to the disk and skips the page cache" },
	{ "mmap", demo_mmap_cmd, "two processes map one file: one PFN, a dirty PTE, msync" },
	{ "buffer", demo_buffer_cmd, "the block device's own cache: raw reads, metadata" },
	{ "swap", demo_swap_cmd, "pages pushed out to swap, and read back by major faults" },
	{ NULL, NULL, NULL },
};

int cache_demo_cmd(int argc, char **argv)
{
	return run_subcommand(argc, argv, demo_cmds,
			      "shikumi cache demo read|write|direct|mmap|buffer|swap [OPTIONS]");
}
