// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi_pgcache: the page cache of one file, folio by folio, in debugfs.
 *
 * This module demonstrates, for chapter 8 of the book, what the kernel
 * keeps of a file in memory: which of its pages are cached, in folios of
 * what size, at which PFN, whether they are dirty, under writeback, mapped
 * by processes, on the active or the inactive list.  The book sees the
 * cache from outside, in free(1)'s buff/cache and in the time a second
 * read takes; this is the inside.  The user API is in
 * <uapi/shikumi/pgcache.h>.
 *
 * Looking must not disturb: the module never reads a page in and never
 * marks one accessed.  filemap_get_folios() takes a reference on each
 * folio it returns, as the kernel's own walkers of the cache do, and
 * nothing else.  A folio truncated away meanwhile has lost its mapping and
 * is left out.
 *
 * Streaming: an open file has one fixed buffer.  A read() fills it with
 * one batch of folios at a time, while there is room for a whole batch,
 * drops the references, copies it out, and resumes at the next index.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/kernel-page-flags.h>

#include <shikumi/compat/mm.h>
#include <shikumi/debugfs.h>
#include <uapi/shikumi/pgcache.h>

static_assert(sizeof(struct shikumi_pgc_rec) == 32);

/* the output buffer of one open file */
#define SHIKUMI_PGC_BUF_SIZE	(64 * 1024)
/* the longest text line of one folio */
#define SHIKUMI_PGC_LINE_ROOM	192
/* the folios filemap_get_folios() returns at once */
#define SHIKUMI_PGC_BATCH	(sizeof_field(struct folio_batch, folios) / sizeof(struct folio *))
/* room a batch of folios may need, with the totals after it */
#define SHIKUMI_PGC_BATCH_ROOM	((SHIKUMI_PGC_BATCH + 1) * SHIKUMI_PGC_LINE_ROOM + 1024)
/* the longest query */
#define SHIKUMI_PGC_QUERY_MAX	256

enum shikumi_pgc_view {
	SHIKUMI_PGC_VIEW_FOLIOS,
	SHIKUMI_PGC_VIEW_SUMMARY,
};

static const char * const shikumi_pgc_view_names[] = {
	[SHIKUMI_PGC_VIEW_FOLIOS]	= "folios",
	[SHIKUMI_PGC_VIEW_SUMMARY]	= "summary",
};

enum shikumi_pgc_stage {
	SHIKUMI_PGC_STAGE_NONE,		/* no query yet */
	SHIKUMI_PGC_STAGE_HEADER,
	SHIKUMI_PGC_STAGE_WALK,
	SHIKUMI_PGC_STAGE_DONE,
};

struct shikumi_pgc_query {
	pgoff_t first, last;		/* page indexes, inclusive */
	enum shikumi_pgc_view view;
	bool raw;
};

/* the totals, in pages */
struct shikumi_pgc_sum {
	u64 cached, folios, large, dirty, writeback, mapped, uptodate;
	u64 referenced, active, lru, unevictable, private;
};

struct shikumi_pgc_file {
	struct mutex lock;		/* the rest, against concurrent reads */
	struct shikumi_pgc_query q;
	struct file *target;		/* held from the query to the next */
	enum shikumi_pgc_stage stage;
	pgoff_t next;			/* the next index to look at */
	struct shikumi_pgc_sum sum;
	/* output: [head, len) of buf is still to be read */
	char *buf;
	size_t head, len;
};

static struct dentry *shikumi_pgc_debugfs_dir;
static atomic_t shikumi_pgc_open_files = ATOMIC_INIT(0);

/* flag names in the text view, by KPF_* bit */
static const char * const shikumi_pgc_flag_names[] = {
	[KPF_LOCKED]			= "locked",
	[KPF_REFERENCED]		= "referenced",
	[KPF_UPTODATE]			= "uptodate",
	[KPF_DIRTY]			= "dirty",
	[KPF_LRU]			= "lru",
	[KPF_ACTIVE]			= "active",
	[KPF_WRITEBACK]			= "writeback",
	[KPF_RECLAIM]			= "reclaim",
	[KPF_MMAP]			= "mmap",
	[KPF_SWAPBACKED]		= "swapbacked",
	[KPF_COMPOUND_HEAD]		= "large",
	[KPF_UNEVICTABLE]		= "unevictable",
	[SHIKUMI_PGC_KPF_PRIVATE]	= "private",
};

