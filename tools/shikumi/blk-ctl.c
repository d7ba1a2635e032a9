// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk policy, model and info: the driver's knobs (the policy, the
 * service model and its parameters) and the disks' description.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

/* ---- model and policy ----------------------------------------------------- */

#define MAX_PARAMS	32

struct knob {
	const char *file;		/* "model" or "policy" */
	const char *const *names;
	size_t nnames;
	const char *list;		/* for messages */
};

static const struct knob model_knob = {
	"model", model_names, ARRAY_SIZE(model_names), "ram, ssd, hdd",
};

static const struct knob policy_knob = {
	"policy", policy_names, ARRAY_SIZE(policy_names), "fifo, sstf, clook, deadline",
};

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The parameters of @prefix (a model or policy name) as key=value. */
static void params_text(const char *disk, const char *prefix, FILE *f)
{
	char *names[MAX_PARAMS], val[64];
	size_t plen = strlen(prefix) + 1;
	int n, i;

	n = list_params(disk, prefix, names, MAX_PARAMS);
	for (i = 0; i < n; i++) {
		if (ctl_read(disk, names[i], val, sizeof(val)))
			snprintf(val, sizeof(val), "?");
		fprintf(f, "%s%s=%s", i ? " " : "", names[i] + plen, val);
	}
	free_names(names, n);
}

static void params_json(struct json *j, const char *key, const char *disk,
			const char *prefix)
{
	char *names[MAX_PARAMS], val[64];
	size_t plen = strlen(prefix) + 1;
	int n, i;

	json_object_begin(j, key);
	n = list_params(disk, prefix, names, MAX_PARAMS);
	for (i = 0; i < n; i++) {
		if (ctl_read(disk, names[i], val, sizeof(val)))
			json_null(j, names[i] + plen);
		else if (all_digits(val))
			json_u64(j, names[i] + plen, strtoull(val, NULL, 10));
		else
			json_string(j, names[i] + plen, val);
	}
	free_names(names, n);
	json_object_end(j);
}

/* "rpm, settle_us, ...": the keys of @prefix, for messages. */
static void param_keys(const char *disk, const char *prefix, char *buf, size_t size)
{
	char *names[MAX_PARAMS];
	size_t plen = strlen(prefix) + 1, len = 0;
	int n, i;

	buf[0] = '\0';
	n = list_params(disk, prefix, names, MAX_PARAMS);
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
					i ? ", " : "", names[i] + plen);
	if (n <= 0)
		snprintf(buf, size, "none");
	free_names(names, n);
}

static int show_knob(const char *disk, const struct knob *k)
{
	char cur[32], keys[256];
	int err;

	err = ctl_read(disk, k->file, cur, sizeof(cur));
	if (err) {
		p_err("cannot read the %s of %s: %s", k->file, disk, strerror(-err));
		return EXIT_FAIL;
	}
	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_string(j, "disk", disk);
		json_string(j, k->file, cur);
		params_json(j, "params", disk, cur);
		json_object_end(j);
		json_free(j);
		return EXIT_OK;
	}
	printf("%s: %s %s", disk, k->file, cur);
	param_keys(disk, cur, keys, sizeof(keys));
	if (strcmp(keys, "none")) {
		printf(" (");
		params_text(disk, cur, stdout);
		printf(")");
	}
	printf("\n");
	return EXIT_OK;
}

struct kv {
	char file[96];		/* hdd_rpm */
	const char *key;	/* rpm */
	const char *value;
	char old[64];
};

static int parse_kvs(const char *disk, const char *name, char **args, int n,
		     struct kv *kv)
{
	char keys[256];
	int i, err;

	for (i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');

		if (!eq || eq == args[i]) {
			p_err("'%s' is not key=value", args[i]);
			return EXIT_USAGE;
		}
		*eq = '\0';
		kv[i].key = args[i];
		kv[i].value = eq + 1;
		snprintf(kv[i].file, sizeof(kv[i].file), "%s_%s", name, args[i]);
		if (strchr(args[i], '/') || !ctl_exists(disk, kv[i].file)) {
			param_keys(disk, name, keys, sizeof(keys));
			p_err("%s has no parameter '%s' (%s)", name, args[i], keys);
			return EXIT_USAGE;
		}
		err = ctl_read(disk, kv[i].file, kv[i].old, sizeof(kv[i].old));
		if (err) {
			p_err("cannot read %s: %s", kv[i].file, strerror(-err));
			return EXIT_FAIL;
		}
	}
	return 0;
}

