// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi load / unload / status: manage shikumi's modules through
 * libkmod, the library behind modprobe.
 *
 * Inside the source tree the modules come from the tree's build for the
 * running kernel (build/kmod/RELEASE/); elsewhere from the installed
 * modules (/lib/modules/RELEASE, after `make install` or DKMS).
 */
#include <dirent.h>
#include <errno.h>
#include <libkmod.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shikumi.h"

struct target {
	const struct shikumi_module *m;
	const char *file;	/* an explicit .ko path, or NULL */
	char params[1024];
};

static struct kmod_ctx *kmod_open(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);

	if (!ctx) {
		p_err("cannot initialise libkmod");
		exit(EXIT_FAIL);
	}
	kmod_set_log_priority(ctx, 0);
	return ctx;
}

/* ---- load -------------------------------------------------------------- */

/* the short names, for completion (--describe) */
static const char *const module_args[] = { "chrdev", "ramdisk", "ptdump", "cstrace", "pgcache" };

static const struct cmd_help load_help = {
	.usage = "[MODULE [param=value...]]...",
	.summary = "Load shikumi modules, all of them when none is named.",
	.details =
	"MODULE is a name such as shikumi_chrdev or chrdev, or the path of a .ko\n"
	"file. Parameters apply to the module named before them. Inside the\n"
	"source tree the tree's build for the running kernel is loaded;\n"
	"elsewhere the installed module.",
	.args = module_args,
	.nargs = ARRAY_SIZE(module_args),
};

static const struct opt load_opts[] = {
	OPT_FINISH(),
};

/* Is @param (name=value) one of the module's parameters? */
static int check_params(struct kmod_module *mod, const char *name,
			const char *params)
{
	struct kmod_list *info = NULL, *l;
	char known[1024] = "", buf[1024], *save = NULL, *p;
	size_t n = 0;
	int ret = 0;

	if (!*params)
		return 0;
	if (kmod_module_get_info(mod, &info) < 0) {
		p_err("cannot read the module information of %s", name);
		return EXIT_FAIL;
	}
	kmod_list_foreach(l, info) {
		const char *v;

		if (strcmp(kmod_module_info_get_key(l), "parm"))
			continue;
		v = kmod_module_info_get_value(l);
		n += snprintf(known + n, sizeof(known) - n, "\n  %s", v);
	}

	snprintf(buf, sizeof(buf), "%s", params);
	for (p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save)) {
		size_t len = strcspn(p, "=");
		char needle[128];

		snprintf(needle, sizeof(needle), "\n  %.*s:", (int)len, p);
		if (!strstr(known, needle)) {
			p_err("%s has no parameter '%.*s'; its parameters are:%s",
			      name, (int)len, p, *known ? known : " (none)");
			ret = EXIT_USAGE;
			break;
		}
	}
	kmod_module_info_free_list(info);
	return ret;
}

/* Refuse a module built for another kernel with a clear message. */
static int check_vermagic(struct kmod_module *mod, const char *path)
{
	struct kmod_list *info = NULL, *l;
	int ret = 0;

	if (kmod_module_get_info(mod, &info) < 0) {
		p_err("%s is not a kernel module", path);
		return EXIT_FAIL;
	}
	kmod_list_foreach(l, info) {
		const char *v = kmod_module_info_get_value(l);
		size_t len;

		if (strcmp(kmod_module_info_get_key(l), "vermagic"))
			continue;
		len = strcspn(v, " ");
		if (len != strlen(kernel_release()) ||
		    strncmp(v, kernel_release(), len)) {
			p_err("%s was built for kernel %.*s, but this is %s; rebuild it with 'make modules KDIR=/lib/modules/%s/build'",
			      path, (int)len, v, kernel_release(), kernel_release());
			ret = EXIT_FAIL;
		}
	}
	kmod_module_info_free_list(info);
	return ret;
}

static void explain_load_error(const char *name, int err, const char *params)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		p_err("loading %s needs root (CAP_SYS_MODULE)", name);
		break;
	case ENOEXEC:
		p_err("%s: invalid module format: built for another kernel, or corrupt (see dmesg)",
		      name);
		break;
	case EINVAL:
		if (*params)
			p_err("%s rejected its parameters '%s' (see 'modinfo' for their ranges, dmesg for details)",
			      name, params);
		else
			p_err("%s: invalid argument (see dmesg)", name);
		break;
	case EKEYREJECTED:
	case ENOKEY:
	case EBADMSG:
		p_err("%s: the kernel refused the module's signature; sign it (README, 'Secure Boot')",
		      name);
		break;
	case ENOENT:
		p_err("%s: unknown symbol or missing dependency (see dmesg)", name);
		break;
	default:
		p_err("cannot load %s: %s", name, strerror(-err));
	}
}

