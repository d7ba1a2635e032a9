/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi: the command-line tool.  Shared declarations: exit codes, error
 * reporting, option parsing, the JSON writer, statistics and SVG plots.
 */
#ifndef SHIKUMI_H
#define SHIKUMI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>	/* pid_t */

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* for printf's %llu and %llx, whatever the width of the type */
#define U(x)		((unsigned long long)(x))

#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/* where the modules' debugfs files are: <shikumi/debugfs.h> */
#define DEBUGFS_ROOT	"/sys/kernel/debug"
#define SHIKUMI_DEBUGFS	DEBUGFS_ROOT "/shikumi"

/* exit codes, as in perf and bpftool */
#define EXIT_OK		0
#define EXIT_FAIL	1	/* the system refused or something broke */
#define EXIT_USAGE	2	/* the command line is wrong */

/* ---- errors ---------------------------------------------------------- */

extern const char *prog_name;	/* "shikumi chr bench", for messages */

void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct dirent;
/* scandir() order of numbered device names: shikumi-chr2 before shikumi-chr10 */
int cmp_dev_names(const struct dirent **a, const struct dirent **b);

/* ---- options --------------------------------------------------------- */

enum opt_type {
	OPT_END = 0,
	OPT_BOOL,	/* bool *, no argument */
	OPT_STRING,	/* const char **, argument */
	OPT_U64,	/* uint64_t *, argument */
};

struct opt {
	enum opt_type type;
	int short_name;		/* 0 for none */
	const char *long_name;
	void *value;
	const char *argh;	/* argument name in help, e.g. "USEC" */
	const char *help;
	const char *const *values;	/* the values it takes, if a known few */
};

#define OPT_BOOLEAN(s, l, v, h)		{ OPT_BOOL, (s), (l), (v), NULL, (h), NULL }
#define OPT_STR(s, l, v, a, h)		{ OPT_STRING, (s), (l), (v), (a), (h), NULL }
#define OPT_NUM(s, l, v, a, h)		{ OPT_U64, (s), (l), (v), (a), (h), NULL }
#define OPT_FINISH()			{ OPT_END, 0, NULL, NULL, NULL, NULL, NULL }
/* a string option that takes one of the NULL-terminated @vals */
#define OPT_STR_OF(s, l, v, a, h, vals)	{ OPT_STRING, (s), (l), (v), (a), (h), (vals) }

struct cmd_help {
	const char *usage;	/* after the program name: "[--json]" */
	const char *summary;	/* one line */
	const char *details;	/* may be NULL */
	/* the values the first argument takes, if a known few (completion) */
	const char *const *args;
	size_t nargs;
};

/* Global output switches, shared by every report. */
extern bool opt_json;
extern bool opt_pretty;

/*
 * Parse argv[1..] against @opts plus the common -j/--json, -p/--pretty and
 * -h/--help.  Prints help and exits 0 on --help; prints a message and the
 * usage and exits EXIT_USAGE on a bad option.  Returns the index of the
 * first non-option argument; options and arguments may be mixed, and "--"
 * ends the options.
 */
int parse_options(int argc, char **argv, const struct opt *opts,
		  const struct cmd_help *help);
