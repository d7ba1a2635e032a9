// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi doctor: the command, and the checks of the kernel itself and
 * of what building the modules needs (headers, the kernel's compiler).
 * The modules' checks are in doctor-modules.c, the experiments' in
 * doctor-experiments.c, the report in doctor-report.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "doctor.h"
#include "shikumi.h"

#define TRACEFS_MAGIC	0x74726163
#define SECURITYFS_MAGIC	0x73636673

struct doctor_check *doctor_add(struct doctor *d, const char *id, const char *area,
				enum doctor_verdict v, const char *what_fmt, ...)
{
	struct doctor_check *c;
	va_list ap;

	if (d->n >= DOCTOR_MAX_CHECKS) {
		/* a programming error: the table is sized for every check */
		p_err("doctor: too many checks");
		exit(EXIT_FAIL);
	}
	c = &d->check[d->n++];
	c->id = id;
	c->area = area;
	c->verdict = v;
	va_start(ap, what_fmt);
	vsnprintf(c->what, sizeof(c->what), what_fmt, ap);
	va_end(ap);
	c->fix[0] = '\0';
	return c;
}

void doctor_fix(struct doctor_check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->fix, sizeof(c->fix), fmt, ap);
	va_end(ap);
}

/*
 * The compiler the kernel was built with, from its configuration
 * (CONFIG_CC_VERSION_TEXT, e.g. "gcc-12 (Debian 12.2.0-14) 12.2.0"): the
 * command into @cmd; false if no configuration says.
 */
static bool kernel_compiler(const char *release, char *cmd, size_t size)
{
	char path[2][512], line[512], *v;
	bool found = false;
	size_t i;
	FILE *f;

	snprintf(path[0], sizeof(path[0]), "/lib/modules/%s/build/.config", release);
	snprintf(path[1], sizeof(path[1]), "/boot/config-%s", release);
	for (i = 0; i < ARRAY_SIZE(path) && !found; i++) {
		f = fopen(path[i], "re");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			if (strncmp(line, "CONFIG_CC_VERSION_TEXT=\"", 24))
				continue;
			v = line + 24;
			if (strstr(v, "clang"))
				snprintf(cmd, size, "clang");
			else
				snprintf(cmd, size, "%.*s", (int)strcspn(v, " \""), v);
			found = *cmd;
		}
		fclose(f);
	}
	return found;
}

/* Headers and compiler: needed to build, so only fatal with no modules. */
static void doctor_build(struct doctor *d)
{
	enum doctor_verdict missing = d->modules_ready ? DOCTOR_WARN : DOCTOR_FAIL;
	struct doctor_check *c;
	char path[512], cc[128];
	const char *pkg;

	snprintf(path, sizeof(path), "/lib/modules/%s/build/Makefile", d->release);
	if (!access(path, R_OK)) {
		doctor_add(d, "headers", "build", DOCTOR_OK,
			   "the headers of %s are in /lib/modules/%s/build", d->release,
			   d->release);
	} else {
		c = doctor_add(d, "headers", "build", missing,
			       "no headers for %s: nothing can build the modules for it%s",
			       d->release, d->modules_ready ? " again" : "");
		doctor_fix(c, "apt install linux-headers-%s", d->release);
	}

	if (!kernel_compiler(d->release, cc, sizeof(cc))) {
		doctor_add(d, "compiler", "build", DOCTOR_INFO,
			   "no configuration of %s says which compiler built it", d->release);
		return;
	}
	if (in_path(cc)) {
		doctor_add(d, "compiler", "build", DOCTOR_OK,
			   "%s, which built the kernel, is installed", cc);
		return;
	}
	c = doctor_add(d, "compiler", "build", missing,
		       "%s, which built the kernel, is not installed: modules must be built with it",
		       cc);
	/* x86_64-linux-gnu-gcc-12 and gcc-12 both come with Debian's gcc-12 */
	pkg = strncmp(cc, "x86_64-linux-gnu-", 17) ? cc : cc + 17;
	doctor_fix(c, "apt install %s", pkg);
}

