/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences in timers and RCU.
 * See <shikumi/compat.h> for how the feature tests work.
 */
#ifndef _SHIKUMI_COMPAT_TIME_H
#define _SHIKUMI_COMPAT_TIME_H

#include <linux/hrtimer.h>
#include <linux/rcupdate.h>

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

/*
 * v6.2: with RCU_LAZY, call_rcu() may wait seconds before running the
 * callback; call_rcu_hurry() does not.  Memory we free should come back now.
 */
#ifdef SHIKUMI_HAVE_CALL_RCU_HURRY
#define shikumi_call_rcu call_rcu_hurry
#else
#define shikumi_call_rcu call_rcu
#endif

#endif /* _SHIKUMI_COMPAT_TIME_H */
