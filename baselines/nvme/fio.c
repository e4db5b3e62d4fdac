/* fio.c — runs one fio QD1 randread job on a target in a child process and parses its JSON output. */
#include "uring.h"
#include "uring_int.h"
#include "hp_time.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ------------------------------------------------------------------ */
/* Finding fio and building its command line                          */
/* ------------------------------------------------------------------ */

/* The executable for name (a path when it has a '/', else searched on
 * PATH) in out; 0 or -ENOENT. */
static int find_exe(const char *name, char *out, size_t len)
{
	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(out, X_OK) == 0 ? 0 : -ENOENT;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		return -ENOENT;
	for (const char *p = path; ; ) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n && (size_t)snprintf(out, len, "%.*s/%s", (int)n, p, name) < len &&
				access(out, X_OK) == 0)
			return 0;
		if (!e)
			return -ENOENT;
		p = e + 1;
	}
}

int hp_uring_fio_find(const char *fio, char *out, size_t len, char *why, size_t whylen)
{
	if (find_exe(fio ? fio : "fio", out, len))
		return say(why, whylen, -ENOENT, "fio not installed (apt-get install fio)");
	return 0;
}

/* fio splits --filename at ':' (several files); a literal one is "\:". */
static void escape_colons(const char *in, char *out, size_t len)
{
	size_t j = 0;
	for (; *in && j + 3 < len; in++) {
		if (*in == ':')
			out[j++] = '\\';
		out[j++] = *in;
	}
	out[j] = 0;
}

/* ------------------------------------------------------------------ */
/* The child                                                           */
/* ------------------------------------------------------------------ */

typedef struct buf {
	char *p;
	size_t n, cap;
} buf_t;

