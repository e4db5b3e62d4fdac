/* metrics.c — hardware counters (perf_event_open) and callgrind instruction counts. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "hp_config.h"
#include "metrics.h"

#if HP_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#endif

/* ================================================================== */
/* perf_event_open                                                     */
/* ================================================================== */

const char *const hp_perf_event_names[HP_PERF_NEVENTS] = {
	"perf_cycles", "perf_instructions", "perf_cache_misses", "perf_branch_misses",
};
const char *const hp_perf_event_units[HP_PERF_NEVENTS] = {
	"cycles", "instr", "misses", "misses",
};

/* The kernel's names for the generic events, used in messages. */
static const char *const perf_short[HP_PERF_NEVENTS] = {
	"cycles", "instructions", "cache-misses", "branch-misses",
};
static const uint64_t perf_config[HP_PERF_NEVENTS] = {
	PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_INSTRUCTIONS,
	PERF_COUNT_HW_CACHE_MISSES, PERF_COUNT_HW_BRANCH_MISSES,
};

static long perf_event_open(struct perf_event_attr *a, pid_t pid, int cpu,
			    int group, unsigned long flags)
{
	return syscall(SYS_perf_event_open, a, pid, cpu, group, flags);
}

/* -1 when the file cannot be read (then the kernel's default, 2, applies to
 * what we may do, but we say "unknown" in messages). */
static int perf_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Kernel events are counted whenever we are allowed to: a syscall-heavy
 * hot path spends much of its time there. Paranoid >= 2 forbids that to
 * unprivileged users, and asking anyway would fail the whole group. */
static int perf_exclude_kernel(void)
{
	int p = perf_paranoid();

	if (geteuid() == 0)
		return 0;
	return p < 0 || p >= 2;
}

static void perf_reason(char *err, size_t errlen, int ev, int e)
{
	char hint[160] = "";
	int p;

	switch (e) {
	case ENOENT:
	case EOPNOTSUPP:
	case ENODEV:
		snprintf(hint, sizeof hint,
			 ": no hardware PMU (a virtual machine without vPMU?)");
		break;
	case EACCES:
	case EPERM:
		p = perf_paranoid();
		if (geteuid() == 0)
			snprintf(hint, sizeof hint,
				 ": refused although running as root (perf_event_paranoid=%d): "
				 "a seccomp/container policy or kernel lockdown?", p);
		else if (p >= 0)
			snprintf(hint, sizeof hint,
				 ": perf_event_paranoid=%d: run as root or lower it "
				 "(sysctl kernel.perf_event_paranoid=1)", p);
		else
			snprintf(hint, sizeof hint,
				 ": perf_event_paranoid unreadable: run as root or lower it");
		break;
	case ENOSYS:
		snprintf(hint, sizeof hint,
			 ": kernel built without perf events (CONFIG_PERF_EVENTS)");
		break;
	case EINVAL:
		snprintf(hint, sizeof hint,
			 ": event or flags not supported by this CPU or kernel");
		break;
	case EMFILE:
	case ENFILE:
		snprintf(hint, sizeof hint, ": out of file descriptors");
		break;
	default:
		break;
	}
	snprintf(err, errlen, "perf_event_open(%s): %s%s", perf_short[ev],
		 strerror(e), hint);
}

int hp_perf_open(hp_perf_t *p, char *err, size_t errlen)
{
	int exk = perf_exclude_kernel();

	for (int i = 0; i < HP_PERF_NEVENTS; i++)
		p->fd[i] = -1;
	for (int i = 0; i < HP_PERF_NEVENTS; i++) {
		struct perf_event_attr a;
		long fd;

		memset(&a, 0, sizeof a);
		a.size = sizeof a;
		a.type = PERF_TYPE_HARDWARE;
		a.config = perf_config[i];
		/* Only the leader starts disabled: members follow it, so one
		 * ioctl on the leader switches the whole group atomically. */
		a.disabled = i == 0;
		a.exclude_kernel = exk;
		a.exclude_hv = 1;
		a.read_format = PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED |
				PERF_FORMAT_TOTAL_TIME_RUNNING;
		fd = perf_event_open(&a, 0, -1, i ? p->fd[0] : -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			perf_reason(err, errlen, i, e);
			hp_perf_close(p);
			errno = e;
			return -1;
		}
		p->fd[i] = (int)fd;
	}
	return 0;
}

static void perf_ioctl(hp_perf_t *p, unsigned long req)
{
	if (p->fd[0] >= 0)
		(void)ioctl(p->fd[0], req, PERF_IOC_FLAG_GROUP);
}

