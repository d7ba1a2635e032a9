// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched tunables: the scheduler's tunables, read from debugfs,
 * /proc/sys and the kernel's config, the slice length they imply, and
 * the 'sched tunables' command.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shikumi.h"
#include "sched.h"

/* ---- the scheduler's tunables ------------------------------------------------ */

/*
 * What each tunable means, and where kernels keep it: in debugfs since
 * 5.13 (/sys/kernel/debug/sched/NAME), in /proc/sys/kernel/sched_* before.
 */
static const struct tun_desc {
	const char *name;
	const char *debugfs;	/* under /sys/kernel/debug/sched/, or NULL */
	const char *sysctl;	/* under /proc/sys/kernel/, or NULL */
	const char *help;
} tun_descs[] = {
	{ "base_slice_ns", "base_slice_ns", NULL,
	  "EEVDF: the slice a task asks for; its deadline is this far ahead" },
	{ "latency_ns", "latency_ns", "sched_latency_ns",
	  "CFS: the period in which every runnable task runs once" },
	{ "min_granularity_ns", "min_granularity_ns", "sched_min_granularity_ns",
	  "CFS: the shortest slice; the period grows past latency/this tasks" },
	{ "wakeup_granularity_ns", "wakeup_granularity_ns", "sched_wakeup_granularity_ns",
	  "CFS: how much less vruntime a woken task needs to preempt" },
	{ "tunable_scaling", "tunable_scaling", "sched_tunable_scaling",
	  "the above scale with the CPUs: 0 none, 1 x(1+log2 CPUs, at most 8), 2 linear" },
	{ "migration_cost_ns", "migration_cost_ns", "sched_migration_cost_ns",
	  "a task that ran this recently is cache-hot and stays put" },
	{ "preempt", "preempt", NULL,
	  "the preemption model (PREEMPT_DYNAMIC): how soon a woken task gets the CPU" },
	{ "rr_timeslice_ms", NULL, "sched_rr_timeslice_ms", "SCHED_RR's slice" },
};

static void tun_set(struct tunables *t, const char *name, const char *value,
		    const char *source)
{
	struct tun_kv *kv;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->kv[i].name, name))
			break;
	if (i == t->n) {
		if (t->n == ARRAY_SIZE(t->kv))
			return;
		t->n++;
	}
	kv = &t->kv[i];
	snprintf(kv->name, sizeof(kv->name), "%s", name);
	snprintf(kv->value, sizeof(kv->value), "%s", value);
	snprintf(kv->source, sizeof(kv->source), "%s", source);
}

static const struct tun_kv *tun_find(const struct tunables *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->kv[i].name, name))
			return &t->kv[i];
	return NULL;
}

const char *tun_get(const struct tunables *t, const char *name)
{
	const struct tun_kv *kv = tun_find(t, name);

	return kv ? kv->value : NULL;
}

uint64_t tun_u64(const struct tunables *t, const char *name)
{
	const char *v = tun_get(t, name);

	return v && isdigit((unsigned char)*v) ? strtoull(v, NULL, 10) : 0;
}

/* "none (voluntary) full" -> "voluntary" */
static void selected_word(char *s)
{
	char *l = strchr(s, '('), *r = l ? strchr(l, ')') : NULL;

	if (l && r) {
		memmove(s, l + 1, (size_t)(r - l - 1));
		s[r - l - 1] = '\0';
	}
}

/* CONFIG_HZ from the kernel's configuration, wherever Debian keeps it. */
static bool config_hz(char *value, size_t vsize, char *source, size_t ssize)
{
	const char *rel = kernel_release();
	char paths[3][160];
	size_t i;

	snprintf(paths[0], sizeof(paths[0]), "/boot/config-%s", rel);
	snprintf(paths[1], sizeof(paths[1]), "/lib/modules/%s/build/.config", rel);
	snprintf(paths[2], sizeof(paths[2]), "/lib/modules/%s/config", rel);
	for (i = 0; i < ARRAY_SIZE(paths); i++) {
		FILE *f = fopen(paths[i], "re");
		char line[256];
		bool found = false;

		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "CONFIG_HZ=", 10))
				continue;
			line[strcspn(line, "\n")] = '\0';
			snprintf(value, vsize, "%.15s", line + 10);
			snprintf(source, ssize, "CONFIG_HZ in %.140s", paths[i]);
			found = true;
		}
		fclose(f);
		if (found)
			return true;
	}
	return false;
}

/* "6.12.117+deb12-amd64" -> 612 */
static int kernel_version_code(void)
{
	int a = 0, b = 0;

	if (sscanf(kernel_release(), "%d.%d", &a, &b) < 1)
		return 0;
	return a * 100 + b;
}

/*
 * Read the running kernel's tunables.  @why gets a note when debugfs,
 * where they live since 5.13, cannot be read.
 */
