// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk demo powercut: chapters 7 and 9 on one disk.  ext4 on a
 * shikumi disk with its volatile write cache on; each round makes a new
 * ext4, writes files, fsyncs half of them, and cuts the power, torn (each
 * non-durable sector kept or lost by the round's seed).  Then the power
 * comes back, ext4 replays its journal at mount, the fsynced files are
 * read back, and fsck.ext4 -fn judges the file system.  Once with ext4's
 * barriers (its default: a flush at each commit and fsync, FUA for the
 * commit block), once with barrier=0, which sends neither: fsync returns
 * while the data is still only in the disk's cache.
 *
 * The report (blk-demo-powercut-report.c) puts the two side by side.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "blk.h"
#include "blk-demo-powercut.h"

#define PC_LABEL	"shikumi-pcut"	/* the demo's ext4s, which it may remake */

#ifndef EXT4_IOC_CHECKPOINT	/* <linux/ext4.h>, not in every libc's headers */
#define EXT4_IOC_CHECKPOINT	_IOW('f', 43, uint32_t)
#endif
#define PC_HEAD_BYTES	(128 * 1024)	/* what must be zero on an empty disk */

/* POSIX cksum's CRC, as cksum(1) prints it: CRC-32/CKSUM of the data and its length. */
static uint32_t crc_bytes(uint32_t crc, const unsigned char *p, size_t n)
{
	int i;

	while (n--) {
		crc ^= (uint32_t)*p++ << 24;
		for (i = 0; i < 8; i++)
			crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

static uint32_t posix_cksum(const unsigned char *p, size_t n)
{
	uint32_t crc = crc_bytes(0, p, n);
	unsigned char b;

	for (; n; n >>= 8) {
		b = n & 0xff;
		crc = crc_bytes(crc, &b, 1);
	}
	return ~crc;
}

/* Contents no two files, rounds or modes share. */
static void pc_fill(unsigned char *buf, size_t n, uint64_t x)
{
	size_t i;

	x = x * 0x9e3779b97f4a7c15ULL + 1;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

/*
 * Write @path: fsynced (durable, as far as the application is told), or
 * only sent to the disk (sync_file_range: in its cache, not durable).
 */
static int pc_write(const char *path, const unsigned char *buf, bool durable)
{
	int fd, err = 0;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		p_err("%s: %s", path, strerror(errno));
		return -1;
	}
	n = write(fd, buf, PC_FILE_BYTES);
	if (n != PC_FILE_BYTES)
		err = n < 0 ? errno : EIO;
	else if (durable && fsync(fd))
		err = errno;
	else if (!durable && sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE |
					     SYNC_FILE_RANGE_WRITE |
					     SYNC_FILE_RANGE_WAIT_AFTER))
		err = errno;
	close(fd);
	if (err)
		p_err("%s: %s", path, strerror(err));
	return err ? -1 : 0;
}

/* Is @path whole, with the cksum it was written with? */
static bool pc_intact(const char *path, uint32_t crc)
{
	unsigned char *buf = malloc(PC_FILE_BYTES + 1);
	ssize_t n = -1;
	bool ok;
	int fd;

	if (!buf)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, PC_FILE_BYTES + 1);
		close(fd);
	}
	ok = n == PC_FILE_BYTES && posix_cksum(buf, PC_FILE_BYTES) == crc;
	free(buf);
	return ok;
}

/*
 * What ext4 does by itself when its journal fills, and at unmount: write
 * the journal's metadata to its home on the disk, then mark the journal
 * empty.  With barriers, jbd2 flushes the disk's cache before it marks
 * it; with barrier=0 it does not, and a cut may keep the journal's "empty"
 * while it loses the metadata's new home.
 */
static int pc_checkpoint(const struct pc_demo *d)
{
	uint32_t flags = 0;
	int fd, err = 0;

	fd = open(d->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, EXT4_IOC_CHECKPOINT, &flags))
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		p_err("cannot checkpoint ext4's journal on %s (EXT4_IOC_CHECKPOINT): %s",
		      d->mnt, strerror(err));
	return err ? -1 : 0;
}

/*
 * The load: files fsynced and files not, in turn, with a checkpoint of
 * the journal halfway; then the counts.
 */
