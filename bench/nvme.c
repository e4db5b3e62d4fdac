/* nvme.c — suite "nvme": polled, interrupt and hybrid completion of QD1 reads, emulated (impl/nvme) and over io_uring on a real device.
 *
 * Cases emulated (impl/nvme's queue pair: poll, irq, hybrid), coalesce
 * (interrupt coalescing) and uring (io_uring and fio on a real target).
 * Every read is checked; a short or wrong read aborts the run.
 * Documented in docs/suites/nvme.md.
 */
#include "hp.h"
#include "hp_time.h"
#include "plot.h"
#include "record.h"
#include "stats.h"
#include "nvme.h"
#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* Variants: the emulated cases' ops are impl/nvme's completion modes
 * (hp_nvme_mode_ops_t), the uring case's are baselines/nvme's readers
 * (hp_uring_ops_t); each case only has variants of its own kind. */
#define EM_OPS(ctx) ((const hp_nvme_mode_ops_t *)(ctx)->v->ops)
#define UR_OPS(ctx) ((const hp_uring_ops_t *)(ctx)->v->ops)

/* ------------------------------------------------------------------ */
/* emulated                                                            */
/* ------------------------------------------------------------------ */

#define EM_BLOCKS 4096          /* 16 MiB namespace of 4 KiB LBAs */

typedef struct em {
	hp_nvme_queue_t *q;
	hp_nvme_mode_t mode;
	void *buf;
	uint64_t seed, batch;
	/* the batch in progress (em_begin .. em_end) */
	hp_nvme_stats_t s0;
	struct timespec c0;
	int slack;
} em_t;

static void em_free(em_t *e)
{
	if (!e)
		return;
	hp_nvme_destroy(e->q);
	free(e->buf);
	free(e);
}

/* The emulated device of both cases: a QD1 queue whose controller takes
 * the param's service time, on another CPU than the host thread. */
static void em_config(const hp_ctx_t *ctx, hp_nvme_config_t *cfg)
{
	hp_nvme_config_init(cfg);
	cfg->qdepth = 2;
	cfg->lba_size = 4096;
	cfg->ns_blocks = EM_BLOCKS;
	cfg->svc = HP_NVME_SVC_FIXED;
	cfg->svc_ns = (uint64_t)ctx->p->value;
	cfg->seed = ctx->seed;
	cfg->device_os_cpu = ctx->all_cpus[0] == ctx->cpus[0] ? ctx->all_cpus[1] : ctx->all_cpus[0];
	cfg->irq = EM_OPS(ctx)->irq;  /* an NVMe poll queue has no interrupt */
}

static em_t *em_new(const hp_ctx_t *ctx, const hp_nvme_config_t *cfg)
{
	em_t *e = calloc(1, sizeof *e);

	if (!e)
		return NULL;
	e->mode = EM_OPS(ctx)->mode;
	e->seed = ctx->seed;
	if (posix_memalign(&e->buf, 4096, 4096 * 16) != 0 || hp_nvme_create(cfg, &e->q) != 0) {
		em_free(e);
		return NULL;
	}
	return e;
}

static void *em_setup(hp_ctx_t *ctx)
{
	hp_nvme_config_t cfg;

	em_config(ctx, &cfg);
	return em_new(ctx, &cfg);
}

/* coalesce: 16 reads in flight on a 2 us device; aggregation time 100 us
 * (one unit of the NVMe feature), threshold from the param */
static void *co_setup(hp_ctx_t *ctx)
{
	hp_nvme_config_t cfg;

	em_config(ctx, &cfg);
	cfg.qdepth = 32;
	cfg.svc_ns = 2000;
	cfg.coalesce_thr = (unsigned)ctx->p->value;
	cfg.coalesce_time_ns = 100000;
	return em_new(ctx, &cfg);
}

static void em_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	em_free(data);
}

/* Clock paused: the counters' starting point, and a timer slack of 1 ns
 * for the hybrid host: blk_mq_poll_hybrid_sleep()'s hrtimer had no slack
 * range, while a user-space nap gets the thread's (50 us by default). */
