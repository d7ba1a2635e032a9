/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters checked when they are set, as null_blk's
 * null_param_store_val() does: a value out of range fails the load with
 * EINVAL (the kernel names the parameter in its log), and nothing of it is
 * stored.  SHIKUMI_PARAM_OPS_UINT() wraps shikumi_param_set_uint() in the
 * .set of a struct kernel_param_ops, with a parameter's own bounds.
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

/*
 * SHIKUMI_PARAM_OPS_UINT(var, min, max) defines, for the unsigned int @var,
 * var##_set(), which refuses a value outside [@min, @max], and var##_ops,
 * its struct kernel_param_ops, for module_param_cb(name, &var##_ops, &var,
 * perm).  The parameter's name is module_param_cb()'s, not @var's: a
 * variable with its module's prefix keeps a short parameter name, and the
 * generated functions carry the prefix.  SHIKUMI_PARAM_OPS_UINT_POW2()
 * refuses too a value that is not a power of two.
 */
#define SHIKUMI_PARAM_OPS_UINT(_var, _min, _max)				\
	__SHIKUMI_PARAM_OPS_UINT(_var, _min, _max, false)
#define SHIKUMI_PARAM_OPS_UINT_POW2(_var, _min, _max)				\
	__SHIKUMI_PARAM_OPS_UINT(_var, _min, _max, true)

#define __SHIKUMI_PARAM_OPS_UINT(_var, _min, _max, _pow2)			\
static int _var##_set(const char *val, const struct kernel_param *kp)		\
{										\
	return shikumi_param_set_uint(val, kp, _min, _max, _pow2);		\
}										\
static const struct kernel_param_ops _var##_ops = {				\
	.set = _var##_set,							\
	.get = param_get_uint,							\
}

#endif /* _SHIKUMI_PARAM_H */
