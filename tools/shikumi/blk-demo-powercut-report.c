// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk demo powercut: the report, side by side (text) or whole
 * (JSON), of what blk-demo-powercut.c gathered.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "blk.h"
#include "blk-demo-powercut.h"

struct pc_sum {
	uint64_t rounds, files, intact, clean, mounted;
	uint64_t flushes, fua_writes, dropped, kept;
};

static void pc_sum(const struct pc_demo *d, const struct pc_mode *m, struct pc_sum *s)
{
	uint64_t r;

	*s = (struct pc_sum){ 0 };
	if (!m->run)
		return;
	for (r = 0; r < d->rounds; r++) {
		const struct pc_round *x = &m->round[r];

		s->rounds++;
		s->files += d->files;
		s->intact += x->intact;
		s->clean += !x->fsck;
		s->mounted += x->mounted;
		s->flushes += x->flushes;
		s->fua_writes += x->fua_writes;
		s->dropped += x->dropped;
		s->kept += x->kept;
	}
}

/* One row: a label, then the value of each mode that ran ("%llu of %llu"). */
static void pc_row(const struct pc_demo *d, const struct pc_sum *s,
		   const char *label, size_t off, size_t of_off)
{
	char cell[48];
	int m;

	printf("%-30s", label);
	for (m = 0; m < PC_MODES; m++) {
		const uint64_t *v = (const uint64_t *)((const char *)&s[m] + off);
		const uint64_t *of = (const uint64_t *)((const char *)&s[m] + of_off);

		if (!d->mode[m].run)
			continue;
		if (of_off != off)
			snprintf(cell, sizeof(cell), "%llu of %llu",
				 (unsigned long long)*v, (unsigned long long)*of);
		else
			snprintf(cell, sizeof(cell), "%llu", (unsigned long long)*v);
		printf(" %-22s", cell);
	}
	printf("\n");
}

#define PC_ROW(label, field, of)	\
	pc_row(d, s, (label), offsetof(struct pc_sum, field), offsetof(struct pc_sum, of))

static void pc_rounds_text(const struct pc_demo *d)
{
	uint64_t r;
	int m;

	printf("\n%-6s %-10s", "ROUND", "SEED");
	for (m = 0; m < PC_MODES; m++)
		if (d->mode[m].run)
			printf(" %-10s %-8s %-7s", d->mode[m].name, "FSCK", "INTACT");
	printf("\n");
	for (r = 0; r < d->rounds; r++) {
		printf("%-6llu %-10llu", (unsigned long long)r + 1,
		       (unsigned long long)d->seed + r);
		for (m = 0; m < PC_MODES; m++) {
			const struct pc_round *x = &d->mode[m].round[r];

			if (!d->mode[m].run)
				continue;
			printf(" %-10s %-8s %u/%-5llu", x->mounted ? "mounted" : "NO MOUNT",
			       x->fsck ? "DAMAGED" : "clean", x->intact,
			       (unsigned long long)d->files);
		}
		printf("\n");
	}
}

void pc_report_text(const struct pc_demo *d)
{
	struct pc_sum s[PC_MODES];
	int m;

	for (m = 0; m < PC_MODES; m++)
		pc_sum(d, &d->mode[m], &s[m]);
	printf("%s: a torn power cut after each round's writes, the write cache on\n",
	       d->disk);
	printf("each round: a new ext4, %llu files written and fsynced, %llu written without\n\n",
	       (unsigned long long)d->files, (unsigned long long)d->files);
	printf("%-30s", "");
	for (m = 0; m < PC_MODES; m++)
		if (d->mode[m].run)
			printf(" %-22s", m ? "barrier=0" : "barriers (ext4's default)");
	printf("\n");
	PC_ROW("rounds", rounds, rounds);
	PC_ROW("flushes the disk got", flushes, flushes);
	PC_ROW("FUA writes the disk got", fua_writes, fua_writes);
	PC_ROW("sectors the cuts dropped", dropped, dropped);
	PC_ROW("mounted after the cut", mounted, rounds);
	PC_ROW("fsck.ext4 -fn clean", clean, rounds);
	PC_ROW("fsynced files intact", intact, files);
	pc_rounds_text(d);
	if (d->mode[0].run)
		printf("\nWith barriers, ext4 flushes the disk's cache at each commit and fsync:\n"
		       "what fsync returned for was durable, and the journal's replay makes\n"
		       "the file system consistent again.\n");
	if (d->mode[1].run && !d->mode[0].run)
		printf("\n");
	if (d->mode[1].run)
		printf("With barrier=0, fsync returned while the data sat in the disk's volatile\n"
		       "cache: the cut lost what the application was told was done%s.\n",
		       s[1].clean < s[1].rounds ? ", and the file system itself" : "");
}

static void pc_round_json(struct json *j, const struct pc_demo *d,
			  const struct pc_round *x)
{
	uint64_t i;

	json_object_begin(j, NULL);
	json_u64(j, "seed", x->seed);
	json_bool(j, "mounted", x->mounted);
	if (x->mounted)
		json_null(j, "mount_error");
	else
		json_string(j, "mount_error", strerror(x->mount_errno));
	json_i64(j, "fsck_exit", x->fsck);
	json_bool(j, "fsck_clean", !x->fsck);
	json_u64(j, "flushes", x->flushes);
	json_u64(j, "fua_writes", x->fua_writes);
	json_u64(j, "cut_sectors_dropped", x->dropped);
	json_u64(j, "cut_sectors_kept", x->kept);
	json_u64(j, "fsynced_intact", x->intact);
	json_array_begin(j, "fsynced");
	for (i = 0; i < d->files; i++) {
		json_object_begin(j, NULL);
		json_string(j, "name", x->file[i].name);
		json_u64(j, "cksum", x->file[i].crc);
		json_bool(j, "intact", x->file[i].intact);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

void pc_report_json(const struct pc_demo *d)
{
	struct json *j = json_stdout();
	struct pc_sum s;
	uint64_t r;
	int m;

	json_object_begin(j, NULL);
	json_string(j, "disk", d->disk);
	json_u64(j, "files", d->files);
	json_u64(j, "file_bytes", PC_FILE_BYTES);
	json_array_begin(j, "modes");
	for (m = 0; m < PC_MODES; m++) {
		if (!d->mode[m].run)
			continue;
		pc_sum(d, &d->mode[m], &s);
		json_object_begin(j, NULL);
		json_string(j, "mode", d->mode[m].name);
		json_string(j, "mount_options", d->mode[m].mount_opts);
		json_u64(j, "rounds", s.rounds);
		json_u64(j, "fsck_clean", s.clean);
		json_u64(j, "mounted", s.mounted);
		json_u64(j, "fsynced", s.files);
		json_u64(j, "fsynced_intact", s.intact);
		json_u64(j, "flushes", s.flushes);
		json_u64(j, "fua_writes", s.fua_writes);
		json_array_begin(j, "round");
		for (r = 0; r < d->rounds; r++)
			pc_round_json(j, d, &d->mode[m].round[r]);
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}
