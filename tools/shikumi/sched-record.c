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

/*
 * Fork a child that waits on a pipe before it runs @argv: its pid can go
 * into filter_pid before it does anything.  Writing a byte to *go lets it
 * exec; *errfd then gives exec's errno, or end of file once exec worked.
 */
static pid_t spawn_waiting(char **argv, int *go, int *errfd)
{
	int gp[2], ep[2];
	pid_t pid;

	if (pipe2(gp, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(ep, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		close(gp[0]);
		close(gp[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		p_err("fork: %s", strerror(errno));
		close(gp[0]);
		close(gp[1]);
		close(ep[0]);
		close(ep[1]);
		return -1;
	}
	if (!pid) {
		ssize_t n;
		char c;
		int e;

		close(gp[1]);
		close(ep[0]);
		do
			n = read(gp[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127);	/* shikumi gave up */
		execvp(argv[0], argv);
		e = errno;
		if (write(ep[1], &e, sizeof(e)) != sizeof(e))
			_exit(127);
		_exit(127);
	}
	close(gp[0]);
	close(ep[1]);
	*go = gp[1];
	*errfd = ep[0];
	return pid;
}

/* Let the child exec: 0, or exec's errno. */
static int release_child(int go, int errfd)
{
	ssize_t n;
	int e = 0;

	n = write(go, "g", 1);
	close(go);
	if (n != 1)
		return errno ? errno : EPIPE;
	do
		n = read(errfd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(errfd);
	return n == sizeof(e) ? e : 0;
}

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

int sched_record_cmd(int argc, char **argv)
{
	const char *out = "shikumi-sched.data", *cpus = NULL, *pid_opt = NULL, *tgid_opt = NULL;
	uint64_t duration = 0;
	bool all = false;
	const struct opt opts[] = {
		OPT_STR('o', "output", &out, "FILE", "the recording (default shikumi-sched.data)"),
		OPT_STR('C', "cpu", &cpus, "LIST", "only these CPUs, e.g. 0-1,3"),
		OPT_STR(0, "pid", &pid_opt, "LIST", "these threads too (pids, e.g. 12,34)"),
		OPT_STR(0, "tgid", &tgid_opt, "LIST", "these processes too (every thread)"),
		OPT_BOOLEAN('a', "all", &all, "every task (no CMD)"),
		OPT_NUM('d', "duration", &duration, "SEC", "without CMD: stop after SEC seconds"),
		OPT_FINISH(),
	};
	char pids[4096] = "", tgids[4096] = "", why[160], cpu_str[1024], tun_why[256];
	char *blob[SB_NR] = { NULL };
	size_t blen[SB_NR] = { 0 };
	struct sched_hdr h = { 0 };
	struct cs_session s = { .fd = -1 };
	struct cpumask mask = { 0 };
	struct tunables tun;
	struct timespec wall;
	uint64_t count[SHIKUMI_CS_LOST + 1], t_end = 0, dropped = 0;
	struct cs_stats_cpu *st = NULL;
	int first, ret = EXIT_FAIL, go = -1, errfd = -1, wstatus = 0, fd, c, e;
	bool created, waited = false, have_cmd;
	char **cmd;
	pid_t child = 0, cmd_pid = 0;
	FILE *f = NULL;
	struct stat sb;
	size_t i;

	first = parse_options(argc, argv, opts, &record_help);
	cmd = argv + first;
	have_cmd = first < argc;
	if (have_cmd && (all || duration))
		return usage_error(opts, &record_help,
				   "-a and --duration are for recording without a command");
	if (!have_cmd && !all && !pid_opt && !tgid_opt)
		return usage_error(opts, &record_help,
				   "what to trace? give -- CMD [ARGS...], or -a, --pid or --tgid");
	if (all && (pid_opt || tgid_opt))
		return usage_error(opts, &record_help, "-a traces every task: no --pid or --tgid");
	if (pid_opt && pidlist_parse(pid_opt, pids, sizeof(pids), why, sizeof(why)))
		return usage_error(opts, &record_help, "--pid '%s': %s", pid_opt, why);
	if (tgid_opt && pidlist_parse(tgid_opt, tgids, sizeof(tgids), why, sizeof(why)))
		return usage_error(opts, &record_help, "--tgid '%s': %s", tgid_opt, why);
	if (cpumask_init(&mask, cpus ? cpus : "all")) {
		cpulist_parse(cpus, mask.on, mask.n, why, sizeof(why));
		free(mask.on);
		return usage_error(opts, &record_help, "--cpu '%s': %s", cpus, why);
	}
	if (cs_check()) {
		free(mask.on);
		return EXIT_FAIL;
	}

	/* the output first: no trace is taken that cannot be kept */
	created = stat(out, &sb) != 0;
	fd = open(out, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		p_err("cannot write %s: %s", out, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(mask.on);
		return EXIT_FAIL;
	}
	tunables_read(&tun, tun_why, sizeof(tun_why));
	catch_signals();

	if (have_cmd) {
		child = spawn_waiting(cmd, &go, &errfd);
		if (child < 0) {
			child = 0;
			goto out;
		}
		cmd_pid = child;
		snprintf(pids + strlen(pids), sizeof(pids) - strlen(pids), "%s%d",
			 pids[0] ? "," : "", child);
	}
	if (cs_start(&s, pids, tgids, cpus ? cpus : "all", have_cmd))
		goto out;
	clock_gettime(CLOCK_REALTIME, &wall);
	if (have_cmd) {
		e = release_child(go, errfd);
		go = errfd = -1;
		if (e) {
			cs_stop(&s);
			p_err("cannot run '%s': %s", cmd[0], strerror(e));
			goto out;
		}
	} else {
		t_end = duration ? s.start_ns + duration * NSEC_PER_SEC : 0;
		if (!opt_json)
			fprintf(stderr, "%s: recording%s; Ctrl-C stops\n", prog_name,
				duration ? " for the duration given" : "");
	}
	for (;;) {
		if (cs_drain(&s) < 0) {
			cs_stop(&s);
			goto out;
		}
		if (child > 0) {
			if (waitpid(child, &wstatus, WNOHANG) == child) {
				waited = true;
				break;
			}
			if (got_signal == SIGTERM || got_signal == SIGHUP) {
				kill(child, got_signal);	/* Ctrl-C reached it already */
				got_signal = 0;
			}
		} else if (got_signal || (t_end && now_ns() >= t_end)) {
			break;
		}
		sleep_ns(DRAIN_NS);
	}
	child = 0;
	if (cs_stop(&s))
		goto out;
	if (recs_sort(s.r, s.n))
		goto out;

	/* the file */
	memcpy(h.magic, SCHED_MAGIC, sizeof(h.magic));
	h.version = SCHED_VERSION;
	h.hdr_size = sizeof(h);
	h.rec_size = REC_SIZE;
	h.nr_cpus = (uint32_t)mask.n;
	h.nr_recs = s.n;
	h.start_ns = s.start_ns;
	h.end_ns = s.end_ns;
	h.wall_ns = (uint64_t)wall.tv_sec * NSEC_PER_SEC + (uint64_t)wall.tv_nsec;
	h.pid = cmd_pid;
	h.wstatus = wstatus;
	h.flags = (all ? SF_ALL_TASKS : 0) | (have_cmd ? SF_FOLLOW_FORK : 0) |
		  (waited ? SF_WAITED : 0);
	h.nr_events = (uint32_t)s.nr_events;
	snprintf(h.kernel, sizeof(h.kernel), "%s", kernel_release());
	if (have_cmd) {
		for (i = 0; cmd[i]; i++)
			blen[SB_CMD] += strlen(cmd[i]) + 1;
		blob[SB_CMD] = malloc(blen[SB_CMD]);
		if (!blob[SB_CMD]) {
			p_err("out of memory");
			goto out;
		}
		for (i = 0, blen[SB_CMD] = 0; cmd[i]; i++) {
			memcpy(blob[SB_CMD] + blen[SB_CMD], cmd[i], strlen(cmd[i]) + 1);
			blen[SB_CMD] += strlen(cmd[i]) + 1;
		}
	}
	{
		bool *on = calloc((size_t)mask.n, sizeof(*on));

		if (!on) {
			p_err("out of memory");
			goto out;
		}
		online_cpus(on, mask.n);
		for (c = 0; c < mask.n; c++)
			on[c] = on[c] && mask.on[c];
		cpulist_format(on, mask.n, cpu_str, sizeof(cpu_str));
		free(on);
	}
	blob[SB_PIDS] = strdup(pids);
	blob[SB_TGIDS] = strdup(tgids);
	blob[SB_CPUS] = strdup(cpu_str);
	blob[SB_TUNABLES] = tunables_serialise(&tun);
	blob[SB_STATS] = strdup(s.stats);
	for (i = SB_PIDS; i < SB_NR; i++) {
		if (!blob[i]) {
			p_err("out of memory");
			goto out;
		}
		blen[i] = strlen(blob[i]);
	}
	if (recording_write(out, f, &h, blob, blen, s.r))
		goto out;

	/* what was recorded */
	count_types(s.r, s.n, count);
	st = calloc((size_t)mask.n, sizeof(*st));
	if (!st) {
		p_err("out of memory");
		goto out;
	}
	cs_stats_parse(s.stats, st, mask.n);
	for (c = 0; c < mask.n; c++)
		dropped += st[c].dropped;
	if (opt_json) {
		struct json *j = json_new(stdout, opt_pretty);

		json_object_begin(j, NULL);
		json_string(j, "file", out);
		if (have_cmd) {
			json_array_begin(j, "command");
			for (i = 0; cmd[i]; i++)
				json_string(j, NULL, cmd[i]);
			json_array_end(j);
			json_i64(j, "pid", h.pid);
			if (WIFEXITED(wstatus))
				json_i64(j, "exit_status", WEXITSTATUS(wstatus));
			else
				json_null(j, "exit_status");
			if (WIFSIGNALED(wstatus))
				json_i64(j, "signal", WTERMSIG(wstatus));
		}
		json_bool(j, "all_tasks", all);
		json_string(j, "cpus", cpu_str);
		json_u64(j, "duration_ns", s.end_ns - s.start_ns);
		json_u64(j, "records", s.n);
		json_u64(j, "switches", count[SHIKUMI_CS_SWITCH]);
		json_u64(j, "wakeups", count[SHIKUMI_CS_WAKEUP]);
		json_u64(j, "new_tasks", count[SHIKUMI_CS_WAKEUP_NEW]);
		json_u64(j, "migrations", count[SHIKUMI_CS_MIGRATE]);
		json_u64(j, "dropped", dropped);
		json_object_end(j);
		json_free(j);
	} else {
		if (have_cmd && WIFEXITED(wstatus))
			fprintf(stderr, "%s: '%s' (pid %d) exited with status %d\n", prog_name,
				cmd[0], h.pid, WEXITSTATUS(wstatus));
		else if (have_cmd && WIFSIGNALED(wstatus))
			fprintf(stderr, "%s: '%s' (pid %d) was killed by signal %d (%s)\n",
				prog_name, cmd[0], h.pid, WTERMSIG(wstatus),
				strsignal(WTERMSIG(wstatus)));
		fprintf(stderr, "%s: %zu events in %.3f s on CPUs %s: %llu switches, %llu wakeups, "
			"%llu new tasks, %llu migrations; %llu dropped\n", prog_name, s.n,
			(double)(s.end_ns - s.start_ns) / 1e9, cpu_str,
			U(count[SHIKUMI_CS_SWITCH]), U(count[SHIKUMI_CS_WAKEUP]),
			U(count[SHIKUMI_CS_WAKEUP_NEW]), U(count[SHIKUMI_CS_MIGRATE]), U(dropped));
		fprintf(stderr, "%s: written to %s: see 'shikumi sched report -i %s'\n",
			prog_name, out, out);
	}
	if (dropped)
		p_warn("%llu events were dropped (rings full): 'shikumi sched report' shows "
		       "where", U(dropped));
	ret = EXIT_OK;
out:
	if (go >= 0)
		close(go);	/* the child gives up without running CMD */
	if (errfd >= 0)
		close(errfd);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (s.enabled || s.configured || s.fd >= 0)
		cs_stop(&s);
	if (f && fclose(f) && ret == EXIT_OK) {
		p_err("cannot write %s: %s", out, strerror(errno));
		ret = EXIT_FAIL;
	}
	if (ret != EXIT_OK && created)
		unlink(out);
	for (i = 0; i < SB_NR; i++)
		free(blob[i]);
	free(st);
	free(mask.on);
	cs_free(&s);
	return ret;
}
