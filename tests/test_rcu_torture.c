/* test_rcu_torture.c — rcutorture-shaped stress of one impl/rcu flavour (built per flavour with -D): no reader may see an element older than one grace period after its removal, nor a freed one. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#if defined(T_RCU_QSBR)
#include "rcu_qsbr.h"
#elif defined(T_RCU_MEMB)
#include "rcu_memb.h"
#elif defined(T_RCU_PREEMPT)
#include "rcu_preempt.h"
#elif defined(T_RCU_BROKEN)
#include "rcu_broken.h"
#define EXPECT_BROKEN 1
#elif defined(T_RCU_BROKEN_EXP)
#include "rcu_broken_exp.h"         /* only the expedited grace period is wrong */
#define EXPECT_BROKEN 1
#elif defined(T_RCU_SRCU) || defined(T_RCU_SRCU_BROKEN)
#include "srcu.h"                   /* _BROKEN: linked with the build that never flips */
#define IS_SRCU 1
#ifdef T_RCU_SRCU_BROKEN
#define EXPECT_BROKEN 1
#endif
#else
#error "build with -DT_RCU_QSBR, _MEMB, _PREEMPT, _BROKEN, _BROKEN_EXP, _SRCU or _SRCU_BROKEN"
#endif

#ifdef IS_SRCU
/* SRCU through the names the test uses for RCU: one domain; no
 * registration, quiescent states, callbacks or polled API (the writer's
 * and fake writer's mixes use synchronize and its expedited kind only).
 * Readers sleep inside sections now and then, as SRCU allows. */
static hp_srcu_struct_t dom;
#define T_HAS_CB 0
#define T_READ_LOCK() hp_srcu_read_lock(&dom)
#define T_READ_UNLOCK(i) hp_srcu_read_unlock(&dom, (i))
#define hp_synchronize_rcu() hp_synchronize_srcu(&dom)
#define hp_synchronize_rcu_expedited() hp_synchronize_srcu_expedited(&dom)
#define hp_rcu_register_thread() ((void)0)
#define hp_rcu_unregister_thread() ((void)0)
#define hp_rcu_quiescent_state() ((void)0)
#define hp_rcu_thread_offline() ((void)0)
#define hp_rcu_thread_online() ((void)0)
#define HP_RCU_PFX_STR_T "srcu"
static void t_stats(hp_rcu_stats_t *s)
{
	memset(s, 0, sizeof *s);
	s->flavour = "srcu";
	s->mb = s->mb_normal = "none";
	s->gps = __atomic_load_n(&dom.gps, __ATOMIC_RELAXED);
	s->exp_gps = __atomic_load_n(&dom.exp_gps, __ATOMIC_RELAXED);
}
#else
#define T_HAS_CB 1
#define T_READ_LOCK() (hp_rcu_read_lock(), 0)
#define T_READ_UNLOCK(i) ((void)(i), hp_rcu_read_unlock())
#define t_stats(s) hp_rcu_stats(s)
#endif

#include "hp_compiler.h"
#include "hp_rand.h"
#include "hp_time.h"
#include "t_util.h"

/* ThreadSanitizer delivers an asynchronous signal only when the thread
 * reaches an intercepted call; the signal fallback's readers, busy in
 * plain loops, would never answer. */
static void skip_signal_fallback_under_tsan(void)
{
#if defined(HP_RCU_TSAN)
	const char *f = getenv("HP_RCU_FORCE_SIGNAL");

	if (f && strcmp(f, "1") == 0)
		t_skip("the signal fallback cannot run under ThreadSanitizer (signals wait for intercepted calls)");
#endif
}

/* ================================================================== */
/* Elements                                                            */
/* ================================================================== */

/* RCU_TORTURE_PIPE_LEN (kernel/rcu/rcutorture.c): an element is freed after
 * this many grace periods following its removal. */
#define PIPE_LEN 10
#define NELEM 256
#define MAX_READERS 16
#define TEST_SIG (SIGRTMIN + 3)

