/* test_helpers.c — impl/include: list poisoning and del_init, list order, splitmix64/xoshiro256** against published outputs, the monotonic clock. */
#include "t_util.h"
#include "hp_compiler.h"
#include "hp_list.h"
#include "hp_rand.h"
#include "hp_time.h"

#include <inttypes.h>
#include <stdint.h>

typedef struct t_item {
	int id;
	hp_list_t node;
} t_item_t;

/* Compares the ids along head, forwards and backwards (a broken prev link
 * shows only in one direction). */
static int t_list_is(const hp_list_t *head, const int *want, int n)
{
	const hp_list_t *l;
	int i = 0;

	for (l = head->next; l != head; l = l->next) {
		if (i >= n || hp_container_of(l, t_item_t, node)->id != want[i])
			return 0;
		i++;
	}
	if (i != n)
		return 0;
	for (l = head->prev; l != head; l = l->prev)
		if (hp_list_entry(l, t_item_t, node)->id != want[--i])
			return 0;
	return i == 0;
}

static void t_list_del_poisons(void)
{
	hp_list_t head = HP_LIST_HEAD_INIT(head);
	t_item_t a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

	hp_list_add_tail(&a.node, &head);
	hp_list_add_tail(&b.node, &head);
	hp_list_add_tail(&c.node, &head);
	hp_list_del(&b.node);
	/* the kernel's LIST_POISON1/2 with x86_64's POISON_POINTER_DELTA */
	T_CHECK((uintptr_t)b.node.next == 0xdead000000000100ull);
	T_CHECK((uintptr_t)b.node.prev == 0xdead000000000122ull);
	T_CHECK(b.node.next == HP_LIST_POISON1 && b.node.prev == HP_LIST_POISON2);
	T_CHECK(t_list_is(&head, (const int[]){ 1, 3 }, 2));
	hp_list_del(&a.node);
	hp_list_del(&c.node);
	T_CHECK(hp_list_empty(&head));
	T_CHECK(head.next == &head && head.prev == &head);
}

static void t_list_del_init(void)
{
	hp_list_t head;
	t_item_t a = { .id = 1 }, b = { .id = 2 };

	hp_list_init(&head);
	T_CHECK(hp_list_empty(&head));
	hp_list_add(&a.node, &head);
	hp_list_add(&b.node, &head);
	hp_list_del_init(&a.node);
	T_CHECK(hp_list_empty(&a.node));
	T_CHECK(a.node.next == &a.node && a.node.prev == &a.node);
	T_CHECK(t_list_is(&head, (const int[]){ 2 }, 1));
	/* a re-initialised node can be deleted again: it unlinks from itself */
	hp_list_del_init(&a.node);
	T_CHECK(hp_list_empty(&a.node));
	hp_list_del_init(&b.node);
	T_CHECK(hp_list_empty(&head));
}

static void t_list_order(void)
{
	hp_list_t head, other, *pos, *n;
	t_item_t it[5];
	int seen = 0;

	hp_list_init(&head);
	hp_list_init(&other);
	for (int i = 0; i < 5; i++)
		it[i].id = i;
	hp_list_add(&it[0].node, &head);          /* 0 */
	hp_list_add(&it[1].node, &head);          /* 1 0: add is a stack */
	hp_list_add_tail(&it[2].node, &head);     /* 1 0 2: add_tail a queue */
	hp_list_add_tail(&it[3].node, &head);     /* 1 0 2 3 */
	T_CHECK(t_list_is(&head, (const int[]){ 1, 0, 2, 3 }, 4));
	T_CHECK(hp_list_first_entry(&head, t_item_t, node)->id == 1);

	hp_list_move(&it[3].node, &head);         /* 3 1 0 2 */
	T_CHECK(t_list_is(&head, (const int[]){ 3, 1, 0, 2 }, 4));
	hp_list_move_tail(&it[1].node, &head);    /* 3 0 2 1 */
	T_CHECK(t_list_is(&head, (const int[]){ 3, 0, 2, 1 }, 4));
	hp_list_move(&it[0].node, &other);        /* to another list */
	hp_list_add_tail(&it[4].node, &other);
	T_CHECK(t_list_is(&head, (const int[]){ 3, 2, 1 }, 3));
	T_CHECK(t_list_is(&other, (const int[]){ 0, 4 }, 2));

	/* the _safe walk survives deleting the node it stands on */
	hp_list_for_each_safe(pos, n, &head) {
		hp_list_del(pos);
		seen++;
	}
	T_CHECK(seen == 3 && hp_list_empty(&head));
	seen = 0;
	hp_list_for_each(pos, &other)
		seen++;
	T_CHECK(seen == 2);
}

