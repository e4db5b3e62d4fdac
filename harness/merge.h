/* merge.h — `hotpath merge [--label L]... --out M DIR...`: results folders
 * of several hosts, kernels or commits combined into one merged folder
 * (results format 2, docs/merge.md). */
#ifndef HP_MERGE_H
#define HP_MERGE_H

/* argv[0] is "merge". Exit code: 0, 1 when M cannot be written, 2 for bad
 * usage or a folder that cannot be merged (the message names it and why),
 * 99 out of memory. Nothing is left under M on failure. */
int hp_merge_main(int argc, char **argv);

/* The side of a merged folder's file `merged.json` a reader needs: 1 when
 * dir holds a merged.json (a merged folder), else 0. */
int hp_is_merged_dir(const char *dir);

#endif
