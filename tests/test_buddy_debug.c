/* test_buddy_debug.c — debug mode: 0xaa poisoning checked on allocation (single bit flips told apart from corruption) and mprotect'd guard pages. */
#include "t_util.h"
#include "buddy.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int nrep;
static hp_buddy_report_t rep[8];

static void on_report(void *arg, const hp_buddy_report_t *r)
{
	(void)arg;
	if (nrep < 8)
		rep[nrep] = *r;
	nrep++;
}

static void check(hp_buddy_zone_t *z)
{
	char err[512];
	T_CHECK_MSG(hp_buddy_check(z, err, sizeof err) == 0, "%s", err);
}

static void poison(void)
{
	/* a pcp that keeps freed pages (LIFO), so the next allocation is the
	 * page just tampered with */
	hp_buddy_config_t cfg = { .arena_bytes = 4u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_CUSTOM,
				  .pcp_high = 64, .pcp_batch = 4, .min_free_kbytes = -1,
				  .debug = HP_BUDDY_DEBUG_POISON, .report = on_report };
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, NULL, 0);
	T_CHECK(z != NULL);
	if (!z)
		return;
	/* clean pages: no report */
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	unsigned char *a = hp_page_address(z, p);
	T_CHECK(nrep == 0 && a[0] == 0xaa && a[4095] == 0xaa);
	memset(a, 0x11, 4096);
	hp_buddy_free_pages_cpu(z, 0, p, 0);
	T_CHECK(a[0] == 0xaa && a[2048] == 0xaa && a[4095] == 0xaa);   /* poisoned on free */

	/* one bit flipped in a free page: reported as such, with its place */
	a[100] ^= 0x04;
	hp_page_t *q = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	T_CHECK(q == p);
	T_CHECK(nrep == 1);
	T_CHECK(rep[0].kind == HP_BUDDY_ERR_SINGLE_BIT && rep[0].pfn == hp_page_to_pfn(z, p) &&
		rep[0].byte == 100 && rep[0].bit == 2 && rep[0].expected == 0xaa && rep[0].found == 0xae &&
		rep[0].bad_bytes == 1 && rep[0].addr == (void *)a);
	T_CHECK(strstr(rep[0].msg, "single bit error") != NULL);
	hp_buddy_free_pages_cpu(z, 0, q, 0);

	/* bit 7 of the last byte */
	a[4095] ^= 0x80;
	q = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	T_CHECK(nrep == 2 && rep[1].kind == HP_BUDDY_ERR_SINGLE_BIT && rep[1].byte == 4095 && rep[1].bit == 7);
	hp_buddy_free_pages_cpu(z, 0, q, 0);

	/* two bits in one byte: corruption, not a bit flip */
	a[7] ^= 0x03;
	q = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	T_CHECK(nrep == 3 && rep[2].kind == HP_BUDDY_ERR_CORRUPTION && rep[2].byte == 7 && rep[2].bit == -1);
	hp_buddy_free_pages_cpu(z, 0, q, 0);

	/* a stray write over bytes 10..20 (use after free) */
	memset(a + 10, 0, 11);
	q = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	T_CHECK(nrep == 4 && rep[3].kind == HP_BUDDY_ERR_CORRUPTION && rep[3].byte == 10 && rep[3].bad_bytes == 11 &&
		rep[3].found == 0);
	T_CHECK(strstr(rep[3].msg, "corruption") != NULL);
	hp_buddy_free_pages_cpu(z, 0, q, 0);

	/* a flip in the third page of an order-2 block names that page */
	hp_page_t *b = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 2);
	hp_buddy_free_pages_cpu(z, 0, b, 2);
	unsigned char *ba = hp_page_address(z, b);
	ba[2 * 4096 + 5] ^= 0x01;
	hp_page_t *b2 = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 2);
	T_CHECK(b2 == b);
	T_CHECK(nrep == 5 && rep[4].kind == HP_BUDDY_ERR_SINGLE_BIT && rep[4].pfn == hp_page_to_pfn(z, b) + 2 &&
		rep[4].byte == 5 && rep[4].bit == 0 && rep[4].order == 2);
	hp_buddy_free_pages_cpu(z, 0, b2, 2);

	/* pages drained to the buddy lists keep their poison and stay checked */
	hp_buddy_drain_all(z);
	unsigned char *c = hp_page_address(z, hp_pfn_to_page(z, 1000));
	c[64] ^= 0x10;
	static hp_page_t *all[1025];   /* the terminating NULL too */
	int n = 0;
	while ((all[n] = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0)) != NULL)
		n++;
	T_CHECK(n == 1024);
	T_CHECK(nrep == 6 && rep[5].pfn == 1000 && rep[5].byte == 64 && rep[5].bit == 4);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.poison_errors == 6);
	for (int i = 0; i < n; i++)
		hp_buddy_free_pages_cpu(z, 0, all[i], 0);
	check(z);
	hp_buddy_destroy(z);
}

