// SPDX-License-Identifier: GPL-2.0
/*
 * Option parsing shared by every subcommand: a table of struct opt, with
 * the common -j/--json, -p/--pretty and -h/--help added to each.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"

bool opt_json;
bool opt_pretty;
const char *prog_name = "shikumi";

static const struct opt common_opts[] = {
	OPT_BOOLEAN('j', "json", &opt_json, "print the report as JSON"),
	OPT_BOOLEAN('p', "pretty", &opt_pretty, "indent the JSON (implies --json)"),
	OPT_FINISH(),
};

/* -h/--help: parse_options() handles it; listed in the help and --describe */
static const struct opt help_opt[] = {
	OPT_BOOLEAN('h', "help", NULL, "show this help"),
	OPT_FINISH(),
};

static size_t count_opts(const struct opt *o)
{
	size_t n = 0;

	while (o && o[n].type != OPT_END)
		n++;
	return n;
}

static void print_opt_list(FILE *f, const struct opt *o)
{
	char left[64];

	for (; o && o->type != OPT_END; o++) {
		int n = 0;

		if (o->short_name)
			n = snprintf(left, sizeof(left), "-%c, ", o->short_name);
		else
			n = snprintf(left, sizeof(left), "    ");
		snprintf(left + n, sizeof(left) - n, "--%s%s%s", o->long_name,
			 o->argh ? " " : "", o->argh ? o->argh : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
}

void print_usage(FILE *f, const struct opt *opts, const struct cmd_help *help)
{
	fprintf(f, "usage: %s %s\n", prog_name, help->usage);
	if (help->summary)
		fprintf(f, "\n%s\n", help->summary);
	if (help->details)
		fprintf(f, "\n%s\n", help->details);
	fprintf(f, "\noptions:\n");
	print_opt_list(f, opts);
	print_opt_list(f, common_opts);
	print_opt_list(f, help_opt);
}

/*
 * --describe, the tables for the man pages and the completion
 * (scripts/mangen, tools/shikumi/shikumi.bash), one record a line, TAB
 * between fields:
 *   usage	USAGE
 *   summary	SUMMARY
 *   details	DETAILS (newlines as \n)
 *   args	VALUE VALUE...    (what the first argument may be, if known)
 *   opt	SHORT	LONG	ARG	HELP	VALUES    (empty fields as "-")
 * and for a command with verbs:
 *   cmd	NAME	SUMMARY
 */
static void describe_field(const char *s)
{
	putchar('\t');
	if (!s || !*s) {
		putchar('-');
		return;
	}
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s == '\t' ? ' ' : *s);
	}
}

static void describe_opts(const struct opt *o)
{
	char sh[2] = { 0 };
	char values[512];

	for (; o && o->type != OPT_END; o++) {
		size_t n = 0;
		const char *const *v;

		values[0] = '\0';
		for (v = o->values; v && *v && n < sizeof(values) - 1; v++)
			n += snprintf(values + n, sizeof(values) - n, "%s%s",
				      n ? " " : "", *v);
		sh[0] = (char)o->short_name;
		fputs("opt", stdout);
		describe_field(sh);
		describe_field(o->long_name);
		describe_field(o->argh);
		describe_field(o->help);
		describe_field(values);
		putchar('\n');
	}
}

static void describe(const struct opt *opts, const struct cmd_help *help)
{
	fputs("usage", stdout);
	describe_field(help->usage);
	fputs("\nsummary", stdout);
	describe_field(help->summary);
	fputs("\ndetails", stdout);
	describe_field(help->details);
	putchar('\n');
	if (help->nargs) {
		size_t i;

		fputs("args\t", stdout);
		for (i = 0; i < help->nargs; i++)
			printf("%s%s", i ? " " : "", help->args[i]);
		putchar('\n');
	}
	describe_opts(opts);
	describe_opts(common_opts);
	describe_opts(help_opt);
}

int usage_error(const struct cmd_help *help, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prog_name, msg);
	fprintf(stderr, "usage: %s %s\n", prog_name, help->usage);
	fprintf(stderr, "Try '%s --help' for more.\n", prog_name);
	if (opt_json)	/* when -j came before the error */
		json_error(msg);
	return EXIT_USAGE;
}