static void em_begin(hp_state_t *st, em_t *e)
{
	hp_pause(st);
	e->slack = -1;
	if (e->mode == HP_NVME_HYBRID) {
		e->slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	}
	hp_nvme_stats(e->q, &e->s0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &e->c0);
	hp_resume(st);
}

/* Clock paused: the batch's counters per read, and the slack put back. */
static void em_end(hp_state_t *st, em_t *e, uint64_t n)
{
	const hp_nvme_stats_t *a = &e->s0;
	hp_nvme_stats_t b;
	struct timespec c1;
	double d = (double)n;

	hp_pause(st);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	hp_nvme_stats(e->q, &b);
	if (n) {
		hp_counter(st, "host_cpu_ns_per_read",
			   ((double)(c1.tv_sec - e->c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - e->c0.tv_nsec)) / d);
		hp_counter(st, "sleeps_per_read", (double)(b.sleeps - a->sleeps) / d);
		hp_counter(st, "empty_polls_per_read", (double)(b.poll_spins - a->poll_spins) / d);
		hp_counter(st, "hybrid_sleeps_per_read", (double)(b.hybrid_sleeps - a->hybrid_sleeps) / d);
		hp_counter(st, "irqs_per_read", (double)(b.irqs - a->irqs) / d);
		hp_counter(st, "timer_irqs_per_read", (double)(b.irqs_timer - a->irqs_timer) / d);
		if (b.hybrid_sleeps > a->hybrid_sleeps)
			hp_counter(st, "hybrid_overslept_ns",
				   ((double)(b.hybrid_slept_ns - a->hybrid_slept_ns) -
				    (double)(b.hybrid_sleep_ns - a->hybrid_sleep_ns)) /
					   (double)(b.hybrid_sleeps - a->hybrid_sleeps));
	}
	if (e->slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)e->slack, 0, 0, 0);
	hp_resume(st);
}

/* The read's first word against the namespace pattern: one load and a
 * multiply against microseconds of I/O, kept in the loop so that every
 * read is checked, not a sample. */
static void em_check(const hp_ctx_t *ctx, const void *buf, uint64_t lba, uint64_t i)
{
	if (*(const uint64_t *)buf != hp_nvme_pattern(lba, 0))
		hp_fatal(ctx, "read %llu: lba %llu came back with other data", (unsigned long long)i,
			 (unsigned long long)lba);
}

static void em_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	em_t *e = ctx->data;
	uint64_t x = e->seed ^ (0x5851f42d4c957f2dull * ++e->batch);

	em_begin(st, e);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t lba = hp_splitmix64(&x) % EM_BLOCKS;
		hp_nvme_sqe_t sqe = {
			.opcode = HP_NVME_CMD_READ, .nsid = HP_NVME_NSID,
			.prp1 = (uint64_t)(uintptr_t)e->buf, .slba = lba, .nlb = 0,
		};
		hp_nvme_cqe_t cqe;
		int cid = hp_nvme_submit(e->q, &sqe), rc;

		if (cid < 0)
			hp_fatal(ctx, "submit: %s", strerror(-cid));
		rc = hp_nvme_wait(e->q, e->mode, cid, &cqe);
		if (rc != 0 || cqe.status >> 1 || cqe.cid != (uint16_t)cid)
			hp_fatal(ctx, "read %llu (lba %llu): wait %d, status 0x%x, cid %u of %d",
				 (unsigned long long)i, (unsigned long long)lba, rc, cqe.status >> 1, cqe.cid, cid);
		em_check(ctx, e->buf, lba, i);
	}
	em_end(st, e, n);
}

#define CO_INFLIGHT 16

/* coalesce: CO_INFLIGHT reads kept in flight; each completion reaped
 * (after its interrupt) is replaced by a new read. */
