// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal JSON reader, for fio's reports: jparse() builds a tree of
 * struct jval, jnum() looks a number up by its dotted path, jfree() frees it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"

/* ---- a minimal JSON reader, for fio's reports ---------------------------- */

struct jparser {
	const char *s;
	int depth;
};

void jfree(struct jval *v)
{
	struct jval *k, *next;

	if (!v)
		return;
	for (k = v->kids; k; k = next) {
		next = k->next;
		jfree(k);
	}
	free(v->key);
	free(v);
}

static void jskip(struct jparser *p)
{
	while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')
		p->s++;
}

/* A string's contents, escapes kept raw except \" and \\; NULL on error. */
static char *jstring(struct jparser *p)
{
	const char *start = ++p->s;
	size_t k = 0;
	char *out;

	while (*p->s && *p->s != '"')
		p->s += *p->s == '\\' && p->s[1] ? 2 : 1;
	if (*p->s != '"')
		return NULL;
	out = malloc((size_t)(p->s - start) + 1);
	if (!out)
		return NULL;
	for (; start < p->s; start++) {
		if (*start == '\\')
			start++;
		out[k++] = *start;
	}
	out[k] = '\0';
	p->s++;
	return out;
}

static struct jval *jvalue(struct jparser *p);

/* The members of an array or object, after its opening bracket. */
static int jmembers(struct jparser *p, struct jval *v, char close)
{
	struct jval **tail = &v->kids, *kid;
	char *key = NULL;

	jskip(p);
	if (*p->s == close) {
		p->s++;
		return 0;
	}
	for (;;) {
		jskip(p);
		if (close == '}') {
			if (*p->s != '"')
				return -1;
			key = jstring(p);
			if (!key)
				return -1;
			jskip(p);
			if (*p->s++ != ':') {
				free(key);
				return -1;
			}
		}
		kid = jvalue(p);
		if (!kid) {
			free(key);
			return -1;
		}
		kid->key = key;
		key = NULL;
		*tail = kid;
		tail = &kid->next;
		jskip(p);
		if (*p->s == ',') {
			p->s++;
			continue;
		}
		if (*p->s++ != close)
			return -1;
		return 0;
	}
}

static struct jval *jvalue(struct jparser *p)
{
	struct jval *v = calloc(1, sizeof(*v));
	char *end, *str;
	int err = 0;

	if (!v || ++p->depth > 64) {
		free(v);
		return NULL;
	}
	jskip(p);
	if (*p->s == '{' || *p->s == '[') {
		char close = *p->s == '{' ? '}' : ']';

		v->type = close == '}' ? J_OBJ : J_ARR;
		p->s++;
		err = jmembers(p, v, close);
	} else if (*p->s == '"') {
		v->type = J_STR;
		str = jstring(p);
		err = !str;
		free(str);
	} else if (!strncmp(p->s, "true", 4) || !strncmp(p->s, "null", 4)) {
		v->type = *p->s == 't' ? J_BOOL : J_NULL;
		v->num = *p->s == 't';
		p->s += 4;
	} else if (!strncmp(p->s, "false", 5)) {
		v->type = J_BOOL;
		p->s += 5;
	} else {
		v->type = J_NUM;
		v->num = strtod(p->s, &end);
		err = end == p->s;
		p->s = end;
	}
	p->depth--;
	if (err) {
		jfree(v);
		return NULL;
	}
	return v;
}

/* Parse the first JSON object in @text (fio may print notices before it). */
struct jval *jparse(const char *text)
{
	struct jparser p = { strchr(text, '{'), 0 };

	return p.s ? jvalue(&p) : NULL;
}

/* "jobs.0.read.lat_ns.mean": a number, or NAN. */
double jnum(const struct jval *v, const char *path)
{
	char buf[128], *tok, *save = NULL, *end;
	const struct jval *k;
	long idx;

	copy_str(buf, sizeof(buf), path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
		idx = strtol(tok, &end, 10);
		for (k = v->kids; k; k = k->next) {
			if (v->type == J_ARR && !*end && !idx--)
				break;
			if (v->type == J_OBJ && k->key && !strcmp(k->key, tok))
				break;
		}
		v = k;
	}
	return v && v->type == J_NUM ? v->num : NAN;
}
