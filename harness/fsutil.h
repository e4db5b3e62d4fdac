/* fsutil.h — files that are either wholly old or wholly new, and the string
 * copy the fixed-size record fields are filled with. */
#ifndef HP_FSUTIL_H
#define HP_FSUTIL_H

#include <stddef.h>
#include <stdio.h>

struct json_object;

/* Copies src into a fixed field of `len` bytes: truncates, always
 * terminates; NULL copies as "". */
void hp_strlcpy(char *dst, const char *src, size_t len);

/* Writes `len` bytes to path through path.tmp + fsync + rename; the old file,
 * if any, is never half-replaced. Returns 0 or -1 with errno set. */
int hp_write_atomic(const char *path, const void *data, size_t len);
/* A json-c object as text (pretty, a newline at the end, NUL-terminated,
 * its length without the NUL in *len), always valid UTF-8: json-c writes a
 * string's bytes unchecked, so each byte that does not begin a valid UTF-8
 * sequence (a non-UTF-8 --out or --filter in the command line) is replaced
 * by U+FFFD. malloc'd; NULL with errno set. */
char *hp_json_text(struct json_object *obj, size_t *len);
/* Serializes a json-c object (hp_json_text) to path atomically. */
int hp_write_json_atomic(const char *path, struct json_object *obj);
/* Ends an open_memstream(&buf, &len) stream: its bytes go to path
 * atomically; f is closed and *buf freed whatever happens. 0 or -1 with
 * errno set. */
int hp_memstream_commit(FILE *f, char **buf, size_t *len, const char *path);
/* The whole file in a malloc'd buffer (not terminated), its size in *len;
 * NULL with errno set. */
char *hp_slurp(const char *path, size_t *len);
/* mkdir -p: creates path and its missing parents (mode 0755). 0, or -1 with
 * errno set. */
int hp_mkdir_p(const char *path);

#endif