static void restore_kvs(const char *disk, const struct kv *kv, int n)
{
	int err;

	while (n-- > 0) {
		err = ctl_write(disk, kv[n].file, kv[n].old);
		if (err)
			p_warn("could not restore %s=%s: %s", kv[n].file, kv[n].old,
			       strerror(-err));
	}
}

/*
 * Set the model or policy @name with its parameters: check every key
 * first, write the parameters, then the name; undo everything on failure.
 */
static int set_knob(const char *disk, const struct knob *k, const char *name,
		    char **args, int nargs)
{
	struct kv kv[MAX_PARAMS];
	int i, err, ret;

	if (index_of(k->names, k->nnames, name) < 0) {
		p_err("unknown %s '%s' (%s)", k->file, name, k->list);
		return EXIT_USAGE;
	}
	if (nargs > MAX_PARAMS) {
		p_err("too many parameters");
		return EXIT_USAGE;
	}
	ret = parse_kvs(disk, name, args, nargs, kv);
	if (ret)
		return ret;
	for (i = 0; i < nargs; i++) {
		err = ctl_write(disk, kv[i].file, kv[i].value);
		if (err)
			goto refused;
	}
	err = ctl_write(disk, k->file, name);
	if (!err)
		return EXIT_OK;
	restore_kvs(disk, kv, nargs);
	if (err == -EINVAL)
		p_err("unknown %s '%s' (%s)", k->file, name, k->list);
	else
		p_err("cannot set %s %s: %s", k->file, name, why(-err));
	return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
refused:
	restore_kvs(disk, kv, i);
	p_err("%s=%s refused: %s%s", kv[i].key, kv[i].value, why(-err),
	      err == -EINVAL ? " (out of range?); nothing was changed" :
	      "; nothing was changed");
	return err == -EINVAL ? EXIT_USAGE : EXIT_FAIL;
}

static int knob_cmd(int argc, char **argv, const struct knob *k,
		    const struct cmd_help *help)
{
	const char *disk_s = DEFAULT_DISK, *name;
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_FINISH(),
	};
	char disk[64], cur[32];
	int first, ret;

	first = parse_options(argc, argv, opts, help);
	ret = need_disk(disk_s, disk, sizeof(disk), help);
	if (ret)
		return ret;
	if (first == argc)
		return show_knob(disk, k);
	name = argv[first];
	if (strchr(name, '=')) {
		/* parameters only: those of the current model or policy */
		if (ctl_read(disk, k->file, cur, sizeof(cur))) {
			p_err("cannot read the %s of %s", k->file, disk);
			return EXIT_FAIL;
		}
		name = cur;
		first--;
	}
	ret = set_knob(disk, k, name, argv + first + 1, argc - first - 1);
	if (ret)
		return ret;
	return show_knob(disk, k);
}

static const struct cmd_help policy_help = {
	.usage = "[-d NAME] [POLICY [key=value...]]",
	.summary = "Print the driver's scheduling policy, or set it: fifo (arrival order),\n"
		   "sstf (shortest seek first), clook (ascending sweep) or deadline.",
	.details = "Keys set the policy's parameters, the sysfs files without the policy's\n"
		   "prefix: deadline read_expire_ms=100 fifo_batch=8.  With keys only, they\n"
		   "apply to the current policy.  Setting needs root.",
	.args = policy_names,
	.nargs = ARRAY_SIZE(policy_names),
};

int blk_policy(int argc, char **argv)
{
	return knob_cmd(argc, argv, &policy_knob, &policy_help);
}

static const struct cmd_help model_help = {
	.usage = "[-d NAME] [MODEL [key=value...]]",
	.summary = "Print the service model and its parameters, or set them: ram\n"
		   "(complete at once), ssd (latency + bandwidth, channels), hdd (seek,\n"
		   "rotation, transfer).",
	.details = "Keys are the sysfs files without the model's prefix:\n"
		   "  hdd: rpm, settle_us, full_seek_us, media_mbps, cache_kb, iface_mbps\n"
		   "  ssd: latency_us, channel_mbps, channels\n"
		   "Every key is checked before anything is written; if the driver refuses\n"
		   "a value, the old values are restored.  With keys only, they apply to the\n"
		   "current model.  Setting needs root.",
	.args = model_names,
	.nargs = ARRAY_SIZE(model_names),
};