/* struct rcu_torture: pipe is rtort_pipe_count, alive is rtort_mbtest. */
typedef struct elem {
	hp_rcu_head_t rh;
	int pipe;               /* grace periods since removal (1 = removed) */
	int alive;              /* 1 from allocation until after the last grace period */
	uint64_t pay[3];        /* written before publication, checked by readers */
	struct elem *next;      /* free or removed list, writer side only */
} elem_t;

/* The payload: plain accesses, so TSan checks that a reader's accesses
 * happen before the element is rewritten. The broken flavour has no such
 * ordering by design; there, atomics keep TSan quiet so that the test's own
 * checks are what catch it. */
#ifdef EXPECT_BROKEN
#define PAY_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define PAY_ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#else
#define PAY_LD(x) (x)
#define PAY_ST(x, v) ((x) = (v))
#endif
#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static elem_t pool[NELEM];
static elem_t *cur;                     /* rcu_torture_current */
static elem_t *freelist;
static pthread_mutex_t free_lock = PTHREAD_MUTEX_INITIALIZER;
static int stop;
static uint64_t gen;

static void free_elem(elem_t *e)
{
	ST(e->alive, 0);
	pthread_mutex_lock(&free_lock);
	e->next = freelist;
	freelist = e;
	pthread_mutex_unlock(&free_lock);
}

static elem_t *try_alloc(void)
{
	elem_t *e;

	pthread_mutex_lock(&free_lock);
	e = freelist;
	if (e)
		freelist = e->next;
	pthread_mutex_unlock(&free_lock);
	return e;
}

/* ================================================================== */
/* Readers                                                             */
/* ================================================================== */

typedef struct reader {
	pthread_t thread;
	uint64_t rng, sig_rng;
	uint64_t reads, sig_reads;
	uint64_t hist[PIPE_LEN + 1];    /* ages seen */
	uint64_t dead;                  /* freed (poisoned) elements seen */
	uint64_t torn;                  /* inconsistent payloads seen */
	int ready;
	int online;                     /* qsbr: handlers may read only while online */
} reader_t;

static reader_t readers[MAX_READERS];
static int nreaders;
static __thread reader_t *me;

static void record_error(void)
{
#ifdef EXPECT_BROKEN
	ST(stop, 1);            /* caught: no need to go on */
#endif
}

static void spin(uint64_t n)
{
	for (volatile uint64_t i = 0; i < n; i++)
		;
}

/* One read-side critical section, nested 1..3 deep with the dereference at
 * a random depth, and a random delay while holding the element (rcutorture's
 * rcu_read_delay): usually none, sometimes a long spin, rarely a sleep. */
static void read_once(reader_t *rd, uint64_t *rng, int in_handler)
{
	uint64_t r = hp_splitmix64(rng);
	int depth = 1 + (int)(r % 3), at = (int)((r >> 8) % (uint64_t)depth);
	elem_t *p = NULL;
	int pipe0 = 0, pipe1 = 0, bad = 0, idx[3];

	for (int d = 0; d < depth; d++) {
		idx[d] = T_READ_LOCK();
		if (d == at)
			p = hp_rcu_dereference(cur);
	}
	if (p) {
		uint64_t g;

		pipe0 = LD(p->pipe);
		if (!LD(p->alive))
			bad |= 1;
		g = PAY_LD(p->pay[0]);
		if (PAY_LD(p->pay[1]) != g * 3 + 1 || PAY_LD(p->pay[2]) != ~g)
			bad |= 2;
		r = hp_splitmix64(rng);
		if (r % 1000 == 0 && !in_handler)
			t_sleep_us(20 + (long)(r >> 32) % 200);
		else if (r % 16 == 0)
			spin(200 + (r >> 40) % 20000);
		else
			spin((r >> 40) % 64);
		pipe1 = LD(p->pipe);
		if (!LD(p->alive))
			bad |= 1;
	}
	for (int d = depth - 1; d >= 0; d--)
		T_READ_UNLOCK(idx[d]);
	if (!p)
		return;
	if (pipe1 < pipe0)
		pipe1 = pipe0;
	if (pipe1 > PIPE_LEN)
		pipe1 = PIPE_LEN;
	__atomic_fetch_add(&rd->hist[pipe1], 1, __ATOMIC_RELAXED);
	if (bad & 1)
		__atomic_fetch_add(&rd->dead, 1, __ATOMIC_RELAXED);
	if (bad & 2)
		__atomic_fetch_add(&rd->torn, 1, __ATOMIC_RELAXED);
	if (bad || pipe1 > 1)
		record_error();
}

