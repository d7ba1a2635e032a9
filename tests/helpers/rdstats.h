/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A shikumi_ramdisk disk's debugfs stats ("key value" lines), for the
 * helpers.
 */
#ifndef SHIKUMI_TESTS_RDSTATS_H
#define SHIKUMI_TESTS_RDSTATS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The value of @key in @disk's stats (e.g. "shikumi-ram0"), into *@v:
 * 0; 1 if there is no such key; -1 if the file cannot be read (errno).
 * Counters and seeds are u64 ("%llu"), so the whole range is parsed: a
 * seed above LLONG_MAX must not saturate.  A signed value ("%lld", e.g.
 * in_driver) reads back right when cast to long long.
 */
static inline int rd_stat(const char *disk, const char *key,
			  unsigned long long *v)
{
	char path[256], line[512];
	size_t klen = strlen(key);
	int ret = 1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/shikumi/%s/stats", disk);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			*v = strtoull(line + klen + 1, NULL, 10);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

#endif /* SHIKUMI_TESTS_RDSTATS_H */
