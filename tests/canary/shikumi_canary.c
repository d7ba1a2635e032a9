// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_canary: planted bugs, one per load, for tests/final/canary.bats.
 *
 * The debug kernel is only worth running if its detectors fire and the lab
 * notices.  Loading this module with bug=NAME commits one bug of that kind
 * in its init, then refuses the load, so that nothing stays behind but the
 * report.  bug=leak stays loaded, so that kmemleak's backtrace can name the
 * leaking function; unload it after the scan.
 *
 *   oob      a read one past a kmalloc'ed object       KASAN
 *   uaf      a read of a freed object                   KASAN
 *   leak     an object nobody points to                 kmemleak
 *   sleep    a GFP_KERNEL allocation under a spinlock   DEBUG_ATOMIC_SLEEP
 *   lockdep  two locks taken in both orders             PROVE_LOCKING
 *            (first: any taint, KASAN's too, turns lockdep off)
 *   ubsan    an array index out of bounds               UBSAN
 *   odebug   a timer freed while still armed            DEBUG_OBJECTS
 *
 * Never load it outside the lab's debug kernel.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>

static char *bug = "";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "the bug to commit: oob, uaf, leak, sleep, lockdep, ubsan or odebug");

static DEFINE_SPINLOCK(canary_a);
static DEFINE_SPINLOCK(canary_b);
static void *canary_leaked;
/* a parameter, so that the compiler cannot see the bad index coming */
static int canary_index = 8;
module_param_named(index, canary_index, int, 0444);
MODULE_PARM_DESC(index, "the index the oob, uaf and ubsan bugs use (8)");

static void canary_timer_fn(struct timer_list *t)
{
}

static noinline int canary_oob(void)
{
	char *p = kmalloc(8, GFP_KERNEL);
	int v;

	if (!p)
		return -ENOMEM;
	v = READ_ONCE(p[canary_index]);
	kfree(p);
	return v;
}

static noinline int canary_uaf(void)
{
	char *p = kmalloc(64, GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	kfree(p);
	return READ_ONCE(p[canary_index]);
}

static noinline int canary_leak(void)
{
	canary_leaked = kmalloc(128, GFP_KERNEL);
	if (!canary_leaked)
		return -ENOMEM;
	/* forget it: kmemleak finds no reference left */
	WRITE_ONCE(canary_leaked, NULL);
	return 0;
}

static noinline int canary_sleep(void)
{
	/* GFP_KERNEL may sleep: might_sleep() objects, under the lock */
	spin_lock(&canary_a);
	kfree(kmalloc(64, GFP_KERNEL));
	spin_unlock(&canary_a);
	return 0;
}

static noinline int canary_lockdep(void)
{
	spin_lock(&canary_a);
	spin_lock(&canary_b);
	spin_unlock(&canary_b);
	spin_unlock(&canary_a);
	spin_lock(&canary_b);
	spin_lock(&canary_a);
	spin_unlock(&canary_a);
	spin_unlock(&canary_b);
	return 0;
}

static noinline int canary_ubsan(void)
{
	int a[8] = { 0 };

	return a[canary_index];
}

static noinline int canary_odebug(void)
{
	struct timer_list *t = kmalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	timer_setup(t, canary_timer_fn, 0);
	mod_timer(t, jiffies + 10 * HZ);
	kfree(t);	/* ODEBUG: free active; the slab stays poisoned */
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} canary_bugs[] = {
	{ "oob", canary_oob },
	{ "uaf", canary_uaf },
	{ "leak", canary_leak },
	{ "sleep", canary_sleep },
	{ "lockdep", canary_lockdep },
	{ "ubsan", canary_ubsan },
	{ "odebug", canary_odebug },
};

static int __init canary_init(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(canary_bugs); i++) {
		if (strcmp(bug, canary_bugs[i].name))
			continue;
		pr_info("committing bug '%s'\n", bug);
		canary_bugs[i].fn();
		return canary_bugs[i].fn == canary_leak ? 0 : -EAGAIN;
	}
	pr_err("unknown bug '%s'\n", bug);
	return -EINVAL;
}
module_init(canary_init);

static void __exit canary_exit(void)
{
}
module_exit(canary_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("shikumi: planted bugs that the debug kernel must report");
