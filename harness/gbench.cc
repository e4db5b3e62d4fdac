// gbench.cc — Google Benchmark behind the C interface of gbench.h.
//
// Works with Google Benchmark 1.7 and >= 1.8: the API differences (skip
// reporting, the min_time flag syntax) are resolved at compile time.

#include "gbench.h"

#include <benchmark/benchmark.h>

#include <sched.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef HP_GB_VERSION
#define HP_GB_VERSION "unknown"
#endif

namespace {

using GbRun = benchmark::BenchmarkReporter::Run;

// ====================================================================
// Version differences
// ====================================================================

// "1.7.1" -> 1007; anything unparsable counts as 0 (the oldest syntax).
constexpr int version_number(const char *s)
{
	int major = 0, minor = 0;
	int i = 0;
	for (; s[i] >= '0' && s[i] <= '9'; i++)
		major = major * 10 + (s[i] - '0');
	if (s[i] != '.')
		return 0;
	for (i++; s[i] >= '0' && s[i] <= '9'; i++)
		minor = minor * 10 + (s[i] - '0');
	return major * 1000 + minor;
}

// From 1.8 on, --benchmark_min_time takes a unit suffix and complains
// (on stderr) about a bare number.
constexpr bool kMinTimeHasSuffix = version_number(HP_GB_VERSION) >= 1008;

// 1.8 replaced Run::error_occurred/error_message by skipped/skip_message
// and State::error_occurred() (errors only) got a sibling skipped().
template <class R>
auto run_skipped(const R &r, int) -> decltype(r.skip_message, bool())
{
	return r.skipped != decltype(r.skipped)();
}
template <class R>
bool run_skipped(const R &r, long)
{
	return r.error_occurred;
}
template <class R>
auto run_skip_message(const R &r, int) -> decltype(r.skip_message, (const char *)nullptr)
{
	return r.skip_message.c_str();
}
template <class R>
const char *run_skip_message(const R &r, long)
{
	return r.error_message.c_str();
}

template <class S>
auto state_skipped(const S &s, int) -> decltype(s.skipped(), bool())
{
	return s.skipped();
}
template <class S>
bool state_skipped(const S &s, long)
{
	return s.error_occurred();
}

// A skip that is not an error (the case cannot run here) where the library
// has the distinction; 1.7 only knows errors.
template <class S>
auto state_skip_message(S &s, const char *msg, int) -> decltype(s.SkipWithMessage(msg), void())
{
	s.SkipWithMessage(msg);
}
template <class S>
void state_skip_message(S &s, const char *msg, long)
{
	s.SkipWithError(msg);
}

// ====================================================================
// Registrations
// ====================================================================

} // namespace

// Settings are kept here and handed to Google Benchmark just before the run,
// so setters can be called in any order and more than once (several of
// Google Benchmark's own setters abort on conflicts or accumulate).
struct hp_gb_bench {
	std::string name;
	hp_gb_fn fn = nullptr;
	void *arg = nullptr;
	hp_gb_bind_fn bind = nullptr;
	void *bind_arg = nullptr;
	int threads = 1;
	int reps = 1;
	double min_time = 0;        // 0: the library default (0.5 s)
	uint64_t iters = 0;         // 0: let the library choose
	bool manual_time = false;
	bool real_time = false;
	std::string config_error;   // set: every run is reported skipped with it
	benchmark::internal::Benchmark *gb = nullptr;
};

struct hp_gb_state {
	benchmark::State *st;
	bool paused;
};

