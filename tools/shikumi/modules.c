// SPDX-License-Identifier: GPL-2.0
/* The table of shikumi's kernel modules and where to find them. */
#include <errno.h>
#include <glob.h>
#include <libkmod.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "shikumi.h"

const struct shikumi_module shikumi_modules[] = {
	{ "shikumi_chrdev", "chrdev", "modules/chrdev",
	  "character device with a simulated device (chapter 6)" },
	{ "shikumi_ramdisk", "ramdisk", "modules/ramdisk",
	  "blk-mq RAM disk (chapters 6 and 9)" },
	{ "shikumi_ptdump", "ptdump", "modules/ptdump",
	  "page-table dumper in debugfs (chapters 4 and 5)" },
	{ "shikumi_cstrace", "cstrace", "modules/cstrace",
	  "context-switch tracer on sched_switch (chapter 3)" },
	{ "shikumi_pgcache", "pgcache", "modules/pgcache",
	  "page-cache viewer in debugfs (chapter 8)" },
	{ NULL, NULL, NULL, NULL },
};

const struct shikumi_module *module_find(const char *name)
{
	const struct shikumi_module *m;
	char norm[64];
	size_t i;

	/* accept shikumi_chrdev, shikumi-chrdev and chrdev */
	snprintf(norm, sizeof(norm), "%s", name);
	for (i = 0; norm[i]; i++)
		if (norm[i] == '-')
			norm[i] = '_';
	for (m = shikumi_modules; m->name; m++)
		if (!strcmp(norm, m->name) || !strcmp(norm, m->short_name))
			return m;
	return NULL;
}

const char *module_names(void)
{
	static char buf[256];
	const struct shikumi_module *m;
	size_t n = 0;

	buf[0] = '\0';
	for (m = shikumi_modules; m->name; m++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s",
			      n ? ", " : "", m->name);
	return buf;
}

bool module_is_loaded(const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "/sys/module/%s/initstate", name);
	return !stat(p, &st);
}

const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		return "unknown";
	return u.release;
}

int module_build_path(const struct shikumi_module *m, char *buf, size_t size)
{
	const char *root = find_repo_root();
	struct stat st;

	if (!root)
		return -ENOENT;
	snprintf(buf, size, "%s/build/kmod/%s/%s/%s.ko", root, kernel_release(),
		 m->subdir, m->name);
	if (stat(buf, &st))
		return -errno;
	return 0;
}

int module_other_builds(const struct shikumi_module *m, char *buf, size_t size)
{
	const char *root = find_repo_root();
	char pattern[PATH_MAX];
	size_t n = 0, i;
	glob_t g;

	buf[0] = '\0';
	if (!root)
		return 0;
	snprintf(pattern, sizeof(pattern), "%s/build/kmod/*/%s/%s.ko", root,
		 m->subdir, m->name);
	if (glob(pattern, 0, NULL, &g))
		return 0;
	for (i = 0; i < g.gl_pathc && n < size; i++) {
		/* .../build/kmod/RELEASE/modules/... */
		const char *rel = g.gl_pathv[i] + strlen(root) + strlen("/build/kmod/");
		const char *end = strchr(rel, '/');

		n += snprintf(buf + n, size - n, "%s%.*s", n ? ", " : "",
			      (int)(end - rel), rel);
	}
	i = g.gl_pathc;
	globfree(&g);
	return (int)i;
}

const char *module_path(struct kmod_ctx *ctx, const struct shikumi_module *m,
			char *path, size_t size)
{
	struct kmod_list *list = NULL;
	const char *source = NULL;
	struct kmod_module *mod;

	if (find_repo_root())
		return module_build_path(m, path, size) ? NULL : "build";
	if (kmod_module_new_from_lookup(ctx, m->name, &list) < 0 || !list)
		return NULL;
	mod = kmod_module_get_module(list);
	if (kmod_module_get_path(mod)) {
		snprintf(path, size, "%s", kmod_module_get_path(mod));
		source = "installed";
	}
	kmod_module_unref(mod);
	kmod_module_unref_list(list);
	return source;
}

int module_version(struct kmod_ctx *ctx, const struct shikumi_module *m, bool loaded,
		   const char *path, char *buf, size_t size)
{
	struct kmod_list *info = NULL, *l;
	struct kmod_module *mod = NULL;
	char sys[PATH_MAX];
	int ret = -1;

	*buf = '\0';
	if (loaded) {
		snprintf(sys, sizeof(sys), "/sys/module/%s/version", m->name);
		return read_file_str(sys, buf, size) || !*buf ? -1 : 0;
	}
	if (!path || kmod_module_new_from_path(ctx, path, &mod) < 0)
		return -1;
	if (kmod_module_get_info(mod, &info) >= 0) {
		kmod_list_foreach(l, info) {
			if (strcmp(kmod_module_info_get_key(l), "version"))
				continue;
			snprintf(buf, size, "%s", kmod_module_info_get_value(l));
			ret = 0;
		}
		kmod_module_info_free_list(info);
	}
	kmod_module_unref(mod);
	return ret;
}

const char *shikumi_version(void)
{
	static char v[64];

	if (!v[0])
		snprintf(v, sizeof(v), "%.*s", (int)strcspn(SHIKUMI_VERSION, " "),
			 SHIKUMI_VERSION);
	return v;
}
