/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /sys/kernel/debug/shikumi/ is shared by the shikumi modules: the first to
 * load creates it, and it stays when they unload, because removing it
 * would remove the files of the others.  Each module removes only its own
 * files and subdirectories.
 */
#ifndef _SHIKUMI_DEBUGFS_H
#define _SHIKUMI_DEBUGFS_H

#include <linux/dcache.h>
#include <linux/debugfs.h>
#include <linux/err.h>

/*
 * The shared directory, with a reference the caller drops with
 * shikumi_debugfs_root_put(); NULL or an ERR_PTR without debugfs.
 */
static inline struct dentry *shikumi_debugfs_root_get(void)
{
	struct dentry *root = debugfs_lookup("shikumi", NULL);

	if (!root) {
		root = debugfs_create_dir("shikumi", NULL);
		/* another shikumi module may have created it meanwhile */
		if (IS_ERR(root))
			root = debugfs_lookup("shikumi", NULL);
		else
			dget(root);
	}
	return root;
}

static inline void shikumi_debugfs_root_put(struct dentry *root)
{
	if (!IS_ERR_OR_NULL(root))
		dput(root);
}

#endif /* _SHIKUMI_DEBUGFS_H */
