/* system.h — `hotpath system show | tune --cpus LIST | reset`: the noise
 * settings of the host (governor, turbo, SMT, ASLR, THP, IRQ affinity,
 * perf_event_paranoid, NMI watchdog, isolation), the advised value of each,
 * and a tune that saves what it changes so that reset can put it back
 * (docs/system.md). Every /proc and /sys path is read and written under
 * $HP_SYSROOT, the prefix env.c reads through, so tests use a fake tree. */
#ifndef HP_SYSTEM_H
#define HP_SYSTEM_H

/* argv[0] is "system". Returns an HP_EXIT_* code: 0 ok, 1 a state file
 * could not be written or a restore failed, 2 bad usage/input or not root. */
int hp_system_main(int argc, char **argv);

#endif
