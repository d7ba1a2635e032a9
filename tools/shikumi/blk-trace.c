// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi blk trace: drain the driver's per-request trace (debugfs
 * trace_raw), save and load it as a file, and print it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blk.h"

/* ---- trace --------------------------------------------------------------- */

#define DRAIN_CHUNK	4096	/* records per read */

int trace_reserve(struct trace_buf *t, size_t more)
{
	struct shikumi_blk_trace *nr;
	size_t cap = t->cap ? t->cap : DRAIN_CHUNK;

	while (cap < t->n + more)
		cap *= 2;
	if (cap == t->cap)
		return 0;
	nr = realloc(t->r, cap * REC_SIZE);
	if (!nr) {
		p_err("out of memory");
		return -1;
	}
	t->r = nr;
	t->cap = cap;
	return 0;
}

void trace_free(struct trace_buf *t)
{
	free(t->r);
	memset(t, 0, sizeof(*t));
}

/* Read trace_raw until it is empty, appending to @t. */
int drain_trace(const char *disk, struct trace_buf *t)
{
	struct blk_stats st = { 0 };
	ssize_t got;
	int fd, ret = 0;

	if (!read_stats(disk, &st) && st.trace_record_bytes &&
	    st.trace_record_bytes != REC_SIZE) {
		p_err("%s's trace records are %llu bytes, this tool's %zu: the module and the tool are from different versions",
		      disk, (unsigned long long)st.trace_record_bytes, REC_SIZE);
		return -1;
	}
	fd = dbg_open(disk, "trace_raw");
	if (fd < 0)
		return -1;
	for (;;) {
		if (trace_reserve(t, DRAIN_CHUNK)) {
			ret = -1;
			break;
		}
		got = read(fd, t->r + t->n, DRAIN_CHUNK * REC_SIZE);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			p_err("cannot read the trace of %s: %s", disk, strerror(errno));
			ret = -1;
			break;
		}
		if (!got)
			break;
		if (got % REC_SIZE)
			p_warn("trace_raw returned a partial record (%zd bytes); is the module newer than this tool?",
			       got);
		t->n += (size_t)got / REC_SIZE;
	}
	close(fd);
	return ret;
}

int load_trace_file(const char *path, struct trace_buf *t)
{
	size_t len;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	buf = read_all(fd, &len);
	if (!buf)
		p_err("cannot read %s: %s", path, strerror(errno));
	close(fd);
	if (!buf)
		return -1;
	if (len % REC_SIZE)
		p_warn("%s: %zu trailing bytes are not a whole record", path,
		       len % REC_SIZE);
	t->n = len / REC_SIZE;
	t->cap = t->n;
	t->r = (struct shikumi_blk_trace *)buf;
	return 0;
}

int save_trace_file(const char *path, const struct shikumi_blk_trace *r,
		    size_t n)
{
	FILE *f = fopen(path, "we");
	int ret = 0;

	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	if (n && fwrite(r, REC_SIZE, n, f) != n)
		ret = -1;
	if (fclose(f))
		ret = -1;
	if (ret)
		p_err("cannot write %s: %s", path, strerror(errno));
	return ret;
}

/* Records missing between the ones we have: gaps in seq. */
uint64_t seq_gaps(const struct shikumi_blk_trace *r, size_t n)
{
	uint64_t gaps = 0;
	size_t i;

	for (i = 1; i < n; i++)
		if (r[i].seq > r[i - 1].seq + 1)
			gaps += r[i].seq - r[i - 1].seq - 1;
	return gaps;
}

uint64_t seek_of(const struct shikumi_blk_trace *r)
{
	return r->sector > r->head ? r->sector - r->head : r->head - r->sector;
}

uint64_t first_queued(const struct shikumi_blk_trace *r, size_t n)
{
	uint64_t t0 = n ? r[0].queued_ns : 0;
	size_t i;

	for (i = 1; i < n; i++)
		if (r[i].queued_ns < t0)
			t0 = r[i].queued_ns;
	return t0;
}

double rel_ms(uint64_t t, uint64_t t0)
{
	return t >= t0 ? (double)(t - t0) / 1e6 : -(double)(t0 - t) / 1e6;
}

/* "sync,meta", or "-" for none, as the module's text trace */
void flags_text(char *buf, size_t size, uint32_t flags)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < SHIKUMI_BLK_NR_FLAGS; i++)
		if (flags & (1U << i) && n < size)
			n += snprintf(buf + n, size - n, "%s%s", n ? "," : "",
				      flag_names[i]);
	if (!n)
		snprintf(buf, size, "-");
}

static void trace_rec_json(struct json *j, const struct shikumi_blk_trace *r,
			   uint64_t t0)
{
	char comm[sizeof(r->comm) + 1];
	int i;

	json_object_begin(j, NULL);
	json_u64(j, "seq", r->seq);
	json_u64(j, "queued_ns", r->queued_ns);
	json_u64(j, "dispatched_ns", r->dispatched_ns);
	json_u64(j, "completed_ns", r->completed_ns);
	json_double(j, "queued_ms", rel_ms(r->queued_ns, t0));
	json_double(j, "dispatched_ms", rel_ms(r->dispatched_ns, t0));
	json_double(j, "completed_ms", rel_ms(r->completed_ns, t0));
	json_string(j, "op", OP_NAME(r->op));
	json_u64(j, "sector", r->sector);
	json_u64(j, "bytes", r->bytes);
	json_u64(j, "head", r->head);
	json_u64(j, "seek", seek_of(r));
	json_string(j, "policy", POLICY_NAME(r->policy));
	json_string(j, "model", MODEL_NAME(r->model));
	json_u64(j, "error", r->error);
	json_u64(j, "merged", r->merged);
	json_i64(j, "pid", r->pid);
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(r->comm), r->comm);
	json_string(j, "comm", comm);
	json_array_begin(j, "flags");
	for (i = 0; i < SHIKUMI_BLK_NR_FLAGS; i++)
		if (r->flags & (1U << i))
			json_string(j, NULL, flag_names[i]);
	json_array_end(j);
	json_object_end(j);
}

