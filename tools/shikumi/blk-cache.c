// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk cache: the disk's volatile write cache (chapters 7 and 9):
 * show it, turn it on or off, set its size.  The model is the module's
 * cache.c; the contract include/uapi/shikumi/ramdisk.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"

/* The disk, the first argument: "shikumi-ram0" or "/dev/shikumi-ram0". */
int need_disk_arg(int argc, char **argv, int *first, char *disk, size_t size,
		  const struct cmd_help *help)
{
	int ret;

	if (*first >= argc)
		return usage_error(help, "which disk? (e.g. " DEFAULT_DISK ")");
	ret = need_disk(argv[*first], disk, size, help);
	if (ret)
		return ret;
	if (!ctl_exists(disk, "power")) {
		p_err("%s has no write cache: the loaded shikumi_ramdisk is older", disk);
		return EXIT_FAIL;
	}
	(*first)++;
	return 0;
}

/* Writing @key of @disk failed with -@err: say why, plainly. */
void p_ctl_err(const char *disk, const char *key, const char *what, int err)
{
	if (err == -EPERM || err == -EACCES)
		p_err("cannot %s %s: %s (needs root: CAP_SYS_ADMIN)", what, disk,
		      strerror(-err));
	else
		p_err("cannot %s %s (%s): %s", what, disk, key, strerror(-err));
}

struct cache_state {
	char queue_wc[32];
	uint64_t on, kb, fua, power_off;
	bool have_stats;
	struct blk_stats st;
};

static void cache_get(const char *disk, struct cache_state *c)
{
	char v[32];

	memset(c, 0, sizeof(*c));
	if (!ctl_read(disk, "write_cache", v, sizeof(v)))
		c->on = strtoull(v, NULL, 10);
	if (!ctl_read(disk, "write_cache_kb", v, sizeof(v)))
		c->kb = strtoull(v, NULL, 10);
	if (!ctl_read(disk, "power", v, sizeof(v)))
		c->power_off = !strcmp(v, "off");
	if (queue_read(disk, "write_cache", c->queue_wc, sizeof(c->queue_wc)))
		snprintf(c->queue_wc, sizeof(c->queue_wc), "?");
	if (!queue_read(disk, "fua", v, sizeof(v)))
		c->fua = strtoull(v, NULL, 10);
	/* the counters are in debugfs: root only */
	c->have_stats = is_root() && !read_stats(disk, &c->st);
}

static void cache_json(const char *disk, const struct cache_state *c)
{
	struct json *j = json_stdout();

	json_object_begin(j, NULL);
	json_string(j, "disk", disk);
	json_bool(j, "write_cache", c->on);
	json_u64(j, "write_cache_kb", c->kb);
	json_string(j, "power", c->power_off ? "off" : "on");
	json_string(j, "queue_write_cache", c->queue_wc);
	json_bool(j, "queue_fua", c->fua);
	if (c->have_stats) {
		json_u64(j, "log_pages", c->st.cache_log_pages);
		json_u64(j, "flushes", c->st.cache_flushes);
		json_u64(j, "fua_writes", c->st.cache_fua_writes);
		json_u64(j, "destages", c->st.cache_destages);
		json_u64(j, "power_cuts", c->st.power_cuts);
	}
	json_object_end(j);
	json_free(j);
}

static void cache_text(const char *disk, const struct cache_state *c)
{
	printf("%s: write cache %s, %llu KiB; queue says \"%s\", fua %llu; power %s\n",
	       disk, c->on ? "on" : "off", (unsigned long long)c->kb, c->queue_wc,
	       (unsigned long long)c->fua, c->power_off ? "off" : "on");
	if (c->have_stats)
		printf("  %llu pages hold non-durable sectors; %llu flushes, %llu FUA writes, %llu destages, %llu power cuts\n",
		       (unsigned long long)c->st.cache_log_pages,
		       (unsigned long long)c->st.cache_flushes,
		       (unsigned long long)c->st.cache_fua_writes,
		       (unsigned long long)c->st.cache_destages,
		       (unsigned long long)c->st.power_cuts);
}

static const char *const on_off[] = { "on", "off" };

static const struct cmd_help cache_help = {
	.usage = "DISK [on|off] [--size KB] [--json]",
	.summary = "Show the disk's volatile write cache, or turn it on or off and set its\n"
		   "size.  With it on, writes are durable only after a flush or with FUA.",
	.details = "The cache is off at load.  On, the disk says \"write back\" in\n"
		   "queue/write_cache and takes FUA; a power cut (shikumi blk powercut)\n"
		   "loses what was not flushed.  --size is the cache's capacity in KiB\n"
		   "(1024-1048576): when more is non-durable, the cache destages (all\n"
		   "durable).  Turning it off destages too.  Setting needs root.",
	.args = on_off,
	.nargs = ARRAY_SIZE(on_off),
};

static int cache_set(const char *disk, const char *state, const char *size)
{
	char *end;
	int err;

	if (size) {
		errno = 0;
		strtoull(size, &end, 10);
		if (!*size || *end || errno)
			return usage_error(&cache_help, "bad size '%s' (KiB)", size);
		err = ctl_write(disk, "write_cache_kb", size);
		if (err == -EINVAL)
			return usage_error(&cache_help, "size %s KiB out of range (1024-1048576)",
					   size);
		if (err) {
			p_ctl_err(disk, "write_cache_kb", "set the cache size of", err);
			return EXIT_FAIL;
		}
	}
	if (!state)
		return 0;
	err = ctl_write(disk, "write_cache", strcmp(state, "on") ? "0" : "1");
	if (err) {
		p_ctl_err(disk, "write_cache", strcmp(state, "on") ?
			  "turn off the write cache of" : "turn on the write cache of", err);
		return EXIT_FAIL;
	}
	return 0;
}

int blk_cache(int argc, char **argv)
{
	const char *size = NULL, *state = NULL;
	const struct opt opts[] = {
		OPT_STR(0, "size", &size, "KB", "the cache's capacity in KiB"),
		OPT_FINISH(),
	};
	struct cache_state c;
	char disk[64];
	int first, ret;

	first = parse_options(argc, argv, opts, &cache_help);
	ret = need_disk_arg(argc, argv, &first, disk, sizeof(disk), &cache_help);
	if (ret)
		return ret;
	if (first < argc) {
		state = argv[first++];
		if (strcmp(state, "on") && strcmp(state, "off"))
			return usage_error(&cache_help, "'%s': on or off?", state);
	}
	if (first < argc)
		return usage_error(&cache_help, "unexpected argument '%s'", argv[first]);
	ret = cache_set(disk, state, size);
	if (ret)
		return ret;
	cache_get(disk, &c);
	if (opt_json)
		cache_json(disk, &c);
	else
		cache_text(disk, &c);
	return EXIT_OK;
}