/* Lockdown, debugfs and tracefs: the interfaces the modules and the CLI use. */
static void doctor_kernel(struct doctor *d)
{
	struct doctor_check *c;
	char buf[256], *b, *e;
	struct statfs sf;

	if (statfs("/sys/kernel/security", &sf) || sf.f_type != SECURITYFS_MAGIC) {
		c = doctor_add(d, "lockdown", "kernel", DOCTOR_INFO,
			       "securityfs is not mounted: whether the kernel is locked down is unknown");
		doctor_fix(c, "mount -t securityfs none /sys/kernel/security");
	} else if (read_file_str("/sys/kernel/security/lockdown", buf, sizeof(buf))) {
		doctor_add(d, "lockdown", "kernel", DOCTOR_OK,
			   "no lockdown in this kernel (no /sys/kernel/security/lockdown)");
	} else if (strstr(buf, "[none]")) {
		doctor_add(d, "lockdown", "kernel", DOCTOR_OK, "the kernel is not locked down");
	} else {
		b = strchr(buf, '[');
		e = b ? strchr(b, ']') : NULL;
		c = doctor_add(d, "lockdown", "kernel", DOCTOR_WARN,
			       "the kernel is locked down (%.*s): debugfs refuses its writable files (shikumi_ptdump's dump, shikumi_cstrace's switches, shikumi_pgcache's cache), so the page-table, scheduler and page-cache stops cannot run",
			       b && e ? (int)(e - b - 1) : 0, b ? b + 1 : "");
		if (d->secure_boot)
			doctor_fix(c, "mokutil --disable-validation, then reboot: %s",
				   "Secure Boot's lockdown is lifted");
		else
			doctor_fix(c, "reboot without lockdown= on the kernel command line");
	}

	if (debugfs_mounted()) {
		doctor_add(d, "debugfs", "kernel", DOCTOR_OK, "debugfs is mounted on /sys/kernel/debug");
	} else {
		c = doctor_add(d, "debugfs", "kernel", DOCTOR_FAIL,
			       "debugfs is not mounted: the modules show what the kernel did in it");
		doctor_fix(c, "mount -t debugfs none /sys/kernel/debug");
	}

	if (!statfs("/sys/kernel/tracing", &sf) && sf.f_type == TRACEFS_MAGIC) {
		doctor_add(d, "tracefs", "kernel", DOCTOR_OK, "tracefs is mounted on /sys/kernel/tracing");
	} else if (!read_file_str("/proc/filesystems", buf, sizeof(buf)) &&
		   !strstr(buf, "tracefs")) {
		c = doctor_add(d, "tracefs", "kernel", DOCTOR_FAIL,
			       "this kernel has no tracefs (CONFIG_TRACING): ftrace, the oracle of the scheduler and block experiments, is missing");
		doctor_fix(c, "boot a kernel built with CONFIG_FTRACE (Debian's are)");
	} else {
		c = doctor_add(d, "tracefs", "kernel", DOCTOR_FAIL,
			       "tracefs is not mounted on /sys/kernel/tracing: ftrace is the experiments' oracle");
		doctor_fix(c, "mount -t tracefs nodev /sys/kernel/tracing");
	}
}

static const struct cmd_help doctor_help = {
	.usage = "[--json]",
	.summary = "Is this machine ready for the book's experiments?  One line per check,\n"
		   "and for each that is not ok the command that fixes it.",
	.details = "Checks the modules (built for this kernel, loadable, of this shikumi's\n"
		   "version as files and as loaded, signed where Secure Boot needs it, DKMS's\n"
		   "key enrolled), what building them needs (headers,\n"
		   "the kernel's compiler), the kernel (lockdown, debugfs, tracefs) and what\n"
		   "each experiment needs (THP, swap, fio, schedstats; the preemption model\n"
		   "and whether this is a VM, for the record).  FAIL: the tour cannot run;\n"
		   "WARN: one of its stops cannot.  Exit status 0 when nothing fails.\n"
		   "Some checks need root (Secure Boot's key, the preemption model).",
};

int cmd_doctor(int argc, char **argv)
{
	static const struct opt opts[] = { OPT_FINISH() };
	struct doctor *d = calloc(1, sizeof(*d));
	struct kmod_ctx *ctx;
	int first, i, ret = EXIT_OK;

	if (!d) {
		p_err("out of memory");
		return EXIT_FAIL;
	}
	first = parse_options(argc, argv, opts, &doctor_help);
	if (first < argc) {
		free(d);
		return usage_error(&doctor_help, "unexpected argument '%s'", argv[first]);
	}
	d->release = kernel_release();
	d->root = !geteuid();
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		p_err("cannot initialise libkmod");
		free(d);
		return EXIT_FAIL;
	}
	kmod_set_log_priority(ctx, 0);
	doctor_modules(d, ctx);
	kmod_unref(ctx);
	doctor_build(d);
	doctor_kernel(d);
	doctor_experiments(d);
	if (opt_json)
		doctor_report_json(d);
	else
		doctor_report_text(d);
	for (i = 0; i < d->n; i++)
		if (d->check[i].verdict == DOCTOR_FAIL)
			ret = EXIT_FAIL;
	free(d);
	return ret;
}
