// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk powercut and poweron: cut the disk's power, losing what its
 * volatile write cache had not made durable (all of it, or torn: each
 * sector by the seed's choice), and power it on again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blk.h"

struct cut_result {
	bool torn;
	uint64_t seed, dropped, kept;
};

static void cut_json(const char *disk, const struct cut_result *r)
{
	struct json *j = json_stdout();

	json_object_begin(j, NULL);
	json_string(j, "disk", disk);
	json_bool(j, "torn", r->torn);
	if (r->torn)
		json_u64(j, "seed", r->seed);
	else
		json_null(j, "seed");
	json_u64(j, "non_durable_sectors", r->dropped + r->kept);
	json_u64(j, "dropped", r->dropped);
	json_u64(j, "kept", r->kept);
	json_string(j, "power", "off");
	json_object_end(j);
	json_free(j);
}

static void cut_text(const char *disk, const struct cut_result *r)
{
	if (r->torn)
		printf("%s: power cut, torn (seed %llu): %llu non-durable sectors, %llu kept, %llu dropped\n",
		       disk, (unsigned long long)r->seed,
		       (unsigned long long)(r->dropped + r->kept),
		       (unsigned long long)r->kept, (unsigned long long)r->dropped);
	else
		printf("%s: power cut: %llu non-durable sectors dropped\n", disk,
		       (unsigned long long)r->dropped);
	printf("%s: the power is off; every I/O fails until 'shikumi blk poweron %s'\n",
	       disk, disk);
}

static const struct cmd_help powercut_help = {
	.usage = "DISK [--torn] [--seed N] [--json]",
	.summary = "Cut the disk's power: every write its write cache had not made durable\n"
		   "(no flush, no FUA since) goes back to its old content.",
	.details = "--torn keeps each such sector or not, independently, as a seeded\n"
		   "random choice: the same --seed on the same writes keeps the same sectors.\n"
		   "Without --seed the module picks one and this prints it.  Until\n"
		   "'shikumi blk poweron', every I/O to the disk fails with EIO.  Needs root.",
};

static int parse_seed(const char *s, uint64_t *seed)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	*seed = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static int cut(const char *disk, bool torn, const char *seed_s,
	       struct cut_result *r)
{
	struct blk_stats before, after;
	char v[48];
	int err;

	if (read_stats(disk, &before))
		return EXIT_FAIL;
	if (!torn)
		snprintf(v, sizeof(v), "off");
	else if (seed_s)
		snprintf(v, sizeof(v), "off torn %llu", (unsigned long long)r->seed);
	else
		snprintf(v, sizeof(v), "off torn");
	err = ctl_write(disk, "power", v);
	if (err == -EBUSY) {
		p_err("the power of %s is off already (shikumi blk poweron %s)", disk, disk);
		return EXIT_FAIL;
	}
	if (err) {
		p_ctl_err(disk, "power", "cut the power of", err);
		return EXIT_FAIL;
	}
	if (read_stats(disk, &after))
		return EXIT_FAIL;
	r->torn = torn;
	r->dropped = after.cut_sectors_dropped - before.cut_sectors_dropped;
	r->kept = after.cut_sectors_kept - before.cut_sectors_kept;
	if (torn)
		r->seed = after.cut_last_seed;
	return 0;
}

int blk_powercut(int argc, char **argv)
{
	const char *seed_s = NULL;
	bool torn = false;
	const struct opt opts[] = {
		OPT_BOOLEAN(0, "torn", &torn, "keep each non-durable sector or not, at random"),
		OPT_STR(0, "seed", &seed_s, "N", "the torn cut's seed (default: random)"),
		OPT_FINISH(),
	};
	struct cut_result r = { 0 };
	char disk[64];
	int first, ret;

	first = parse_options(argc, argv, opts, &powercut_help);
	if (seed_s && parse_seed(seed_s, &r.seed))
		return usage_error(&powercut_help, "bad seed '%s': a number, 0 to 2^64-1",
				   seed_s);
	if (seed_s && !torn)
		return usage_error(&powercut_help, "--seed is for a torn cut: add --torn");
	ret = need_disk_arg(argc, argv, &first, disk, sizeof(disk), &powercut_help);
	if (ret)
		return ret;
	if (first < argc)
		return usage_error(&powercut_help, "unexpected argument '%s'", argv[first]);
	if (!is_root()) {
		p_err("cannot cut the power of %s: %s (needs root: CAP_SYS_ADMIN)", disk,
		      strerror(EPERM));
		return EXIT_FAIL;
	}
	ret = cut(disk, torn, seed_s, &r);
	if (ret)
		return ret;
	if (opt_json)
		cut_json(disk, &r);
	else
		cut_text(disk, &r);
	return EXIT_OK;
}

static const struct cmd_help poweron_help = {
	.usage = "DISK",
	.summary = "Power the disk on again after 'shikumi blk powercut': I/O works again,\n"
		   "on what survived the cut.  Needs root.",
};

int blk_poweron(int argc, char **argv)
{
	const struct opt opts[] = {
		OPT_FINISH(),
	};
	char disk[64];
	int first, ret, err;

	first = parse_options(argc, argv, opts, &poweron_help);
	ret = need_disk_arg(argc, argv, &first, disk, sizeof(disk), &poweron_help);
	if (ret)
		return ret;
	if (first < argc)
		return usage_error(&poweron_help, "unexpected argument '%s'", argv[first]);
	err = ctl_write(disk, "power", "on");
	if (err) {
		p_ctl_err(disk, "power", "power on", err);
		return EXIT_FAIL;
	}
	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_string(j, "disk", disk);
		json_string(j, "power", "on");
		json_object_end(j);
		json_free(j);
	} else {
		printf("%s: power on\n", disk);
	}
	return EXIT_OK;
}