/* A folio's flags, as /proc/kpageflags shows its first page's. */
static u64 shikumi_pgc_flags(struct folio *folio)
{
	u64 f = 0;

	f |= (u64)folio_test_locked(folio) << KPF_LOCKED;
	f |= (u64)folio_test_referenced(folio) << KPF_REFERENCED;
	f |= (u64)folio_test_uptodate(folio) << KPF_UPTODATE;
	f |= (u64)folio_test_dirty(folio) << KPF_DIRTY;
	f |= (u64)folio_test_lru(folio) << KPF_LRU;
	f |= (u64)folio_test_active(folio) << KPF_ACTIVE;
	f |= (u64)folio_test_writeback(folio) << KPF_WRITEBACK;
	f |= (u64)folio_test_reclaim(folio) << KPF_RECLAIM;
	f |= (u64)folio_mapped(folio) << KPF_MMAP;
	f |= (u64)folio_test_swapbacked(folio) << KPF_SWAPBACKED;
	f |= (u64)folio_test_large(folio) << KPF_COMPOUND_HEAD;
	f |= (u64)folio_test_unevictable(folio) << KPF_UNEVICTABLE;
	f |= (u64)folio_test_private(folio) << SHIKUMI_PGC_KPF_PRIVATE;
	return f;
}

static void shikumi_pgc_count(struct shikumi_pgc_sum *s, u64 flags, u64 nr)
{
	s->cached += nr;
	s->folios++;
	s->large += !!(flags & BIT_ULL(KPF_COMPOUND_HEAD));
	s->dirty += flags & BIT_ULL(KPF_DIRTY) ? nr : 0;
	s->writeback += flags & BIT_ULL(KPF_WRITEBACK) ? nr : 0;
	s->mapped += flags & BIT_ULL(KPF_MMAP) ? nr : 0;
	s->uptodate += flags & BIT_ULL(KPF_UPTODATE) ? nr : 0;
	s->referenced += flags & BIT_ULL(KPF_REFERENCED) ? nr : 0;
	s->active += flags & BIT_ULL(KPF_ACTIVE) ? nr : 0;
	s->lru += flags & BIT_ULL(KPF_LRU) ? nr : 0;
	s->unevictable += flags & BIT_ULL(KPF_UNEVICTABLE) ? nr : 0;
	s->private += flags & BIT_ULL(SHIKUMI_PGC_KPF_PRIVATE) ? nr : 0;
}

static __printf(2, 3) void shikumi_pgc_printf(struct shikumi_pgc_file *pf,
					      const char *fmt, ...)
{
	size_t room = SHIKUMI_PGC_BUF_SIZE - pf->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(pf->buf + pf->len, room, fmt, ap);
	va_end(ap);
	/* the fill leaves room for what it prints: a line never splits */
	if (!WARN_ON_ONCE(n >= room))
		pf->len += n;
}

static void shikumi_pgc_line(struct shikumi_pgc_file *pf,
			     const struct shikumi_pgc_rec *r)
{
	unsigned int bit;
	bool first = true;

	shikumi_pgc_printf(pf, "%-10llu %5u %#12llx %8d  ", r->index, r->nr_pages,
			   r->pfn, r->mapcount);
	for (bit = 0; bit < ARRAY_SIZE(shikumi_pgc_flag_names); bit++) {
		if (!(r->flags & BIT_ULL(bit)) || !shikumi_pgc_flag_names[bit])
			continue;
		shikumi_pgc_printf(pf, "%s%s", first ? "" : ",",
				   shikumi_pgc_flag_names[bit]);
		first = false;
	}
	shikumi_pgc_printf(pf, "%s\n", first ? "-" : "");
}

/*
 * The size of the file or of the block device: a device node's own inode
 * has none; the device's, the host of its mapping, has.
 */
