// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi chr: the character device of chapter 6.
 *
 *   info    devices, their numbers, modes and counters
 *   bench   completion latency and CPU cost of one completion mode
 *   sweep   both modes across a range of device latencies: the book's
 *           polling-versus-interrupt trade-off, measured
 *
 * A command's latency is what the caller sees: from just before the
 * SUBMIT ioctl to just after the caller learns it completed.  CPU time is
 * the caller's user+system time (getrusage) divided by the commands run.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <shikumi/chrdev.h>

#include "shikumi.h"

#define CLASS_DIR	"/sys/class/shikumi-chr"
#define DEFAULT_DEV	"/dev/shikumi-chr0"

static int need_module(void)
{
	if (module_is_loaded("shikumi_chrdev"))
		return 0;
	p_not_loaded("shikumi_chrdev");
	return EXIT_FAIL;
}

/* ---- info -------------------------------------------------------------- */

static const struct cmd_help info_help = {
	.usage = "[--json]",
	.summary = "List the devices: node, major:minor, file mode, FIFO fill and the\n"
		   "simulated device's counters.",
};

static int filter_dev(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static void mode_string(mode_t m, char *s)
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	s[0] = S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISDIR(m) ? 'd' : '-';
	for (i = 0; i < 9; i++)
		s[i + 1] = (m & (1U << (8 - i))) ? rwx[i] : '-';
	s[10] = '\0';
}

static uint64_t attr_u64(const char *dev, const char *attr)
{
	char p[PATH_MAX];
	uint64_t v = 0;

	snprintf(p, sizeof(p), CLASS_DIR "/%s/%s", dev, attr);
	read_file_u64(p, &v);
	return v;
}

static int chr_info(int argc, char **argv)
{
	static const struct opt opts[] = { OPT_FINISH() };
	static const char *const counters[] = {
		"cmd_seq", "completions", "irqs", "polls", "fifo_len", "fifo_size",
	};
	struct dirent **list = NULL;
	struct json *j = NULL;
	int first, n, i;
	size_t k;

	first = parse_options(argc, argv, opts, &info_help);
	if (first < argc)
		return usage_error(&info_help, "unexpected argument '%s'", argv[first]);
	if (need_module())
		return EXIT_FAIL;
	n = scandir(CLASS_DIR, &list, filter_dev, cmp_dev_names);
	if (n < 0) {
		p_err("cannot list %s: %s", CLASS_DIR, strerror(errno));
		return EXIT_FAIL;
	}

	if (opt_json) {
		j = json_stdout();
		json_object_begin(j, NULL);
		json_array_begin(j, "devices");
	} else {
		printf("%-20s %-8s %-11s %-11s %8s %11s %8s %10s  %s\n", "DEVICE",
		       "MAJ:MIN", "MODE", "FIFO", "COMMANDS", "COMPLETIONS",
		       "IRQS", "POLLS", "STATUS");
	}
	for (i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		char node[PATH_MAX], devno[32] = "?", status[64] = "?", mode[16] = "?";
		char p[PATH_MAX], fifo[32];
		struct stat st;
		bool have_node;

		snprintf(node, sizeof(node), "/dev/%s", name);
		snprintf(p, sizeof(p), CLASS_DIR "/%s/dev", name);
		read_file_str(p, devno, sizeof(devno));
		snprintf(p, sizeof(p), CLASS_DIR "/%s/status", name);
		read_file_str(p, status, sizeof(status));
		have_node = !stat(node, &st);
		if (have_node)
			mode_string(st.st_mode, mode);

		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "name", name);
			json_string(j, "node", have_node ? node : NULL);
			json_string(j, "dev", devno);
			if (have_node) {
				json_u64(j, "major", major(st.st_rdev));
				json_u64(j, "minor", minor(st.st_rdev));
				json_string(j, "mode", mode);
				json_u64(j, "uid", st.st_uid);
				json_u64(j, "gid", st.st_gid);
			}
			json_string(j, "status", status);
			for (k = 0; k < ARRAY_SIZE(counters); k++)
				json_u64(j, counters[k], attr_u64(name, counters[k]));
			json_object_end(j);
			continue;
		}
		snprintf(fifo, sizeof(fifo), "%llu/%llu",
			 (unsigned long long)attr_u64(name, "fifo_len"),
			 (unsigned long long)attr_u64(name, "fifo_size"));
		printf("%-20s %-8s %-11s %-11s %8llu %11llu %8llu %10llu  %s\n",
		       have_node ? node : name, devno, mode, fifo,
		       (unsigned long long)attr_u64(name, "cmd_seq"),
		       (unsigned long long)attr_u64(name, "completions"),
		       (unsigned long long)attr_u64(name, "irqs"),
		       (unsigned long long)attr_u64(name, "polls"), status);
	}
	if (j) {
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	}
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return EXIT_OK;
}