void print_usage(FILE *f, const struct opt *opts, const struct cmd_help *help);
int usage_error(const struct cmd_help *help, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- subcommands ----------------------------------------------------- */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* an entry of a command table that is a heading in --help, not a command */
#define CMD_HEADING(text)	{ "", NULL, (text) }

/* Dispatch argv[1] among @cmds; argv[0] is the parent's name. */
int run_subcommand(int argc, char **argv, const struct cmd *cmds,
		   const char *parent_usage);

int cmd_load(int argc, char **argv);
int cmd_unload(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_tour(int argc, char **argv);
int cmd_chr(int argc, char **argv);
int cmd_blk(int argc, char **argv);
int cmd_pt(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_sched(int argc, char **argv);

/* ---- JSON writer ----------------------------------------------------- */

struct json;

struct json *json_new(FILE *f, bool pretty);	/* to a file */
struct json *json_stdout(void);	/* the run's one report on stdout */
void json_stdout_close(void);	/* by main() */
void json_free(struct json *j);	/* ends the document with a newline */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_i64(struct json *j, const char *key, int64_t v);
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
/*
 * {"error": @msg} on stdout, unless a report or an error was written
 * there already (p_err() calls it under --json).
 */
void json_error(const char *msg);

/* ---- statistics ------------------------------------------------------ */

/* Sorts @v in place; @p in [0, 100].  Nearest-rank percentile. */
double percentile(double *v, size_t n, double p);
/* qsort() comparison of doubles, ascending */
int cmp_double(const void *a, const void *b);

/* ---- SVG plots ------------------------------------------------------- */

struct plot_series {
	const char *label;
	const double *x;
	const double *y;
	size_t n;
	bool reference;		/* a guide line: grey, dashed, no markers */
};

struct plot {
	const char *title;
	const char *xlabel;
	const char *ylabel;
	bool logx, logy;
	const struct plot_series *series;
	size_t nseries;
};

/* text for XML: escaped, and bytes that are not UTF-8 as '?' */
void svg_put_text(FILE *f, const char *s);
/* a round tick step for about five ticks over @range */
double svg_tick_step(double range);
/* Write @npanels plots side by side as one SVG document. */
int svg_write_plots(FILE *f, const char *title, const struct plot *panels,
		    size_t npanels);

/* ---- ELF files (libelf) ---------------------------------------------- */

struct elf_segment {		/* a PT_LOAD program header */
	uint64_t offset, vaddr, filesz, memsz, align;
	uint32_t flags;		/* PF_R, PF_W, PF_X */
};

struct elf_section {		/* an allocated section (SHF_ALLOC) */
	char name[32];
	uint64_t addr, size;
	bool nobits;		/* SHT_NOBITS: .bss, no bytes in the file */
};

struct elf_info {
	unsigned int type;	/* ET_EXEC or ET_DYN */
	bool has_interp;	/* PT_INTERP: a program, not only a library */
	struct elf_segment *load;
	size_t nload;
	struct elf_section *sec;
	size_t nsec;
};

/* Read @fd's program and section headers; -errno, -ENOEXEC if not ELF. */
int elf_info_read(int fd, struct elf_info *ei);
void elf_info_free(struct elf_info *ei);

/* ---- shikumi's modules ---------------------------------------------- */

struct shikumi_module {
	const char *name;	/* shikumi_chrdev */
	const char *short_name;	/* chrdev */
	const char *subdir;	/* modules/chrdev, in the source tree */
	const char *summary;
};

extern const struct shikumi_module shikumi_modules[];	/* NULL-terminated */

/* By name, short name, or with dashes: NULL if not ours. */
const struct shikumi_module *module_find(const char *name);
/* "shikumi_chrdev, ...", for messages */
const char *module_names(void);
bool module_is_loaded(const char *name);
const char *kernel_release(void);
/* The .ko in the source tree's build for the running kernel. */
int module_build_path(const struct shikumi_module *m, char *buf, size_t size);
/* Releases the tree has a build of @m for; returns how many. */
int module_other_builds(const struct shikumi_module *m, char *buf, size_t size);
struct kmod_ctx;
/*
 * The .ko `shikumi load` takes for @m, into @path: the tree's build in a
 * checkout, else what modprobe finds (DKMS's, make install's).  Returns
 * "build" or "installed", or NULL when there is none.
 */
const char *module_path(struct kmod_ctx *ctx, const struct shikumi_module *m,
			char *path, size_t size);
/*
 * The version (MODULE_VERSION) of @m as loaded (/sys/module/NAME/version)
 * when @loaded, else of the .ko at @path, into @buf: 0, or -1 when it
 * has none (a build from before the modules carried one).
 */
int module_version(struct kmod_ctx *ctx, const struct shikumi_module *m, bool loaded,
		   const char *path, char *buf, size_t size);
/* This shikumi's own version, the package's: "0.1" of "0.1 (git abc)" */
const char *shikumi_version(void);

/* ---- small helpers --------------------------------------------------- */

/* Read a sysfs-like file into @buf, strip the trailing newline. */
int read_file_str(const char *path, char *buf, size_t size);
/* Write @v to a sysfs-like file in one write(): 0 or -errno. */
int write_file_str(const char *path, const char *v);
/* Is debugfs mounted at /sys/kernel/debug? */
bool debugfs_mounted(void);
/* Is the kernel locked down (debugfs then allows 0444 files only)? */
bool kernel_locked_down(void);
/*
 * Say why the debugfs file @path of @module could not be opened, read or
 * written (@what) with @err: debugfs not mounted, the module not loaded,
 * kernel lockdown, or the privilege @priv that it needs.
 */
/* "MODULE is not loaded: run 'shikumi load MODULE' as root" */
void p_not_loaded(const char *module);
int parse_addr(const char *s, uint64_t *v);
int parse_range(const char *s, uint64_t *a, uint64_t *b);	/* "A-B" */
void explain_debugfs_err(const char *module, const char *what,
			 const char *path, int err, const char *priv);
int read_file_u64(const char *path, uint64_t *v);
/* The shikumi source tree containing the current directory, or NULL. */
const char *find_repo_root(void);
uint64_t now_ns(void);
bool in_path(const char *prog);

/* ---- starting processes (spawn.c) ---- */

struct rusage;

/*
 * A gate holds children back until the parent lets them go, all at once:
 * each reads one byte of it; its end of file (the parent gave up) makes a
 * child exit without running anything.
 */
struct gate {
	int r, w;
};

int gate_open(struct gate *g);
int gate_release(struct gate *g, int n);	/* 0, or errno */
void gate_close(struct gate *g);

/* How to start a child, in this order: each step only if asked for */
struct spawn {
	bool die_with_parent;	/* SIGKILL when shikumi dies */
	bool pin;		/* pinned to @cpu */
	int cpu;
	const char *out;	/* stdout to this file, created */
	const char *err;	/* stderr to this file, created */
	struct gate *gate;	/* waits at it */
	char *const *argv;	/* then exec this (PATH searched), or */
	void (*fn)(int index, void *arg);	/* run this, then exit 0 */
	int index;
	void *arg;
};

struct child {
	pid_t pid;
	int err;		/* exec's errno comes through it */
};

int spawn(const struct spawn *how, struct child *c);
int child_exec_error(struct child *c);
int child_reap(struct child *c, bool block, int *status, struct rusage *ru);
int exit_code(int status);
void child_kill(struct child *c);
int run_prog(char *const *argv, const char *out);
int run_prog_err(char *const *argv, const char *out, const char *err);
int pin_to(int cpu);

/* ---- a demo's signals (demo-signal.c) ---- */

extern volatile sig_atomic_t demo_signal;
void demo_catch_signals(void);
int demo_stopped(void);

/* ---- CPU and pid lists (cpus.c) ---- */

#define CPU_DIR		"/sys/devices/system/cpu"

struct cpumask {
	bool *on;
	int n;		/* possible CPUs: every CPU number is below n */
};

int cpulist_parse(const char *s, bool *on, int n, char *why, size_t wsize);
void cpulist_format(const bool *on, int n, char *buf, size_t size);
int nr_possible_cpus(void);
int cpumask_init(struct cpumask *m, const char *list);
void online_cpus(bool *on, int n);
int pidlist_parse(const char *s, char *out, size_t size, char *why, size_t wsize);
int *pidlist_ints(const char *s, size_t *n);
bool int_in(const int *v, size_t n, int x);

/* ---- the JSON reader (jsonr.c) ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
	enum jtype type;
	double num;
	char *key;		/* inside an object */
	struct jval *kids, *next;
};

void jfree(struct jval *v);
struct jval *jparse(const char *text);
double jnum(const struct jval *v, const char *path);
/* Copy @src into @dst of @size bytes, cut short if need be (in blk.c for now). */
void copy_str(char *dst, size_t size, const char *src);

/* ---- /proc readers (proc.c) ---- */

struct map_ent {
	uint64_t start, end, offset, inode;
	char perms[8];
	char *path;		/* "" for anonymous */
};

struct maps {
	struct map_ent *v;
	size_t n;
};

void proc_comm(pid_t pid, char *buf, size_t size);
long long proc_status_kb(pid_t pid, const char *key);
long long proc_minflt(pid_t pid);
void maps_free(struct maps *m);
int maps_read(pid_t pid, struct maps *m);
const struct map_ent *maps_find(const struct maps *m, uint64_t addr);
long long vmstat(const char *key);
long long meminfo_kb(const char *key);

#endif /* SHIKUMI_H */