/* Reference outputs computed outside this code base (a few lines of Python
 * from the published algorithms); the seed-1234567 splitmix64 sequence and
 * the xoshiro256** state {1, 2, 3, 4} sequence are the usual published test
 * vectors. */
static void t_rand_known_values(void)
{
	static const uint64_t sm0[] = {
		0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull, 0x06c45d188009454full,
		0xf88bb8a8724c81ecull, 0x1b39896a51a8749bull,
	};
	static const uint64_t sm1234567[] = {
		6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
		4593380528125082431ull, 16408922859458223821ull,
	};
	static const uint64_t xo1234[] = {
		11520ull, 0ull, 1509978240ull, 1215971899390074240ull,
		1216172134540287360ull, 607988272756665600ull,
	};
	/* xoshiro256** seeded from splitmix64(42), as hp_xoshiro_seed does */
	static const uint64_t xo42[] = {
		0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull,
		0xecb8ad4703b360a1ull, 0xfde6dc7fe2ec5e64ull,
	};
	uint64_t x = 0;
	hp_xoshiro_t r = { { 1, 2, 3, 4 } };

	for (unsigned i = 0; i < sizeof sm0 / sizeof sm0[0]; i++) {
		uint64_t v = hp_splitmix64(&x);
		T_CHECK_MSG(v == sm0[i], "splitmix64(0) #%u: %#" PRIx64, i, v);
	}
	T_CHECK(x == 5 * 0x9e3779b97f4a7c15ull);
	x = 1234567;
	for (unsigned i = 0; i < sizeof sm1234567 / sizeof sm1234567[0]; i++) {
		uint64_t v = hp_splitmix64(&x);
		T_CHECK_MSG(v == sm1234567[i], "splitmix64(1234567) #%u: %" PRIu64, i, v);
	}
	for (unsigned i = 0; i < sizeof xo1234 / sizeof xo1234[0]; i++) {
		uint64_t v = hp_xoshiro_next(&r);
		T_CHECK_MSG(v == xo1234[i], "xoshiro256** {1,2,3,4} #%u: %" PRIu64, i, v);
	}
	hp_xoshiro_seed(&r, 42);
	for (unsigned i = 0; i < sizeof xo42 / sizeof xo42[0]; i++) {
		uint64_t v = hp_xoshiro_next(&r);
		T_CHECK_MSG(v == xo42[i], "xoshiro256** seed 42 #%u: %#" PRIx64, i, v);
	}
	hp_xoshiro_seed(&r, 7);
	for (int i = 0; i < 1000; i++)
		T_CHECK(hp_xoshiro_below(&r, 10) < 10);
	T_CHECK(hp_rotl64(0x8000000000000001ull, 1) == 3);
}

static void t_clock(void)
{
	uint64_t prev = hp_now_ns(), first = prev;
	double s0 = hp_mono_s();

	T_CHECK(prev > 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t t = hp_now_ns();

		T_CHECK(t >= prev);
		if (t < prev)
			break;
		prev = t;
		hp_cpu_relax();
	}
	t_sleep_us(2000);
	T_CHECK(hp_now_ns() - first >= 2000000);
	T_CHECK(hp_mono_s() - s0 >= 0.002);
	/* both read CLOCK_MONOTONIC: within a second of each other */
	double d = (double)hp_now_ns() * 1e-9 - hp_mono_s();
	T_CHECK(d > -1.0 && d < 1.0);
	T_CHECK(likely(1) && !unlikely(0));
}

int main(void)
{
	t_list_del_poisons();
	t_list_del_init();
	t_list_order();
	t_rand_known_values();
	t_clock();
	return t_done("helpers");
}
