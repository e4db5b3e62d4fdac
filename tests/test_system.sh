#!/bin/bash
# test_system.sh — hotpath system show | tune | reset against a fake
# sysfs/procfs tree (HP_SYSROOT): show's output on the fixture, tune then
# reset returns every file to its original bytes, a missing or read-only
# file is reported and skipped, a second tune is refused, bad input exits 2,
# and tune refuses a non-root user. Never touches the real machine.
. "$(dirname "$0")/t_lib.sh"

R=$T_TMP/root
export HP_SYSROOT=$R HP_STATE=$T_TMP/state/system-state.json HP_SYSTEM_NONROOT_OK=1
# refuse to go on unless every path the commands touch is in our temp folder
case "$HP_SYSROOT" in
/tmp/hotpath-test.*/root) ;;
*) echo "refusing: HP_SYSROOT '$HP_SYSROOT' is not a temporary folder" >&2; exit 99 ;;
esac

mk() { mkdir -p "$(dirname "$R$1")"; printf '%s' "$2" >"$R$1"; }
C=/sys/devices/system/cpu
mk $C/online $'0-1\n'
mk $C/cpu0/cpufreq/scaling_governor $'powersave\n'
mk $C/cpu1/cpufreq/scaling_governor $'schedutil\n'
mk $C/intel_pstate/no_turbo $'0\n'
# no cpufreq/boost: a missing file
mk $C/smt/control $'on\n'
mk /proc/sys/kernel/randomize_va_space $'2\n'
mk /proc/sys/kernel/perf_event_paranoid $'4\n'
mk /proc/sys/kernel/nmi_watchdog $'1\n'
chmod 444 "$R/proc/sys/kernel/nmi_watchdog"	# read-only, as a sysfs attribute without store
mk /sys/kernel/mm/transparent_hugepage/enabled $'always [madvise] never\n'
mk /sys/kernel/mm/transparent_hugepage/defrag $'[always] defer defer+madvise madvise never\n'
mk /proc/irq/0/smp_affinity_list $'0\n'
mk /proc/irq/9/smp_affinity_list $'0-1\n'
mk /proc/irq/24/smp_affinity_list $'1\n'
mk /proc/irq/25/smp_affinity_list $'0\n'
mk /proc/cmdline $'BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro isolcpus=domain,managed_irq,0 nohz_full=1 quiet\n'

sums() { (cd "$R" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
before=$(sums)

# --- show on the fixture
out=$("$HP" system show --cpus 1 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] || t_fail "show exited $rc: $out"
chk() { if grep -qE -- "$1" <<<"$out"; then t_ok "$2"; else t_fail "$2: /$1/ not in: $out"; fi; }
chk '^governor cpu1 +schedutil +performance +tune changes it' "show: governor of the measured CPU"
grep -q '^governor cpu0' <<<"$out" && t_fail "show: lists CPU 0's governor, which is not measured" || t_ok "show: only measured CPUs' governors"
chk '^turbo \(intel_pstate no_turbo\) +0 +1 ' "show: no_turbo"
chk '^turbo \(cpufreq boost\) +- .*missing' "show: missing boost file"
chk '^SMT +on +off +not tuned' "show: SMT advised off, not tuned"
chk '^ASLR +2 +0 ' "show: ASLR"
chk '^THP enabled +madvise +never ' "show: THP enabled (selected word)"
chk '^THP defrag +always +never ' "show: THP defrag"
chk '^perf_event_paranoid +4 +1 ' "show: perf_event_paranoid"
chk '^NMI watchdog +1 +0 +read-only' "show: read-only NMI watchdog"
chk '^IRQ 9 affinity +0-1 +0 +tune' "show: IRQ 9 moves off CPU 1"
chk '^IRQ 24 affinity +1 +0 +tune' "show: IRQ 24 moves off CPU 1"
chk '^IRQ 25 affinity +0 +\(as is\) +ok' "show: IRQ 25 already off CPU 1"
chk '^nohz_full +1 +\(as is\) +ok' "show: nohz_full already covers CPU 1"
chk '^isolcpus +domain,managed_irq,0 +1 +needs a reboot' "show: isolcpus with flags, not covering CPU 1"
chk 'add to the kernel command line: isolcpus=1 rcu_nocbs=1$' "show: the command line to add"

# --- bad input
t_expect 2 "CPU 99 does not exist" -- system show --cpus 99
t_expect 2 "empty CPU list" -- system tune --cpus ''
t_expect 2 "ascending" -- system tune --cpus 1-0
t_expect 2 "tune needs --cpus" -- system tune
t_expect 2 "unknown subcommand.*'frob'" -- system frob
t_expect 2 "no subcommand" -- system
t_expect 2 "unexpected argument '--force'" -- system show --force
t_expect 2 "reset takes no options" -- system reset --cpus 1
t_expect 2 "no state file" -- system reset
[ "$(sums)" = "$before" ] && t_ok "bad input changed nothing" || t_fail "bad input changed the tree"

# --- not root: refused with exit 2 (the override needs HP_SYSTEM_NONROOT_OK and a sysroot)
# (as root, only ever through setpriv as nobody, who cannot write the real
# /proc and /sys whatever the code does: no test tunes this machine)
if [ "$(id -u)" != 0 ]; then
	out=$(env -u HP_SYSTEM_NONROOT_OK "$HP" system tune --cpus 1 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] && grep -q "needs root" <<<"$out" && t_ok "non-root tune refused" ||
		t_fail "non-root tune: rc $rc: $out"
elif command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env -u HP_SYSTEM_NONROOT_OK \
		"$HP" system tune --cpus 1 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] && grep -q "needs root" <<<"$out" && t_ok "non-root tune refused (setpriv nobody)" ||
		t_fail "non-root tune: rc $rc: $out"
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HP_SYSROOT= \
		"$HP" system reset 2>&1) && rc=0 || rc=$?
	[ "$rc" = 2 ] && grep -q "needs root" <<<"$out" && t_ok "override ignored without a sysroot" ||
		t_fail "override without sysroot: rc $rc: $out"