static loff_t shikumi_pgc_size(struct shikumi_pgc_file *pf)
{
	return i_size_read(pf->target->f_mapping->host);
}

static void shikumi_pgc_header(struct shikumi_pgc_file *pf)
{
	struct inode *inode = file_inode(pf->target);
	loff_t size = shikumi_pgc_size(pf);
	u64 pages = DIV_ROUND_UP(size, PAGE_SIZE);

	if (pf->q.raw || pf->q.view != SHIKUMI_PGC_VIEW_FOLIOS)
		return;
	shikumi_pgc_printf(pf, "# %s %llu: %lld bytes, %llu pages",
			   S_ISBLK(inode->i_mode) ? "block device" : "inode",
			   (u64)inode->i_ino, size, pages);
	if (pf->q.last != ULONG_MAX)
		shikumi_pgc_printf(pf, "; pages %lu-%lu", pf->q.first, pf->q.last);
	shikumi_pgc_printf(pf, "\n# %-8s %5s %12s %8s  %s\n", "index", "pages", "pfn",
			   "mapcount", "flags");
}

static void shikumi_pgc_tail(struct shikumi_pgc_file *pf)
{
	const struct shikumi_pgc_sum *s = &pf->sum;
	loff_t size = shikumi_pgc_size(pf);

	if (pf->q.raw)
		return;
	if (pf->q.view == SHIKUMI_PGC_VIEW_FOLIOS) {
		shikumi_pgc_printf(pf, "# %llu pages cached in %llu folios (%llu large): ",
				   s->cached, s->folios, s->large);
		shikumi_pgc_printf(pf, "%llu dirty, %llu writeback, %llu mapped, %llu active\n",
				   s->dirty, s->writeback, s->mapped, s->active);
		return;
	}
	shikumi_pgc_printf(pf, "file_pages %llu\n", (u64)DIV_ROUND_UP(size, PAGE_SIZE));
	shikumi_pgc_printf(pf, "cached_pages %llu\nfolios %llu\nlarge_folios %llu\n",
			   s->cached, s->folios, s->large);
	shikumi_pgc_printf(pf, "dirty %llu\nwriteback %llu\nmapped %llu\n",
			   s->dirty, s->writeback, s->mapped);
	shikumi_pgc_printf(pf, "uptodate %llu\nreferenced %llu\nactive %llu\n",
			   s->uptodate, s->referenced, s->active);
	shikumi_pgc_printf(pf, "lru %llu\nunevictable %llu\nprivate %llu\n",
			   s->lru, s->unevictable, s->private);
}

/* One folio that filemap_get_folios() gave us, a reference held. */
static void shikumi_pgc_folio(struct shikumi_pgc_file *pf, struct folio *folio)
{
	struct shikumi_pgc_rec r;

	/* truncated (or its inode evicted) since the lookup: gone */
	if (READ_ONCE(folio->mapping) != pf->target->f_mapping)
		return;
	r.index = folio->index;
	r.pfn = folio_pfn(folio);
	r.flags = shikumi_pgc_flags(folio);
	r.nr_pages = folio_nr_pages(folio);
	r.mapcount = shikumi_folio_mapcount(folio);
	shikumi_pgc_count(&pf->sum, r.flags, r.nr_pages);
	if (pf->q.view != SHIKUMI_PGC_VIEW_FOLIOS)
		return;
	if (pf->q.raw) {
		memcpy(pf->buf + pf->len, &r, sizeof(r));
		pf->len += sizeof(r);
	} else {
		shikumi_pgc_line(pf, &r);
	}
}

