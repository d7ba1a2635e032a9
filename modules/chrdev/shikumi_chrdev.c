// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_chrdev: a character device with a simulated device behind it.
 *
 * This module demonstrates, for chapter 6 of the book:
 *
 *  - device files: a device class, dynamic major/minor numbers and nodes
 *    that devtmpfs/udev create as /dev/shikumi-chrN;
 *  - the file operations a driver provides: read/write on a bounded FIFO
 *    (blocking, O_NONBLOCK, poll/select/epoll, signals), ioctl and mmap;
 *  - a simulated device with registers.  An hrtimer plays the hardware: it
 *    "finishes" a command after the latency the caller asked for.  The
 *    completion is learnt in one of three ways:
 *      - interrupt: the device raises a (simulated) interrupt, whose handler
 *        acknowledges it and wakes the sleeping caller;
 *      - polling: the caller's CPU spins on the status register;
 *      - none: the ioctl returns at once, and the program watches the
 *        register page it mapped (user-space polling).
 *    The register page, mapped read-only into user space, shows the status,
 *    sequence numbers, timestamps and counters as the device updates them.
 *
 * Locking:
 *  - fifo_lock (mutex) serialises the FIFO's readers and writers, never
 *    across a user copy; poll and fifo_len read its indices without it.
 *    readq/writeq wait for data/space.
 *  - cmd_lock (mutex) lets one task at a time submit and wait for a command.
 *  - reg_lock (spinlock, taken with interrupts off) protects the register
 *    page against the timer, which runs in hard interrupt context.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/kfifo.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include <shikumi/compat/dev.h>
#include <shikumi/compat/mm.h>
#include <shikumi/compat/time.h>
#include <shikumi/param.h>
#include <uapi/shikumi/chrdev.h>

#define SHIKUMI_CHR_NAME	"shikumi-chr"
#define SHIKUMI_CHR_MAX_DEVS	16
#define SHIKUMI_CHR_FIFO_MIN	16
#define SHIKUMI_CHR_FIFO_MAX	SZ_1M

static unsigned int shikumi_chr_nr_devices = 2;
SHIKUMI_PARAM_OPS_UINT(shikumi_chr_nr_devices, 1, SHIKUMI_CHR_MAX_DEVS);
module_param_cb(nr_devices, &shikumi_chr_nr_devices_ops, &shikumi_chr_nr_devices, 0444);
MODULE_PARM_DESC(nr_devices, "Number of devices, 1-16. Default: 2");

static unsigned int shikumi_chr_fifo_size = 4096;
SHIKUMI_PARAM_OPS_UINT_POW2(shikumi_chr_fifo_size, SHIKUMI_CHR_FIFO_MIN, SHIKUMI_CHR_FIFO_MAX);
module_param_cb(fifo_size, &shikumi_chr_fifo_size_ops, &shikumi_chr_fifo_size, 0444);
MODULE_PARM_DESC(fifo_size,
		 "FIFO size in bytes, a power of two from 16 to 1048576. Default: 4096");

struct shikumi_chr_dev {
	unsigned int index;
	/*
	 * Allocated on its own (cdev_alloc()): an open() in flight may hold
	 * it for a moment after a failed load has freed this array.
	 */
	struct cdev *cdev;
	struct device *dev;

	/* the data path: a bounded FIFO */
	struct mutex fifo_lock;		/* serialises FIFO readers and writers */
	struct kfifo fifo;
	wait_queue_head_t readq;
	wait_queue_head_t writeq;

	/* the simulated device */
	struct mutex cmd_lock;		/* one submitter at a time */
	spinlock_t reg_lock;		/* regs, against the timer (hardirq) */
	struct shikumi_chr_regs *regs;	/* one zeroed page */
	struct hrtimer timer;
	wait_queue_head_t cmdq;
};

static dev_t shikumi_chr_devt;
static struct shikumi_chr_dev *shikumi_chr_devs;
/* the load has succeeded: see shikumi_chr_init() */
static bool shikumi_chr_ready;

/* ------------------------------------------------------------------ */
/* The simulated hardware and its interrupt handler                     */
/* ------------------------------------------------------------------ */

