/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference shikumi depends on, in one place.
 *
 * Each entry is a feature test: scripts/kfeatures greps the headers of the
 * kernel being built against and defines SHIKUMI_HAVE_* for the APIs it
 * finds, so stable backports are picked up and no version number can be
 * wrong inside a series.  The upstream version that made each change is
 * cited beside it.  The entries live in one header per subsystem, so a
 * module includes only what it uses: <shikumi/compat/blk.h> (the block
 * layer), <shikumi/compat/mm.h> (memory), <shikumi/compat/dev.h> (the
 * driver model) and <shikumi/compat/time.h> (timers, RCU).  Where a test
 * only changes a type, a static_assert beside it checks the kernel's
 * prototype, so a test that matched the wrong text breaks the build
 * instead of building the wrong branch.  This header includes them all.
 */
#ifndef _SHIKUMI_COMPAT_H
#define _SHIKUMI_COMPAT_H

#include <shikumi/compat/blk.h>
#include <shikumi/compat/dev.h>
#include <shikumi/compat/mm.h>
#include <shikumi/compat/time.h>

#endif /* _SHIKUMI_COMPAT_H */
