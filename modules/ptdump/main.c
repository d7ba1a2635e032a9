// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ptdump: any process's page tables, level by level, in debugfs.
 *
 * This module demonstrates, for chapters 4 and 5 of the book, what the
 * kernel builds behind a process's address space: the VMAs, and for each
 * page the hardware walks PGD -> (P4D) -> PUD -> PMD -> PTE, with each
 * entry's raw value, the PFN it leads to and the page behind it.  Demand
 * paging, copy-on-write, huge pages and the cost of the tables themselves
 * can all be seen in it.  The user API is in <uapi/shikumi/ptdump.h>.
 *
 * Streaming: an open file has one fixed buffer.  A read() fills it under
 * the locks, drops them, copies it out, and resumes the walk from the
 * address it stopped at.  Each fill also stops after a fixed amount of
 * walking, so the locks are dropped regularly even when a summary of a
 * large process produces few lines.  Nothing the module allocates grows
 * with the size of the target.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <shikumi/debugfs.h>

#include "ptdump.h"

const char * const shikumi_pt_view_names[] = {
	[SHIKUMI_PT_VIEW_SUMMARY]	= "summary",
	[SHIKUMI_PT_VIEW_FULL]		= "full",
	[SHIKUMI_PT_VIEW_TRANSLATE]	= "translate",
	[SHIKUMI_PT_VIEW_STATS]	= "stats",
};

static struct dentry *shikumi_pt_debugfs_dir;
static atomic_long_t shikumi_pt_mem_bytes = ATOMIC_LONG_INIT(0);
static atomic_t shikumi_pt_open_files = ATOMIC_INIT(0);

/* ------------------------------------------------------------------ */
/* The file                                                             */
/* ------------------------------------------------------------------ */

static void shikumi_pt_restart(struct shikumi_pt_file *pf)
{
	pf->stage = SHIKUMI_PT_STAGE_HEADER;
	pf->cursor = pf->q.start;
	pf->vma_start = ULONG_MAX;
	memset(pf->entry_va, 0xff, sizeof(pf->entry_va));
	memset(pf->chain, 0, sizeof(pf->chain));
	memset(&pf->run, 0, sizeof(pf->run));
	memset(pf->tables, 0, sizeof(pf->tables));
	memset(pf->leaves, 0, sizeof(pf->leaves));
	pf->nonpresent = 0;
	pf->deposited = 0;
	pf->vmas = 0;
	pf->records = 0;
	pf->exited = false;
	pf->head = 0;
	pf->len = 0;
}

/* the process a query names */
struct shikumi_pt_target {
	struct mm_struct *mm;		/* mmgrab()ed */
	char comm[TASK_COMM_LEN];
};

/*
 * The address space of @task's process, from the first of its threads
 * that still has it, as find_lock_task_mm() (which is not exported) finds
 * it: a thread-group leader that has exited has none, while its other
 * threads run on in it.
 */
static struct mm_struct *shikumi_pt_get_task_mm(struct task_struct *task)
{
	struct mm_struct *mm = NULL;
	struct task_struct *t;

	rcu_read_lock();
	for_each_thread(task, t) {
		mm = get_task_mm(t);
		if (mm)
			break;
	}
	rcu_read_unlock();
	return mm;
}

/* Find the address space of @nr, in the caller's pid namespace. */
static int shikumi_pt_get_target(pid_t nr, struct shikumi_pt_target *t)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	int ret = 0;

	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = shikumi_pt_get_task_mm(task);
	if (mm) {
		mmgrab(mm);
		mmput(mm);
		t->mm = mm;
		get_task_comm(t->comm, task);
	} else {
		/* a kernel thread has none; an exiting task has lost it */
		ret = task->flags & PF_KTHREAD ? -ENXIO : -ESRCH;
	}
	put_task_struct(task);
	return ret;
}

static int shikumi_pt_parse_range(char *val, unsigned long *start,
				  unsigned long *end)
{
	char *dash = strchr(val, '-');

	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (kstrtoul(val, 0, start) || kstrtoul(dash + 1, 0, end))
		return -EINVAL;
	return 0;
}