namespace {

std::mutex g_lock;                                  // guards g_benches
std::vector<std::unique_ptr<hp_gb_bench>> g_benches;
bool g_running;                                     // inside hp_gb_run_all

void config_error(hp_gb_bench *b, std::string msg)
{
	// The first problem is the one worth reading.
	if (b->config_error.empty())
		b->config_error = "invalid benchmark setting for '" + b->name + "': " + std::move(msg);
}

// Runs in every benchmark thread, once per timed run.
void trampoline(benchmark::State &st, hp_gb_bench *b)
{
	hp_gb_state cs = {&st, false};

	if (!b->config_error.empty()) {
		st.SkipWithError(b->config_error.c_str());
	} else if (b->bind) {
		errno = 0;
		if (b->bind(st.thread_index(), b->bind_arg) != 0) {
			int e = errno;
			char msg[160];
			snprintf(msg, sizeof(msg), "cannot bind thread %d of %d%s%s",
				 st.thread_index(), st.threads(),
				 e ? ": " : " (the bind callback failed)",
				 e ? strerror(e) : "");
			st.SkipWithError(msg);
		}
	}
	// Always enter the loop, even when skipped: its start and end are the
	// barriers every thread of the run must pass. With n = max_iterations
	// the first call grants the whole run in one batch and the second ends
	// it, so fn runs once with exactly the count that gets reported.
	const benchmark::IterationCount n = st.max_iterations > 0 ? st.max_iterations : 1;
	while (st.KeepRunningBatch(n)) {
		b->fn(&cs, static_cast<uint64_t>(n), b->arg);
		// The loop's end stops a running clock; a clock left paused
		// would make the library abort.
		if (cs.paused && !state_skipped(st, 0)) {
			st.ResumeTiming();
			cs.paused = false;
		}
	}
}

void apply_settings(hp_gb_bench *b)
{
	benchmark::internal::Benchmark *gb = b->gb;
	gb->Repetitions(b->reps);
	gb->Threads(b->threads);
	// A fixed count makes min_time meaningless; the library refuses both.
	if (b->iters)
		gb->Iterations(static_cast<benchmark::IterationCount>(b->iters));
	else if (b->min_time > 0)
		gb->MinTime(b->min_time);
	// Manual time replaces the real time; the library refuses both.
	if (b->manual_time)
		gb->UseManualTime();
	else if (b->real_time)
		gb->UseRealTime();
}

void clear_locked()
{
	benchmark::ClearRegisteredBenchmarks();
	g_benches.clear();
}

// ====================================================================
// Running
// ====================================================================

// Once per process, with flags that override whatever BENCHMARK_* variables
// the environment holds (the library reads them as flag defaults): nothing
// may redirect output, filter, list instead of run, or change the counts.
void initialize_once()
{
	static std::once_flag once;
	std::call_once(once, [] {
		static char a0[] = "hotpath";
		static char a1[] = "--benchmark_filter=.";
		static char a2[] = "--benchmark_list_tests=false";
		static char a3[] = "--benchmark_out=";
		static char a4[] = "--benchmark_format=console";
		static char a5[] = "--benchmark_out_format=json";
		static char a6[] = "--benchmark_repetitions=1";
		static char a7_old[] = "--benchmark_min_time=0.5";
		static char a7_new[] = "--benchmark_min_time=0.5s";
		static char a8[] = "--benchmark_min_warmup_time=0";
		static char a9[] = "--benchmark_enable_random_interleaving=false";
		static char a10[] = "--benchmark_report_aggregates_only=false";
		static char a11[] = "--benchmark_display_aggregates_only=false";
		static char a12[] = "--benchmark_perf_counters=";
		static char a13[] = "--benchmark_time_unit=ns";
		static char a14[] = "--benchmark_counters_tabular=false";
		static char a15[] = "--v=0";
		// Only newer versions know it; older ones leave it unparsed.
		static char a16[] = "--benchmark_dry_run=false";
		static char *argv[] = {a0, a1, a2, a3, a4, a5, a6,
				       kMinTimeHasSuffix ? a7_new : a7_old,
				       a8, a9, a10, a11, a12, a13, a14, a15, a16, nullptr};
		int argc = static_cast<int>(sizeof(argv) / sizeof(argv[0])) - 1;
		benchmark::Initialize(&argc, argv);
	});
}

// Hands each measured run to the C callback; prints nothing.
class CReporter : public benchmark::BenchmarkReporter {
public:
	CReporter(hp_gb_report_fn cb, void *arg) : cb_(cb), arg_(arg)
	{
		// The library writes its own complaints ("Failed to match any
		// benchmarks", warnings) to these streams.
		SetOutputStream(&sink_);
		SetErrorStream(&sink_);
	}

	bool ReportContext(const Context &) override { return true; }

	void ReportRuns(const std::vector<GbRun> &runs) override
	{
		std::vector<hp_gb_counter_val_t> counters;
		for (const GbRun &r : runs) {
			if (r.run_type != GbRun::RT_Iteration)
				continue;   // hotpath makes its own statistics
			hp_gb_run_t out;
			memset(&out, 0, sizeof(out));
			bool skipped = run_skipped(r, 0);
			double to_ns = 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
			out.name = r.run_name.function_name.c_str();
			out.repetition_index = static_cast<int>(r.repetition_index);
			out.repetitions = static_cast<int>(r.repetitions);
			out.threads = static_cast<int>(r.threads);
			out.iterations = r.iterations > 0 ? static_cast<uint64_t>(r.iterations) : 0;
			if (!skipped && r.iterations > 0) {
				out.real_time_ns = r.GetAdjustedRealTime() * to_ns;
				out.cpu_time_ns = r.GetAdjustedCPUTime() * to_ns;
			}
			out.skipped = skipped;
			out.skip_message = skipped ? run_skip_message(r, 0) : "";
			counters.clear();
			for (const auto &kv : r.counters)
				counters.push_back({kv.first.c_str(), kv.second.value});
			out.ncounters = static_cast<int>(counters.size());
			out.counters = counters.empty() ? nullptr : counters.data();
			reported_++;
			if (cb_)
				cb_(&out, arg_);
		}
	}

