// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk bench: shikumi against brd and null_blk with fio, and the
 * policies under the hdd model.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk.h"

/* ---- bench: shikumi against brd and null_blk -------------------------------- */

#define NDEV		3
#define NTEST		4
#define MAX_REPEAT	100

struct bench_dev {
	const char *label, *module;
	char node[80];
	bool loaded;		/* we loaded the module: unload it at the end */
};

struct bench {
	char disk[64];
	uint64_t size, runtime, repeat;
	unsigned int cpus;	/* jobs of the per-CPU tests, null_blk's queues */
	char queues[16];	/* shikumi's hardware queues */
	struct bench_dev dev[NDEV];
	/* [test][dev][repeat], [policy][repeat] */
	struct fio_result res[NTEST][NDEV][MAX_REPEAT];
	double hdd_iops[ARRAY_SIZE(policy_names)][MAX_REPEAT];
	double hdd_travel[ARRAY_SIZE(policy_names)][MAX_REPEAT];
};

/* one job, then one job per CPU (each QD32): one queue, then all of them */
static const struct {
	const char *name, *rw, *bs;
	bool per_cpu;
} bench_tests[NTEST] = {
	{ "randread_4k", "randread", "4k", false },
	{ "read_1m", "read", "1M", false },
	{ "randread_4k_per_cpu", "randread", "4k", true },
	{ "read_1m_per_cpu", "read", "1M", true },
};

/* IOPS for the 4K tests, bandwidth for the 1M ones */
#define BENCH_FIELD(t)	(bench_tests[t].bs[1] == 'M')