/* Parse @line into @q, and say which keys it had. */
static int shikumi_pt_parse_query(char *line, struct shikumi_pt_query *q, bool *has_pid,
				  bool *has_range, bool *has_addr)
{
	char *word, *val;
	int view;

	while ((word = strsep(&line, " \t\n")) != NULL) {
		if (!*word)
			continue;
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(word, "pid")) {
			if (kstrtoint(val, 10, &q->pid) || q->pid <= 0)
				return -EINVAL;
			*has_pid = true;
		} else if (!strcmp(word, "range")) {
			if (shikumi_pt_parse_range(val, &q->start, &q->end))
				return -EINVAL;
			*has_range = true;
		} else if (!strcmp(word, "addr")) {
			if (kstrtoul(val, 0, &q->addr))
				return -EINVAL;
			*has_addr = true;
		} else if (!strcmp(word, "view")) {
			view = match_string(shikumi_pt_view_names,
					    ARRAY_SIZE(shikumi_pt_view_names), val);
			if (view < 0)
				return -EINVAL;
			q->view = view;
		} else if (!strcmp(word, "format")) {
			if (!strcmp(val, "raw"))
				q->raw = true;
			else if (!strcmp(val, "text"))
				q->raw = false;
			else
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static ssize_t shikumi_pt_write(struct file *file, const char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct shikumi_pt_file *pf = file->private_data;
	struct shikumi_pt_query q = { .view = SHIKUMI_PT_VIEW_SUMMARY };
	bool has_pid = false, has_range = false, has_addr = false;
	struct shikumi_pt_target t;
	struct mm_struct *old;
	char *line;
	int ret;

	/*
	 * The query chooses the target, so the writer must be allowed what
	 * the opener was: a descriptor passed on (SCM_RIGHTS, an exec without
	 * O_CLOEXEC) must not carry root's view to a process without it.
	 * /proc/PID/pagemap fixes its target at open instead.
	 */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (count > SHIKUMI_PT_QUERY_MAX)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	ret = shikumi_pt_parse_query(line, &q, &has_pid, &has_range, &has_addr);
	kfree(line);
	if (ret)
		return ret;
	if (q.raw && q.view == SHIKUMI_PT_VIEW_SUMMARY)
		return -EINVAL;
	/* addr= goes with view=translate, which takes no range= */
	if (q.view == SHIKUMI_PT_VIEW_TRANSLATE ? !has_addr || has_range : has_addr)
		return -EINVAL;
	if (!has_pid)
		q.pid = task_tgid_vnr(current);

	ret = shikumi_pt_get_target(q.pid, &t);
	if (ret)
		return ret;
	/*
	 * Another process's tables: /proc/PID/pagemap asks ptrace_may_access(),
	 * which modules cannot call; the capability that passes it stands in.
	 */
	ret = -EPERM;
	if (t.mm != current->mm &&
	    (!file_ns_capable(file, &init_user_ns, CAP_SYS_PTRACE) ||
	     !capable(CAP_SYS_PTRACE)))
		goto drop_mm;
	ret = -EINVAL;
	if (q.view == SHIKUMI_PT_VIEW_TRANSLATE) {
		if (q.addr >= t.mm->task_size)
			goto drop_mm;
		q.start = q.addr & PAGE_MASK;
		q.end = q.start + PAGE_SIZE;
	} else if (has_range) {
		if (q.start >= q.end || q.end > t.mm->task_size)
			goto drop_mm;
		q.start &= PAGE_MASK;
		q.end = PAGE_ALIGN(q.end);
	} else {
		q.start = 0;
		q.end = t.mm->task_size;
	}

	ret = mutex_lock_interruptible(&pf->lock);
	if (ret)
		goto drop_mm;
	old = pf->mm;
	pf->mm = t.mm;
	pf->q = q;
	memcpy(pf->comm, t.comm, sizeof(pf->comm));
	shikumi_pt_restart(pf);
	mutex_unlock(&pf->lock);
	mmdrop(old);
	return count;

drop_mm:
	mmdrop(t.mm);
	return ret;
}

static ssize_t shikumi_pt_read(struct file *file, char __user *ubuf, size_t count,
			       loff_t *ppos)
{
	struct shikumi_pt_file *pf = file->private_data;
	size_t copied = 0, n;
	int ret;

	ret = mutex_lock_interruptible(&pf->lock);
	if (ret)
		return ret;
	if (pf->q.raw && count < sizeof(struct shikumi_pt_rec)) {
		ret = -EINVAL;
		goto unlock;
	}
	while (copied < count) {
		if (pf->head == pf->len) {
			if (pf->stage == SHIKUMI_PT_STAGE_DONE)
				break;
			if (fatal_signal_pending(current) ||
			    (!copied && signal_pending(current))) {
				ret = copied ? 0 : -ERESTARTSYS;
				break;
			}
			ret = shikumi_pt_fill(pf);
			if (ret)
				break;
			cond_resched();
			continue;
		}
		n = min(pf->len - pf->head, count - copied);
		if (pf->q.raw)
			n = rounddown(n, sizeof(struct shikumi_pt_rec));
		if (!n)
			break;
		if (copy_to_user(ubuf + copied, pf->buf + pf->head, n)) {
			ret = -EFAULT;
			break;
		}
		pf->head += n;
		copied += n;
	}
unlock:
	mutex_unlock(&pf->lock);
	return copied ? copied : ret;
}

#define SHIKUMI_PT_FILE_BYTES	(sizeof(struct shikumi_pt_file) + SHIKUMI_PT_BUF_SIZE + PATH_MAX)

static int shikumi_pt_open(struct inode *inode, struct file *file)
{
	struct shikumi_pt_file *pf;
	int ret;

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	ret = -ENOMEM;
	pf->buf = kvmalloc(SHIKUMI_PT_BUF_SIZE, GFP_KERNEL);
	if (!pf->buf)
		goto free_pf;
	pf->path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!pf->path)
		goto free_buf;
	mutex_init(&pf->lock);
	/* by default, the opener's own address space, in summary */
	ret = -ENXIO;
	if (!current->mm)
		goto free_path;
	mmgrab(current->mm);
	pf->mm = current->mm;
	get_task_comm(pf->comm, current);
	pf->q.pid = task_tgid_vnr(current);
	pf->q.view = SHIKUMI_PT_VIEW_SUMMARY;
	pf->q.start = 0;
	pf->q.end = pf->mm->task_size;
	shikumi_pt_restart(pf);
	file->private_data = pf;
	atomic_inc(&shikumi_pt_open_files);
	atomic_long_add(SHIKUMI_PT_FILE_BYTES, &shikumi_pt_mem_bytes);
	return stream_open(inode, file);

free_path:
	kfree(pf->path);
free_buf:
	kvfree(pf->buf);
free_pf:
	kfree(pf);
	return ret;
}

static int shikumi_pt_release(struct inode *inode, struct file *file)
{
	struct shikumi_pt_file *pf = file->private_data;

	mmdrop(pf->mm);
	kfree(pf->path);
	kvfree(pf->buf);
	mutex_destroy(&pf->lock);
	kfree(pf);
	atomic_long_sub(SHIKUMI_PT_FILE_BYTES, &shikumi_pt_mem_bytes);
	atomic_dec(&shikumi_pt_open_files);
	return 0;
}

static const struct file_operations shikumi_pt_dump_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_pt_open,
	.read		= shikumi_pt_read,
	.write		= shikumi_pt_write,
	.release	= shikumi_pt_release,
};

