// SPDX-License-Identifier: GPL-2.0
/*
 * shikumi doctor: the report of what doctor.c and its checks gathered,
 * a line per check with its fix under it (text), or whole (JSON).
 */
#include <stdio.h>
#include <string.h>

#include "doctor.h"
#include "shikumi.h"

const char *doctor_verdict_name(enum doctor_verdict v)
{
	switch (v) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_INFO:
		return "info";
	case DOCTOR_WARN:
		return "warn";
	case DOCTOR_FAIL:
		return "fail";
	}
	return "?";
}

static void count(const struct doctor *d, int *fail, int *warn)
{
	int i;

	*fail = 0;
	*warn = 0;
	for (i = 0; i < d->n; i++) {
		*fail += d->check[i].verdict == DOCTOR_FAIL;
		*warn += d->check[i].verdict == DOCTOR_WARN;
	}
}

void doctor_report_text(const struct doctor *d)
{
	static const char *const label[] = { "ok", "info", "WARN", "FAIL" };
	const char *area = "";
	int i, fail, warn;

	printf("shikumi doctor: kernel %s\n", d->release);
	for (i = 0; i < d->n; i++) {
		const struct doctor_check *c = &d->check[i];

		if (strcmp(area, c->area)) {
			area = c->area;
			printf("\n%s:\n", area);
		}
		printf("  %-4s  %-10s  %s\n", label[c->verdict], c->id, c->what);
		if (c->fix[0] && c->verdict != DOCTOR_OK)
			printf("  %-4s  %-10s  fix: %s\n", "", "", c->fix);
	}
	count(d, &fail, &warn);
	printf("\n");
	if (fail)
		printf("not ready: %d check%s failed, %d warning%s; run the fixes above\n", fail,
		       fail == 1 ? "" : "s", warn, warn == 1 ? "" : "s");
	else if (warn)
		printf("ready, but %d stop%s of the tour cannot run (WARN above)\n", warn,
		       warn == 1 ? "" : "s");
	else
		printf("ready: everything the tour needs is in place\n");
}

void doctor_report_json(const struct doctor *d)
{
	struct json *j = json_stdout();
	int i, fail, warn;

	count(d, &fail, &warn);
	json_object_begin(j, NULL);
	json_string(j, "kernel", d->release);
	json_bool(j, "ready", !fail);
	json_u64(j, "failed", fail);
	json_u64(j, "warnings", warn);
	json_array_begin(j, "checks");
	for (i = 0; i < d->n; i++) {
		const struct doctor_check *c = &d->check[i];

		json_object_begin(j, NULL);
		json_string(j, "id", c->id);
		json_string(j, "area", c->area);
		json_string(j, "verdict", doctor_verdict_name(c->verdict));
		json_string(j, "what", c->what);
		json_string(j, "fix", c->fix[0] ? c->fix : NULL);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}
