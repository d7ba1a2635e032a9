// SPDX-License-Identifier: GPL-2.0
/*
 * The parts of an ELF file that say where it lands in memory: its PT_LOAD
 * program headers and its allocated sections, read with libelf.
 */
#include <errno.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>

#include "shikumi.h"

static int read_segments(Elf *e, struct elf_info *ei)
{
	size_t n, i;
	GElf_Phdr ph;

	if (elf_getphdrnum(e, &n))
		return -ENOEXEC;
	ei->load = calloc(n ? n : 1, sizeof(*ei->load));
	if (!ei->load)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(e, (int)i, &ph))
			return -ENOEXEC;
		if (ph.p_type == PT_INTERP)
			ei->has_interp = true;
		if (ph.p_type != PT_LOAD)
			continue;
		ei->load[ei->nload++] = (struct elf_segment){
			.offset = ph.p_offset, .vaddr = ph.p_vaddr,
			.filesz = ph.p_filesz, .memsz = ph.p_memsz,
			.align = ph.p_align, .flags = ph.p_flags,
		};
	}
	return 0;
}

static int read_sections(Elf *e, struct elf_info *ei)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx, n, cap = 0;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(e, &shstrndx) || elf_getshdrnum(e, &n))
		return 0;	/* stripped of section headers: segments only */
	cap = n ? n : 1;
	ei->sec = calloc(cap, sizeof(*ei->sec));
	if (!ei->sec)
		return -ENOMEM;
	while ((scn = elf_nextscn(e, scn)) != NULL && ei->nsec < cap) {
		struct elf_section *s;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		/* TLS sections are templates, not where the threads' data is */
		if (!(sh.sh_flags & SHF_ALLOC) || (sh.sh_flags & SHF_TLS) ||
		    !sh.sh_addr || !sh.sh_size)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name)
			continue;
		s = &ei->sec[ei->nsec++];
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->addr = sh.sh_addr;
		s->size = sh.sh_size;
		s->nobits = sh.sh_type == SHT_NOBITS;
	}
	return 0;
}

int elf_info_read(int fd, struct elf_info *ei)
{
	GElf_Ehdr eh;
	Elf *e;
	int ret;

	memset(ei, 0, sizeof(*ei));
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ELIBBAD;	/* this libelf cannot read this ELF version */
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e)
		return -ENOEXEC;
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)) {
		elf_end(e);
		return -ENOEXEC;
	}
	ei->type = eh.e_type;
	ret = read_segments(e, ei);
	if (!ret)
		ret = read_sections(e, ei);
	elf_end(e);
	if (ret)
		elf_info_free(ei);
	return ret;
}

void elf_info_free(struct elf_info *ei)
{
	free(ei->load);
	free(ei->sec);
	ei->load = NULL;
	ei->sec = NULL;
	ei->nload = 0;
	ei->nsec = 0;
}