/*
 * The driver's interrupt handler: acknowledge, then wake the waiter.
 * noinline keeps it a function of its own, so ftrace can count its calls
 * as it would a real handler's.
 */
static noinline void shikumi_chr_isr(struct shikumi_chr_dev *d)
{
	struct shikumi_chr_regs *r = d->regs;

	spin_lock(&d->reg_lock);
	WRITE_ONCE(r->status, r->status & ~SHIKUMI_CHR_ST_IRQ_PENDING);
	spin_unlock(&d->reg_lock);
	wake_up(&d->cmdq);
}

/* The device finishing a command: runs in hard interrupt context. */
static enum hrtimer_restart shikumi_chr_timer_fn(struct hrtimer *t)
{
	struct shikumi_chr_dev *d = container_of(t, struct shikumi_chr_dev, timer);
	struct shikumi_chr_regs *r = d->regs;
	bool irq;

	spin_lock(&d->reg_lock);
	WRITE_ONCE(r->complete_ns, ktime_get_ns());
	WRITE_ONCE(r->completions, r->completions + 1);
	irq = r->ctrl & SHIKUMI_CHR_CTRL_IRQ_ENABLE;
	if (irq) {
		WRITE_ONCE(r->irqs, r->irqs + 1);
		WRITE_ONCE(r->status, SHIKUMI_CHR_ST_DONE | SHIKUMI_CHR_ST_IRQ_PENDING);
	} else {
		WRITE_ONCE(r->status, SHIKUMI_CHR_ST_DONE);
	}
	/* publish: a reader that sees done_seq sees the fields above */
	smp_store_release(&r->done_seq, r->cmd_seq);
	spin_unlock(&d->reg_lock);

	if (irq)
		shikumi_chr_isr(d);
	return HRTIMER_NORESTART;
}

static bool shikumi_chr_done(struct shikumi_chr_dev *d, u64 seq)
{
	/* pairs with smp_store_release() in shikumi_chr_timer_fn() */
	return smp_load_acquire(&d->regs->done_seq) >= seq;
}

/*
 * Wait for command @seq by spinning on the status register, as a driver
 * without interrupts would.  Stays preemptible and gives up on a signal.
 * @polls counts the reads of the register, the one that sees DONE too: a
 * command that completed before the driver looked still took one.
 */
