/* nvme.c — suite "nvme": polled, interrupt and hybrid completion of QD1 reads, emulated (impl/nvme) and over io_uring on a real device.
 *
 * One operation is one 4 KiB read at queue depth 1, submitted and waited
 * for. What each case measures (README text):
 *
 * - emulated: impl/nvme's queue pair, its controller thread pinned to the
 *   second selected CPU and busy-waiting a fixed service time per command
 *   (param: 2, 10 or 80 us; "When Poll is Better than Interrupt" put the
 *   crossover near a few microseconds). impl-poll spins on the CQ phase
 *   tag of a queue created without interrupts (an NVMe poll queue);
 *   impl-irq sleeps on the interrupt (a futex standing in for MSI-X) and
 *   reaps; impl-hybrid sleeps half the running mean completion time, then
 *   spins (with the thread's timer slack at 1 ns, as the kernel's hrtimer
 *   had none; hybrid_overslept_ns shows what the sleeps overran). real_time is the read's latency; cpu_time is what the host
 *   thread burnt meanwhile (polling burns all of it). Counters per read:
 *   sleeps, empty polls, hybrid sleeps, interrupts raised.
 * - uring: the same reads through io_uring on a real target: irq (a plain
 *   ring), poll (IORING_SETUP_IOPOLL), hybrid (IORING_SETUP_HYBRID_IOPOLL,
 *   Linux 6.13+), and fio's io_uring engine at QD1 for irq and poll (hipri),
 *   pinned to the measured CPU, timed by fio's own mean latency. The target
 *   is $HOTPATH_BLOCK_TARGET (a block device or a file on a disk-backed
 *   filesystem) or, by default, a 64 MiB pattern file created in
 *   $HOTPATH_BLOCK_DIR (default /var/tmp), unlinked at once and read
 *   through /proc/<pid>/fd (nothing is left behind, even after a crash). Polled modes
 *   need a device with poll queues (NVMe with nvme.poll_queues=N); where
 *   the device has none they are reported unavailable with the reason.
 *
 * Every read is checked: the emulated reads' first word against the
 * namespace pattern, the io_uring reads' length (a short or failed read
 * aborts the run with a message).
 */
#include "hp.h"
#include "nvme.h"
#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void __attribute__((noreturn, format(printf, 2, 3))) nv_fatal(const hp_ctx_t *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hotpath nvme: %s/%s: ", ctx->c->name, ctx->v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Variants: which machinery, which completion mode */
enum { E_POLL, E_IRQ, E_HYBRID, U_IRQ, U_POLL, U_HYBRID, F_IRQ, F_POLL };
#define KIND(ctx) ((int)(intptr_t)(ctx)->v->ops)

/* ------------------------------------------------------------------ */
/* emulated                                                            */
/* ------------------------------------------------------------------ */

#define EM_BLOCKS 4096          /* 16 MiB namespace of 4 KiB LBAs */

typedef struct em {
	hp_nvme_queue_t *q;
	hp_nvme_mode_t mode;
	void *buf;
	uint64_t seed, batch;
} em_t;

static void em_free(em_t *e)
{
	if (!e)
		return;
	hp_nvme_destroy(e->q);
	free(e->buf);
	free(e);
}

static void *em_setup(hp_ctx_t *ctx)
{
	em_t *e = calloc(1, sizeof *e);
	hp_nvme_config_t cfg;
	int kind = KIND(ctx);

	if (!e)
		return NULL;
	hp_nvme_config_init(&cfg);
	cfg.qdepth = 2;
	cfg.lba_size = 4096;
	cfg.ns_blocks = EM_BLOCKS;
	cfg.svc = HP_NVME_SVC_FIXED;
	cfg.svc_ns = (uint64_t)ctx->p->value;
	cfg.seed = ctx->seed;
	/* the controller on another CPU than the host thread */
	cfg.device_os_cpu = ctx->all_cpus[0] == ctx->cpus[0] ? ctx->all_cpus[1] : ctx->all_cpus[0];
	cfg.irq = kind != E_POLL;     /* an NVMe poll queue has no interrupt */
	if (!strcmp(ctx->c->name, "coalesce")) {
		/* 16 reads in flight on a 2 us device; aggregation time 100 us
		 * (one unit of the NVMe feature), threshold from the param */
		cfg.qdepth = 32;
		cfg.svc_ns = 2000;
		cfg.coalesce_thr = (unsigned)ctx->p->value;
		cfg.coalesce_time_ns = 100000;
	}
	e->mode = kind == E_POLL ? HP_NVME_POLL : kind == E_IRQ ? HP_NVME_IRQ : HP_NVME_HYBRID;
	e->seed = ctx->seed;
	if (posix_memalign(&e->buf, 4096, 4096 * 16) != 0 || hp_nvme_create(&cfg, &e->q) != 0) {
		em_free(e);
		return NULL;
	}
	return e;
}