void tunables_read(struct tunables *t, char *why, size_t wsize)
{
	char path[PATH_MAX], buf[128], src[160];
	bool mounted = debugfs_mounted(), dir_ok = false, eevdf;
	struct stat st;
	size_t i;

	memset(t, 0, sizeof(*t));
	why[0] = '\0';
	if (!mounted)
		snprintf(why, wsize, "debugfs is not mounted, so the tunables kept there since "
			 "5.13 cannot be read: mount -t debugfs none " DEBUGFS_ROOT);
	else if (stat(SCHED_DEBUGFS, &st))
		snprintf(why, wsize, "%s: %s%s", SCHED_DEBUGFS, strerror(errno),
			 errno == EACCES ? " (debugfs is root only)" : "");
	else
		dir_ok = true;
	for (i = 0; i < ARRAY_SIZE(tun_descs); i++) {
		const struct tun_desc *d = &tun_descs[i];
		bool got = false;

		if (d->debugfs && dir_ok) {
			snprintf(path, sizeof(path), SCHED_DEBUGFS "/%s", d->debugfs);
			got = !read_file_str(path, buf, sizeof(buf));
		}
		if (!got && d->sysctl) {
			snprintf(path, sizeof(path), "/proc/sys/kernel/%s", d->sysctl);
			got = !read_file_str(path, buf, sizeof(buf));
		}
		if (!got)
			continue;
		if (!strcmp(d->name, "preempt"))
			selected_word(buf);
		tun_set(t, d->name, buf, path);
	}
	if (dir_ok) {
		char feat[4096], *tok, *save = NULL;

		if (!read_file_str(SCHED_DEBUGFS "/features", feat, sizeof(feat))) {
			for (tok = strtok_r(feat, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				if (!strcmp(tok, "HRTICK") || !strcmp(tok, "NO_HRTICK"))
					tun_set(t, "HRTICK", tok[0] == 'N' ? "off" : "on",
						SCHED_DEBUGFS "/features");
			}
		}
	}
	if (config_hz(buf, sizeof(buf), src, sizeof(src)))
		tun_set(t, "HZ", buf, src);
	snprintf(buf, sizeof(buf), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	tun_set(t, "online_cpus", buf, CPU_DIR "/online");

	if (tun_get(t, "base_slice_ns")) {
		eevdf = true;
		snprintf(src, sizeof(src), "base_slice_ns exists");
	} else if (tun_get(t, "latency_ns")) {
		eevdf = false;
		snprintf(src, sizeof(src), "latency_ns exists");
	} else {
		eevdf = kernel_version_code() >= 606;
		snprintf(src, sizeof(src), "kernel %s: EEVDF replaced CFS in 6.6",
			 kernel_release());
	}
	tun_set(t, "scheduler", eevdf ? "EEVDF" : "CFS", src);
	if (!read_file_str("/sys/kernel/sched_ext/state", buf, sizeof(buf))) {
		char ops[64] = "";

		read_file_str("/sys/kernel/sched_ext/root/ops", ops, sizeof(ops));
		if (!strcmp(buf, "enabled") && ops[0])
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " (%s)", ops);
		tun_set(t, "sched_ext", buf, "/sys/kernel/sched_ext/state");
	}
}

/* One "name\tvalue\tsource" line each: how a recording keeps them. */
char *tunables_serialise(const struct tunables *t)
{
	size_t i, len = 0, size = t->n * sizeof(struct tun_kv) + 1;
	char *s = malloc(size);

	if (!s) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	s[0] = '\0';
	for (i = 0; i < t->n; i++)
		len += snprintf(s + len, size - len, "%s\t%s\t%s\n", t->kv[i].name,
				t->kv[i].value, t->kv[i].source);
	return s;
}

void tunables_parse(struct tunables *t, const char *s)
{
	memset(t, 0, sizeof(*t));
	while (*s) {
		char line[300], *a, *b;
		size_t l = strcspn(s, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)(l < 299 ? l : 299), s);
		s += l + (s[l] == '\n');
		a = strchr(line, '\t');
		b = a ? strchr(a + 1, '\t') : NULL;
		if (!a || !b)
			continue;
		*a++ = '\0';
		*b++ = '\0';
		tun_set(t, line, a, b);
	}
}

static const char *tun_help(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tun_descs); i++)
		if (!strcmp(tun_descs[i].name, name))
			return tun_descs[i].help;
	if (!strcmp(name, "HZ"))
		return "scheduler ticks per second: without HRTICK, slices end on a tick";
	if (!strcmp(name, "HRTICK"))
		return "on: a high-resolution timer ends a slice on time; off: the next tick does";
	return NULL;
}

/* The tick, in ns; 0 if HZ is unknown. */
static uint64_t tick_ns(const struct tunables *t)
{
	uint64_t hz = tun_u64(t, "HZ");

	return hz ? NSEC_PER_SEC / hz : 0;
}

/*
 * The slice the scheduler aims at for @nr equal tasks on one CPU, in ns,
 * and how it gets there, in @how.  0 if the tunables are unknown.
 */