int blk_model(int argc, char **argv)
{
	return knob_cmd(argc, argv, &model_knob, &model_help);
}

/* ---- info ---------------------------------------------------------------- */

static const struct cmd_help info_help = {
	.usage = "[-d NAME] [--json]",
	.summary = "List the disks (or the one named): major:minor, size, service model,\n"
		   "policy, queue depth, the stock queue's rotational flag, elevator and\n"
		   "read-ahead, the memory held, the current model's parameters, and the\n"
		   "hardware queues: the CPUs blk-mq maps to each (its cpu_list) and the\n"
		   "requests each served since load (from debugfs: root only).",
};

#define MAX_HW_QUEUES	1024

struct hw_queue {
	char cpus[256];		/* /sys/block/NAME/mq/N/cpu_list */
	int64_t served;		/* -1: not known (no debugfs) */
};

struct disk_info {
	char name[64], dev[32], model[16], policy[16], sched[32];
	uint64_t bytes, queue_depth, rotational, read_ahead_kb, pages;
	unsigned int nr_queues;
	struct hw_queue *queues;
};

static uint64_t ctl_u64(const char *disk, const char *key)
{
	char p[PATH_MAX];
	uint64_t v = 0;

	ctl_path(p, sizeof(p), disk, key);
	read_file_u64(p, &v);
	return v;
}

static uint64_t queue_u64(const char *disk, const char *key)
{
	char p[PATH_MAX];
	uint64_t v = 0;

	snprintf(p, sizeof(p), SYS_BLOCK "/%s/queue/%s", disk, key);
	read_file_u64(p, &v);
	return v;
}

/* The requests each queue served, from the driver's debugfs "queues". */
static void get_served(const char *disk, struct disk_info *d)
{
	char p[PATH_MAX], line[128];
	unsigned int q;
	long long n;
	FILE *f;

	for (q = 0; q < d->nr_queues; q++)
		d->queues[q].served = -1;
	snprintf(p, sizeof(p), DEBUGFS_DIR "/%s/queues", disk);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u served %lld", &q, &n) == 2 && q < d->nr_queues)
			d->queues[q].served = n;
	fclose(f);
}

/* The hardware queues, numbered 0 up, as the kernel lists them in mq/. */
static void get_queues(const char *disk, struct disk_info *d)
{
	char p[PATH_MAX];
	unsigned int q;

	d->queues = calloc(MAX_HW_QUEUES, sizeof(*d->queues));
	if (!d->queues)
		return;
	for (q = 0; q < MAX_HW_QUEUES; q++) {
		snprintf(p, sizeof(p), SYS_BLOCK "/%s/mq/%u/cpu_list", disk, q);
		if (read_file_str(p, d->queues[q].cpus, sizeof(d->queues[q].cpus)))
			break;
	}
	d->nr_queues = q;
	get_served(disk, d);
}

static void get_info(const char *disk, struct disk_info *d)
{
	char p[PATH_MAX];

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", disk);
	snprintf(p, sizeof(p), SYS_BLOCK "/%s/dev", disk);
	if (read_file_str(p, d->dev, sizeof(d->dev)))
		snprintf(d->dev, sizeof(d->dev), "?");
	if (ctl_read(disk, "model", d->model, sizeof(d->model)))
		snprintf(d->model, sizeof(d->model), "?");
	if (ctl_read(disk, "policy", d->policy, sizeof(d->policy)))
		snprintf(d->policy, sizeof(d->policy), "?");
	if (stock_scheduler(disk, d->sched, sizeof(d->sched)))
		snprintf(d->sched, sizeof(d->sched), "?");
	d->bytes = disk_sectors(disk) * 512;
	d->queue_depth = ctl_u64(disk, "queue_depth");
	d->pages = ctl_u64(disk, "pages");
	d->rotational = queue_u64(disk, "rotational");
	d->read_ahead_kb = queue_u64(disk, "read_ahead_kb");
	get_queues(disk, d);
}

static void human(char *buf, size_t size, double bytes)
{
	static const char units[] = "BKMGT";
	int u = 0;

	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, size, "%.1f%c", bytes, units[u]);
	else
		snprintf(buf, size, "%.0fB", bytes);
}