static void co_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	em_t *e = ctx->data;
	uint64_t x = e->seed ^ (0x5851f42d4c957f2dull * ++e->batch), sub = 0, done = 0;
	uint64_t lba_of[64];
	int slot_of[64], free_slot[CO_INFLIGHT], nfree = CO_INFLIGHT;

	for (int i = 0; i < CO_INFLIGHT; i++)
		free_slot[i] = i;
	em_begin(st, e);
	while (done < n) {
		while (sub < n && nfree > 0) {
			uint64_t lba = hp_splitmix64(&x) % EM_BLOCKS;
			int slot = free_slot[--nfree];
			hp_nvme_sqe_t sqe = {
				.opcode = HP_NVME_CMD_READ, .nsid = HP_NVME_NSID,
				.prp1 = (uint64_t)(uintptr_t)((char *)e->buf + 4096 * slot),
				.slba = lba, .nlb = 0,
			};
			int cid = hp_nvme_submit(e->q, &sqe);

			if (cid < 0 || cid >= 64)
				hp_fatal(ctx, "submit: %d", cid);
			lba_of[cid] = lba;
			slot_of[cid] = slot;
			sub++;
		}
		hp_nvme_cqe_t cqe;
		int rc = hp_nvme_wait(e->q, e->mode, HP_NVME_ANY, &cqe);

		if (rc != 0 || cqe.status >> 1 || cqe.cid >= 64)
			hp_fatal(ctx, "read %llu: wait %d, status 0x%x", (unsigned long long)done, rc, cqe.status >> 1);
		/* the read landed in its own buffer, with its LBA's data */
		em_check(ctx, (char *)e->buf + 4096 * slot_of[cqe.cid], lba_of[cqe.cid], done);
		free_slot[nfree++] = slot_of[cqe.cid];
		done++;
	}
	em_end(st, e, n);
}

