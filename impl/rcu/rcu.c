/* rcu.c — impl/rcu: registration, grace periods, call_rcu, rcu_barrier and
 * the polled API; one source built once per flavour with
 * -DHP_RCU_BUILD_QSBR, _MEMB, _PREEMPT, _BROKEN or _BROKEN_EXP (as liburcu
 * builds its flavours). What each flavour does is documented in its header. */
#define HP_RCU_NO_MAP
#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "hp_compiler.h"
#include "hp_futex.h"

#if defined(HP_RCU_BUILD_QSBR)
#include "rcu_qsbr.h"
#define PFX qsbr
#define NAME "qsbr"
#define KIND_QSBR 1
#elif defined(HP_RCU_BUILD_MEMB)
#include "rcu_memb.h"
#define PFX memb
#define NAME "memb"
#define KIND_EPOCH 1
#elif defined(HP_RCU_BUILD_PREEMPT)
#include "rcu_preempt.h"
#define PFX preempt
#define NAME "preempt"
#define KIND_NEST 1
#elif defined(HP_RCU_BUILD_BROKEN)
#include "rcu_broken.h"
#define PFX broken
#define NAME "broken"
#define KIND_EPOCH 1
#define BROKEN 1
#elif defined(HP_RCU_BUILD_BROKEN_EXP)
#include "rcu_broken_exp.h"
#define PFX broken_exp
#define NAME "broken_exp"
#define KIND_EPOCH 1
#define BROKEN_EXP 1
#else
#error "build rcu.c with one of -DHP_RCU_BUILD_QSBR, _MEMB, _PREEMPT, _BROKEN, _BROKEN_EXP"
#endif

#define F(x) HP_RCU_CAT3(hp_rcu_, PFX, _##x)

/* The signal of the fallback barrier scheme (memb, preempt). */
#ifndef HP_RCU_SIGNAL
#define HP_RCU_SIGNAL (SIGRTMIN + 5)
#endif

#define MAX_LISTS 1024          /* callback lists: one per possible CPU, capped */
#define EPOCH_ONE (UINT64_C(1) << HP_RCU_NEST_BITS)

/* ================================================================== */
/* State                                                               */
/* ================================================================== */

/* kfree_rcu's bulk page (struct kvfree_rcu_bulk_data): pointers to free
 * after one grace period, and the one rcu_head the batch is queued with. */
#define KRC_PAGE 4096
#define KRC_NREC ((KRC_PAGE - sizeof(hp_rcu_head_t) - sizeof(size_t)) / sizeof(void *))
typedef struct krc_page {
	hp_rcu_head_t rh;
	size_t nr;
	void *rec[KRC_NREC];
} krc_page_t;
_Static_assert(sizeof(krc_page_t) <= KRC_PAGE, "a bulk page is one page");

/* struct kfree_rcu_cpu: the page being filled on one CPU, under its lock
 * (the kernel's krcp->lock; here a thread may migrate, so it is a mutex). */
typedef struct krc {
	pthread_mutex_t lock;
	krc_page_t *cur;
} __attribute__((aligned(64))) krc_t;

HP_RCU_TLS hp_rcu_reader_t F(reader);

/* qsbr: 1 (0 means offline). memb: epoch 1 with a nesting count of 1, so
 * the outermost read_lock stores it as it is. */
#if defined(KIND_QSBR)
hp_rcu_gp_t F(gp) = { .ctr = 1 };
#else
hp_rcu_gp_t F(gp) = { .ctr = EPOCH_ONE | 1 };
#endif

enum { MB_NONE, MB_MEMBARRIER, MB_SIGNAL };

/* A per-CPU callback list (rcu_data->cblist without segments): a lock-free
 * stack that call_rcu pushes onto and the grace-period thread empties in
 * one exchange, so there is no ABA. */
typedef struct cblist {
	hp_rcu_head_t *head;
} __attribute__((aligned(64))) cblist_t;

