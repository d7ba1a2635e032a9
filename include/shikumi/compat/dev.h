/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences in the driver model.
 * See <shikumi/compat.h> for how the feature tests work.
 */
#ifndef _SHIKUMI_COMPAT_DEV_H
#define _SHIKUMI_COMPAT_DEV_H

#include <linux/build_bug.h>
#include <linux/device.h>

/* v6.2: struct class::devnode() takes a const struct device *. */
#ifdef SHIKUMI_HAVE_CONST_DEVNODE
#define SHIKUMI_DEVNODE_CONST const
#else
#define SHIKUMI_DEVNODE_CONST
#endif

/* canary: a feature test that picked the wrong prototype breaks the build */
static_assert(__same_type(((struct class *)0)->devnode,
			  char *(*)(SHIKUMI_DEVNODE_CONST struct device *, umode_t *)),
	      "SHIKUMI_DEVNODE_CONST does not match struct class::devnode()");

#endif /* _SHIKUMI_COMPAT_DEV_H */