static const char *em_available(const hp_ctx_t *ctx)
{
	if (ctx->bind_cpu && hp_metric_is_callgrind(ctx->metric))
		return "the controller is another thread: valgrind serialises threads, so a wait counts "
		       "the scheduler, not the completion path";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* uring: the target                                                   */
/* ------------------------------------------------------------------ */

static char tgt_path[4096];
static char tgt_why[512];
static int tgt_state;           /* 0 not yet, 1 ready, -1 failed (tgt_why) */
/* The target of every uring variant in this process: the user's, or a
 * pattern file made once. NULL with the reason in tgt_why. */
static const char *target(void)
{
	const char *env = getenv("HOTPATH_BLOCK_TARGET");

	if (tgt_state)
		return tgt_state > 0 ? tgt_path : NULL;
	if (env && *env) {
		snprintf(tgt_path, sizeof tgt_path, "%s", env);
		tgt_state = 1;
		return tgt_path;
	}
	const char *dir = getenv("HOTPATH_BLOCK_DIR");
	char why[400];

	if (!dir || !*dir)
		dir = "/var/tmp";
	if (hp_uring_make_file(dir, 0, tgt_path, sizeof tgt_path, why, sizeof why) != 0) {
		snprintf(tgt_why, sizeof tgt_why, "no default target: %s (set HOTPATH_BLOCK_TARGET to a "
			 "block device or a file, or HOTPATH_BLOCK_DIR to a disk-backed directory)", why);
		tgt_state = -1;
		return NULL;
	}
	/* keep it open and unlink it at once, so no crash can leave 64 MiB
	 * behind; everything (fio too) opens it again through /proc */
	int fd = open(tgt_path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(tgt_why, sizeof tgt_why, "cannot reopen %s: %s", tgt_path, strerror(errno));
		unlink(tgt_path);
		tgt_state = -1;
		return NULL;
	}
	unlink(tgt_path);
	snprintf(tgt_path, sizeof tgt_path, "/proc/%d/fd/%d", (int)getpid(), fd);
	tgt_state = 1;
	return tgt_path;
}

static const char *uring_available(const hp_ctx_t *ctx)
{
	static char why[3][640];
	static int done[3];
	const hp_uring_ops_t *o = UR_OPS(ctx);
	int m = o->mode;
	const char *t;

	if (ctx->bind_cpu && hp_metric_is_callgrind(ctx->metric))
		return "the reads' cost is the kernel's and the device's, which callgrind does not see";
	if (o->via_fio) {
		static char fwhy[128];
		char exe[4096];

		if (hp_uring_fio_find(NULL, exe, sizeof exe, fwhy, sizeof fwhy) != 0)
			return fwhy;
	}
	if (!(t = target()))
		return tgt_why;
	if (!done[m]) {
		char w[512];

		if (hp_uring_available(t, m, w, sizeof w) != 0)
			snprintf(why[m], sizeof why[m], "%s", w);
		else
			why[m][0] = '\0';
		done[m] = 1;
	}
	return why[m][0] ? why[m] : NULL;
}

/* ------------------------------------------------------------------ */
/* uring: the runs                                                     */
/* ------------------------------------------------------------------ */

typedef struct ur {
	hp_uring_t *h;
	uint64_t batch;
	char err[512];
} ur_t;

static void *ur_setup(hp_ctx_t *ctx)
{
	ur_t *u = calloc(1, sizeof *u);
	const hp_uring_ops_t *o = UR_OPS(ctx);
	const char *t = target();

	if (!u || !t) {
		free(u);
		return NULL;
	}
	if (!o->via_fio) {
		u->h = hp_uring_open(t, o->mode, u->err, sizeof u->err);
		if (!u->h) {
			fprintf(stderr, "hotpath nvme: %s: %s\n", ctx->v->name, u->err);
			free(u);
			return NULL;
		}
	}
	return u;
}

static void ur_teardown(hp_ctx_t *ctx, void *data)
{
	ur_t *u = data;

	(void)ctx;
	if (u)
		hp_uring_close(u->h);
	free(u);
}

static void ur_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	ur_t *u = ctx->data;
	uint64_t seed = ctx->seed ^ (0x5851f42d4c957f2dull * ++u->batch);

	if (!n) {
		hp_set_iteration_time(st, 0);
		return;
	}
	if (u->h) {
		hp_uring_stats_t s;
		double t0 = hp_mono_s(), t1;
		int rc;

		hp_uring_stats_reset(u->h);
		rc = hp_uring_run(u->h, n, seed);
		t1 = hp_mono_s();
		if (rc != 0)
			hp_fatal(ctx, "%llu reads: %s", (unsigned long long)n, strerror(-rc));
		s = hp_uring_stats(u->h);
		if (s.reads != n || s.short_reads)
			hp_fatal(ctx, "%llu reads asked, %llu done, %llu short", (unsigned long long)n,
				 (unsigned long long)s.reads, (unsigned long long)s.short_reads);
		hp_set_iteration_time(st, t1 - t0);
		hp_counter(st, "eagain_per_read", (double)s.eagain / (double)n);
		return;
	}
	/* fio: its own process, pinned to this CPU, timed by its mean latency */
	hp_uring_fio_opts_t o = {
		.path = target(), .mode = UR_OPS(ctx)->mode, .cpu = ctx->cpus[0], .ios = n,
		.seed = seed, .timeout_s = 60 + (double)n * 1e-3,
	};
	hp_uring_fio_result_t r;
	int rc = hp_uring_fio_run(&o, &r, u->err, sizeof u->err);

	if (rc != 0)
		hp_fatal(ctx, "fio: %s", u->err);
	if (r.ios != n)
		hp_fatal(ctx, "fio did %llu reads of %llu", (unsigned long long)r.ios, (unsigned long long)n);
	hp_set_iteration_time(st, (double)n * r.lat_mean_ns * 1e-9);
	hp_counter(st, "fio_clat_p99_ns", r.clat_p99_ns);
}

/* ------------------------------------------------------------------ */
/* Variants and cases                                                  */
/* ------------------------------------------------------------------ */

#define NV_VARIANT(id, vname, k, table, avail) \
	static const hp_variant_t id = { .name = vname, .kind = k, .available = avail, .ops = &(table) }