static struct {
	pthread_mutex_t gp_lock;        /* one grace period at a time */
	pthread_mutex_t reg_lock;       /* the registry */
	hp_rcu_reader_t *readers;       /* registered threads */
	uint64_t seq;                   /* rcu_seq: low bit set while a GP runs */
	int mb;                         /* MB_*: chosen once by init() */
	int mb_global;                  /* MEMBARRIER_CMD_GLOBAL available (normal GPs) */

	cblist_t *lists;
	int nlists;
	pthread_t gp_thread;
	uint32_t sleeping;              /* futex word: the GP thread sleeps on it */
	uint64_t poll_req;              /* highest cookie start_poll asked for */

	pthread_mutex_t barrier_lock;   /* one rcu_barrier at a time */
	pthread_mutex_t bar_mutex;
	pthread_cond_t bar_cond;
	int bar_left;                   /* barrier callbacks not run yet */
	hp_rcu_head_t *bar_heads;       /* one per list */

	uint64_t gps, exp_gps, cbs_invoked, cb_batches;
	krc_t *krcs;                    /* one per callback list */
	uint64_t kfree_queued, kfree_freed, kfree_pages;
	pthread_key_t exit_key;
} st = {
	.gp_lock = PTHREAD_MUTEX_INITIALIZER,
	.reg_lock = PTHREAD_MUTEX_INITIALIZER,
	.barrier_lock = PTHREAD_MUTEX_INITIALIZER,
	.bar_mutex = PTHREAD_MUTEX_INITIALIZER,
	.bar_cond = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_once_t gp_thread_once __attribute__((unused)) = PTHREAD_ONCE_INIT;

__attribute__((noreturn, format(printf, 1, 2)))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hp_rcu_%s: ", NAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void lock(pthread_mutex_t *m)
{
	int e = pthread_mutex_lock(m);

	if (e)
		die("pthread_mutex_lock: %s", strerror(e));
}

static void unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

/* ================================================================== */
/* Waiting: spin, then yield, then sleep                               */
/* ================================================================== */

#define SPIN_TRIES 200
#define YIELD_TRIES 50

/* A writer waiting for a reader: spins while the reader is likely to leave
 * its section within microseconds, yields while it might be waiting for
 * this CPU, then sleeps from 5 us up to 1 ms. Polling (rather than a futex
 * the reader would wake) keeps the read side free of a wake-up test. An
 * expedited grace period never sleeps: it spins, then yields, for as long
 * as it waits (latency bought with CPU time, as the kernel's expedited
 * path buys it with IPIs). */
__attribute__((unused)) static void wait_a_while(unsigned tries, int exp)
{
	if (tries < SPIN_TRIES) {
		hp_cpu_relax();
	} else if (exp || tries < SPIN_TRIES + YIELD_TRIES) {
		sched_yield();
	} else {
		unsigned k = tries - SPIN_TRIES - YIELD_TRIES;
		long ns = 5000L << (k < 8 ? k : 8);
		struct timespec ts = { 0, ns > 1000000 ? 1000000 : ns };

		nanosleep(&ts, NULL);
	}
}

/* ================================================================== */
/* Barriers on every reader (memb, preempt)                            */
/* ================================================================== */

#if !defined(KIND_QSBR) && !defined(BROKEN)
/* The signal fallback: the handler's full barrier is the reader's half of
 * the smp_mb() pair, its release store the acknowledgement. */
static void mb_handler(int sig)
{
	hp_rcu_reader_t *r = &F(reader);
	int saved = errno;

	(void)sig;
	hp_rcu_smp_mb();
	__atomic_store_n(&r->need_mb, 0, __ATOMIC_RELEASE);
	hp_rcu_smp_mb();
	errno = saved;
}

/* Also notes whether MEMBARRIER_CMD_GLOBAL (the normal grace period's
 * barrier) is there: the kernel refuses it with nohz_full CPUs. */
static int membarrier_ok(void)
{
	const char *force = getenv("HP_RCU_FORCE_SIGNAL");
	long cmds;

	if (force && strcmp(force, "1") == 0)
		return 0;
	cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED))
		return 0;
	st.mb_global = (cmds & MEMBARRIER_CMD_GLOBAL) != 0;
	return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

