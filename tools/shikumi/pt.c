// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt: the access layer of shikumi_ptdump's debugfs file (open,
 * query, fetch the raw records, the statistics view) and the decoders
 * the reports share: levels, sizes, flags, VMA kinds and the arguments.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pt.h"

const char *const level_names[SHIKUMI_PT_LEVELS] = {
	"pgd", "p4d", "pud", "pmd", "pte",
};

const char *level_name(unsigned int level)
{
	return level < SHIKUMI_PT_LEVELS ? level_names[level] : "?";
}

/* What one entry of a level maps (x86-64, 4-level or 5-level paging). */
/* The paging depth the HEADER record @h says: 4, or 5 with LA57. */
unsigned int paging_levels(const struct shikumi_pt_rec *h)
{
	return h->flags & SHIKUMI_PT_H_P4D_FOLDED ? 4 : 5;
}

uint64_t level_size(unsigned int level, bool la57)
{
	switch (level) {
	case SHIKUMI_PT_PTE: return SZ_4K;
	case SHIKUMI_PT_PMD: return SZ_2M;
	case SHIKUMI_PT_PUD: return SZ_1G;
	case SHIKUMI_PT_P4D: return 512 * SZ_1G;
	default: return la57 ? 512ULL * 512 * SZ_1G : 512 * SZ_1G;
	}
}

/* "4K", "2M", "1G", "12K", "1.5M" */
const char *size_str(uint64_t bytes, char *buf, size_t size)
{
	if (bytes >= SZ_1G && !(bytes % SZ_1G))
		snprintf(buf, size, "%lluG", U(bytes / SZ_1G));
	else if (bytes >= MIB && !(bytes % MIB))
		snprintf(buf, size, "%lluM", U(bytes / MIB));
	else if (bytes >= 1024 && !(bytes % 1024))
		snprintf(buf, size, "%lluK", U(bytes / 1024));
	else
		snprintf(buf, size, "%lluB", U(bytes));
	return buf;
}

/* ---- flags ---------------------------------------------------------------- */

static const struct {
	uint32_t bit;
	const char *name;
} flag_names[] = {
	{ SHIKUMI_PT_F_PRESENT, "present" },
	{ SHIKUMI_PT_F_WRITE, "write" },
	{ SHIKUMI_PT_F_USER, "user" },
	{ SHIKUMI_PT_F_ACCESSED, "accessed" },
	{ SHIKUMI_PT_F_DIRTY, "dirty" },
	{ SHIKUMI_PT_F_NX, "nx" },
	{ SHIKUMI_PT_F_GLOBAL, "global" },
	{ SHIKUMI_PT_F_HUGE, "huge" },
	{ SHIKUMI_PT_F_SOFT_DIRTY, "soft_dirty" },
	{ SHIKUMI_PT_F_SPECIAL, "special" },
	{ SHIKUMI_PT_F_PROTNONE, "protnone" },
	{ SHIKUMI_PT_F_ANON, "anon" },
	{ SHIKUMI_PT_F_FILE, "file" },
	{ SHIKUMI_PT_F_SHARED, "shared" },
	{ SHIKUMI_PT_F_ZERO, "zero" },
	{ SHIKUMI_PT_F_NOPAGE, "nopage" },
};

#define NFLAGS ARRAY_SIZE(flag_names)

/* The entry's bits, in the columns of arch/x86/mm/dump_pagetables.c. */
const char *bits_str(uint32_t f, char *buf, size_t size)
{
	snprintf(buf, size, "%s %s %s %s %s %s %s%s%s%s%s",
		 f & SHIKUMI_PT_F_WRITE ? "RW" : "ro",
		 f & SHIKUMI_PT_F_USER ? "USR" : "   ",
		 f & SHIKUMI_PT_F_ACCESSED ? "A" : "-",
		 f & SHIKUMI_PT_F_DIRTY ? "D" : "-",
		 f & SHIKUMI_PT_F_HUGE ? "PSE" : "   ",
		 f & SHIKUMI_PT_F_GLOBAL ? "GLB" : "   ",
		 f & SHIKUMI_PT_F_NX ? "NX" : "x ",
		 f & SHIKUMI_PT_F_PRESENT ? "" : " !P",
		 f & SHIKUMI_PT_F_SOFT_DIRTY ? " SD" : "",
		 f & SHIKUMI_PT_F_SPECIAL ? " SPECIAL" : "",
		 f & SHIKUMI_PT_F_PROTNONE ? " PROTNONE" : "");
	return buf;
}

