/* test_kprobes.c — the real-kernel probes (baselines/kernel/probes.h) do what they claim. */
#include "t_util.h"
#include "probes.h"

#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static long minflt(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_minflt;
}

/* Resident pages among [p, p + pages*ps), or -errno from mincore. */
static long resident(void *p, size_t pages, size_t ps)
{
	static unsigned char vec[4096];
	long n = 0;

	if (pages > sizeof(vec))
		return -E2BIG;
	if (mincore(p, pages * ps, vec) != 0)
		return -errno;
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	return n;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The CPUs this process may run on, up to max. */
static int allowed_cpus(int *cpus, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static int bind_calls_failing_cpu = -1;

/* A bind that refuses one CPU: start must report it and clean up. */
static int bind_refusing(int cpu)
{
	if (cpu == bind_calls_failing_cpu) {
		errno = EPERM;
		return -1;
	}
	return pin_self(cpu);
}

/* waitpid(pid) for up to 5 s; 1 when reaped, 0 on time-out, -1 on error. */
static int wait_reaped(pid_t pid)
{
	struct timespec nap = { 0, 5000000 };

	for (int i = 0; i < 1000; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		nanosleep(&nap, NULL);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* System call                                                         */
/* ------------------------------------------------------------------ */

static void test_getpid(void)
{
	pid_t parent = getpid(), child;
	int st;

	T_CHECK(hp_kp_getpid() == (long)parent);
	T_CHECK(hp_kp_getpid_n(1000) == (long)parent);
	T_CHECK(hp_kp_getpid_n(0) == (long)parent);
	/* Not cached: a child sees its own pid. */
	child = fork();
	T_CHECK(child >= 0);
	if (child == 0)
		_exit(hp_kp_getpid() == (long)getpid() && hp_kp_getpid() != (long)parent ? 0 : 1);
	if (child > 0) {
		T_CHECK(waitpid(child, &st, 0) == child);
		T_CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child saw a stale pid");
	}
}

/* ------------------------------------------------------------------ */
/* Minor fault                                                         */
/* ------------------------------------------------------------------ */

static void test_fault(void)
{
	hp_kp_region_t r, r2;
	size_t ps;
	long before, after;
	unsigned char *base;

	T_CHECK(hp_kp_fault_map(&r, 0) == -EINVAL);
	T_CHECK(hp_kp_fault_map(&r, SIZE_MAX / 2) == -EINVAL);
	if (hp_kp_fault_map(&r, 256) != 0) {
		T_CHECK_MSG(0, "fault_map(256) failed");
		return;
	}
	ps = r.page_size;
	base = r.base;
	T_CHECK(r.pages == 256 && r.touched == 0 && base != NULL);
	T_CHECK(resident(base, 256, ps) == 0);
	before = minflt();
	T_CHECK(hp_kp_fault_touch(&r, 200) == 200);
	after = minflt();
	T_CHECK_MSG(after - before >= 200, "ru_minflt grew by %ld for 200 touches", after - before);
	/* Exactly the touched pages: no THP, no fault-around. */
	T_CHECK(resident(base, 200, ps) == 200);
	T_CHECK(resident(base + 200 * ps, 56, ps) == 0);
	T_CHECK(hp_kp_fault_touch(&r, 100) == 56);
	T_CHECK(hp_kp_fault_touch(&r, 1) == 0);
	T_CHECK(r.touched == 256);
	T_CHECK(resident(base, 256, ps) == 256);
	/* The guard page after the region is mapped, inaccessible. */
	T_CHECK(resident(base + 256 * ps, 1, ps) == 0);

	/* A second region is a VMA of its own even when placed next to the first. */
	T_CHECK(hp_kp_fault_map(&r2, 16) == 0);
	T_CHECK(hp_kp_fault_touch(&r2, 16) == 16);
	T_CHECK(resident(r2.base, 16, ps) == 16);
	T_CHECK(hp_kp_fault_unmap(&r2) == 0);

	T_CHECK(hp_kp_fault_unmap(&r) == 0);
	T_CHECK(r.base == NULL);
	T_CHECK(resident(base, 256, ps) == -ENOMEM);
	T_CHECK(resident(base + 256 * ps, 1, ps) == -ENOMEM);
	T_CHECK(hp_kp_fault_unmap(&r) == 0);    /* twice is harmless */
}

/* ------------------------------------------------------------------ */
/* Page allocation                                                     */
/* ------------------------------------------------------------------ */

static void test_page_alloc(void)
{
	static const unsigned orders[] = { 0, 3, 10 };
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	void *where = (void *)1;

	T_CHECK_STR(hp_kp_populate_method(), "undecided");
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		unsigned o = orders[i];
		long before = minflt(), grew;
		int ret = hp_kp_page_alloc(o, &where);

		grew = minflt() - before;
		T_CHECK_MSG(ret == 0, "order %u: %s", o, strerror(-ret));
		T_CHECK(where != NULL);
		/* Every page was faulted in (populate counts as minor faults). */
		T_CHECK_MSG(grew >= (1L << o), "order %u: ru_minflt grew by %ld", o, grew);
		if (where)
			T_CHECK_MSG(resident(where, (size_t)1 << o, ps) == -ENOMEM,
				    "order %u: %p still mapped", o, where);
	}
	T_CHECK(strcmp(hp_kp_populate_method(), "MADV_POPULATE_WRITE") == 0 ||
		strcmp(hp_kp_populate_method(), "write per page") == 0);
	T_CHECK(hp_kp_page_alloc(HP_KP_MAX_ORDER + 1, &where) == -EINVAL);
	T_CHECK(where == NULL);
	T_CHECK(hp_kp_page_alloc(0, NULL) == 0);
}

/* ------------------------------------------------------------------ */
/* Context switch ping-pong                                            */
/* ------------------------------------------------------------------ */

static void pingpong_on(int cpu, int (*bind)(int), const char *what)
{
	hp_kp_pingpong_t pp;
	int fds = open_fds(), ret;
	pid_t pid;

	ret = hp_kp_pingpong_start(&pp, cpu, bind);
	if (ret != 0) {
		T_CHECK_MSG(0, "%s: start on cpu %d: %s", what, cpu, strerror(-ret));
		return;
	}
	pid = pp.pid;
	T_CHECK(pid > 0 && pp.cpu == cpu);
	T_CHECK_MSG(hp_kp_pingpong_partner_cpu(&pp) == cpu, "%s: partner not on cpu %d", what, cpu);
	for (uint32_t i = 0; i < 200; i++) {
		uint32_t tok = (i * 2654435761u) & HP_KP_TOKEN_MASK, echo = ~tok;

		if (hp_kp_pingpong_round(&pp, tok, &echo) != 0 || echo != tok) {
			T_CHECK_MSG(0, "%s: round %u: sent %u got %u", what, i, tok, echo);
			break;
		}
	}
	T_CHECK(hp_kp_pingpong(&pp, 1000) == 0);
	T_CHECK(hp_kp_pingpong(&pp, 1) == 0);
	T_CHECK(hp_kp_pingpong_partner_cpu(&pp) == cpu);
	T_CHECK(hp_kp_pingpong_stop(&pp) == 0);
	T_CHECK(pp.pid == 0 && pp.to_fd == -1 && pp.from_fd == -1);
	T_CHECK_MSG(waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD, "%s: partner not reaped", what);
	T_CHECK_MSG(open_fds() == fds, "%s: %d fds before, %d after", what, fds, open_fds());
	T_CHECK(hp_kp_pingpong_stop(&pp) == 0);
}

static void test_pingpong(void)
{
	int cpus[2], n = allowed_cpus(cpus, 2), self, fds = open_fds(), ret;
	hp_kp_pingpong_t pp;

	if (n < 1 || pin_self(cpus[0]) != 0) {
		T_CHECK_MSG(0, "cannot pin to a CPU");
		return;
	}
	self = sched_getcpu();
	T_CHECK(self == cpus[0]);
	pingpong_on(self, NULL, "same cpu, default bind");
	T_CHECK(sched_getcpu() == self);
	pingpong_on(self, bind_refusing, "same cpu, caller's bind");
	if (n >= 2)
		pingpong_on(cpus[1], NULL, "cross cpu");
	else
		printf("note: one CPU allowed, cross-CPU ping-pong not tested\n");

	/* A bind failure comes back from start, with nothing left behind. */
	bind_calls_failing_cpu = self;
	ret = hp_kp_pingpong_start(&pp, self, bind_refusing);
	T_CHECK_MSG(ret == -EPERM, "start with a failing bind returned %d", ret);
	T_CHECK(pp.pid == 0 && pp.to_fd == -1 && pp.from_fd == -1);
	T_CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	T_CHECK(open_fds() == fds);
	bind_calls_failing_cpu = -1;
}

/* The partner exits when the process that started it dies without stopping
 * it: a middle process starts one and exits; as the subreaper we inherit the
 * orphaned partner and must see it exit. */
static void test_pingpong_orphan(void)
{
	int p[2], st;
	pid_t mid, partner = 0;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		printf("note: no PR_SET_CHILD_SUBREAPER, orphan test skipped\n");
		return;
	}
	T_CHECK(pipe(p) == 0);
	mid = fork();
	T_CHECK(mid >= 0);
	if (mid == 0) {
		hp_kp_pingpong_t pp;
		uint32_t echo = 0;

		close(p[0]);
		if (hp_kp_pingpong_start(&pp, -1, NULL) != 0 ||
		    hp_kp_pingpong_round(&pp, 7, &echo) != 0 || echo != 7)
			_exit(1);
		if (write(p[1], &pp.pid, sizeof(pp.pid)) != (ssize_t)sizeof(pp.pid))
			_exit(1);
		_exit(0);       /* no stop: the partner is orphaned */
	}
	close(p[1]);
	if (mid > 0) {
		T_CHECK(read(p[0], &partner, sizeof(partner)) == (ssize_t)sizeof(partner));
		T_CHECK(waitpid(mid, &st, 0) == mid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (partner > 0)
			T_CHECK_MSG(wait_reaped(partner) == 1, "orphaned partner %d did not exit", (int)partner);
	}
	close(p[0]);
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* ------------------------------------------------------------------ */
/* Signal                                                              */
/* ------------------------------------------------------------------ */

static void test_signal(void)
{
	struct sigaction cur;
	sigset_t block, old;
	uint64_t c0;

	T_CHECK(hp_kp_signal_restore() == -EINVAL);
	T_CHECK(hp_kp_signal_install() == 0);
	c0 = hp_kp_signal_count();
	T_CHECK(hp_kp_signal_self(1000) == 1000);
	T_CHECK(hp_kp_signal_count() - c0 == 1000);
	T_CHECK(hp_kp_signal_self(1) == 1);
	T_CHECK(hp_kp_signal_self(0) == 0);

	/* Blocked: nothing runs in the loop, and the count says so. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	T_CHECK(pthread_sigmask(SIG_BLOCK, &block, &old) == 0);
	c0 = hp_kp_signal_count();
	T_CHECK(hp_kp_signal_self(3) == 0);
	T_CHECK(hp_kp_signal_count() == c0);
	T_CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);
	/* The probe took back what stayed pending: unblocking delivers nothing. */
	T_CHECK(hp_kp_signal_count() == c0);

	/* Nesting: the handler stays until the last restore. */
	T_CHECK(hp_kp_signal_install() == 0);
	T_CHECK(hp_kp_signal_restore() == 0);
	T_CHECK(hp_kp_signal_self(5) == 5);
	T_CHECK(hp_kp_signal_restore() == 0);
	T_CHECK(sigaction(SIGUSR1, NULL, &cur) == 0);
	T_CHECK(cur.sa_handler == SIG_DFL);
	T_CHECK(hp_kp_signal_restore() == -EINVAL);
}

/* ------------------------------------------------------------------ */
/* Ops table                                                           */
/* ------------------------------------------------------------------ */

static void test_ops(void)
{
	const hp_kp_ops_t *o = &hp_kp_kernel_ops;

	T_CHECK_STR(o->name, "kernel");
	T_CHECK(o->available && o->available() == NULL);
	T_CHECK(o->getpid_n == hp_kp_getpid_n && o->fault_map == hp_kp_fault_map &&
		o->fault_touch == hp_kp_fault_touch && o->fault_unmap == hp_kp_fault_unmap &&
		o->page_alloc == hp_kp_page_alloc && o->pingpong_start == hp_kp_pingpong_start &&
		o->pingpong == hp_kp_pingpong && o->pingpong_stop == hp_kp_pingpong_stop &&
		o->signal_install == hp_kp_signal_install && o->signal_self == hp_kp_signal_self &&
		o->signal_restore == hp_kp_signal_restore);
}

/* ------------------------------------------------------------------ */
/* Softirq: UDP over loopback, /proc/softirqs                          */
/* ------------------------------------------------------------------ */

static void test_softirq_count_parse(void)
{
	char path[] = "/tmp/hp-softirqs.XXXXXX";
	int fd = mkstemp(path);
	static const char fake[] =
		"                    CPU0       CPU2\n"
		"          HI:          5          0\n"
		"      NET_TX:        120         77\n"
		"      NET_RX:   12345678        901\n"
		"         RCU:         10  bad\n";

	T_CHECK(fd >= 0);
	if (fd < 0)
		return;
	T_CHECK(write(fd, fake, sizeof fake - 1) == (ssize_t)(sizeof fake - 1));
	close(fd);
	T_CHECK(hp_kp_softirq_count(path, "NET_RX", 0) == 12345678);
	T_CHECK(hp_kp_softirq_count(path, "NET_RX", 2) == 901);   /* columns by name: CPU1 is offline */
	T_CHECK(hp_kp_softirq_count(path, "NET_TX", 2) == 77);
	T_CHECK(hp_kp_softirq_count(path, "HI", 0) == 5);
	T_CHECK(hp_kp_softirq_count(path, "NET_RX", 1) == -ENOENT);
	T_CHECK(hp_kp_softirq_count(path, "BLOCK", 0) == -ENOENT);
	T_CHECK(hp_kp_softirq_count(path, "RCU", 2) == -ENOENT);  /* not a number */
	T_CHECK(hp_kp_softirq_count(path, "NET", 0) == -ENOENT);  /* whole names only */
	T_CHECK(hp_kp_softirq_count(path, "", 0) == -EINVAL);
	T_CHECK(hp_kp_softirq_count(path, "NET_RX", -1) == -EINVAL);
	T_CHECK(hp_kp_softirq_count("/nonexistent/softirqs", "NET_RX", 0) == -ENOENT);
	unlink(path);
}

/* Every datagram arrives, in order; and the NET_RX softirq really runs on
 * this CPU, about once per datagram (other traffic can only add to it). */
static void test_udp(void)
{
	int cpus[1], fds = open_fds(), ret;
	hp_kp_udp_t u;
	int64_t before, after;
	const uint64_t n = 2000;

	if (allowed_cpus(cpus, 1) != 1 || pin_self(cpus[0]) != 0) {
		T_CHECK_MSG(0, "cannot pin to a CPU");
		return;
	}
	ret = hp_kp_udp_open(&u);
	if (ret == -EAFNOSUPPORT || ret == -EPERM || ret == -EACCES) {
		printf("udp: no loopback IPv4 here (%s): skipped\n", strerror(-ret));
		return;
	}
	T_CHECK_MSG(ret == 0, "hp_kp_udp_open: %s", strerror(-ret));
	if (ret)
		return;
	before = hp_kp_softirq_count(NULL, "NET_RX", cpus[0]);
	ret = hp_kp_udp_round(&u, n);
	after = hp_kp_softirq_count(NULL, "NET_RX", cpus[0]);
	T_CHECK_MSG(ret == 0, "hp_kp_udp_round: %s", strerror(-ret));
	T_CHECK(u.seq == n);
	if (before >= 0 && after >= 0)
		T_CHECK_MSG(after - before >= (int64_t)n / 2,
			    "NET_RX on CPU %d rose by %lld for %llu datagrams", cpus[0],
			    (long long)(after - before), (unsigned long long)n);
	else
		printf("udp: /proc/softirqs unreadable: count not checked\n");
	printf("udp: %llu datagrams, NET_RX +%lld on CPU %d, %llu deferred\n", (unsigned long long)n,
	       (long long)(after - before), cpus[0], (unsigned long long)u.deferred);
	/* a datagram out of sequence is an error, not a number */
	uint64_t bogus = 999999;
	T_CHECK(send(u.tx, &bogus, sizeof bogus, 0) == (ssize_t)sizeof bogus);
	T_CHECK(hp_kp_udp_round(&u, 1) == -EPROTO);
	hp_kp_udp_close(&u);
	hp_kp_udp_close(&u);
	T_CHECK(open_fds() == fds);
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);       /* nothing buffered twice across fork */
	test_ops();
	test_getpid();
	test_fault();
	test_page_alloc();
	test_signal();
	test_pingpong();
	test_pingpong_orphan();
	test_softirq_count_parse();
	test_udp();
	return t_done("test_kprobes");
}
