/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shikumi doctor: is this machine ready for the book's experiments?  Each
 * check gives a one-line verdict and, when it is not ok, the command that
 * fixes it.  doctor.c checks the kernel and what building needs,
 * doctor-modules.c shikumi's modules, doctor-experiments.c what each
 * experiment needs; doctor-report.c shows them (text or JSON).
 */
#ifndef SHIKUMI_DOCTOR_H
#define SHIKUMI_DOCTOR_H

#include <libkmod.h>
#include <stdbool.h>

enum doctor_verdict {
	DOCTOR_OK,
	DOCTOR_INFO,	/* a fact, nothing to fix */
	DOCTOR_WARN,	/* a stop of the tour cannot run; the rest can */
	DOCTOR_FAIL,	/* the tour cannot run */
};

#define DOCTOR_MAX_CHECKS	24

struct doctor_check {
	const char *id;		/* "debugfs" */
	const char *area;	/* "kernel", "build", "modules", "experiments" */
	enum doctor_verdict verdict;
	char what[256];		/* the one-line verdict */
	char fix[320];		/* the command that fixes it, or "" */
};

struct doctor {
	const char *release;
	bool root;
	bool modules_ready;	/* every module built for this kernel */
	bool secure_boot;	/* EFI Secure Boot is on */
	struct doctor_check check[DOCTOR_MAX_CHECKS];
	int n;
};

/* Add a check; its what and fix are printf formats ("" for no fix). */
struct doctor_check *doctor_add(struct doctor *d, const char *id, const char *area,
				enum doctor_verdict v, const char *what_fmt, ...)
	__attribute__((format(printf, 5, 6)));
void doctor_fix(struct doctor_check *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* doctor-modules.c: where the modules come from, vermagic, signatures, MOK */
void doctor_modules(struct doctor *d, struct kmod_ctx *ctx);
/* doctor-experiments.c: THP, swap, fio, schedstats, preemption, VM */
void doctor_experiments(struct doctor *d);
/* doctor-report.c */
void doctor_report_text(const struct doctor *d);
void doctor_report_json(const struct doctor *d);
const char *doctor_verdict_name(enum doctor_verdict v);

#endif /* SHIKUMI_DOCTOR_H */