void hp_perf_enable(hp_perf_t *p) { perf_ioctl(p, PERF_EVENT_IOC_ENABLE); }
void hp_perf_disable(hp_perf_t *p) { perf_ioctl(p, PERF_EVENT_IOC_DISABLE); }
void hp_perf_reset(hp_perf_t *p) { perf_ioctl(p, PERF_EVENT_IOC_RESET); }

int hp_perf_read(hp_perf_t *p, uint64_t out[HP_PERF_NEVENTS])
{
	/* PERF_FORMAT_GROUP layout: nr, time_enabled, time_running, values[nr] */
	uint64_t buf[3 + HP_PERF_NEVENTS];
	ssize_t n;

	if (p->fd[0] < 0)
		return -1;
	n = read(p->fd[0], buf, sizeof buf);
	if (n < (ssize_t)(3 * sizeof(uint64_t)) || buf[0] != HP_PERF_NEVENTS ||
	    n < (ssize_t)((3 + buf[0]) * sizeof(uint64_t)))
		return -1;
	uint64_t enabled = buf[1], running = buf[2];
	if (enabled && !running)
		return -1;      /* multiplexed out the whole time: no estimate */
	for (int i = 0; i < HP_PERF_NEVENTS; i++) {
		uint64_t v = buf[3 + i];

		/* The group was on the PMU only part of the time: scale up,
		 * as perf stat does. */
		if (running && running < enabled)
			v = (uint64_t)((unsigned __int128)v * enabled / running);
		out[i] = v;
	}
	return 0;
}

void hp_perf_close(hp_perf_t *p)
{
	for (int i = HP_PERF_NEVENTS - 1; i >= 0; i--) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		p->fd[i] = -1;
	}
}

static pthread_once_t perf_once = PTHREAD_ONCE_INIT;
static char perf_why[320];
static int perf_bad;

static void __attribute__((noinline)) perf_probe_work(void)
{
	for (volatile int i = 0; i < 10000; i++)
		;
}

static void perf_probe(void)
{
	hp_perf_t p;
	uint64_t v[HP_PERF_NEVENTS];

	if (hp_perf_open(&p, perf_why, sizeof perf_why) < 0) {
		perf_bad = 1;
		return;
	}
	/* Some hypervisors accept the events but never count: check that
	 * instructions actually move. */
	hp_perf_reset(&p);
	hp_perf_enable(&p);
	perf_probe_work();
	hp_perf_disable(&p);
	if (hp_perf_read(&p, v) < 0) {
		snprintf(perf_why, sizeof perf_why,
			 "perf_event_open: group opened but cannot be read (never scheduled on the PMU?)");
		perf_bad = 1;
	} else if (v[1] == 0) {
		snprintf(perf_why, sizeof perf_why,
			 "perf_event_open: instructions counter reads 0 after a loop "
			 "(a virtual PMU that does not count?)");
		perf_bad = 1;
	}
	hp_perf_close(&p);
}

const char *hp_perf_unavailable(void)
{
	pthread_once(&perf_once, perf_probe);
	return perf_bad ? perf_why : NULL;
}

/* ================================================================== */
/* callgrind                                                           */
/* ================================================================== */

/*
 * The runner starts the measured process as
 *     valgrind --tool=callgrind --collect-atstart=no --instr-atstart=yes \
 *              --callgrind-out-file=DIR/cg.%p [--separate-threads=no]
 * Instrumentation is on from the start (switching it on later costs a
 * retranslation and is slow), but nothing is counted until the measured
 * region toggles collection on. START_INSTRUMENTATION would be a no-op
 * here, so the pair is ZERO_STATS + TOGGLE_COLLECT. Callgrind keeps the
 * collection state per thread: each measured thread calls hp_cg_start and
 * hp_cg_stop itself. Each hp_cg_dump writes DIR/cg.<pid>.<n> (n = 1, 2, ...)
 * and zeroes the counters; the file written at exit holds nothing but
 * what ran outside any region (i.e. nothing).
 */

#if HP_HAVE_CALLGRIND
/* TOGGLE flips; remembering our state keeps a repeated start or stop
 * from inverting the meaning of the region. */
static __thread int cg_collecting;
#endif

int hp_on_valgrind(void)
{
#if HP_HAVE_CALLGRIND
	return RUNNING_ON_VALGRIND ? 1 : 0;
#else
	return 0;
#endif
}

void hp_cg_start(void)
{
#if HP_HAVE_CALLGRIND
	if (!RUNNING_ON_VALGRIND)
		return;
	CALLGRIND_ZERO_STATS;
	if (!cg_collecting) {
		cg_collecting = 1;
		CALLGRIND_TOGGLE_COLLECT;
	}
#endif
}

