/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi pt: the family's private header.  What the pt files share: the
 * paths and size macros, the structs that cross a file, and the prototypes
 * of the functions one pt file calls in another.  Each file's own helpers
 * stay static in it.
 */
#ifndef SHIKUMI_PT_H
#define SHIKUMI_PT_H

#include <sys/types.h>

#include <shikumi/ptdump.h>

#include "shikumi.h"

#define PT_MODULE	"shikumi_ptdump"
#define PT_DUMP		SHIKUMI_DEBUGFS "/ptdump/dump"
#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"

#define SZ_4K		0x1000ULL
#define SZ_2M		0x200000ULL
#define SZ_1G		0x40000000ULL
#define MIB		(1024ULL * 1024)

/* pt.c: the ptdump access layer and the decoders */

struct pt_dump {
	struct shikumi_pt_rec *r;
	size_t n, cap;
	pid_t pid;
	bool exited;
};

struct pt_stats {
	uint64_t tables[SHIKUMI_PT_LEVELS];
	uint64_t leaves[SHIKUMI_PT_LEVELS];
	uint64_t kept;		/* PTE tables deposited under huge PMDs */
	unsigned int levels;
	uint32_t hflags;
};

extern const char *const level_names[SHIKUMI_PT_LEVELS];
const char *level_name(unsigned int level);
unsigned int paging_levels(const struct shikumi_pt_rec *h);
uint64_t level_size(unsigned int level, bool la57);
const char *size_str(uint64_t bytes, char *buf, size_t size);
const char *bits_str(uint32_t f, char *buf, size_t size);
const char *page_str(uint32_t f, char *buf, size_t size);
void json_flags(struct json *j, const char *key, uint32_t f);
const char *np_kind_name(uint32_t f);
bool np_has_pfn(uint32_t f);
const char *np_str(uint32_t f, bool with_val, uint64_t val, char *buf, size_t size);
void json_np(struct json *j, uint32_t f, uint64_t val);

/*
 * The entry's own bits among a record's flags: a NONPRESENT record's
 * higher bits are its kind and swap type, not page flags.
 */
static inline uint32_t entry_bits(uint8_t type, uint32_t f)
{
	return type == SHIKUMI_PT_REC_NONPRESENT ?
	       f & ((1U << SHIKUMI_PT_F_NP_KIND_SHIFT) - 1) : f;
}

void json_hex(struct json *j, const char *key, uint64_t v);
const char *vma_kind(uint32_t vf);
void vma_perms(uint32_t vf, char *s);
int parse_pid(const char *s, pid_t *pid);
void pt_dump_free(struct pt_dump *d);
int pt_open(void);
int pt_query(int fd, pid_t pid, const char *query, const char *what);
int pt_check(struct pt_dump *d, const char *src);
int pt_fetch(pid_t pid, const char *view, const char *extra,
	     const char *what, struct pt_dump *d);
int fetch_range(pid_t pid, const char *view, const char *range,
		struct pt_dump *d);
int fetch_span(pid_t pid, const char *view, uint64_t a, uint64_t b,
	       struct pt_dump *d);
int pt_get_stats(pid_t pid, const char *range, struct pt_stats *st);
uint64_t stats_tables(const struct pt_stats *st);
void flag_delta(uint32_t a, uint32_t b, char *buf, size_t size);

/* pt-marks.c: ELF marks, for dump */

struct elf_file {
	char *path;
	struct elf_info ei;
	int err;		/* why it could not be read, or 0 */
	bool have_bias;
	uint64_t bias;		/* runtime address - link-time address */
};

struct mark {
	const char *name;
	const struct elf_file *file;
	uint64_t start, end;
};

struct elfset {
	struct elf_file *f;
	size_t nf;
	struct mark *m;
	size_t nm;
};

void elfset_free(struct elfset *es);
const char *elf_kind_str(const struct elf_file *ef);
const char *base_name(const char *path);
int elfset_build(pid_t pid, const struct maps *mp, bool all,
		 struct elfset *es);
bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1);
const struct elf_file *elfset_file(const struct elfset *es,
				   const struct map_ent *me);
int vma_segment(const struct elf_file *ef, const struct map_ent *me);
void seg_flags(uint32_t pf, char *s);
void json_elf_files(struct json *j, const struct elfset *es);

/* pt-dump.c: dump */

void json_header(struct json *j, const struct shikumi_pt_rec *h,
		 const char *comm);
int pt_dump_cmd(int argc, char **argv);

/* pt-translate.c: translate */

struct xlate {
	int result;		/* LEAF, EMPTY, NONPRESENT, or 0: nothing found */
	uint64_t pfn, page_size, phys;
	uint32_t flags;
};

void xlate_render(const struct pt_dump *d, uint64_t addr, struct json *j,
		  const char *indent, struct xlate *x);
int pt_translate(pid_t pid, uint64_t addr, struct pt_dump *d);
int pt_translate_cmd(int argc, char **argv);

/* pt-stats.c: stats */

int pt_stats_cmd(int argc, char **argv);

/* pt-snap.c: snapshot and diff */

struct entry {
	uint64_t va, pfn, raw;
	uint64_t np;		/* NONPRESENT: the swap offset, PFN or markers */
	uint32_t flags;
	uint8_t type, level;
};

int pt_snapshot_cmd(int argc, char **argv);
struct entry *entries_of(const struct pt_dump *d, size_t *n);
int pt_diff_cmd(int argc, char **argv);

/* pt-worker.c: the experiments' worker process */

/*
 * The experiments run their workload in a child of shikumi that does only
 * what it is told through a pipe, so that its address space changes only
 * when the experiment says so.
 */
enum { W_MMAP = 1, W_MADVISE, W_TOUCH, W_MUNMAP };

#define WM_SHARED	1
#define WM_NORESERVE	2

struct worker {
	pid_t pid;
	int req, rep;
};

/* Leaves in [a, b) of @pid: 4K and 2M counts; optionally the entries. */
struct leafcount {
	uint64_t pte, pmd, pud, nonpresent;
};

void touch(uint64_t addr, uint64_t len, uint64_t step, bool write);
uint64_t map_aligned(uint64_t len, uint64_t align, int wflags, int *err);
int worker_start(struct worker *w);
uint64_t worker_do(struct worker *w, uint32_t op, int arg, uint64_t addr,
		   uint64_t len, uint64_t step, uint64_t align);
int worker_warm_up(struct worker *w);
void worker_stop(struct worker *w);
int need_root(void);
void thp_setting(const char *file, char *buf, size_t size);
int count_leaves(pid_t pid, uint64_t a, uint64_t b, struct leafcount *lc,
		 struct entry **ents, size_t *n);
int write_svg_file(const char *path, const char *title,
		   const struct plot *panels, size_t n);

/* pt-demo.c: the demos and their table */

int pt_demo(int argc, char **argv);

/* pt-demo-cow.c: the cow demo */

int demo_cow(int argc, char **argv);

/* pt-bench.c: the benchmark */

int pt_bench_cmd(int argc, char **argv);

#endif /* SHIKUMI_PT_H */
