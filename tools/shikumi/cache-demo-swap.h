/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi cache demo swap: what its two files share (cache-demo-swap.c,
 * the swap device and the steps; cache-demo-swap-report.c, the views, the
 * cross-checks and the report).
 */
#ifndef SHIKUMI_CACHE_DEMO_SWAP_H
#define SHIKUMI_CACHE_DEMO_SWAP_H

#include <sys/types.h>

#include "cache-demo.h"
#include "pt.h"

#define SWAP_STEPS	6

/* the outside view at one moment: free, sar -B, the demo's own counters */
struct swap_snap {
	long long swap_total_kb, swap_free_kb, swap_cached_kb;	/* /proc/meminfo */
	long long pswpin, pswpout, pgmajfault;		/* /proc/vmstat */
	long long vmswap_kb, vmrss_kb;			/* /proc/self/status */
	long long majflt, minflt;			/* getrusage() */
};

/* the region's PTEs, by what they hold */
struct swap_ptes {
	uint64_t present, swap, other_swap, other, none;
};

/* what a step's requests say of the region's pages */
enum { CHECK_NONE, CHECK_WRITE, CHECK_READ };

struct swap_check {
	int kind;		/* CHECK_WRITE: the pages' slots after the step */
				/* CHECK_READ: the pages' slots before it */
	uint64_t pages;		/* pages with a slot on the device */
	uint64_t matched;	/* ... that a swap request of the step covered */
	uint64_t unmatched;	/* ... that none did */
	uint64_t stray;		/* slots the requests covered that no page has */
	uint64_t same_slot;	/* pages in the slot of the first page-out */
};

struct swap_step {
	const char *key, *label;
	uint64_t t_ns, ns;
	struct swap_snap a, b;
	struct swap_ptes v;		/* inside: the region's PTEs after */
	int tries;			/* MADV_PAGEOUT calls */
	uint64_t intact;		/* swapin: pages that came back unchanged */
	struct trace_buf t;
	struct swap_check c;
	uint64_t reads, writes, swap_flag, by_us, read_slots, write_slots;
	uint64_t dropped_a, dropped;	/* the trace's trace_dropped: before; the step's */
};

struct swap_demo {
	const char *path, *svg;
	char disk[64];
	dev_t rdev;
	pid_t pid;
	int type;			/* the device's swap type, or -1 */
	bool made;			/* the demo made it swap: swapoff at the end */
	bool made_it;			/* ... and the report says so */
	bool pause;
	uint64_t size, pages, nslots;
	char *region;
	uint64_t base;			/* the region's address */
	int64_t *slot;			/* each page's slot at the last view, or -1 */
	int64_t *slot_out, *slot_again;	/* ... after the two page-outs */
	uint8_t *cover;			/* per slot, the step's requests: 1 */
	struct swap_step step[SWAP_STEPS];
	int nstep;
};

/* cache-demo-swap-report.c */
void swap_snap(struct swap_snap *s);
int swap_view(struct swap_demo *d, struct swap_step *s);
void swap_match(struct swap_demo *d, struct swap_step *s, int kind,
		const int64_t *before);
int swap_report(const struct swap_demo *d);
int swap_svg(const struct swap_demo *d);

#endif