/* The task's name is last: it may hold spaces. */
static void trace_rec_text(const struct shikumi_blk_trace *r, uint64_t t0)
{
	char flags[128];

	flags_text(flags, sizeof(flags), r->flags);
	printf("%8llu %11.3f %11.3f %11.3f %-5s %12llu %8u %12llu %12llu %-8s %-5s %7d %-20s %.*s",
	       (unsigned long long)r->seq, rel_ms(r->queued_ns, t0),
	       rel_ms(r->dispatched_ns, t0), rel_ms(r->completed_ns, t0),
	       OP_NAME(r->op), (unsigned long long)r->sector, r->bytes,
	       (unsigned long long)r->head, (unsigned long long)seek_of(r),
	       POLICY_NAME(r->policy), MODEL_NAME(r->model), r->pid, flags,
	       (int)sizeof(r->comm), r->comm);
	if (r->error)
		printf(" error %s", strerror(r->error));
	printf("\n");
}

static void trace_print(const char *disk, const struct trace_buf *t,
			uint64_t gaps, const struct blk_stats *st)
{
	uint64_t t0 = first_queued(t->r, t->n);
	struct json *j;
	size_t i;

	if (!opt_json) {
		printf("%8s %11s %11s %11s %-5s %12s %8s %12s %12s %-8s %-5s %7s %-20s %s\n",
		       "SEQ", "QUEUED_MS", "DISP_MS", "DONE_MS", "OP", "SECTOR",
		       "BYTES", "HEAD", "SEEK", "POLICY", "MODEL", "PID", "FLAGS",
		       "COMM");
		for (i = 0; i < t->n; i++)
			trace_rec_text(&t->r[i], t0);
		return;
	}
	j = json_stdout();
	json_object_begin(j, NULL);
	json_string(j, "disk", disk);
	json_u64(j, "records", t->n);
	json_u64(j, "seq_gaps", gaps);
	json_u64(j, "trace_dropped", st ? st->trace_dropped : 0);
	json_u64(j, "t0_ns", t0);
	json_array_begin(j, "trace");
	for (i = 0; i < t->n; i++)
		trace_rec_json(j, &t->r[i], t0);
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

static const struct cmd_help trace_help = {
	.usage = "[-d NAME] [-o FILE] [--json]",
	.summary = "Drain the driver's trace: every request served since the last drain,\n"
		   "in completion order.  Reading consumes it.  Needs root (debugfs).",
	.details = "Times are milliseconds after the first request's queueing; SEEK is\n"
		   "|sector - head| at dispatch.  PID and COMM name the task that submitted\n"
		   "the request's first bio (blktrace's queue event); FLAGS are the request's\n"
		   "(sync, meta, prio, readahead, background, fua, preflush, swap, idle,\n"
		   "nowait).  -o FILE writes the raw records (struct\n"
		   "shikumi_blk_trace, native byte order, no header) instead of the table;\n"
		   "'shikumi blk plot --from FILE' plots them.",
};

int blk_trace(int argc, char **argv)
{
	const char *disk_s = DEFAULT_DISK, *out = NULL;
	const struct opt opts[] = {
		DISK_OPT(&disk_s),
		OPT_STR('o', "output", &out, "FILE", "write the raw records to FILE"),
		OPT_FINISH(),
	};
	struct trace_buf t = { 0 };
	struct blk_stats st;
	bool have_st;
	uint64_t gaps;
	char disk[64];
	int first, ret;

	first = parse_options(argc, argv, opts, &trace_help);
	if (first < argc)
		return usage_error(&trace_help, "unexpected argument '%s'", argv[first]);
	ret = need_disk(disk_s, disk, sizeof(disk), &trace_help);
	if (ret)
		return ret;
	if (drain_trace(disk, &t)) {
		trace_free(&t);
		return EXIT_FAIL;
	}
	have_st = !read_stats(disk, &st);
	gaps = seq_gaps(t.r, t.n);
	if (!out) {
		trace_print(disk, &t, gaps, have_st ? &st : NULL);
	} else if (save_trace_file(out, t.r, t.n)) {
		ret = EXIT_FAIL;
	} else if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_string(j, "disk", disk);
		json_string(j, "file", out);
		json_u64(j, "records", t.n);
		json_u64(j, "seq_gaps", gaps);
		json_u64(j, "trace_dropped", have_st ? st.trace_dropped : 0);
		json_object_end(j);
		json_free(j);
	}
	if (!opt_json)
		fprintf(out ? stdout : stderr,
			"%zu records%s%s; %llu missing in gaps of seq; trace_dropped %llu since the last reset\n",
			t.n, out ? " written to " : "", out ? out : "",
			(unsigned long long)gaps,
			(unsigned long long)(have_st ? st.trace_dropped : 0));
	trace_free(&t);
	return ret;
}
