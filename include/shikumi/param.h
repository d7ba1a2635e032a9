/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters checked when they are set, as null_blk's
 * null_param_store_val() does: a value out of range fails the load with
 * EINVAL (the kernel names the parameter in its log), and nothing of it is
 * stored.  Each module wraps shikumi_param_set_uint() in the .set of a
 * struct kernel_param_ops, with its own bounds.
 */
#ifndef _SHIKUMI_PARAM_H
#define _SHIKUMI_PARAM_H

#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>

/* Parse an unsigned int in [@min, @max], a power of two if @pow2 */
static inline int shikumi_param_set_uint(const char *val,
					 const struct kernel_param *kp,
					 unsigned int min, unsigned int max,
					 bool pow2)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n < min || n > max || (pow2 && !is_power_of_2(n)))
		return -EINVAL;
	*(unsigned int *)kp->arg = n;
	return 0;
}

#endif /* _SHIKUMI_PARAM_H */
