// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: the files of /sys/block/shikumi-ramN/shikumi/, which
 * choose the model and the policy and set their parameters.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>

#include <shikumi/compat/blk.h>
#include <uapi/shikumi/ramdisk.h>

#include "ramdisk.h"

const char * const shikumi_rd_model_names[] = SHIKUMI_BLK_MODEL_NAMES;
const char * const shikumi_rd_policy_names[] = SHIKUMI_BLK_POLICY_NAMES;

/* ------------------------------------------------------------------ */
/* sysfs: /sys/block/shikumi-ramN/shikumi/                              */
/* ------------------------------------------------------------------ */

static struct shikumi_rd *shikumi_rd_from_dev(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

static ssize_t shikumi_rd_pages_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&rd->nr_pages));
}

static struct device_attribute shikumi_rd_attr_pages =
	__ATTR(pages, 0444, shikumi_rd_pages_show, NULL);

/*
 * The model and the policy: a u8 of struct shikumi_rd, one of @names,
 * shown and chosen by name; @set makes the switch.
 */
struct shikumi_rd_choice_attr {
	struct device_attribute attr;
	const char * const *names;
	size_t nr_names;
	size_t offset;
	int (*set)(struct shikumi_rd *rd, int choice);
};

static ssize_t shikumi_rd_choice_show(struct device *dev,
				      struct device_attribute *attr, char *buf)
{
	struct shikumi_rd_choice_attr *ca =
		container_of(attr, struct shikumi_rd_choice_attr, attr);
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);
	u8 choice = READ_ONCE(*((u8 *)rd + ca->offset));

	return sysfs_emit(buf, "%s\n", ca->names[choice]);
}

static ssize_t shikumi_rd_choice_store(struct device *dev,
				       struct device_attribute *attr,
				       const char *buf, size_t count)
{
	struct shikumi_rd_choice_attr *ca =
		container_of(attr, struct shikumi_rd_choice_attr, attr);
	int choice, ret;

	choice = __sysfs_match_string(ca->names, ca->nr_names, buf);
	if (choice < 0)
		return choice;
	ret = ca->set(shikumi_rd_from_dev(dev), choice);
	return ret ?: count;
}

/*
 * Switch the model with the queue frozen: no request is in the driver, so
 * none is served half by one model and half by another, and the requests
 * waiting in our queue never meet the ram model, which has no queue.
 */
static int shikumi_rd_set_model(struct shikumi_rd *rd, int model)
{
	struct request_queue *q = rd->disk->queue;
	unsigned int memflags;
	int ret;

	mutex_lock(&rd->model_lock);
	/* first what may fail: a refused switch changes nothing */
	ret = shikumi_blk_set_rotational(q, model == SHIKUMI_BLK_MODEL_HDD);
	if (!ret && model != rd->model) {
		memflags = shikumi_blk_freeze_queue(q);
		spin_lock_irq(&rd->lock);
		rd->model = model;
		memset(rd->free_at, 0, sizeof(rd->free_at));
		rd->ra_valid = false;
		spin_unlock_irq(&rd->lock);
		shikumi_blk_unfreeze_queue(q, memflags);
	}
	mutex_unlock(&rd->model_lock);
	return ret;
}

/* A policy only picks among waiting requests: switch it under the lock. */
static int shikumi_rd_set_policy(struct shikumi_rd *rd, int policy)
{
	spin_lock_irq(&rd->lock);
	rd->policy = policy;
	rd->dl_batch = 0;
	rd->dl_starved = 0;
	spin_unlock_irq(&rd->lock);
	return 0;
}

