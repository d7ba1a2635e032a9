// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_ramdisk: a blk-mq RAM disk (chapters 6 and 9 of the book).
 *
 * Unlike brd, which takes bios directly and so bypasses every I/O
 * scheduler, this disk is a blk-mq driver: requests reach ->queue_rq()
 * after the stock elevators (none, mq-deadline, bfq, kyber), which stay
 * selectable in /sys/block/shikumi-ramN/queue/scheduler.
 *
 * Storage is an xarray of pages, indexed by page number, allocated on the
 * first write (GFP_NOIO: we are on the I/O path) and freed by discard,
 * write-zeroes and unload.  A read of a page never written returns zeroes.
 *
 * Pages are freed through RCU: a copy runs under rcu_read_lock(), so a
 * discard racing with a read or write of the same page never frees memory
 * that is still being copied.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include <shikumi/compat.h>

#define SHIKUMI_RD_NAME		"shikumi-ram"
#define SHIKUMI_RD_MAX_DISKS	16
#define SHIKUMI_RD_MAX_SIZE_MB	(64 * 1024)
#define SHIKUMI_RD_MINORS	16	/* partitions per disk, the whole disk included */
#define SHIKUMI_RD_SECTORS_PER_PAGE	(PAGE_SIZE >> SECTOR_SHIFT)

static int shikumi_rd_param_set(const char *val, const struct kernel_param *kp,
				unsigned int min, unsigned int max)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n < min || n > max)
		return -EINVAL;
	*(unsigned int *)kp->arg = n;
	return 0;
}

static int g_nr_disks_set(const char *val, const struct kernel_param *kp)
{
	return shikumi_rd_param_set(val, kp, 1, SHIKUMI_RD_MAX_DISKS);
}

static int g_size_mb_set(const char *val, const struct kernel_param *kp)
{
	return shikumi_rd_param_set(val, kp, 1, SHIKUMI_RD_MAX_SIZE_MB);
}

static int g_queue_depth_set(const char *val, const struct kernel_param *kp)
{
	return shikumi_rd_param_set(val, kp, 1, BLK_MQ_MAX_DEPTH);
}

