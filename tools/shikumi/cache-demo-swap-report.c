// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi cache demo swap: the views (outside: meminfo, vmstat, the
 * process's status and rusage; inside: the region's PTEs from
 * shikumi_ptdump), the cross-check of the PTEs' slots against the swap
 * requests in shikumi_ramdisk's trace, and the report as text, JSON or SVG.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cache-demo-swap.h"

#define SENDERS_MAX	8	/* distinct senders listed per step */

/* ---- the views --------------------------------------------------------------- */

void swap_snap(struct swap_snap *s)
{
	struct rusage ru;

	s->swap_total_kb = meminfo_kb("SwapTotal");
	s->swap_free_kb = meminfo_kb("SwapFree");
	s->swap_cached_kb = meminfo_kb("SwapCached");
	s->pswpin = vmstat("pswpin");
	s->pswpout = vmstat("pswpout");
	s->pgmajfault = vmstat("pgmajfault");
	s->vmswap_kb = proc_status_kb(getpid(), "VmSwap");
	s->vmrss_kb = proc_status_kb(getpid(), "VmRSS");
	getrusage(RUSAGE_SELF, &ru);
	s->majflt = ru.ru_majflt;
	s->minflt = ru.ru_minflt;
}

/* One record of the region's dump into @v and @d->slot. */
static void view_rec(struct swap_demo *d, const struct shikumi_pt_rec *r,
		     struct swap_ptes *v)
{
	uint64_t base = (uintptr_t)d->region;
	uint64_t i = (r->va - base) / PGC_PAGE;

	if (r->va < base || i >= d->pages)
		return;
	if (r->type == SHIKUMI_PT_REC_LEAF) {
		uint64_t n = level_size(r->level, false) / PGC_PAGE;

		v->present += n < d->pages - i ? n : d->pages - i;
	} else if (r->type == SHIKUMI_PT_REC_NONPRESENT && r->level == SHIKUMI_PT_PTE) {
		if (SHIKUMI_PT_NP_KIND(r->flags) != SHIKUMI_PT_NP_SWAP) {
			v->other++;
		} else if ((int)SHIKUMI_PT_NP_SWAP_TYPE(r->flags) != d->type) {
			v->other_swap++;
		} else {
			v->swap++;
			d->slot[i] = (int64_t)r->pfn;
		}
	}
}

/* The region's PTEs now: counts in @s->v, each page's slot in @d->slot. */
int swap_view(struct swap_demo *d, struct swap_step *s)
{
	uint64_t base = (uintptr_t)d->region;
	struct pt_dump pd;
	size_t i;

	memset(&s->v, 0, sizeof(s->v));
	for (i = 0; i < d->pages; i++)
		d->slot[i] = -1;
	if (fetch_span(d->pid, "full", base, base + d->size, &pd))
		return -1;
	for (i = 0; i < pd.n; i++)
		view_rec(d, &pd.r[i], &s->v);
	pt_dump_free(&pd);
	s->v.none = d->pages - s->v.present - s->v.swap - s->v.other_swap - s->v.other;
	return 0;
}

/* ---- the cross-check ------------------------------------------------------------ */

/*
 * Mark the slots the step's requests of @op covered; how many.  The whole
 * disk is the swap area, so all of them are swap I/O, but only the writes
 * say so: the kernel sends its swap writes with REQ_SWAP and its swap
 * reads without (mm/page_io.c), so the flag is counted, not required.
 */
static uint64_t cover_slots(struct swap_demo *d, const struct trace_buf *t,
			    uint8_t op)
{
	uint64_t n = 0, a, b;
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct shikumi_blk_trace *r = &t->r[i];

		if (r->op != op)
			continue;
		for (a = r->sector / 8, b = (r->sector + r->bytes / 512 + 7) / 8;
		     a < b && a < d->nslots; a++) {
			n += !d->cover[a];
			d->cover[a] = 1;
		}
	}
	return n;
}

/*
 * Count the step's requests, and check the slots: of a write step, the
 * pages' slots after it (@slot); of a read step, the slots they had
 * before (@slot) against the requests' sectors.
 */