static void mb_init(void)
{
	struct sigaction sa;

	if (membarrier_ok()) {
		st.mb = MB_MEMBARRIER;
		return;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = mb_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(HP_RCU_SIGNAL, &sa, NULL) != 0)
		die("sigaction(SIGRTMIN+%d): %s", HP_RCU_SIGNAL - SIGRTMIN, strerror(errno));
	st.mb = MB_SIGNAL;
}

/* smp_mb() on every CPU running a registered thread, and on this one.
 * Expedited: IPIs now (MEMBARRIER_CMD_PRIVATE_EXPEDITED). Normal: where it
 * exists, MEMBARRIER_CMD_GLOBAL, which waits for the kernel's normal grace
 * period (every CPU passes a context switch, user-mode tick or idle, each
 * a full barrier) and disturbs no CPU. The signal fallback is the same for
 * both kinds. */
static void mb_all(int exp)
{
	hp_rcu_reader_t *self = &F(reader), *r;
	unsigned tries = 0;

	hp_rcu_smp_mb();
	if (st.mb == MB_MEMBARRIER) {
		int cmd = exp || !st.mb_global ? MEMBARRIER_CMD_PRIVATE_EXPEDITED : MEMBARRIER_CMD_GLOBAL;

		if (syscall(__NR_membarrier, cmd, 0, 0) != 0)
			die("membarrier(%s): %s", cmd == MEMBARRIER_CMD_GLOBAL ?
			    "MEMBARRIER_CMD_GLOBAL" : "MEMBARRIER_CMD_PRIVATE_EXPEDITED", strerror(errno));
		hp_rcu_smp_mb();
		return;
	}
	/* The registry lock stays held: a thread cannot leave (and free its
	 * TLS) while it has a signal to answer. A thread waiting for the lock
	 * in unregister still runs its handler. */
	lock(&st.reg_lock);
	for (r = st.readers; r; r = r->reg_next) {
		int e;

		if (r == self)
			continue;
		__atomic_store_n(&r->need_mb, 1, __ATOMIC_RELAXED);
		e = pthread_kill(r->thread, HP_RCU_SIGNAL);
		if (e)
			die("pthread_kill: %s (did a registered thread exit without unregistering?)",
			    strerror(e));
	}
	for (r = st.readers; r; r = r->reg_next) {
		if (r == self)
			continue;
		while (__atomic_load_n(&r->need_mb, __ATOMIC_ACQUIRE))
			wait_a_while(tries++, exp);
	}
	unlock(&st.reg_lock);
	hp_rcu_smp_mb();
}
#endif

/* ================================================================== */
/* Initialisation and registration                                     */
/* ================================================================== */

static void unregister_at_exit(void *arg);

static void init(void)
{
	int n = get_nprocs_conf();

	if (n < 1)
		n = 1;
	if (n > MAX_LISTS)
		n = MAX_LISTS;
	st.nlists = n;
	st.lists = aligned_alloc(64, sizeof(cblist_t) * (size_t)n);
	st.bar_heads = calloc((size_t)n, sizeof(hp_rcu_head_t));
	st.krcs = aligned_alloc(64, sizeof(krc_t) * (size_t)n);
	if (!st.lists || !st.bar_heads || !st.krcs)
		die("out of memory for %d callback lists", n);
	for (int i = 0; i < n; i++) {
		pthread_mutex_init(&st.krcs[i].lock, NULL);
		st.krcs[i].cur = NULL;
	}
	memset(st.lists, 0, sizeof(cblist_t) * (size_t)n);
	if (pthread_key_create(&st.exit_key, unregister_at_exit) != 0)
		die("pthread_key_create failed");
#if defined(KIND_QSBR) || defined(BROKEN)
	st.mb = MB_NONE;
#else
	mb_init();
#endif
}