static int set_value(const struct opt *o, const char *arg,
		     const struct cmd_help *help)
{
	char *end;
	uint64_t v;

	switch (o->type) {
	case OPT_BOOL:
		*(bool *)o->value = true;
		return 0;
	case OPT_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPT_U64:
		errno = 0;
		if (!*arg || *arg == '-')
			goto bad;
		v = strtoull(arg, &end, 0);
		if (errno || *end)
			goto bad;
		*(uint64_t *)o->value = v;
		return 0;
	case OPT_END:
		break;
	}
	return 0;
bad:
	exit(usage_error(help, "--%s: '%s' is not a number", o->long_name, arg));
}

int parse_options(int argc, char **argv, const struct opt *opts,
		  const struct cmd_help *help)
{
	size_t n = count_opts(opts), nc = count_opts(common_opts), i, k = 0;
	const struct opt **table;
	struct option *lopts;
	char shorts[128] = ":h";
	size_t sl = strlen(shorts);
	int c, idx;

	if (argc >= 2 && !strcmp(argv[1], "--describe")) {
		describe(opts, help);
		exit(EXIT_OK);
	}
	table = calloc(n + nc, sizeof(*table));
	lopts = calloc(n + nc + 2, sizeof(*lopts));
	if (!table || !lopts) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (i = 0; i < n + nc; i++) {
		const struct opt *o = i < n ? &opts[i] : &common_opts[i - n];
		bool arg = o->type != OPT_BOOL;

		table[k] = o;
		lopts[k].name = o->long_name;
		lopts[k].has_arg = arg ? required_argument : no_argument;
		lopts[k].val = 256 + (int)k;
		if (o->short_name && sl + 3 < sizeof(shorts)) {
			shorts[sl++] = (char)o->short_name;
			if (arg)
				shorts[sl++] = ':';
		}
		k++;
	}
	lopts[k].name = "help";
	lopts[k].val = 'h';

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		const struct opt *o = NULL;

		if (c == 'h') {
			print_usage(stdout, opts, help);
			exit(EXIT_OK);
		}
		if (c == '?') {
			if (optopt && optopt < 256)
				exit(usage_error(help, "unknown option '-%c'", optopt));
			exit(usage_error(help, "unknown option '%s'",
					 argv[optind - 1]));
		}
		if (c == ':')
			exit(usage_error(help, "option '%s' needs a value",
					 argv[optind - 1]));
		if (c >= 256) {
			o = table[c - 256];
		} else {
			for (i = 0; i < k; i++)
				if (table[i]->short_name == c)
					o = table[i];
		}
		if (o)
			set_value(o, optarg, help);
	}
	if (opt_pretty)
		opt_json = true;
	free(table);
	free(lopts);
	return optind;
}

int run_subcommand(int argc, char **argv, const struct cmd *cmds,
		   const char *parent_usage)
{
	const struct cmd *c;
	char *name;

	if (argc >= 2 && !strcmp(argv[1], "--describe")) {
		for (c = cmds; c->name; c++) {
			if (!c->fn)
				continue;
			fputs("cmd", stdout);
			describe_field(c->name);
			describe_field(c->summary);
			putchar('\n');
		}
		return EXIT_OK;
	}
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		FILE *f = argc < 2 ? stderr : stdout;

		fprintf(f, "usage: %s\n", parent_usage);
		if (cmds->fn)
			fprintf(f, "\ncommands:\n");
		for (c = cmds; c->name; c++) {
			if (!c->fn)
				fprintf(f, "\n%s:\n", c->summary);
			else
				fprintf(f, "  %-10s %s\n", c->name, c->summary);
		}
		fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n",
			argv[0]);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (c = cmds; c->name; c++) {
		if (!c->fn || strcmp(argv[1], c->name))
			continue;
		if (asprintf(&name, "%s %s", argv[0], c->name) < 0) {
			p_err("out of memory");
			return EXIT_FAIL;
		}
		prog_name = name;
		argv[1] = name;
		return c->fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", argv[0], argv[1]);
	fprintf(stderr, "usage: %s\nRun '%s --help' for the list of commands.\n",
		parent_usage, argv[0]);
	return EXIT_USAGE;
}