/* ---- the benchmark ----------------------------------------------------- */

enum chr_mode { MODE_IRQ, MODE_POLL, MODE_UPOLL, MODE_NR };

static const char *const mode_names[MODE_NR + 1] = { "irq", "poll", "upoll", NULL };

struct bench {
	enum chr_mode mode;
	uint64_t latency_ns;
	size_t count;
	/* results */
	double median_us, p99_us, min_us, max_us, mean_us;
	double dev_median_us;	/* the device's own submit-to-complete */
	double cpu_us, user_us, sys_us;	/* per command */
	double vcsw, ivcsw;		/* context switches per command */
	uint64_t completions, irqs, polls;	/* counter deltas */
};

struct chrdev {
	int fd;
	const volatile struct shikumi_chr_regs *regs;
};

static int parse_mode(const char *s, enum chr_mode *m)
{
	int i;

	for (i = 0; i < MODE_NR; i++) {
		if (!strcmp(s, mode_names[i])) {
			*m = (enum chr_mode)i;
			return 0;
		}
	}
	return -1;
}

static int chr_open(const char *path, struct chrdev *c)
{
	void *p;

	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		int err = errno;

		if (err == ENOENT && !module_is_loaded("shikumi_chrdev"))
			p_not_loaded("shikumi_chrdev");
		else
			p_err("cannot open %s: %s", path, strerror(err));
		return -1;
	}
	p = mmap(NULL, sizeof(struct shikumi_chr_regs), PROT_READ, MAP_SHARED,
		 c->fd, 0);
	if (p == MAP_FAILED) {
		p_err("cannot map the register page of %s: %s", path, strerror(errno));
		close(c->fd);
		return -1;
	}
	c->regs = p;
	if (c->regs->magic != SHIKUMI_CHR_REGS_MAGIC) {
		p_err("%s is not a shikumi character device", path);
		munmap(p, sizeof(struct shikumi_chr_regs));
		close(c->fd);
		return -1;
	}
	return 0;
}

static void chr_close(struct chrdev *c)
{
	munmap((void *)c->regs, sizeof(struct shikumi_chr_regs));
	close(c->fd);
}

/* One command; returns its latency in ns as the caller saw it, or 0. */
static uint64_t one_command(struct chrdev *c, enum chr_mode mode, uint64_t lat,
			    uint64_t *dev_ns)
{
	struct shikumi_chr_cmd cmd = { .latency_ns = lat };
	uint64_t t0, t1;

	cmd.wait = mode == MODE_IRQ ? SHIKUMI_CHR_WAIT_IRQ :
		   mode == MODE_POLL ? SHIKUMI_CHR_WAIT_POLL : SHIKUMI_CHR_WAIT_NONE;
	t0 = now_ns();
	if (ioctl(c->fd, SHIKUMI_CHR_IOC_SUBMIT, &cmd)) {
		p_err("SUBMIT: %s", strerror(errno));
		return 0;
	}
	if (mode == MODE_UPOLL) {
		/* spin on the mapped status register, in user space */
		while (__atomic_load_n(&c->regs->done_seq, __ATOMIC_ACQUIRE) < cmd.seq)
			__builtin_ia32_pause();
		cmd.complete_ns = c->regs->complete_ns;
	}
	t1 = now_ns();
	*dev_ns = cmd.complete_ns - cmd.submit_ns;
	return t1 > t0 ? t1 - t0 : 1;
}