static int pc_load(const struct pc_demo *d, int m, struct pc_round *r)
{
	unsigned char *buf = malloc(PC_FILE_BYTES);
	char path[160];
	uint64_t i;
	int ret = 0;

	if (!buf) {
		p_err("out of memory");
		return -1;
	}
	for (i = 0; i < d->files && !ret && !demo_signal; i++) {
		struct pc_file *f = &r->file[i];

		snprintf(f->name, sizeof(f->name), "fsynced-%llu", (unsigned long long)i);
		snprintf(path, sizeof(path), "%s/%s", d->mnt, f->name);
		pc_fill(buf, PC_FILE_BYTES, (r->seed << 16) ^ ((uint64_t)m << 8) ^ i);
		f->crc = posix_cksum(buf, PC_FILE_BYTES);
		ret = pc_write(path, buf, true);
		snprintf(path, sizeof(path), "%s/unsynced-%llu", d->mnt,
			 (unsigned long long)i);
		pc_fill(buf, PC_FILE_BYTES, ~((r->seed << 16) ^ ((uint64_t)m << 8) ^ i));
		if (!ret)
			ret = pc_write(path, buf, false);
		if (!ret && i == (d->files - 1) / 2)
			ret = pc_checkpoint(d);
	}
	free(buf);
	return ret ?: demo_stopped();
}

/* Cut the power, torn by the round's seed; what it dropped and kept. */
static int pc_cut(const struct pc_demo *d, struct pc_round *r)
{
	struct blk_stats s0, s1;
	char v[48];
	int err, fd;

	if (read_stats(d->disk, &s0))
		return -1;
	snprintf(v, sizeof(v), "off torn %llu", (unsigned long long)r->seed);
	err = ctl_write(d->disk, "power", v);
	if (err) {
		p_ctl_err(d->disk, "power", "cut the power of", err);
		return -1;
	}
	if (read_stats(d->disk, &s1))
		return -1;
	r->dropped = s1.cut_sectors_dropped - s0.cut_sectors_dropped;
	r->kept = s1.cut_sectors_kept - s0.cut_sectors_kept;
	/*
	 * What it writes back fails: the power is off.  Not lazily: a mount
	 * still alive would be found again by the next, with no replay.
	 */
	if (umount2(d->mnt, 0)) {
		p_err("cannot unmount %s: %s", d->mnt, strerror(errno));
		return -1;
	}
	/*
	 * The device's page cache still holds what the disk lost: drop it
	 * (its writeback fails, the power is off; what matters is the drop)
	 */
	fd = open(d->dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p_err("%s: %s", d->dev, strerror(errno));
		return -1;
	}
	ioctl(fd, BLKFLSBUF, 0);
	close(fd);
	err = ctl_write(d->disk, "power", "on");
	if (err) {
		p_ctl_err(d->disk, "power", "power on", err);
		return -1;
	}
	return 0;
}

/* After the cut: mount (the journal's replay), read back, fsck. */
static int pc_judge(const struct pc_demo *d, const struct pc_mode *mode,
		    struct pc_round *r)
{
	char *fsck[] = { "fsck.ext4", "-fn", (char *)d->dev, NULL };
	char path[160];
	uint64_t i;

	r->mounted = !mount(d->dev, d->mnt, "ext4", 0, mode->mount_opts);
	r->mount_errno = r->mounted ? 0 : errno;
	r->intact = 0;
	for (i = 0; i < d->files; i++) {
		snprintf(path, sizeof(path), "%s/%s", d->mnt, r->file[i].name);
		r->file[i].intact = r->mounted && pc_intact(path, r->file[i].crc);
		r->intact += r->file[i].intact;
	}
	if (r->mounted && umount2(d->mnt, 0)) {
		p_err("cannot unmount %s: %s", d->mnt, strerror(errno));
		return -1;
	}
	/* its version on stderr, its findings on stdout: the verdict is its code */
	r->fsck = run_prog_err(fsck, NULL, "/dev/null");
	if (r->fsck < 0 || r->fsck >= 8) {
		if (r->fsck >= 8 && r->fsck != 127)
			p_err("fsck.ext4 -fn %s could not check it (exit code %d)", d->dev,
			      r->fsck);
		return -1;
	}
	return 0;
}

