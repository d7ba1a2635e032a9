/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference shikumi depends on, in one place.
 *
 * Feature tests come first: stable branches backport APIs, so a version
 * number can be wrong inside a series.  Where the kernel gives nothing to
 * test, the entry falls back to the upstream version that made the change,
 * cited beside it.
 */
#ifndef _SHIKUMI_COMPAT_H
#define _SHIKUMI_COMPAT_H

#include <linux/version.h>
#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>

/*
 * struct class::devnode takes a const struct device * from v6.2
 * (commit ff62b8e6588f "driver core: make struct class.devnode() take a
 * const *").
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define SHIKUMI_DEVNODE_CONST const
#else
#define SHIKUMI_DEVNODE_CONST
#endif

/*
 * vm_flags became read-only for drivers in v6.3; vm_flags_set() and
 * vm_flags_clear() replace direct writes.
 */
static inline void shikumi_vm_flags_mod(struct vm_area_struct *vma,
					vm_flags_t set, vm_flags_t clear)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/*
 * hrtimer_setup() arrived in v6.13 and hrtimer_init() left in v6.15.
 * Both are plain functions, so only the version can tell them apart.
 */
static inline void shikumi_hrtimer_setup(struct hrtimer *timer,
					 enum hrtimer_restart (*fn)(struct hrtimer *),
					 clockid_t clock, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

#endif /* _SHIKUMI_COMPAT_H */
