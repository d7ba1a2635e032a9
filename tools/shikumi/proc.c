// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi: generic readers of /proc: a process's comm, status, stat and
 * maps; /proc/meminfo and /proc/vmstat.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"

/* ---- /proc ---------------------------------------------------------------- */

void proc_comm(pid_t pid, char *buf, size_t size)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/comm", pid);
	if (read_file_str(p, buf, size))
		snprintf(buf, size, "?");
}

/* A "Vm...:   N kB" line of /proc/PID/status, in kB; -1 if absent. */
/*
 * The number after "KEY" and @sep in a file of "KEY<sep> value" lines
 * (/proc/PID/status, /proc/meminfo, /proc/vmstat); -1 if it has none.
 */
static long long file_key_ll(const char *path, const char *key, char sep)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == sep) {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

long long proc_status_kb(pid_t pid, const char *key)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	return file_key_ll(p, key, ':');
}

/* Minor faults, field 10 of /proc/PID/stat. */
long long proc_minflt(pid_t pid)
{
	char p[64], buf[1024], *s;
	long long v = -1;
	int i;

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	if (read_file_str(p, buf, sizeof(buf)))
		return -1;
	s = strrchr(buf, ')');	/* the comm may hold spaces and ')' */
	if (!s)
		return -1;
	s++;
	/* fields 3.. follow: state ppid pgrp session tty tpgid flags minflt */
	for (i = 3; i <= 10 && s; i++) {
		while (*s == ' ')
			s++;
		if (i == 10) {
			v = strtoll(s, NULL, 10);
			break;
		}
		s = strchr(s, ' ');
	}
	return v;
}

void maps_free(struct maps *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

int maps_read(pid_t pid, struct maps *m)
{
	char p[64], *line = NULL;
	size_t cap = 0, lcap = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	snprintf(p, sizeof(p), "/proc/%d/maps", pid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (getline(&line, &lcap, f) > 0) {
		unsigned long long s, e, off, ino;
		struct map_ent *me;
		char perms[8];
		unsigned int ma, mi;
		int pos = 0;
		char *path;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &s, &e, perms,
			   &off, &ma, &mi, &ino, &pos) < 7)
			continue;
		if (m->n == cap) {
			void *np = realloc(m->v, (cap ? cap * 2 : 64) * sizeof(*m->v));

			if (!np)
				break;
			m->v = np;
			cap = cap ? cap * 2 : 64;
		}
		path = line + pos;
		path[strcspn(path, "\n")] = '\0';
		me = &m->v[m->n++];
		me->start = s;
		me->end = e;
		me->offset = off;
		me->inode = ino;
		snprintf(me->perms, sizeof(me->perms), "%s", perms);
		me->path = strdup(path);
		if (!me->path)
			m->n--;
	}
	free(line);
	fclose(f);
	return 0;
}

const struct map_ent *maps_find(const struct maps *m, uint64_t addr)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (addr >= m->v[i].start && addr < m->v[i].end)
			return &m->v[i];
	return NULL;
}

long long vmstat(const char *key)
{
	return file_key_ll("/proc/vmstat", key, ' ');
}

long long meminfo_kb(const char *key)
{
	return file_key_ll("/proc/meminfo", key, ':');
}