static double tv_us(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e6 +
	       (double)(b->tv_usec - a->tv_usec);
}

static int run_bench(struct chrdev *c, struct bench *b)
{
	double *lat = calloc(b->count, sizeof(double));
	double *dev = calloc(b->count, sizeof(double));
	uint64_t compl0, irqs0, polls0, ns, dev_ns;
	struct rusage r0, r1;
	double sum = 0;
	size_t i;
	int ret = -1;

	if (!lat || !dev) {
		p_err("out of memory");
		goto out;
	}
	/* warm up: page in the code paths, settle the CPU frequency */
	for (i = 0; i < 3; i++)
		if (!one_command(c, b->mode, b->latency_ns, &dev_ns))
			goto out;

	compl0 = c->regs->completions;
	irqs0 = c->regs->irqs;
	polls0 = c->regs->polls;
	getrusage(RUSAGE_SELF, &r0);
	for (i = 0; i < b->count; i++) {
		ns = one_command(c, b->mode, b->latency_ns, &dev_ns);
		if (!ns)
			goto out;
		lat[i] = (double)ns / 1000.0;
		dev[i] = (double)dev_ns / 1000.0;
		sum += lat[i];
	}
	getrusage(RUSAGE_SELF, &r1);

	b->completions = c->regs->completions - compl0;
	b->irqs = c->regs->irqs - irqs0;
	b->polls = c->regs->polls - polls0;
	b->user_us = tv_us(&r0.ru_utime, &r1.ru_utime) / (double)b->count;
	b->sys_us = tv_us(&r0.ru_stime, &r1.ru_stime) / (double)b->count;
	b->cpu_us = b->user_us + b->sys_us;
	b->vcsw = (double)(r1.ru_nvcsw - r0.ru_nvcsw) / (double)b->count;
	b->ivcsw = (double)(r1.ru_nivcsw - r0.ru_nivcsw) / (double)b->count;
	b->mean_us = sum / (double)b->count;
	b->median_us = percentile(lat, b->count, 50);
	b->p99_us = percentile(lat, b->count, 99);
	b->min_us = lat[0];
	b->max_us = lat[b->count - 1];
	b->dev_median_us = percentile(dev, b->count, 50);
	ret = 0;
out:
	free(lat);
	free(dev);
	return ret;
}

static void bench_json(struct json *j, const struct bench *b)
{
	json_object_begin(j, NULL);
	json_string(j, "mode", mode_names[b->mode]);
	json_double(j, "latency_us", (double)b->latency_ns / 1000.0);
	json_u64(j, "count", b->count);
	json_double(j, "median_us", b->median_us);
	json_double(j, "p99_us", b->p99_us);
	json_double(j, "min_us", b->min_us);
	json_double(j, "max_us", b->max_us);
	json_double(j, "mean_us", b->mean_us);
	json_double(j, "overhead_median_us",
		    b->median_us - (double)b->latency_ns / 1000.0);
	json_double(j, "device_median_us", b->dev_median_us);
	json_double(j, "cpu_us_per_cmd", b->cpu_us);
	json_double(j, "user_us_per_cmd", b->user_us);
	json_double(j, "sys_us_per_cmd", b->sys_us);
	json_double(j, "voluntary_switches_per_cmd", b->vcsw);
	json_double(j, "involuntary_switches_per_cmd", b->ivcsw);
	json_u64(j, "completions", b->completions);
	json_u64(j, "irqs", b->irqs);
	json_u64(j, "polls", b->polls);
	json_object_end(j);
}

