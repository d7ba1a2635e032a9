/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /sys/kernel/debug/shikumi/ is shared by the shikumi modules, and none of
 * them owns it: the first to add a directory creates it, and whoever takes
 * the last directory out removes it, as rmdir(2) would, only when it is
 * empty.  No module keeps a reference to it.
 *
 * The emptiness check and the removal must be one step, or a module could
 * remove the directory just after another put its files in it.  The check
 * is made with the directory's inode locked, and an empty one is marked
 * dead (S_DEAD, as vfs_rmdir() and simple_recursive_removal() do) before
 * the lock is dropped.  debugfs creates nothing in a dead directory: it
 * checks IS_DEADDIR() under that same lock and fails with -ENOENT.  A
 * module that gets -ENOENT finds or creates the directory afresh, once the
 * dead one is gone.
 */
#ifndef _SHIKUMI_DEBUGFS_H
#define _SHIKUMI_DEBUGFS_H

#include <linux/dcache.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/fs.h>

#define SHIKUMI_DEBUGFS_ROOT	"shikumi"
/* a dead root is gone within microseconds; this bounds the wait to ~1 s */
#define SHIKUMI_DEBUGFS_TRIES	1000

/*
 * The shared directory, with a reference, or an ERR_PTR: -EEXIST when
 * another module made it meanwhile, -EAGAIN when it went again before we
 * held it; the caller tries again.
 *
 * debugfs_create_dir() gives no reference to its caller: the directory
 * is held by debugfs alone, and another module's shikumi_debugfs_root_trim()
 * may find it empty and remove it at once, making the dentry negative
 * (d_delete() of the last reference).  So the new directory is looked up
 * again, as debugfs_lookup() takes a reference on a positive dentry only.
 */
static inline struct dentry *shikumi_debugfs_root_get(void)
{
	struct dentry *root = debugfs_lookup(SHIKUMI_DEBUGFS_ROOT, NULL);

	if (root)
		return root;
	root = debugfs_create_dir(SHIKUMI_DEBUGFS_ROOT, NULL);
	if (IS_ERR(root))
		return root;
	return debugfs_lookup(SHIKUMI_DEBUGFS_ROOT, NULL) ?: ERR_PTR(-EAGAIN);
}

/*
 * Create /sys/kernel/debug/shikumi/NAME.  Returns its dentry, or an
 * ERR_PTR: -ENOENT or -EPERM when debugfs is absent or turned off.
 */
static inline struct dentry *shikumi_debugfs_create_dir(const char *name)
{
	struct dentry *root, *dir = ERR_PTR(-EBUSY);
	int tries;

	if (!debugfs_initialized())
		return ERR_PTR(-ENOENT);
	for (tries = 0; tries < SHIKUMI_DEBUGFS_TRIES; tries++) {
		root = shikumi_debugfs_root_get();
		if (!IS_ERR(root)) {
			dir = debugfs_create_dir(name, root);
			dput(root);
			if (!IS_ERR(dir) || PTR_ERR(dir) != -ENOENT)
				return dir;
		} else if (PTR_ERR(root) != -EEXIST && PTR_ERR(root) != -EAGAIN) {
			return root;
		}
		/* the root is dead and not yet gone, was just made, or went */
		usleep_range(100, 1000);
	}
	return dir;
}

/* Remove the shared directory if it is empty; see the top of this file */
static inline void shikumi_debugfs_root_trim(void)
{
	struct dentry *root = debugfs_lookup(SHIKUMI_DEBUGFS_ROOT, NULL);
	struct inode *inode;
	bool empty = false;

	if (!root)
		return;
	inode = d_inode(root);
	inode_lock(inode);
	if (!IS_DEADDIR(inode) && simple_empty(root)) {
		inode->i_flags |= S_DEAD;
		empty = true;
	}
	inode_unlock(inode);
	if (empty)
		debugfs_remove(root);
	dput(root);
}

/* Remove DIR (from shikumi_debugfs_create_dir()) and, if empty, the root */
static inline void shikumi_debugfs_remove(struct dentry *dir)
{
	if (IS_ERR_OR_NULL(dir))
		return;
	debugfs_remove(dir);
	shikumi_debugfs_root_trim();
}

#endif /* _SHIKUMI_DEBUGFS_H */
