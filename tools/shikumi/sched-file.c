// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi sched: the recording file format (the header, its text blocks
 * and the records), written by 'sched record' and loaded by the reports,
 * and the warnings about events lost in a trace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shikumi.h"
#include "sched.h"

/* ---- recordings ------------------------------------------------------------------ */

static const char *const blob_names[SB_NR] = {
	"command", "filter_pid", "filter_tgid", "filter_cpu", "tunables", "stats",
};

void recording_free(struct recording *rec)
{
	int i;

	for (i = 0; i < SB_NR; i++)
		free(rec->blob[i]);
	free(rec->r);
	free(rec->stats);
	free(rec->cpu_on);
	free(rec->pids);
	free(rec->tgids);
	memset(rec, 0, sizeof(*rec));
}

/* Fill in what the header and blocks say: filters, tunables, stats. */
static int recording_digest(struct recording *rec, const char *src)
{
	char why[128];
	int n = (int)rec->h.nr_cpus;

	rec->stats = calloc((size_t)n, sizeof(*rec->stats));
	rec->cpu_on = calloc((size_t)n, sizeof(*rec->cpu_on));
	if (!rec->stats || !rec->cpu_on) {
		p_err("out of memory");
		return -1;
	}
	if (cpulist_parse(rec->blob[SB_CPUS], rec->cpu_on, n, why, sizeof(why))) {
		p_err("%s: its CPU list '%s' is corrupt: %s", src, rec->blob[SB_CPUS], why);
		return -1;
	}
	cs_stats_parse(rec->blob[SB_STATS], rec->stats, n);
	tunables_parse(&rec->tun, rec->blob[SB_TUNABLES]);
	rec->pids = pidlist_ints(rec->blob[SB_PIDS], &rec->npids);
	rec->tgids = pidlist_ints(rec->blob[SB_TGIDS], &rec->ntgids);
	rec->meta = (struct trace_meta){
		.start_ns = rec->h.start_ns, .end_ns = rec->h.end_ns,
		.nr_cpus = n, .cpu_on = rec->cpu_on,
		.all_tasks = rec->h.flags & SF_ALL_TASKS,
		.follow = rec->h.flags & SF_FOLLOW_FORK,
		.pids = rec->pids, .npids = rec->npids,
		.tgids = rec->tgids, .ntgids = rec->ntgids,
	};
	return 0;
}