static int load_one(struct kmod_ctx *ctx, struct target *t)
{
	const char *name = t->m ? t->m->name : t->file;
	struct kmod_module *mod = NULL;
	char path[PATH_MAX], others[256];
	struct kmod_list *list = NULL;
	bool installed = false;
	int err, ret;

	if (t->file) {
		snprintf(path, sizeof(path), "%s", t->file);
	} else if (find_repo_root()) {
		err = module_build_path(t->m, path, sizeof(path));
		if (err) {
			if (module_other_builds(t->m, others, sizeof(others)))
				p_err("%s is built for kernel %s only, but this is %s; build it with 'make modules KDIR=/lib/modules/%s/build'",
				      name, others, kernel_release(), kernel_release());
			else
				p_err("%s is not built in %s; run 'make'", name,
				      find_repo_root());
			return EXIT_FAIL;
		}
	} else {
		installed = true;
	}

	if (installed) {
		err = kmod_module_new_from_lookup(ctx, name, &list);
		if (err < 0 || !list) {
			p_err("%s is not installed for kernel %s; install the shikumi-dkms package (or run 'make install' in the source tree)",
			      name, kernel_release());
			return EXIT_FAIL;
		}
		mod = kmod_module_get_module(list);
		kmod_module_unref_list(list);
	} else {
		err = kmod_module_new_from_path(ctx, path, &mod);
		if (err < 0) {
			p_err("cannot open %s: %s", path, strerror(-err));
			return EXIT_FAIL;
		}
		ret = check_vermagic(mod, path);
		if (ret)
			goto out;
		if (t->file)
			name = kmod_module_get_name(mod);
	}

	ret = check_params(mod, name, t->params);
	if (ret)
		goto out;

	if (module_is_loaded(kmod_module_get_name(mod))) {
		if (*t->params) {
			p_err("%s is already loaded; unload it first to change its parameters",
			      name);
			ret = EXIT_FAIL;
		} else {
			p_info("%s is already loaded", name);
			ret = EXIT_OK;
		}
		goto out;
	}

	if (installed)
		err = kmod_module_probe_insert_module(mod, KMOD_PROBE_FAIL_ON_LOADED,
						      t->params, NULL, NULL, NULL);
	else
		err = kmod_module_insert_module(mod, 0, t->params);
	if (err == -EEXIST) {
		p_info("%s is already loaded", name);
		ret = EXIT_OK;
	} else if (err < 0) {
		explain_load_error(name, err, t->params);
		ret = EXIT_FAIL;
	} else {
		ret = EXIT_OK;
	}
out:
	kmod_module_unref(mod);
	return ret;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* Turn MODULE [param=value...] ... into targets; EXIT_USAGE on nonsense. */
static int parse_targets(int argc, char **argv, int first, bool allow_params,
			 struct target **out, size_t *nout, const struct cmd_help *help)
{
	size_t n = 0, cap = (size_t)argc + 1;
	struct target *t;
	int i;

	/* with no names, 'load' takes every module of the table */
	for (i = 0; shikumi_modules[i].name; i++)
		;
	if ((size_t)i + 1 > cap)
		cap = (size_t)i + 1;
	t = calloc(cap, sizeof(*t));

	if (!t) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = first; i < argc; i++) {
		const char *a = argv[i];

		if (strchr(a, '=') && !has_suffix(a, ".ko")) {
			size_t len;

			if (!allow_params) {
				free(t);
				return usage_error(help,
						   "'%s': parameters are only for 'load'", a);
			}
			if (!n) {
				free(t);
				return usage_error(help, "parameter '%s' must follow the module it is for",
						   a);
			}
			len = strlen(t[n - 1].params);
			snprintf(t[n - 1].params + len, sizeof(t[n - 1].params) - len,
				 "%s%s", len ? " " : "", a);
			continue;
		}
		if (has_suffix(a, ".ko") && allow_params) {
			if (access(a, R_OK)) {
				p_err("cannot read %s: %s", a, strerror(errno));
				free(t);
				return EXIT_FAIL;
			}
			t[n++].file = a;
			continue;
		}
		t[n].m = module_find(a);
		if (!t[n].m) {
			p_err("unknown module '%s'; shikumi's modules are: %s", a,
			      module_names());
			free(t);
			return EXIT_USAGE;
		}
		n++;
	}
	*out = t;
	*nout = n;
	return EXIT_OK;
}