static void em_teardown(hp_ctx_t *ctx, void *data)
{
	(void)ctx;
	em_free(data);
}

static void em_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	em_t *e = ctx->data;
	hp_nvme_stats_t s0, s1;
	uint64_t x = e->seed ^ (0x5851f42d4c957f2dull * ++e->batch);
	struct timespec c0, c1;

	int slack = -1;

	hp_pause(st);
	/* blk_mq_poll_hybrid_sleep()'s hrtimer had no slack range; a
	 * user-space nap gets the thread's timer slack (50 us by default) */
	if (e->mode == HP_NVME_HYBRID) {
		slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
	}
	hp_nvme_stats(e->q, &s0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	hp_resume(st);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t lba = splitmix64(&x) % EM_BLOCKS;
		hp_nvme_sqe_t sqe = {
			.opcode = HP_NVME_CMD_READ, .nsid = HP_NVME_NSID,
			.prp1 = (uint64_t)(uintptr_t)e->buf, .slba = lba, .nlb = 0,
		};
		hp_nvme_cqe_t cqe;
		int cid = hp_nvme_submit(e->q, &sqe), rc;

		if (cid < 0)
			nv_fatal(ctx, "submit: %s", strerror(-cid));
		rc = hp_nvme_wait(e->q, e->mode, cid, &cqe);
		if (rc != 0 || cqe.status >> 1 || cqe.cid != (uint16_t)cid)
			nv_fatal(ctx, "read %llu (lba %llu): wait %d, status 0x%x, cid %u of %d",
				 (unsigned long long)i, (unsigned long long)lba, rc, cqe.status >> 1, cqe.cid, cid);
		if (*(const uint64_t *)e->buf != hp_nvme_pattern(lba, 0))
			nv_fatal(ctx, "read %llu: lba %llu came back with other data", (unsigned long long)i,
				 (unsigned long long)lba);
	}
	hp_pause(st);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	hp_nvme_stats(e->q, &s1);
	if (n) {
		double d = (double)n;

		hp_counter(st, "host_cpu_ns_per_read",
			   ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) / d);
		hp_counter(st, "sleeps_per_read", (double)(s1.sleeps - s0.sleeps) / d);
		hp_counter(st, "empty_polls_per_read", (double)(s1.poll_spins - s0.poll_spins) / d);
		hp_counter(st, "hybrid_sleeps_per_read", (double)(s1.hybrid_sleeps - s0.hybrid_sleeps) / d);
		hp_counter(st, "irqs_per_read", (double)(s1.irqs - s0.irqs) / d);
		if (s1.hybrid_sleeps > s0.hybrid_sleeps)
			hp_counter(st, "hybrid_overslept_ns",
				   ((double)(s1.hybrid_slept_ns - s0.hybrid_slept_ns) -
				    (double)(s1.hybrid_sleep_ns - s0.hybrid_sleep_ns)) /
					   (double)(s1.hybrid_sleeps - s0.hybrid_sleeps));
	}
	if (slack > 0)
		prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
	hp_resume(st);
}

#define CO_INFLIGHT 16

/* coalesce: CO_INFLIGHT reads kept in flight; each completion reaped
 * (after its interrupt) is replaced by a new read. */