/* Fill the buffer, a batch of folios at a time, while a batch fits. */
static void shikumi_pgc_fill(struct shikumi_pgc_file *pf)
{
	struct address_space *mapping = pf->target->f_mapping;
	struct folio_batch fbatch;
	unsigned int i, n;

	pf->head = 0;
	pf->len = 0;
	if (pf->stage == SHIKUMI_PGC_STAGE_HEADER) {
		shikumi_pgc_header(pf);
		pf->stage = SHIKUMI_PGC_STAGE_WALK;
	}
	folio_batch_init(&fbatch);
	while (SHIKUMI_PGC_BUF_SIZE - pf->len >= SHIKUMI_PGC_BATCH_ROOM) {
		/* the last index wrapped: nothing is left after it */
		n = pf->next > pf->q.last ? 0 :
		    filemap_get_folios(mapping, &pf->next, pf->q.last, &fbatch);
		if (!n) {
			shikumi_pgc_tail(pf);
			pf->stage = SHIKUMI_PGC_STAGE_DONE;
			return;
		}
		for (i = 0; i < n; i++)
			shikumi_pgc_folio(pf, fbatch.folios[i]);
		folio_batch_release(&fbatch);
		cond_resched();
	}
}

static ssize_t shikumi_pgc_read(struct file *file, char __user *ubuf, size_t count,
				loff_t *ppos)
{
	struct shikumi_pgc_file *pf = file->private_data;
	size_t copied = 0, n;
	int ret;

	ret = mutex_lock_interruptible(&pf->lock);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (pf->stage == SHIKUMI_PGC_STAGE_NONE)
		goto unlock;
	if (pf->q.raw && count < sizeof(struct shikumi_pgc_rec))
		goto unlock;
	ret = 0;
	while (copied < count) {
		if (pf->head == pf->len) {
			if (pf->stage == SHIKUMI_PGC_STAGE_DONE)
				break;
			if (fatal_signal_pending(current) ||
			    (!copied && signal_pending(current))) {
				ret = copied ? 0 : -ERESTARTSYS;
				break;
			}
			shikumi_pgc_fill(pf);
			continue;
		}
		n = min(pf->len - pf->head, count - copied);
		if (pf->q.raw)
			n = rounddown(n, sizeof(struct shikumi_pgc_rec));
		if (!n)
			break;
		/* no folio is held here: the fill dropped every reference */
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

static int shikumi_pgc_parse_query(char *line, struct shikumi_pgc_query *q, int *fd)
{
	u64 start = 0, end = 0;
	bool has_range = false;
	char *word, *val, *dash;
	int view;

	while ((word = strsep(&line, " \t\n")) != NULL) {
		if (!*word)
			continue;
		val = strchr(word, '=');
		if (!val)
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(word, "fd")) {
			if (kstrtoint(val, 10, fd) || *fd < 0)
				return -EBADF;
		} else if (!strcmp(word, "range")) {
			dash = strchr(val, '-');
			if (!dash)
				return -EINVAL;
			*dash = '\0';
			if (kstrtou64(val, 0, &start) || kstrtou64(dash + 1, 0, &end) ||
			    start >= end)
				return -EINVAL;
			has_range = true;
		} else if (!strcmp(word, "view")) {
			view = match_string(shikumi_pgc_view_names,
					    ARRAY_SIZE(shikumi_pgc_view_names), val);
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
	if (*fd < 0 || (q->raw && q->view != SHIKUMI_PGC_VIEW_FOLIOS))
		return -EINVAL;
	q->first = has_range ? start >> PAGE_SHIFT : 0;
	q->last = has_range ? (end - 1) >> PAGE_SHIFT : ULONG_MAX;
	return 0;
}

/* The file @fd of the writer, if it has a page cache we can show. */
static struct file *shikumi_pgc_get_target(int fd)
{
	struct file *f = fget(fd);
	umode_t mode;

	if (!f)
		return ERR_PTR(-EBADF);
	mode = file_inode(f)->i_mode;
	/* hugetlbfs indexes its cache in huge pages, and maps no other way */
	if (file_inode(f)->i_sb->s_magic == HUGETLBFS_MAGIC) {
		fput(f);
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (S_ISREG(mode) || S_ISBLK(mode))
		return f;
	fput(f);
	return ERR_PTR(S_ISDIR(mode) ? -EISDIR : -ENOTBLK);
}

static ssize_t shikumi_pgc_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct shikumi_pgc_file *pf = file->private_data;
	struct shikumi_pgc_query q = { .view = SHIKUMI_PGC_VIEW_FOLIOS };
	struct file *target, *old;
	int ret, fd = -1;
	char *line;

	/* a descriptor passed on must not carry root's view to others */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (count > SHIKUMI_PGC_QUERY_MAX)
		return -EINVAL;
	line = memdup_user_nul(ubuf, count);
	if (IS_ERR(line))
		return PTR_ERR(line);
	ret = shikumi_pgc_parse_query(line, &q, &fd);
	kfree(line);
	if (ret)
		return ret;
	target = shikumi_pgc_get_target(fd);
	if (IS_ERR(target))
		return PTR_ERR(target);

	ret = mutex_lock_interruptible(&pf->lock);
	if (ret) {
		fput(target);
		return ret;
	}
	old = pf->target;
	pf->target = target;
	pf->q = q;
	pf->next = q.first;
	pf->stage = SHIKUMI_PGC_STAGE_HEADER;
	memset(&pf->sum, 0, sizeof(pf->sum));
	pf->head = 0;
	pf->len = 0;
	mutex_unlock(&pf->lock);
	if (old)
		fput(old);
	return count;
}

static int shikumi_pgc_open(struct inode *inode, struct file *file)
{
	struct shikumi_pgc_file *pf;

	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->buf = kvmalloc(SHIKUMI_PGC_BUF_SIZE, GFP_KERNEL);
	if (!pf->buf) {
		kfree(pf);
		return -ENOMEM;
	}
	mutex_init(&pf->lock);
	pf->stage = SHIKUMI_PGC_STAGE_NONE;
	file->private_data = pf;
	atomic_inc(&shikumi_pgc_open_files);
	return stream_open(inode, file);
}

static int shikumi_pgc_release(struct inode *inode, struct file *file)
{
	struct shikumi_pgc_file *pf = file->private_data;

	if (pf->target)
		fput(pf->target);
	kvfree(pf->buf);
	mutex_destroy(&pf->lock);
	kfree(pf);
	atomic_dec(&shikumi_pgc_open_files);
	return 0;
}

static const struct file_operations shikumi_pgc_cache_fops = {
	.owner		= THIS_MODULE,
	.open		= shikumi_pgc_open,
	.read		= shikumi_pgc_read,
	.write		= shikumi_pgc_write,
	.release	= shikumi_pgc_release,
};

/* status: how many views are open */
static int shikumi_pgc_status_show(struct seq_file *m, void *v)
{
	seq_printf(m, "open_files %d\n", atomic_read(&shikumi_pgc_open_files));
	seq_printf(m, "bytes_per_open_file %zu\n",
		   sizeof(struct shikumi_pgc_file) + SHIKUMI_PGC_BUF_SIZE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(shikumi_pgc_status);

static int __init shikumi_pgcache_init(void)
{
	/* in a directory shared by shikumi's modules: <shikumi/debugfs.h> */
	shikumi_pgc_debugfs_dir = shikumi_debugfs_create_dir("pgcache");
	if (IS_ERR(shikumi_pgc_debugfs_dir)) {
		pr_err("cannot create /sys/kernel/debug/shikumi/pgcache: %ld\n",
		       PTR_ERR(shikumi_pgc_debugfs_dir));
		return PTR_ERR(shikumi_pgc_debugfs_dir);
	}
	debugfs_create_file("cache", 0600, shikumi_pgc_debugfs_dir, NULL,
			    &shikumi_pgc_cache_fops);
	debugfs_create_file("status", 0400, shikumi_pgc_debugfs_dir, NULL,
			    &shikumi_pgc_status_fops);
	pr_info("the page cache of any file in /sys/kernel/debug/shikumi/pgcache/\n");
	return 0;
}

static void __exit shikumi_pgcache_exit(void)
{
	shikumi_debugfs_remove(shikumi_pgc_debugfs_dir);
}

module_init(shikumi_pgcache_init);
module_exit(shikumi_pgcache_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The shikumi authors");
MODULE_DESCRIPTION("The page cache of any file, folio by folio, in debugfs");
#ifdef SHIKUMI_VERSION
MODULE_VERSION(SHIKUMI_VERSION);
#endif
