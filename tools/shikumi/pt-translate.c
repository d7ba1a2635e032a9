// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt translate: one virtual address of a process through every
 * level of its page tables, as the MMU walks them.
 */
#include <string.h>

#include "pt.h"

/* ---- translate ------------------------------------------------------------ */

static void xlate_rec_json(struct json *j, const struct shikumi_pt_rec *r,
			   const char *type, bool la57)
{
	json_object_begin(j, NULL);
	json_string(j, "level", level_name(r->level));
	json_u64(j, "index", r->index);
	json_string(j, "type", type);
	json_hex(j, "raw", r->raw);
	json_flags(j, "flags", entry_bits(r->type, r->flags));
	if (r->type == SHIKUMI_PT_REC_TABLE || r->type == SHIKUMI_PT_REC_LEAF ||
	    (r->type == SHIKUMI_PT_REC_NONPRESENT && np_has_pfn(r->flags)))
		json_u64(j, "pfn", r->pfn);
	if (r->type == SHIKUMI_PT_REC_NONPRESENT)
		json_np(j, r->flags, r->pfn);
	if (r->type == SHIKUMI_PT_REC_LEAF)
		json_u64(j, "page_size", level_size(r->level, la57));
	json_object_end(j);
}

static void xlate_rec_text(const struct shikumi_pt_rec *r, const char *indent, bool la57)
{
	char bits[64], pg[64], sz[24];

	printf("%s%s[%3u] 0x%016llx  ", indent, level_name(r->level), r->index,
	       U(r->raw));
	switch (r->type) {
	case SHIKUMI_PT_REC_TABLE:
		printf("-> table at pfn 0x%llx    %s\n", U(r->pfn),
		       bits_str(r->flags, bits, sizeof(bits)));
		break;
	case SHIKUMI_PT_REC_LEAF:
		printf("%s page at pfn 0x%llx    %s  %s\n",
		       size_str(level_size(r->level, la57), sz, sizeof(sz)),
		       U(r->pfn), bits_str(r->flags, bits, sizeof(bits)),
		       page_str(r->flags, pg, sizeof(pg)));
		break;
	case SHIKUMI_PT_REC_EMPTY:
		printf("empty: nothing is mapped here; an access would fault\n");
		break;
	default:
		printf("not present: %s    %s\n", np_str(r->flags, true, r->pfn, pg, sizeof(pg)),
		       bits_str(entry_bits(r->type, r->flags), bits, sizeof(bits)));
	}
}

static void xlate_end_json(struct json *j, const struct xlate *x)
{
	json_array_end(j);
	json_string(j, "result", x->result == SHIKUMI_PT_REC_LEAF ? "mapped" :
		    x->result == SHIKUMI_PT_REC_EMPTY ? "empty" :
		    x->result == SHIKUMI_PT_REC_NONPRESENT ? "nonpresent" : "none");
	if (x->result == SHIKUMI_PT_REC_LEAF) {
		json_u64(j, "pfn", x->pfn);
		json_u64(j, "page_size", x->page_size);
		json_u64(j, "phys", x->phys);
	}
	if (x->result == SHIKUMI_PT_REC_NONPRESENT) {
		if (np_has_pfn(x->flags))
			json_u64(j, "pfn", x->pfn);
		json_np(j, x->flags, x->pfn);
	}
}

/* What a non-present entry means for an access to the address. */
static void xlate_np_text(const struct xlate *x, const char *indent)
{
	switch (SHIKUMI_PT_NP_KIND(x->flags)) {
	case SHIKUMI_PT_NP_SWAP:
		printf("%s=> swapped out: the page is in slot %llu of swap area %u (the\n"
		       "%s   entry itself says where); an access is a major fault that reads it back\n",
		       indent, U(x->pfn), SHIKUMI_PT_NP_SWAP_TYPE(x->flags), indent);
		break;
	case SHIKUMI_PT_NP_MIGRATION_READ:
	case SHIKUMI_PT_NP_MIGRATION_READ_EXCL:
	case SHIKUMI_PT_NP_MIGRATION_WRITE:
		printf("%s=> being moved from pfn 0x%llx: an access waits until the move is done\n",
		       indent, U(x->pfn));
		break;
	default:
		break;
	}
}

static void xlate_end_text(const struct xlate *x, uint64_t addr, const char *indent)
{
	if (x->result == SHIKUMI_PT_REC_NONPRESENT)
		xlate_np_text(x, indent);
	if (x->result == SHIKUMI_PT_REC_LEAF)
		printf("%s=> physical address 0x%llx (pfn 0x%llx x 4096 + offset 0x%llx)\n",
		       indent, U(x->phys), U(x->pfn), U(addr & (x->page_size - 1)));
	else if (!x->result)
		printf("%s0x%llx is in no VMA: the walk has nothing to show, and an access\n"
		       "%swould be a segmentation fault\n", indent, U(addr), indent);
}

/*
 * Print (or emit as JSON) every level's entry for @addr in @d, a
 * view=translate dump.  @indent prefixes text lines.
 */