static const struct kernel_param_ops g_nr_disks_ops = {
	.set = g_nr_disks_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops g_size_mb_ops = {
	.set = g_size_mb_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops g_queue_depth_ops = {
	.set = g_queue_depth_set,
	.get = param_get_uint,
};

static unsigned int g_nr_disks = 1;
module_param_cb(nr_disks, &g_nr_disks_ops, &g_nr_disks, 0444);
MODULE_PARM_DESC(nr_disks, "Number of disks, 1-16. Default: 1");

static unsigned int g_size_mb = 256;
module_param_cb(size_mb, &g_size_mb_ops, &g_size_mb, 0444);
MODULE_PARM_DESC(size_mb, "Size of each disk in MiB, 1-65536. Default: 256");

static unsigned int g_queue_depth = 128;
module_param_cb(queue_depth, &g_queue_depth_ops, &g_queue_depth, 0444);
MODULE_PARM_DESC(queue_depth, "Device queue depth, 1-10240. Default: 128");

struct shikumi_rd {
	unsigned int index;
	struct gendisk *disk;
	struct blk_mq_tag_set tag_set;
	struct xarray pages;		/* page index -> struct page */
	atomic_long_t nr_pages;		/* pages in the xarray */
};

static int shikumi_rd_major;
static struct shikumi_rd *shikumi_rd_disks;

/* ------------------------------------------------------------------ */
/* Storage                                                              */
/* ------------------------------------------------------------------ */

/* The page holding @sector, allocated if @alloc; NULL if absent or no memory. */
static struct page *shikumi_rd_page(struct shikumi_rd *rd, sector_t sector,
				    bool alloc)
{
	pgoff_t idx = sector / SHIKUMI_RD_SECTORS_PER_PAGE;
	struct page *page, *cur;

	page = xa_load(&rd->pages, idx);
	if (page || !alloc)
		return page;

	page = alloc_page(GFP_NOIO | __GFP_ZERO | __GFP_NOWARN);
	if (!page)
		return NULL;
	cur = xa_cmpxchg(&rd->pages, idx, NULL, page, GFP_NOIO | __GFP_NOWARN);
	if (cur) {
		/* lost a race with another writer, or no memory for the node */
		__free_page(page);
		return xa_is_err(cur) ? NULL : cur;
	}
	atomic_long_inc(&rd->nr_pages);
	return page;
}

static void shikumi_rd_free_page_rcu(struct rcu_head *head)
{
	__free_page(container_of(head, struct page, rcu_head));
}

/* Copy one segment, never crossing a page of the disk. */
static blk_status_t shikumi_rd_copy(struct shikumi_rd *rd, void *buf,
				    sector_t sector, unsigned int len, bool write)
{
	unsigned int off = (sector % SHIKUMI_RD_SECTORS_PER_PAGE) << SECTOR_SHIFT;
	struct page *page;
	void *mem;

	rcu_read_lock();
	page = shikumi_rd_page(rd, sector, false);
	if (!page && write) {
		/* first write to this page: allocating may sleep */
		rcu_read_unlock();
		if (!shikumi_rd_page(rd, sector, true))
			return BLK_STS_IOERR;
		rcu_read_lock();
		/* again: a racing discard may have taken it */
		page = shikumi_rd_page(rd, sector, false);
	}
	if (write) {
		if (page) {
			mem = kmap_local_page(page);
			memcpy(mem + off, buf, len);
			kunmap_local(mem);
		}
	} else if (page) {
		mem = kmap_local_page(page);
		memcpy(buf, mem + off, len);
		kunmap_local(mem);
	} else {
		memset(buf, 0, len);
	}
	rcu_read_unlock();
	return BLK_STS_OK;
}

static blk_status_t shikumi_rd_rw(struct shikumi_rd *rd, struct request *rq)
{
	bool write = rq_data_dir(rq) == WRITE;
	sector_t sector = blk_rq_pos(rq);
	struct req_iterator iter;
	struct bio_vec bvec;

	rq_for_each_segment(bvec, rq, iter) {
		unsigned int done = 0;
		void *buf = bvec_kmap_local(&bvec);

		while (done < bvec.bv_len) {
			unsigned int off = (sector % SHIKUMI_RD_SECTORS_PER_PAGE) <<
					   SECTOR_SHIFT;
			unsigned int len = min_t(unsigned int, bvec.bv_len - done,
						 PAGE_SIZE - off);
			blk_status_t st;

			st = shikumi_rd_copy(rd, buf + done, sector, len, write);
			if (st) {
				kunmap_local(buf);
				return st;
			}
			done += len;
			sector += len >> SECTOR_SHIFT;
		}
		if (!write)
			flush_dcache_page(bvec.bv_page);
		kunmap_local(buf);
	}
	return BLK_STS_OK;
}

/*
 * Discard and write-zeroes: free every page the range covers whole, and
 * zero the covered part of the pages at its ends.  Either way a later read
 * returns zeroes.
 */
static void shikumi_rd_discard(struct shikumi_rd *rd, sector_t sector,
			       unsigned int nr_sectors)
{
	sector_t end = sector + nr_sectors;

	while (sector < end) {
		sector_t page_start = round_down(sector, SHIKUMI_RD_SECTORS_PER_PAGE);
		sector_t next = min_t(sector_t, page_start + SHIKUMI_RD_SECTORS_PER_PAGE,
				      end);
		pgoff_t idx = sector / SHIKUMI_RD_SECTORS_PER_PAGE;

		if (sector == page_start && next - sector == SHIKUMI_RD_SECTORS_PER_PAGE) {
			struct page *page = xa_erase(&rd->pages, idx);

			if (page) {
				atomic_long_dec(&rd->nr_pages);
				shikumi_call_rcu(&page->rcu_head, shikumi_rd_free_page_rcu);
			}
		} else {
			struct page *page;

			rcu_read_lock();
			page = xa_load(&rd->pages, idx);
			if (page)
				memzero_page(page, (sector - page_start) << SECTOR_SHIFT,
					     (next - sector) << SECTOR_SHIFT);
			rcu_read_unlock();
		}
		sector = next;
	}
}

static blk_status_t shikumi_rd_queue_rq(struct blk_mq_hw_ctx *hctx,
					const struct blk_mq_queue_data *bd)
{
	struct shikumi_rd *rd = hctx->queue->queuedata;
	struct request *rq = bd->rq;
	blk_status_t st;

	blk_mq_start_request(rq);
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		st = shikumi_rd_rw(rd, rq);
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		shikumi_rd_discard(rd, blk_rq_pos(rq), blk_rq_sectors(rq));
		st = BLK_STS_OK;
		break;
	case REQ_OP_FLUSH:
		st = BLK_STS_OK;
		break;
	default:
		st = BLK_STS_NOTSUPP;
		break;
	}
	blk_mq_end_request(rq, st);
	return BLK_STS_OK;
}

static const struct blk_mq_ops shikumi_rd_mq_ops = {
	.queue_rq	= shikumi_rd_queue_rq,
};

static const struct block_device_operations shikumi_rd_fops = {
	.owner		= THIS_MODULE,
};

/* ------------------------------------------------------------------ */
/* sysfs: /sys/block/shikumi-ramN/shikumi/                              */
/* ------------------------------------------------------------------ */

static ssize_t pages_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct shikumi_rd *rd = dev_to_disk(dev)->private_data;

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&rd->nr_pages));
}
static DEVICE_ATTR_RO(pages);

static struct attribute *shikumi_rd_attrs[] = {
	&dev_attr_pages.attr,
	NULL,
};