static void co_run(hp_state_t *st, uint64_t n, hp_ctx_t *ctx)
{
	em_t *e = ctx->data;
	hp_nvme_stats_t s0, s1;
	uint64_t x = e->seed ^ (0x5851f42d4c957f2dull * ++e->batch), sub = 0, done = 0;
	uint64_t lba_of[64];
	int slot_of[64], free_slot[CO_INFLIGHT], nfree = CO_INFLIGHT;
	struct timespec c0, c1;

	hp_pause(st);
	for (int i = 0; i < CO_INFLIGHT; i++)
		free_slot[i] = i;
	hp_nvme_stats(e->q, &s0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	hp_resume(st);
	while (done < n) {
		while (sub < n && nfree > 0) {
			uint64_t lba = splitmix64(&x) % EM_BLOCKS;
			int slot = free_slot[--nfree];
			hp_nvme_sqe_t sqe = {
				.opcode = HP_NVME_CMD_READ, .nsid = HP_NVME_NSID,
				.prp1 = (uint64_t)(uintptr_t)((char *)e->buf + 4096 * slot),
				.slba = lba, .nlb = 0,
			};
			int cid = hp_nvme_submit(e->q, &sqe);

			if (cid < 0 || cid >= 64)
				nv_fatal(ctx, "submit: %d", cid);
			lba_of[cid] = lba;
			slot_of[cid] = slot;
			sub++;
		}
		hp_nvme_cqe_t cqe;
		int rc = hp_nvme_wait(e->q, e->mode, HP_NVME_ANY, &cqe);

		if (rc != 0 || cqe.status >> 1 || cqe.cid >= 64)
			nv_fatal(ctx, "read %llu: wait %d, status 0x%x", (unsigned long long)done, rc, cqe.status >> 1);
		/* the read landed in its own buffer, with its LBA's data */
		if (*(const uint64_t *)((char *)e->buf + 4096 * slot_of[cqe.cid]) != hp_nvme_pattern(lba_of[cqe.cid], 0))
			nv_fatal(ctx, "read %llu: lba %llu came back with other data", (unsigned long long)done,
				 (unsigned long long)lba_of[cqe.cid]);
		free_slot[nfree++] = slot_of[cqe.cid];
		done++;
	}
	hp_pause(st);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	hp_nvme_stats(e->q, &s1);
	if (n) {
		double d = (double)n;

		hp_counter(st, "host_cpu_ns_per_read",
			   ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) / d);
		hp_counter(st, "irqs_per_read", (double)(s1.irqs - s0.irqs) / d);
		hp_counter(st, "timer_irqs_per_read", (double)(s1.irqs_timer - s0.irqs_timer) / d);
		hp_counter(st, "sleeps_per_read", (double)(s1.sleeps - s0.sleeps) / d);
	}
	hp_resume(st);
}