#define SHIKUMI_RD_CHOICE(_name)						\
static struct shikumi_rd_choice_attr shikumi_rd_choice_##_name = {		\
	.attr	= {								\
		.attr	= { .name = __stringify(_name), .mode = 0644 },		\
		.show	= shikumi_rd_choice_show,				\
		.store	= shikumi_rd_choice_store,				\
	},									\
	.names		= shikumi_rd_##_name##_names,				\
	.nr_names	= ARRAY_SIZE(shikumi_rd_##_name##_names),		\
	.offset		= offsetof(struct shikumi_rd, _name),			\
	.set		= shikumi_rd_set_##_name,				\
}

SHIKUMI_RD_CHOICE(model);
SHIKUMI_RD_CHOICE(policy);
/* shikumi_rd_choice_show() reads them as u8 */
static_assert(sizeof_field(struct shikumi_rd, model) == 1);
static_assert(sizeof_field(struct shikumi_rd, policy) == 1);

static ssize_t shikumi_rd_queue_depth_show(struct device *dev,
					   struct device_attribute *attr,
					   char *buf)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(rd->depth));
}

static ssize_t shikumi_rd_queue_depth_store(struct device *dev,
					    struct device_attribute *attr,
					    const char *buf, size_t count)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);
	unsigned int depth;
	bool restart;
	int ret;

	ret = kstrtouint(buf, 0, &depth);
	if (ret)
		return ret;
	if (depth < 1 || depth > rd->tag_set.queue_depth)
		return -EINVAL;
	spin_lock_irq(&rd->lock);
	rd->depth = depth;
	restart = shikumi_rd_room_again(rd);
	spin_unlock_irq(&rd->lock);
	/* a deeper queue takes requests blk-mq held back, or we stopped */
	if (restart)
		blk_mq_start_stopped_hw_queues(rd->disk->queue, true);
	blk_mq_run_hw_queues(rd->disk->queue, true);
	return count;
}

static struct device_attribute shikumi_rd_attr_queue_depth =
	__ATTR(queue_depth, 0644, shikumi_rd_queue_depth_show,
	       shikumi_rd_queue_depth_store);

static ssize_t shikumi_rd_nr_hw_queues_show(struct device *dev,
					    struct device_attribute *attr,
					    char *buf)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);

	return sysfs_emit(buf, "%u\n", READ_ONCE(rd->nr_queues));
}

/*
 * Remapping every CPU's I/O needs CAP_SYS_ADMIN, as null_blk's configfs
 * and the block layer's own queue attributes that change the device do.
 */
static ssize_t shikumi_rd_nr_hw_queues_store(struct device *dev,
					     struct device_attribute *attr,
					     const char *buf, size_t count)
{
	unsigned int nr;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtouint(buf, 0, &nr);
	if (ret)
		return ret;
	if (nr > SHIKUMI_RD_MAX_HW_QUEUES)
		return -EINVAL;
	ret = shikumi_rd_set_nr_queues(shikumi_rd_from_dev(dev), nr);
	return ret ?: count;
}

static struct device_attribute shikumi_rd_attr_nr_hw_queues =
	__ATTR(nr_hw_queues, 0644, shikumi_rd_nr_hw_queues_show,
	       shikumi_rd_nr_hw_queues_store);

static ssize_t shikumi_rd_reset_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);
	struct shikumi_rd_req_stats *r;
	bool reset;
	int ret;

	ret = kstrtobool(buf, &reset);
	if (ret)
		return ret;
	if (!reset)
		return -EINVAL;
	r = kmalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	/*
	 * The CPUs' counters are theirs: a reset notes where they are, under
	 * rd->lock, as readers subtract it
	 */
	spin_lock_irq(&rd->lock);
	shikumi_rd_req_sum(rd, r);
	rd->req_base = *r;
	memset(&rd->stats, 0, sizeof(rd->stats));
	spin_unlock_irq(&rd->lock);
	/* a reader copying out what it peeked will not consume it now */
	shikumi_rd_rings_reset(rd);
	kfree(r);
	return count;
}

static struct device_attribute shikumi_rd_attr_reset =
	__ATTR(reset, 0200, NULL, shikumi_rd_reset_store);