static int pc_round(struct pc_demo *d, int m, struct pc_round *r)
{
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", PC_LABEL, "-E",
			 "lazy_itable_init=0,lazy_journal_init=0", d->dev, NULL };
	struct pc_mode *mode = &d->mode[m];
	struct blk_stats s0, s1;
	int ret;

	ret = run_prog(mkfs, NULL);
	if (ret) {
		if (!demo_stopped() && ret != 127)
			p_err("mkfs.ext4 %s failed (exit code %d)", d->dev, ret);
		return -1;
	}
	if (mount(d->dev, d->mnt, "ext4", 0, mode->mount_opts)) {
		p_err("cannot mount %s on %s (%s): %s", d->dev, d->mnt,
		      mode->mount_opts, strerror(errno));
		return -1;
	}
	if (read_stats(d->disk, &s0) || pc_load(d, m, r) || read_stats(d->disk, &s1)) {
		umount2(d->mnt, 0);
		return -1;
	}
	r->flushes = s1.cache_flushes - s0.cache_flushes;
	r->fua_writes = s1.cache_fua_writes - s0.cache_fua_writes;
	if (pc_cut(d, r))
		return -1;
	return pc_judge(d, mode, r);
}

/*
 * An empty disk (its first 128 KiB zero), or one of this demo's ext4s:
 * anything else may be someone's data.  O_EXCL: not mounted, not in use.
 */
static int pc_check_disk(const struct pc_demo *d)
{
	unsigned char *buf = calloc(1, PC_HEAD_BYTES);
	bool ours;
	ssize_t n;
	size_t i;
	int fd, e;

	if (!buf) {
		p_err("out of memory");
		return -1;
	}
	fd = open(d->dev, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		p_err("cannot open %s exclusively: %s (mounted, or in use?)", d->dev,
		      strerror(errno));
		free(buf);
		return -1;
	}
	n = pread(fd, buf, PC_HEAD_BYTES, 0);
	e = errno;
	close(fd);
	if (n != PC_HEAD_BYTES) {
		p_err("cannot read %s: %s", d->dev, n < 0 ? strerror(e) : "short read");
		free(buf);
		return -1;
	}
	for (i = 0; i < PC_HEAD_BYTES && !buf[i]; i++)
		;
	/* ext4's superblock at 1024: magic at 56, volume name at 120 */
	ours = buf[1024 + 56] == 0x53 && buf[1024 + 57] == 0xef &&
	       !strncmp((char *)buf + 1024 + 120, PC_LABEL, 16);
	free(buf);
	if (i < PC_HEAD_BYTES && !ours) {
		p_err("%s holds data (byte %zu is not zero), which each round's mkfs would destroy; give an empty shikumi disk (blkdiscard -f %s empties one)",
		      d->dev, i, d->dev);
		return -1;
	}
	return 0;
}

/* Every round of every mode asked; the disk's cache on meanwhile. */
static int pc_run(struct pc_demo *d)
{
	char wc[16] = "0", power[32] = "on";
	int m, ret = 0, err;
	uint64_t r;

	if (ctl_read(d->disk, "write_cache", wc, sizeof(wc)) ||
	    ctl_read(d->disk, "power", power, sizeof(power))) {
		p_err("cannot read the write cache and power of %s", d->disk);
		return -1;
	}
	if (strncmp(power, "on", 2)) {
		p_err("the power of %s is off (shikumi blk poweron %s)", d->disk, d->disk);
		return -1;
	}
	if (!mkdtemp(d->mnt)) {
		p_err("mkdtemp: %s", strerror(errno));
		return -1;
	}
	err = ctl_write(d->disk, "write_cache", "1");
	if (err) {
		p_ctl_err(d->disk, "write_cache", "turn on the write cache of", err);
		ret = -1;
	}
	for (m = 0; m < PC_MODES && !ret; m++)
		for (r = 0; r < d->rounds && d->mode[m].run && !ret; r++) {
			d->mode[m].round[r].seed = d->seed + r;
			if (!opt_json)
				fprintf(stderr, "%s, round %llu of %llu (seed %llu)\n",
					d->mode[m].name, (unsigned long long)r + 1,
					(unsigned long long)d->rounds,
					(unsigned long long)d->seed + r);
			ret = pc_round(d, m, &d->mode[m].round[r]) ?: demo_stopped();
		}
	/* whatever happened: not mounted, the power on, the cache as it was */
	if (umount2(d->mnt, 0) && errno != EINVAL)
		p_err("cannot unmount %s: %s", d->mnt, strerror(errno));
	rmdir(d->mnt);
	err = ctl_write(d->disk, "power", "on");
	if (err) {
		p_ctl_err(d->disk, "power", "power on", err);
		ret = -1;
	}
	err = ctl_write(d->disk, "write_cache", wc[0] == '1' ? "1" : "0");
	if (err) {
		p_ctl_err(d->disk, "write_cache", "put back the write cache of", err);
		ret = -1;
	}
	return ret;
}

