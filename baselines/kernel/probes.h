/* probes.h — probes of the real Linux kernel's hot paths, measured from user space.
 *
 * A small library (C11 + libc + pthreads, Linux only, no harness dependency)
 * that drives one kernel hot path per probe in a tight, deterministic loop:
 *
 *   probe        drives                               kernel path (names as of Linux 6.x)
 *   -----------  -----------------------------------  -----------------------------------------
 *   getpid       raw getpid system call               entry_SYSCALL_64 -> do_syscall_64 ->
 *                                                     __x64_sys_getpid -> syscall exit work
 *   fault        first write to an anonymous page     exc_page_fault -> lock_vma_under_rcu ->
 *                                                     handle_mm_fault -> do_anonymous_page
 *   page_alloc   mmap + populate + munmap, 2^order    mmap_region; madvise_populate ->
 *                pages                                do_anonymous_page x 2^order (pcp lists,
 *                                                     rmqueue_bulk from buddy); munmap ->
 *                                                     zap_pte_range, TLB flush, free to pcp/buddy
 *   pingpong     pipe round trip with a partner       pipe_write -> try_to_wake_up; pipe_read ->
 *                process (perf bench sched pipe)      schedule -> pick_next_task -> context_switch
 *   signal       tgkill to the calling thread         do_tkill -> send_signal_locked; on syscall
 *                                                     exit: get_signal -> setup_rt_frame (FPU
 *                                                     state saved on the user stack); handler;
 *                                                     rt_sigreturn
 *   udp          UDP datagram over loopback, sent     udp_sendmsg -> __dev_queue_xmit ->
 *                and received by one thread           loopback_xmit -> __netif_rx (raises
 *                                                     NET_RX_SOFTIRQ); local_bh_enable ->
 *                                                     do_softirq -> net_rx_action -> udp_rcv
 *
 * "Cost" below is what a 2-vCPU x86_64 KVM guest running Linux 6.18 measured
 * (one thread, pinned): a scale, not a reference. It depends on the CPU, the
 * kernel's speculative-execution mitigations and virtualisation, which is the
 * point of measuring it.
 *
 * What the probes do not show: user-space instruction counts (callgrind)
 * cover only the few instructions around each system call or fault, never
 * the kernel's work (and callgrind 3.19 started with --collect-atstart=no
 * does not count the signal handler either); times include the kernel
 * entry/exit of each operation.
 *
 * Threads: every probe may be used from several threads at once, each with its
 * own region / ping-pong pair; the signal probe counts per thread.
 */
#ifndef HP_KPROBES_H
#define HP_KPROBES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* System call                                                         */
/* ------------------------------------------------------------------ */

/* One raw getpid system call: on x86_64 an inline `syscall` instruction
 * (SYS_getpid), elsewhere syscall(2). Never cached by libc, so every call
 * enters the kernel. Returns the calling process's pid.
 * Kernel: the syscall entry/exit path around a trivial handler, so it is the
 * pure cost of crossing into the kernel with this machine's mitigations.
 * Cost: ~105 ns. */
long hp_kp_getpid(void);

/* n raw getpid calls in a loop (n >= 0); returns the pid of the last one
 * (or of a direct call when n is 0). */
long hp_kp_getpid_n(uint64_t n);

/* ------------------------------------------------------------------ */
/* Minor page fault                                                    */
/* ------------------------------------------------------------------ */

/* A private anonymous mapping whose pages are faulted in one at a time.
 * hp_kp_fault_map() maps `pages` pages plus one PROT_NONE guard page after
 * them and applies MADV_NOHUGEPAGE, so that:
 *  - every first write is one fault of one base page (4 KiB on x86_64): no
 *    THP, no multi-size THP, no fault-around (that is for file pages only);
 *  - the region is its own VMA: the guard keeps the kernel from merging it
 *    with a neighbouring region of another thread, so threads faulting their
 *    own regions take different per-VMA locks (Linux 6.4+), which is the
 *    scalability the thread sweep shows. */