static int check_latency_us(uint64_t us, const struct cmd_help *help)
{
	if (us * 1000 > SHIKUMI_CHR_LATENCY_MAX_NS)
		return usage_error(help,
				   "latency %llu us is out of range (0 to %llu us)",
				   (unsigned long long)us,
				   (unsigned long long)(SHIKUMI_CHR_LATENCY_MAX_NS / 1000));
	return 0;
}

static const struct cmd_help bench_help = {
	.usage = "--mode irq|poll|upoll --latency USEC [--count N] [--device DEV] [--json]",
	.summary = "Submit COUNT commands that the device completes after USEC\n"
		   "microseconds, and report the latency the caller saw (median, p99)\n"
		   "and the CPU time each command cost.",
	.details =
	"modes:\n"
	"  irq    the caller sleeps; the device's simulated interrupt wakes it\n"
	"  poll   the driver spins on the device's status register\n"
	"  upoll  the ioctl returns at once; the caller spins on the status\n"
	"         register mapped into its own address space",
};

static int chr_bench(int argc, char **argv)
{
	const char *mode_s = NULL, *device = DEFAULT_DEV;
	uint64_t latency = UINT64_MAX, count = 1000;
	const struct opt opts[] = {
		OPT_STR_OF('m', "mode", &mode_s, "MODE", "irq, poll or upoll", mode_names),
		OPT_NUM('l', "latency", &latency, "USEC", "device latency in microseconds"),
		OPT_NUM('n', "count", &count, "N", "commands to time (default 1000)"),
		OPT_STR('d', "device", &device, "DEV", "device node (default " DEFAULT_DEV ")"),
		OPT_FINISH(),
	};
	struct bench b = { 0 };
	struct chrdev c;
	int first, ret;

	first = parse_options(argc, argv, opts, &bench_help);
	if (first < argc)
		return usage_error(&bench_help, "unexpected argument '%s'", argv[first]);
	if (!mode_s)
		return usage_error(&bench_help, "--mode is required");
	if (parse_mode(mode_s, &b.mode))
		return usage_error(&bench_help, "unknown mode '%s'", mode_s);
	if (latency == UINT64_MAX)
		return usage_error(&bench_help, "--latency is required");
	ret = check_latency_us(latency, &bench_help);
	if (ret)
		return ret;
	if (count < 1 || count > 10000000)
		return usage_error(&bench_help, "--count must be 1 to 10000000");
	b.latency_ns = latency * 1000;
	b.count = count;

	if (chr_open(device, &c))
		return EXIT_FAIL;
	ret = run_bench(&c, &b);
	chr_close(&c);
	if (ret)
		return EXIT_FAIL;

	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_string(j, "device", device);
		json_array_begin(j, "results");
		bench_json(j, &b);
		json_array_end(j);
		json_object_end(j);
		json_free(j);
		return EXIT_OK;
	}
	printf("%s: mode %s, device latency %llu us, %zu commands\n", device,
	       mode_names[b.mode], (unsigned long long)latency, b.count);
	printf("  latency seen by the caller: median %.1f us, p99 %.1f us (min %.1f, max %.1f)\n",
	       b.median_us, b.p99_us, b.min_us, b.max_us);
	printf("  overhead over the device:   median %.1f us (device itself: %.1f us)\n",
	       b.median_us - (double)latency, b.dev_median_us);
	printf("  CPU per command:            %.1f us (user %.1f + sys %.1f), %.0f%% of the mean latency\n",
	       b.cpu_us, b.user_us, b.sys_us,
	       b.median_us > 0 ? 100.0 * b.cpu_us / b.median_us : 0);
	printf("  context switches/command:   %.2f voluntary, %.2f involuntary\n",
	       b.vcsw, b.ivcsw);
	printf("  device counters:            +%llu completions, +%llu interrupts, +%llu polls (%.0f per command)\n",
	       (unsigned long long)b.completions, (unsigned long long)b.irqs,
	       (unsigned long long)b.polls, (double)b.polls / (double)b.count);
	return EXIT_OK;
}

