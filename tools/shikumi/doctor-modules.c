// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi doctor: shikumi's modules.  Where `shikumi load` would take
 * each from (the source tree's build, or the installed module: DKMS's or
 * make install's), whether it was built for the running kernel, whether
 * it and the loaded one are of this shikumi's version, whether
 * it is signed where the kernel enforces signatures, and whether DKMS's
 * key is enrolled where Secure Boot needs it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor.h"
#include "shikumi.h"

#define SECURE_BOOT_VAR "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define DKMS_MOK_PUB	"/var/lib/dkms/mok.pub"

struct mod_found {
	int found, built_here, signed_n;
	char missing[256];	/* the modules with no .ko, "a, b" */
	char wrong[256];	/* built for another kernel: "a (6.1.0-1)" */
	char unsigned_[256];	/* not signed */
	char other_ver[256];	/* files not at this shikumi's version: "a 0.1" */
	char loaded_ver[256];	/* loaded, and not at it: "a 0.1" */
	int loaded;
	char where[PATH_MAX];	/* the directory of the first one found */
};

/* Append @item to the ", "-separated @list. */
static void list_add(char *list, size_t size, const char *item)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len ? ", " : "", item);
}

/* EFI Secure Boot: the variable's 4 bytes of attributes, then 1 for on. */
static bool secure_boot_on(void)
{
	unsigned char v[5];
	bool on;
	int fd;

	fd = open(SECURE_BOOT_VAR, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	on = read(fd, v, sizeof(v)) == (ssize_t)sizeof(v) && v[4] == 1;
	close(fd);
	return on;
}

/* Does the kernel refuse unsigned modules (module.sig_enforce, lockdown)? */
static bool signatures_enforced(void)
{
	char buf[64];

	if (!read_file_str("/sys/module/module/parameters/sig_enforce", buf, sizeof(buf)) &&
	    buf[0] == 'Y')
		return true;
	return kernel_locked_down();
}

/* @m's vermagic and signer, into @f */
static void inspect(struct kmod_ctx *ctx, const struct shikumi_module *m,
		    const char *path, const char *release, struct mod_found *f)
{
	struct kmod_list *info = NULL, *l;
	struct kmod_module *mod = NULL;
	bool is_signed = false;
	char vermagic[128] = "";

	if (kmod_module_new_from_path(ctx, path, &mod) < 0 ||
	    kmod_module_get_info(mod, &info) < 0) {
		snprintf(vermagic, sizeof(vermagic), "%s (unreadable)", m->name);
		list_add(f->wrong, sizeof(f->wrong), vermagic);
		kmod_module_unref(mod);
		return;
	}
	kmod_list_foreach(l, info) {
		const char *k = kmod_module_info_get_key(l);
		const char *v = kmod_module_info_get_value(l);

		if (!strcmp(k, "vermagic"))
			snprintf(vermagic, sizeof(vermagic), "%.*s", (int)strcspn(v, " "), v);
		else if (!strcmp(k, "signer") && v && *v)
			is_signed = true;
	}
	kmod_module_info_free_list(info);
	kmod_module_unref(mod);
	if (strcmp(vermagic, release)) {
		char item[192];

		snprintf(item, sizeof(item), "%s (%s)", m->name, vermagic);
		list_add(f->wrong, sizeof(f->wrong), item);
	} else {
		f->built_here++;
	}
	if (is_signed)
		f->signed_n++;
	else
		list_add(f->unsigned_, sizeof(f->unsigned_), m->name);
}

/* @m's version, as a file and as loaded, against this shikumi's, into @f */
static void check_version(struct kmod_ctx *ctx, const struct shikumi_module *m,
			  const char *path, struct mod_found *f)
{
	char v[64], item[128];

	if (module_version(ctx, m, false, path, v, sizeof(v)) || strcmp(v, shikumi_version())) {
		snprintf(item, sizeof(item), "%s %s", m->name, v[0] ? v : "(none)");
		list_add(f->other_ver, sizeof(f->other_ver), item);
	}
	if (!module_is_loaded(m->name))
		return;
	f->loaded++;
	if (module_version(ctx, m, true, NULL, v, sizeof(v)) || strcmp(v, shikumi_version())) {
		snprintf(item, sizeof(item), "%s %s", m->name, v[0] ? v : "(none)");
		list_add(f->loaded_ver, sizeof(f->loaded_ver), item);
	}
}

/* How to get the modules built for this kernel, as this machine has them. */
static void fix_build(struct doctor *d, struct doctor_check *c)
{
	if (find_repo_root())
		doctor_fix(c, "make -C %s modules KDIR=/lib/modules/%s/build", find_repo_root(),
			   d->release);
	else if (!access("/var/lib/dkms/shikumi", F_OK))
		doctor_fix(c, "dkms autoinstall -k %s (needs its headers: apt install linux-headers-%s)",
			   d->release, d->release);
	else
		doctor_fix(c, "apt install shikumi-dkms (or, in the source tree: make install)");
}

static void report_found(struct doctor *d, const struct mod_found *f, int total)
{
	struct doctor_check *c;

	if (f->missing[0]) {
		c = doctor_add(d, "modules", "modules", DOCTOR_FAIL,
			       "%d of %d modules found for %s; missing: %s", f->found, total,
			       d->release, f->missing);
		fix_build(d, c);
	} else {
		doctor_add(d, "modules", "modules", DOCTOR_OK, "all %d modules found, in %s%s",
			   total, f->where,
			   strstr(f->where, "/updates/dkms") ? " (DKMS)" :
			   find_repo_root() ? " (the source tree's build)" : "");
	}
	if (f->wrong[0]) {
		c = doctor_add(d, "vermagic", "modules", DOCTOR_FAIL,
			       "built for another kernel than %s: %s", d->release, f->wrong);
		fix_build(d, c);
	} else if (f->found) {
		doctor_add(d, "vermagic", "modules", DOCTOR_OK, "%d built for %s (vermagic)",
			   f->built_here, d->release);
	}
}

/*
 * The modules a package upgrade left behind: the CLI and the modules
 * share debugfs formats and ioctls, so they must be of one version.
 */
static void report_version(struct doctor *d, const struct mod_found *f)
{
	const char *v = shikumi_version();
	struct doctor_check *c;

	if (!f->found)
		return;
	if (f->other_ver[0]) {
		c = doctor_add(d, "version", "modules", DOCTOR_WARN,
			       "not this shikumi's version, %s: %s", v, f->other_ver);
		if (find_repo_root())
			doctor_fix(c, "make -C %s modules", find_repo_root());
		else if (!access("/usr/share/doc/shikumi-dkms", F_OK))	/* the package */
			doctor_fix(c, "apt install shikumi-dkms=%s", v);
		else
			fix_build(d, c);
	} else if (f->loaded_ver[0]) {
		c = doctor_add(d, "version", "modules", DOCTOR_WARN,
			       "loaded, and not this shikumi's version, %s: %s", v, f->loaded_ver);
		doctor_fix(c, "shikumi unload && shikumi load");
	} else {
		doctor_add(d, "version", "modules", DOCTOR_OK,
			   "%d at version %s, this shikumi's (%d of them loaded)", f->found, v,
			   f->loaded);
	}
}

static void report_signing(struct doctor *d, const struct mod_found *f)
{
	struct doctor_check *c;
	char out[] = "/tmp/shikumi-doctor.XXXXXX";
	char *test[] = { "mokutil", "--test-key", DKMS_MOK_PUB, NULL };
	char buf[512] = "";
	int fd;

	if (!f->found) {
		doctor_add(d, "signature", "modules", DOCTOR_INFO,
			   "the kernel %s unsigned modules; no module to check",
			   signatures_enforced() ? "refuses" : "loads");
	} else if (!signatures_enforced()) {
		doctor_add(d, "signature", "modules", DOCTOR_OK,
			   "the kernel loads unsigned modules (no lockdown, no module.sig_enforce); %d of %d signed",
			   f->signed_n, f->found);
	} else if (f->unsigned_[0]) {
		c = doctor_add(d, "signature", "modules", DOCTOR_FAIL,
			       "the kernel refuses unsigned modules, and these are not signed: %s",
			       f->unsigned_);
		doctor_fix(c, "%s", find_repo_root() ?
			   "make sign KEY=key.pem CERT=cert.pem (README: Secure Boot)" :
			   "dkms autoinstall --force (DKMS signs with /var/lib/dkms/mok.key)");
	} else {
		doctor_add(d, "signature", "modules", DOCTOR_OK,
			   "the kernel refuses unsigned modules; all %d are signed", f->found);
	}

	if (!d->secure_boot) {
		doctor_add(d, "mok", "modules", DOCTOR_OK, "Secure Boot is off: no key to enroll");
		return;
	}
	if (access(DKMS_MOK_PUB, R_OK)) {
		doctor_add(d, "mok", "modules", DOCTOR_INFO,
			   "Secure Boot is on; DKMS has no key (%s) yet: it makes one at its first build",
			   DKMS_MOK_PUB);
		return;
	}
	fd = mkstemp(out);
	if (fd >= 0) {
		close(fd);
		if (run_prog(test, out) >= 0)
			read_file_str(out, buf, sizeof(buf));
		unlink(out);
	}
	if (strstr(buf, "already enrolled")) {
		doctor_add(d, "mok", "modules", DOCTOR_OK, "DKMS's key %s is enrolled",
			   DKMS_MOK_PUB);
	} else if (strstr(buf, "not enrolled")) {
		c = doctor_add(d, "mok", "modules", DOCTOR_FAIL,
			       "Secure Boot is on and DKMS's key is not enrolled: the kernel refuses the modules DKMS signs");
		doctor_fix(c, "mokutil --import %s, then reboot and enroll it in MokManager",
			   DKMS_MOK_PUB);
	} else {
		c = doctor_add(d, "mok", "modules", DOCTOR_WARN,
			       "Secure Boot is on; whether DKMS's key is enrolled is unknown (mokutil%s)",
			       d->root ? " said nothing" : " needs root");
		doctor_fix(c, "apt install mokutil; mokutil --test-key %s", DKMS_MOK_PUB);
	}
}

void doctor_modules(struct doctor *d, struct kmod_ctx *ctx)
{
	const struct shikumi_module *m;
	struct mod_found f = { 0 };
	char path[PATH_MAX];
	int total = 0;

	d->secure_boot = secure_boot_on();
	for (m = shikumi_modules; m->name; m++) {
		total++;
		if (!module_path(ctx, m, path, sizeof(path))) {
			list_add(f.missing, sizeof(f.missing), m->name);
			continue;
		}
		if (!f.found++ && find_repo_root()) {
			snprintf(f.where, sizeof(f.where), "%s/build/kmod/%s",
				 find_repo_root(), d->release);
		} else if (f.found == 1) {
			snprintf(f.where, sizeof(f.where), "%s", path);
			*strrchr(f.where, '/') = '\0';
		}
		inspect(ctx, m, path, d->release, &f);
		check_version(ctx, m, path, &f);
	}
	d->modules_ready = f.found == total && !f.wrong[0];
	report_found(d, &f, total);
	report_version(d, &f);
	report_signing(d, &f);
}