void swap_match(struct swap_demo *d, struct swap_step *s, int kind,
		const int64_t *slot)
{
	struct swap_check *c = &s->c;
	uint64_t i, covered;
	size_t k;

	for (k = 0; k < s->t.n; k++) {
		const struct shikumi_blk_trace *r = &s->t.r[k];

		s->reads += r->op == SHIKUMI_BLK_OP_READ;
		s->writes += r->op == SHIKUMI_BLK_OP_WRITE;
		s->swap_flag += !!(r->flags & SHIKUMI_BLK_F_SWAP);
		s->by_us += r->pid == d->pid;
	}
	s->write_slots = cover_slots(d, &s->t, SHIKUMI_BLK_OP_WRITE);
	memset(d->cover, 0, d->nslots);
	s->read_slots = cover_slots(d, &s->t, SHIKUMI_BLK_OP_READ);
	memset(d->cover, 0, d->nslots);
	c->kind = kind;
	covered = cover_slots(d, &s->t, kind == CHECK_WRITE ? SHIKUMI_BLK_OP_WRITE :
			      SHIKUMI_BLK_OP_READ);
	for (i = 0; i < d->pages; i++) {
		if (slot[i] < 0)
			continue;
		c->pages++;
		c->same_slot += slot[i] == d->slot_out[i];
		if ((uint64_t)slot[i] < d->nslots && d->cover[slot[i]]) {
			c->matched++;
			d->cover[slot[i]] = 2;	/* a page's: not stray */
		} else {
			c->unmatched++;
		}
	}
	c->stray = covered;
	for (i = 0; i < d->nslots; i++)
		c->stray -= d->cover[i] == 2;
	memset(d->cover, 0, d->nslots);
}

/* ---- text ----------------------------------------------------------------------- */

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static const char *const check_names[] = { "-", "write", "read" };

static void outside_row(const struct swap_step *s)
{
	const struct swap_snap *a = &s->a, *b = &s->b;

	printf("  %-22s %8.1f %9lld %9lld %10lld %+8lld %+8lld %+8lld %8lld %8lld %+7lld %+7lld\n",
	       s->label, ms(s->ns), b->swap_total_kb - b->swap_free_kb, b->swap_free_kb,
	       b->swap_cached_kb,
	       b->pswpout - a->pswpout, b->pswpin - a->pswpin, b->pgmajfault - a->pgmajfault,
	       b->vmswap_kb, b->vmrss_kb, b->majflt - a->majflt, b->minflt - a->minflt);
}

static void inside_row(const struct swap_step *s)
{
	const struct swap_check *c = &s->c;

	printf("  %-22s %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64
	       " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " | %-5s %6" PRIu64 " %7" PRIu64
	       " %9" PRIu64 " %5" PRIu64 " %6" PRIu64 "\n", s->label, s->v.present, s->v.swap,
	       s->v.other_swap + s->v.other, s->writes, s->write_slots, s->reads, s->read_slots,
	       s->swap_flag, check_names[c->kind], c->pages, c->matched, c->unmatched,
	       c->stray, c->same_slot);
}

/* Who sent the step's requests: op, pid, comm, at most SENDERS_MAX. */
static void senders_row(const struct swap_demo *d, const struct swap_step *s)
{
	const struct shikumi_blk_trace *seen[SENDERS_MAX];
	uint64_t count[SENDERS_MAX], slots[SENDERS_MAX];
	size_t i, k, n = 0;

	for (i = 0; i < s->t.n; i++) {
		const struct shikumi_blk_trace *r = &s->t.r[i];

		for (k = 0; k < n; k++)
			if (seen[k]->op == r->op && seen[k]->pid == r->pid &&
			    !strncmp(seen[k]->comm, r->comm, sizeof(r->comm)))
				break;
		if (k == n && n == SENDERS_MAX)
			continue;
		if (k == n) {
			seen[n] = r;
			count[n] = 0;
			slots[n] = 0;
			n++;
		}
		count[k]++;
		slots[k] += (r->bytes + PGC_PAGE - 1) / PGC_PAGE;
	}
	for (k = 0; k < n; k++) {
		char flags[128];

		flags_text(flags, sizeof(flags), seen[k]->flags);
		printf("  %-22s %-5s %5" PRIu64 " x, %6" PRIu64 " slots, from %d %.16s%s (%s)\n",
		       k ? "" : s->label, OP_NAME(seen[k]->op), count[k], slots[k],
		       seen[k]->pid, seen[k]->comm, seen[k]->pid == d->pid ? " (the demo)" : "",
		       flags);
	}
}

