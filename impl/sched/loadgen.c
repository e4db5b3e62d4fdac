/* loadgen.c — plays a scenario with real threads on the running kernel (loadgen.h). */
#include "loadgen.h"
#include "sim_scn.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* struct sched_attr as of Linux 3.14 (SCHED_ATTR_SIZE_VER0, 48 bytes): the
 * fields the fair class reads; glibc before 2.41 has no wrapper. */
typedef struct lg_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
} lg_sched_attr_t;

typedef struct lg_shared_timer {
	pthread_mutex_t mu;
	int init;
	uint64_t t_next;
} lg_shared_timer_t;

typedef struct lg_unique_timer {
	int init;
	uint64_t t_next;
} lg_unique_timer_t;

typedef struct lg_run lg_run_t;

typedef struct lg_thr {
	lg_run_t *run;
	int idx;
	const scn_task_t *def;
	hp_lg_thread_t *out;
	lg_unique_timer_t *ut;
	uint64_t t_first;       /* its start: the base of its timers */
	pthread_t th;
	int started;
} lg_thr_t;

struct lg_run {
	const hp_scn_t *scn;
	const hp_lg_opts_t *o;
	uint64_t t0, end;
	lg_shared_timer_t *st;
	atomic_int abort;
	pthread_mutex_t emu;
	char *err;
	size_t errlen;
	int rc;                 /* the first failure: -1 unavailable, -2 internal */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

__attribute__((format(printf, 3, 4)))
static void lg_fail(lg_run_t *g, int rc, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g->emu);
	if (!g->rc) {
		g->rc = rc;
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&g->emu);
	atomic_store(&g->abort, 1);
}

/* se.slice of thread tid of this process, 0 when /proc does not show it. */
static uint64_t read_slice(pid_t tid)
{
	char path[96], line[256];
	unsigned long long v = 0, x;
	FILE *f;

	snprintf(path, sizeof path, "/proc/self/task/%d/sched", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, " se.slice : %llu", &x) == 1)
			v = x;
	fclose(f);
	return v;
}

/* SCHED_OTHER at nice with the custom slice ns (0: the base slice) for the
 * calling thread, then the slice read back. 0, or -1 with why. */
static int set_fair_attr(int nice, uint64_t ns, uint64_t *seen, char *why, size_t len)
{
	lg_sched_attr_t a;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.sched_policy = SCHED_OTHER;
	a.sched_nice = nice;
#ifndef HP_LG_MUTATE_NO_SLICE
	a.sched_runtime = ns;
#endif
	if (syscall(SYS_sched_setattr, 0, &a, 0) != 0) {
		int e = errno;

		/* no sched_setattr (a seccomp filter, a kernel before 3.14) and
		 * no slice asked: the nice value the old way */
		if (!ns && (e == ENOSYS || e == EPERM) && setpriority(PRIO_PROCESS, (id_t)tid, nice) == 0) {
			*seen = read_slice(tid);
			return 0;
		}

		snprintf(why, len, "sched_setattr(SCHED_OTHER, nice %d, sched_runtime %" PRIu64 " ns): %s%s", nice,
			 ns, strerror(e), e == EPERM && nice < 0 ? " (a negative nice needs CAP_SYS_NICE)" : "");
		return -1;
	}
	*seen = read_slice(tid);
	if (!ns)
		return 0;
	if (!*seen) {
		snprintf(why, len, "this kernel shows no se.slice in /proc/<pid>/task/<tid>/sched"
			 " (per-task slices came with Linux 6.12)");
		return -1;
	}
	if (*seen != ns) {
		snprintf(why, len, "the kernel ignored the custom slice: se.slice is %" PRIu64 " ns after"
			 " sched_setattr(sched_runtime %" PRIu64 " ns) (per-task slices came with Linux 6.12)",
			 *seen, ns);
		return -1;
	}
	return 0;
}

typedef struct probe {
	uint64_t ns;
	char why[256];
	int rc;
} probe_t;

static void *probe_main(void *arg)
{
	probe_t *p = arg;
	uint64_t seen;

	p->rc = set_fair_attr(0, p->ns, &seen, p->why, sizeof p->why);
	return NULL;
}

int hp_lg_slice_probe(uint64_t ns, char *why, size_t len)
{
	probe_t p = { .ns = ns };
	pthread_t th;
	int e = pthread_create(&th, NULL, probe_main, &p);

	if (e) {
		snprintf(why, len, "pthread_create: %s", strerror(e));
		return -1;
	}
	pthread_join(th, NULL);
	if (p.rc)
		snprintf(why, len, "%s", p.why);
	return p.rc;
}