static const char *em_available(const hp_ctx_t *ctx)
{
	if (ctx->bind_cpu && !strcmp(ctx->metric, "instructions"))
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

static int umode(int kind)
{
	return kind == U_POLL || kind == F_POLL ? HP_URING_POLL : kind == U_HYBRID ? HP_URING_HYBRID : HP_URING_IRQ;
}

static int fio_on_path(void)
{
	const char *p = getenv("PATH");
	char buf[4096];

	for (const char *s = p ? p : "/usr/bin:/bin"; *s;) {
		const char *e = strchr(s, ':');
		size_t l = e ? (size_t)(e - s) : strlen(s);

		snprintf(buf, sizeof buf, "%.*s/fio", (int)l, s);
		if (access(buf, X_OK) == 0)
			return 1;
		s += l + (e != NULL);
	}
	return 0;
}

static const char *uring_available(const hp_ctx_t *ctx)
{
	static char why[3][640];
	static int done[3];
	int kind = KIND(ctx), m = umode(kind);
	const char *t;

	if (ctx->bind_cpu && !strcmp(ctx->metric, "instructions"))
		return "the reads' cost is the kernel's and the device's, which callgrind does not see";
	if ((kind == F_IRQ || kind == F_POLL) && !fio_on_path())
		return "fio not installed (apt-get install fio)";
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
	int kind = KIND(ctx);
	const char *t = target();

	if (!u || !t) {
		free(u);
		return NULL;
	}
	if (kind == U_IRQ || kind == U_POLL || kind == U_HYBRID) {
		u->h = hp_uring_open(t, umode(kind), u->err, sizeof u->err);
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
	int kind = KIND(ctx);
	uint64_t seed = ctx->seed ^ (0x5851f42d4c957f2dull * ++u->batch);

	if (!n) {
		hp_set_iteration_time(st, 0);
		return;
	}
	if (u->h) {
		hp_uring_stats_t s;
		double t0 = mono_s(), t1;
		int rc;

		hp_uring_stats_reset(u->h);
		rc = hp_uring_run(u->h, n, seed);
		t1 = mono_s();
		if (rc != 0)
			nv_fatal(ctx, "%llu reads: %s", (unsigned long long)n, strerror(-rc));
		s = hp_uring_stats(u->h);
		if (s.reads != n || s.short_reads)
			nv_fatal(ctx, "%llu reads asked, %llu done, %llu short", (unsigned long long)n,
				 (unsigned long long)s.reads, (unsigned long long)s.short_reads);
		hp_set_iteration_time(st, t1 - t0);
		hp_counter(st, "eagain_per_read", (double)s.eagain / (double)n);
		return;
	}
	/* fio: its own process, pinned to this CPU, timed by its mean latency */
	hp_uring_fio_opts_t o = {
		.path = target(), .mode = umode(kind), .cpu = ctx->cpus[0], .ios = n,
		.seed = seed, .timeout_s = 60 + (double)n * 1e-3,
	};
	hp_uring_fio_result_t r;
	int rc = hp_uring_fio_run(&o, &r, u->err, sizeof u->err);

	if (rc != 0)
		nv_fatal(ctx, "fio: %s", u->err);
	if (r.ios != n)
		nv_fatal(ctx, "fio did %llu reads of %llu", (unsigned long long)r.ios, (unsigned long long)n);
	hp_set_iteration_time(st, (double)n * r.lat_mean_ns * 1e-9);
	hp_counter(st, "fio_clat_p99_ns", r.clat_p99_ns);
}

/* ------------------------------------------------------------------ */
/* Variants and cases                                                  */
/* ------------------------------------------------------------------ */

#define NV_VARIANT(id, vname, k, kindv, avail) \
	static const hp_variant_t id = { .name = vname, .kind = k, .available = avail, \
		.ops = (const void *)(intptr_t)(kindv) }
NV_VARIANT(v_epoll, "impl-poll", HP_KIND_IMPL, E_POLL, em_available);
NV_VARIANT(v_eirq, "impl-irq", HP_KIND_IMPL, E_IRQ, em_available);
NV_VARIANT(v_ehybrid, "impl-hybrid", HP_KIND_IMPL, E_HYBRID, em_available);
NV_VARIANT(v_uirq, "uring-irq", HP_KIND_KERNEL, U_IRQ, uring_available);
NV_VARIANT(v_upoll, "uring-poll", HP_KIND_KERNEL, U_POLL, uring_available);
NV_VARIANT(v_uhybrid, "uring-hybrid", HP_KIND_KERNEL, U_HYBRID, uring_available);
NV_VARIANT(v_firq, "fio-irq", HP_KIND_BASELINE, F_IRQ, uring_available);
NV_VARIANT(v_fpoll, "fio-poll", HP_KIND_BASELINE, F_POLL, uring_available);
#undef NV_VARIANT

static const hp_param_t svc_params[] = {
	{ .label = "2us", .value = 2000, .min_cpus = 2 },
	{ .label = "10us", .value = 10000, .min_cpus = 2 },
	{ .label = "80us", .value = 80000, .min_cpus = 2 },
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
	.setup = em_setup, .teardown = em_teardown, .run = co_run,
	.variants = (const hp_variant_t *const[]){ &v_eirq, NULL },
};

const hp_suite_t hp_suite_nvme = {
	.name = "nvme",
	.desc = "polled vs interrupt vs hybrid completion: an emulated NVMe queue pair and io_uring on a real device",
	.cases = (const hp_case_t *const[]){ &c_emulated, &c_coalesce, &c_uring, NULL },
};
