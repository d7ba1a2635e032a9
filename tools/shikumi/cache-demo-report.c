// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo: the report of a demo's steps, side by side: the
 * outside (meminfo, vmstat, the disk's stat) and the inside (the file's
 * pages, the requests and who sent them), as text tables or JSON.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cache-demo.h"

/* the requests of a step from one sender: op, pid, comm and flags */
struct sender {
	uint8_t op;
	int32_t pid;
	uint32_t flags;
	char comm[sizeof(((struct shikumi_blk_trace *)0)->comm) + 1];
	uint64_t requests, bytes;
};

struct req_sum {
	uint64_t reads, read_bytes, readahead, writes, write_bytes;
	uint64_t ours, kworker;		/* writes by the demo, by a kworker */
	struct sender *snd;
	size_t nsnd;
};

static bool is_kworker(const struct shikumi_blk_trace *r)
{
	return !strncmp(r->comm, "kworker/", 8);
}

static int add_sender(struct req_sum *s, const struct shikumi_blk_trace *r)
{
	struct sender *p;
	size_t i;

	for (i = 0; i < s->nsnd; i++) {
		p = &s->snd[i];
		if (p->op == r->op && p->pid == r->pid && p->flags == r->flags &&
		    !strncmp(p->comm, r->comm, sizeof(r->comm)))
			goto found;
	}
	p = realloc(s->snd, (s->nsnd + 1) * sizeof(*p));
	if (!p) {
		p_err("out of memory");
		return -1;
	}
	s->snd = p;
	p = &s->snd[s->nsnd++];
	memset(p, 0, sizeof(*p));
	p->op = r->op;
	p->pid = r->pid;
	p->flags = r->flags;
	memcpy(p->comm, r->comm, sizeof(r->comm));
found:
	p->requests++;
	p->bytes += r->bytes;
	return 0;
}

static int sum_reqs(const struct demo *d, const struct trace_buf *t,
		    struct req_sum *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < t->n; i++) {
		const struct shikumi_blk_trace *r = &t->r[i];

		if (r->op == SHIKUMI_BLK_OP_READ) {
			s->reads++;
			s->read_bytes += r->bytes;
			s->readahead += !!(r->flags & SHIKUMI_BLK_F_READAHEAD);
		} else if (r->op == SHIKUMI_BLK_OP_WRITE) {
			s->writes++;
			s->write_bytes += r->bytes;
			s->ours += r->pid == d->pid;
			s->kworker += is_kworker(r);
		}
		if (add_sender(s, r))
			return -1;
	}
	return 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* ---- text ------------------------------------------------------------------ */

static void outside_row(const struct demo_step *s)
{
	const struct demo_snap *a = &s->a, *b = &s->b;

	printf("  %-22s %9.1f %9lld %+9lld %8lld %9lld %+8lld %+8lld %+7" PRId64 " %+8" PRId64
	       " %+7" PRId64 " %+8" PRId64 "\n", s->label, ms(s->ns), b->cached_kb,
	       b->cached_kb - a->cached_kb, b->dirty_kb, b->writeback_kb,
	       b->pgpgin_kb - a->pgpgin_kb, b->pgpgout_kb - a->pgpgout_kb,
	       (int64_t)(b->rd_ios - a->rd_ios), (int64_t)(b->rd_sectors - a->rd_sectors) / 2,
	       (int64_t)(b->wr_ios - a->wr_ios), (int64_t)(b->wr_sectors - a->wr_sectors) / 2);
}

static void inside_row(const struct demo_step *s, const struct req_sum *r)
{
	if (s->have_view)
		printf("  %-22s %8" PRIu64 " %7" PRIu64 " %9" PRIu64, s->label, s->cached,
		       s->dirty, s->writeback);
	else
		printf("  %-22s %8s %7s %9s", s->label, "-", "-", "-");
	printf(" %7" PRIu64 " %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %9" PRIu64 " %6" PRIu64
	       " %8" PRIu64 "\n", r->reads, r->read_bytes / 1024, r->readahead, r->writes,
	       r->write_bytes / 1024, r->ours, r->kworker);
}

