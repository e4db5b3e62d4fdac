/* probes.c — the real-kernel probes of probes.h: system call, page fault, page
 * allocation through mmap, pipe ping-pong, signal to self. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "probes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __linux__
#error "the kernel probes need Linux"
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  /* uapi value since Linux 5.14 */
#endif

#if defined(__SANITIZE_THREAD__)
#define KP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KP_TSAN 1
#endif
#endif
#ifndef KP_TSAN
#define KP_TSAN 0
#endif

/* ------------------------------------------------------------------ */
/* Raw system calls                                                    */
/* ------------------------------------------------------------------ */

/* Inline `syscall` on x86_64 so the loop is exactly the kernel crossing plus
 * a few register moves: no libc wrapper, no errno handling, no caching.
 * (raw_syscall3 goes unused in TSan builds, which signal with pthread_kill.) */
#if defined(__x86_64__)
static inline long raw_syscall0(long nr)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr) : "rcx", "r11", "memory");
	return ret;
}

static inline __attribute__((unused)) long raw_syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}
#else
static inline long raw_syscall0(long nr) { return syscall(nr); }
static inline __attribute__((unused)) long raw_syscall3(long nr, long a, long b, long c) { return syscall(nr, a, b, c); }
#endif

const char *hp_kp_available(void)
{
	return NULL;
}

long hp_kp_getpid(void)
{
	return raw_syscall0(SYS_getpid);
}

long hp_kp_getpid_n(uint64_t n)
{
	long pid = 0;

	if (n == 0)
		return raw_syscall0(SYS_getpid);
	for (uint64_t i = 0; i < n; i++)
		pid = raw_syscall0(SYS_getpid);
	return pid;
}

/* ------------------------------------------------------------------ */
/* Minor page fault                                                    */
/* ------------------------------------------------------------------ */

static size_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (size_t)ps : 4096;
}

int hp_kp_fault_map(hp_kp_region_t *r, size_t pages)
{
	size_t ps = page_size(), len;
	void *p;

	memset(r, 0, sizeof(*r));
	if (pages == 0 || pages > SIZE_MAX / ps - 1)
		return -EINVAL;
	len = (pages + 1) * ps;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	/* The guard's different protection splits it into its own VMA, which is
	 * what stops the data part merging with an adjacent region. */
	if (mprotect((unsigned char *)p + pages * ps, ps, PROT_NONE) != 0 ||
	    madvise(p, pages * ps, MADV_NOHUGEPAGE) != 0) {
		int err = errno;

		munmap(p, len);
		return -err;
	}
	r->base = p;
	r->pages = pages;
	r->page_size = ps;
	return 0;
}

size_t hp_kp_fault_touch(hp_kp_region_t *r, size_t n)
{
	size_t left = r->pages - r->touched;
	volatile unsigned char *p;

	if (n > left)
		n = left;
	p = r->base + r->touched * r->page_size;
	for (size_t i = 0; i < n; i++, p += r->page_size)
		*p = 1;
	r->touched += n;
	return n;
}

int hp_kp_fault_unmap(hp_kp_region_t *r)
{
	int ret = 0;

	if (r->base && munmap(r->base, (r->pages + 1) * r->page_size) != 0)
		ret = -errno;
	memset(r, 0, sizeof(*r));
	return ret;
}

/* ------------------------------------------------------------------ */
/* Page allocation through mmap                                        */
/* ------------------------------------------------------------------ */

enum { POP_UNDECIDED, POP_MADVISE, POP_TOUCH };
static atomic_int populate_mode = POP_UNDECIDED;

const char *hp_kp_populate_method(void)
{
	switch (atomic_load_explicit(&populate_mode, memory_order_relaxed)) {
	case POP_MADVISE: return "MADV_POPULATE_WRITE";
	case POP_TOUCH: return "write per page";
	default: return "undecided";
	}
}

static void touch_pages(unsigned char *p, size_t len, size_t ps)
{
	volatile unsigned char *q = p;

	for (size_t off = 0; off < len; off += ps)
		q[off] = 1;
}