/* How the first page-out laid the pages out: slots and runs. */
static void layout_text(const struct swap_demo *d)
{
	int64_t lo = -1, hi = -1;
	uint64_t i, runs = 0, n = 0;

	for (i = 0; i < d->pages; i++) {
		int64_t o = d->slot_out[i];

		if (o < 0)
			continue;
		n++;
		lo = lo < 0 || o < lo ? o : lo;
		hi = o > hi ? o : hi;
		runs += !i || d->slot_out[i - 1] < 0 || d->slot_out[i - 1] + 1 != o;
	}
	printf("\nthe first page-out put %" PRIu64 " of %" PRIu64 " pages in slots %lld-%lld"
	       " (sectors %lld-%lld of %s) in %" PRIu64 " run(s) of consecutive slots\n",
	       n, d->pages, (long long)lo, (long long)hi, (long long)lo * 8,
	       (long long)hi * 8 + 7, d->disk, runs);
}

static void report_text(const struct swap_demo *d)
{
	int i;

	printf("shikumi cache demo swap: %" PRIu64 " KiB of anonymous memory at 0x%llx in pid %d, swap area %s (type %d%s)\n\n",
	       d->size / 1024, U(d->base), (int)d->pid,
	       d->path, d->type, d->made_it ? ", made by the demo" : "");
	printf("outside: free and /proc/meminfo (kB, after), sar -B (/proc/vmstat, changes), the process (kB after; faults: changes)\n");
	printf("  %-22s %8s %9s %9s %10s %8s %8s %8s %8s %8s %7s %7s\n", "step", "ms",
	       "SwapUsed", "SwapFree", "SwapCached", "pswpout", "pswpin", "majflt", "VmSwap",
	       "VmRSS", "ru_maj", "ru_min");
	for (i = 0; i < d->nstep; i++)
		outside_row(&d->step[i]);
	printf("\ninside: the region's PTEs (shikumi_ptdump), the disk's requests (shikumi_ramdisk), the slots checked\n");
	printf("  %-22s %7s %6s %6s %6s %6s %6s %6s %6s | %-5s %6s %7s %9s %5s %6s\n", "step",
	       "present", "swap", "other", "writes", "wslots", "reads", "rslots", "swapfl",
	       "check", "pages", "matched", "unmatched", "stray", "same");
	for (i = 0; i < d->nstep; i++)
		inside_row(&d->step[i]);
	printf("  (check: the pages' slots against the step's requests; same: in the slot of the first page-out;\n"
	       "   a page found in the swap cache is not read, and a clean one dropped from it is not written)\n");
	printf("\nrequests by sender (op, count, 4 KiB slots, pid, comm, flags)\n");
	for (i = 0; i < d->nstep; i++)
		senders_row(d, &d->step[i]);
	layout_text(d);
	printf("MADV_PAGEOUT calls: %d, then %d; pages read back unchanged: %" PRIu64
	       " from the swap cache, %" PRIu64 " after the swap-in\n", d->step[1].tries,
	       d->step[3].tries, d->step[2].intact, d->step[4].intact);
	for (i = 0; i < d->nstep; i++)
		if (d->step[i].dropped)
			printf("the trace had no room for %" PRIu64 " records in step '%s': its counts are short (a smaller --size, or load shikumi_ramdisk with a larger trace_entries)\n",
			       d->step[i].dropped, d->step[i].label);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_outside(struct json *j, const struct swap_step *s)
{
	const struct swap_snap *a = &s->a, *b = &s->b;

	json_object_begin(j, "outside");
	json_i64(j, "swap_total_kb", b->swap_total_kb);
	json_i64(j, "swap_free_kb", b->swap_free_kb);
	json_i64(j, "swap_used_kb", b->swap_total_kb - b->swap_free_kb);
	json_i64(j, "swap_free_kb_delta", b->swap_free_kb - a->swap_free_kb);
	json_i64(j, "swap_cached_kb", b->swap_cached_kb);
	json_i64(j, "pswpout_delta", b->pswpout - a->pswpout);
	json_i64(j, "pswpin_delta", b->pswpin - a->pswpin);
	json_i64(j, "pgmajfault_delta", b->pgmajfault - a->pgmajfault);
	json_i64(j, "vmswap_kb", b->vmswap_kb);
	json_i64(j, "vmrss_kb", b->vmrss_kb);
	json_i64(j, "ru_majflt_delta", b->majflt - a->majflt);
	json_i64(j, "ru_minflt_delta", b->minflt - a->minflt);
	json_object_end(j);
}

static void json_inside(struct json *j, const struct swap_step *s)
{
	const struct swap_check *c = &s->c;

	json_object_begin(j, "ptes");
	json_u64(j, "present", s->v.present);
	json_u64(j, "swap", s->v.swap);
	json_u64(j, "swap_other_type", s->v.other_swap);
	json_u64(j, "other", s->v.other);
	json_u64(j, "none", s->v.none);
	json_object_end(j);
	json_object_begin(j, "requests");
	json_u64(j, "writes", s->writes);
	json_u64(j, "reads", s->reads);
	json_u64(j, "swap_flag", s->swap_flag);
	json_u64(j, "trace_dropped", s->dropped);
	json_u64(j, "by_demo", s->by_us);
	json_u64(j, "slots_written", s->write_slots);
	json_u64(j, "slots_read", s->read_slots);
	json_object_end(j);
	json_object_begin(j, "check");
	json_string(j, "kind", check_names[c->kind]);
	json_u64(j, "pages", c->pages);
	json_u64(j, "matched", c->matched);
	json_u64(j, "unmatched", c->unmatched);
	json_u64(j, "stray_slots", c->stray);
	json_u64(j, "same_slot_as_pageout", c->same_slot);
	json_object_end(j);
}

static void json_slots(struct json *j, const char *key, const int64_t *slot,
		       uint64_t n)
{
	uint64_t i;

	json_array_begin(j, key);
	for (i = 0; i < n; i++)
		json_i64(j, NULL, slot[i]);
	json_array_end(j);
}

static void report_json(const struct swap_demo *d)
{
	struct json *j = json_stdout();
	int i;

	json_object_begin(j, NULL);
	json_string(j, "demo", "swap");
	json_string(j, "device", d->path);
	json_string(j, "disk", d->disk);
	json_i64(j, "swap_type", d->type);
	json_bool(j, "made_swap", d->made_it);
	json_i64(j, "pid", d->pid);
	json_u64(j, "addr", d->base);
	json_u64(j, "size", d->size);
	json_u64(j, "pages", d->pages);
	json_u64(j, "device_slots", d->nslots);
	json_array_begin(j, "steps");
	for (i = 0; i < d->nstep; i++) {
		const struct swap_step *s = &d->step[i];

		json_object_begin(j, NULL);
		json_string(j, "step", s->key);
		json_string(j, "label", s->label);
		json_u64(j, "ns", s->ns);
		json_double(j, "ms", ms(s->ns));
		if (s->tries)
			json_i64(j, "madv_pageout_calls", s->tries);
		if (s->c.kind == CHECK_READ)
			json_u64(j, "pages_intact", s->intact);
		json_outside(j, s);
		json_inside(j, s);
		json_object_end(j);
	}
	json_array_end(j);
	json_slots(j, "slots_pageout", d->slot_out, d->pages);
	json_slots(j, "slots_pageout_again", d->slot_again, d->pages);
	json_object_end(j);
	json_free(j);
}

int swap_report(const struct swap_demo *d)
{
	if (opt_json)
		report_json(d);
	else
		report_text(d);
	return 0;
}

/* ---- SVG --------------------------------------------------------------------------- */

/* Each page's slot after the two page-outs, against its index. */
int swap_svg(const struct swap_demo *d)
{
	struct plot_series ser[2] = {
		{ "slot written by the first page-out", NULL, NULL, 0, false },
		{ "slot after the second (read by the swap-in)", NULL, NULL, 0, false },
	};
	struct plot p = { "each page's swap slot", "page of the region", "slot on the device",
			  false, false, ser, 2 };
	double *v = calloc(4 * d->pages + 1, sizeof(double));
	const int64_t *slot[2] = { d->slot_out, d->slot_again };
	uint64_t i;
	int k, ret;

	if (!v) {
		p_err("out of memory");
		return -1;
	}
	for (k = 0; k < 2; k++) {
		double *x = v + 2 * k * d->pages, *y = x + d->pages;

		for (i = 0; i < d->pages; i++) {
			if (slot[k][i] < 0)
				continue;
			x[ser[k].n] = (double)i;
			y[ser[k].n++] = (double)slot[k][i];
		}
		ser[k].x = x;
		ser[k].y = y;
	}
	ret = write_svg(d->svg, "shikumi cache demo swap: pages and their slots", &p);
	free(v);
	return ret;
}
