/* fsutil.c — atomic file writes, whole-file reads, mkdir -p, hp_strlcpy. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "fsutil.h"

void hp_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n;

	if (!len)
		return;
	if (!src)
		src = "";
	n = strnlen(src, len - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* path with its last component cut off ("." for a bare name); NULL when out
 * of memory. */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* Makes the rename itself durable. 0, or -1 with errno when the folder
 * cannot be synced (EINVAL, a file system without directory sync, is not
 * an error). */
static int fsync_parent(const char *path)
{
	char *dir = parent_dir(path);
	int fd, rc = 0, saved = 0;

	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		rc = -1;
	} else {
		if (fsync(fd) != 0 && errno != EINVAL) {
			saved = errno;
			rc = -1;
		}
		close(fd);
	}
	free(dir);
	errno = saved;
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int hp_write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp;
	size_t plen;
	int fd, saved;

	if (!path || (!data && len)) {
		errno = EINVAL;
		return -1;
	}
	plen = strlen(path);
	tmp = malloc(plen + 5);
	if (!tmp)
		return -1;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail_noclose;
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return fsync_parent(path);

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
fail_noclose:
	saved = errno;
	free(tmp);
	errno = saved;
	return -1;
}

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;              /* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;              /* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;              /* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;              /* above U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

char *hp_json_text(struct json_object *obj, size_t *len)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t n, o = 0;
	char *buf;

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	n = strlen(s);
	/* json-c copies a string's bytes as they are: each byte that does not
	 * start a valid sequence becomes U+FFFD (3 bytes) */
	if (n > (SIZE_MAX - 2) / 3) {
		errno = ENOMEM;
		return NULL;
	}
	buf = malloc(3 * n + 2);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);

		if (k) {
			memcpy(buf + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	buf[o++] = '\n';         /* a text file ends with a newline */
	buf[o] = '\0';
	*len = o;
	return buf;
}

int hp_write_json_atomic(const char *path, struct json_object *obj)
{
	char *buf;
	size_t n;
	int rc, saved;

	buf = hp_json_text(obj, &n);
	if (!buf)
		return -1;
	rc = hp_write_atomic(path, buf, n);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

int hp_memstream_commit(FILE *f, char **buf, size_t *len, const char *path)
{
	int rc, saved;

	if (fflush(f) != 0 || ferror(f)) {
		saved = errno ? errno : EIO;
		fclose(f);
		free(*buf);
		errno = saved;
		return -1;
	}
	fclose(f);
	rc = hp_write_atomic(path, *buf, *len);
	saved = errno;
	free(*buf);
	errno = saved;
	return rc;
}

char *hp_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *p;
	size_t cap = 0, n = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			if (cap > SIZE_MAX / 2 - 65536)
				goto nomem;
			p = realloc(buf, cap ? cap * 2 : 65536);
			if (!p)
				goto nomem;
			buf = p;
			cap = cap ? cap * 2 : 65536;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
nomem:
	free(buf);
	fclose(f);
	errno = ENOMEM;
	return NULL;
}

int hp_mkdir_p(const char *path)
{
	char *tmp = strdup(path ? path : "");
	int rc = 0, saved;

	if (!tmp)
		return -1;
	if (!*tmp) {
		free(tmp);
		errno = ENOENT;
		return -1;
	}
	/* every prefix ending before a '/', then the whole path */
	for (char *p = tmp + 1; *p && !rc; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (!rc && mkdir(tmp, 0755) != 0 && errno != EEXIST)
		rc = -1;
	saved = errno;
	free(tmp);
	errno = saved;
	return rc;
}