static void sig_reader(int sig)
{
	reader_t *rd = me;
	int saved = errno;

	(void)sig;
	if (rd && LD(rd->online)) {
		read_once(rd, &rd->sig_rng, 1);
		__atomic_fetch_add(&rd->sig_reads, 1, __ATOMIC_RELAXED);
	}
	errno = saved;
}

static void *reader_main(void *arg)
{
	reader_t *rd = arg;
	uint64_t n = 0;

	hp_rcu_register_thread();
	ST(rd->online, 1);
	me = rd;
	__atomic_store_n(&rd->ready, 1, __ATOMIC_RELEASE);
	while (!LD(stop)) {
		read_once(rd, &rd->rng, 0);
		n++;
		__atomic_store_n(&rd->reads, n, __ATOMIC_RELAXED);
		/* qsbr: a quiescent state now and then, and sometimes a stretch
		 * offline; no-ops for the other flavours */
		if (n % 16 == 0)
			hp_rcu_quiescent_state();
		if (n % 4096 == 0) {
			ST(rd->online, 0);
			hp_rcu_compiler_barrier();
			hp_rcu_thread_offline();
			t_sleep_us(50);
			hp_rcu_thread_online();
			hp_rcu_compiler_barrier();
			ST(rd->online, 1);
		}
	}
	ST(rd->online, 0);
	me = NULL;
	hp_rcu_compiler_barrier();
	hp_rcu_unregister_thread();
	return NULL;
}

/* ================================================================== */
/* Writers                                                             */
/* ================================================================== */

static elem_t *removed;                 /* writer only: waiting for more GPs */
static uint64_t writes, w_sync, w_exp, w_cb, w_poll;

/* rcu_torture_pipe_update(): one more grace period for every removed element. */
static void removed_advance(void)
{
	elem_t **pp = &removed;

	while (*pp) {
		elem_t *e = *pp;
		int age = LD(e->pipe) + 1;

		ST(e->pipe, age);
		if (age >= PIPE_LEN) {
			*pp = e->next;
			free_elem(e);
		} else {
			pp = &e->next;
		}
	}
}

#if T_HAS_CB
/* rcu_torture_cb(): age by one, requeue until old enough to free. */
static void torture_cb(hp_rcu_head_t *h)
{
	elem_t *e = hp_container_of(h, elem_t, rh);
	int age = LD(e->pipe) + 1;

	ST(e->pipe, age);
	if (age >= PIPE_LEN)
		free_elem(e);
	else
		hp_call_rcu(&e->rh, torture_cb);
}
#endif

static elem_t *alloc_elem(void)
{
	elem_t *e;

	while (!(e = try_alloc())) {
		/* everything is waiting for grace periods: make some pass */
		hp_synchronize_rcu();
		removed_advance();
		if (LD(stop))
			return NULL;
	}
	return e;
}