typedef struct hp_kp_region {
	unsigned char *base;    /* first page, NULL when not mapped */
	size_t pages;           /* usable pages (the guard is not counted) */
	size_t page_size;       /* base page size (sysconf) */
	size_t touched;         /* pages faulted in so far, from the start */
} hp_kp_region_t;

/* Maps a region of `pages` (>= 1) untouched pages. Returns 0 or -errno
 * (-EINVAL for 0 pages or a size that overflows). Cost: one mmap, one
 * mprotect and one madvise; do it outside timing. */
int hp_kp_fault_map(hp_kp_region_t *r, size_t pages);

/* Writes one byte to each of the next n untouched pages (fewer if the region
 * runs out); returns how many pages it touched.
 * Kernel: one page fault each: exception entry, per-VMA lock, allocation of
 * a zeroed order-0 page from the per-CPU lists, memcg charge, rmap and LRU
 * add, PTE set, and a new page-table page once every 512 faults.
 * Cost: ~1.8 us per fault. */
size_t hp_kp_fault_touch(hp_kp_region_t *r, size_t n);

/* Unmaps the region and its guard (freeing every touched page); the region
 * reads as unmapped afterwards. Returns 0 or -errno. Cost: freeing every
 * touched page plus a TLB flush; do it outside timing. */
int hp_kp_fault_unmap(hp_kp_region_t *r);

/* ------------------------------------------------------------------ */
/* Page allocation through mmap                                        */
/* ------------------------------------------------------------------ */

#define HP_KP_MAX_ORDER 10      /* MAX_PAGE_ORDER of Linux 6.8+ (MAX_ORDER before) */

/* One mmap of 2^order pages, MADV_NOHUGEPAGE, populate every page for
 * writing, munmap. order 0..HP_KP_MAX_ORDER. Returns 0 or -errno (-EINVAL
 * for a bad order); *where (if where is not NULL) receives the address that
 * was mapped, unmapped again on return.
 *
 * Populating: MADV_POPULATE_WRITE (Linux 5.14+) when the kernel has it, else
 * one write per page (decided once, on the first call; see
 * hp_kp_populate_method()). Why not MAP_POPULATE: it faults pages in inside
 * mmap(), before MADV_NOHUGEPAGE can be applied, so with THP "always" an
 * aligned 2 MiB range (orders 9, 10) could come back as one huge page instead
 * of 512 base pages; it also ignores population failures. MADV_POPULATE_WRITE
 * faults every page in one system call (no exception entry per page, unlike
 * the write-per-page fallback) and reports errors.
 *
 * Kernel: anonymous memory is allocated one base page at a time, so this is
 * 2^order order-0 allocations (zeroed) from the per-CPU page lists, which
 * refill from and drain to the buddy free lists in batches (rmqueue_bulk,
 * free_pcppages_bulk, buddy merging) - not a single order-N buddy allocation,
 * which user space cannot ask for. The order sets how far the per-call cost
 * (mmap, VMA, page-table pages, munmap's TLB flush) is amortised.
 * Cost: order 0 ~9 us per call; order 3 ~18 us (2.2 us per page); orders
 * 9 and 10 ~1.2 us per page. */
int hp_kp_page_alloc(unsigned order, void **where);

/* How page_alloc populates: "MADV_POPULATE_WRITE", "write per page", or
 * "undecided" before the first hp_kp_page_alloc(). For the run's records. */
const char *hp_kp_populate_method(void);

/* ------------------------------------------------------------------ */
/* Context switch: pipe ping-pong with a partner process               */
/* ------------------------------------------------------------------ */

/* A partner process that echoes 4-byte tokens through two pipes, as perf
 * bench sched pipe does. Each round trip is two writes and two reads and,
 * when both sides share one CPU, two context switches between processes
 * (switch_mm included); across CPUs it is two cross-CPU wake-ups instead
 * (IPI or polling idle exit), which is what "cross_cpu" measures.
 *
 * The partner:
 *  - binds itself to `cpu` first (bind(cpu) when bind is not NULL, else
 *    sched_setaffinity; cpu < 0 leaves it unbound) and reports the result
 *    before hp_kp_pingpong_start() returns;
 *  - keeps only its two pipe ends open (closes every other inherited fd);
 *  - exits when the parent closes its pipe (read returns 0) and on the
 *    parent's death (PR_SET_PDEATHSIG SIGKILL). PDEATHSIG fires when the
 *    *thread* that called hp_kp_pingpong_start() exits, so call it from a
 *    thread that outlives the ping-pong.
 * While a partner runs, a write after it was killed raises SIGPIPE in the
 * caller, as for any pipe. */
