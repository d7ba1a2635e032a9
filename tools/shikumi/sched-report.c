// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched report: per task runtime, slices, voluntary and involuntary
 * switches, time spent runnable but waiting and migrations, and per CPU
 * use and drops, from a recording.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "shikumi.h"
#include "sched.h"

/* ---- report ---------------------------------------------------------------------- */

/* Tasks worth a line: traced and seen doing something. */
static bool task_shown(const struct task *t)
{
	return t->traced && (t->runtime || t->switch_outs || t->waits || t->migrations ||
			     t->born);
}

static const struct analysis *sort_ctx;

static int cmp_task_runtime(const void *a, const void *b)
{
	const struct task *x = &sort_ctx->t[*(const size_t *)a];
	const struct task *y = &sort_ctx->t[*(const size_t *)b];

	if (x->runtime != y->runtime)
		return x->runtime > y->runtime ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

/* The shown tasks' indices, the longest-running first. */
size_t *tasks_by_runtime(const struct analysis *a, size_t *n)
{
	size_t *v = malloc((a->nt ? a->nt : 1) * sizeof(*v)), i;

	if (!v) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = 0, *n = 0; i < a->nt; i++)
		if (task_shown(&a->t[i]))
			v[(*n)++] = i;
	sort_ctx = a;
	qsort(v, *n, sizeof(*v), cmp_task_runtime);
	return v;
}

/* "CMD ARGS" from the recording's NUL-separated command line */
static void command_line(const struct recording *rec, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < rec->h.blob_len[SB_CMD] && len + 1 < size; i++) {
		char c = rec->blob[SB_CMD][i];

		if (!c && i + 1 == rec->h.blob_len[SB_CMD])
			break;
		buf[len++] = c ? c : ' ';
	}
	buf[len] = '\0';
}

void describe_recording(const struct recording *rec, char *buf, size_t size)
{
	char cmdline[512];

	command_line(rec, cmdline, sizeof(cmdline));
	if (rec->h.pid && (rec->h.flags & SF_WAITED) && WIFEXITED(rec->h.wstatus))
		snprintf(buf, size, "'%s' (pid %d, exited with status %d)", cmdline, rec->h.pid,
			 WEXITSTATUS(rec->h.wstatus));
	else if (rec->h.pid && (rec->h.flags & SF_WAITED) && WIFSIGNALED(rec->h.wstatus))
		snprintf(buf, size, "'%s' (pid %d, killed by signal %d)", cmdline, rec->h.pid,
			 WTERMSIG(rec->h.wstatus));
	else if (rec->h.pid)
		snprintf(buf, size, "'%s' (pid %d)", cmdline, rec->h.pid);
	else if (rec->h.flags & SF_ALL_TASKS)
		snprintf(buf, size, "every task");
	else
		snprintf(buf, size, "pids %s%s%s", rec->blob[SB_PIDS][0] ? rec->blob[SB_PIDS] : "-",
			 rec->blob[SB_TGIDS][0] ? ", tgids " : "", rec->blob[SB_TGIDS]);
}

static const struct cmd_help report_help = {
	.usage = "[-i FILE] [--top N] [--json]",
	.summary = "What a recording of 'shikumi sched record' says, per task and per CPU.",
	.details =
	"Per task (pid, tgid, command): RUNTIME on a CPU; SLICES, the whole stretches\n"
	"it ran (switch-in to switch-out; ones cut by the trace's start or end count\n"
	"in RUNTIME only) and their length; its switch-outs, VOLuntary (it slept)\n"
	"or INVOLuntary (preempted); WAIT, the time it was runnable but not running\n"
	"(from a wakeup or a preemption to its next switch-in), total and longest;\n"
	"MIGRations between CPUs.  '+' marks a task born during the trace.\n"
	"Voluntary and involuntary come from the kernel's own counters, as\n"
	"/proc/PID/status shows them: a switch-out was voluntary if the task's nvcsw\n"
	"grew since its previous one.  A task's first switch-out with no earlier\n"
	"record of it is inferred from its state instead (not preempted and not R),\n"
	"and the report says how many were.\n"
	"Per CPU: the switches seen, and UTILisation: the time traced tasks ran\n"
	"(non-idle time, for a recording of every task) over the trace's length;\n"
	"events dropped because the CPU's ring was full, with a warning.",
};