static void *writer_main(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg | 1;

	while (!LD(stop)) {
		elem_t *e = alloc_elem(), *old;
		uint64_t g, r = hp_splitmix64(&rng);

		if (!e)
			break;
		g = ++gen;
		ST(e->pipe, 0);
		ST(e->alive, 1);
		PAY_ST(e->pay[0], g);
		PAY_ST(e->pay[1], g * 3 + 1);
		PAY_ST(e->pay[2], ~g);
		old = hp_rcu_replace_pointer(cur, e);
		writes++;
		if (!old)
			continue;
		ST(old->pipe, 1);
		/* without callbacks and polling (SRCU): synchronous, either kind */
		switch (T_HAS_CB ? r % 4 : (r % 2) * 3) {
		case 0:         /* synchronous */
			old->next = removed;
			removed = old;
			hp_synchronize_rcu();
			removed_advance();
			w_sync++;
			break;
		case 3:         /* synchronous, expedited */
			old->next = removed;
			removed = old;
			hp_synchronize_rcu_expedited();
			removed_advance();
			w_exp++;
			break;
#if T_HAS_CB
		case 1:         /* asynchronous */
			hp_call_rcu(&old->rh, torture_cb);
			w_cb++;
			break;
		default: {      /* polled */
			unsigned long c;

			old->next = removed;
			removed = old;
			if (r & 8) {
				c = hp_start_poll_synchronize_rcu();
				while (!hp_poll_state_synchronize_rcu(c))
					t_sleep_us(5);
			} else {
				c = hp_get_state_synchronize_rcu();
				hp_cond_synchronize_rcu(c);
			}
			removed_advance();
			w_poll++;
			break;
		}
#endif
		}
		if ((r >> 16) % 8 == 0)
			t_sleep_us(1 + (long)((r >> 24) % 50));
	}
	return NULL;
}

/* rcu_torture_fakewriter(): grace-period primitives with no element. */
static void *fakewriter_main(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg | 1;

	while (!LD(stop)) {
		uint64_t r = hp_splitmix64(&rng);

		switch (r % 5) {
		case 0: hp_synchronize_rcu(); break;
#if T_HAS_CB
		case 1: hp_cond_synchronize_rcu(hp_get_state_synchronize_rcu()); break;
		case 2: hp_rcu_barrier(); break;
#endif
		case 3: hp_synchronize_rcu_expedited(); break;
		default: break;
		}
		t_sleep_us(20 + (long)((r >> 8) % 200));
	}
	return NULL;
}

/* Sends the test signal to random readers, so reads also run in handlers
 * that interrupt critical sections (and quiescent states) anywhere. */
static void *signaller_main(void *arg)
{
	uint64_t rng = (uint64_t)(uintptr_t)arg | 1;

	while (!LD(stop)) {
		uint64_t r = hp_splitmix64(&rng);
		reader_t *rd = &readers[r % (uint64_t)nreaders];

		pthread_kill(rd->thread, TEST_SIG);
		t_sleep_us(50 + (long)((r >> 8) % 200));
	}
	return NULL;
}