int cmd_load(int argc, char **argv)
{
	struct target *t = NULL;
	struct kmod_ctx *ctx;
	size_t n, i;
	int first, ret, status = EXIT_OK;

	first = parse_options(argc, argv, load_opts, &load_help);
	ret = parse_targets(argc, argv, first, true, &t, &n, &load_help);
	if (ret)
		return ret;
	if (!n) {
		for (i = 0; shikumi_modules[i].name; i++)
			t[i].m = &shikumi_modules[i];
		n = i;
	}
	ctx = kmod_open();
	for (i = 0; i < n; i++) {
		ret = load_one(ctx, &t[i]);
		if (ret > status)
			status = ret;
	}
	kmod_unref(ctx);
	free(t);
	return status;
}

/* ---- unload ------------------------------------------------------------ */

static const struct cmd_help unload_help = {
	.usage = "[MODULE...]",
	.summary = "Unload shikumi modules, all loaded ones when none is named.",
	.details = "A module in use (an open device, a mapping) is left loaded.",
	.args = module_args,
	.nargs = ARRAY_SIZE(module_args),
};

static int unload_one(struct kmod_ctx *ctx, const char *name, bool named)
{
	struct kmod_module *mod;
	int err, refs;

	if (!module_is_loaded(name)) {
		if (!named)
			return EXIT_OK;
		p_err("%s is not loaded", name);
		return EXIT_FAIL;
	}
	err = kmod_module_new_from_name(ctx, name, &mod);
	if (err < 0) {
		p_err("cannot look up %s: %s", name, strerror(-err));
		return EXIT_FAIL;
	}
	refs = kmod_module_get_refcnt(mod);
	err = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	if (!err)
		return EXIT_OK;
	switch (-err) {
	case EBUSY:
	case EAGAIN:
		p_err("%s is in use (%d reference%s): close the programs that have its devices open or mapped, e.g. 'fuser -v /dev/shikumi-*'",
		      name, refs, refs == 1 ? "" : "s");
		break;
	case EPERM:
	case EACCES:
		p_err("unloading %s needs root (CAP_SYS_MODULE)", name);
		break;
	case ENOENT:
		p_err("%s is not loaded", name);
		break;
	default:
		p_err("cannot unload %s: %s", name, strerror(-err));
	}
	return EXIT_FAIL;
}

int cmd_unload(int argc, char **argv)
{
	static const struct opt opts[] = { OPT_FINISH() };
	struct target *t = NULL;
	struct kmod_ctx *ctx;
	size_t n, i;
	int first, ret, status = EXIT_OK;

	first = parse_options(argc, argv, opts, &unload_help);
	ret = parse_targets(argc, argv, first, false, &t, &n, &unload_help);
	if (ret)
		return ret;
	ctx = kmod_open();
	if (n) {
		for (i = 0; i < n; i++) {
			ret = unload_one(ctx, t[i].m->name, true);
			if (ret > status)
				status = ret;
		}
	} else {
		for (i = 0; shikumi_modules[i].name; i++) {
			ret = unload_one(ctx, shikumi_modules[i].name, false);
			if (ret > status)
				status = ret;
		}
	}
	kmod_unref(ctx);
	free(t);
	return status;
}

/* ---- status ------------------------------------------------------------ */

static const struct cmd_help status_help = {
	.usage = "[--json]",
	.summary = "Show each shikumi module: loaded or not, its version, users, size,\n"
		   "parameters, and where 'shikumi load' would take it from.",
	.details = "The version is the loaded module's (/sys/module/NAME/version), else that\n"
		   "of the file 'shikumi load' would take; the first line gives this\n"
		   "shikumi's.  They differ after a package upgrade until the modules are\n"
		   "reloaded: shikumi doctor says so.",
};

struct mod_status {
	const struct shikumi_module *m;
	bool loaded;
	char state[32];
	long refcnt;
	long size;
	const char *source;	/* "build", "installed" or NULL */
	char path[PATH_MAX];
	char version[64];	/* as loaded, else the file's; "" for none */
	char params[16][2][96];
	int nparams;
};

