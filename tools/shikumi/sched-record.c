// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched record: trace a command and everything it forks (or every
 * task) to a recording file.  The command is spawned waiting, so that its
 * pid is in the filter before it runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shikumi.h"
#include "sched.h"

/* ---- record ------------------------------------------------------------------------ */

static void count_types(const struct shikumi_cs_rec *r, size_t n, uint64_t *count)
{
	size_t i;

	memset(count, 0, (SHIKUMI_CS_LOST + 1) * sizeof(*count));
	for (i = 0; i < n; i++)
		if (r[i].type <= SHIKUMI_CS_LOST)
			count[r[i].type]++;
}

static const struct cmd_help record_help = {
	.usage = "[-o FILE] [--cpu LIST] [--pid LIST] [--tgid LIST] -- CMD [ARGS...]\n"
		 "       shikumi sched record [-o FILE] [--cpu LIST] -a|--pid LIST|--tgid LIST "
		 "[--duration SEC]",
	.summary = "Trace the scheduler's events (switches, wakeups, new tasks, migrations)\n"
		   "for CMD and everything it forks, from its exec to its exit, into FILE\n"
		   "(default shikumi-sched.data), for 'shikumi sched report' and 'timeline'.",
	.details =
	"CMD starts stopped: its pid goes into filter_pid (with --pid and --tgid),\n"
	"follow_fork adds its children, --cpu sets filter_cpu, and only then does\n"
	"tracing start and CMD run.  The records are read while CMD runs: each CPU's\n"
	"ring holds the module's nr_events records, and a full ring drops events\n"
	"(counted, and reported loudly).  Without CMD, -a traces every task (this\n"
	"shikumi's own wakeups too), or --pid/--tgid name existing tasks, for\n"
	"--duration seconds or until Ctrl-C.\n"
	"The file keeps the command, the filters, the trace's start and end, the\n"
	"scheduler's tunables, the module's per-CPU counters and the records.\n"
	"Needs root and shikumi_cstrace.",
};

/* Everything one 'sched record' holds, from its options to its summary. */
struct record {
	const char *out, *cpus, *pid_opt, *tgid_opt;
	uint64_t duration;
	bool all, have_cmd, created, waited;
	char **cmd;
	char pids[4096], tgids[4096], cpu_str[1024];
	char *blob[SB_NR];
	size_t blen[SB_NR];
	struct sched_hdr h;
	struct cs_session s;
	struct cpumask mask;
	struct tunables tun;
	struct timespec wall;
	uint64_t count[SHIKUMI_CS_LOST + 1], t_end, dropped;
	int wstatus;
	struct gate gate;	/* the command waits at it until tracing is on */
	struct child child;
	pid_t cmd_pid;
	FILE *f;
};

/* The options' checks: 0, or the exit code. */
static int record_check_args(struct record *r, int argc, char **argv, int first)
{
	char why[160];

	r->cmd = argv + first;
	r->have_cmd = first < argc;
	if (r->have_cmd && (r->all || r->duration))
		return usage_error(&record_help,
				   "-a and --duration are for recording without a command");
	if (!r->have_cmd && !r->all && !r->pid_opt && !r->tgid_opt)
		return usage_error(&record_help,
				   "what to trace? give -- CMD [ARGS...], or -a, --pid or --tgid");
	if (r->all && (r->pid_opt || r->tgid_opt))
		return usage_error(&record_help, "-a traces every task: no --pid or --tgid");
	if (r->pid_opt && pidlist_parse(r->pid_opt, r->pids, sizeof(r->pids), why, sizeof(why)))
		return usage_error(&record_help, "--pid '%s': %s", r->pid_opt, why);
	if (r->tgid_opt &&
	    pidlist_parse(r->tgid_opt, r->tgids, sizeof(r->tgids), why, sizeof(why)))
		return usage_error(&record_help, "--tgid '%s': %s", r->tgid_opt, why);
	if (cpumask_init(&r->mask, r->cpus ? r->cpus : "all")) {
		cpulist_parse(r->cpus, r->mask.on, r->mask.n, why, sizeof(why));
		free(r->mask.on);
		return usage_error(&record_help, "--cpu '%s': %s", r->cpus, why);
	}
	if (cs_check()) {
		free(r->mask.on);
		return EXIT_FAIL;
	}
	return 0;
}