static int shikumi_chr_poll_wait(struct shikumi_chr_dev *d, u64 seq, u64 *polls)
{
	u64 n = 0;
	int ret = 0;

	for (;;) {
		n++;
		if (shikumi_chr_done(d, seq))
			break;
		if (signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		cpu_relax();
	}

	spin_lock_irq(&d->reg_lock);
	WRITE_ONCE(d->regs->polls, d->regs->polls + n);
	spin_unlock_irq(&d->reg_lock);
	*polls = n;
	return ret;
}

static long shikumi_chr_submit(struct shikumi_chr_dev *d,
			       struct shikumi_chr_cmd __user *ucmd)
{
	struct shikumi_chr_regs *r = d->regs;
	struct shikumi_chr_cmd cmd;
	u64 seq, polls = 0;
	long ret;

	if (copy_from_user(&cmd, ucmd, sizeof(cmd)))
		return -EFAULT;
	if (cmd.flags || cmd.reserved[0] || cmd.reserved[1])
		return -EINVAL;
	if (cmd.wait > SHIKUMI_CHR_WAIT_NONE)
		return -EINVAL;
	if (cmd.latency_ns > SHIKUMI_CHR_LATENCY_MAX_NS)
		return -EINVAL;

	if (mutex_lock_interruptible(&d->cmd_lock))
		return -ERESTARTSYS;

	spin_lock_irq(&d->reg_lock);
	if (r->status & SHIKUMI_CHR_ST_BUSY) {
		spin_unlock_irq(&d->reg_lock);
		ret = -EBUSY;
		goto out_unlock;
	}
	seq = r->cmd_seq + 1;
	WRITE_ONCE(r->cmd_seq, seq);
	WRITE_ONCE(r->ctrl, cmd.wait == SHIKUMI_CHR_WAIT_IRQ ?
			    SHIKUMI_CHR_CTRL_IRQ_ENABLE : 0);
	WRITE_ONCE(r->latency_ns, cmd.latency_ns);
	WRITE_ONCE(r->submit_ns, ktime_get_ns());
	WRITE_ONCE(r->status, SHIKUMI_CHR_ST_BUSY);
	cmd.submit_ns = r->submit_ns;
	hrtimer_start(&d->timer, ns_to_ktime(cmd.latency_ns), HRTIMER_MODE_REL);
	spin_unlock_irq(&d->reg_lock);

	switch (cmd.wait) {
	case SHIKUMI_CHR_WAIT_IRQ:
		/*
		 * The command is in flight: restarting the syscall would submit
		 * it twice, so a signal ends the wait with -EINTR.
		 */
		if (wait_event_interruptible(d->cmdq, shikumi_chr_done(d, seq)))
			ret = -EINTR;
		else
			ret = 0;
		break;
	case SHIKUMI_CHR_WAIT_POLL:
		ret = shikumi_chr_poll_wait(d, seq, &polls);
		break;
	default:
		ret = 0;
		break;
	}
	/* Still ours: the next command cannot start before the unlock. */
	cmd.complete_ns = ret || cmd.wait == SHIKUMI_CHR_WAIT_NONE ? 0 :
			  READ_ONCE(r->complete_ns);
	mutex_unlock(&d->cmd_lock);
	if (ret)
		return ret;

	cmd.seq = seq;
	cmd.polls = polls;
	if (copy_to_user(ucmd, &cmd, sizeof(cmd)))
		return -EFAULT;
	return 0;

out_unlock:
	mutex_unlock(&d->cmd_lock);
	return ret;
}

static long shikumi_chr_reset(struct shikumi_chr_dev *d)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	spin_lock_irq(&d->reg_lock);
	WRITE_ONCE(d->regs->completions, 0);
	WRITE_ONCE(d->regs->irqs, 0);
	WRITE_ONCE(d->regs->polls, 0);
	spin_unlock_irq(&d->reg_lock);
	return 0;
}

static long shikumi_chr_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct shikumi_chr_dev *d = file->private_data;
	unsigned int expect;

	/* Not ours, or a number we never defined: before touching arg. */
	if (_IOC_TYPE(cmd) != SHIKUMI_CHR_IOC_MAGIC ||
	    _IOC_NR(cmd) < 1 || _IOC_NR(cmd) > SHIKUMI_CHR_IOC_MAXNR)
		return -ENOTTY;

	expect = _IOC_NR(cmd) == _IOC_NR(SHIKUMI_CHR_IOC_SUBMIT) ?
		 SHIKUMI_CHR_IOC_SUBMIT : SHIKUMI_CHR_IOC_RESET;
	if (_IOC_DIR(cmd) != _IOC_DIR(expect))
		return -ENOTTY;
	/* Right command, wrong structure size: an ABI mismatch. */
	if (_IOC_SIZE(cmd) != _IOC_SIZE(expect))
		return -EINVAL;

	switch (cmd) {
	case SHIKUMI_CHR_IOC_SUBMIT:
		return shikumi_chr_submit(d, (void __user *)arg);
	case SHIKUMI_CHR_IOC_RESET:
		return shikumi_chr_reset(d);
	}
	return -ENOTTY;
}

/* ------------------------------------------------------------------ */
/* The FIFO: read, write, poll                                          */
/* ------------------------------------------------------------------ */

/*
 * The FIFO moves data through a kernel buffer of the caller's, so that no
 * lock is held while a user copy may fault: a buffer backed by FUSE or
 * userfaultfd can keep a copy waiting for as long as its owner likes, and
 * a lock held meanwhile would stall every other user of the device,
 * uninterruptibly in poll and sysfs.
 */
static void *shikumi_chr_bounce(size_t count, unsigned int size)
{
	return kvmalloc(min_t(size_t, count, size), GFP_KERNEL);
}

/*
 * A reader takes from the FIFO only what its buffer can hold: the pages
 * are faulted in (without writing to them) before anything is taken, so a
 * bad buffer gets EFAULT and leaves the data for the next reader.  Only a
 * buffer unmapped in between loses what was taken for it.
 */