static int buf_read(buf_t *b, int fd)
{
	if (b->cap - b->n < 4096) {
		size_t cap = b->cap ? 2 * b->cap : 65536;
		if (cap > (64u << 20))
			return -E2BIG;
		char *p = realloc(b->p, cap + 1);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	ssize_t r = read(fd, b->p + b->n, b->cap - b->n);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	b->n += (size_t)r;
	b->p[b->n] = 0;
	return r > 0;           /* 0: end of file */
}

/* Runs argv; collects stdout and stderr; kills the whole process group at
 * the deadline. Returns 0 with *status, or -ETIMEDOUT / -errno. */
static int run_child(const char *exe, char *const argv[], double timeout,
		buf_t *out, buf_t *err, int *status)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC))
		return -errno;
	if (pipe2(pe, O_CLOEXEC)) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		return -e;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return -e;
	}
	if (pid == 0) {
		/* own process group, so a timeout kills every process fio made;
		 * dies with the parent so nothing outlives a crashed caller */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		execv(exe, argv);
		static const char msg[] = "exec failed\n";
		if (write(2, msg, sizeof(msg) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(pid, pid);      /* both sides, whichever runs first */
	close(po[1]);
	close(pe[1]);
	double deadline = hp_mono_s() + timeout;
	int r = 0, open_fds = 2;
	struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	buf_t *bufs[2] = {out, err};
	while (open_fds) {
		double left = deadline - hp_mono_s();
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		int pr = poll(pf, 2, (int)(left * 1000) + 1);
		if (pr < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		for (int i = 0; i < 2 && pr > 0; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			int br = buf_read(bufs[i], pf[i].fd);
			if (br < 0 && br != -E2BIG) {
				r = br;
				break;
			}
			if (br <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
			}
		}
		if (r)
			break;
	}
	/* fio closed its output: it is exiting; wait for it until the deadline */
	while (!r) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
			r = -errno;
			break;
		}
		if (si.si_pid == pid)
			break;
		if (hp_mono_s() > deadline) {
			r = -ETIMEDOUT;
			break;
		}
		usleep(2000);
	}
	/* the leader is a zombie or still running: its group id is still ours */
	kill(-pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	*status = st;
	return r;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static double num(json_object *o, const char *key)
{
	json_object *v = get(o, key);
	return v ? json_object_get_double(v) : 0.0;
}

/* fio prints error lines before its JSON; the JSON starts at a line that
 * is "{". */
static const char *json_start(const char *s)
{
	if (s[0] == '{')
		return s;
	const char *p = strstr(s, "\n{");
	return p ? p + 1 : NULL;
}

/* The first line of s that starts with "fio:" or else the first non-empty
 * line, into why. */
static int first_error_line(const char *s, char *why, size_t len)
{
	const char *pick = NULL;
	for (const char *l = s; l && *l; ) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		if (n && !strncmp(l, "fio:", 4)) {
			pick = l;
			break;
		}
		if (n && !pick && l[0] != '{')
			pick = l;
		l = e ? e + 1 : NULL;
	}
	if (!pick)
		return 0;
	const char *e = strchr(pick, '\n');
	size_t n = e ? (size_t)(e - pick) : strlen(pick);
	snprintf(why, len, "%.*s", (int)n, pick);
	return 1;
}

static int parse(const char *s, hp_uring_fio_result_t *r)
{
	const char *js = json_start(s);
	if (!js)
		return -EPROTO;
	json_object *root = json_tokener_parse(js);
	if (!root)
		return -EPROTO;
	int ret = -EPROTO;
	json_object *v = get(root, "fio version");
	if (v)
		snprintf(r->version, sizeof(r->version), "%s", json_object_get_string(v));
	json_object *jobs = get(root, "jobs");
	if (!jobs || !json_object_is_type(jobs, json_type_array) ||
			json_object_array_length(jobs) < 1)
		goto out;
	json_object *job = json_object_array_get_idx(jobs, 0);
	json_object *rd = get(job, "read");
	if (!rd)
		goto out;
	r->error = (int)num(job, "error");
	r->ios = (uint64_t)num(rd, "total_ios");
	r->bytes = (uint64_t)num(rd, "io_bytes");
	r->iops = num(rd, "iops");
	json_object *cl = get(rd, "clat_ns");
	r->clat_mean_ns = num(cl, "mean");
	r->clat_min_ns = num(cl, "min");
	r->clat_max_ns = num(cl, "max");
	json_object *pc = get(cl, "percentile");
	r->clat_p50_ns = num(pc, "50.000000");
	r->clat_p99_ns = num(pc, "99.000000");
	r->clat_p999_ns = num(pc, "99.900000");
	r->lat_mean_ns = num(get(rd, "lat_ns"), "mean");
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The runner                                                          */
/* ------------------------------------------------------------------ */

int hp_uring_fio_run(const hp_uring_fio_opts_t *o, hp_uring_fio_result_t *r,
		char *why, size_t len)
{
	if (!o || !r || !o->path)
		return say(why, len, -EINVAL, "no options, result or target given");
	memset(r, 0, sizeof(*r));
	if (o->mode == HP_URING_HYBRID)
		return say(why, len, -EOPNOTSUPP,
			"fio 3.33 has no io_uring hybrid polling option (IORING_SETUP_HYBRID_IOPOLL)");
	if (o->mode != HP_URING_IRQ && o->mode != HP_URING_POLL)
		return say(why, len, -EINVAL, "unknown mode %d (fio runs irq or poll)", o->mode);
	if (!o->ios && !(o->runtime_s > 0))
		return say(why, len, -EINVAL, "give a number of reads or a runtime > 0");
	double timeout = o->timeout_s > 0 ? o->timeout_s : 60.0;

	char exe[PATH_MAX];
	int found = hp_uring_fio_find(o->fio, exe, sizeof(exe), why, len);
	if (found)
		return found;

	/* the same target checks as the io_uring loop, and its read size */
	hp_uring_info_t info;
	int ret = hp_uring_probe(o->path, &info, why, len);
	if (ret)
		return ret;

	char a_file[2 * PATH_MAX + 16], esc[2 * PATH_MAX], a_bs[32], a_seed[48], a_cpu[32];
	char a_n[48], a_sz[48], a_rt[48];
	escape_colons(o->path, esc, sizeof(esc));
	snprintf(a_file, sizeof(a_file), "--filename=%s", esc);
	snprintf(a_bs, sizeof(a_bs), "--bs=%u", info.read_size);
	/* fio 3.33 rejects seeds above INT64_MAX ("failed parsing randseed") */
	snprintf(a_seed, sizeof(a_seed), "--randseed=%" PRIu64, o->seed & INT64_MAX);
	snprintf(a_cpu, sizeof(a_cpu), "--cpus_allowed=%d", o->cpu);
	/* A count: io_size lets the job wrap around a target smaller than the
	 * count and number_ios stops it exactly (fio ignores number_ios when
	 * time_based). A runtime: time_based keeps it reading for that long. */
	snprintf(a_n, sizeof(a_n), "--number_ios=%" PRIu64, o->ios);
	snprintf(a_sz, sizeof(a_sz), "--io_size=%" PRIu64, o->ios * info.read_size);
	snprintf(a_rt, sizeof(a_rt), "--runtime=%" PRIu64 "ms", (uint64_t)(o->runtime_s * 1000));
	char *argv[32];
	int k = 0;
	argv[k++] = "fio";
	argv[k++] = "--name=hotpath-qd1";
	argv[k++] = a_file;
	argv[k++] = "--rw=randread";
	argv[k++] = a_bs;
	argv[k++] = "--iodepth=1";
	argv[k++] = "--direct=1";
	argv[k++] = "--ioengine=io_uring";
	if (o->mode == HP_URING_POLL)
		argv[k++] = "--hipri";
	argv[k++] = "--numjobs=1";
	argv[k++] = "--thread";         /* the job is a thread: one process to kill */
	argv[k++] = "--readonly";
	argv[k++] = "--norandommap";    /* with replacement, as the io_uring loop */
	argv[k++] = a_seed;
	if (o->cpu >= 0)
		argv[k++] = a_cpu;
	if (o->ios) {
		argv[k++] = a_n;
		argv[k++] = a_sz;
	} else {
		argv[k++] = "--time_based";
		argv[k++] = a_rt;
	}
	argv[k++] = "--eta=never";
	argv[k++] = "--output-format=json";
	argv[k] = NULL;

	buf_t out = {0}, err = {0};
	int status = 0;
	ret = run_child(exe, argv, timeout, &out, &err, &status);
	const char *so = out.p ? out.p : "", *se = err.p ? err.p : "";
	if (ret == -ETIMEDOUT) {
		say(why, len, ret, "fio timed out after %.0f s (killed)", timeout);
		goto done;
	}
	if (ret) {
		say(why, len, ret, "running %s: %s", exe, strerror(-ret));
		goto done;
	}
	int pr = parse(so, r);
	int failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0 || r->error;
	if (failed) {
		ret = r->error > 0 ? -r->error : -EIO;
		if (!first_error_line(se, why, len) && !first_error_line(so, why, len)) {
			if (WIFEXITED(status))
				say(why, len, ret, "fio exited with status %d", WEXITSTATUS(status));
			else
				say(why, len, ret, "fio killed by signal %d", WTERMSIG(status));
		}
		goto done;
	}
	if (pr) {
		ret = say(why, len, -EPROTO, "cannot parse fio's JSON output");
		goto done;
	}
	if (!r->ios)
		ret = say(why, len, -EIO, "fio did no reads");
done:
	free(out.p);
	free(err.p);
	return ret;
}