/* Faults in [p, p+len) for writing; 0 or -errno. */
static int populate(unsigned char *p, size_t len, size_t ps)
{
	int mode = atomic_load_explicit(&populate_mode, memory_order_relaxed);

	if (mode != POP_TOUCH) {
		if (madvise(p, len, MADV_POPULATE_WRITE) == 0) {
			if (mode == POP_UNDECIDED)
				atomic_store_explicit(&populate_mode, POP_MADVISE, memory_order_relaxed);
			return 0;
		}
		/* Before 5.14 the advice is unknown: EINVAL on a mapping that is
		 * otherwise fine. Anything else is a real failure. */
		if (errno != EINVAL || mode == POP_MADVISE)
			return -errno;
		atomic_store_explicit(&populate_mode, POP_TOUCH, memory_order_relaxed);
	}
	touch_pages(p, len, ps);
	return 0;
}

int hp_kp_page_alloc(unsigned order, void **where)
{
	size_t ps = page_size(), len;
	unsigned char *p;
	int ret;

	if (where)
		*where = NULL;
	if (order > HP_KP_MAX_ORDER)
		return -EINVAL;
	len = ps << order;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (where)
		*where = p;
	ret = madvise(p, len, MADV_NOHUGEPAGE) == 0 ? populate(p, len, ps) : -errno;
	if (munmap(p, len) != 0 && ret == 0)
		ret = -errno;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Pipe ping-pong with a partner process                               */
/* ------------------------------------------------------------------ */

#define CMD_CPU 0xffffffffu     /* partner answers with sched_getcpu() */

static inline int put_u32(int fd, uint32_t v)
{
	for (;;) {
		ssize_t r = write(fd, &v, sizeof(v));

		if (r == (ssize_t)sizeof(v))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -errno : -EIO;
	}
}

static inline int get_u32(int fd, uint32_t *v)
{
	for (;;) {
		ssize_t r = read(fd, v, sizeof(*v));

		if (r == (ssize_t)sizeof(*v))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r == 0 ? -EPIPE : r < 0 ? -errno : -EIO;
	}
}

static void close_fds(int first, int last)
{
	long max;

	if (first > last)
		return;
	if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0u) == 0)
		return;
	/* No close_range (before 5.9, or a tool that does not know it). */
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (long fd = first; fd <= last && fd < max; fd++)
		close((int)fd);
}