fi

# --- tune
out=$("$HP" system tune --cpus 1 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] || t_fail "tune exited $rc: $out"
chk "changed $R$C/cpu1/cpufreq/scaling_governor: schedutil -> performance" "tune: governor"
chk "changed $R/proc/irq/9/smp_affinity_list: 0-1 -> 0" "tune: IRQ 9"
chk "skipped $R/proc/sys/kernel/nmi_watchdog: read-only" "tune: read-only file reported and skipped"
chk "skipped $R$C/cpufreq/boost: missing" "tune: missing file reported and skipped"
chk "not changed $R$C/smt/control" "tune: SMT left alone"
chk "add to the kernel command line: isolcpus=1 rcu_nocbs=1" "tune: the command line to add"
want() { if [ "$(cat "$R$1")" = "$2" ]; then t_ok "after tune $1 = $2"; else t_fail "after tune $1 = '$(cat "$R$1")', want '$2'"; fi; }
want $C/cpu1/cpufreq/scaling_governor performance
want $C/cpu0/cpufreq/scaling_governor powersave
want $C/intel_pstate/no_turbo 1
want /proc/sys/kernel/randomize_va_space 0
want /proc/sys/kernel/perf_event_paranoid 1
want /proc/sys/kernel/nmi_watchdog 1
want /sys/kernel/mm/transparent_hugepage/enabled 'always madvise [never]'
want /sys/kernel/mm/transparent_hugepage/defrag 'always defer defer+madvise madvise [never]'
want /proc/irq/9/smp_affinity_list 0
want /proc/irq/24/smp_affinity_list 0
want /proc/irq/25/smp_affinity_list 0
want $C/smt/control on
[ -e "$R$C/cpufreq/boost" ] && t_fail "tune created the missing boost file" || t_ok "missing file not created"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["hotpath_system_state"]==1 and len(d["saved"])==8, d' "$HP_STATE"; then
	t_ok "state file: JSON with the 8 saved settings"
else
	t_fail "state file $HP_STATE: $(cat "$HP_STATE" 2>&1)"
fi
[ -e "$HP_STATE.tmp" ] && t_fail "state temp file left behind" || t_ok "no state temp file left"
t_expect 2 "already tuned" -- system tune --cpus 1
out=$(HP_SYSROOT=$T_TMP/other "$HP" system reset 2>&1) && rc=0 || rc=$?
[ "$rc" = 2 ] && grep -q "written for sysroot" <<<"$out" && t_ok "reset under another sysroot refused" ||
	t_fail "reset under another sysroot: rc $rc: $out"

# --- reset
out=$("$HP" system reset 2>&1) && rc=0 || rc=$?
[ "$rc" = 0 ] || t_fail "reset exited $rc: $out"
chk "restored $R/sys/kernel/mm/transparent_hugepage/enabled: always \[madvise\] never" "reset: THP"
chk "8 settings restored" "reset: count"
after=$(sums)
if [ "$after" = "$before" ]; then t_ok "tune then reset: every file has its original bytes"
else t_fail "tree differs after reset: $(diff <(echo "$before") <(echo "$after"))"; fi
[ -e "$HP_STATE" ] && t_fail "state file kept after a clean reset" || t_ok "state file removed"
t_expect 2 "no state file" -- system reset

# --- a restore that fails keeps the state file and exits 1
"$HP" system tune --cpus 1 >/dev/null 2>&1
rm -f "$R/proc/sys/kernel/randomize_va_space"; mkdir "$R/proc/sys/kernel/randomize_va_space"
t_expect 1 "failed $R/proc/sys/kernel/randomize_va_space" -- system reset
[ -e "$HP_STATE" ] && t_ok "state file kept after a failed restore" || t_fail "state file removed after a failed restore"
t_done