static int record(lg_thr_t *t, uint64_t due, uint64_t woke)
{
	hp_lg_thread_t *o = t->out;

	if (o->nact == o->capact) {
		size_t cap = o->capact ? o->capact * 2 : 1024;
		uint64_t *d = realloc(o->due_ns, cap * sizeof(*d));
		int64_t *l;

		if (!d)
			return -1;
		o->due_ns = d;
		l = realloc(o->lat_ns, cap * sizeof(*l));
		if (!l)
			return -1;
		o->lat_ns = l;
		o->capact = cap;
	}
	o->due_ns[o->nact] = due - t->run->t0;
	o->lat_ns[o->nact] = (int64_t)(woke - due);
	o->nact++;
	return 0;
}

/* Sleeps until due (absolute, CLOCK_MONOTONIC) and records the activation.
 * 1 when the thread must stop (due after the end, or aborted), 0, -1 on
 * out of memory. */
static int wait_until(lg_thr_t *t, uint64_t due)
{
	struct timespec ts = { .tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u) };

	if (due >= t->run->end || atomic_load(&t->run->abort))
		return 1;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	return record(t, due, mono_ns()) ? -1 : 0;
}

/* Busy for ns of this thread's CPU time (run) or of wall time (runtime).
 * 1 when the end came first. */
static int spin(lg_thr_t *t, uint64_t ns, int cpu_time)
{
	uint64_t end = t->run->end;
	uint64_t target = (cpu_time ? thread_cpu_ns() : mono_ns()) + ns;

	for (;;) {
		uint64_t now = mono_ns();

		if (now >= end || atomic_load_explicit(&t->run->abort, memory_order_relaxed))
			return 1;
		if ((cpu_time ? thread_cpu_ns() : now) >= target)
			return 0;
		for (volatile int k = 0; k < 64; k++)
			;
	}
}

/* One event. 0 to go on, 1 to stop, -1 out of memory. */
static int play(lg_thr_t *t, const scn_ev_t *ev)
{
	const hp_scn_t *s = t->run->scn;

	switch (ev->kind) {
	case EV_RUN:
	case EV_RUNTIME: {
		int rc = spin(t, ev->ns, ev->kind == EV_RUN);

		if (!rc)
			t->out->runs++;
		return rc;
	}
	case EV_SLEEP:
		if (!ev->ns)
			return 0;
		return wait_until(t, mono_ns() + ev->ns);
	case EV_TIMER: {
		uint64_t *next, due, now;
		lg_shared_timer_t *sh = NULL;
		int *init;

		if (s->timers[ev->timer].unique) {
			next = &t->ut[ev->slot].t_next;
			init = &t->ut[ev->slot].init;
		} else {
			sh = &t->run->st[ev->slot];
			pthread_mutex_lock(&sh->mu);
			next = &sh->t_next;
			init = &sh->init;
		}
		if (!*init) {
			*init = 1;
			*next = t->t_first;
		}
		*next += ev->ns;
		due = *next;
		now = mono_ns();
		if (now >= due && !ev->absolute)
			*next = now;    /* late: no sleep; a relative timer restarts from now */
		if (sh)
			pthread_mutex_unlock(&sh->mu);
		return now < due ? wait_until(t, due) : 0;
	}
	}
	return 0;
}

static void *thr_main(void *arg)
{
	lg_thr_t *t = arg;
	lg_run_t *g = t->run;
	const hp_lg_opts_t *o = g->o;
	char why[512], comm[16];
	cpu_set_t set;
	int rc = 0;

	/* the kernel's name, as rt-app's threads have theirs: the task's key */
	snprintf(comm, sizeof comm, "%.15s", t->def->key);
	prctl(PR_SET_NAME, comm, 0, 0, 0);
	t->out->tid = (pid_t)syscall(SYS_gettid);
	if (set_fair_attr(t->def->nice, t->def->slice_ns, &t->out->slice_seen_ns, why, sizeof why) != 0) {
		lg_fail(g, -1, "thread '%s': %s", t->out->name, why);
		return NULL;
	}
	CPU_ZERO(&set);
	if (o->cpus && o->ncpus > 0) {
		for (int c = 0; c < o->ncpus; c++)
			if (o->cpus[c] >= 0 && o->cpus[c] < CPU_SETSIZE)
				CPU_SET(o->cpus[c], &set);
	} else {
		for (int c = 0; c < 64 && c < CPU_SETSIZE; c++)
			if (t->def->cpus >> c & 1)
				CPU_SET(c, &set);
	}
	if (CPU_COUNT(&set) && sched_setaffinity(0, sizeof set, &set) != 0) {
		lg_fail(g, -1, "thread '%s': sched_setaffinity: %s", t->out->name, strerror(errno));
		return NULL;
	}
	t->t_first = mono_ns();
	for (long it = 0; rc == 0 && (t->def->loop == -1 || it < t->def->loop); it++) {
		for (int p = 0; rc == 0 && p < t->def->nph; p++) {
			const scn_phase_t *ph = &t->def->ph[p];

			for (long l = 0; rc == 0 && l < ph->loop; l++)
				for (int e = 0; rc == 0 && e < ph->nev; e++)
					rc = play(t, &ph->ev[e]);
		}
		if (rc == 0)
			t->out->loops++;
	}
	if (rc < 0)
		lg_fail(g, -2, "thread '%s': out of memory", t->out->name);
	t->out->cpu_ns = thread_cpu_ns();
	return NULL;
}

