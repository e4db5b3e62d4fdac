#!/usr/bin/env python3
"""sched_2cpu_measure.py SCENARIO.json [CPUS] -- the kernel's side of a multi-CPU scenario.

Runs the rt-app scenario with every task allowed on CPUS (default "0,1"),
in an autogroup of its own at nice -20 when root (so that other work on a
shared machine takes little of those CPUs), and prints per thread its CPU
share (sum_exec_runtime / window) and its migrations (se.nr_migrations)
over the window [1 s, duration - 1 s], read from /proc/PID/task/TID/sched,
beside `hotpath sim SCENARIO --cpus N`'s prediction (share and migrations
columns; the simulator counts migrations over the whole run). The load
average is printed with it: shares are comparable only on an idle machine.
"""
import glob, json, os, subprocess, sys, tempfile, time


def snap(pid):
    out = {}
    for d in glob.glob('/proc/%d/task/*' % pid):
        try:
            name = open(d + '/comm').read().strip()
            kv = {}
            for line in open(d + '/sched'):
                if ':' in line:
                    k, v = line.split(':', 1)
                    kv[k.strip()] = v.strip()
            out[name + '/' + d.rsplit('/', 1)[1]] = (float(kv['se.sum_exec_runtime']), int(kv['se.nr_migrations']))
        except (OSError, KeyError, ValueError):
            pass
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cpus = [int(c) for c in (sys.argv[2] if len(sys.argv) > 2 else '0,1').split(',')]
    scn = json.load(open(sys.argv[1]))
    dur = scn['global']['duration']
    if dur < 4:
        sys.exit('the scenario needs a duration of at least 4 s')
    tmp = tempfile.mkdtemp(prefix='hp-2cpu-')
    scn['global'].update({'calibration': 100, 'logdir': tmp, 'default_policy': 'SCHED_OTHER'})
    for t in scn['tasks'].values():
        t['cpus'] = cpus
    path = os.path.join(tmp, 'scenario.json')
    with open(path, 'w') as f:
        f.write(json.dumps(scn))

    def own_group():
        os.setsid()
        if os.geteuid() == 0:
            open('/proc/self/autogroup', 'w').write('-20')

    # rt-app's autogroup at nice -20 on every CPU starves a nice-0 sampler
    # past rt-app's end (it then saw no threads): sample as SCHED_FIFO when
    # root; SCHED_RESET_ON_FORK makes rt-app start as SCHED_OTHER
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(1))
    except (OSError, AttributeError):
        pass
    log = open(os.path.join(tmp, 'rt-app.out'), 'w')
    p = subprocess.Popen(['rt-app', 'scenario.json'], cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                         preexec_fn=own_group)
    time.sleep(1.0)
    a, t0 = snap(p.pid), time.time()
    time.sleep(dur - 2.0)
    b, t1 = snap(p.pid), time.time()
    p.wait()
    for n in sorted(b):
        if n in a and not n.startswith('rt-app/'):
            print('%s share=%.4f migrations=%d' % (n, (b[n][0] - a[n][0]) / 1000 / (t1 - t0), b[n][1] - a[n][1]))
    print('window %.2f s, load average %s' % (t1 - t0, open('/proc/loadavg').read().split()[0]))


main()