/* What the kernel knows of the page: "anon excl", "file shared", "zero". */
const char *page_str(uint32_t f, char *buf, size_t size)
{
	const char *kind = f & SHIKUMI_PT_F_ZERO ? "zero" :
			   f & SHIKUMI_PT_F_ANON ? "anon" :
			   f & SHIKUMI_PT_F_FILE ? "file" :
			   f & SHIKUMI_PT_F_NOPAGE ? "nopage" : "-";

	if (f & (SHIKUMI_PT_F_ANON | SHIKUMI_PT_F_FILE))
		snprintf(buf, size, "%s %s", kind,
			 f & SHIKUMI_PT_F_SHARED ? "shared" : "excl");
	else
		snprintf(buf, size, "%s", kind);
	return buf;
}

void json_flags(struct json *j, const char *key, uint32_t f)
{
	size_t i;

	json_array_begin(j, key);
	for (i = 0; i < NFLAGS; i++)
		if (f & flag_names[i].bit)
			json_string(j, NULL, flag_names[i].name);
	json_array_end(j);
}

/* ---- non-present entries --------------------------------------------------- */

static const char *const np_kinds[] = SHIKUMI_PT_NP_NAMES;

static const struct {
	uint32_t bit;
	const char *name;
} marker_names[] = {
	{ SHIKUMI_PT_MARK_UFFD_WP, "uffd-wp" },
	{ SHIKUMI_PT_MARK_POISONED, "poisoned" },
	{ SHIKUMI_PT_MARK_GUARD, "guard" },
};

/* The kind of a NONPRESENT record's entry: "swap", "migration-write"... */
const char *np_kind_name(uint32_t f)
{
	uint32_t k = SHIKUMI_PT_NP_KIND(f);

	return k < ARRAY_SIZE(np_kinds) && np_kinds[k] ? np_kinds[k] : "unknown";
}

/* Does the record's pfn hold a PFN (not a swap offset or markers)? */
bool np_has_pfn(uint32_t f)
{
	switch (SHIKUMI_PT_NP_KIND(f)) {
	case SHIKUMI_PT_NP_UNKNOWN:
	case SHIKUMI_PT_NP_SWAP:
	case SHIKUMI_PT_NP_MARKER:
		return false;
	default:
		return true;
	}
}

/*
 * A NONPRESENT record's entry, with @val (its pfn) if @with_val: "swap type 0
 * offset 1234", "migration-write pfn 0x1a2b3", "marker guard"; without,
 * what a run of them shares: "swap type 0", "migration-write".
 */
const char *np_str(uint32_t f, bool with_val, uint64_t val, char *buf, size_t size)
{
	size_t i, n;

	if (SHIKUMI_PT_NP_KIND(f) == SHIKUMI_PT_NP_SWAP) {
		n = (size_t)snprintf(buf, size, "swap type %u",
				     SHIKUMI_PT_NP_SWAP_TYPE(f));
		if (with_val && n < size)
			snprintf(buf + n, size - n, " offset %llu", U(val));
	} else if (SHIKUMI_PT_NP_KIND(f) == SHIKUMI_PT_NP_MARKER) {
		n = (size_t)snprintf(buf, size, "marker");
		for (i = 0; with_val && i < ARRAY_SIZE(marker_names) && n < size; i++)
			if (val & marker_names[i].bit)
				n += (size_t)snprintf(buf + n, size - n, " %s",
						      marker_names[i].name);
	} else if (SHIKUMI_PT_NP_KIND(f) == SHIKUMI_PT_NP_UNKNOWN) {
		snprintf(buf, size, "not present");
	} else if (with_val) {
		snprintf(buf, size, "%s pfn 0x%llx", np_kind_name(f), U(val));
	} else {
		snprintf(buf, size, "%s", np_kind_name(f));
	}
	return buf;
}