static double median(const double *v, size_t n)
{
	double tmp[MAX_REPEAT];

	if (!n || n > MAX_REPEAT)
		return NAN;
	memcpy(tmp, v, n * sizeof(*v));
	qsort(tmp, n, sizeof(*tmp), cmp_double);
	return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Field @f (0 iops, 1 bw_bytes) of every repeat of test @t on device @d. */
static double bench_median(const struct bench *b, int t, int d, int f)
{
	double v[MAX_REPEAT];
	size_t r;

	for (r = 0; r < b->repeat; r++)
		v[r] = f ? b->res[t][d][r].bw_bytes : b->res[t][d][r].iops;
	return median(v, b->repeat);
}

static int wait_node(const char *node)
{
	struct stat st;
	int i;

	for (i = 0; i < 50; i++) {
		if (!stat(node, &st) && S_ISBLK(st.st_mode))
			return 0;
		usleep(100000);
	}
	p_err("%s did not appear", node);
	return -1;
}

static int modprobe(char *const *argv, struct bench_dev *dev)
{
	char p[PATH_MAX], *rm[] = { "modprobe", "-r", (char *)dev->module, NULL };

	snprintf(p, sizeof(p), "/sys/module/%s", dev->module);
	if (!access(p, F_OK)) {
		p_info("%s is loaded already; using %s as it is", dev->module, dev->node);
		return wait_node(dev->node);
	}
	if (run_prog(argv, NULL)) {
		p_err("%s failed", argv[1]);
		return -1;
	}
	dev->loaded = true;
	if (wait_node(dev->node)) {
		run_prog(rm, NULL);
		dev->loaded = false;
		return -1;
	}
	return 0;
}

static int bench_load(struct bench *b)
{
	char brd_kb[64], nb_gb[64], nb_q[64];
	char *brd[] = { "modprobe", "brd", "rd_nr=1", brd_kb, NULL };
	/* a queue per CPU, as shikumi's: its best for the per-CPU jobs */
	char *nb[] = { "modprobe", "null_blk", "nr_devices=1", "memory_backed=1",
		       nb_gb, "queue_mode=2", "irqmode=0", nb_q, NULL };

	snprintf(nb_q, sizeof(nb_q), "submit_queues=%u", b->cpus);
	snprintf(brd_kb, sizeof(brd_kb), "rd_size=%llu",
		 (unsigned long long)(b->size >> 10));
	/* null_blk sizes in whole GiB; only the part fio touches gets memory */
	snprintf(nb_gb, sizeof(nb_gb), "gb=%llu",
		 (unsigned long long)((b->size + (1ULL << 30) - 1) >> 30));
	if (modprobe(brd, &b->dev[1]) || modprobe(nb, &b->dev[2]))
		return -1;
	if (!b->dev[2].loaded &&
	    !read_file_str("/sys/module/null_blk/parameters/memory_backed", nb_gb,
			   sizeof(nb_gb)) && !strcmp(nb_gb, "0"))
		p_warn("null_blk was loaded without memory_backed=1: its reads touch no memory");
	if (!b->dev[2].loaded &&
	    !read_file_str("/sys/module/null_blk/parameters/submit_queues", nb_gb,
			   sizeof(nb_gb)) && strtoul(nb_gb, NULL, 10) != b->cpus)
		p_warn("null_blk was loaded with submit_queues=%s, not one per CPU (%u)",
		       nb_gb, b->cpus);
	return 0;
}

static void bench_unload(struct bench *b)
{
	int d;

	for (d = 1; d < NDEV; d++) {
		char *rm[] = { "modprobe", "-r", (char *)b->dev[d].module, NULL };

		if (b->dev[d].loaded && run_prog(rm, NULL))
			p_warn("could not unload %s", b->dev[d].module);
	}
}

static int bench_prefill(struct bench *b)
{
	struct fio_job job = {
		.name = "prefill", .rw = "write", .bs = "1M", .size = b->size,
		.ioengine = "libaio", .iodepth = 8, .direct = true,
	};
	struct fio_result r;
	int d;

	for (d = 0; d < NDEV; d++) {
		job.filename = b->dev[d].node;
		/*
		 * Driver against driver: no elevator on the blk-mq disks,
		 * as brd, which takes bios directly, has none.
		 */
		if (strncmp(b->dev[d].node, "/dev/ram", 8))
			queue_write(b->dev[d].node + 5, "scheduler", "none");
		if (!opt_json)
			fprintf(stderr, "prefilling %s\n", job.filename);
		if (fio_run(&job, NULL, &r))
			return -1;
	}
	return 0;
}

static int bench_devices(struct bench *b)
{
	struct fio_job job = {
		.ioengine = "libaio", .iodepth = 32, .numjobs = 1, .direct = true,
		.time_based = true, .size = b->size,
		.runtime = (unsigned int)b->runtime,
	};
	size_t r;
	int t, k, d;

	for (r = 0; r < b->repeat; r++) {
		for (t = 0; t < NTEST; t++) {
			job.name = bench_tests[t].name;
			job.rw = bench_tests[t].rw;
			job.bs = bench_tests[t].bs;
			job.numjobs = bench_tests[t].per_cpu ? b->cpus : 1;
			/* rotate the order so that drift falls on every device */
			for (k = 0; k < NDEV; k++) {
				d = (int)((k + r) % NDEV);
				job.filename = b->dev[d].node;
				if (fio_run(&job, NULL, &b->res[t][d][r]))
					return -1;
				if (!opt_json)
					fprintf(stderr, "%-9s %-12s #%zu: %.0f IOPS, %.0f MB/s\n",
						b->dev[d].label, job.name, r + 1,
						b->res[t][d][r].iops,
						b->res[t][d][r].bw_bytes / 1e6);
			}
		}
	}
	return 0;
}

static int bench_hdd(struct bench *b)
{
	struct fio_job job = {
		.name = "hdd_randread", .filename = b->dev[0].node, .rw = "randread",
		.bs = "4k", .ioengine = "libaio", .iodepth = 32, .direct = true,
		.time_based = true, .size = b->size, .runtime = (unsigned int)b->runtime,
	};
	struct blk_stats s0, s1;
	struct fio_result res;
	size_t r, p, np = ARRAY_SIZE(policy_names);
	uint64_t done;

	if (set_ctl(b->disk, "model", "hdd"))
		return -1;
	for (r = 0; r < b->repeat; r++) {
		for (p = 0; p < np; p++) {
			if (set_ctl(b->disk, "policy", policy_names[p]) ||
			    read_stats(b->disk, &s0) || fio_run(&job, NULL, &res) ||
			    read_stats(b->disk, &s1))
				return -1;
			done = s1.completed - s0.completed;
			b->hdd_iops[p][r] = res.iops;
			b->hdd_travel[p][r] = done ? (double)(s1.head_travel -
					      s0.head_travel) / (double)done : NAN;
			if (!opt_json)
				fprintf(stderr, "hdd %-8s #%zu: %.0f IOPS, %.0f sectors/request\n",
					policy_names[p], r + 1, res.iops,
					b->hdd_travel[p][r]);
		}
	}
	return 0;
}

static void json_samples(struct json *j, const char *key, const double *v, size_t n)
{
	size_t i;

	json_array_begin(j, key);
	for (i = 0; i < n; i++)
		json_double(j, NULL, v[i]);
	json_array_end(j);
}

static void bench_json_devices(struct json *j, const struct bench *b)
{
	double v[MAX_REPEAT];
	size_t r;
	int d, t;

	json_array_begin(j, "devices");
	for (d = 0; d < NDEV; d++) {
		json_object_begin(j, NULL);
		json_string(j, "device", b->dev[d].label);
		json_string(j, "node", b->dev[d].node);
		for (t = 0; t < NTEST; t++) {
			json_object_begin(j, bench_tests[t].name);
			for (r = 0; r < b->repeat; r++)
				v[r] = b->res[t][d][r].iops;
			json_samples(j, "iops", v, b->repeat);
			for (r = 0; r < b->repeat; r++)
				v[r] = b->res[t][d][r].bw_bytes;
			json_samples(j, "bw_bytes", v, b->repeat);
			json_double(j, "median_iops", bench_median(b, t, d, 0));
			json_double(j, "median_bw_bytes", bench_median(b, t, d, 1));
			json_object_end(j);
		}
		json_object_end(j);
	}
	json_array_end(j);
	for (d = 1; d < NDEV; d++) {
		char key[32];

		snprintf(key, sizeof(key), "shikumi_vs_%s", b->dev[d].label);
		json_object_begin(j, key);
		for (t = 0; t < NTEST; t++)
			json_double(j, bench_tests[t].name,
				    bench_median(b, t, 0, BENCH_FIELD(t)) /
				    bench_median(b, t, d, BENCH_FIELD(t)));
		json_object_end(j);
	}
}

static void bench_json_hdd(struct json *j, const struct bench *b)
{
	double fifo_iops = median(b->hdd_iops[0], b->repeat);
	double fifo_travel = median(b->hdd_travel[0], b->repeat);
	size_t p;

	json_array_begin(j, "hdd");
	for (p = 0; p < ARRAY_SIZE(policy_names); p++) {
		double iops = median(b->hdd_iops[p], b->repeat);
		double travel = median(b->hdd_travel[p], b->repeat);

		json_object_begin(j, NULL);
		json_string(j, "policy", policy_names[p]);
		json_samples(j, "iops", b->hdd_iops[p], b->repeat);
		json_samples(j, "travel_per_request", b->hdd_travel[p], b->repeat);
		json_double(j, "median_iops", iops);
		json_double(j, "median_travel_per_request", travel);
		json_double(j, "iops_vs_fifo", iops / fifo_iops);
		json_double(j, "travel_vs_fifo", travel / fifo_travel);
		json_object_end(j);
	}
	json_array_end(j);
}

static void bench_text(const struct bench *b)
{
	double fifo_iops = median(b->hdd_iops[0], b->repeat);
	double fifo_travel = median(b->hdd_travel[0], b->repeat);
	size_t p;
	int d, t;

	printf("medians of %llu runs of %llu s, fio libaio QD32 direct, %llu MiB;\n"
	       "1 job, then %u jobs (one per CPU); hardware queues: shikumi %s,\n"
	       "null_blk %u (brd has none: it takes bios)\n\n",
	       (unsigned long long)b->repeat, (unsigned long long)b->runtime,
	       (unsigned long long)(b->size >> 20), b->cpus, b->queues, b->cpus);
	printf("%-18s %-18s %11s %11s %11s %11s\n", "", "", "1 JOB", "",
	       "PER CPU", "");
	printf("%-18s %-18s %11s %11s %11s %11s\n", "DEVICE", "NODE", "4K_IOPS",
	       "1M_MB/s", "4K_IOPS", "1M_MB/s");
	for (d = 0; d < NDEV; d++) {
		printf("%-18s %-18s", b->dev[d].label, b->dev[d].node);
		for (t = 0; t < NTEST; t++)
			printf(" %11.0f", bench_median(b, t, d, BENCH_FIELD(t)) /
			       (BENCH_FIELD(t) ? 1e6 : 1));
		printf("\n");
	}
	for (d = 1; d < NDEV; d++) {
		char label[32];

		snprintf(label, sizeof(label), "shikumi/%s", b->dev[d].label);
		printf("%-18s %-18s", label, "(ratio)");
		for (t = 0; t < NTEST; t++)
			printf(" %11.2f", bench_median(b, t, 0, BENCH_FIELD(t)) /
			       bench_median(b, t, d, BENCH_FIELD(t)));
		printf("\n");
	}
	printf("\nmodel hdd, 4K random reads at QD32:\n");
	printf("%-9s %10s %14s %12s %14s\n", "POLICY", "IOPS", "TRAVEL/REQ",
	       "IOPS/FIFO", "TRAVEL/FIFO");
	for (p = 0; p < ARRAY_SIZE(policy_names); p++) {
		double iops = median(b->hdd_iops[p], b->repeat);
		double travel = median(b->hdd_travel[p], b->repeat);

		printf("%-9s %10.0f %14.0f %12.2f %14.2f\n", policy_names[p], iops,
		       travel, iops / fifo_iops, travel / fifo_travel);
	}
}

static void bench_report(const struct bench *b)
{
	struct json *j;

	if (!opt_json) {
		bench_text(b);
		return;
	}
	j = json_stdout();
	json_object_begin(j, NULL);
	json_string(j, "disk", b->disk);
	json_u64(j, "size_bytes", b->size);
	json_u64(j, "runtime", b->runtime);
	json_u64(j, "repeat", b->repeat);
	json_u64(j, "jobs_per_cpu_test", b->cpus);
	json_string(j, "shikumi_hw_queues", b->queues);
	bench_json_devices(j, b);
	bench_json_hdd(j, b);
	json_object_end(j);
	json_free(j);
}

static int bench_run(struct bench *b)
{
	struct saved sv;
	int ret;

	if (save_state(b->disk, &sv))
		return -1;
	ret = bench_load(b);
	if (!ret)
		ret = set_ctl(b->disk, "model", "ram");
	if (!ret)
		ret = bench_prefill(b);
	if (!ret)
		ret = bench_devices(b);
	if (!ret)
		ret = bench_hdd(b);
	restore_state(b->disk, &sv);
	bench_unload(b);
	if (!ret)
		bench_report(b);
	return ret;
}

static const struct cmd_help bench_help = {
	.usage = "[-d NAME] [--runtime S] [--repeat N] [--json]",
	.summary = "A benchmark, not a test.  Compare the disk (model ram) with brd and\n"
		   "null_blk of the same size: fio 4K random reads and 1M sequential reads,\n"
		   "libaio, QD32, O_DIRECT, with one job and with one job per CPU, medians\n"
		   "of N runs with the devices alternating.\n"
		   "Then, under the hdd model, 4K random reads at QD32 with each policy:\n"
		   "IOPS and head travel per request.  Needs root and fio.",
	.details = "brd and null_blk are loaded (and unloaded after) unless they are loaded\n"
		   "already.  Every device is first filled with a sequential write, so\n"
		   "reads touch real memory.  The model and policy are restored.",
};

int blk_bench(int argc, char **argv)
{
	const char *disk_s = DEFAULT_DISK;
	uint64_t runtime = 5, repeat = 3;
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_NUM('t', "runtime", &runtime, "S", "seconds per fio run (default 5)"),
		OPT_NUM('n', "repeat", &repeat, "N", "runs per device and test (default 3)"),
		OPT_FINISH(),
	};
	struct bench *b;
	int first, ret;

	first = parse_options(argc, argv, opts, &bench_help);
	if (first < argc)
		return usage_error(&bench_help, "unexpected argument '%s'", argv[first]);
	if (runtime < 1 || runtime > 3600 || repeat < 1 || repeat > MAX_REPEAT)
		return usage_error(&bench_help, "--runtime must be 1 to 3600, --repeat 1 to %d",
				   MAX_REPEAT);
	b = calloc(1, sizeof(*b));
	if (!b) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	ret = need_disk(disk_s, b->disk, sizeof(b->disk), &bench_help);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	if (need_fio())
		goto out;
	if (!is_root()) {
		p_err("needs root (modprobe, debugfs, the model)");
		goto out;
	}
	b->size = disk_sectors(b->disk) * 512;
	b->runtime = runtime;
	b->repeat = repeat;
	b->cpus = sysconf(_SC_NPROCESSORS_ONLN) > 0 ?
		  (unsigned int)sysconf(_SC_NPROCESSORS_ONLN) : 1;
	if (ctl_read(b->disk, "nr_hw_queues", b->queues, sizeof(b->queues)))
		snprintf(b->queues, sizeof(b->queues), "1");
	b->dev[0] = (struct bench_dev){ .label = "shikumi", .module = RAMDISK_MODULE };
	b->dev[1] = (struct bench_dev){ .label = "brd", .module = "brd", .node = "/dev/ram0" };
	b->dev[2] = (struct bench_dev){ .label = "null_blk", .module = "null_blk",
					.node = "/dev/nullb0" };
	snprintf(b->dev[0].node, sizeof(b->dev[0].node), "/dev/%s", b->disk);
	ret = bench_run(b) ? EXIT_FAIL : EXIT_OK;
out:
	free(b);
	return ret;
}
