/* backend.c — the pieces every backend uses: a job's context, its records
 * and status, and the untimed warm-up. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hp_time.h"
#include "backend.h"

const hp_param_t hp_param_none = { .label = "-", .value = 0 };

int hp_case_nparams(const hp_case_t *c)
{
	int n = 0;
	if (c->params)
		while (c->params[n].label)
			n++;
	return n;
}

const hp_param_t *hp_case_param(const hp_case_t *c, int i)
{
	return c->params ? &c->params[i] : &hp_param_none;
}

int hp_job_name(const hp_job_t *j, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s/%s", j->s->name, j->c->name, j->v->name, j->p->label);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ctx.bind_cpu takes no context, so the topology it binds with is the
 * run's, kept here (a run, and a child, load one topology). */
static hp_topo_t *g_topo;

static int ctx_bind_cpu(int cpu)
{
	char err[256];
	return hp_topo_bind_thread(g_topo, cpu, err, sizeof err);
}

void hp_job_ctx(const hp_runenv_t *re, const hp_job_t *j, hp_ctx_t *ctx)
{
	g_topo = re->topo;
	memset(ctx, 0, sizeof *ctx);
	ctx->s = j->s;
	ctx->c = j->c;
	ctx->v = j->v;
	ctx->p = j->p;
	ctx->seed = re->seed;
	ctx->metric = hp_metric_name(re->metric);
	ctx->threads = j->threads;
	ctx->cpus = re->cpus;
	ctx->ncpus = re->ncpus;
	ctx->all_cpus = re->cpus;
	ctx->bind_cpu = ctx_bind_cpu;
}

const char *hp_job_op_unit(const hp_job_t *j)
{
	return j->c->op_unit ? j->c->op_unit : "op";
}

static void fill_key(hp_record_t *r, const hp_job_t *j, const char *cpus)
{
	hp_strlcpy(r->suite, j->s->name, sizeof r->suite);
	hp_strlcpy(r->case_, j->c->name, sizeof r->case_);
	hp_strlcpy(r->variant, j->v->name, sizeof r->variant);
	hp_strlcpy(r->kind, hp_kind_name(j->v->kind), sizeof r->kind);
	hp_strlcpy(r->param, j->p->label, sizeof r->param);
	r->threads = j->threads;
	hp_strlcpy(r->cpus, cpus, sizeof r->cpus);
}

void hp_emit(hp_results_t *out, const hp_job_t *j, const char *cpus, const char *metric,
	     const char *unit_prefix, const char *per, int rep, double value)
{
	hp_record_t r;
	memset(&r, 0, sizeof r);
	fill_key(&r, j, cpus);
	hp_strlcpy(r.metric, metric, sizeof r.metric);
	if (per)
		snprintf(r.unit, sizeof r.unit, "%s/%s", unit_prefix, per);
	else
		hp_strlcpy(r.unit, unit_prefix, sizeof r.unit);
	r.rep = rep;
	r.value = value;
	hp_results_add(out, &r);
}

void hp_set_status(hp_results_t *out, const hp_job_t *j, hp_metric_t m,
		   hp_status_kind_t st, double secs, const char *fmt, ...)
{
	hp_status_t s;
	memset(&s, 0, sizeof s);
	hp_strlcpy(s.suite, j->s->name, sizeof s.suite);
	hp_strlcpy(s.case_, j->c->name, sizeof s.case_);
	hp_strlcpy(s.variant, j->v->name, sizeof s.variant);
	hp_strlcpy(s.kind, hp_kind_name(j->v->kind), sizeof s.kind);
	hp_strlcpy(s.param, j->p->label, sizeof s.param);
	hp_strlcpy(s.metric, hp_metric_name(m), sizeof s.metric);
	s.threads = j->threads;
	s.status = st;
	s.seconds = secs;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s.message, sizeof s.message, fmt, ap);
		va_end(ap);
	}
	hp_results_add_status(out, &s);
}

size_t hp_cpus_string(const int *cpus, int n, char *buf, size_t len)
{
	size_t off = 0;
	if (len)
		buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0, "%s%d",
				 i ? "+" : "", cpus[i]);
		off += (size_t)(w > 0 ? w : 0);
	}
	return off;
}

/* ---- state ops that measure nothing ---- */

static void nop_st(hp_state_t *st) { (void)st; }
void hp_nop_time(hp_state_t *st, double s) { (void)st; (void)s; }
void hp_nop_counter(hp_state_t *st, const char *n, double v) { (void)st; (void)n; (void)v; }
/* st->skipped is set by hp_skip itself; these backends need no message */
void hp_drop_skip(hp_state_t *st, const char *m) { (void)st; (void)m; }

static void nop_skip(hp_state_t *st, const char *m)
{
	if (st->backend && m)
		hp_strlcpy(st->backend, m, 256);
}

const hp_state_ops_t hp_nop_ops = {
	.pause = nop_st, .resume = nop_st, .set_iteration_time = hp_nop_time,
	.counter = hp_nop_counter, .skip = nop_skip,
};

int hp_warm_up(const hp_job_t *j, hp_ctx_t *ctx, double seconds, uint64_t *n_out,
	       char *msg, size_t msglen)
{
	char why[256] = "";
	hp_state_t st = { .ops = &hp_nop_ops, .backend = why, .threads = 1 };
	uint64_t n = 1;
	double t0 = hp_mono_s();
	for (;;) {
		double t1 = hp_mono_s();
		j->c->run(&st, n, ctx);
		if (st.skipped) {
			snprintf(msg, msglen, "%s", why[0] ? why : "the case skipped itself during warm-up");
			return -1;
		}
		double dt = hp_mono_s() - t1;
		if (n_out)
			*n_out = n;
		if (hp_mono_s() - t0 >= seconds || n >= (1ull << 40))
			break;
		/* grow towards the time left, at most 10x per step */
		double left = seconds - (hp_mono_s() - t0);
		uint64_t want = dt > 0 ? (uint64_t)(n * (left / dt)) + 1 : n * 10;
		if (want > n * 10)
			want = n * 10;
		if (want < n + 1)
			want = n + 1;
		n = want;
	}
	return 0;
}
