/* fuzz_cpulist.c — libFuzzer harness for the --cpus parser (harness/topo.c: hp_cpulist_parse) on a synthetic topology.
 *
 * The topology is loaded once ("pack:2 core:4 pu:2": 16 CPUs, SMT pairs).
 * Besides what ASan and UBSan catch: a refused list has a message naming
 * --cpus; an accepted one gives 1..max CPUs that exist, none twice, and
 * hp_cpulist_format of them parses back to the same CPUs in the same order.
 * Built and run by tests/test_fuzz.sh; seeds in tests/corpus/cpulist/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXC 12         /* fewer than the 16 CPUs: the "too many" path is reached too */
static hp_topo_t *topo;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	topo = hp_topo_load_synthetic("pack:2 core:4 pu:2", err, sizeof err);
	if (!topo) {
		fprintf(stderr, "fuzz_cpulist: %s\n", err);
		abort();
	}
	return 0;
}

static void die(const char *why, const char *spec, const char *detail)
{
	fprintf(stderr, "fuzz_cpulist: %s (list '%s')%s%s\n", why, spec, detail ? ": " : "", detail ? detail : "");
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "", text[5 * MAXC + 1];
	int cpus[MAXC], again[MAXC], n, m;
	char *spec = malloc(size + 1);

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = 0;
	n = hp_cpulist_parse(topo, spec, cpus, MAXC, err, sizeof err);
	if (n < 0) {
		if (!strstr(err, "--cpus"))
			die("a refused list without a message naming --cpus", spec, err);
		free(spec);
		return 0;
	}
	if (n < 1 || n > MAXC)
		die("accepted with a CPU count out of 1..max", spec, NULL);
	for (int i = 0; i < n; i++) {
		if (cpus[i] < 0 || cpus[i] >= hp_topo_npus(topo))
			die("accepted a CPU that does not exist", spec, NULL);
		for (int j = 0; j < i; j++)
			if (cpus[i] == cpus[j])
				die("accepted a CPU twice", spec, NULL);
	}
	hp_cpulist_format(cpus, n, text, sizeof text);
	m = hp_cpulist_parse(topo, text, again, MAXC, err, sizeof err);
	if (m != n || memcmp(cpus, again, (size_t)n * sizeof(int)))
		die("its formatted form does not parse back the same", spec, text);
	free(spec);
	return 0;
}
