// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi doctor: what the book's experiments need of this machine.  THP
 * (chapters 4 and 5), swap (chapter 4), fio (chapters 6 and 9), the
 * scheduler's statistics (chapter 3); and, for the record, the
 * preemption model and whether this is a VM, which change what the
 * experiments measure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "doctor.h"
#include "shikumi.h"

#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"
#define SCHEDSTATS	"/proc/sys/kernel/sched_schedstats"
#define DYNAMIC_UNREAD	\
	"chosen at boot (PREEMPT_DYNAMIC; root reads which: /sys/kernel/debug/sched/preempt)"

/* The [selected] word of a sysfs choice ("always [madvise] never"). */
static const char *selected(char *buf)
{
	char *b = strchr(buf, '['), *e = b ? strchr(b, ']') : NULL;

	if (!e)
		return NULL;
	*e = '\0';
	return b + 1;
}

static void check_thp(struct doctor *d)
{
	struct doctor_check *c;
	char buf[128];
	const char *mode;

	mode = read_file_str(THP_ENABLED, buf, sizeof(buf)) ? NULL : selected(buf);
	if (!mode) {
		doctor_add(d, "thp", "experiments", DOCTOR_WARN,
			   "no transparent huge pages in this kernel: the huge-page experiment (ch. 4, shikumi pt) cannot run");
		return;
	}
	if (strcmp(mode, "never")) {
		doctor_add(d, "thp", "experiments", DOCTOR_OK,
			   "transparent huge pages: %s (ch. 4's huge-page experiment can run)",
			   mode);
		return;
	}
	c = doctor_add(d, "thp", "experiments", DOCTOR_WARN,
		       "transparent huge pages are off (never): the huge-page experiment (ch. 4) cannot run");
	doctor_fix(c, "echo madvise > " THP_ENABLED);
}

static void check_swap(struct doctor *d)
{
	unsigned long long kib, total = 0;
	struct doctor_check *c;
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen("/proc/swaps", "re");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %*s %llu", &kib) == 1) {
				total += kib;
				n++;
			}
		fclose(f);
	}
	if (n) {
		doctor_add(d, "swap", "experiments", DOCTOR_OK, "%llu MiB of swap on %d device%s",
			   total / 1024, n, n == 1 ? "" : "s");
		return;
	}
	c = doctor_add(d, "swap", "experiments", DOCTOR_WARN,
		       "no swap: the book's swapping experiment (ch. 4) cannot run (shikumi cache demo swap makes a shikumi disk its swap)");
	doctor_fix(c, "fallocate -l 1G /swapfile && chmod 600 /swapfile && mkswap /swapfile && swapon /swapfile");
}

static void check_tools(struct doctor *d)
{
	struct doctor_check *c;
	char buf[16];

	if (in_path("fio")) {
		doctor_add(d, "fio", "experiments", DOCTOR_OK,
			   "fio is installed (the block experiments, ch. 6 and 9)");
	} else {
		c = doctor_add(d, "fio", "experiments", DOCTOR_WARN,
			       "fio is not installed: the block experiments (ch. 6 and 9, shikumi blk fio and bench) cannot run");
		doctor_fix(c, "apt install fio");
	}

	if (read_file_str(SCHEDSTATS, buf, sizeof(buf))) {
		c = doctor_add(d, "schedstats", "experiments", DOCTOR_WARN,
			       "no CONFIG_SCHEDSTATS: /proc/PID/sched lacks the wait and sleep statistics that chapter 3's numbers are checked against");
		doctor_fix(c, "boot a kernel built with CONFIG_SCHEDSTATS (Debian's are)");
	} else if (buf[0] == '1') {
		doctor_add(d, "schedstats", "experiments", DOCTOR_OK,
			   "CONFIG_SCHEDSTATS, and the statistics are on");
	} else {
		c = doctor_add(d, "schedstats", "experiments", DOCTOR_INFO,
			       "CONFIG_SCHEDSTATS, but the statistics are off (sched_schedstats 0)");
		doctor_fix(c, "sysctl kernel.sched_schedstats=1");
	}
}

/* Has the CPU @flag in /proc/cpuinfo ("hypervisor": a VM)? */
static bool cpu_flag(const char *flag)
{
	char line[4096], *p;
	size_t len = strlen(flag);
	bool found = false;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		for (p = strstr(line, flag); p && !found; p = strstr(p + 1, flag))
			found = p[-1] == ' ' && (p[len] == ' ' || p[len] == '\n');
		break;
	}
	fclose(f);
	return found;
}

/* The preemption model, and whether this is a VM: facts for the record. */
static void check_platform(struct doctor *d)
{
	char buf[256], vendor[96] = "", product[96] = "", who[200] = "";
	const char *model = NULL;
	struct utsname u;

	if (!read_file_str("/sys/kernel/debug/sched/preempt", buf, sizeof(buf)))
		model = selected(buf);
	if (model) {
		doctor_add(d, "preempt", "experiments", DOCTOR_INFO,
			   "preemption: %s (PREEMPT_DYNAMIC; ch. 3's latencies depend on it)",
			   model);
	} else if (!uname(&u)) {
		if (strstr(u.version, "PREEMPT_RT"))
			model = "real-time (PREEMPT_RT)";
		else if (strstr(u.version, "PREEMPT_DYNAMIC"))
			model = DYNAMIC_UNREAD;
		else if (strstr(u.version, "PREEMPT"))
			model = "full (PREEMPT)";
		else
			model = "none or voluntary";
		doctor_add(d, "preempt", "experiments", DOCTOR_INFO, "preemption: %s", model);
	}

	read_file_str("/sys/class/dmi/id/sys_vendor", vendor, sizeof(vendor));
	read_file_str("/sys/class/dmi/id/product_name", product, sizeof(product));
	if (vendor[0])
		snprintf(who, sizeof(who), " (%s%s%s)", vendor, product[0] ? " " : "", product);
	if (cpu_flag("hypervisor"))
		doctor_add(d, "vm", "experiments", DOCTOR_INFO,
			   "a virtual machine%s: times and cache sizes are the hypervisor's", who);
	else
		doctor_add(d, "vm", "experiments", DOCTOR_INFO,
			   "not a virtual machine (no hypervisor flag)%s", who);
}

void doctor_experiments(struct doctor *d)
{
	struct doctor_check *c;

	check_thp(d);
	check_swap(d);
	check_tools(d);
	check_platform(d);
	if (d->root) {
		doctor_add(d, "root", "experiments", DOCTOR_OK, "running as root");
	} else {
		c = doctor_add(d, "root", "experiments", DOCTOR_INFO,
			       "not root: loading the modules and most experiments need root");
		doctor_fix(c, "sudo shikumi doctor");
	}
}