/* A NONPRESENT record's entry, as JSON members of the current object. */
void json_np(struct json *j, uint32_t f, uint64_t val)
{
	size_t i;

	json_string(j, "kind", np_kind_name(f));
	switch (SHIKUMI_PT_NP_KIND(f)) {
	case SHIKUMI_PT_NP_SWAP:
		json_u64(j, "swap_type", SHIKUMI_PT_NP_SWAP_TYPE(f));
		json_u64(j, "swap_offset", val);
		break;
	case SHIKUMI_PT_NP_MARKER:
		json_array_begin(j, "markers");
		for (i = 0; i < ARRAY_SIZE(marker_names); i++)
			if (val & marker_names[i].bit)
				json_string(j, NULL, marker_names[i].name);
		json_array_end(j);
		break;
	default:
		break;
	}
}

void json_hex(struct json *j, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", U(v));
	json_string(j, key, buf);
}

const char *vma_kind(uint32_t vf)
{
	switch (vf & SHIKUMI_PT_VMA_KIND) {
	case SHIKUMI_PT_VMA_ANON: return "anon";
	case SHIKUMI_PT_VMA_FILE: return "file";
	case SHIKUMI_PT_VMA_HEAP: return "heap";
	case SHIKUMI_PT_VMA_STACK: return "stack";
	case SHIKUMI_PT_VMA_SPECIAL: return "special";
	default: return "?";
	}
}

void vma_perms(uint32_t vf, char *s)
{
	s[0] = vf & SHIKUMI_PT_VMA_READ ? 'r' : '-';
	s[1] = vf & SHIKUMI_PT_VMA_WRITE ? 'w' : '-';
	s[2] = vf & SHIKUMI_PT_VMA_EXEC ? 'x' : '-';
	s[3] = vf & SHIKUMI_PT_VMA_SHARED ? 's' : 'p';
	s[4] = '\0';
}

void flag_delta(uint32_t a, uint32_t b, char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NFLAGS && n < size; i++) {
		uint32_t bit = flag_names[i].bit;

		if (bit == SHIKUMI_PT_F_WRITE || !((a ^ b) & bit))
			continue;
		n += (size_t)snprintf(buf + n, size - n, " %c%s", b & bit ? '+' : '-',
				      flag_names[i].name);
	}
}

/* ---- arguments ------------------------------------------------------------ */

int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

/* ---- the module ----------------------------------------------------------- */

void pt_dump_free(struct pt_dump *d)
{
	free(d->r);
	memset(d, 0, sizeof(*d));
}