/* ---- sweep ------------------------------------------------------------- */

static const struct cmd_help sweep_help = {
	.usage = "[--latencies LIST] [--modes LIST] [--count N] [--svg FILE] [--json]",
	.summary = "Run the benchmark for each mode across a range of device latencies\n"
		   "and print a table; --svg also plots latency and CPU cost per mode.",
	.details = "LIST is comma-separated: --latencies 1,10,100 --modes irq,poll.\n"
		   "Defaults: latencies 1,2,5,10,20,50,100,200,500,1000 us; modes irq,poll.",
};

static int parse_list_u64(const char *s, uint64_t *v, size_t max, size_t *n)
{
	char *end;

	*n = 0;
	while (*s) {
		if (*n == max || *s < '0' || *s > '9')
			return -1;
		v[(*n)++] = strtoull(s, &end, 10);
		if (*end == ',')
			end++;
		else if (*end)
			return -1;
		s = end;
	}
	return *n ? 0 : -1;
}

static int write_sweep_svg(const char *path, const struct bench *res,
			   size_t nlat, const enum chr_mode *modes, size_t nmodes)
{
	struct plot_series lat_s[MODE_NR + 1], cpu_s[MODE_NR];
	double *x, *ylat, *ycpu;
	struct plot panels[2];
	size_t m, i;
	FILE *f;
	int ret;

	x = calloc(nlat, sizeof(double));
	ylat = calloc(nlat * nmodes, sizeof(double));
	ycpu = calloc(nlat * nmodes, sizeof(double));
	if (!x || !ylat || !ycpu) {
		ret = -1;
		goto out;
	}
	for (i = 0; i < nlat; i++)
		x[i] = (double)res[i * nmodes].latency_ns / 1000.0;
	for (m = 0; m < nmodes; m++) {
		for (i = 0; i < nlat; i++) {
			ylat[m * nlat + i] = res[i * nmodes + m].median_us;
			ycpu[m * nlat + i] = res[i * nmodes + m].cpu_us;
		}
		lat_s[m] = (struct plot_series){ mode_names[modes[m]], x,
						 ylat + m * nlat, nlat, false };
		cpu_s[m] = (struct plot_series){ mode_names[modes[m]], x,
						 ycpu + m * nlat, nlat, false };
	}
	lat_s[nmodes] = (struct plot_series){ "device latency", x, x, nlat, true };

	panels[0] = (struct plot){ "Latency seen by the caller (median)",
				   "device latency (us)", "latency (us)", true, true,
				   lat_s, nmodes + 1 };
	panels[1] = (struct plot){ "CPU time per command (user+sys)",
				   "device latency (us)", "CPU time (us)", true, true,
				   cpu_s, nmodes };
	f = fopen(path, "we");
	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		ret = -1;
		goto out;
	}
	ret = svg_write_plots(f, "shikumi chr sweep: polling vs interrupt", panels, 2);
	if (fclose(f))
		ret = -1;
	if (ret)
		p_err("cannot write %s", path);
out:
	free(x);
	free(ylat);
	free(ycpu);
	return ret;
}