static ssize_t shikumi_chr_read(struct file *file, char __user *buf,
				size_t count, loff_t *ppos)
{
	struct shikumi_chr_dev *d = file->private_data;
	unsigned int size = kfifo_size(&d->fifo);
	size_t want, bad;
	unsigned int n, left;
	ssize_t ret;
	void *kbuf;

	if (!count)
		return 0;
	kbuf = shikumi_chr_bounce(count, size);
	if (!kbuf)
		return -ENOMEM;

again:
	/* lockless, as poll: at worst a moment old */
	while (kfifo_is_empty(&d->fifo)) {
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out_free;
		}
		if (wait_event_interruptible(d->readq, !kfifo_is_empty(&d->fifo))) {
			ret = -ERESTARTSYS;
			goto out_free;
		}
	}
	/*
	 * As much as the FIFO could hold: under the lock the reader takes all
	 * there is, so that no write is split between two readers.
	 */
	want = min_t(size_t, count, size);
	bad = fault_in_safe_writeable(buf, want);
	if (bad == want) {
		ret = -EFAULT;
		goto out_free;
	}
	want -= bad;

	if (mutex_lock_interruptible(&d->fifo_lock)) {
		ret = -ERESTARTSYS;
		goto out_free;
	}
	/* another reader may have been quicker: then none, and the wait */
	n = kfifo_out(&d->fifo, kbuf, want);
	mutex_unlock(&d->fifo_lock);
	if (!n)
		goto again;
	wake_up_interruptible_poll(&d->writeq, EPOLLOUT | EPOLLWRNORM);

	left = copy_to_user(buf, kbuf, n);
	if (left == n)
		ret = -EFAULT;
	else
		ret = n - left;
out_free:
	kvfree(kbuf);
	return ret;
}

/*
 * Like a pipe, a write of at most the FIFO's size is atomic: it waits until
 * all of it fits, so concurrent writers never interleave inside it.  Larger
 * writes go in pieces as space frees up.  Each piece is copied in from the
 * user before the lock is taken.
 */
static ssize_t shikumi_chr_write(struct file *file, const char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct shikumi_chr_dev *d = file->private_data;
	unsigned int size = kfifo_size(&d->fifo);
	size_t done = 0;
	ssize_t err = 0;
	void *kbuf;

	if (!count)
		return 0;
	kbuf = shikumi_chr_bounce(count, size);
	if (!kbuf)
		return -ENOMEM;

	while (done < count) {
		size_t left = count - done;
		unsigned int chunk = min_t(size_t, left, size);
		unsigned int need = left <= size ? left : 1;
		unsigned int faulted;

		faulted = copy_from_user(kbuf, buf + done, chunk);
		if (faulted) {
			/* what precedes the fault still goes in, as in a pipe */
			err = -EFAULT;
			chunk -= faulted;
			need = min(need, chunk);
			if (!chunk)
				break;
		}
		if (mutex_lock_interruptible(&d->fifo_lock)) {
			err = -ERESTARTSYS;
			break;
		}
		while (kfifo_avail(&d->fifo) < need) {
			mutex_unlock(&d->fifo_lock);
			if (file->f_flags & O_NONBLOCK) {
				err = -EAGAIN;
				goto out_free;
			}
			if (wait_event_interruptible(d->writeq,
						     kfifo_avail(&d->fifo) >= need)) {
				err = -ERESTARTSYS;
				goto out_free;
			}
			if (mutex_lock_interruptible(&d->fifo_lock)) {
				err = -ERESTARTSYS;
				goto out_free;
			}
		}
		chunk = kfifo_in(&d->fifo, kbuf, chunk);
		mutex_unlock(&d->fifo_lock);

		wake_up_interruptible_poll(&d->readq, EPOLLIN | EPOLLRDNORM);
		done += chunk;
		if (err)
			break;
	}
out_free:
	kvfree(kbuf);
	if (done)
		return done;
	return err;
}

/*
 * Lockless, as a pipe's poll: the FIFO's two indices read without the lock
 * give a readiness that is at worst a moment old, which is all poll promises.
 */