/* Runs fn in a child; returns the signal that killed it, 0 if it exited 0,
 * -1 otherwise. The sanitizers' SEGV handlers are put aside in the child. */
static int in_child(void (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		fn(arg);
		_exit(0);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void write_byte(void *p) { *(volatile unsigned char *)p = 1; }

static void guard(void)
{
	hp_buddy_config_t cfg = { .arena_bytes = 4u << 20, .ncpus = 1, .pcp_mode = HP_BUDDY_PCP_OFF,
				  .min_free_kbytes = -1, .guard_minorder = 1, .report = on_report };
	char err[256];
	hp_buddy_zone_t *z = hp_buddy_create(&cfg, err, sizeof err);
	T_CHECK_MSG(z != NULL, "%s", err);
	if (!z)
		return;
	/* splitting an order-10 block down to 0 leaves the order-0 buddy as a
	 * guard (below guard_minorder 1): inaccessible, not free */
	hp_page_t *p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	size_t pfn = hp_page_to_pfn(z, p);
	hp_buddy_stats_t s;
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.guard_pages == 1 && s.free_pages == 1024 - 2);
	T_CHECK(hp_buddy_nr_free(z, 0) == 0);
	check(z);
	unsigned char *mine = hp_page_address(z, p);
	unsigned char *g = hp_page_address(z, hp_pfn_to_page(z, pfn ^ 1));
	T_CHECK(in_child(write_byte, mine) == 0);                 /* own page: fine */
	T_CHECK_MSG(in_child(write_byte, g) == SIGSEGV, "a write to the guard page did not fault");
	/* the lowest page of the block is handed out, its guard follows it */
	T_CHECK(pfn == 0);
	T_CHECK_MSG(in_child(write_byte, mine + 4096 + 100) == SIGSEGV, "an overrun did not fault");
	/* freeing merges with the guard and makes it usable again */
	hp_buddy_free_pages_cpu(z, 0, p, 0);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.guard_pages == 0 && s.free_pages == 1024 && hp_buddy_nr_free(z, HP_MAX_ORDER) == 1);
	T_CHECK(in_child(write_byte, g) == 0);
	check(z);
	/* order-1 allocations make no guards at minorder 1; 2 at minorder 2 */
	hp_page_t *q = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 1);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.guard_pages == 0);
	hp_buddy_free_pages_cpu(z, 0, q, 1);
	hp_buddy_destroy(z);

	cfg.guard_minorder = 3;
	z = hp_buddy_create(&cfg, err, sizeof err);
	p = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.guard_pages == 1 + 2 + 4);              /* orders 0, 1, 2 */
	check(z);
	/* the whole zone can still be allocated: guards come back as their
	 * buddies are freed, and only then */
	static hp_page_t *all[1025];   /* the terminating NULL too */
	int n = 0;
	while ((all[n] = hp_buddy_alloc_pages_cpu(z, 0, HP_GFP_KERNEL, 0)) != NULL)
		n++;
	hp_buddy_get_stats(z, &s);
	T_CHECK(n + 1 + (int)s.guard_pages == 1024);
	check(z);
	for (int i = 0; i < n; i++)
		hp_buddy_free_pages_cpu(z, 0, all[i], 0);
	hp_buddy_free_pages_cpu(z, 0, p, 0);
	hp_buddy_get_stats(z, &s);
	T_CHECK(s.guard_pages == 0 && s.free_pages == 1024);
	check(z);
	T_CHECK(nrep == 0);
	hp_buddy_destroy(z);
}

int main(void)
{
	poison();
	nrep = 0;
	guard();
	return t_done("test_buddy_debug");
}