NV_VARIANT(v_epoll, "impl-poll", HP_KIND_IMPL, hp_nvme_ops_poll, em_available);
NV_VARIANT(v_eirq, "impl-irq", HP_KIND_IMPL, hp_nvme_ops_irq, em_available);
NV_VARIANT(v_ehybrid, "impl-hybrid", HP_KIND_IMPL, hp_nvme_ops_hybrid, em_available);
NV_VARIANT(v_uirq, "uring-irq", HP_KIND_KERNEL, hp_uring_ops_irq, uring_available);
NV_VARIANT(v_upoll, "uring-poll", HP_KIND_KERNEL, hp_uring_ops_poll, uring_available);
NV_VARIANT(v_uhybrid, "uring-hybrid", HP_KIND_KERNEL, hp_uring_ops_hybrid, uring_available);
NV_VARIANT(v_firq, "fio-irq", HP_KIND_BASELINE, hp_uring_ops_fio_irq, uring_available);
NV_VARIANT(v_fpoll, "fio-poll", HP_KIND_BASELINE, hp_uring_ops_fio_poll, uring_available);
#undef NV_VARIANT

/* The device time sweep of the crossover (docs/suites/nvme.md): 2, 8 and
 * 32 us in the quick profile, all eight points in the full one. */
static const hp_param_t svc_params[] = {
	{ .label = "1us", .value = 1000, .min_cpus = 2, .full_only = 1 },
	{ .label = "2us", .value = 2000, .min_cpus = 2 },
	{ .label = "4us", .value = 4000, .min_cpus = 2, .full_only = 1 },
	{ .label = "8us", .value = 8000, .min_cpus = 2 },
	{ .label = "16us", .value = 16000, .min_cpus = 2, .full_only = 1 },
	{ .label = "32us", .value = 32000, .min_cpus = 2 },
	{ .label = "64us", .value = 64000, .min_cpus = 2, .full_only = 1 },
	{ .label = "128us", .value = 128000, .min_cpus = 2, .full_only = 1 },
	{ .label = NULL },
};

static const hp_case_t c_emulated = {
	.name = "emulated",
	.desc = "QD1 4 KiB reads on impl/nvme's emulated controller: poll, interrupt, hybrid",
	.op_unit = "read",
	.param_name = "service time",
	.params = svc_params,
	.setup = em_setup, .teardown = em_teardown, .run = em_run,
	.variants = (const hp_variant_t *const[]){ &v_epoll, &v_eirq, &v_ehybrid, NULL },
};

static const hp_case_t c_uring = {
	.name = "uring",
	.desc = "QD1 4 KiB O_DIRECT reads over io_uring (irq, IOPOLL, hybrid) and fio on a real target",
	.op_unit = "read",
	.manual_time = 1,
	.setup = ur_setup, .teardown = ur_teardown, .run = ur_run,
	.variants = (const hp_variant_t *const[]){
		&v_uirq, &v_upoll, &v_uhybrid, &v_firq, &v_fpoll, NULL,
	},
};

static const hp_param_t co_params[] = {
	{ .label = "1", .value = 1, .min_cpus = 2 },
	{ .label = "4", .value = 4, .min_cpus = 2 },
	{ .label = "16", .value = 16, .min_cpus = 2 },
	{ .label = NULL },
};

static const hp_case_t c_coalesce = {
	.name = "coalesce",
	.desc = "16 reads in flight on a 2 us emulated device, interrupt per 1, 4 or 16 completions",
	.op_unit = "read",
	.param_name = "aggregation threshold",
	.params = co_params,
	.setup = co_setup, .teardown = em_teardown, .run = co_run,
	.variants = (const hp_variant_t *const[]){ &v_eirq, NULL },
};

/* ------------------------------------------------------------------ */
/* The crossover (FAST'12): plot and summary                           */
/* ------------------------------------------------------------------ */

enum { XV_POLL, XV_IRQ, XV_HYBRID, XV_N };
static const char *const xv_name[XV_N] = { "impl-poll", "impl-irq", "impl-hybrid" };
#define XP_MAX 16

/* The medians of the emulated case at one thread, per device time (the
 * params found, ascending) and variant; NaN where a value is missing. */
typedef struct xover {
	int np;
	double t_us[XP_MAX];
	double lat[XP_MAX][XV_N], cpu[XP_MAX][XV_N], over[XP_MAX];
	/* the break-even: found 1 (at t_even), -1 below the range, 0 not reached */
	int found;
	double t_even;
	double irq_over_ns;     /* irq minus poll latency at the shortest point */
} xover_t;