static __poll_t shikumi_chr_poll(struct file *file, poll_table *wait)
{
	struct shikumi_chr_dev *d = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &d->readq, wait);
	poll_wait(file, &d->writeq, wait);

	if (!kfifo_is_empty(&d->fifo))
		mask |= EPOLLIN | EPOLLRDNORM;
	/*
	 * Writable as a pipe is: with room for a write of min(FIFO size, a
	 * page), which write() then takes whole.  With one free byte, an
	 * epoll writer of full-size messages would only spin.
	 */
	if (kfifo_avail(&d->fifo) >= min_t(unsigned int, kfifo_size(&d->fifo),
					   PAGE_SIZE))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* ------------------------------------------------------------------ */
/* The register page                                                    */
/* ------------------------------------------------------------------ */

static int shikumi_chr_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct shikumi_chr_dev *d = file->private_data;

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	/* Registers are the device's to write: no writable mappings, ever. */
	if (vma->vm_flags & VM_WRITE)
		return -EACCES;
	shikumi_vm_flags_mod(vma, VM_DONTEXPAND | VM_DONTDUMP, VM_MAYWRITE);
	return vm_insert_page(vma, vma->vm_start, virt_to_page(d->regs));
}

static int shikumi_chr_open(struct inode *inode, struct file *file)
{
	/*
	 * A module whose init fails is freed whatever its reference count:
	 * until the last device is up, nobody may hold one open.  Pairs with
	 * the release at the end of shikumi_chr_init().
	 */
	if (!smp_load_acquire(&shikumi_chr_ready))
		return -ENXIO;
	file->private_data = &shikumi_chr_devs[iminor(inode)];
	return stream_open(inode, file);
}

static const struct file_operations shikumi_chr_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_chr_open,
	.read		= shikumi_chr_read,
	.write		= shikumi_chr_write,
	.poll		= shikumi_chr_poll,
	.unlocked_ioctl	= shikumi_chr_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= shikumi_chr_mmap,
};

/* ------------------------------------------------------------------ */
/* sysfs: /sys/class/shikumi-chr/shikumi-chrN/                          */
/* ------------------------------------------------------------------ */

static ssize_t shikumi_chr_show_reg(struct device *dev, char *buf,
				    size_t offset)
{
	struct shikumi_chr_dev *d = dev_get_drvdata(dev);
	const u64 *reg = (const u64 *)((const char *)d->regs + offset);

	return sysfs_emit(buf, "%llu\n", READ_ONCE(*reg));
}

static ssize_t shikumi_chr_completions_show(struct device *dev,
					    struct device_attribute *attr,
					    char *buf)
{
	return shikumi_chr_show_reg(dev, buf,
				    offsetof(struct shikumi_chr_regs, completions));
}

static struct device_attribute shikumi_chr_attr_completions =
	__ATTR(completions, 0444, shikumi_chr_completions_show, NULL);

static ssize_t shikumi_chr_irqs_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	return shikumi_chr_show_reg(dev, buf,
				    offsetof(struct shikumi_chr_regs, irqs));
}

static struct device_attribute shikumi_chr_attr_irqs =
	__ATTR(irqs, 0444, shikumi_chr_irqs_show, NULL);

static ssize_t shikumi_chr_polls_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	return shikumi_chr_show_reg(dev, buf,
				    offsetof(struct shikumi_chr_regs, polls));
}

static struct device_attribute shikumi_chr_attr_polls =
	__ATTR(polls, 0444, shikumi_chr_polls_show, NULL);

static ssize_t shikumi_chr_cmd_seq_show(struct device *dev,
					struct device_attribute *attr,
					char *buf)
{
	return shikumi_chr_show_reg(dev, buf,
				    offsetof(struct shikumi_chr_regs, cmd_seq));
}

static struct device_attribute shikumi_chr_attr_cmd_seq =
	__ATTR(cmd_seq, 0444, shikumi_chr_cmd_seq_show, NULL);

static ssize_t shikumi_chr_fifo_size_show(struct device *dev,
					  struct device_attribute *attr,
					  char *buf)
{
	struct shikumi_chr_dev *d = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", kfifo_size(&d->fifo));
}