static void read_params(struct mod_status *s)
{
	char dir[PATH_MAX], p[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/module/%s/parameters", s->m->name);
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && s->nparams < 16) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		snprintf(s->params[s->nparams][0], sizeof(s->params[0][0]), "%.*s",
			 (int)sizeof(s->params[0][0]) - 1, de->d_name);
		if (read_file_str(p, s->params[s->nparams][1],
				  sizeof(s->params[0][1])))
			snprintf(s->params[s->nparams][1],
				 sizeof(s->params[0][1]), "?");
		s->nparams++;
	}
	closedir(d);
}

static void collect(struct kmod_ctx *ctx, const struct shikumi_module *m,
		    struct mod_status *s)
{
	struct kmod_module *mod = NULL;

	memset(s, 0, sizeof(*s));
	s->m = m;
	s->refcnt = -1;
	s->size = -1;
	s->loaded = module_is_loaded(m->name);
	if (s->loaded && !kmod_module_new_from_name(ctx, m->name, &mod)) {
		int st = kmod_module_get_initstate(mod);

		snprintf(s->state, sizeof(s->state), "%s",
			 st >= 0 ? kmod_module_initstate_str(st) : "unknown");
		s->refcnt = kmod_module_get_refcnt(mod);
		s->size = kmod_module_get_size(mod);
		kmod_module_unref(mod);
		read_params(s);
	} else {
		snprintf(s->state, sizeof(s->state), "not loaded");
	}

	s->source = module_path(ctx, m, s->path, sizeof(s->path));
	module_version(ctx, m, s->loaded, s->source ? s->path : NULL, s->version,
		       sizeof(s->version));
}

static void status_json(struct json *j, const struct mod_status *s)
{
	int i;

	json_object_begin(j, NULL);
	json_string(j, "name", s->m->name);
	json_string(j, "summary", s->m->summary);
	json_bool(j, "loaded", s->loaded);
	json_string(j, "state", s->state);
	if (s->loaded) {
		json_i64(j, "refcnt", s->refcnt);
		json_i64(j, "size", s->size);
	}
	json_string(j, "version", s->version[0] ? s->version : NULL);
	json_string(j, "source", s->source);
	json_string(j, "path", s->source ? s->path : NULL);
	json_object_begin(j, "parameters");
	for (i = 0; i < s->nparams; i++)
		json_string(j, s->params[i][0], s->params[i][1]);
	json_object_end(j);
	json_object_end(j);
}

static void status_text(const struct mod_status *s)
{
	int i;

	printf("%-18s %-11s %-8s ", s->m->name, s->state, s->version[0] ? s->version : "-");
	if (s->loaded)
		printf("%5ld %8ld  ", s->refcnt, s->size);
	else
		printf("%5s %8s  ", "-", "-");
	printf("%s\n", s->source ? s->path : "(not built or installed)");
	if (s->nparams) {
		printf("  parameters:");
		for (i = 0; i < s->nparams; i++)
			printf(" %s=%s", s->params[i][0], s->params[i][1]);
		printf("\n");
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct opt opts[] = { OPT_FINISH() };
	const struct shikumi_module *m;
	struct mod_status s;
	struct kmod_ctx *ctx;
	struct json *j = NULL;
	int first;

	first = parse_options(argc, argv, opts, &status_help);
	if (first < argc)
		return usage_error(&status_help, "unexpected argument '%s'",
				   argv[first]);
	ctx = kmod_open();
	if (opt_json) {
		j = json_stdout();
		json_object_begin(j, NULL);
		json_string(j, "kernel", kernel_release());
		json_string(j, "shikumi_version", shikumi_version());
		json_string(j, "source_tree", find_repo_root());
		json_array_begin(j, "modules");
	} else {
		printf("shikumi %s, kernel %s; modules from %s\n", shikumi_version(),
		       kernel_release(),
		       find_repo_root() ? find_repo_root() : "/lib/modules (installed)");
		printf("%-18s %-11s %-8s %5s %8s  %s\n", "MODULE", "STATE", "VERSION", "REFS",
		       "SIZE", "LOADS FROM");
	}
	for (m = shikumi_modules; m->name; m++) {
		collect(ctx, m, &s);
		if (j)
			status_json(j, &s);
		else
			status_text(&s);
	}
	if (j) {
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	}
	kmod_unref(ctx);
	return EXIT_OK;
}