static void info_json(struct json *j, const struct disk_info *d)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned int q;

	json_object_begin(j, NULL);
	json_string(j, "name", d->name);
	json_string(j, "dev", d->dev);
	json_u64(j, "size_bytes", d->bytes);
	json_string(j, "model", d->model);
	json_string(j, "policy", d->policy);
	json_u64(j, "queue_depth", d->queue_depth);
	json_bool(j, "rotational", d->rotational);
	json_string(j, "scheduler", d->sched);
	json_u64(j, "read_ahead_kb", d->read_ahead_kb);
	json_u64(j, "pages", d->pages);
	json_u64(j, "memory_bytes", d->pages * page);
	params_json(j, "model_params", d->name, d->model);
	params_json(j, "policy_params", d->name, d->policy);
	json_array_begin(j, "hw_queues");
	for (q = 0; q < d->nr_queues; q++) {
		json_object_begin(j, NULL);
		json_u64(j, "queue", q);
		json_string(j, "cpus", d->queues[q].cpus);
		if (d->queues[q].served < 0)
			json_null(j, "served");
		else
			json_u64(j, "served", (uint64_t)d->queues[q].served);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void info_text(const struct disk_info *d)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	char size[16], mem[16], keys[256];
	unsigned int q;

	human(size, sizeof(size), (double)d->bytes);
	human(mem, sizeof(mem), (double)(d->pages * page));
	printf("%-14s %-8s %7s %-5s %-8s %5llu %3s %-11s %6llu %7s %8llu\n",
	       d->name, d->dev, size, d->model, d->policy,
	       (unsigned long long)d->queue_depth, d->rotational ? "yes" : "no",
	       d->sched, (unsigned long long)d->read_ahead_kb, mem,
	       (unsigned long long)d->pages);
	param_keys(d->name, d->model, keys, sizeof(keys));
	if (strcmp(keys, "none")) {
		printf("%-14s %s: ", "", d->model);
		params_text(d->name, d->model, stdout);
		printf("\n");
	}
	param_keys(d->name, d->policy, keys, sizeof(keys));
	if (strcmp(keys, "none")) {
		printf("%-14s %s: ", "", d->policy);
		params_text(d->name, d->policy, stdout);
		printf("\n");
	}
	for (q = 0; q < d->nr_queues; q++) {
		printf("%-14s hw queue %u: cpus %s, ", "", q, d->queues[q].cpus);
		if (d->queues[q].served < 0)
			printf("served ? (debugfs needs root)\n");
		else
			printf("served %lld\n", (long long)d->queues[q].served);
	}
}

static int filter_disk(const struct dirent *de)
{
	return !strncmp(de->d_name, DISK_PREFIX, strlen(DISK_PREFIX));
}

int blk_info(int argc, char **argv)
{
	const char *disk_s = NULL;
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_FINISH(),
	};
	struct dirent **list = NULL;
	struct disk_info d;
	struct json *j = NULL;
	char disk[64];
	int first, ret, n, i;

	first = parse_options(argc, argv, opts, &info_help);
	if (first < argc)
		return usage_error(&info_help, "unexpected argument '%s'", argv[first]);
	if (disk_s) {
		ret = need_disk(disk_s, disk, sizeof(disk), &info_help);
		if (ret)
			return ret;
	} else if (need_module()) {
		return EXIT_FAIL;
	}
	n = scandir(SYS_BLOCK, &list, filter_disk, cmp_dev_names);
	if (n < 0) {
		p_err("cannot list " SYS_BLOCK ": %s", strerror(errno));
		return EXIT_FAIL;
	}
	if (opt_json) {
		j = json_stdout();
		json_object_begin(j, NULL);
		json_array_begin(j, "disks");
	} else {
		printf("%-14s %-8s %7s %-5s %-8s %5s %3s %-11s %6s %7s %8s\n",
		       "DISK", "MAJ:MIN", "SIZE", "MODEL", "POLICY", "QD", "ROT",
		       "ELEVATOR", "RA_KB", "MEMORY", "PAGES");
	}
	for (i = 0; i < n; i++) {
		if ((!disk_s || !strcmp(list[i]->d_name, disk)) &&
		    ctl_exists(list[i]->d_name, "")) {
			get_info(list[i]->d_name, &d);
			if (j)
				info_json(j, &d);
			else
				info_text(&d);
			free(d.queues);
		}
		free(list[i]);
	}
	free(list);
	if (j) {
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	}
	return EXIT_OK;
}