static double xv_median(const hp_bench_set_t *r, const char *variant, const char *param, const char *metric)
{
	double v[256];
	size_t n = 0;

	for (size_t i = 0; i < r->n && n < 256; i++) {
		const hp_bench_vals_t *x = &r->b[i];

		if (!strcmp(x->suite, "nvme") && !strcmp(x->case_, "emulated") && x->threads == 1 &&
		    !strcmp(x->variant, variant) && !strcmp(x->param, param) && !strcmp(x->metric, metric))
			for (size_t k = 0; k < x->n && n < 256; k++)
				v[n++] = x->v[k];
	}
	return n ? hp_median(v, n) : NAN;
}

/* Polling's gain per read at one point: the latency it saves over the
 * interrupt path minus the extra host CPU it burns. */
static double xv_gain(const xover_t *x, int i)
{
	return (x->lat[i][XV_IRQ] - x->lat[i][XV_POLL]) - (x->cpu[i][XV_POLL] - x->cpu[i][XV_IRQ]);
}

/* Fills *x (np 0: nothing to draw). */
static void xover_gather(const hp_bench_set_t *r, xover_t *x)
{
	memset(x, 0, sizeof *x);
	for (int k = 0; svc_params[k].label && x->np < XP_MAX; k++) {
		const char *p = svc_params[k].label;
		double l0 = xv_median(r, xv_name[XV_POLL], p, "real_time");
		double l1 = xv_median(r, xv_name[XV_IRQ], p, "real_time");

		if (isnan(l0) || isnan(l1))
			continue;   /* the crossover needs both sides */
		x->t_us[x->np] = (double)svc_params[k].value / 1000;
		for (int v = 0; v < XV_N; v++) {
			x->lat[x->np][v] = xv_median(r, xv_name[v], p, "real_time");
			x->cpu[x->np][v] = xv_median(r, xv_name[v], p, "host_cpu_ns_per_read");
		}
		x->over[x->np] = xv_median(r, xv_name[XV_HYBRID], p, "hybrid_overslept_ns");
		x->np++;
	}
	if (!x->np)
		return;
	x->irq_over_ns = x->lat[0][XV_IRQ] - x->lat[0][XV_POLL];
	/* the device time above which polling gains nothing: after the last
	 * point where it still gains (so one noisy dip below it does not
	 * count), interpolated on the log of the device time; a gain that
	 * cannot be computed (NaN) counts as none */
	int last = -1;

	for (int i = 0; i < x->np; i++)
		if (xv_gain(x, i) > 0)
			last = i;
	if (last < 0) {
		x->found = -1;
	} else if (last + 1 < x->np) {
		double g0 = xv_gain(x, last), g1 = xv_gain(x, last + 1);
		double a = log(x->t_us[last]), b = log(x->t_us[last + 1]);

		x->t_even = isnan(g1) ? x->t_us[last + 1] : exp(a + (b - a) * g0 / (g0 - g1));
		x->found = 1;
	}
}

static void xover_text(const xover_t *x, char *buf, size_t len)
{
	char pts[160] = "";
	size_t o = 0;

	for (int i = 0; i < x->np && o < sizeof pts; i++)
		o += (size_t)snprintf(pts + o, sizeof pts - o, "%s%g", i ? ", " : "", x->t_us[i]);
	if (x->found > 0)
		snprintf(buf, len, "break-even device time %.1f us (interpolated; points %s us)", x->t_even, pts);
	else if (x->found < 0)
		snprintf(buf, len, "break-even below the swept range: interrupts already as good at %g us "
			 "(points %s us)", x->t_us[0], pts);
	else
		snprintf(buf, len, "break-even not reached in the swept range: polling still better at %g us "
			 "(points %s us)", x->t_us[x->np - 1], pts);
}

/* plots/nvme-crossover: latency and host CPU per read against device time
 * (log axes), the break-even marked (scripts/nvme_crossover.gp). */