static struct device_attribute shikumi_chr_attr_fifo_size =
	__ATTR(fifo_size, 0444, shikumi_chr_fifo_size_show, NULL);

static ssize_t shikumi_chr_fifo_len_show(struct device *dev,
					 struct device_attribute *attr,
					 char *buf)
{
	struct shikumi_chr_dev *d = dev_get_drvdata(dev);

	/* lockless, as poll: a user copy must not keep sysfs readers waiting */
	return sysfs_emit(buf, "%u\n", kfifo_len(&d->fifo));
}

static struct device_attribute shikumi_chr_attr_fifo_len =
	__ATTR(fifo_len, 0444, shikumi_chr_fifo_len_show, NULL);

static ssize_t shikumi_chr_status_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct shikumi_chr_dev *d = dev_get_drvdata(dev);
	u32 st = READ_ONCE(d->regs->status);

	return sysfs_emit(buf, "%s%s%s\n",
			  st & SHIKUMI_CHR_ST_BUSY ? "busy" : "idle",
			  st & SHIKUMI_CHR_ST_DONE ? " done" : "",
			  st & SHIKUMI_CHR_ST_IRQ_PENDING ? " irq-pending" : "");
}

static struct device_attribute shikumi_chr_attr_status =
	__ATTR(status, 0444, shikumi_chr_status_show, NULL);

static struct attribute *shikumi_chr_attrs[] = {
	&shikumi_chr_attr_completions.attr,
	&shikumi_chr_attr_irqs.attr,
	&shikumi_chr_attr_polls.attr,
	&shikumi_chr_attr_cmd_seq.attr,
	&shikumi_chr_attr_fifo_size.attr,
	&shikumi_chr_attr_fifo_len.attr,
	&shikumi_chr_attr_status.attr,
	NULL,
};
ATTRIBUTE_GROUPS(shikumi_chr);

/* Nodes are world-readable and writable, like /dev/null and pipes. */
static char *shikumi_chr_devnode(SHIKUMI_DEVNODE_CONST struct device *dev,
				 umode_t *mode)
{
	if (mode)
		*mode = 0666;
	return NULL;
}

static struct class shikumi_chr_class = {
	.name		= SHIKUMI_CHR_NAME,
	.devnode	= shikumi_chr_devnode,
	.dev_groups	= shikumi_chr_groups,
};

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

/* everything a device needs, before any device is visible */
static int shikumi_chr_dev_alloc(struct shikumi_chr_dev *d, unsigned int index)
{
	int ret;

	d->index = index;
	mutex_init(&d->fifo_lock);
	mutex_init(&d->cmd_lock);
	spin_lock_init(&d->reg_lock);
	init_waitqueue_head(&d->readq);
	init_waitqueue_head(&d->writeq);
	init_waitqueue_head(&d->cmdq);
	shikumi_hrtimer_setup(&d->timer, shikumi_chr_timer_fn, CLOCK_MONOTONIC,
			      HRTIMER_MODE_REL);

	ret = kfifo_alloc(&d->fifo, shikumi_chr_fifo_size, GFP_KERNEL);
	if (ret)
		return ret;

	d->regs = (void *)get_zeroed_page(GFP_KERNEL);
	if (!d->regs) {
		ret = -ENOMEM;
		goto free_fifo;
	}
	d->regs->magic = SHIKUMI_CHR_REGS_MAGIC;
	d->regs->version = SHIKUMI_CHR_REGS_VERSION;

	d->cdev = cdev_alloc();
	if (!d->cdev) {
		ret = -ENOMEM;
		goto free_regs;
	}
	d->cdev->ops = &shikumi_chr_fops;
	d->cdev->owner = THIS_MODULE;
	return 0;

free_regs:
	free_page((unsigned long)d->regs);
free_fifo:
	kfifo_free(&d->fifo);
	return ret;
}