static const struct attribute_group shikumi_rd_group = {
	.name	= "shikumi",
	.attrs	= shikumi_rd_attrs,
};

static const struct attribute_group *shikumi_rd_groups[] = {
	&shikumi_rd_group,
	NULL,
};

/* ------------------------------------------------------------------ */
/* Setup and teardown                                                   */
/* ------------------------------------------------------------------ */

static void shikumi_rd_free_pages(struct shikumi_rd *rd)
{
	struct page *page;
	unsigned long idx;

	xa_for_each(&rd->pages, idx, page) {
		__free_page(page);
		if (!(idx % 1024))
			cond_resched();
	}
	xa_destroy(&rd->pages);
}

static int shikumi_rd_add(struct shikumi_rd *rd, unsigned int index)
{
	const struct shikumi_blk_limits lim = {
		.logical_block_size = SECTOR_SIZE,
		.physical_block_size = PAGE_SIZE,
		.max_hw_sectors = SZ_512K >> SECTOR_SHIFT,
		.max_discard_sectors = UINT_MAX >> SECTOR_SHIFT,
		.max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT,
		.discard_granularity = PAGE_SIZE,
		.rotational = false,
	};
	struct gendisk *disk;
	int ret;

	rd->index = index;
	xa_init(&rd->pages);

	rd->tag_set.ops = &shikumi_rd_mq_ops;
	rd->tag_set.nr_hw_queues = 1;
	rd->tag_set.queue_depth = g_queue_depth;
	rd->tag_set.numa_node = NUMA_NO_NODE;
	/* queue_rq allocates pages with GFP_NOIO, which may sleep */
	rd->tag_set.flags = SHIKUMI_BLK_MQ_F_SHOULD_MERGE | BLK_MQ_F_BLOCKING;
	ret = blk_mq_alloc_tag_set(&rd->tag_set);
	if (ret)
		return ret;

	disk = shikumi_blk_mq_alloc_disk(&rd->tag_set, &lim, rd);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto free_tag_set;
	}
	disk->major = shikumi_rd_major;
	disk->first_minor = index * SHIKUMI_RD_MINORS;
	disk->minors = SHIKUMI_RD_MINORS;
	disk->fops = &shikumi_rd_fops;
	disk->private_data = rd;
	snprintf(disk->disk_name, DISK_NAME_LEN, SHIKUMI_RD_NAME "%u", index);
	set_capacity(disk, (sector_t)g_size_mb * (SZ_1M >> SECTOR_SHIFT));
	rd->disk = disk;

	ret = device_add_disk(NULL, disk, shikumi_rd_groups);
	if (ret)
		goto put_disk;
	return 0;

put_disk:
	put_disk(disk);
free_tag_set:
	blk_mq_free_tag_set(&rd->tag_set);
	return ret;
}

static void shikumi_rd_del(struct shikumi_rd *rd)
{
	del_gendisk(rd->disk);
	put_disk(rd->disk);
	blk_mq_free_tag_set(&rd->tag_set);
	shikumi_rd_free_pages(rd);
}

static int __init shikumi_rd_init(void)
{
	unsigned int i;
	int ret;

	shikumi_rd_major = register_blkdev(0, SHIKUMI_RD_NAME);
	if (shikumi_rd_major < 0)
		return shikumi_rd_major;

	shikumi_rd_disks = kcalloc(g_nr_disks, sizeof(*shikumi_rd_disks),
				   GFP_KERNEL);
	if (!shikumi_rd_disks) {
		ret = -ENOMEM;
		goto unregister_blkdev;
	}
	for (i = 0; i < g_nr_disks; i++) {
		ret = shikumi_rd_add(&shikumi_rd_disks[i], i);
		if (ret)
			goto del_disks;
	}
	pr_info("%u disks of %u MiB, major %d\n", g_nr_disks, g_size_mb,
		shikumi_rd_major);
	return 0;

del_disks:
	while (i--)
		shikumi_rd_del(&shikumi_rd_disks[i]);
	kfree(shikumi_rd_disks);
unregister_blkdev:
	unregister_blkdev(shikumi_rd_major, SHIKUMI_RD_NAME);
	return ret;
}

static void __exit shikumi_rd_exit(void)
{
	unsigned int i;

	for (i = 0; i < g_nr_disks; i++)
		shikumi_rd_del(&shikumi_rd_disks[i]);
	kfree(shikumi_rd_disks);
	unregister_blkdev(shikumi_rd_major, SHIKUMI_RD_NAME);
	/* pages discarded just before unload may still wait for RCU */
	rcu_barrier();
}

module_init(shikumi_rd_init);
module_exit(shikumi_rd_exit);

MODULE_DESCRIPTION("shikumi: blk-mq RAM disk");
MODULE_AUTHOR("The shikumi authors");
MODULE_LICENSE("GPL");
