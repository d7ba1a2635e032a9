/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Probes on tracepoints that the kernel does not export to modules
 * (sched_switch, block_bio_queue, ...): found by name in the kernel's own
 * list, as LTTng's modules find them, and hooked all or none.
 *
 * Each probe's prototype is checked against its tracepoint's by the
 * caller, with check_trace_callback_type_NAME() of <trace/events/...>.
 */
#ifndef _SHIKUMI_TRACEPOINT_H
#define _SHIKUMI_TRACEPOINT_H

#include <linux/printk.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

struct shikumi_probe {
	const char *name;	/* the tracepoint's */
	void *probe;
	struct tracepoint *tp;	/* set by shikumi_probes_find() */
};

struct shikumi_probes_wanted {
	struct shikumi_probe *probes;
	unsigned int n;
};

static inline void shikumi_probes_match(struct tracepoint *tp, void *priv)
{
	struct shikumi_probes_wanted *w = priv;
	unsigned int i;

	for (i = 0; i < w->n; i++)
		if (!strcmp(tp->name, w->probes[i].name))
			w->probes[i].tp = tp;
}

/* Find the tracepoint of each of @n probes: 0, or -ENOENT (logged). */
static inline int shikumi_probes_find(struct shikumi_probe *probes, unsigned int n)
{
	struct shikumi_probes_wanted w = { probes, n };
	unsigned int i;

	for_each_kernel_tracepoint(shikumi_probes_match, &w);
	for (i = 0; i < n; i++) {
		if (!probes[i].tp) {
			pr_err("the kernel has no %s tracepoint\n", probes[i].name);
			return -ENOENT;
		}
	}
	return 0;
}

/* Unhook the first @n probes, and return when none of them runs. */
static inline void shikumi_probes_unregister(struct shikumi_probe *probes,
					     unsigned int n, void *data)
{
	while (n--)
		tracepoint_probe_unregister(probes[n].tp, probes[n].probe, data);
	tracepoint_synchronize_unregister();
}

/* Hook all @n probes, or none: 0 or the error (logged). */
static inline int shikumi_probes_register(struct shikumi_probe *probes,
					  unsigned int n, void *data)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = tracepoint_probe_register(probes[i].tp, probes[i].probe, data);
		if (ret)
			goto unregister_probes;
	}
	return 0;

unregister_probes:
	pr_warn("cannot hook %s: %d\n", probes[i].name, ret);
	shikumi_probes_unregister(probes, i, data);
	return ret;
}

#endif /* _SHIKUMI_TRACEPOINT_H */