static int bind_default(int cpu)
{
	cpu_set_t set;

	if (cpu >= CPU_SETSIZE)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The child: only async-signal-safe work apart from the caller's bind. */
static void __attribute__((noreturn))
partner_main(int rfd, int wfd, int cpu, int (*bind)(int), pid_t parent)
{
	uint32_t v, status = 0;
	int lo = rfd < wfd ? rfd : wfd, hi = rfd < wfd ? wfd : rfd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* A Ctrl-C reaches the whole process group; the parent decides when the
	 * partner ends (EOF on its pipe, or the parent's death). */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	if (getppid() != parent)
		_exit(0);
	/* Other fds (other partners' pipes above all) would keep pipes open
	 * and stop EOF from reaching the partners that wait on them. */
	close_fds(3, lo - 1);
	close_fds(lo + 1, hi - 1);
	close_fds(hi + 1, INT_MAX);
	if (cpu >= 0) {
		errno = 0;
		if ((bind ? bind(cpu) : bind_default(cpu)) != 0)
			status = errno ? (uint32_t)errno : (uint32_t)EINVAL;
	}
	if (put_u32(wfd, status) != 0 || status != 0)
		_exit(3);
	for (;;) {
		int r = get_u32(rfd, &v);

		if (r == -EPIPE)
			_exit(0);       /* the parent closed its end: done */
		if (r != 0)
			_exit(2);
		if (v == CMD_CPU)
			v = (uint32_t)sched_getcpu();
		if (put_u32(wfd, v) != 0)
			_exit(2);
	}
}

static void close_if(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Reaps pid: waits up to 2 s for it to exit, then kills it. */
static int reap(pid_t pid)
{
	struct timespec nap = { 0, 1000000 };
	int status;

	for (int i = 0; i < 2000; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
		if (r < 0 && errno != EINTR)
			return -errno;
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return -EIO;
}

int hp_kp_pingpong_start(hp_kp_pingpong_t *pp, int cpu, int (*bind)(int cpu))
{
	int to[2], from[2], ret;
	uint32_t status;
	pid_t parent = getpid(), pid;

	pp->pid = 0;
	pp->to_fd = pp->from_fd = -1;
	pp->cpu = cpu < 0 ? -1 : cpu;
	if (pipe2(to, O_CLOEXEC) != 0)
		return -errno;
	if (pipe2(from, O_CLOEXEC) != 0) {
		ret = -errno;
		close(to[0]);
		close(to[1]);
		return ret;
	}
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(to[0]); close(to[1]); close(from[0]); close(from[1]);
		return ret;
	}
	if (pid == 0)
		partner_main(to[0], from[1], pp->cpu, bind, parent);
	close(to[0]);
	close(from[1]);
	pp->pid = pid;
	pp->to_fd = to[1];
	pp->from_fd = from[0];
	ret = get_u32(pp->from_fd, &status);
	if (ret == 0 && status != 0)
		ret = -(int)status;
	if (ret != 0)
		hp_kp_pingpong_stop(pp);
	return ret;
}

int hp_kp_pingpong_round(hp_kp_pingpong_t *pp, uint32_t token, uint32_t *echo)
{
	int ret = put_u32(pp->to_fd, token & HP_KP_TOKEN_MASK);

	return ret ? ret : get_u32(pp->from_fd, echo);
}

int hp_kp_pingpong(hp_kp_pingpong_t *pp, uint64_t n)
{
	for (uint64_t i = 1; i <= n; i++) {
		uint32_t tok = (uint32_t)i & HP_KP_TOKEN_MASK, echo;
		int ret = put_u32(pp->to_fd, tok);

		if (ret == 0)
			ret = get_u32(pp->from_fd, &echo);
		if (ret != 0)
			return ret;
		if (echo != tok)
			return -EPROTO;
	}
	return 0;
}

int hp_kp_pingpong_partner_cpu(hp_kp_pingpong_t *pp)
{
	uint32_t cpu;
	int ret = put_u32(pp->to_fd, CMD_CPU);

	if (ret == 0)
		ret = get_u32(pp->from_fd, &cpu);
	return ret ? ret : (int)cpu;
}

int hp_kp_pingpong_stop(hp_kp_pingpong_t *pp)
{
	int ret = 0;

	/* Closing our write end first: the partner reads EOF and exits. */
	close_if(&pp->to_fd);
	close_if(&pp->from_fd);
	if (pp->pid > 0)
		ret = reap(pp->pid);
	pp->pid = 0;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Signal delivery to oneself                                          */
/* ------------------------------------------------------------------ */

/* Written by the handler on the thread it interrupts, read by that same
 * thread: volatile is enough, no atomics. initial-exec keeps the handler's
 * TLS access free of any lazy allocation. */
static __thread volatile uint64_t sig_count __attribute__((tls_model("initial-exec")));

static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;
static int sig_depth;
static struct sigaction sig_saved;

static void on_signal(int sig)
{
	(void)sig;
	sig_count = sig_count + 1;
}

int hp_kp_signal_install(void)
{
	struct sigaction sa;
	int ret = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	pthread_mutex_lock(&sig_lock);
	if (sig_depth == 0 && sigaction(SIGUSR1, &sa, &sig_saved) != 0)
		ret = -errno;
	else
		sig_depth++;
	pthread_mutex_unlock(&sig_lock);
	return ret;
}

int hp_kp_signal_restore(void)
{
	int ret = 0;

	pthread_mutex_lock(&sig_lock);
	if (sig_depth == 0)
		ret = -EINVAL;
	else if (sig_depth == 1 && sigaction(SIGUSR1, &sig_saved, NULL) != 0)
		ret = -errno;
	else
		sig_depth--;
	pthread_mutex_unlock(&sig_lock);
	return ret;
}

uint64_t hp_kp_signal_count(void)
{
	return sig_count;
}

/* Takes back SIGUSR1s left pending because this thread blocks the signal,
 * so none fires later under whatever handler is installed by then. */
static void drain_pending(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	while (sigtimedwait(&set, NULL, &zero) == SIGUSR1)
		;
}

uint64_t hp_kp_signal_self(uint64_t n)
{
	uint64_t before = sig_count;
#if KP_TSAN
	pthread_t self = pthread_self();

	for (uint64_t i = 0; i < n; i++)
		pthread_kill(self, SIGUSR1);
#else
	long tgid = raw_syscall0(SYS_getpid), tid = raw_syscall0(SYS_gettid);

	for (uint64_t i = 0; i < n; i++)
		raw_syscall3(SYS_tgkill, tgid, tid, SIGUSR1);
#endif
	if (sig_count - before != n)
		drain_pending();
	return sig_count - before;
}

/* ------------------------------------------------------------------ */
/* Softirq: UDP over loopback                                          */
/* ------------------------------------------------------------------ */

static int udp_bound(int *fd)
{
	struct sockaddr_in a;

	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (bind(*fd, (struct sockaddr *)&a, sizeof a) != 0)
		return -errno;
	return 0;
}

/* connects `fd` to the address `peer` is bound to */
static int udp_connect(int fd, int peer)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	if (getsockname(peer, (struct sockaddr *)&a, &len) != 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, len) != 0)
		return -errno;
	return 0;
}

int hp_kp_udp_open(hp_kp_udp_t *u)
{
	int ret;

	if (!u)
		return -EINVAL;
	u->tx = u->rx = -1;
	u->seq = u->deferred = 0;
	if ((ret = udp_bound(&u->tx)) != 0 || (ret = udp_bound(&u->rx)) != 0 ||
	    (ret = udp_connect(u->tx, u->rx)) != 0 || (ret = udp_connect(u->rx, u->tx)) != 0) {
		hp_kp_udp_close(u);
		return ret;
	}
	return 0;
}

int hp_kp_udp_round(hp_kp_udp_t *u, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t out = ++u->seq, in = 0;
		ssize_t r;

		if (send(u->tx, &out, sizeof out, 0) != (ssize_t)sizeof out)
			return errno ? -errno : -EIO;
		r = recv(u->rx, &in, sizeof in, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the softirq was deferred (ksoftirqd) or runs elsewhere */
			struct pollfd pfd = { .fd = u->rx, .events = POLLIN };
			int p;

			u->deferred++;
			do
				p = poll(&pfd, 1, 1000);
			while (p < 0 && errno == EINTR);
			if (p == 0)
				return -ETIMEDOUT;
			if (p < 0)
				return -errno;
			r = recv(u->rx, &in, sizeof in, MSG_DONTWAIT);
		}
		if (r < 0)
			return -errno;
		if (r != (ssize_t)sizeof in || in != out)
			return -EPROTO;
	}
	return 0;
}

void hp_kp_udp_close(hp_kp_udp_t *u)
{
	if (!u)
		return;
	if (u->tx >= 0)
		close(u->tx);
	if (u->rx >= 0)
		close(u->rx);
	u->tx = u->rx = -1;
}

/* /proc/softirqs: a header of CPU names ("CPU0 CPU1 ..."; offline CPUs have
 * no column), then one line per vector: "NAME:" and a count per column. */
int64_t hp_kp_softirq_count(const char *path, const char *vector, int cpu)
{
	char line[8192], want[32];
	int col = -1, ncol = 0;
	int64_t ret = -ENOENT;
	FILE *f;

	if (!vector || !*vector || strlen(vector) > 24 || cpu < 0)
		return -EINVAL;
	f = fopen(path ? path : "/proc/softirqs", "re");
	if (!f)
		return -ENOENT;
	if (fgets(line, sizeof line, f)) {
		char *save = NULL;

		snprintf(want, sizeof want, "CPU%d", cpu);
		for (char *t = strtok_r(line, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), ncol++)
			if (!strcmp(t, want))
				col = ncol;
	}
	snprintf(want, sizeof want, "%s:", vector);
	while (col >= 0 && fgets(line, sizeof line, f)) {
		char *save = NULL, *t = strtok_r(line, " \t\n", &save);

		if (!t || strcmp(t, want))
			continue;
		for (int c = 0; (t = strtok_r(NULL, " \t\n", &save)); c++)
			if (c == col) {
				char *end;
				long long v = strtoll(t, &end, 10);

				ret = *end || v < 0 ? -ENOENT : (int64_t)v;
				break;
			}
		break;
	}
	fclose(f);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Ops table                                                           */
/* ------------------------------------------------------------------ */

const hp_kp_ops_t hp_kp_kernel_ops = {
	.name = "kernel",
	.available = hp_kp_available,
	.getpid_n = hp_kp_getpid_n,
	.fault_map = hp_kp_fault_map,
	.fault_touch = hp_kp_fault_touch,
	.fault_unmap = hp_kp_fault_unmap,
	.page_alloc = hp_kp_page_alloc,
	.pingpong_start = hp_kp_pingpong_start,
	.pingpong = hp_kp_pingpong,
	.pingpong_stop = hp_kp_pingpong_stop,
	.signal_install = hp_kp_signal_install,
	.signal_self = hp_kp_signal_self,
	.signal_restore = hp_kp_signal_restore,
};