/* status: how many dumps are open, and the memory they hold */
static int shikumi_pt_status_show(struct seq_file *m, void *v)
{
	seq_printf(m, "open_files %d\n", atomic_read(&shikumi_pt_open_files));
	seq_printf(m, "memory_bytes %ld\n", atomic_long_read(&shikumi_pt_mem_bytes));
	seq_printf(m, "bytes_per_open_file %zu\n", SHIKUMI_PT_FILE_BYTES);
	seq_printf(m, "p4d_folded %d\n", shikumi_pt_p4d_folded());
	seq_printf(m, "pti %d\n", shikumi_pt_pti());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shikumi_pt_status);

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

static int __init shikumi_ptdump_init(void)
{
	/* in a directory shared by shikumi's modules: <shikumi/debugfs.h> */
	shikumi_pt_debugfs_dir = shikumi_debugfs_create_dir("ptdump");
	if (IS_ERR(shikumi_pt_debugfs_dir)) {
		pr_err("cannot create /sys/kernel/debug/shikumi/ptdump: %ld\n",
		       PTR_ERR(shikumi_pt_debugfs_dir));
		return PTR_ERR(shikumi_pt_debugfs_dir);
	}
	debugfs_create_file("dump", 0600, shikumi_pt_debugfs_dir, NULL,
			    &shikumi_pt_dump_fops);
	debugfs_create_file("status", 0400, shikumi_pt_debugfs_dir, NULL,
			    &shikumi_pt_status_fops);
	pr_info("page tables of any process in /sys/kernel/debug/shikumi/ptdump/\n");
	return 0;
}

static void __exit shikumi_ptdump_exit(void)
{
	shikumi_debugfs_remove(shikumi_pt_debugfs_dir);
}

module_init(shikumi_ptdump_init);
module_exit(shikumi_ptdump_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The shikumi authors");
MODULE_DESCRIPTION("Any process's page tables, level by level, in debugfs");
#ifdef SHIKUMI_VERSION
MODULE_VERSION(SHIKUMI_VERSION);
#endif