int recording_load(const char *path, struct recording *rec)
{
	uint64_t want;
	struct stat st;
	size_t i;
	FILE *f;
	int b;

	memset(rec, 0, sizeof(*rec));
	f = fopen(path, "re");
	if (!f) {
		p_err("cannot open %s: %s%s", path, strerror(errno),
		      errno == ENOENT ? " (make one with 'shikumi sched record')" : "");
		return -1;
	}
	if (fstat(fileno(f), &st)) {
		p_err("cannot read %s: %s", path, strerror(errno));
		goto bad;
	}
	if (!st.st_size) {
		p_err("%s is empty: the recording was cut short?", path);
		goto bad;
	}
	if (fread(&rec->h, sizeof(rec->h), 1, f) != 1 ||
	    memcmp(rec->h.magic, SCHED_MAGIC, sizeof(rec->h.magic))) {
		p_err("%s is not a recording of 'shikumi sched record'", path);
		goto bad;
	}
	if (rec->h.version != SCHED_VERSION || rec->h.hdr_size != sizeof(rec->h) ||
	    rec->h.rec_size != REC_SIZE) {
		p_err("%s: recording version %u (%u-byte header, %u-byte records); this shikumi "
		      "reads version %u (%zu, %zu)", path, rec->h.version, rec->h.hdr_size,
		      rec->h.rec_size, SCHED_VERSION, sizeof(rec->h), REC_SIZE);
		goto bad;
	}
	rec->h.kernel[sizeof(rec->h.kernel) - 1] = '\0';
	if (!rec->h.nr_cpus || rec->h.nr_cpus > 65536 || rec->h.end_ns < rec->h.start_ns) {
		p_err("%s: the header is corrupt (%u CPUs, %llu..%llu ns)", path,
		      rec->h.nr_cpus, U(rec->h.start_ns), U(rec->h.end_ns));
		goto bad;
	}
	want = sizeof(rec->h);
	for (b = 0; b < SB_NR; b++)
		want += rec->h.blob_len[b];
	if (rec->h.nr_recs > (uint64_t)st.st_size / REC_SIZE ||
	    want + rec->h.nr_recs * REC_SIZE != (uint64_t)st.st_size) {
		p_err("%s: %llu bytes, but its header announces %llu: truncated or corrupt",
		      path, U(st.st_size), U(want + rec->h.nr_recs * REC_SIZE));
		goto bad;
	}
	for (b = 0; b < SB_NR; b++) {
		size_t len = rec->h.blob_len[b];

		rec->blob[b] = malloc(len + 1);
		if (!rec->blob[b] || fread(rec->blob[b], 1, len, f) != len) {
			p_err("cannot read %s's %s", path, blob_names[b]);
			goto bad;
		}
		rec->blob[b][len] = '\0';
	}
	rec->r = malloc(rec->h.nr_recs ? rec->h.nr_recs * REC_SIZE : 1);
	if (!rec->r) {
		p_err("out of memory for %llu records", U(rec->h.nr_recs));
		goto bad;
	}
	if (fread(rec->r, REC_SIZE, rec->h.nr_recs, f) != rec->h.nr_recs) {
		p_err("cannot read %s's records", path);
		goto bad;
	}
	for (i = 0; i < rec->h.nr_recs; i++) {
		const struct shikumi_cs_rec *r = &rec->r[i];

		if (r->cpu >= rec->h.nr_cpus || !r->type || r->type > SHIKUMI_CS_LOST ||
		    (r->type == SHIKUMI_CS_SWITCH &&
		     r->prev_state >= sizeof(SHIKUMI_CS_STATE_CHARS) - 1)) {
			p_err("%s: record %zu is corrupt (type %u, CPU %u)", path, i, r->type,
			      r->cpu);
			goto bad;
		}
	}
	fclose(f);
	return recording_digest(rec, path) ? (recording_free(rec), -1) : 0;
bad:
	fclose(f);
	recording_free(rec);
	return -1;
}

int recording_write(const char *path, FILE *f, struct sched_hdr *h,
		    char *const blob[SB_NR], const size_t blen[SB_NR],
		    const struct shikumi_cs_rec *r)
{
	int b;

	for (b = 0; b < SB_NR; b++)
		h->blob_len[b] = (uint32_t)blen[b];
	if (fseek(f, 0, SEEK_SET) || fwrite(h, sizeof(*h), 1, f) != 1)
		goto bad;
	for (b = 0; b < SB_NR; b++)
		if (blen[b] && fwrite(blob[b], 1, blen[b], f) != blen[b])
			goto bad;
	if (h->nr_recs && fwrite(r, REC_SIZE, h->nr_recs, f) != h->nr_recs)
		goto bad;
	if (fflush(f) || ftruncate(fileno(f), ftell(f)))
		goto bad;
	return 0;
bad:
	p_err("cannot write %s: %s", path, strerror(errno));
	return -1;
}

/* ---- warnings about lost events -------------------------------------------------- */

/* Drops per CPU, from the module's counters and the LOST records. */
uint64_t warn_drops(const struct cs_stats_cpu *st, const struct analysis *a,
		    uint64_t nr_events, FILE *out)
{
	uint64_t total = 0;
	int c;

	for (c = 0; c < a->ncpu; c++) {
		uint64_t d = st[c].dropped > a->cpu[c].lost ? st[c].dropped : a->cpu[c].lost;

		if (!d)
			continue;
		total += d;
		fprintf(out, "WARNING: CPU %d dropped %llu events (its ring was full): the "
			"counts and times below miss them.\n", c, U(d));
		if (nr_events)
			fprintf(out, "         (the ring holds %llu records: load the module with a "
				"larger nr_events, or trace fewer tasks)\n", U(nr_events));
	}
	return total;
}
