// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi: CPU and pid lists: cpulists ("0-1,3") parsed and formatted,
 * the possible and online CPUs, and lists of process IDs.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shikumi.h"

/* ---- CPU and task lists ------------------------------------------------------ */

/* Parse a cpulist ("0-1,3"); "all" sets every CPU below @n. */
int cpulist_parse(const char *s, bool *on, int n, char *why, size_t wsize)
{
	const char *p = s;
	int i;

	memset(on, 0, (size_t)n * sizeof(*on));
	if (!strcmp(s, "all")) {
		for (i = 0; i < n; i++)
			on[i] = true;
		return 0;
	}
	if (!*s) {
		snprintf(why, wsize, "the list is empty");
		return -1;
	}
	while (*p) {
		long a, b;
		char *end;

		if (!isdigit((unsigned char)*p))
			goto bad;
		a = strtol(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				goto bad;
			b = strtol(p + 1, &end, 10);
			p = end;
		}
		if (b < a) {
			snprintf(why, wsize, "%ld-%ld is an empty range", a, b);
			return -1;
		}
		if (b >= n) {
			snprintf(why, wsize, "CPU %ld does not exist (this machine has CPUs 0-%d)",
				 b, n - 1);
			return -1;
		}
		for (i = (int)a; i <= (int)b; i++)
			on[i] = true;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	return 0;
bad:
	snprintf(why, wsize, "expected CPU numbers and ranges such as 0-1,3");
	return -1;
}

void cpulist_format(const bool *on, int n, char *buf, size_t size)
{
	size_t len = 0;
	int i, j;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (!on[i])
			continue;
		for (j = i; j + 1 < n && on[j + 1]; j++)
			;
		if (j == i)
			len += snprintf(buf + len, len < size ? size - len : 0, "%s%d",
					len ? "," : "", i);
		else
			len += snprintf(buf + len, len < size ? size - len : 0, "%s%d-%d",
					len ? "," : "", i, j);
		i = j;
	}
	if (len >= size && size > 4)
		snprintf(buf + size - 4, 4, "...");
}

/* The highest number in a sysfs cpulist, plus one; 0 if unreadable. */
static int cpulist_file_count(const char *path)
{
	char buf[256], *p;
	long max = -1;

	if (read_file_str(path, buf, sizeof(buf)))
		return 0;
	for (p = buf; *p; ) {
		if (isdigit((unsigned char)*p)) {
			long v = strtol(p, &p, 10);

			if (v > max)
				max = v;
		} else {
			p++;
		}
	}
	return (int)(max + 1);
}

int nr_possible_cpus(void)
{
	int n = cpulist_file_count(CPU_DIR "/possible");
	long c = sysconf(_SC_NPROCESSORS_CONF);

	if (n <= 0)
		n = c > 0 ? (int)c : 1;
	return n;
}

int cpumask_init(struct cpumask *m, const char *list)
{
	char why[128];

	m->n = nr_possible_cpus();
	m->on = calloc((size_t)m->n, sizeof(*m->on));
	if (!m->on) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	return cpulist_parse(list, m->on, m->n, why, sizeof(why));
}

/* The online CPUs, as a cpulist string. */
void online_cpus(bool *on, int n)
{
	char buf[1024], why[128];

	if (read_file_str(CPU_DIR "/online", buf, sizeof(buf)) ||
	    cpulist_parse(buf, on, n, why, sizeof(why))) {
		int i;

		for (i = 0; i < n; i++)
			on[i] = true;
	}
}

/*
 * A list of pids or tgids ("12 34,56"), checked and normalised to "12,34,56"
 * in @out.  Returns -1 with the offending token in @why.
 */
int pidlist_parse(const char *s, char *out, size_t size, char *why, size_t wsize)
{
	size_t len = strlen(out);
	const char *p = s;

	while (*p) {
		char tok[32], *end;
		size_t tl = strcspn(p, ", ");
		long v;

		if (!tl) {
			p++;
			continue;
		}
		snprintf(tok, sizeof(tok), "%.*s", (int)(tl < 31 ? tl : 31), p);
		errno = 0;
		v = strtol(tok, &end, 10);
		if (!isdigit((unsigned char)tok[0]) || *end || errno || v <= 0 || v > INT_MAX ||
		    tl > 10) {
			snprintf(why, wsize, "'%.*s' is not a process ID", (int)tl, p);
			return -1;
		}
		len += snprintf(out + len, len < size ? size - len : 0, "%s%ld",
				len ? "," : "", v);
		if (len >= size) {
			snprintf(why, wsize, "the list is too long");
			return -1;
		}
		p += tl;
	}
	return 0;
}

/* The numbers of a normalised list, for the report's own filtering. */
int *pidlist_ints(const char *s, size_t *n)
{
	size_t cap = 1, k = 0;
	const char *p;
	int *v;

	for (p = s; *p; p++)
		cap += *p == ',';
	v = calloc(cap, sizeof(*v));
	if (!v) {
		p_err("out of memory");
		exit(EXIT_FAIL);
	}
	for (p = s; *p; ) {
		if (isdigit((unsigned char)*p) && k < cap)
			v[k++] = (int)strtol(p, (char **)&p, 10);
		else
			p++;
	}
	*n = k;
	return v;
}

bool int_in(const int *v, size_t n, int x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}
