// SPDX-License-Identifier: GPL-2.0
/*
 * A small streaming JSON writer, shared by every --json report.  Keys are
 * given with each value inside an object and are NULL inside arrays.
 */
#include <math.h>
#include <stdlib.h>

#include "shikumi.h"

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool has_items[JSON_MAX_DEPTH];
};

/* the run's one writer on stdout (json_stdout()), and whether it is done */
static struct json *out;
static bool out_done;

struct json *json_new(FILE *f, bool pretty)
{
	struct json *j = calloc(1, sizeof(*j));

	if (!j) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	j->f = f;
	j->pretty = pretty;
	return j;
}

/*
 * The run's JSON writer on stdout, as bpftool's json_wtr: made on first
 * use, one document per run, closed by main() through json_stdout_close().
 */
struct json *json_stdout(void)
{
	if (out_done) {
		/* a second document would make stdout invalid JSON */
		fprintf(stderr, "shikumi: internal error: a second JSON document\n");
		abort();
	}
	if (!out)
		out = json_new(stdout, opt_pretty);
	return out;
}

void json_free(struct json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
	if (j == out) {
		out_done = true;
		return;
	}
	free(j);
}

void json_stdout_close(void)
{
	free(out);
	out = NULL;
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void indent(struct json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator, indentation and key before a value. */
static void item(struct json *j, const char *key)
{
	if (j->depth > 0) {
		if (j->has_items[j->depth])
			fputc(',', j->f);
		j->has_items[j->depth] = true;
		indent(j);
	}
	if (key) {
		put_string(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void begin(struct json *j, const char *key, char c)
{
	item(j, key);
	fputc(c, j->f);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->has_items[j->depth] = false;
}

static void end(struct json *j, char c)
{
	bool had = j->has_items[j->depth];

	j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
}

void json_object_begin(struct json *j, const char *key)
{
	begin(j, key, '{');
}

void json_object_end(struct json *j)
{
	end(j, '}');
}

void json_array_begin(struct json *j, const char *key)
{
	begin(j, key, '[');
}

void json_array_end(struct json *j)
{
	end(j, ']');
}

void json_string(struct json *j, const char *key, const char *v)
{
	item(j, key);
	if (v)
		put_string(j->f, v);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
	item(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
	item(j, key);
	fprintf(j->f, "%lld", (long long)v);
}

void json_double(struct json *j, const char *key, double v)
{
	item(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void json_bool(struct json *j, const char *key, bool v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	item(j, key);
	fputs("null", j->f);
}

void json_error(const char *msg)
{
	struct json *j;

	if (out)	/* a report has begun, or an error was written */
		return;
	j = json_stdout();
	json_object_begin(j, NULL);
	json_string(j, "error", msg);
	json_object_end(j);
	json_free(j);
}
