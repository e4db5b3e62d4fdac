/* record_int.h — what the files of the hp_record library share and nobody
 * else needs: array growth, exact number text, status names, and the
 * multi-key sort results.json and summary.md group records with. */
#ifndef HP_RECORD_INT_H
#define HP_RECORD_INT_H

#include <stddef.h>

#include "record.h"

/* Grows arr (elements of `elem` bytes, capacity *cap) to hold `need`,
 * doubling; returns the (maybe moved) array, or NULL with ENOMEM and the
 * array untouched. */
void *hp_grow(void *arr, size_t *cap, size_t need, size_t elem);

/* The shortest of %.15g/%.16g/%.17g that reads back as the same double. */
#define HP_EXACT_MAX 40
void hp_fmt_exact(char *buf, size_t len, double v);

/* The status whose hp_status_name() is `name`: 0, or -1 if none is. */
int hp_status_parse(const char *name, hp_status_kind_t *out);

/* The primary metric (see hp_primary_rank) among records idx[0..n) of r;
 * NULL if n is 0. */
const char *hp_pick_primary(const hp_results_t *r, const size_t *idx, size_t n);

/* Records sorted by several dense ids each (compared in order), ties kept
 * in the run's order. */
#define HP_NKEYS 5
typedef size_t hp_sortkey_t[HP_NKEYS];
/* 0, 1, ..., n-1 in a new array (never NULL for n = 0 unless out of memory). */
size_t *hp_index_alloc(size_t n);
/* Sorts idx[0..n) (indices into keys) by keys[idx][0..HP_NKEYS). */
void hp_sort_by_keys(size_t *idx, size_t n, hp_sortkey_t *keys);

#endif