/* the output first: no trace is taken that cannot be kept */
static int record_create(struct record *r)
{
	struct stat sb;
	int fd;

	r->created = stat(r->out, &sb) != 0;
	fd = open(r->out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		r->f = fdopen(fd, "w");
	if (!r->f) {
		p_err("cannot write %s: %s", r->out, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(r->mask.on);
		return -1;
	}
	return 0;
}

/* The command spawned waiting, its pid in the filter, tracing on, then the command run. */
static int record_start(struct record *r)
{
	int e;

	if (r->have_cmd) {
		struct spawn how = { .gate = &r->gate, .argv = r->cmd };

		/* its pid goes into filter_pid before it does anything */
		if (gate_open(&r->gate))
			return -1;
		if (spawn(&how, &r->child)) {
			gate_close(&r->gate);
			return -1;
		}
		close(r->gate.r);
		r->gate.r = -1;
		r->cmd_pid = r->child.pid;
		snprintf(r->pids + strlen(r->pids), sizeof(r->pids) - strlen(r->pids), "%s%d",
			 r->pids[0] ? "," : "", r->child.pid);
	}
	if (cs_start(&r->s, r->pids, r->tgids, r->cpus ? r->cpus : "all", r->have_cmd))
		return -1;
	clock_gettime(CLOCK_REALTIME, &r->wall);
	if (r->have_cmd) {
		e = gate_release(&r->gate, 1);
		if (!e)
			e = child_exec_error(&r->child);
		if (e) {
			cs_stop(&r->s);
			p_err("cannot run '%s': %s", r->cmd[0], strerror(e));
			return -1;
		}
	} else {
		r->t_end = r->duration ? r->s.start_ns + r->duration * NSEC_PER_SEC : 0;
		if (!opt_json)
			fprintf(stderr, "%s: recording%s; Ctrl-C stops\n", prog_name,
				r->duration ? " for the duration given" : "");
	}
	return 0;
}

/* Read the rings until the command exits, the duration ends or a signal comes. */
static int record_drain_loop(struct record *r)
{
	for (;;) {
		if (cs_drain(&r->s) < 0) {
			cs_stop(&r->s);
			return -1;
		}
		if (r->child.pid > 0) {
			if (child_reap(&r->child, false, &r->wstatus, NULL) > 0) {
				r->waited = true;
				break;
			}
			if (got_signal == SIGTERM || got_signal == SIGHUP) {
				kill(r->child.pid, got_signal);	/* Ctrl-C reached it already */
				got_signal = 0;
			}
		} else if (got_signal || (r->t_end && now_ns() >= r->t_end)) {
			break;
		}
		sleep_ns(DRAIN_NS);
	}
	if (cs_stop(&r->s))
		return -1;
	if (recs_sort(r->s.r, r->s.n))
		return -1;
	return 0;
}

/* the file */
static void record_fill_header(struct record *r)
{
	struct sched_hdr *h = &r->h;

	memcpy(h->magic, SCHED_MAGIC, sizeof(h->magic));
	h->version = SCHED_VERSION;
	h->hdr_size = sizeof(*h);
	h->rec_size = REC_SIZE;
	h->nr_cpus = (uint32_t)r->mask.n;
	h->nr_recs = r->s.n;
	h->start_ns = r->s.start_ns;
	h->end_ns = r->s.end_ns;
	h->wall_ns = (uint64_t)r->wall.tv_sec * NSEC_PER_SEC + (uint64_t)r->wall.tv_nsec;
	h->pid = r->cmd_pid;
	h->wstatus = r->wstatus;
	h->flags = (r->all ? SF_ALL_TASKS : 0) | (r->have_cmd ? SF_FOLLOW_FORK : 0) |
		   (r->waited ? SF_WAITED : 0);
	h->nr_events = (uint32_t)r->s.nr_events;
	snprintf(h->kernel, sizeof(h->kernel), "%s", kernel_release());
}

/* The command line, NUL-separated. */
static int record_cmd_blob(struct record *r)
{
	size_t i, len = 0;

	for (i = 0; r->cmd[i]; i++)
		len += strlen(r->cmd[i]) + 1;
	r->blob[SB_CMD] = malloc(len);
	if (!r->blob[SB_CMD]) {
		p_err("out of memory");
		return -1;
	}
	for (i = 0, len = 0; r->cmd[i]; i++) {
		memcpy(r->blob[SB_CMD] + len, r->cmd[i], strlen(r->cmd[i]) + 1);
		len += strlen(r->cmd[i]) + 1;
	}
	r->blen[SB_CMD] = len;
	return 0;
}

/* The traced CPUs that are online, as a list. */
static int record_cpu_str(struct record *r)
{
	bool *on = calloc((size_t)r->mask.n, sizeof(*on));
	int c;

	if (!on) {
		p_err("out of memory");
		return -1;
	}
	online_cpus(on, r->mask.n);
	for (c = 0; c < r->mask.n; c++)
		on[c] = on[c] && r->mask.on[c];
	cpulist_format(on, r->mask.n, r->cpu_str, sizeof(r->cpu_str));
	free(on);
	return 0;
}

static int record_fill_blobs(struct record *r)
{
	size_t i;

	if (r->have_cmd && record_cmd_blob(r))
		return -1;
	if (record_cpu_str(r))
		return -1;
	r->blob[SB_PIDS] = strdup(r->pids);
	r->blob[SB_TGIDS] = strdup(r->tgids);
	r->blob[SB_CPUS] = strdup(r->cpu_str);
	r->blob[SB_TUNABLES] = tunables_serialise(&r->tun);
	r->blob[SB_STATS] = strdup(r->s.stats);
	for (i = SB_PIDS; i < SB_NR; i++) {
		if (!r->blob[i]) {
			p_err("out of memory");
			return -1;
		}
		r->blen[i] = strlen(r->blob[i]);
	}
	return 0;
}

/* what was recorded */
static int record_count(struct record *r)
{
	struct cs_stats_cpu *st;
	int c;

	count_types(r->s.r, r->s.n, r->count);
	st = calloc((size_t)r->mask.n, sizeof(*st));
	if (!st) {
		p_err("out of memory");
		return -1;
	}
	cs_stats_parse(r->s.stats, st, r->mask.n);
	for (c = 0; c < r->mask.n; c++)
		r->dropped += st[c].dropped;
	free(st);
	return 0;
}

static void record_print_json(const struct record *r)
{
	struct json *j = json_stdout();
	size_t i;

	json_object_begin(j, NULL);
	json_string(j, "file", r->out);
	if (r->have_cmd) {
		json_array_begin(j, "command");
		for (i = 0; r->cmd[i]; i++)
			json_string(j, NULL, r->cmd[i]);
		json_array_end(j);
		json_i64(j, "pid", r->h.pid);
		if (WIFEXITED(r->wstatus))
			json_i64(j, "exit_status", WEXITSTATUS(r->wstatus));
		else
			json_null(j, "exit_status");
		if (WIFSIGNALED(r->wstatus))
			json_i64(j, "signal", WTERMSIG(r->wstatus));
	}
	json_bool(j, "all_tasks", r->all);
	json_string(j, "cpus", r->cpu_str);
	json_u64(j, "duration_ns", r->s.end_ns - r->s.start_ns);
	json_u64(j, "records", r->s.n);
	json_u64(j, "switches", r->count[SHIKUMI_CS_SWITCH]);
	json_u64(j, "wakeups", r->count[SHIKUMI_CS_WAKEUP]);
	json_u64(j, "new_tasks", r->count[SHIKUMI_CS_WAKEUP_NEW]);
	json_u64(j, "migrations", r->count[SHIKUMI_CS_MIGRATE]);
	json_u64(j, "dropped", r->dropped);
	json_object_end(j);
	json_free(j);
}

static void record_print_plain(const struct record *r)
{
	if (r->have_cmd && WIFEXITED(r->wstatus))
		fprintf(stderr, "%s: '%s' (pid %d) exited with status %d\n", prog_name,
			r->cmd[0], r->h.pid, WEXITSTATUS(r->wstatus));
	else if (r->have_cmd && WIFSIGNALED(r->wstatus))
		fprintf(stderr, "%s: '%s' (pid %d) was killed by signal %d (%s)\n",
			prog_name, r->cmd[0], r->h.pid, WTERMSIG(r->wstatus),
			strsignal(WTERMSIG(r->wstatus)));
	fprintf(stderr, "%s: %zu events in %.3f s on CPUs %s: %llu switches, %llu wakeups, "
		"%llu new tasks, %llu migrations; %llu dropped\n", prog_name, r->s.n,
		(double)(r->s.end_ns - r->s.start_ns) / 1e9, r->cpu_str,
		U(r->count[SHIKUMI_CS_SWITCH]), U(r->count[SHIKUMI_CS_WAKEUP]),
		U(r->count[SHIKUMI_CS_WAKEUP_NEW]), U(r->count[SHIKUMI_CS_MIGRATE]),
		U(r->dropped));
	fprintf(stderr, "%s: written to %s: see 'shikumi sched report -i %s'\n",
		prog_name, r->out, r->out);
}

/* Undo what was done, whatever the outcome; a failed recording's new file goes. */
static int record_unwind(struct record *r, int ret)
{
	size_t i;

	gate_close(&r->gate);	/* a child still waiting gives up without running CMD */
	if (r->child.pid > 0 && child_reap(&r->child, true, NULL, NULL) < 0)
		child_kill(&r->child);
	if (r->s.enabled || r->s.configured || r->s.fd >= 0)
		cs_stop(&r->s);
	if (r->f && fclose(r->f) && ret == EXIT_OK) {
		p_err("cannot write %s: %s", r->out, strerror(errno));
		ret = EXIT_FAIL;
	}
	if (ret != EXIT_OK && r->created)
		unlink(r->out);
	for (i = 0; i < SB_NR; i++)
		free(r->blob[i]);
	free(r->mask.on);
	cs_free(&r->s);
	return ret;
}

int sched_record_cmd(int argc, char **argv)
{
	struct record r = {
		.out = "shikumi-sched.data", .s = { .fd = -1 }, .gate = { -1, -1 },
		.child = { .pid = -1, .err = -1 },
	};
	const struct opt opts[] = {
		OPT_STR('o', "output", &r.out, "FILE",
			"the recording (default shikumi-sched.data)"),
		OPT_STR('C', "cpu", &r.cpus, "LIST", "only these CPUs, e.g. 0-1,3"),
		OPT_STR(0, "pid", &r.pid_opt, "LIST", "these threads too (pids, e.g. 12,34)"),
		OPT_STR(0, "tgid", &r.tgid_opt, "LIST", "these processes too (every thread)"),
		OPT_BOOLEAN('a', "all", &r.all, "every task (no CMD)"),
		OPT_NUM('t', "duration", &r.duration, "SEC", "without CMD: stop after SEC seconds"),
		OPT_FINISH(),
	};
	char tun_why[256];
	int first, ret;

	first = parse_options(argc, argv, opts, &record_help);
	ret = record_check_args(&r, argc, argv, first);
	if (ret)
		return ret;
	if (record_create(&r))
		return EXIT_FAIL;
	tunables_read(&r.tun, tun_why, sizeof(tun_why));
	catch_signals();

	ret = EXIT_FAIL;
	if (record_start(&r) || record_drain_loop(&r))
		goto out;
	record_fill_header(&r);
	if (record_fill_blobs(&r))
		goto out;
	if (recording_write(r.out, r.f, &r.h, r.blob, r.blen, r.s.r))
		goto out;
	if (record_count(&r))
		goto out;
	if (opt_json)
		record_print_json(&r);
	else
		record_print_plain(&r);
	if (r.dropped)
		p_warn("%llu events were dropped (rings full): 'shikumi sched report' shows "
		       "where", U(r.dropped));
	ret = EXIT_OK;
out:
	return record_unwind(&r, ret);
}