typedef struct hp_kp_pingpong {
	pid_t pid;              /* partner process, 0 when stopped */
	int to_fd;              /* parent writes tokens here */
	int from_fd;            /* and reads the echo here */
	int cpu;                /* CPU the partner was bound to, or -1 */
} hp_kp_pingpong_t;

#define HP_KP_TOKEN_MASK 0x7fffffffu  /* tokens are 31 bits; the rest are commands */

/* Forks and binds the partner; returns 0 when it is ready, else -errno (the
 * bind error reported by the partner, or the fork/pipe error); on failure
 * nothing is left behind. Cost: a fork and an exchange of messages. */
int hp_kp_pingpong_start(hp_kp_pingpong_t *pp, int cpu, int (*bind)(int cpu));

/* One round trip: sends token (masked to 31 bits), waits for the echo and
 * stores it in *echo. Returns 0 or -errno (-EPIPE: the partner is gone). */
int hp_kp_pingpong_round(hp_kp_pingpong_t *pp, uint32_t token, uint32_t *echo);

/* n round trips with tokens 1, 2, 3, ...; returns 0, -EPROTO when an echo
 * differs from its token, or the error of the failing round.
 * Cost per round trip: ~5 us on one CPU; 60-110 us across CPUs (in a VM a
 * cross-CPU wake-up is a virtual IPI and a halted vCPU's exit). */
int hp_kp_pingpong(hp_kp_pingpong_t *pp, uint64_t n);

/* The CPU the partner is running on (sched_getcpu() in the partner), or
 * -errno. */
int hp_kp_pingpong_partner_cpu(hp_kp_pingpong_t *pp);

/* Closes the pipes, waits for the partner to exit (SIGKILL after 2 s) and
 * reaps it. Returns 0 when it exited cleanly, else -errno (-ECHILD: it had
 * already been reaped elsewhere, -EIO: it exited with an error or was
 * killed). Safe to call twice. */
int hp_kp_pingpong_stop(hp_kp_pingpong_t *pp);

/* ------------------------------------------------------------------ */
/* Signal delivery to oneself                                          */
/* ------------------------------------------------------------------ */

#define HP_KP_SIGNAL_NAME "SIGUSR1"   /* the signal the probe uses */

/* Installs the probe's counting handler for SIGUSR1 (SA_RESTART), saving the
 * previous action; nests (install twice, restore twice). Returns 0 or
 * -errno. */
int hp_kp_signal_install(void);

/* Restores the action saved by the matching install. Returns 0 or -errno
 * (-EINVAL without an install). */
int hp_kp_signal_restore(void);

/* Sends SIGUSR1 n times to the calling thread with tgkill, each delivered on
 * that system call's exit, before it returns to user space. Returns how many
 * times the handler ran during the loop on this thread: n unless the signal
 * is blocked in this thread or the handler is not installed. When it is not
 * n, signals left pending on this thread are taken back (sigtimedwait), so
 * none is delivered later under another handler.
 * Kernel: the tgkill path, then signal delivery: a signal frame on the user
 * stack with the saved FPU/vector state (xsave; large with AVX-512), the
 * handler, and rt_sigreturn restoring it all: three kernel crossings.
 * Cost: ~2.6 us.
 * Under ThreadSanitizer the signal is sent with pthread_kill(pthread_self())
 * instead: TSan defers handlers of signals it did not see sent (and merges
 * pending ones of one number), so a raw tgkill would not run the handler n
 * times there. */
uint64_t hp_kp_signal_self(uint64_t n);

/* Times the handler has run on the calling thread since it started. */
uint64_t hp_kp_signal_count(void);