/* Who sent the step's requests; with readahead, its reads' sizes in order. */
static void detail_rows(const struct demo_step *s, const struct req_sum *r)
{
	char flags[128];
	size_t i, k = 0;

	for (i = 0; i < r->nsnd; i++) {
		const struct sender *p = &r->snd[i];

		flags_text(flags, sizeof(flags), p->flags);
		printf("  %-22s %-5s %5" PRIu64 " x, %8" PRIu64 " KiB from %d %-16s %s\n",
		       i ? "" : s->label, OP_NAME(p->op), p->requests, p->bytes / 1024,
		       p->pid, p->comm, flags);
	}
	for (i = 0; i < s->t.n && r->readahead; i++) {
		if (s->t.r[i].op != SHIKUMI_BLK_OP_READ)
			continue;
		if (k % 12 == 0)
			printf("%s  %-22s read KiB:", k ? "\n" : "", k ? "" : s->label);
		printf(" %u", s->t.r[i].bytes / 1024);
		k++;
	}
	if (k)
		printf("\n");
}

/* The flusher's progress, at most about 25 rows of the samples. */
static void samples_text(const struct demo *d)
{
	size_t i, every = d->nsmp / 25 + 1;

	if (!d->nsmp)
		return;
	printf("\nthe flusher at work: the file's pages, /proc/meminfo (kB)\n");
	printf("  %8s %8s %9s %9s %12s\n", "t_s", "dirty", "writeback", "Dirty", "Writeback");
	for (i = 0; i < d->nsmp; i++)
		if (i % every == 0 || i + 1 == d->nsmp)
			printf("  %8.2f %8" PRIu64 " %9" PRIu64 " %9lld %12lld\n", d->smp[i].t_s,
			       d->smp[i].dirty, d->smp[i].writeback, d->smp[i].dirty_kb,
			       d->smp[i].writeback_kb);
}

