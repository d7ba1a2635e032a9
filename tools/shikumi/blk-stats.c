// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk stats: the driver's counters and latency histograms, read
 * from debugfs, and their percentiles.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

/* ---- statistics ---------------------------------------------------------- */

static const struct {
	const char *key;
	size_t off;
} stat_keys[] = {
#define K(f) { #f, offsetof(struct blk_stats, f) }
	K(submitted), K(completed), K(in_driver), K(errors), K(merged),
	K(head_travel), K(head), K(trace_records), K(trace_dropped),
	K(trace_record_bytes),
	K(write_cache), K(write_cache_kb), K(power_off), K(cache_flushes),
	K(cache_fua_writes), K(cache_destages), K(cache_log_pages),
	K(power_cuts), K(cut_sectors_dropped), K(cut_sectors_kept),
	K(cut_last_seed), K(deferred),
#undef K
};

static void parse_op_stat(struct op_stats *o, const char *field, char *val)
{
	char *end;
	int i;

	if (!strcmp(field, "count"))
		o->count = strtoull(val, NULL, 10);
	else if (!strcmp(field, "bytes"))
		o->bytes = strtoull(val, NULL, 10);
	else if (!strcmp(field, "lat_ns"))
		o->lat_ns = strtoull(val, NULL, 10);
	else if (!strcmp(field, "lat_hist"))
		for (i = 0; i < SHIKUMI_BLK_HIST_BUCKETS && *val; i++, val = end)
			o->hist[i] = strtoull(val, &end, 10);
}

/* One "key value" line; unknown keys are skipped, for newer modules. */
static void parse_stat_line(struct blk_stats *st, char *line)
{
	char *val = strchr(line, ' '), *dot;
	size_t i;
	int op;

	if (!val)
		return;
	*val++ = '\0';
	if (!strcmp(line, "model")) {
		snprintf(st->model, sizeof(st->model), "%s", val);
		return;
	}
	if (!strcmp(line, "policy")) {
		snprintf(st->policy, sizeof(st->policy), "%s", val);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(stat_keys); i++) {
		if (!strcmp(line, stat_keys[i].key)) {
			*(uint64_t *)((char *)st + stat_keys[i].off) =
				strtoull(val, NULL, 10);
			return;
		}
	}
	dot = strchr(line, '.');
	if (!dot)
		return;
	*dot = '\0';
	op = index_of(op_names, OP_NR, line);
	if (op >= 0)
		parse_op_stat(&st->op[op], dot + 1, val);
}

int read_stats(const char *disk, struct blk_stats *st)
{
	char *buf, *line, *save = NULL;
	int fd;

	memset(st, 0, sizeof(*st));
	fd = dbg_open(disk, "stats");
	if (fd < 0)
		return -1;
	buf = read_all(fd, NULL);
	if (!buf)
		p_err("cannot read the stats of %s: %s", disk, strerror(errno));
	close(fd);
	if (!buf)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		parse_stat_line(st, line);
	free(buf);
	return 0;
}

static double bucket_lo_us(int i)
{
	return i ? ldexp(1, i - 1) : 0;
}

/*
 * The @p-th percentile (0..100) of a latency histogram in us, interpolated
 * inside its bucket.  The last bucket is open: its lower edge is returned.
 */
static double hist_percentile(const uint64_t *h, double p)
{
	uint64_t total = 0, cum = 0;
	double target, f;
	int i;

	for (i = 0; i < SHIKUMI_BLK_HIST_BUCKETS; i++)
		total += h[i];
	if (!total)
		return 0;
	target = p / 100.0 * (double)total;
	for (i = 0; i < SHIKUMI_BLK_HIST_BUCKETS; i++) {
		if (!h[i] || (double)(cum + h[i]) < target) {
			cum += h[i];
			continue;
		}
		if (i == SHIKUMI_BLK_HIST_BUCKETS - 1)
			break;
		f = (target - (double)cum) / (double)h[i];
		return bucket_lo_us(i) + f * (ldexp(1, i) - bucket_lo_us(i));
	}
	return bucket_lo_us(SHIKUMI_BLK_HIST_BUCKETS - 1);
}

static double op_mean_us(const struct op_stats *o)
{
	return o->count ? (double)o->lat_ns / (double)o->count / 1000.0 : 0;
}