/* ------------------------------------------------------------------ */
/* Softirq: a UDP datagram over loopback (NET_RX_SOFTIRQ)              */
/* ------------------------------------------------------------------ */

/* Two UDP sockets on 127.0.0.1 connected to each other. A send on `tx` goes
 * down the stack to the loopback device, whose transmit queues the packet
 * on this CPU's backlog and raises NET_RX_SOFTIRQ (loopback_xmit ->
 * __netif_rx -> enqueue_to_backlog -> napi_schedule). The transmit path
 * runs with bottom halves disabled (rcu_read_lock_bh in
 * __dev_queue_xmit), so the softirq runs when they are enabled again, still
 * inside the send system call: local_bh_enable -> do_softirq ->
 * net_rx_action -> process_backlog -> ip_rcv -> udp_rcv, which queues the
 * datagram on `rx`. The datagram is therefore normally already there when
 * send returns: a raise and a dispatch of a real softirq per datagram, plus
 * the UDP/IP stack around them. When the kernel defers the softirq to
 * ksoftirqd (its restart or time limit, or under load), the receive finds
 * nothing at once, and the probe waits for it with poll() and counts it. */
typedef struct hp_kp_udp {
	int tx, rx;             /* sockets, -1 when closed */
	uint64_t seq;           /* datagrams sent so far (each carries its number) */
	uint64_t deferred;      /* receives that had to wait (softirq not yet run) */
} hp_kp_udp_t;

/* Opens and connects the pair (ephemeral ports). Returns 0 or -errno; on
 * failure nothing is left open. Cost: four system calls per socket. */
int hp_kp_udp_open(hp_kp_udp_t *u);

/* n round trips: send an 8-byte datagram holding its sequence number on tx,
 * receive it on rx (MSG_DONTWAIT; poll() for up to 1 s when the softirq has
 * not run yet). Returns 0, -EPROTO when a datagram arrives out of order or
 * with the wrong number, -ETIMEDOUT when one does not arrive within 1 s,
 * or the -errno of a failing call.
 * Kernel: two system calls, the UDP/IP send and receive paths, one
 * NET_RX_SOFTIRQ raise and its dispatch at local_bh_enable.
 * Cost: ~5 us per round trip (2-vCPU KVM guest). */
int hp_kp_udp_round(hp_kp_udp_t *u, uint64_t n);

/* Closes both sockets; safe to call twice. */
void hp_kp_udp_close(hp_kp_udp_t *u);

/* The count of one softirq vector ("NET_RX", "TIMER", ... as named in
 * /proc/softirqs) on one CPU, read from `path` (NULL: /proc/softirqs).
 * Returns the count, or -ENOENT when the file, the vector or the CPU's
 * column is missing, -EINVAL for a bad argument. Cost: reading the file
 * (a few microseconds); not for timed loops. */
int64_t hp_kp_softirq_count(const char *path, const char *vector, int cpu);

/* ------------------------------------------------------------------ */
/* Ops table                                                           */
/* ------------------------------------------------------------------ */

/* The probes as one table, the way a bench case reaches its variant
 * (bench/kernel.c). Each field is the function of the same name above. */
typedef struct hp_kp_ops {
	const char *name;                               /* "kernel" */
	const char *(*available)(void);                 /* NULL, or why not here */
	long (*getpid_n)(uint64_t n);
	int (*fault_map)(hp_kp_region_t *r, size_t pages);
	size_t (*fault_touch)(hp_kp_region_t *r, size_t n);
	int (*fault_unmap)(hp_kp_region_t *r);
	int (*page_alloc)(unsigned order, void **where);
	int (*pingpong_start)(hp_kp_pingpong_t *pp, int cpu, int (*bind)(int cpu));
	int (*pingpong)(hp_kp_pingpong_t *pp, uint64_t n);
	int (*pingpong_stop)(hp_kp_pingpong_t *pp);
	int (*signal_install)(void);
	uint64_t (*signal_self)(uint64_t n);
	int (*signal_restore)(void);
} hp_kp_ops_t;

extern const hp_kp_ops_t hp_kp_kernel_ops;

/* NULL when the probes can run here, else the reason. */
const char *hp_kp_available(void);

#endif
