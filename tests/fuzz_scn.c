/* fuzz_scn.c — libFuzzer harness for the scenario parser of `hotpath sim` (impl/sched/sim.c: hp_scn_parse).
 *
 * Each input is a scenario text (cut at its first NUL, as hp_scn_load
 * refuses NUL bytes). Besides what ASan and UBSan catch: a refused text has
 * a message naming the scenario, an accepted one a duration of 1..86400 s
 * and 1..HP_SIM_MAX_THREADS named threads. (The duplicate-key check is
 * exercised for crashes here; its verdicts are checked by the bad-input
 * table, tests/test_bad_input.sh.)
 * Built and run by tests/test_fuzz.sh; seeds in tests/corpus/scn/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *why, const char *detail)
{
	fprintf(stderr, "fuzz_scn: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	char *text = malloc(size + 1);
	hp_scn_t *s;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	s = hp_scn_parse(text, "fuzz.json", err, sizeof err);
	if (!s) {
		if (strncmp(err, "fuzz.json: ", 11) != 0 || !err[11])
			die("a refused scenario without a message naming it", err);
		free(text);
		return 0;
	}
	uint64_t d = hp_scn_duration_ns(s);
	if (d < 1000000000ull || d > 86400ull * 1000000000ull)
		die("accepted a duration outside 1..86400 s", NULL);
	int n = hp_scn_nthreads(s);
	if (n < 1 || n > HP_SIM_MAX_THREADS)
		die("accepted a thread count outside 1..HP_SIM_MAX_THREADS", NULL);
	for (int i = 0; i < n; i++)
		if (!hp_scn_thread_name(s, i)[0] || !hp_scn_thread_key(s, i)[0])
			die("a thread without a name", NULL);
	hp_scn_free(s);
	free(text);
	return 0;
}