/*
 * The write cache and the power (cache.c).  Changing them needs
 * CAP_SYS_ADMIN, as the block layer's own queue/write_cache does: a
 * power cut loses data.
 */
static ssize_t shikumi_rd_write_cache_show(struct device *dev,
					   struct device_attribute *attr,
					   char *buf)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);

	return sysfs_emit(buf, "%d\n",
			  !!(READ_ONCE(rd->wc_flags) & SHIKUMI_RD_WC_ON));
}

static ssize_t shikumi_rd_write_cache_store(struct device *dev,
					    struct device_attribute *attr,
					    const char *buf, size_t count)
{
	bool on;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtobool(buf, &on);
	if (ret)
		return ret;
	ret = shikumi_rd_cache_set(shikumi_rd_from_dev(dev), on);
	return ret ?: count;
}

static struct device_attribute shikumi_rd_attr_write_cache =
	__ATTR(write_cache, 0644, shikumi_rd_write_cache_show,
	       shikumi_rd_write_cache_store);

static ssize_t shikumi_rd_write_cache_kb_show(struct device *dev,
					      struct device_attribute *attr,
					      char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(shikumi_rd_from_dev(dev)->wc_kb));
}

static ssize_t shikumi_rd_write_cache_kb_store(struct device *dev,
					       struct device_attribute *attr,
					       const char *buf, size_t count)
{
	u32 kb;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtou32(buf, 0, &kb);
	if (ret)
		return ret;
	ret = shikumi_rd_cache_set_kb(shikumi_rd_from_dev(dev), kb);
	return ret ?: count;
}

static struct device_attribute shikumi_rd_attr_write_cache_kb =
	__ATTR(write_cache_kb, 0644, shikumi_rd_write_cache_kb_show,
	       shikumi_rd_write_cache_kb_store);

static ssize_t shikumi_rd_power_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);

	return sysfs_emit(buf, "%s\n", READ_ONCE(rd->wc_flags) &
			  SHIKUMI_RD_POWER_OFF ? "off" : "on");
}

/* "on", "off", "off torn" or "off torn SEED" */
static ssize_t shikumi_rd_power_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);
	char words[3][24];
	bool have_seed = false;
	u64 seed = 0;
	int n, ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	n = sscanf(buf, "%23s %23s %23s", words[0], words[1], words[2]);
	if (n == 1 && !strcmp(words[0], "on")) {
		shikumi_rd_power_on(rd);
		return count;
	}
	if (n < 1 || strcmp(words[0], "off") ||
	    (n >= 2 && strcmp(words[1], "torn")))
		return -EINVAL;
	if (n == 3) {
		ret = kstrtou64(words[2], 0, &seed);
		if (ret)
			return ret;
		have_seed = true;
	}
	ret = shikumi_rd_power_off(rd, n >= 2, have_seed, seed);
	return ret ?: count;
}

static struct device_attribute shikumi_rd_attr_power =
	__ATTR(power, 0644, shikumi_rd_power_show, shikumi_rd_power_store);

/* The model and policy parameters: u32 fields of struct shikumi_rd_params. */
struct shikumi_rd_param_attr {
	struct device_attribute attr;
	size_t offset;
	u32 min;
	u32 max;
};

static u32 *shikumi_rd_param(struct shikumi_rd *rd, struct device_attribute *attr)
{
	struct shikumi_rd_param_attr *pa =
		container_of(attr, struct shikumi_rd_param_attr, attr);

	return (u32 *)((char *)&rd->p + pa->offset);
}

static ssize_t shikumi_rd_param_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);
	u32 val;

	spin_lock_irq(&rd->lock);
	val = *shikumi_rd_param(rd, attr);
	spin_unlock_irq(&rd->lock);
	return sysfs_emit(buf, "%u\n", val);
}