static void ensure_init(void)
{
	pthread_once(&init_once, init);
}

void F(register_thread)(void)
{
	hp_rcu_reader_t *r = &F(reader);

	ensure_init();
	if (r->registered)
		die("register_thread: this thread is registered already");
	r->ctr = 0;
	r->nesting = 0;
	r->need_mb = 0;
	r->special = 0;
	r->qs = 0;
	r->thread = pthread_self();
	lock(&st.reg_lock);
	r->reg_prev = NULL;
	r->reg_next = st.readers;
	if (st.readers)
		st.readers->reg_prev = r;
	st.readers = r;
	r->registered = 1;
#if defined(KIND_QSBR)
	F(thread_online)();
#endif
	unlock(&st.reg_lock);
	/* unregisters a thread that exits without doing it itself */
	pthread_setspecific(st.exit_key, r);
}

void F(unregister_thread)(void)
{
	hp_rcu_reader_t *r = &F(reader);

	if (!r->registered)
		die("unregister_thread: this thread is not registered");
#if defined(KIND_QSBR)
	/* offline first: a grace period may hold the registry lock while it
	 * waits for this thread */
	F(thread_offline)();
#else
	if (F(read_ongoing)())
		die("unregister_thread inside a read-side critical section");
#endif
	lock(&st.reg_lock);
	if (r->reg_prev)
		r->reg_prev->reg_next = r->reg_next;
	else
		st.readers = r->reg_next;
	if (r->reg_next)
		r->reg_next->reg_prev = r->reg_prev;
	r->registered = 0;
	unlock(&st.reg_lock);
	pthread_setspecific(st.exit_key, NULL);
}

static void unregister_at_exit(void *arg)
{
	hp_rcu_reader_t *r = arg;

	if (r == &F(reader) && r->registered)
		F(unregister_thread)();
}

const char *F(flavour)(void)
{
	return NAME;
}

/* ================================================================== */
/* Grace periods                                                       */
/* ================================================================== */

#if !defined(BROKEN)
/* Whether reader r no longer holds up the grace period `target` (qsbr: the
 * new counter value; memb: the new epoch; preempt: the GP number). qsbr's
 * and memb's tests stay true once true, so wait_readers may rescan after
 * dropping the registry lock; a preempt reader seen outside may be inside
 * again at the rescan, and is then asked to report (a short extra wait,
 * never a wrong answer). */
