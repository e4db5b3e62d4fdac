/* keymap.h — a small string -> dense id map (ids in first-seen order), private to the writers and compare. */
#ifndef HP_KEYMAP_H
#define HP_KEYMAP_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Ids are handed out in the order keys are first seen, so grouping records
 * by id keeps the order the runner produced them in (4, 16, 64 rather than
 * the alphabetical 16, 4, 64). */
typedef struct keymap {
	char **keys;            /* by id */
	size_t *slot;           /* open addressing: id + 1, 0 = empty */
	size_t n, cap;          /* cap: slots, a power of two */
} keymap_t;

#define KEYMAP_NONE ((size_t)-1)

static inline uint64_t keymap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;  /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

static inline void keymap_init(keymap_t *m)
{
	memset(m, 0, sizeof(*m));
}

static inline void keymap_free(keymap_t *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static inline size_t keymap_find(const keymap_t *m, const char *key)
{
	if (!m->cap)
		return KEYMAP_NONE;
	for (size_t i = keymap_hash(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		size_t s = m->slot[i];

		if (!s)
			return KEYMAP_NONE;
		if (strcmp(m->keys[s - 1], key) == 0)
			return s - 1;
	}
}

static inline int keymap_grow(keymap_t *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	size_t *ns = calloc(ncap, sizeof(*ns));
	char **nk = realloc(m->keys, ncap * sizeof(*nk));

	if (!ns || !nk) {
		free(ns);
		if (nk)
			m->keys = nk;
		errno = ENOMEM;
		return -1;
	}
	m->keys = nk;
	for (size_t id = 0; id < m->n; id++) {
		size_t i = keymap_hash(m->keys[id]) & (ncap - 1);

		while (ns[i])
			i = (i + 1) & (ncap - 1);
		ns[i] = id + 1;
	}
	free(m->slot);
	m->slot = ns;
	m->cap = ncap;
	return 0;
}

/* The id of key, adding it if new; KEYMAP_NONE when out of memory. */
static inline size_t keymap_id(keymap_t *m, const char *key)
{
	size_t id = keymap_find(m, key), i;

	if (id != KEYMAP_NONE)
		return id;
	/* keep the load under one half so probes stay short */
	if ((m->n + 1) * 2 > m->cap && keymap_grow(m) < 0)
		return KEYMAP_NONE;
	char *k = strdup(key);

	if (!k)
		return KEYMAP_NONE;
	for (i = keymap_hash(key) & (m->cap - 1); m->slot[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[m->n] = k;
	m->slot[i] = ++m->n;
	return m->n - 1;
}

#endif