/* A recording and what it says, for the renderers. */
struct report {
	const char *in;
	uint64_t top, dur, dropped;
	struct recording rec;
	struct analysis a;
	size_t *order, nshown;
	char desc[600];
};

static void report_json_task(struct json *j, const struct analysis *a, size_t idx)
{
	const struct task *t = &a->t[idx];

	json_object_begin(j, NULL);
	json_i64(j, "pid", t->pid);
	json_i64(j, "tgid", t->tgid);
	json_string(j, "comm", t->comm);
	json_bool(j, "born", t->born);
	json_bool(j, "exited", t->exited);
	json_u64(j, "runtime_ns", t->runtime);
	json_u64(j, "slices", t->slices);
	json_spread_ms(j, "slice_ms", slice_spread(a, idx));
	json_u64(j, "switch_outs", t->switch_outs);
	json_u64(j, "voluntary", t->vol);
	json_u64(j, "involuntary", t->invol);
	json_u64(j, "inferred", t->inferred);
	if (t->has_base && t->switch_outs) {
		json_u64(j, "nvcsw", t->base_nv);
		json_u64(j, "nivcsw", t->base_niv);
	} else {
		json_null(j, "nvcsw");
		json_null(j, "nivcsw");
	}
	json_u64(j, "waits", t->waits);
	json_u64(j, "wait_total_ns", t->wait_total);
	json_u64(j, "wait_max_ns", t->wait_max);
	json_u64(j, "migrations", t->migrations);
	json_object_end(j);
}

static void report_json_cpus(struct json *j, const struct report *rp)
{
	const struct recording *rec = &rp->rec;
	const struct analysis *a = &rp->a;
	int c;

	json_array_begin(j, "per_cpu");
	for (c = 0; c < a->ncpu; c++) {
		if (!rec->cpu_on[c])
			continue;
		json_object_begin(j, NULL);
		json_i64(j, "cpu", c);
		json_u64(j, "switches", a->cpu[c].switches);
		json_u64(j, "busy_ns", a->cpu[c].busy);
		json_double(j, "utilisation",
			    rp->dur ? (double)a->cpu[c].busy / (double)rp->dur : 0);
		json_u64(j, "written", rec->stats[c].written);
		json_u64(j, "dropped", rec->stats[c].dropped);
		json_u64(j, "lost_records", rec->stats[c].lost_records);
		json_u64(j, "lost_in_trace", a->cpu[c].lost);
		json_u64(j, "max_fill", rec->stats[c].max_fill);
		json_object_end(j);
	}
	json_array_end(j);
}

/* The recording's own facts: the command, the filters, the times, the counts. */
static void report_json_head(struct json *j, const struct report *rp)
{
	const struct recording *rec = &rp->rec;
	const struct analysis *a = &rp->a;
	char cmdline[512];

	command_line(rec, cmdline, sizeof(cmdline));
	json_string(j, "file", rp->in);
	json_string(j, "kernel", rec->h.kernel);
	json_string(j, "command", rec->h.pid ? cmdline : NULL);
	json_i64(j, "pid", rec->h.pid);
	if (rec->h.pid && (rec->h.flags & SF_WAITED) && WIFEXITED(rec->h.wstatus))
		json_i64(j, "exit_status", WEXITSTATUS(rec->h.wstatus));
	else
		json_null(j, "exit_status");
	json_bool(j, "all_tasks", rec->meta.all_tasks);
	json_string(j, "filter_pid", rec->blob[SB_PIDS]);
	json_string(j, "filter_tgid", rec->blob[SB_TGIDS]);
	json_string(j, "cpus", rec->blob[SB_CPUS]);
	json_u64(j, "start_ns", rec->h.start_ns);
	json_u64(j, "end_ns", rec->h.end_ns);
	json_u64(j, "duration_ns", rp->dur);
	json_u64(j, "wall_start_ns", rec->h.wall_ns);
	json_u64(j, "records", rec->h.nr_recs);
	json_object_begin(j, "events");
	json_u64(j, "switch", a->count[SHIKUMI_CS_SWITCH]);
	json_u64(j, "wakeup", a->count[SHIKUMI_CS_WAKEUP]);
	json_u64(j, "wakeup_new", a->count[SHIKUMI_CS_WAKEUP_NEW]);
	json_u64(j, "migrate", a->count[SHIKUMI_CS_MIGRATE]);
	json_u64(j, "lost", a->count[SHIKUMI_CS_LOST]);
	json_object_end(j);
}