	int reported() const { return reported_; }

private:
	hp_gb_report_fn cb_;
	void *arg_;
	int reported_ = 0;
	std::ostringstream sink_;
};

// Thread 0 of every run is the calling thread, so a bind callback rebinds
// the caller; its CPU affinity is put back afterwards.
class AffinityGuard {
public:
	AffinityGuard()
	{
		for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 2) {
			size_t size = CPU_ALLOC_SIZE(ncpu);
			cpu_set_t *set = CPU_ALLOC(ncpu);
			if (!set)
				return;
			if (sched_getaffinity(0, size, set) == 0) {
				set_ = set;
				size_ = size;
				return;
			}
			int e = errno;
			CPU_FREE(set);
			if (e != EINVAL)
				return;
		}
	}
	~AffinityGuard()
	{
		if (!set_)
			return;
		(void)sched_setaffinity(0, size_, set_);
		CPU_FREE(set_);
	}
	AffinityGuard(const AffinityGuard &) = delete;
	AffinityGuard &operator=(const AffinityGuard &) = delete;

private:
	cpu_set_t *set_ = nullptr;
	size_t size_ = 0;
};

} // namespace

// ====================================================================
// C interface: registration
// ====================================================================

extern "C" {

hp_gb_bench_t *hp_gb_register(const char *name, hp_gb_fn fn, void *arg)
{
	if (!name || !*name) {
		fprintf(stderr, "hp_gb_register: empty benchmark name: give a non-empty name\n");
		return nullptr;
	}
	if (!fn) {
		fprintf(stderr, "hp_gb_register: benchmark '%s' has no function: give a hp_gb_fn\n", name);
		return nullptr;
	}
	std::lock_guard<std::mutex> guard(g_lock);
	if (g_running) {
		fprintf(stderr, "hp_gb_register: '%s' registered while benchmarks run: register before hp_gb_run_all\n", name);
		return nullptr;
	}
	std::unique_ptr<hp_gb_bench> b(new hp_gb_bench);
	b->name = name;
	b->fn = fn;
	b->arg = arg;
	hp_gb_bench *raw = b.get();
	b->gb = benchmark::RegisterBenchmark(name, [raw](benchmark::State &st) { trampoline(st, raw); });
	g_benches.push_back(std::move(b));
	return raw;
}

void hp_gb_set_threads(hp_gb_bench_t *b, int threads)
{
	if (!b)
		return;
	if (threads < 1)
		config_error(b, "threads " + std::to_string(threads) + ": must be >= 1");
	else
		b->threads = threads;
}

void hp_gb_set_repetitions(hp_gb_bench_t *b, int reps)
{
	if (!b)
		return;
	if (reps < 1)
		config_error(b, "repetitions " + std::to_string(reps) + ": must be >= 1");
	else
		b->reps = reps;
}

void hp_gb_set_min_time(hp_gb_bench_t *b, double seconds)
{
	if (!b)
		return;
	if (!(seconds > 0) || !std::isfinite(seconds)) {
		char v[64];
		snprintf(v, sizeof(v), "%g", seconds);
		config_error(b, std::string("min_time ") + v + " s: must be a finite number > 0");
	} else {
		b->min_time = seconds;
	}
}

void hp_gb_set_iterations(hp_gb_bench_t *b, uint64_t iters)
{
	if (!b)
		return;
	if (iters < 1 || iters > static_cast<uint64_t>(INT64_MAX))
		config_error(b, "iterations " + std::to_string(iters) + ": must be in 1.." +
				     std::to_string(INT64_MAX));
	else
		b->iters = iters;
}

void hp_gb_use_manual_time(hp_gb_bench_t *b)
{
	if (b)
		b->manual_time = true;
}

void hp_gb_use_real_time(hp_gb_bench_t *b)
{
	if (b)
		b->real_time = true;
}

void hp_gb_set_bind(hp_gb_bench_t *b, hp_gb_bind_fn fn, void *arg)
{
	if (!b)
		return;
	b->bind = fn;
	b->bind_arg = arg;
}

// ====================================================================
// C interface: inside a benchmark function
// ====================================================================

void hp_gb_pause(hp_gb_state_t *st)
{
	// The library aborts on a double pause or a pause after a skip.
	if (st->paused || state_skipped(*st->st, 0))
		return;
	st->st->PauseTiming();
	st->paused = true;
}

void hp_gb_resume(hp_gb_state_t *st)
{
	if (!st->paused || state_skipped(*st->st, 0))
		return;
	st->st->ResumeTiming();
	st->paused = false;
}

void hp_gb_set_iteration_time(hp_gb_state_t *st, double seconds)
{
	st->st->SetIterationTime(seconds);
}

void hp_gb_set_items_processed(hp_gb_state_t *st, int64_t items)
{
	st->st->SetItemsProcessed(items);
}

void hp_gb_set_bytes_processed(hp_gb_state_t *st, int64_t bytes)
{
	st->st->SetBytesProcessed(bytes);
}

void hp_gb_counter(hp_gb_state_t *st, const char *name, double value, int flags)
{
	const int known = HP_GB_COUNTER_RATE | HP_GB_COUNTER_AVG_THREADS | HP_GB_COUNTER_AVG_ITERATIONS;
	if (!name || !*name || (flags & ~known)) {
		char msg[200];
		snprintf(msg, sizeof(msg),
			 "hp_gb_counter: bad counter '%s' flags %#x: need a non-empty name and flags "
			 "made of HP_GB_COUNTER_RATE|AVG_THREADS|AVG_ITERATIONS (0x%x)",
			 name ? name : "(null)", static_cast<unsigned>(flags), static_cast<unsigned>(known));
		if (!state_skipped(*st->st, 0)) {
			st->st->SkipWithError(msg);
			st->paused = false;
		}
		return;
	}
	// hotpath's flag bits are its own; Google Benchmark's differ
	// (kAvgIterations is 1 << 3).
	int gf = benchmark::Counter::kDefaults;
	if (flags & HP_GB_COUNTER_RATE)
		gf |= benchmark::Counter::kIsRate;
	if (flags & HP_GB_COUNTER_AVG_THREADS)
		gf |= benchmark::Counter::kAvgThreads;
	if (flags & HP_GB_COUNTER_AVG_ITERATIONS)
		gf |= benchmark::Counter::kAvgIterations;
	st->st->counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(gf));
}