void xlate_render(const struct pt_dump *d, uint64_t addr, struct json *j,
		  const char *indent, struct xlate *x)
{
	bool la57 = paging_levels(&d->r[0]) == 5;
	size_t i;

	memset(x, 0, sizeof(*x));
	if (j)
		json_array_begin(j, "levels");
	for (i = 1; i < d->n; i++) {
		const struct shikumi_pt_rec *r = &d->r[i];
		const char *type;

		switch (r->type) {
		case SHIKUMI_PT_REC_TABLE:
			type = "table";
			break;
		case SHIKUMI_PT_REC_LEAF:
			type = "leaf";
			break;
		case SHIKUMI_PT_REC_EMPTY:
			type = "empty";
			break;
		case SHIKUMI_PT_REC_NONPRESENT:
			type = "nonpresent";
			break;
		default:
			continue;
		}
		if (r->type != SHIKUMI_PT_REC_TABLE) {
			x->result = r->type;
			x->flags = r->flags;
		}
		if (r->type == SHIKUMI_PT_REC_NONPRESENT)
			x->pfn = r->pfn;	/* or the swap offset */
		if (r->type == SHIKUMI_PT_REC_LEAF) {
			x->pfn = r->pfn;
			x->page_size = level_size(r->level, la57);
			x->phys = r->pfn * SZ_4K + (addr & (x->page_size - 1));
		}
		if (j)
			xlate_rec_json(j, r, type, la57);
		else
			xlate_rec_text(r, indent, la57);
	}
	if (j)
		xlate_end_json(j, x);
	else
		xlate_end_text(x, addr, indent);
}

int pt_translate(pid_t pid, uint64_t addr, struct pt_dump *d)
{
	char extra[48];

	snprintf(extra, sizeof(extra), "addr=0x%llx", U(addr));
	return pt_fetch(pid, "translate", extra,
			"the address must be in user space", d);
}

static const struct cmd_help translate_help = {
	.usage = "PID ADDR [--json]",
	.summary = "Translate virtual address ADDR of process PID as the MMU does: every\n"
		   "level's entry from the PGD down to the page (its PFN and size) or to\n"
		   "the first empty entry.",
	.details =
	"ADDR is decimal or 0x-prefixed hex.  An entry that is not present but not\n"
	"empty says what the kernel put there: 'swap type T offset O' (the page\n"
	"is in slot O of swap area T; an access is a major fault that reads it\n"
	"back), 'migration-write pfn P' (the page is being moved; an access\n"
	"waits), device-private, device-exclusive, hwpoison or a marker.\n"
	"Needs root and shikumi_ptdump.",
};

int pt_translate_cmd(int argc, char **argv)
{
	const struct opt opts[] = { OPT_FINISH() };
	const struct map_ent *me;
	struct maps mp = { 0 };
	struct pt_dump d;
	struct xlate x;
	uint64_t addr;
	char comm[64];
	int first;
	pid_t pid;

	first = parse_options(argc, argv, opts, &translate_help);
	if (argc - first != 2)
		return usage_error(&translate_help, "give a PID and an address");
	if (parse_pid(argv[first], &pid))
		return usage_error(&translate_help, "'%s' is not a process ID",
				   argv[first]);
	if (parse_addr(argv[first + 1], &addr))
		return usage_error(&translate_help, "'%s' is not an address",
				   argv[first + 1]);
	if (pt_translate(pid, addr, &d))
		return EXIT_FAIL;
	proc_comm(pid, comm, sizeof(comm));
	maps_read(pid, &mp);
	me = maps_find(&mp, addr);
	if (opt_json) {
		struct json *j = json_stdout();

		json_object_begin(j, NULL);
		json_header(j, &d.r[0], comm);
		json_u64(j, "addr", addr);
		if (me) {
			json_object_begin(j, "vma");
			json_u64(j, "start", me->start);
			json_u64(j, "end", me->end);
			json_string(j, "perms", me->perms);
			json_string(j, "path", me->path);
			json_object_end(j);
		} else {
			json_null(j, "vma");
		}
		xlate_render(&d, addr, j, "", &x);
		json_object_end(j);
		json_free(j);
	} else {
		printf("pid %d (%s): virtual address 0x%llx, %u-level paging%s%s\n",
		       pid, comm, U(addr), paging_levels(&d.r[0]),
		       d.r[0].flags & SHIKUMI_PT_H_P4D_FOLDED ?
		       " (the P4D is folded into the PGD)" : "",
		       d.r[0].flags & SHIKUMI_PT_H_PTI_USER ?
		       ", page-table isolation (the user PGD)" : "");
		if (me)
			printf("  in the VMA 0x%llx-0x%llx %s %s\n", U(me->start),
			       U(me->end), me->perms, me->path);
		else
			printf("  in no VMA (/proc/%d/maps)\n", pid);
		xlate_render(&d, addr, NULL, "  ", &x);
	}
	maps_free(&mp);
	pt_dump_free(&d);
	return EXIT_OK;
}
