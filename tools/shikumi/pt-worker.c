// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt demo: the experiments' worker process, a child that maps,
 * advises, touches and unmaps memory when told through a pipe, and the
 * helpers the experiments share (leaf counts, THP settings, SVG files).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pt.h"

/* ---- the experiments: a worker process ------------------------------------ */

struct wreq {
	uint32_t op;
	int32_t arg;
	uint64_t addr, len, step, align;
};

struct wrep {
	int32_t err;
	uint64_t addr;
};

void touch(uint64_t addr, uint64_t len, uint64_t step, bool write)
{
	uint64_t a;

	for (a = addr; a < addr + len; a += step) {
		if (write)
			*(volatile char *)(uintptr_t)a = 1;
		else
			(void)*(volatile char *)(uintptr_t)a;
	}
}

uint64_t map_aligned(uint64_t len, uint64_t align, int wflags, int *err)
{
	int flags = (wflags & WM_SHARED ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
		    (wflags & WM_NORESERVE ? MAP_NORESERVE : 0);
	uint64_t extra = align > SZ_4K ? align : 0, a, start;
	void *p;

	p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		*err = errno;
		return 0;
	}
	a = (uint64_t)(uintptr_t)p;
	start = extra ? (a + align - 1) & ~(align - 1) : a;
	if (start > a)
		munmap(p, start - a);
	if (a + len + extra > start + len)
		munmap((void *)(uintptr_t)(start + len), a + len + extra - start - len);
	*err = 0;
	return start;
}

static void worker_serve(int req, int rep)
{
	struct wreq q;
	struct wrep r;

	while (read(req, &q, sizeof(q)) == sizeof(q)) {
		memset(&r, 0, sizeof(r));
		switch (q.op) {
		case W_MMAP:
			r.addr = map_aligned(q.len, q.align, q.arg, &r.err);
			break;
		case W_MADVISE:
			if (madvise((void *)(uintptr_t)q.addr, q.len, q.arg))
				r.err = errno;
			break;
		case W_TOUCH:
			touch(q.addr, q.len, q.step, q.arg);
			break;
		case W_MUNMAP:
			if (munmap((void *)(uintptr_t)q.addr, q.len))
				r.err = errno;
			break;
		default:
			r.err = EINVAL;
		}
		if (write(rep, &r, sizeof(r)) != sizeof(r))
			break;
	}
	_exit(0);
}

/* The child: fd[0] and fd[1] are its ends of the pipes, fd[2..3] ours */
static void worker_main(int index, void *arg)
{
	const int *fd = arg;

	(void)index;
	close(fd[2]);
	close(fd[3]);
	worker_serve(fd[0], fd[1]);
}

int worker_start(struct worker *w)
{
	int a[2], b[2], fd[4];
	struct spawn how = { .die_with_parent = true, .fn = worker_main, .arg = fd };
	struct child c;

	w->pid = 0;
	if (pipe2(a, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(b, O_CLOEXEC)) {
		p_err("pipe: %s", strerror(errno));
		goto close_a;
	}
	fd[0] = a[0];
	fd[1] = b[1];
	fd[2] = a[1];
	fd[3] = b[0];
	if (spawn(&how, &c))
		goto close_b;
	close(a[0]);
	close(b[1]);
	w->pid = c.pid;
	w->req = a[1];
	w->rep = b[0];
	return 0;

close_b:
	close(b[0]);
	close(b[1]);
close_a:
	close(a[0]);
	close(a[1]);
	return -1;
}

/*
 * Run each kind of request once, so that the child's own first touches of
 * its stack and code (copy-on-write faults after fork) are over before an
 * experiment takes its first measurement.
 */
int worker_warm_up(struct worker *w)
{
	uint64_t a = worker_do(w, W_MMAP, 0, 0, SZ_4K, 0, SZ_2M);

	if (!a || !worker_do(w, W_MADVISE, MADV_NOHUGEPAGE, a, SZ_4K, 0, 0) ||
	    !worker_do(w, W_TOUCH, 1, a, SZ_4K, SZ_4K, 0) ||
	    !worker_do(w, W_MUNMAP, 0, a, SZ_4K, 0, 0)) {
		p_err("the child process: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void worker_stop(struct worker *w)
{
	if (w->pid <= 0)
		return;
	close(w->req);
	close(w->rep);
	waitpid(w->pid, NULL, 0);
	w->pid = 0;
}

/* Run one request; returns the reply's address, or 0 with errno set. */
uint64_t worker_do(struct worker *w, uint32_t op, int arg, uint64_t addr,
		   uint64_t len, uint64_t step, uint64_t align)
{
	struct wreq q = { op, arg, addr, len, step, align };
	struct wrep r;

	if (write(w->req, &q, sizeof(q)) != sizeof(q) ||
	    read(w->rep, &r, sizeof(r)) != sizeof(r)) {
		errno = EPIPE;
		return 0;
	}
	if (r.err) {
		errno = r.err;
		return 0;
	}
	return r.addr ? r.addr : 1;
}

int need_root(void)
{
	int fd = pt_open();

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

void thp_setting(const char *file, char *buf, size_t size)
{
	char p[128], raw[128], *l, *r;

	snprintf(p, sizeof(p), THP_DIR "/%s", file);
	if (read_file_str(p, raw, sizeof(raw))) {
		snprintf(buf, size, "absent");
		return;
	}
	l = strchr(raw, '[');
	r = l ? strchr(l, ']') : NULL;
	if (!l || !r) {
		snprintf(buf, size, "%s", raw);
		return;
	}
	*r = '\0';
	snprintf(buf, size, "%s", l + 1);
}

int count_leaves(pid_t pid, uint64_t a, uint64_t b, struct leafcount *lc,
		 struct entry **ents, size_t *n)
{
	struct pt_dump d;
	size_t i;

	memset(lc, 0, sizeof(*lc));
	if (fetch_span(pid, "full", a, b, &d))
		return -1;
	for (i = 0; i < d.n; i++) {
		const struct shikumi_pt_rec *r = &d.r[i];

		if (r->type == SHIKUMI_PT_REC_NONPRESENT)
			lc->nonpresent++;
		if (r->type != SHIKUMI_PT_REC_LEAF)
			continue;
		if (r->level == SHIKUMI_PT_PTE)
			lc->pte++;
		else if (r->level == SHIKUMI_PT_PMD)
			lc->pmd++;
		else if (r->level == SHIKUMI_PT_PUD)
			lc->pud++;
	}
	if (ents) {
		*ents = entries_of(&d, n);
		if (!*ents) {
			p_err("out of memory");
			pt_dump_free(&d);
			return -1;
		}
	}
	pt_dump_free(&d);
	return 0;
}

int write_svg_file(const char *path, const char *title,
		   const struct plot *panels, size_t n)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f) {
		p_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	ret = svg_write_plots(f, title, panels, n);
	if (fclose(f) || ret) {
		p_err("cannot write %s", path);
		return -1;
	}
	return 0;
}