int pt_open(void)
{
	int fd, err;

	fd = open(PT_DUMP, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno;
	explain_debugfs_err(PT_MODULE, "open", PT_DUMP, err, "CAP_SYS_ADMIN");
	return -1;
}

/*
 * Send @query; @what says what the query's values must be, for EINVAL.
 * Prints the error and returns -1 on failure.
 */
int pt_query(int fd, pid_t pid, const char *query, const char *what)
{
	size_t len = strlen(query);
	ssize_t n = write(fd, query, len);
	int err = n < 0 ? errno : EIO;

	if (n == (ssize_t)len)
		return 0;
	switch (err) {
	case ESRCH:
		p_err("no such process: pid %d (%s)", pid, strerror(err));
		break;
	case ENXIO:
		p_err("pid %d is a kernel thread: it has no user address space", pid);
		break;
	case EINVAL:
		p_err("%s refused the query '%s': %s%s%s", PT_MODULE, query,
		      strerror(err), what ? ": " : "", what ? what : "");
		break;
	case EACCES:
	case EPERM:
		p_err("query '%s': %s: needs root (CAP_SYS_ADMIN, and CAP_SYS_PTRACE for another process)",
		      query, strerror(err));
		break;
	default:
		p_err("query '%s': %s", query, strerror(err));
	}
	return -1;
}

static int pt_push(struct pt_dump *d, const struct shikumi_pt_rec *r, size_t n)
{
	if (d->n + n > d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 4096;
		void *p;

		while (cap < d->n + n)
			cap *= 2;
		p = realloc(d->r, cap * sizeof(*d->r));
		if (!p) {
			p_err("out of memory");
			return -1;
		}
		d->r = p;
		d->cap = cap;
	}
	memcpy(d->r + d->n, r, n * sizeof(*r));
	d->n += n;
	return 0;
}

/* Check the stream's first and last records. */
int pt_check(struct pt_dump *d, const char *src)
{
	const struct shikumi_pt_rec *end;

	if (!d->n || d->r[0].type != SHIKUMI_PT_REC_HEADER) {
		p_err("%s: the dump does not start with a HEADER record", src);
		return -1;
	}
	if (d->r[0].index != SHIKUMI_PT_VERSION) {
		p_err("%s: record format version %u, this shikumi reads version %u",
		      src, d->r[0].index, SHIKUMI_PT_VERSION);
		return -1;
	}
	end = &d->r[d->n - 1];
	if (d->n < 2 || end->type != SHIKUMI_PT_REC_END) {
		p_err("%s: the dump ends without its END record (truncated?)", src);
		return -1;
	}
	if (end->count != d->n - 1) {
		p_err("%s: END counts %llu records before it, the stream has %zu",
		      src, U(end->count), d->n - 1);
		return -1;
	}
	d->pid = (pid_t)d->r[0].pid;
	d->exited = end->flags & SHIKUMI_PT_E_EXITED;
	return 0;
}

/*
 * Run one raw query: "pid=PID view=VIEW format=raw EXTRA".  On failure,
 * prints why and returns -1.
 */
int pt_fetch(pid_t pid, const char *view, const char *extra,
	     const char *what, struct pt_dump *d)
{
	struct shikumi_pt_rec buf[1024];
	char query[256];
	int fd, ret = -1;
	ssize_t n;

	memset(d, 0, sizeof(*d));
	fd = pt_open();
	if (fd < 0)
		return -1;
	snprintf(query, sizeof(query), "pid=%d view=%s format=raw%s%s", pid,
		 view, extra ? " " : "", extra ? extra : "");
	if (pt_query(fd, pid, query, what))
		goto out;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			p_err("reading %s: %s", PT_DUMP, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		if (n % sizeof(buf[0])) {
			p_err("reading %s: %zd bytes, not whole records", PT_DUMP, n);
			goto out;
		}
		if (pt_push(d, buf, (size_t)n / sizeof(buf[0])))
			goto out;
	}
	ret = pt_check(d, PT_DUMP);
	if (!ret && d->exited)
		p_warn("pid %d exited during the dump: it ends early", pid);
out:
	close(fd);
	if (ret)
		pt_dump_free(d);
	return ret;
}

#define RANGE_WHAT "the range must be START-END with START < END, in user space"

int fetch_range(pid_t pid, const char *view, const char *range,
		struct pt_dump *d)
{
	char extra[96];

	if (!range)
		return pt_fetch(pid, view, NULL, NULL, d);
	snprintf(extra, sizeof(extra), "range=%s", range);
	return pt_fetch(pid, view, extra, RANGE_WHAT, d);
}

int fetch_span(pid_t pid, const char *view, uint64_t a, uint64_t b,
	       struct pt_dump *d)
{
	char r[64];

	snprintf(r, sizeof(r), "0x%llx-0x%llx", U(a), U(b));
	return fetch_range(pid, view, r, d);
}

/* ---- page-table statistics ---------------------------------------------- */

int pt_get_stats(pid_t pid, const char *range, struct pt_stats *st)
{
	struct pt_dump d;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (fetch_range(pid, "stats", range, &d))
		return -1;
	st->levels = paging_levels(&d.r[0]);
	st->hflags = d.r[0].flags;
	for (i = 0; i < d.n; i++) {
		const struct shikumi_pt_rec *r = &d.r[i];

		if (r->type != SHIKUMI_PT_REC_STATS || r->level >= SHIKUMI_PT_LEVELS)
			continue;
		st->tables[r->level] = r->count;
		st->leaves[r->level] = r->leaves;
		if (r->level == SHIKUMI_PT_PTE)
			st->kept = r->flags;
	}
	pt_dump_free(&d);
	return 0;
}

uint64_t stats_tables(const struct pt_stats *st)
{
	uint64_t n = 0;
	int l;

	for (l = 0; l < SHIKUMI_PT_LEVELS; l++)
		n += st->tables[l];
	return n;
}