/* ================================================================== */
/* Main                                                                */
/* ================================================================== */

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.5, t0;
	pthread_t w, fw, sg;
	struct sigaction sa;
	uint64_t hist[PIPE_LEN + 1] = { 0 }, reads = 0, sig_reads = 0, dead = 0, torn = 0, bad_age = 0;
	hp_rcu_stats_t s0, s1;
	int ncpu = get_nprocs();

	skip_signal_fallback_under_tsan();
	if (secs <= 0 || secs > 3600) {
		fprintf(stderr, "test_rcu_torture: duration '%s': want seconds in (0, 3600]\n", argv[1]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	nreaders = ncpu < 2 ? 2 : ncpu > MAX_READERS ? MAX_READERS : ncpu;
	for (int i = 0; i < NELEM; i++)
		free_elem(&pool[i]);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_reader;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	T_CHECK(sigaction(TEST_SIG, &sa, NULL) == 0);

#ifdef IS_SRCU
	T_CHECK(hp_init_srcu_struct(&dom) == 0);
#endif
	t_stats(&s0);
	for (int i = 0; i < nreaders; i++) {
		readers[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		readers[i].sig_rng = 0xbf58476d1ce4e5b9ull * (uint64_t)(i + 1);
		T_CHECK(pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]) == 0);
	}
	for (int i = 0; i < nreaders; i++)
		while (!__atomic_load_n(&readers[i].ready, __ATOMIC_ACQUIRE))
			t_sleep_us(100);
	T_CHECK(pthread_create(&w, NULL, writer_main, (void *)(uintptr_t)0x1234567) == 0);
	T_CHECK(pthread_create(&fw, NULL, fakewriter_main, (void *)(uintptr_t)0x7654321) == 0);
	T_CHECK(pthread_create(&sg, NULL, signaller_main, (void *)(uintptr_t)0x2468ace) == 0);

	t0 = hp_mono_s();
	while (hp_mono_s() - t0 < secs && !LD(stop))
		t_sleep_us(10000);
	ST(stop, 1);
	pthread_join(sg, NULL);
	pthread_join(w, NULL);
	pthread_join(fw, NULL);
	for (int i = 0; i < nreaders; i++)
		pthread_join(readers[i].thread, NULL);
#if T_HAS_CB
	hp_rcu_barrier();
#else
	T_CHECK_MSG(!hp_srcu_readers_active(&dom), "a reader is still counted inside after all left");
	hp_cleanup_srcu_struct(&dom);
#endif
	t_stats(&s1);

	for (int i = 0; i < nreaders; i++) {
		for (int k = 0; k <= PIPE_LEN; k++)
			hist[k] += readers[i].hist[k];
		reads += readers[i].reads;
		sig_reads += readers[i].sig_reads;
		dead += readers[i].dead;
		torn += readers[i].torn;
	}
	for (int k = 2; k <= PIPE_LEN; k++)
		bad_age += hist[k];

	printf("flavour %s, barrier %s, %d readers, %.1f s\n", s1.flavour, s1.mb, nreaders, hp_mono_s() - t0);
	printf("reads %llu (%llu in signal handlers), writes %llu (sync %llu, expedited %llu, call_rcu %llu,"
	       " polled %llu)\n", (unsigned long long)reads, (unsigned long long)sig_reads,
	       (unsigned long long)writes, (unsigned long long)w_sync, (unsigned long long)w_exp,
	       (unsigned long long)w_cb, (unsigned long long)w_poll);
	printf("grace periods %llu (%llu expedited; normal ones order readers with %s), callbacks %llu\n",
	       (unsigned long long)(s1.gps - s0.gps), (unsigned long long)(s1.exp_gps - s0.exp_gps),
	       s1.mb_normal, (unsigned long long)(s1.cbs_invoked - s0.cbs_invoked));
	printf("ages seen:");
	for (int k = 0; k <= PIPE_LEN; k++)
		printf(" %llu", (unsigned long long)hist[k]);
	printf("\nerrors: %llu too old, %llu freed, %llu torn\n", (unsigned long long)bad_age,
	       (unsigned long long)dead, (unsigned long long)torn);

#ifdef EXPECT_BROKEN
#if defined(T_RCU_BROKEN_EXP)
#define HP_RCU_PFX_STR_BROKEN "broken_exp"
#elif defined(T_RCU_SRCU_BROKEN)
#define HP_RCU_PFX_STR_BROKEN "srcu_broken"
#else
#define HP_RCU_PFX_STR_BROKEN "broken"
#endif
	/* the point of this build: the torture test must catch the flavour */
	T_CHECK_MSG(bad_age + dead + torn > 0,
		    "the torture test did not catch the broken flavour in %.1f s", secs);
	if (bad_age + dead + torn > 0)
		printf("caught the broken flavour, as it must\n");
	return t_done("rcu_torture_" HP_RCU_PFX_STR_BROKEN);
#else
	T_CHECK_MSG(bad_age == 0, "%llu reads saw an element more than one grace period after its removal",
		    (unsigned long long)bad_age);
	T_CHECK_MSG(dead == 0, "%llu reads saw a freed element", (unsigned long long)dead);
	T_CHECK_MSG(torn == 0, "%llu reads saw a rewritten element", (unsigned long long)torn);
	/* the test must have done something */
	T_CHECK(reads > 1000);
	T_CHECK(writes > 10);
	T_CHECK(w_sync > 0 && w_exp > 0);
	T_CHECK(!T_HAS_CB || (w_cb > 0 && w_poll > 0));
	T_CHECK(s1.exp_gps > s0.exp_gps);
	T_CHECK(sig_reads > 0);
	T_CHECK(s1.gps > s0.gps);
	T_CHECK(hist[0] + hist[1] > 0);
	return t_done("rcu_torture");
#endif
}
