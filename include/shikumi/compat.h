/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference shikumi depends on, in one place.
 *
 * Each entry is a feature test: scripts/kfeatures greps the headers of the
 * kernel being built against and defines SHIKUMI_HAVE_* for the APIs it
 * finds, so stable backports are picked up and no version number can be
 * wrong inside a series.  The upstream version that made each change is
 * cited beside it.
 */
#ifndef _SHIKUMI_COMPAT_H
#define _SHIKUMI_COMPAT_H

#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>

/* v6.2: struct class::devnode() takes a const struct device *. */
#ifdef SHIKUMI_HAVE_CONST_DEVNODE
#define SHIKUMI_DEVNODE_CONST const
#else
#define SHIKUMI_DEVNODE_CONST
#endif

/* v6.3: vma->vm_flags is read-only; vm_flags_mod() and friends write it. */
static inline void shikumi_vm_flags_mod(struct vm_area_struct *vma,
					vm_flags_t set, vm_flags_t clear)
{
#ifdef SHIKUMI_HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* v6.13: hrtimer_setup() sets the callback; v6.15 removed hrtimer_init(). */
static inline void
shikumi_hrtimer_setup(struct hrtimer *timer,
		      enum hrtimer_restart (*fn)(struct hrtimer *),
		      clockid_t clock, enum hrtimer_mode mode)
{
#ifdef SHIKUMI_HAVE_HRTIMER_SETUP
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

#endif /* _SHIKUMI_COMPAT_H */
