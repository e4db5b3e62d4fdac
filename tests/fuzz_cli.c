/* fuzz_cli.c — libFuzzer harness for the option parser of run, list and env (harness/cli.c: parse_opts).
 *
 * cli.c is included whole, its main renamed, so that the static parse_opts
 * is fuzzed exactly as the program has it, without running any command.
 * runner.c is linked for the profiles and metrics, and hp_suites is empty
 * below; nothing else is linked (tests/test_fuzz.sh leaves it unresolved),
 * so a path out of the parser into the rest of the program crashes here.
 *
 * An input is the arguments after `hotpath`, separated by NUL bytes; the
 * first picks the command (run, list, env; anything else is taken as run).
 * Besides what ASan and UBSan catch: the parser returns -1 (go on), 0
 * (--help) or 2 (bad usage, with a message on stderr), and what it accepts
 * holds: reps 1..1000, a known profile, an --out without control bytes, a
 * non-empty --suite. Built and run by tests/test_fuzz.sh; seeds in
 * tests/corpus/cli/.
 */
#define main hp_cli_main_fuzzed
#include "../harness/cli.c"
#undef main

/* The suites (harness/registry.c links every suite): none here, so --help
 * lists no suite commands. */
const hp_suite_t *const hp_suites[] = { NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* --help prints the usage (the messages on stderr stay: the sanitizers
	 * and libFuzzer report there too) */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

static void die(const char *why)
{
	fprintf(stderr, "fuzz_cli: %s\n", why);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cmds[] = { "run", "list", "env" };
	char *buf = malloc(size + 1), *argv[66];
	int argc = 0;
	const char *cmd;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	cmd = cmds[size ? (unsigned char)buf[0] % 3 : 0];
	argv[argc++] = (char *)cmd;
	for (size_t i = size ? 1 : 0; i <= size && argc < 65; ) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	if (size == 0)
		argc = 1;
	argv[argc] = NULL;

	/* getopt keeps its place between calls: start it afresh (optind 0) */
	static char *none[] = { "x", NULL };
	optind = 0;
	(void)getopt_long(1, none, ":h", run_opts, NULL);

	cli_t c;
	memset(&c, 0, sizeof c);
	c.run.profile = hp_profile_find("quick");
	c.run.seed = 1;
	c.run.metric = HP_METRIC_TIME;
	c.run.out = "results";
	int rc = parse_opts(cmd, argc, argv, &c);

	if (rc != -1 && rc != HP_EXIT_OK && rc != HP_EXIT_USAGE)
		die("parse_opts returned an unexpected code");
	if (rc == -1) {
		if (c.run.reps < 0 || c.run.reps > 1000)
			die("accepted --reps out of 1..1000");
		if (!c.run.profile)
			die("no profile after a successful parse");
		if (c.run.suites && !*c.run.suites)
			die("accepted an empty --suite");
		for (const char *q = c.run.out; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				die("accepted an --out with a control byte");
		if (!*c.run.out)
			die("accepted an empty --out");
	}
	free(buf);
	return 0;
}
