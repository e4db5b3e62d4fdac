/* selftest.c — a hidden suite that exercises the runner itself (child
 * processes with their own environment, unavailable variants, crashes,
 * deterministic instruction counts). Found only when HP_SELFTEST=1. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hp.h"

/* ---- env_probe: the child variant must see its own environment ---- */

static void env_probe_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	const char *want = ctx->v->ops;   /* expected HP_SELFTEST_MARK, or NULL */
	const char *got = getenv("HP_SELFTEST_MARK");
	if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
		hp_skip(st, "HP_SELFTEST_MARK does not match the variant's environment");
		return;
	}
	uint64_t x = ctx->seed;
	for (uint64_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		hp_do_not_optimize(x);
	}
	hp_counter(st, "pid", (double)getpid());
}

static const hp_variant_t v_inproc = { .name = "inproc", .kind = HP_KIND_IMPL };
static const hp_variant_t v_child = {
	.name = "child", .kind = HP_KIND_BASELINE, .ops = "child",
	.child_env = "HP_SELFTEST_MARK=child",
};
static const char *never_available(const hp_ctx_t *ctx)
{
	(void)ctx;
	return "selftest: this variant never runs";
}
static const hp_variant_t v_never = {
	.name = "never", .kind = HP_KIND_BASELINE, .available = never_available,
};

static const hp_case_t c_env_probe = {
	.name = "env_probe",
	.desc = "a child variant runs with its own environment and its records are merged",
	.op_unit = "op",
	.run = env_probe_run,
	.variants = (const hp_variant_t *const[]){ &v_inproc, &v_child, &v_never, NULL },
};

/* ---- spin: a fixed instruction sequence per iteration ---- */

static void spin_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	(void)st;
	uint64_t x = ctx->seed | 1;
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		hp_do_not_optimize(x);
	}
}

/* c is a full_only point: left out of smoke and quick unless a --filter asks */
static const hp_param_t spin_params[] = {
	{ .label = "a", .value = 1 }, { .label = "b", .value = 2 },
	{ .label = "c", .value = 3, .full_only = 1 }, { .label = NULL },
};

static const hp_case_t c_spin = {
	.name = "spin",
	.desc = "xorshift steps: a deterministic instruction count per op",
	.op_unit = "op",
	.param_name = "p",
	.params = spin_params,
	.thread_sweep = 1,
	.run = spin_run,
	.variants = (const hp_variant_t *const[]){ &v_inproc, NULL },
};

/* ---- crash: dies in the middle of a run when HP_SELFTEST_CRASH=1 ---- */

static void crash_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	(void)st; (void)n; (void)ctx;
	const char *c = getenv("HP_SELFTEST_CRASH");
	if (c && strcmp(c, "1") == 0)
		raise(SIGSEGV);
}

static const hp_case_t c_crash = {
	.name = "crash",
	.desc = "crashes when HP_SELFTEST_CRASH=1 (records of finished cases must survive)",
	.op_unit = "op",
	.run = crash_run,
	.variants = (const hp_variant_t *const[]){ &v_inproc, NULL },
};

const hp_suite_t hp_suite_selftest = {
	.name = "selftest",
	.desc = "the runner's own checks (hidden; HP_SELFTEST=1)",
	.cases = (const hp_case_t *const[]){ &c_env_probe, &c_spin, &c_crash, NULL },
};