/* No file is open: each holds a module reference, or was refused. */
static void shikumi_chr_dev_free(struct shikumi_chr_dev *d)
{
	/* a cdev never added, or whose cdev_add() failed */
	if (d->cdev)
		kobject_put(&d->cdev->kobj);
	/* a command submitted with WAIT_NONE or abandoned on a signal */
	hrtimer_cancel(&d->timer);
	free_page((unsigned long)d->regs);
	kfifo_free(&d->fifo);
}

/* the device appears: a node in /dev and sysfs, and open() reaches it */
static int shikumi_chr_dev_add(struct shikumi_chr_dev *d)
{
	dev_t devt = MKDEV(MAJOR(shikumi_chr_devt), d->index);
	int ret;

	ret = cdev_add(d->cdev, devt, 1);
	if (ret)
		return ret;
	d->dev = device_create(&shikumi_chr_class, NULL, devt, d,
			       SHIKUMI_CHR_NAME "%u", d->index);
	if (IS_ERR(d->dev)) {
		ret = PTR_ERR(d->dev);
		/* drops the cdev's reference: it frees itself */
		cdev_del(d->cdev);
		d->cdev = NULL;
	}
	return ret;
}

static void shikumi_chr_dev_del(struct shikumi_chr_dev *d)
{
	device_destroy(&shikumi_chr_class, d->cdev->dev);
	cdev_del(d->cdev);
	d->cdev = NULL;
}

/*
 * Everything is allocated before the first device appears, and open()
 * refuses until the last is up: a load that fails after that leaves
 * nothing of it in anyone's hands.
 */
static int __init shikumi_chr_init(void)
{
	unsigned int i, added;
	int ret;

	ret = alloc_chrdev_region(&shikumi_chr_devt, 0, shikumi_chr_nr_devices,
				  SHIKUMI_CHR_NAME);
	if (ret)
		return ret;

	ret = class_register(&shikumi_chr_class);
	if (ret)
		goto unregister_region;

	shikumi_chr_devs = kcalloc(shikumi_chr_nr_devices,
				   sizeof(*shikumi_chr_devs), GFP_KERNEL);
	if (!shikumi_chr_devs) {
		ret = -ENOMEM;
		goto unregister_class;
	}

	for (i = 0; i < shikumi_chr_nr_devices; i++) {
		ret = shikumi_chr_dev_alloc(&shikumi_chr_devs[i], i);
		if (ret)
			goto free_devs;
	}
	for (added = 0; added < shikumi_chr_nr_devices; added++) {
		ret = shikumi_chr_dev_add(&shikumi_chr_devs[added]);
		if (ret)
			goto del_devs;
	}
	/* pairs with open(): who sees it set sees every device whole */
	smp_store_release(&shikumi_chr_ready, true);

	pr_info("%u devices, major %u, fifo %u bytes\n", shikumi_chr_nr_devices,
		MAJOR(shikumi_chr_devt), shikumi_chr_fifo_size);
	return 0;

del_devs:
	while (added--)
		shikumi_chr_dev_del(&shikumi_chr_devs[added]);
	i = shikumi_chr_nr_devices;
free_devs:
	while (i--)
		shikumi_chr_dev_free(&shikumi_chr_devs[i]);
	kfree(shikumi_chr_devs);
unregister_class:
	class_unregister(&shikumi_chr_class);
unregister_region:
	unregister_chrdev_region(shikumi_chr_devt, shikumi_chr_nr_devices);
	return ret;
}

static void __exit shikumi_chr_exit(void)
{
	unsigned int i;

	for (i = 0; i < shikumi_chr_nr_devices; i++) {
		shikumi_chr_dev_del(&shikumi_chr_devs[i]);
		shikumi_chr_dev_free(&shikumi_chr_devs[i]);
	}
	kfree(shikumi_chr_devs);
	class_unregister(&shikumi_chr_class);
	unregister_chrdev_region(shikumi_chr_devt, shikumi_chr_nr_devices);
}

module_init(shikumi_chr_init);
module_exit(shikumi_chr_exit);

MODULE_DESCRIPTION("shikumi: character device with a simulated register-level device");
MODULE_AUTHOR("The shikumi authors");
MODULE_LICENSE("GPL");
#ifdef SHIKUMI_VERSION
MODULE_VERSION(SHIKUMI_VERSION);
#endif