static int nvme_plot_crossover(const char *plotdir, const hp_bench_set_t *r, const char *tdir, char *err,
			       size_t errlen)
{
	char path[4096], tmpl[4096], gv[768], txt[256], *d = NULL;
	size_t len = 0;
	xover_t x;
	FILE *f;

	xover_gather(r, &x);
	if (!x.np)
		return 0;
	f = open_memstream(&d, &len);
	if (!f) {
		snprintf(err, errlen, "nvme plot: out of memory");
		return -1;
	}
	xover_text(&x, txt, sizeof txt);
	fprintf(f, "# hotpath nvme: emulated QD1 reads, medians at 1 thread\n# %s\n"
		"# interrupt overhead: %.0f ns/read at %g us\n"
		"# device_us poll_lat_us irq_lat_us hybrid_lat_us poll_cpu_us irq_cpu_us hybrid_cpu_us "
		"hybrid_overslept_us\n", txt, x.irq_over_ns, x.t_us[0]);
	for (int i = 0; i < x.np; i++) {
		fprintf(f, "%g", x.t_us[i]);
		for (int v = 0; v < XV_N; v++)
			fprintf(f, " %.4f", x.lat[i][v] / 1000);
		for (int v = 0; v < XV_N; v++)
			fprintf(f, " %.4f", x.cpu[i][v] / 1000);
		fprintf(f, " %.4f\n", x.over[i] / 1000);
	}
	if (fclose(f) != 0 || !d) {
		free(d);
		snprintf(err, errlen, "nvme plot: out of memory");
		return -1;
	}
	snprintf(path, sizeof path, "%s/nvme-crossover.dat", plotdir);
	if (hp_write_atomic(path, d, len) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(d);
		return -1;
	}
	free(d);
	if (x.found > 0)
		snprintf(txt, sizeof txt, "break-even %.1f us", x.t_even);
	else
		snprintf(txt, sizeof txt, "break-even %s the swept range", x.found < 0 ? "below" : "above");
	snprintf(gv, sizeof gv, "title='nvme crossover (%d device times): %s; irq overhead %.1f us at %g us; "
		 "+N = hybrid oversleep (us)'; even=%g; tmin=%g; tmax=%g",
		 x.np, txt, x.irq_over_ns / 1000, x.t_us[0], x.found > 0 ? x.t_even : 0.0, x.t_us[0],
		 x.t_us[x.np - 1]);
	snprintf(tmpl, sizeof tmpl, "%s/nvme_crossover.gp", tdir);
	return hp_plot_render(plotdir, "nvme-crossover", tmpl, gv, err, errlen) < 0 ? -1 : 1;
}

/* summary.md, under the suite's tables: the break-even and the overheads. */
static void nvme_summary(FILE *f, const hp_results_t *r)
{
	char txt[256];
	hp_bench_set_t set;
	xover_t x;

	hp_bench_set_init(&set, HP_BSET_ALL);
	if (hp_bench_set_from_results(&set, r) < 0) {
		hp_bench_set_free(&set);
		fprintf(f, "### crossover (poll vs interrupt)\n\n- not computed: out of memory\n\n");
		return;
	}
	xover_gather(&set, &x);
	hp_bench_set_free(&set);
	if (!x.np)
		return;
	xover_text(&x, txt, sizeof txt);
	fprintf(f, "### crossover (poll vs interrupt)\n\n"
		"- %s; polling is better while the latency it saves exceeds the host CPU it adds "
		"(docs/suites/nvme.md)\n"
		"- interrupt overhead: irq minus poll latency at %g us = %.0f ns/read\n",
		txt, x.t_us[0], x.irq_over_ns);
	for (int i = 0; i < x.np; i++)
		if (!isnan(x.over[i]))
			fprintf(f, "- hybrid at %g us: overslept its nap by %.1f us (median)\n", x.t_us[i],
				x.over[i] / 1000);
	fputc('\n', f);
}

static const hp_plot_fn nvme_plots[] = { nvme_plot_crossover, NULL };

const hp_suite_t hp_suite_nvme = {
	.name = "nvme",
	.desc = "polled vs interrupt vs hybrid completion: an emulated NVMe queue pair and io_uring on a real device",
	.doc = "docs/suites/nvme.md",
	.cases = (const hp_case_t *const[]){ &c_emulated, &c_coalesce, &c_uring, NULL },
	.plots = nvme_plots,
	.summary = nvme_summary,
};