/* A new value applies from the next request the model starts. */
static ssize_t shikumi_rd_param_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t count)
{
	struct shikumi_rd_param_attr *pa =
		container_of(attr, struct shikumi_rd_param_attr, attr);
	struct shikumi_rd *rd = shikumi_rd_from_dev(dev);
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;
	if (val < pa->min || val > pa->max)
		return -EINVAL;
	spin_lock_irq(&rd->lock);
	*shikumi_rd_param(rd, attr) = val;
	spin_unlock_irq(&rd->lock);
	return count;
}

#define SHIKUMI_RD_PARAM(_name, _min, _max)					\
static struct shikumi_rd_param_attr shikumi_rd_param_##_name = {		\
	.attr	= {								\
		.attr	= { .name = __stringify(_name), .mode = 0644 },		\
		.show	= shikumi_rd_param_show,				\
		.store	= shikumi_rd_param_store,				\
	},									\
	.offset	= offsetof(struct shikumi_rd_params, _name),			\
	.min	= _min,								\
	.max	= _max,								\
}

SHIKUMI_RD_PARAM(hdd_rpm, 1000, 30000);
SHIKUMI_RD_PARAM(hdd_settle_us, 0, 100000);
SHIKUMI_RD_PARAM(hdd_full_seek_us, 0, 1000000);
SHIKUMI_RD_PARAM(hdd_media_mbps, 1, 10000);
SHIKUMI_RD_PARAM(hdd_cache_kb, 0, 65536);
SHIKUMI_RD_PARAM(hdd_iface_mbps, 1, 100000);
SHIKUMI_RD_PARAM(ssd_latency_us, 0, 1000000);
SHIKUMI_RD_PARAM(ssd_channel_mbps, 1, 100000);
SHIKUMI_RD_PARAM(ssd_channels, 1, SHIKUMI_RD_MAX_CHANNELS);
SHIKUMI_RD_PARAM(deadline_read_expire_ms, 1, 60000);
SHIKUMI_RD_PARAM(deadline_write_expire_ms, 1, 60000);
SHIKUMI_RD_PARAM(deadline_fifo_batch, 1, 1024);
SHIKUMI_RD_PARAM(deadline_writes_starved, 0, 1024);

static struct attribute *shikumi_rd_attrs[] = {
	&shikumi_rd_attr_pages.attr,
	&shikumi_rd_choice_model.attr.attr,
	&shikumi_rd_choice_policy.attr.attr,
	&shikumi_rd_attr_queue_depth.attr,
	&shikumi_rd_attr_nr_hw_queues.attr,
	&shikumi_rd_attr_reset.attr,
	&shikumi_rd_attr_write_cache.attr,
	&shikumi_rd_attr_write_cache_kb.attr,
	&shikumi_rd_attr_power.attr,
	&shikumi_rd_param_hdd_rpm.attr.attr,
	&shikumi_rd_param_hdd_settle_us.attr.attr,
	&shikumi_rd_param_hdd_full_seek_us.attr.attr,
	&shikumi_rd_param_hdd_media_mbps.attr.attr,
	&shikumi_rd_param_hdd_cache_kb.attr.attr,
	&shikumi_rd_param_hdd_iface_mbps.attr.attr,
	&shikumi_rd_param_ssd_latency_us.attr.attr,
	&shikumi_rd_param_ssd_channel_mbps.attr.attr,
	&shikumi_rd_param_ssd_channels.attr.attr,
	&shikumi_rd_param_deadline_read_expire_ms.attr.attr,
	&shikumi_rd_param_deadline_write_expire_ms.attr.attr,
	&shikumi_rd_param_deadline_fifo_batch.attr.attr,
	&shikumi_rd_param_deadline_writes_starved.attr.attr,
	NULL,
};

static const struct attribute_group shikumi_rd_group = {
	.name	= "shikumi",
	.attrs	= shikumi_rd_attrs,
};

const struct attribute_group *shikumi_rd_groups[] = {
	&shikumi_rd_group,
	NULL,
};