static void report_json(const struct report *rp)
{
	struct json *j = json_stdout();
	size_t k;

	json_object_begin(j, NULL);
	report_json_head(j, rp);
	json_u64(j, "dropped", rp->dropped);
	json_u64(j, "inferred", rp->a.inferred);
	json_u64(j, "counter_anomalies", rp->a.anomalies);
	tunables_json(j, "tunables", &rp->rec.tun);
	json_array_begin(j, "tasks");
	for (k = 0; k < rp->nshown; k++)
		report_json_task(j, &rp->a, rp->order[k]);
	json_array_end(j);
	report_json_cpus(j, rp);
	json_object_end(j);
	json_free(j);
}

/* The heading: what was traced, the counts and the scheduler's tunables. */
static void report_text_head(const struct report *rp)
{
	const struct recording *rec = &rp->rec;
	const struct analysis *a = &rp->a;
	const char *sched = tun_get(&rec->tun, "scheduler");
	const char *hz = tun_get(&rec->tun, "HZ");

	printf("%s: %s\n", rp->in, rp->desc);
	printf("  kernel %s, %.3f s, CPUs %s, %llu records: %llu switches, %llu wakeups, "
	       "%llu new tasks, %llu migrations, %llu lost\n", rec->h.kernel,
	       (double)rp->dur / 1e9, rec->blob[SB_CPUS], U(rec->h.nr_recs),
	       U(a->count[SHIKUMI_CS_SWITCH]), U(a->count[SHIKUMI_CS_WAKEUP]),
	       U(a->count[SHIKUMI_CS_WAKEUP_NEW]), U(a->count[SHIKUMI_CS_MIGRATE]),
	       U(a->count[SHIKUMI_CS_LOST]));
	printf("  scheduler %s", sched ? sched : "?");
	if (tun_get(&rec->tun, "base_slice_ns"))
		printf(", base_slice %.3f ms", ms(tun_u64(&rec->tun, "base_slice_ns")));
	if (tun_get(&rec->tun, "latency_ns"))
		printf(", latency %.3f ms, min_granularity %.3f ms, wakeup_granularity %.3f ms",
		       ms(tun_u64(&rec->tun, "latency_ns")),
		       ms(tun_u64(&rec->tun, "min_granularity_ns")),
		       ms(tun_u64(&rec->tun, "wakeup_granularity_ns")));
	if (tun_get(&rec->tun, "preempt"))
		printf(", preempt %s", tun_get(&rec->tun, "preempt"));
	printf(", HZ %s\n", hz ? hz : "unknown");
	if (rp->dropped)
		printf("  WARNING: %llu events dropped: see the per-CPU table\n", U(rp->dropped));
}

static void report_text_tasks(const struct report *rp)
{
	const struct analysis *a = &rp->a;
	size_t k;

	printf("\n%7s %7s  %-16s %10s %6s %27s %6s %6s %19s %5s\n", "", "", "", "", "",
	       "SLICE ms", "", "", "WAIT ms", "");
	printf("%7s %7s  %-16s %10s %6s %8s %9s %8s %6s %6s %9s %9s %5s\n", "PID", "TGID",
	       "COMM", "RUNTIME ms", "SLICES", "MIN", "MEDIAN", "MAX", "VOL", "INVOL", "TOTAL",
	       "MAX", "MIGR");
	for (k = 0; k < rp->nshown && (!rp->top || k < rp->top); k++) {
		const struct task *t = &a->t[rp->order[k]];
		struct spread sp = slice_spread(a, rp->order[k]);
		char comm[24];

		snprintf(comm, sizeof(comm), "%s%s", t->born ? "+" : "", t->comm);
		printf("%7d %7d  %-16s %10.3f %6llu ", t->pid, t->tgid, comm, ms(t->runtime),
		       U(t->slices));
		if (sp.n)
			printf("%8.3f %9.3f %8.3f", sp.min / 1e6, sp.median / 1e6, sp.max / 1e6);
		else
			printf("%8s %9s %8s", "-", "-", "-");
		printf(" %6llu %6llu %9.3f %9.3f %5llu\n", U(t->vol), U(t->invol),
		       ms(t->wait_total), ms(t->wait_max), U(t->migrations));
	}
	if (rp->top && rp->nshown > rp->top)
		printf("  ... and %zu more tasks (--top 0 for all)\n", rp->nshown - rp->top);
	if (!rp->nshown)
		printf("  (no traced task ran)\n");
}