static void stats_json(struct json *j, const char *disk, const struct blk_stats *st)
{
	size_t i;
	int op, b;

	json_object_begin(j, NULL);
	json_string(j, "disk", disk);
	json_string(j, "model", st->model);
	json_string(j, "policy", st->policy);
	for (i = 0; i < ARRAY_SIZE(stat_keys); i++)
		json_u64(j, stat_keys[i].key,
			 *(const uint64_t *)((const char *)st + stat_keys[i].off));
	json_array_begin(j, "hist_bucket_upper_us");
	for (b = 0; b < SHIKUMI_BLK_HIST_BUCKETS - 1; b++)
		json_double(j, NULL, ldexp(1, b));
	json_null(j, NULL);
	json_array_end(j);
	json_object_begin(j, "ops");
	for (op = 0; op < OP_NR; op++) {
		const struct op_stats *o = &st->op[op];

		json_object_begin(j, op_names[op]);
		json_u64(j, "count", o->count);
		json_u64(j, "bytes", o->bytes);
		json_u64(j, "lat_ns_sum", o->lat_ns);
		json_double(j, "mean_us", op_mean_us(o));
		json_double(j, "p50_us", hist_percentile(o->hist, 50));
		json_double(j, "p99_us", hist_percentile(o->hist, 99));
		json_array_begin(j, "lat_hist");
		for (b = 0; b < SHIKUMI_BLK_HIST_BUCKETS; b++)
			json_u64(j, NULL, o->hist[b]);
		json_array_end(j);
		json_object_end(j);
	}
	json_object_end(j);
	json_object_end(j);
}

static void stats_text(const char *disk, const struct blk_stats *st)
{
	int op;

	printf("%s: model %s, policy %s\n", disk, st->model, st->policy);
	printf("  requests: %llu submitted, %llu completed, %llu in the driver, %llu errors, %llu bios merged, %llu deferred\n",
	       (unsigned long long)st->submitted, (unsigned long long)st->completed,
	       (unsigned long long)st->in_driver, (unsigned long long)st->errors,
	       (unsigned long long)st->merged, (unsigned long long)st->deferred);
	printf("  head: travelled %llu sectors, now at %llu\n",
	       (unsigned long long)st->head_travel, (unsigned long long)st->head);
	printf("  trace: %llu records waiting, %llu dropped\n",
	       (unsigned long long)st->trace_records,
	       (unsigned long long)st->trace_dropped);
	if (st->write_cache_kb)
		printf("  write cache: %s, power %s; %llu flushes, %llu FUA writes, %llu destages; %llu power cuts\n",
		       st->write_cache ? "on" : "off", st->power_off ? "off" : "on",
		       (unsigned long long)st->cache_flushes,
		       (unsigned long long)st->cache_fua_writes,
		       (unsigned long long)st->cache_destages,
		       (unsigned long long)st->power_cuts);
	printf("\n");
	printf("%-13s %10s %14s %10s %10s %10s\n", "OP", "COUNT", "BYTES",
	       "MEAN_US", "P50_US", "P99_US");
	for (op = 0; op < OP_NR; op++) {
		const struct op_stats *o = &st->op[op];

		printf("%-13s %10llu %14llu %10.1f %10.1f %10.1f\n", op_names[op],
		       (unsigned long long)o->count, (unsigned long long)o->bytes,
		       op_mean_us(o), hist_percentile(o->hist, 50),
		       hist_percentile(o->hist, 99));
	}
}

static int reset_disk(const char *disk)
{
	int err = ctl_write(disk, "reset", "1");

	if (err)
		p_err("cannot reset %s: %s", disk, why(-err));
	return err;
}

static const struct cmd_help stats_help = {
	.usage = "[-d NAME] [--reset] [--json]",
	.summary = "Print the driver's counters and, per operation, the count, bytes and\n"
		   "mean, p50 and p99 latency (from the histogram).  Needs root (debugfs).",
	.details = "p50/p99 are estimated inside the histogram's power-of-two buckets\n"
		   "(bucket 0 below 1 us, bucket i [2^(i-1), 2^i) us).  --reset zeroes the\n"
		   "statistics and empties the trace after printing them.",
};

int blk_stats(int argc, char **argv)
{
	const char *disk_s = DEFAULT_DISK;
	bool reset = false;
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_BOOLEAN(0, "reset", &reset, "zero the statistics after printing"),
		OPT_FINISH(),
	};
	struct blk_stats st;
	char disk[64];
	int first, ret;

	first = parse_options(argc, argv, opts, &stats_help);
	if (first < argc)
		return usage_error(&stats_help, "unexpected argument '%s'", argv[first]);
	ret = need_disk(disk_s, disk, sizeof(disk), &stats_help);
	if (ret)
		return ret;
	if (read_stats(disk, &st))
		return EXIT_FAIL;
	if (opt_json) {
		struct json *j = json_stdout();

		stats_json(j, disk, &st);
		json_free(j);
	} else {
		stats_text(disk, &st);
	}
	if (reset && reset_disk(disk))
		return EXIT_FAIL;
	return EXIT_OK;
}