void hp_cg_stop(void)
{
#if HP_HAVE_CALLGRIND
	if (!RUNNING_ON_VALGRIND)
		return;
	if (cg_collecting) {
		CALLGRIND_TOGGLE_COLLECT;
		cg_collecting = 0;
	}
#endif
}

/* Inside a region: stop and restart counting without zeroing, so per-batch
 * set-up that a case brackets with hp_pause/hp_resume is not counted. */
void hp_cg_pause(void)
{
	hp_cg_stop();
}

void hp_cg_resume(void)
{
#if HP_HAVE_CALLGRIND
	if (!RUNNING_ON_VALGRIND)
		return;
	if (!cg_collecting) {
		cg_collecting = 1;
		CALLGRIND_TOGGLE_COLLECT;
	}
#endif
}

void hp_cg_dump(const char *label)
{
#if HP_HAVE_CALLGRIND
	if (!RUNNING_ON_VALGRIND)
		return;
	CALLGRIND_DUMP_STATS_AT(label ? label : "hotpath");
#else
	(void)label;
#endif
}

/* The "events:" line's names, in order; the count, or -1 when too many. */
static int cg_event_names(char *line, char names[][16], int max)
{
	int n = 0;

	for (char *tok = strtok(line, " \t\r\n"); tok; tok = strtok(NULL, " \t\r\n")) {
		if (n == max)
			return -1;
		snprintf(names[n++], 16, "%s", tok);
	}
	return n;
}

int hp_cg_read_events(const char *path, const char *const *names, int n, uint64_t *out,
		      char *err, size_t errlen)
{
	enum { MAXEV = 32 };
	char ev[MAXEV][16], *line = NULL;
	uint64_t val[MAXEV];
	size_t cap = 0;
	int nev = -1, nval = -1, lineno = 0, rc = -1;
	FILE *f;

	if (!err)
		errlen = 0;
	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open callgrind output %s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		if (!strncmp(line, "events:", 7) && nev < 0) {
			if ((nev = cg_event_names(line + 7, ev, MAXEV)) < 0) {
				snprintf(err, errlen, "%s:%d: more than %d events", path, lineno, MAXEV);
				goto out;
			}
		} else if ((!strncmp(line, "summary:", 8) || (!strncmp(line, "totals:", 7) && nval < 0)) &&
			   nev >= 0) {
			/* the values of the events line, in its order; trailing
			 * zero values may be left out */
			char *s = strchr(line, ':') + 1, *end;

			for (nval = 0; nval < MAXEV; nval++)
				val[nval] = 0;
			for (nval = 0; nval < nev; nval++) {
				while (*s == ' ' || *s == '\t')
					s++;
				if (*s == '\n' || *s == '\r' || !*s)
					break;
				if (*s < '0' || *s > '9') {
					snprintf(err, errlen, "%s:%d: bad number in the totals", path, lineno);
					goto out;
				}
				errno = 0;
				val[nval] = strtoull(s, &end, 10);
				if (errno) {
					snprintf(err, errlen, "%s:%d: number out of range in the totals", path, lineno);
					goto out;
				}
				s = end;
			}
			nval = nev;
		}
	}
	if (nev < 0 || nval < 0) {
		snprintf(err, errlen, "%s: no \"events:\" and \"summary:\" lines (not a callgrind output file?)",
			 path);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int k = 0;

		while (k < nev && strcmp(ev[k], names[i]))
			k++;
		if (k == nev) {
			snprintf(err, errlen, "%s: no %s event%s", path, names[i], strcmp(names[i], "Ir") ?
				 ": was the cache simulator on (--cache-sim=yes)?" : "");
			goto out;
		}
		out[i] = val[k];
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

int hp_cg_read_total(const char *path, uint64_t *ir, char *err, size_t errlen)
{
	static const char *const ir_event[] = { "Ir" };

	return hp_cg_read_events(path, ir_event, 1, ir, err, errlen);
}

const char *hp_cg_unavailable(void)
{
#if !HP_HAVE_CALLGRIND
	return "built without valgrind/callgrind.h: install valgrind (apt-get install valgrind) and reconfigure";
#else
	static __thread char why[320];

	if (strcmp(HP_SANITIZE, "none") != 0)
		return "built with b_sanitize=" HP_SANITIZE ": valgrind cannot run sanitized binaries; "
		       "use a build without sanitizers";
	if (!HP_VALGRIND[0])
		return "valgrind was not found when the build was configured: install it and reconfigure";
	if (access(HP_VALGRIND, X_OK) < 0) {
		snprintf(why, sizeof why, "valgrind %s: %s (it was there when the build was configured)",
			 HP_VALGRIND, strerror(errno));
		return why;
	}
	return NULL;
#endif
}