static void report_text(const struct demo *d, const struct req_sum *r)
{
	int i;

	printf("shikumi cache demo %s: a %" PRIu64 " KiB %s in %s on %s (disk %s), pid %d\n\n",
	       d->name, d->size / 1024, d->what ? d->what : "file", d->dir, d->dev, d->disk,
	       (int)d->pid);
	printf("outside: /proc/meminfo (kB, after the step), /proc/vmstat, /sys/block/%s/stat (changes)\n",
	       d->disk);
	printf("  %-22s %9s %9s %9s %8s %9s %8s %8s %7s %8s %7s %8s\n", "step", "ms",
	       "Cached", "dCached", "Dirty", "Writeback", "pgpgin", "pgpgout", "reads",
	       "read_kB", "writes", "write_kB");
	for (i = 0; i < d->nstep; i++)
		outside_row(&d->step[i]);
	printf("\ninside: the file's pages (shikumi_pgcache), the disk's requests (shikumi_ramdisk)\n");
	printf("  %-22s %8s %7s %9s %7s %9s %9s %7s %9s %6s %8s\n", "step", "cached",
	       "dirty", "writeback", "reads", "read_KiB", "readahead", "writes", "write_KiB",
	       "by_us", "kworker");
	for (i = 0; i < d->nstep; i++)
		inside_row(&d->step[i], &r[i]);
	printf("\nrequests by sender (op, count, size, pid, comm, flags)\n");
	for (i = 0; i < d->nstep; i++)
		detail_rows(&d->step[i], &r[i]);
	if (d->expire_old[0])
		printf("\nvm.dirty_expire_centisecs %s and vm.dirty_writeback_centisecs %s, lowered to %llu and %llu during the demo, and put back\n",
		       d->expire_old, d->interval_old, U(d->expire), U(d->interval));
	samples_text(d);
	if (d->own_text)
		d->own_text(d);
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_outside(struct json *j, const struct demo_step *s)
{
	const struct demo_snap *a = &s->a, *b = &s->b;

	json_object_begin(j, "outside");
	json_i64(j, "cached_kb", b->cached_kb);
	json_i64(j, "cached_kb_delta", b->cached_kb - a->cached_kb);
	json_i64(j, "dirty_kb", b->dirty_kb);
	json_i64(j, "writeback_kb", b->writeback_kb);
	json_i64(j, "pgpgin_kb_delta", b->pgpgin_kb - a->pgpgin_kb);
	json_i64(j, "pgpgout_kb_delta", b->pgpgout_kb - a->pgpgout_kb);
	json_u64(j, "disk_reads", b->rd_ios - a->rd_ios);
	json_u64(j, "disk_read_sectors", b->rd_sectors - a->rd_sectors);
	json_u64(j, "disk_writes", b->wr_ios - a->wr_ios);
	json_u64(j, "disk_write_sectors", b->wr_sectors - a->wr_sectors);
	json_i64(j, "buffers_kb", b->buffers_kb);
	json_i64(j, "buffers_kb_delta", b->buffers_kb - a->buffers_kb);
	json_i64(j, "mapped_kb", b->mapped_kb);
	json_i64(j, "mapped_kb_delta", b->mapped_kb - a->mapped_kb);
	json_object_end(j);
}

static void json_senders(struct json *j, const struct req_sum *r)
{
	size_t i;
	int f;

	json_array_begin(j, "senders");
	for (i = 0; i < r->nsnd; i++) {
		const struct sender *p = &r->snd[i];

		json_object_begin(j, NULL);
		json_string(j, "op", OP_NAME(p->op));
		json_i64(j, "pid", p->pid);
		json_string(j, "comm", p->comm);
		json_array_begin(j, "flags");
		for (f = 0; f < SHIKUMI_BLK_NR_FLAGS; f++)
			if (p->flags & (1U << f))
				json_string(j, NULL, flag_names[f]);
		json_array_end(j);
		json_u64(j, "requests", p->requests);
		json_u64(j, "bytes", p->bytes);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_inside(struct json *j, const struct demo_step *s,
			const struct req_sum *r)
{
	size_t i;

	if (s->have_view) {
		json_object_begin(j, "view");
		json_u64(j, "cached", s->cached);
		json_u64(j, "dirty", s->dirty);
		json_u64(j, "writeback", s->writeback);
		json_object_end(j);
	} else {
		json_null(j, "view");
	}
	json_object_begin(j, "requests");
	json_u64(j, "reads", r->reads);
	json_u64(j, "read_bytes", r->read_bytes);
	json_u64(j, "readahead", r->readahead);
	json_u64(j, "writes", r->writes);
	json_u64(j, "write_bytes", r->write_bytes);
	json_array_begin(j, "read_sizes");
	for (i = 0; i < s->t.n; i++)
		if (s->t.r[i].op == SHIKUMI_BLK_OP_READ)
			json_u64(j, NULL, s->t.r[i].bytes);
	json_array_end(j);
	json_senders(j, r);
	json_object_end(j);
}

static void demo_json_head(struct json *j, const struct demo *d)
{
	json_string(j, "demo", d->name);
	json_string(j, "dir", d->dir);
	json_string(j, "device", d->dev);
	json_string(j, "disk", d->disk);
	json_i64(j, "pid", d->pid);
	json_u64(j, "size", d->size);
	json_u64(j, "pages", d->pages);
}

static void report_json_steps(struct json *j, const struct demo *d,
			      const struct req_sum *r)
{
	int i;

	json_array_begin(j, "steps");
	for (i = 0; i < d->nstep; i++) {
		const struct demo_step *s = &d->step[i];

		json_object_begin(j, NULL);
		json_string(j, "step", s->key);
		json_string(j, "label", s->label);
		json_u64(j, "ns", s->ns);
		json_double(j, "ms", ms(s->ns));
		json_outside(j, s);
		json_inside(j, s, &r[i]);
		if (d->own_json)
			d->own_json(j, d, i);
		json_object_end(j);
	}
	json_array_end(j);
}

static void report_json(const struct demo *d, const struct req_sum *r)
{
	struct json *j = json_stdout();
	size_t i;

	json_object_begin(j, NULL);
	demo_json_head(j, d);
	if (d->lowered || d->expire_old[0]) {
		json_object_begin(j, "sysctls");
		json_string(j, "dirty_expire_centisecs", d->expire_old);
		json_string(j, "dirty_writeback_centisecs", d->interval_old);
		json_u64(j, "demo_dirty_expire_centisecs", d->expire);
		json_u64(j, "demo_dirty_writeback_centisecs", d->interval);
		json_object_end(j);
	}
	report_json_steps(j, d, r);
	if (d->nsmp) {
		json_array_begin(j, "samples");
		for (i = 0; i < d->nsmp; i++) {
			json_object_begin(j, NULL);
			json_double(j, "t_s", d->smp[i].t_s);
			json_u64(j, "dirty", d->smp[i].dirty);
			json_u64(j, "writeback", d->smp[i].writeback);
			json_i64(j, "meminfo_dirty_kb", d->smp[i].dirty_kb);
			json_i64(j, "meminfo_writeback_kb", d->smp[i].writeback_kb);
			json_object_end(j);
		}
		json_array_end(j);
	}
	json_object_end(j);
	json_free(j);
}

/* The report of @d's steps, as text or JSON. */
int demo_report(const struct demo *d)
{
	struct req_sum r[DEMO_MAX_STEPS];
	int i, n, ret = 0;

	for (n = 0; n < d->nstep && !ret; n++)
		ret = sum_reqs(d, &d->step[n].t, &r[n]);
	if (!ret && opt_json)
		report_json(d, r);
	else if (!ret)
		report_text(d, r);
	for (i = 0; i < n; i++)
		free(r[i].snd);
	return ret;
}
