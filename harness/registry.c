/* registry.c — the suites compiled into hotpath, and lookups. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hp.h"

extern const hp_suite_t hp_suite_kernel;
/* --- suite declarations: one line each --- */
extern const hp_suite_t hp_suite_malloc_workloads;
extern const hp_suite_t hp_suite_buddy;
extern const hp_suite_t hp_suite_rcu;
extern const hp_suite_t hp_suite_sched;
extern const hp_suite_t hp_suite_slub;
extern const hp_suite_t hp_suite_softirq;
extern const hp_suite_t hp_suite_nvme;
extern const hp_suite_t hp_suite_workqueue;
/* --- end suite declarations --- */
extern const hp_suite_t hp_suite_selftest;

/* Suites in the order `hotpath list` shows and `hotpath run` runs them.
 * selftest is not listed here: it exists for the runner's own tests and is
 * found by name only (hp_suite_find) when HP_SELFTEST=1. */
const hp_suite_t *const hp_suites[] = {
	&hp_suite_kernel,
	/* --- suites: one line each, in run order --- */
	&hp_suite_malloc_workloads,
	&hp_suite_buddy,
	&hp_suite_rcu,
	&hp_suite_sched,
	&hp_suite_slub,
	&hp_suite_softirq,
	&hp_suite_nvme,
	&hp_suite_workqueue,
	/* --- end suites --- */
	NULL,
};

void hp_fatal(const hp_ctx_t *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hotpath %s: %s/%s: ", ctx->s ? ctx->s->name : "?", ctx->c->name, ctx->v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

const char *hp_kind_name(hp_kind_t k)
{
	switch (k) {
	case HP_KIND_IMPL: return "impl";
	case HP_KIND_BASELINE: return "baseline";
	case HP_KIND_KERNEL: return "kernel";
	}
	return "?";
}

const hp_suite_t *hp_suite_find(const char *name)
{
	for (int i = 0; hp_suites[i]; i++)
		if (strcmp(hp_suites[i]->name, name) == 0)
			return hp_suites[i];
	const char *st = getenv("HP_SELFTEST");
	if (st && strcmp(st, "1") == 0 && strcmp(name, hp_suite_selftest.name) == 0)
		return &hp_suite_selftest;
	return NULL;
}

const hp_verb_t *hp_verb_find(const char *name)
{
	for (int i = 0; hp_suites[i]; i++)
		for (int k = 0; hp_suites[i]->verbs && hp_suites[i]->verbs[k]; k++)
			if (strcmp(hp_suites[i]->verbs[k]->name, name) == 0)
				return hp_suites[i]->verbs[k];
	return NULL;
}

const hp_case_t *hp_case_find(const hp_suite_t *s, const char *name)
{
	for (int i = 0; s->cases[i]; i++)
		if (strcmp(s->cases[i]->name, name) == 0)
			return s->cases[i];
	return NULL;
}

const hp_variant_t *hp_variant_find(const hp_case_t *c, const char *name)
{
	for (int i = 0; c->variants[i]; i++)
		if (strcmp(c->variants[i]->name, name) == 0)
			return c->variants[i];
	return NULL;
}