static int chr_sweep(int argc, char **argv)
{
	const char *lat_s = "1,2,5,10,20,50,100,200,500,1000", *modes_s = "irq,poll";
	const char *device = DEFAULT_DEV, *svg = NULL;
	uint64_t count = 200, lat[64];
	const struct opt opts[] = {
		OPT_STR('L', "latencies", &lat_s, "LIST", "device latencies in us"),
		OPT_STR('m', "modes", &modes_s, "LIST", "modes among irq, poll, upoll"),
		OPT_NUM('n', "count", &count, "N", "commands per point (default 200)"),
		OPT_STR('d', "device", &device, "DEV", "device node (default " DEFAULT_DEV ")"),
		OPT_STR(0, "svg", &svg, "FILE", "also plot the results to FILE"),
		OPT_FINISH(),
	};
	enum chr_mode modes[MODE_NR];
	size_t nlat, nmodes = 0, i, m;
	char buf[64], *tok, *save = NULL;
	struct bench *res;
	struct chrdev c;
	int first, ret = EXIT_OK;

	first = parse_options(argc, argv, opts, &sweep_help);
	if (first < argc)
		return usage_error(&sweep_help, "unexpected argument '%s'", argv[first]);
	if (parse_list_u64(lat_s, lat, 64, &nlat))
		return usage_error(&sweep_help, "bad latency list '%s'", lat_s);
	for (i = 0; i < nlat; i++) {
		ret = check_latency_us(lat[i], &sweep_help);
		if (ret)
			return ret;
	}
	snprintf(buf, sizeof(buf), "%s", modes_s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nmodes == MODE_NR || parse_mode(tok, &modes[nmodes]))
			return usage_error(&sweep_help, "bad mode list '%s'", modes_s);
		nmodes++;
	}
	if (!nmodes)
		return usage_error(&sweep_help, "bad mode list '%s'", modes_s);
	if (count < 1 || count > 1000000)
		return usage_error(&sweep_help, "--count must be 1 to 1000000");

	res = calloc(nlat * nmodes, sizeof(*res));
	if (!res) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	if (chr_open(device, &c)) {
		free(res);
		return EXIT_FAIL;
	}
	if (!opt_json)
		printf("%8s %-6s %10s %10s %11s %11s %6s %8s\n", "LAT_US", "MODE",
		       "MEDIAN_US", "P99_US", "OVERHEAD_US", "CPU_US/CMD", "CPU%",
		       "CSW/CMD");
	for (i = 0; i < nlat; i++) {
		for (m = 0; m < nmodes; m++) {
			struct bench *b = &res[i * nmodes + m];

			b->mode = modes[m];
			b->latency_ns = lat[i] * 1000;
			b->count = count;
			if (run_bench(&c, b)) {
				ret = EXIT_FAIL;
				goto out;
			}
			if (opt_json)
				continue;
			printf("%8llu %-6s %10.1f %10.1f %11.1f %11.1f %5.0f%% %8.2f\n",
			       (unsigned long long)lat[i], mode_names[b->mode],
			       b->median_us, b->p99_us,
			       b->median_us - (double)lat[i], b->cpu_us,
			       b->mean_us > 0 ? 100.0 * b->cpu_us / b->mean_us : 0,
			       b->vcsw + b->ivcsw);
			fflush(stdout);
		}
	}
	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_string(j, "device", device);
		json_array_begin(j, "results");
		for (i = 0; i < nlat * nmodes; i++)
			bench_json(j, &res[i]);
		json_array_end(j);
		json_string(j, "svg", svg);
		json_object_end(j);
		json_free(j);
	}
	if (svg && write_sweep_svg(svg, res, nlat, modes, nmodes))
		ret = EXIT_FAIL;
	else if (svg && !opt_json)
		printf("plot written to %s\n", svg);
out:
	chr_close(&c);
	free(res);
	return ret;
}

static const struct cmd chr_cmds[] = {
	{ "info",  chr_info,  "list the devices with their numbers and counters" },
	{ "bench", chr_bench, "time commands in one completion mode" },
	{ "sweep", chr_sweep, "compare modes across device latencies (table, SVG)" },
	{ NULL, NULL, NULL },
};

int cmd_chr(int argc, char **argv)
{
	return run_subcommand(argc, argv, chr_cmds, "shikumi chr COMMAND [OPTIONS]");
}