int hp_lg_run(const hp_scn_t *s, const hp_lg_opts_t *o, hp_lg_res_t *r, char *err, size_t errlen)
{
	lg_run_t g;
	lg_thr_t *t;
	lg_unique_timer_t *ut = NULL;
	size_t nut = 0;
	int n = s->nthr;

	memset(r, 0, sizeof(*r));
	memset(&g, 0, sizeof g);
	g.scn = s;
	g.o = o;
	g.err = err;
	g.errlen = errlen;
	pthread_mutex_init(&g.emu, NULL);
	atomic_init(&g.abort, 0);
	for (int i = 0; i < n; i++)
		nut += (size_t)s->task[s->thr[i].task].nunique;
	t = calloc((size_t)n, sizeof(*t));
	r->thr = calloc((size_t)n, sizeof(*r->thr));
	g.st = calloc((size_t)s->nshared + 1, sizeof(*g.st));
	ut = calloc(nut + 1, sizeof(*ut));
	if (!t || !r->thr || !g.st || !ut) {
		snprintf(err, errlen, "out of memory");
		free(t);
		free(r->thr);
		r->thr = NULL;
		free(g.st);
		free(ut);
		return -2;
	}
	r->nthr = n;
	for (int i = 0; i < s->nshared; i++)
		pthread_mutex_init(&g.st[i].mu, NULL);
	g.t0 = mono_ns();
	g.end = g.t0 + (o && o->duration_ns ? o->duration_ns : s->duration_ns);
	nut = 0;
	for (int i = 0; i < n; i++) {
		lg_thr_t *x = &t[i];
		int e;

		x->run = &g;
		x->idx = i;
		x->def = &s->task[s->thr[i].task];
		x->out = &r->thr[i];
		x->ut = &ut[nut];
		nut += (size_t)x->def->nunique;
		snprintf(x->out->name, sizeof x->out->name, "%s", s->thr[i].name);
		x->out->nice = x->def->nice;
		x->out->slice_req_ns = x->def->slice_ns;
		e = pthread_create(&x->th, NULL, thr_main, x);
		if (e) {
			lg_fail(&g, -2, "pthread_create: %s", strerror(e));
			break;
		}
		x->started = 1;
	}
	for (int i = 0; i < n; i++)
		if (t[i].started)
			pthread_join(t[i].th, NULL);
	r->wall_ns = mono_ns() - g.t0;
	for (int i = 0; i < s->nshared; i++)
		pthread_mutex_destroy(&g.st[i].mu);
	pthread_mutex_destroy(&g.emu);
	free(g.st);
	free(ut);
	free(t);
	if (g.rc) {
		hp_lg_res_free(r);
		return g.rc;
	}
	return 0;
}

void hp_lg_res_free(hp_lg_res_t *r)
{
	if (r->thr)
		for (int i = 0; i < r->nthr; i++) {
			free(r->thr[i].due_ns);
			free(r->thr[i].lat_ns);
		}
	free(r->thr);
	memset(r, 0, sizeof(*r));
}

int hp_lg_write_log(const hp_lg_res_t *r, int i, const char *path)
{
	FILE *f = fopen(path, "w");
	const hp_lg_thread_t *t = &r->thr[i];

	if (!f)
		return -1;
	for (size_t k = 0; k < t->nact; k++)
		fprintf(f, "%" PRIu64 " %" PRId64 "\n", t->due_ns[k], t->lat_ns[k]);
	return fclose(f);
}