uint64_t expected_slice(const struct tunables *t, unsigned int nr, char *how,
			size_t hsize)
{
	const char *sched = tun_get(t, "scheduler");
	const char *hr = tun_get(t, "HRTICK");
	bool hrtick = hr && !strcmp(hr, "on");
	uint64_t slice, tick = tick_ns(t);
	int n;

	how[0] = '\0';
	if (nr < 2) {
		snprintf(how, hsize, "one task alone runs until it is done or something else wakes");
		return 0;
	}
	if (sched && !strcmp(sched, "EEVDF")) {
		slice = tun_u64(t, "base_slice_ns");
		if (!slice)
			return 0;
		n = snprintf(how, hsize, "EEVDF: each task runs its request of base_slice_ns = %.3f ms",
			     ms(slice));
	} else {
		uint64_t lat = tun_u64(t, "latency_ns"), gran = tun_u64(t, "min_granularity_ns");
		uint64_t nr_lat, period;

		if (!lat || !gran)
			return 0;
		nr_lat = (lat + gran - 1) / gran;
		period = nr > nr_lat ? nr * gran : lat;
		slice = period / nr;
		if (slice < gran)
			slice = gran;
		n = snprintf(how, hsize, "CFS: period %.3f ms (%s) / %u tasks = %.3f ms",
			     ms(period), nr > nr_lat ? "nr x min_granularity" : "latency_ns",
			     nr, ms(slice));
	}
	if (n > 0 && (size_t)n < hsize && hrtick) {
		snprintf(how + n, hsize - (size_t)n,
			 ", ended on time by the high-resolution tick (HRTICK)");
	} else if (tick && n > 0 && (size_t)n < hsize) {
		uint64_t ticks = (slice + tick - 1) / tick;

		snprintf(how + n, hsize - (size_t)n,
			 ", checked at each tick (HZ=%llu, every %.0f ms): about %.0f ms",
			 U(NSEC_PER_SEC / tick), ms(tick), ms(ticks * tick));
		slice = ticks * tick;
	}
	return slice;
}

void tunables_json(struct json *j, const char *key, const struct tunables *t)
{
	size_t i;

	json_object_begin(j, key);
	json_string(j, "scheduler", tun_get(t, "scheduler"));
	json_array_begin(j, "values");
	for (i = 0; i < t->n; i++) {
		const char *v = t->kv[i].value;
		char *end;

		if (!strcmp(t->kv[i].name, "scheduler"))
			continue;
		json_object_begin(j, NULL);
		json_string(j, "name", t->kv[i].name);
		strtoull(v, &end, 10);
		if (isdigit((unsigned char)*v) && !*end)
			json_u64(j, "value", strtoull(v, NULL, 10));
		else
			json_string(j, "value", v);
		json_string(j, "source", t->kv[i].source);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void tunables_print(const struct tunables *t, const char *indent)
{
	const struct tun_kv *s = tun_find(t, "scheduler");
	size_t i;

	if (s)
		printf("%sscheduler: %s (%s)\n", indent, s->value, s->source);
	for (i = 0; i < t->n; i++) {
		const char *help = tun_help(t->kv[i].name);

		if (!strcmp(t->kv[i].name, "scheduler"))
			continue;
		printf("%s  %-22s %-12s %s\n", indent, t->kv[i].name, t->kv[i].value,
		       t->kv[i].source);
		if (help)
			printf("%s  %-22s %-12s   %s\n", indent, "", "", help);
	}
}

static const struct cmd_help tunables_help = {
	.usage = "[--json]",
	.summary = "The running kernel's scheduler (CFS before 6.6, EEVDF since) and the\n"
		   "tunables that set how long a task runs before another gets the CPU,\n"
		   "each with the file it came from.",
	.details = "CFS: latency_ns (the period), min_granularity_ns and\n"
		   "wakeup_granularity_ns.  EEVDF: base_slice_ns.  Since 5.13 they are in\n"
		   DEBUGFS_ROOT "/sched/ (root only), before in /proc/sys/kernel/sched_*.\n"
		   "HZ comes from the kernel's configuration (/boot/config-RELEASE).",
};

int sched_tunables_cmd(int argc, char **argv)
{
	const struct opt opts[] = { OPT_FINISH() };
	struct tunables t;
	char why[256];
	int first;

	first = parse_options(argc, argv, opts, &tunables_help);
	if (first < argc)
		return usage_error(&tunables_help, "unexpected argument '%s'", argv[first]);
	tunables_read(&t, why, sizeof(why));
	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_string(j, "kernel", kernel_release());
		json_bool(j, "debugfs_mounted", debugfs_mounted());
		json_string(j, "note", why[0] ? why : NULL);
		tunables_json(j, "tunables", &t);
		json_object_end(j);
		json_free(j);
	} else {
		printf("kernel %s\n", kernel_release());
		tunables_print(&t, "");
		if (why[0])
			printf("note: %s\n", why);
	}
	return EXIT_OK;
}