void hp_gb_skip(hp_gb_state_t *st, const char *msg)
{
	if (state_skipped(*st->st, 0))
		return;   // the first reason is kept anyway
	state_skip_message(*st->st, msg && *msg ? msg : "skipped", 0);
	st->paused = false;   // skipping stops the clock for good
}

int hp_gb_thread_index(const hp_gb_state_t *st)
{
	return st->st->thread_index();
}

int hp_gb_threads(const hp_gb_state_t *st)
{
	return st->st->threads();
}

uint64_t hp_gb_max_iterations(const hp_gb_state_t *st)
{
	return static_cast<uint64_t>(st->st->max_iterations);
}

// ====================================================================
// C interface: running
// ====================================================================

int hp_gb_run_all(hp_gb_report_fn cb, void *arg)
{
	{
		std::lock_guard<std::mutex> guard(g_lock);
		if (g_running) {
			fprintf(stderr, "hp_gb_run_all: a run is already in progress (called from a benchmark, "
				"a report callback or another thread): not allowed\n");
			return -1;
		}
		if (g_benches.empty()) {
			// The library would complain that nothing matched.
			clear_locked();
			return 0;
		}
		g_running = true;
		for (auto &b : g_benches)
			apply_settings(b.get());
	}
	initialize_once();
	int n;
	{
		AffinityGuard keep_affinity;
		CReporter rep(cb, arg);
		benchmark::RunSpecifiedBenchmarks(&rep, std::string("."));
		n = rep.reported();
	}
	std::lock_guard<std::mutex> guard(g_lock);
	clear_locked();
	g_running = false;
	return n;
}

void hp_gb_clear(void)
{
	std::lock_guard<std::mutex> guard(g_lock);
	if (g_running) {
		fprintf(stderr, "hp_gb_clear: a run is in progress: ignored\n");
		return;
	}
	clear_locked();
}

const char *hp_gb_version(void)
{
	return HP_GB_VERSION;
}

const char *hp_gb_library_build(void)
{
	// The library knows whether it was built with NDEBUG; the only place
	// it says so is the context header its own reporters print.
	static std::string kind;
	static std::once_flag once;

	std::call_once(once, [] {
		std::ostringstream out;
		benchmark::BenchmarkReporter::Context ctx;

		benchmark::BenchmarkReporter::PrintBasicContext(&out, ctx);
		kind = out.str().find("built as DEBUG") != std::string::npos ? "debug" : "release";
	});
	return kind.c_str();
}

} // extern "C"