static void report_text_cpus(const struct report *rp)
{
	const struct recording *rec = &rp->rec;
	const struct analysis *a = &rp->a;
	int c;

	printf("\n%4s %9s %10s %6s %9s %8s %9s\n", "CPU", "SWITCHES", "BUSY ms", "UTIL",
	       "WRITTEN", "DROPPED", "MAX_FILL");
	for (c = 0; c < a->ncpu; c++) {
		uint64_t d;

		if (!rec->cpu_on[c])
			continue;
		d = rec->stats[c].dropped > a->cpu[c].lost ? rec->stats[c].dropped : a->cpu[c].lost;
		printf("%4d %9llu %10.3f %5.1f%% %9llu %8llu %9llu%s\n", c,
		       U(a->cpu[c].switches), ms(a->cpu[c].busy),
		       rp->dur ? 100.0 * (double)a->cpu[c].busy / (double)rp->dur : 0.0,
		       U(rec->stats[c].written), U(d), U(rec->stats[c].max_fill),
		       d ? "  <- DROPPED EVENTS" : "");
	}
}

/* What UTIL and VOL/INVOL mean, and how far to trust them. */
static void report_text_notes(const struct report *rp)
{
	const struct analysis *a = &rp->a;

	printf("\nUTIL: the time %s over the trace's %.3f s.\n",
	       rp->rec.meta.all_tasks ? "the CPU ran any task but its idle task" :
					"the traced tasks ran on the CPU", (double)rp->dur / 1e9);
	printf("VOL/INVOL: from the kernel's switch counters (nvcsw grew: voluntary)");
	if (a->inferred)
		printf(";\n  %llu switch-out%s inferred from the state (no earlier record of the task: "
		       "not preempted and not R = voluntary)", U(a->inferred),
		       a->inferred == 1 ? "" : "s");
	printf(".\n");
	if (a->anomalies)
		printf("  %llu switch-out%s where neither counter grew (the kernel's counters and "
		       "the trace disagree)\n", U(a->anomalies), a->anomalies == 1 ? "" : "s");
}

static void report_text(const struct report *rp)
{
	report_text_head(rp);
	report_text_tasks(rp);
	report_text_cpus(rp);
	report_text_notes(rp);
}

int sched_report_cmd(int argc, char **argv)
{
	struct report rp = { .in = "shikumi-sched.data" };
	const struct opt opts[] = {
		OPT_STR('i', "input", &rp.in, "FILE", "the recording (default shikumi-sched.data)"),
		OPT_NUM('n', "top", &rp.top, "N", "only the N tasks that ran longest (text)"),
		OPT_FINISH(),
	};
	int first;

	first = parse_options(argc, argv, opts, &report_help);
	if (first < argc)
		return usage_error(&report_help, "unexpected argument '%s'", argv[first]);
	if (recording_load(rp.in, &rp.rec))
		return EXIT_FAIL;
	analyse(&rp.a, rp.rec.r, rp.rec.h.nr_recs, &rp.rec.meta);
	rp.order = tasks_by_runtime(&rp.a, &rp.nshown);
	rp.dur = rp.rec.h.end_ns - rp.rec.h.start_ns;
	describe_recording(&rp.rec, rp.desc, sizeof(rp.desc));
	rp.dropped = warn_drops(rp.rec.stats, &rp.a, rp.rec.h.nr_events, stderr);

	if (opt_json)
		report_json(&rp);
	else
		report_text(&rp);
	free(rp.order);
	analysis_free(&rp.a);
	recording_free(&rp.rec);
	return EXIT_OK;
}