static const struct cmd_help powercut_help = {
	.usage = "DISK [--rounds N] [--files N] [--seed N] [--mode both|barrier|nobarrier] [--json]",
	.summary = "Chapters 7 and 9: power cuts in the middle of ext4's writes, with ext4's\n"
		   "barriers and without.  The disk's volatile write cache is on.  Each round\n"
		   "makes a new ext4, writes N files with fsync and N without, checkpoints\n"
		   "ext4's journal halfway (as ext4 does when it fills), cuts the\n"
		   "power (torn: each sector not yet durable kept or lost by the round's\n"
		   "seed), powers on, mounts (the journal's replay), reads the fsynced files\n"
		   "back and runs fsck.ext4 -fn.  With barriers, every fsynced file survives\n"
		   "and fsck is clean; with barrier=0, fsync returns before the data is\n"
		   "durable, and the cut loses it; and the journal may be marked empty\n"
		   "while the metadata it held is lost, which fsck finds.",
	.details = "DISK must be empty (blkdiscard -f /dev/DISK), or hold this demo's last\n"
		   "ext4: each round makes a new one.  Seeds are SEED, SEED+1, ...; the same\n"
		   "seed replays the same choice of sectors.  The write cache and the power\n"
		   "are left as they were.  Needs root, mkfs.ext4 and fsck.ext4.",
};

static int pc_args(int argc, char **argv, struct pc_demo *d)
{
	const char *mode = "both";
	const struct opt opts[] = {
		OPT_NUM('n', "rounds", &d->rounds, "N", "rounds per mode (default 5)"),
		OPT_NUM('f', "files", &d->files, "N",
			"files fsynced per round, as many not (default 16)"),
		OPT_NUM('s', "seed", &d->seed, "N", "the first round's seed (default 1)"),
		OPT_STR(0, "mode", &mode, "M", "both (default), barrier or nobarrier"),
		OPT_FINISH(),
	};
	int first, ret;

	first = parse_options(argc, argv, opts, &powercut_help);
	if (d->rounds < 1 || d->rounds > PC_MAX_ROUNDS || d->files < 1 ||
	    d->files > PC_MAX_FILES)
		return usage_error(&powercut_help, "--rounds must be 1 to %d, --files 1 to %d",
				   PC_MAX_ROUNDS, PC_MAX_FILES);
	if (strcmp(mode, "both") && strcmp(mode, "barrier") && strcmp(mode, "nobarrier"))
		return usage_error(&powercut_help, "--mode: both, barrier or nobarrier, not '%s'",
				   mode);
	d->mode[0].run = strcmp(mode, "nobarrier");
	d->mode[1].run = strcmp(mode, "barrier");
	ret = need_disk_arg(argc, argv, &first, d->disk, sizeof(d->disk), &powercut_help);
	if (ret)
		return ret;
	if (first < argc)
		return usage_error(&powercut_help, "unexpected argument '%s'", argv[first]);
	return 0;
}

static int blk_demo_powercut(int argc, char **argv)
{
	struct pc_demo *d = calloc(1, sizeof(*d));
	int ret;

	if (!d) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	d->rounds = 5;
	d->files = 16;
	d->seed = 1;
	/* no bitmap prefetch: no reads of its own around the cut */
	d->mode[0] = (struct pc_mode){ .name = "barrier",
				       .mount_opts = "barrier,no_prefetch_block_bitmaps" };
	d->mode[1] = (struct pc_mode){ .name = "nobarrier",
				       .mount_opts = "barrier=0,no_prefetch_block_bitmaps" };
	ret = pc_args(argc, argv, d);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	if (!is_root()) {
		p_err("needs root: mkfs, mount and the disk's power (CAP_SYS_ADMIN)");
		goto out;
	}
	snprintf(d->dev, sizeof(d->dev), "/dev/%s", d->disk);
	snprintf(d->mnt, sizeof(d->mnt), "/tmp/shikumi-powercut.XXXXXX");
	demo_catch_signals();
	if (pc_check_disk(d) || pc_run(d))
		goto out;
	if (opt_json)
		pc_report_json(d);
	else
		pc_report_text(d);
	ret = EXIT_OK;
out:
	free(d);
	return ret;
}

static const struct cmd blk_demos[] = {
	{ "powercut", blk_demo_powercut, "power cuts under ext4, with barriers and without" },
	{ NULL, NULL, NULL },
};

int blk_demo(int argc, char **argv)
{
	return run_subcommand(argc, argv, blk_demos, "shikumi blk demo DEMO [OPTIONS]");
}
