// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi pt: ELF marks for dump.  The executable and the libraries a
 * process maps are read with libelf, and their segments and sections are
 * placed at their runtime addresses.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pt.h"

/* ---- ELF marks ------------------------------------------------------------ */

/* The sections marked on a dump unless --all-sections */
static const char *const main_sections[] = {
	".init", ".plt", ".plt.sec", ".text", ".fini", ".rodata", ".eh_frame",
	".data.rel.ro", ".dynamic", ".got", ".got.plt", ".data", ".bss",
};

void elfset_free(struct elfset *es)
{
	size_t i;

	for (i = 0; i < es->nf; i++) {
		free(es->f[i].path);
		elf_info_free(&es->f[i].ei);
	}
	free(es->f);
	free(es->m);
	memset(es, 0, sizeof(*es));
}

const char *elf_kind_str(const struct elf_file *ef)
{
	if (ef->ei.type == ET_EXEC)
		return "non-PIE executable (ET_EXEC: linked at fixed addresses)";
	if (ef->ei.has_interp)
		return "PIE executable (ET_DYN: loaded at a random base)";
	return "shared object (ET_DYN)";
}

const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool want_section(const char *name, bool all)
{
	size_t i;

	if (all)
		return true;
	for (i = 0; i < ARRAY_SIZE(main_sections); i++)
		if (!strcmp(name, main_sections[i]))
			return true;
	return false;
}

/*
 * Open a mapped file as the process sees it: through map_files (root; also
 * works across mount namespaces and for deleted files), else by its path.
 */
static int open_mapped(pid_t pid, const struct map_ent *me)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "/proc/%d/map_files/%llx-%llx", pid, U(me->start),
		 U(me->end));
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(me->path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/*
 * For each file with an executable mapping (the program, the shared
 * libraries, ld.so): read its PT_LOAD segments and sections, find the load
 * bias from a mapping whose file offset is a segment's, and place the
 * sections at their runtime addresses.
 */
int elfset_build(pid_t pid, const struct maps *mp, bool all,
		 struct elfset *es)
{
	uint64_t pmask = SZ_4K - 1;
	size_t i, k, s, cap = 0;

	memset(es, 0, sizeof(*es));
	es->f = calloc(mp->n ? mp->n : 1, sizeof(*es->f));
	if (!es->f)
		return -1;
	for (i = 0; i < mp->n; i++) {
		const struct map_ent *me = &mp->v[i];
		struct elf_file *ef;
		int fd;

		if (me->path[0] != '/' || me->perms[2] != 'x')
			continue;
		for (k = 0; k < es->nf; k++)
			if (!strcmp(es->f[k].path, me->path))
				break;
		if (k < es->nf)
			continue;
		ef = &es->f[es->nf];
		ef->path = strdup(me->path);
		if (!ef->path)
			return -1;
		es->nf++;
		fd = open_mapped(pid, me);
		if (fd < 0) {
			ef->err = errno;
			continue;
		}
		ef->err = -elf_info_read(fd, &ef->ei);
		close(fd);
		if (ef->err)
			continue;
		/* the bias, from the first mapping that starts a segment */
		for (k = 0; k < mp->n && !ef->have_bias; k++) {
			if (strcmp(mp->v[k].path, ef->path))
				continue;
			for (s = 0; s < ef->ei.nload; s++) {
				const struct elf_segment *sg = &ef->ei.load[s];

				if ((sg->offset & ~pmask) != mp->v[k].offset)
					continue;
				ef->bias = mp->v[k].start - (sg->vaddr & ~pmask);
				ef->have_bias = true;
				break;
			}
		}
		if (!ef->have_bias)
			continue;
		for (s = 0; s < ef->ei.nsec; s++) {
			const struct elf_section *sc = &ef->ei.sec[s];

			if (!want_section(sc->name, all))
				continue;
			if (es->nm == cap) {
				void *np;

				cap = cap ? cap * 2 : 64;
				np = realloc(es->m, cap * sizeof(*es->m));
				if (!np)
					return -1;
				es->m = np;
			}
			es->m[es->nm++] = (struct mark){
				.name = sc->name, .file = ef,
				.start = sc->addr + ef->bias,
				.end = sc->addr + ef->bias + sc->size,
			};
		}
	}
	return 0;
}

bool overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

/* The ELF file a VMA maps, if it is one of the set. */
const struct elf_file *elfset_file(const struct elfset *es,
				   const struct map_ent *me)
{
	size_t i;

	if (!me || me->path[0] != '/')
		return NULL;
	for (i = 0; i < es->nf; i++)
		if (!strcmp(es->f[i].path, me->path))
			return &es->f[i];
	return NULL;
}

/* The PT_LOAD segment a file-backed VMA maps, or -1. */
int vma_segment(const struct elf_file *ef, const struct map_ent *me)
{
	size_t s;

	for (s = 0; ef && ef->have_bias && s < ef->ei.nload; s++) {
		const struct elf_segment *sg = &ef->ei.load[s];
		uint64_t start = (sg->vaddr & ~(SZ_4K - 1)) + ef->bias;
		uint64_t end = sg->vaddr + sg->memsz + ef->bias;

		if (me->start >= start && me->start < end)
			return (int)s;
	}
	return -1;
}

void seg_flags(uint32_t pf, char *s)
{
	s[0] = pf & PF_R ? 'R' : '-';
	s[1] = pf & PF_W ? 'W' : '-';
	s[2] = pf & PF_X ? 'X' : '-';
	s[3] = '\0';
}

void json_elf_files(struct json *j, const struct elfset *es)
{
	size_t i, s;
	char fl[4];

	json_array_begin(j, "elf_files");
	for (i = 0; i < es->nf; i++) {
		const struct elf_file *ef = &es->f[i];

		json_object_begin(j, NULL);
		json_string(j, "path", ef->path);
		if (ef->err) {
			json_string(j, "error", strerror(ef->err));
			json_object_end(j);
			continue;
		}
		json_string(j, "type", ef->ei.type == ET_EXEC ? "EXEC" : "DYN");
		json_bool(j, "pie", ef->ei.type == ET_DYN && ef->ei.has_interp);
		if (ef->have_bias)
			json_u64(j, "load_bias", ef->bias);
		else
			json_null(j, "load_bias");
		json_array_begin(j, "segments");
		for (s = 0; s < ef->ei.nload; s++) {
			const struct elf_segment *sg = &ef->ei.load[s];

			json_object_begin(j, NULL);
			json_u64(j, "offset", sg->offset);
			json_u64(j, "vaddr", sg->vaddr);
			json_u64(j, "filesz", sg->filesz);
			json_u64(j, "memsz", sg->memsz);
			seg_flags(sg->flags, fl);
			json_string(j, "flags", fl);
			if (ef->have_bias) {
				json_u64(j, "start", sg->vaddr + ef->bias);
				json_u64(j, "end", sg->vaddr + sg->memsz + ef->bias);
			}
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}