static int reader_done(hp_rcu_reader_t *r, uint64_t target)
{
#if defined(KIND_QSBR)
	uint64_t c = __atomic_load_n(&r->ctr, __ATOMIC_ACQUIRE);

	return c == 0 || c >= target;
#elif defined(KIND_EPOCH)
	uint64_t c = __atomic_load_n(&r->ctr, __ATOMIC_ACQUIRE);

	return !(c & HP_RCU_NEST_MASK) || (c >> HP_RCU_NEST_BITS) >= target;
#else
	if (__atomic_load_n(&r->nesting, __ATOMIC_ACQUIRE) == 0) {
		/* quiescent now: withdraw the request so that its next unlock
		 * stays on the fast path */
		uint64_t want = target;

		__atomic_compare_exchange_n(&r->special, &want, 0, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
		return 1;
	}
	if (__atomic_load_n(&r->qs, __ATOMIC_ACQUIRE) >= target)
		return 1;
	/* registered after the requests went out: ask now, so a reader that
	 * is nearly always inside reports at its next outermost unlock */
	if (__atomic_load_n(&r->special, __ATOMIC_RELAXED) == 0) {
		uint64_t none = 0;

		__atomic_compare_exchange_n(&r->special, &none, target, 0,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
	}
	return 0;
#endif
}

/* Waits until every registered thread is done with `target`. The registry
 * lock is held while spinning and dropped while yielding or sleeping, so
 * threads can register and unregister meanwhile; the scan then restarts. */
static void wait_readers(uint64_t target, int exp)
{
	hp_rcu_reader_t *r;
	unsigned tries = 0;

	lock(&st.reg_lock);
restart:
	for (r = st.readers; r; r = r->reg_next) {
		while (!reader_done(r, target)) {
			if (tries < SPIN_TRIES) {
				wait_a_while(tries++, exp);
				continue;
			}
			unlock(&st.reg_lock);
			wait_a_while(tries++, exp);
			lock(&st.reg_lock);
			goto restart;
		}
		hp_rcu_tsan_acquire(r);
	}
	unlock(&st.reg_lock);
}
#endif

/* One grace period, expedited or not; the caller holds gp_lock. */
__attribute__((unused)) static void gp_run_locked(int exp)
{
	uint64_t s = st.seq;

	__atomic_store_n(&st.seq, s + 1, __ATOMIC_SEQ_CST);      /* rcu_seq_start */
#if defined(BROKEN)
	/* wrong on purpose: waits for nobody */
	(void)exp;
#elif defined(KIND_QSBR)
	{
		uint64_t g = F(gp).ctr + 1;

		hp_rcu_smp_mb();
		__atomic_store_n(&F(gp).ctr, g, __ATOMIC_RELAXED);
		hp_rcu_smp_mb();
		wait_readers(g, exp);
		hp_rcu_smp_mb();
	}
#elif defined(KIND_EPOCH)
	{
		/* The barrier comes before the new epoch: a reader that loads
		 * the new epoch began after the barrier, so it sees every
		 * update made before this grace period. */
		uint64_t g = F(gp).ctr + EPOCH_ONE;

		mb_all(exp);
		__atomic_store_n(&F(gp).ctr, g, __ATOMIC_RELAXED);
		hp_rcu_smp_mb();
#if defined(BROKEN_EXP)
		if (!exp)       /* wrong on purpose: the expedited kind waits for nobody */
#endif
			wait_readers(g >> HP_RCU_NEST_BITS, exp);
		mb_all(exp);
	}
#else
	{
		/* The GP number is odd and grows; reports carry it, so a late
		 * report for an earlier grace period cannot satisfy this one. */
		uint64_t k = s + 1;
		hp_rcu_reader_t *r;

		lock(&st.reg_lock);
		for (r = st.readers; r; r = r->reg_next)
			__atomic_store_n(&r->special, k, __ATOMIC_RELAXED);
		unlock(&st.reg_lock);
		mb_all(exp);
		wait_readers(k, exp);
		mb_all(exp);
	}
#endif
	__atomic_store_n(&st.gps, st.gps + 1, __ATOMIC_RELAXED);
	if (exp)
		__atomic_store_n(&st.exp_gps, st.exp_gps + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&st.seq, s + 2, __ATOMIC_RELEASE);      /* rcu_seq_end */
}

#if defined(KIND_NEST)
/* rcu_read_unlock_special(): report this thread's quiescent state to the
 * grace period that asked. The barrier orders the critical section before
 * the report. */
void F(unlock_special)(void)
{
	hp_rcu_reader_t *r = &F(reader);
	uint64_t k = __atomic_load_n(&r->special, __ATOMIC_RELAXED);

	if (!k)
		return;
	hp_rcu_smp_mb();
	__atomic_store_n(&r->qs, k, __ATOMIC_RELEASE);
	__atomic_compare_exchange_n(&r->special, &k, 0, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
#else
void F(unlock_special)(void)
{
}
#endif

/* ================================================================== */
/* Polled grace periods                                                */
/* ================================================================== */

/* rcu_seq_snap(): the value seq reaches at the end of the first grace period
 * that starts after now (if one is running, it may have started before
 * this call's readers, so the next one). */
unsigned long F(get_state_synchronize_rcu)(void)
{
#if defined(BROKEN)
	return 0;
#else
	uint64_t s;

	hp_rcu_smp_mb();
	s = __atomic_load_n(&st.seq, __ATOMIC_ACQUIRE);
	return (unsigned long)((s + 3) & ~UINT64_C(1));
#endif
}

bool F(poll_state_synchronize_rcu)(unsigned long cookie)
{
#if defined(BROKEN)
	(void)cookie;
	return true;
#else
	uint64_t s = __atomic_load_n(&st.seq, __ATOMIC_ACQUIRE);

	if ((int64_t)(s - (uint64_t)cookie) < 0)
		return false;
	hp_rcu_smp_mb();
	return true;
#endif
}

static void synchronize(int exp)
{
#if defined(BROKEN)
	(void)exp;
	return;
#else
	hp_rcu_reader_t *r = &F(reader);
	unsigned long cookie;
#if defined(KIND_QSBR)
	int was_online = r->registered && r->ctr != 0;

	if (was_online)
		F(thread_offline)();
#else
	if (r->registered && F(read_ongoing)())
		die("synchronize_rcu() inside a read-side critical section would wait for itself");
#endif
	ensure_init();
	cookie = F(get_state_synchronize_rcu)();
	lock(&st.gp_lock);
	/* callers that queued on the lock share the grace period that ran */
	if (!F(poll_state_synchronize_rcu)(cookie))
		gp_run_locked(exp);
	unlock(&st.gp_lock);
#if defined(KIND_QSBR)
	if (was_online)
		F(thread_online)();
#endif
#endif
}

void F(synchronize_rcu)(void)
{
	synchronize(0);
}

void F(synchronize_rcu_expedited)(void)
{
	synchronize(1);
}

void F(cond_synchronize_rcu)(unsigned long cookie)
{
	if (!F(poll_state_synchronize_rcu)(cookie))
		F(synchronize_rcu)();
}

/* ================================================================== */
/* The grace-period thread and call_rcu                                */
/* ================================================================== */

#if !defined(BROKEN)
static int work_pending(void)
{
	for (int i = 0; i < st.nlists; i++)
		if (__atomic_load_n(&st.lists[i].head, __ATOMIC_SEQ_CST))
			return 1;
	return (int64_t)(__atomic_load_n(&st.poll_req, __ATOMIC_SEQ_CST) -
			 __atomic_load_n(&st.seq, __ATOMIC_ACQUIRE)) > 0;
}

/* Dekker with the GP thread's sleep: the queueing side stores (its push),
 * then loads `sleeping`; the GP thread stores `sleeping`, then loads the
 * lists. Both seq_cst, so one of them sees the other. */
static void kick(void)
{
	if (__atomic_load_n(&st.sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&st.sleeping, 0, __ATOMIC_SEQ_CST))
		hp_futex_wake(&st.sleeping, 1);
}

/* Callbacks of one list, oldest first (the list is a stack). */
static uint64_t invoke(hp_rcu_head_t *h)
{
	hp_rcu_head_t *fifo = NULL;
	uint64_t n = 0;

	while (h) {
		hp_rcu_head_t *next = h->next;

		h->next = fifo;
		fifo = h;
		h = next;
	}
	while (fifo) {
		hp_rcu_head_t *next = fifo->next;

		fifo->func(fifo);
		fifo = next;
		n++;
	}
	return n;
}

static void *gp_thread_main(void *arg)
{
	hp_rcu_head_t **batch = calloc((size_t)st.nlists, sizeof(*batch));

	(void)arg;
	if (!batch)
		die("out of memory in the grace-period thread");
	for (;;) {
		unsigned long cookie;
		uint64_t n = 0;

		if (!work_pending()) {
			__atomic_store_n(&st.sleeping, 1, __ATOMIC_SEQ_CST);
			if (!work_pending())
				hp_futex_wait(&st.sleeping, 1, NULL);
			__atomic_store_n(&st.sleeping, 0, __ATOMIC_SEQ_CST);
			continue;
		}
		for (int i = 0; i < st.nlists; i++)
			batch[i] = __atomic_exchange_n(&st.lists[i].head, NULL, __ATOMIC_ACQ_REL);
		/* a grace period that starts after the lists were taken */
		cookie = F(get_state_synchronize_rcu)();
		lock(&st.gp_lock);
		if (!F(poll_state_synchronize_rcu)(cookie))
			gp_run_locked(0);
		unlock(&st.gp_lock);
		for (int i = 0; i < st.nlists; i++)
			if (batch[i])
				n += invoke(batch[i]);
		if (n) {
			__atomic_store_n(&st.cbs_invoked, st.cbs_invoked + n, __ATOMIC_RELAXED);
			__atomic_store_n(&st.cb_batches, st.cb_batches + 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* The thread blocks every signal: the test's and the fallback's signals are
 * for reader threads. */
static void start_gp_thread(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	int e;

	ensure_init();
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&st.gp_thread, &attr, gp_thread_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e)
		die("cannot start the grace-period thread: %s", strerror(e));
}

static void push(cblist_t *l, hp_rcu_head_t *h)
{
	hp_rcu_head_t *old = __atomic_load_n(&l->head, __ATOMIC_RELAXED);

	do
		h->next = old;
	while (!__atomic_compare_exchange_n(&l->head, &old, h, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
}
#endif

void F(call_rcu)(hp_rcu_head_t *head, hp_rcu_callback_t func)
{
#if defined(BROKEN)
	func(head);         /* wrong on purpose: no grace period */
#else
	int cpu;

	pthread_once(&gp_thread_once, start_gp_thread);
	head->func = func;
	cpu = sched_getcpu();
	if (cpu < 0)
		cpu = 0;
	/* A thread that migrates after sched_getcpu() pushes onto its old
	 * CPU's list: still correct (the push is atomic), only less local. */
	push(&st.lists[(unsigned)cpu % (unsigned)st.nlists], head);
	kick();
#endif
}

unsigned long F(start_poll_synchronize_rcu)(void)
{
	unsigned long c = F(get_state_synchronize_rcu)();
#if !defined(BROKEN)
	uint64_t cur;

	pthread_once(&gp_thread_once, start_gp_thread);
	cur = __atomic_load_n(&st.poll_req, __ATOMIC_RELAXED);
	while ((int64_t)(cur - (uint64_t)c) < 0 &&
	       !__atomic_compare_exchange_n(&st.poll_req, &cur, (uint64_t)c, 1,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	kick();
#endif
	return c;
}

/* ================================================================== */
/* rcu_barrier                                                         */
/* ================================================================== */

#if !defined(BROKEN)
static void barrier_cb(hp_rcu_head_t *h)
{
	(void)h;
	if (__atomic_sub_fetch(&st.bar_left, 1, __ATOMIC_ACQ_REL) == 0) {
		lock(&st.bar_mutex);
		pthread_cond_broadcast(&st.bar_cond);
		unlock(&st.bar_mutex);
	}
}
#endif

/* One barrier callback per list, queued behind whatever the list holds
 * (rcu_barrier_entrain()): each list runs oldest first, so when all of them
 * have run, every callback queued before this call has. */
void F(rcu_barrier)(void)
{
#if !defined(BROKEN)
	hp_rcu_reader_t *r = &F(reader);
#if defined(KIND_QSBR)
	int was_online = r->registered && r->ctr != 0;
#endif

	pthread_once(&gp_thread_once, start_gp_thread);
	if (pthread_equal(pthread_self(), st.gp_thread))
		die("rcu_barrier() from an RCU callback would wait for itself");
#if defined(KIND_QSBR)
	if (was_online)
		F(thread_offline)();
#else
	if (r->registered && F(read_ongoing)())
		die("rcu_barrier() inside a read-side critical section would wait for itself");
#endif
	lock(&st.barrier_lock);
	__atomic_store_n(&st.bar_left, st.nlists, __ATOMIC_RELAXED);
	for (int i = 0; i < st.nlists; i++) {
		st.bar_heads[i].func = barrier_cb;
		push(&st.lists[i], &st.bar_heads[i]);
	}
	kick();
	lock(&st.bar_mutex);
	while (__atomic_load_n(&st.bar_left, __ATOMIC_ACQUIRE) != 0)
		pthread_cond_wait(&st.bar_cond, &st.bar_mutex);
	unlock(&st.bar_mutex);
	unlock(&st.barrier_lock);
#if defined(KIND_QSBR)
	if (was_online)
		F(thread_online)();
#endif
#endif
}

/* ================================================================== */
/* kfree_rcu: objects batched per CPU into pages of pointers           */
/* ================================================================== */

/* kfree_rcu_work(): the page's grace period has elapsed: free it all. */
static void krc_free_page(hp_rcu_head_t *h)
{
	krc_page_t *p = hp_container_of(h, krc_page_t, rh);
	size_t nr = p->nr;

	for (size_t i = 0; i < nr; i++)
		free(p->rec[i]);
	free(p);
	__atomic_fetch_add(&st.kfree_freed, nr, __ATOMIC_RELAXED);
}

static void krc_queue(krc_page_t *p)
{
	__atomic_fetch_add(&st.kfree_pages, 1, __ATOMIC_RELAXED);
	F(call_rcu)(&p->rh, krc_free_page);
}

void F(kvfree_call_rcu)(void *ptr)
{
	krc_page_t *p, *full = NULL;
	krc_t *k;
	int cpu;

	if (!ptr)
		return;
	ensure_init();
	cpu = sched_getcpu();
	k = &st.krcs[(unsigned)(cpu < 0 ? 0 : cpu) % (unsigned)st.nlists];
	lock(&k->lock);
	p = k->cur;
	if (unlikely(!p)) {
		p = malloc(sizeof *p);
		if (!p) {
			/* no page: the kernel's headless fallback, wait and free */
			unlock(&k->lock);
			F(synchronize_rcu)();
			free(ptr);
			__atomic_fetch_add(&st.kfree_queued, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&st.kfree_freed, 1, __ATOMIC_RELAXED);
			return;
		}
		p->nr = 0;
		k->cur = p;
	}
	p->rec[p->nr++] = ptr;
	if (p->nr == KRC_NREC) {
		k->cur = NULL;
		full = p;
	}
	unlock(&k->lock);
	__atomic_fetch_add(&st.kfree_queued, 1, __ATOMIC_RELAXED);
	if (full)
		krc_queue(full);
}

void F(kvfree_rcu_barrier)(void)
{
	ensure_init();
	for (int i = 0; i < st.nlists; i++) {
		krc_t *k = &st.krcs[i];
		krc_page_t *p;

		lock(&k->lock);
		p = k->cur;
		k->cur = NULL;
		unlock(&k->lock);
		if (p)
			krc_queue(p);
	}
	F(rcu_barrier)();
}

/* ================================================================== */
/* Statistics                                                          */
/* ================================================================== */

void F(stats)(hp_rcu_stats_t *s)
{
	ensure_init();
	memset(s, 0, sizeof *s);
	s->flavour = NAME;
	s->mb = st.mb == MB_MEMBARRIER ? "membarrier" : st.mb == MB_SIGNAL ? "signal" : "none";
	s->mb_normal = st.mb == MB_MEMBARRIER && st.mb_global ? "membarrier-global" : s->mb;
	s->gp_seq = __atomic_load_n(&st.seq, __ATOMIC_ACQUIRE);
	s->gps = __atomic_load_n(&st.gps, __ATOMIC_RELAXED);
	s->exp_gps = __atomic_load_n(&st.exp_gps, __ATOMIC_RELAXED);
	s->cbs_invoked = __atomic_load_n(&st.cbs_invoked, __ATOMIC_RELAXED);
	s->cb_batches = __atomic_load_n(&st.cb_batches, __ATOMIC_RELAXED);
	s->kfree_queued = __atomic_load_n(&st.kfree_queued, __ATOMIC_RELAXED);
	s->kfree_freed = __atomic_load_n(&st.kfree_freed, __ATOMIC_RELAXED);
	s->kfree_pages = __atomic_load_n(&st.kfree_pages, __ATOMIC_RELAXED);
}
