#!/usr/bin/env python3
"""slbscript's performance benchmark, against fakes of its own on loopback.

usage: run.py --build DIR [--quick] [--only 1,2,3,4] [--strict]
              [--calls N] [--deletes N] [--reps N] [--latency-ms MS]

Run through run.sh, which builds the helpers and installs the Node.js SDK
first. Figures, each taken in this one run:
  1. ns per V1 / V3 signature (bench_sign, median of batches)
  2. client CPU per API call, HTTP and HTTPS: slbscript vs @alicloud/pop-core
  3. start-up wall time: slbscript -e '' vs an empty C program linked with
     the same libraries vs node loading the SDK
  4. wall time and peak RSS to delete certificates with 20 ms of added
     latency, at concurrency 1 and 16: curl --parallel with pre-signed
     requests (the floor the fake allows) vs slbscript vs the Node SDK
Prints a table with PASS/MISS per target. Exit status: 0 when every figure
was measured, 1 when a measurement failed, 3 with --strict and a MISS.
"""

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, TESTS)
import with_fake  # noqa: E402  (starts and stops the fake for us)

REGION = 'cn-hangzhou'
KEY_ID, KEY_SECRET = 'testid', 'testsecret'
ACCOUNT_ID = '1231579085529123'
TOTAL_BUDGET_S = 1800          # the whole run stops starting work after this
RUN_LIMIT_S = 300              # any one measured process is killed after this
TIME = '/usr/bin/time'         # GNU time, for peak RSS (%M)

# The project's performance targets.
SIGN_V1_TARGET_NS = 2000
CPU_RATIO_TARGET = 1 / 5
STARTUP_RATIO_TARGET = 1.25
WALL_RATIO_TARGET = 1.10
RSS_MARGIN_KB = 4 * 1024


class MeasureError(Exception):
    pass


# ---------------------------------------------------------------------------
# Running and measuring one process.

class Clock:
    """The run's time budget: nothing new starts once it is spent."""

    def __init__(self, budget_s):
        self.deadline = time.monotonic() + budget_s

    def left(self):
        return self.deadline - time.monotonic()

    def limit(self):
        left = self.left()
        if left <= 0:
            raise MeasureError('time budget of %d s spent' % TOTAL_BUDGET_S)
        return min(RUN_LIMIT_S, left)


def measure(cmd, clock, env=None, cwd=None):
    """Run cmd to the end under /usr/bin/time; its wall time, CPU and peak
    RSS.

    The child of a Python process starts with Python's own peak RSS in its
    ru_maxrss, so the peak comes from GNU time's %M (its child is forked
    from a small C program). CPU is the wait4 rusage of time and its child:
    time's own share is a fraction of a millisecond, the same in every run.
    """
    with tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile('r') as peak:
        started = time.perf_counter()
        proc = subprocess.Popen([TIME, '-f', '%M', '-o', peak.name] + cmd,
                                env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        timer = threading.Timer(clock.limit(), proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            out.seek(0)
            detail = (err.read() or out.read())[-600:]
            raise MeasureError('%s exited with %d: %s' % (
                os.path.basename(cmd[0]), proc.returncode,
                detail.decode(errors='replace').strip()))
        out.seek(0)
        return types.SimpleNamespace(
            wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
            rss_kb=int(peak.read().split()[-1]), stdout=out.read().decode())


def median(values):
    return statistics.median(values)


# ---------------------------------------------------------------------------
# The fake.

class Fake:
    """One fake_slb.py on free ports, started through with_fake.py."""

    def __init__(self, tls=False, latency_ms=0, inventory=None):
        self.work_dir = tempfile.mkdtemp(prefix='slb-bench-fake-')
        options = types.SimpleNamespace(tls=tls, latency_ms=latency_ms,
                                        inventory=inventory, key=[])
        try:
            self.process, info = with_fake.start_fake(options,
                                                      self.work_dir)
        except with_fake.StartError as err:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            raise MeasureError('the fake did not start: %s' % err)
        self.url = info['url']                  # scheme://host:port/
        self.ca = info['ca']
        self.ctl_url = info['ctl']
        self.pid = info['pid']

    def close(self):
        with_fake.stop_fake(self.process)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ctl(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.ctl_url + path, data=data,
                                         method=method)
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())

    def answered(self, action):
        """How many calls of action got a 200; clears the log."""
        log = self.ctl('GET', '/log')
        self.ctl('DELETE', '/log')
        return sum(1 for entry in log
                   if entry['action'] == action and entry['status'] == 200)

    def cpu_s(self):
        """The fake's CPU time so far (user + system), from /proc."""
        with open('/proc/%d/stat' % self.pid) as stat:
            fields = stat.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf(
            'SC_CLK_TCK')


# ---------------------------------------------------------------------------
# The report.

class Report:
    def __init__(self):
        self.rows = []
        self.misses = 0
        self.errors = 0

    def section(self, title):
        self.rows.append(('section', title))
        print('\n== %s' % title, flush=True)

    def row(self, label, value, note=''):
        self.rows.append(('row', label, value, note))
        print('  %-46s %18s  %s' % (label, value, note), flush=True)

    def target(self, label, value, ok, goal):
        verdict = 'PASS' if ok else 'MISS'
        self.misses += not ok
        self.rows.append(('target', label, value, '%s (%s)' % (verdict,
                                                               goal)))
        print('  %-46s %18s  %s  target %s' % (label, value, verdict, goal),
              flush=True)

    def error(self, what, err):
        self.errors += 1
        self.rows.append(('error', what, str(err)))
        print('  ERROR %s: %s' % (what, err), flush=True)

    def table(self):
        print('\n' + '=' * 79)
        print('SUMMARY')
        for row in self.rows:
            if row[0] == 'section':
                print('-- %s' % row[1])
            elif row[0] == 'error':
                print('  %-46s ERROR %s' % (row[1], row[2][:200]))
            else:
                print('  %-46s %18s  %s' % row[1:])
        print('=' * 79)
        print('%d target(s) missed, %d measurement error(s)'
              % (self.misses, self.errors))


def fmt_us(seconds):
    return '%.1f us' % (seconds * 1e6)


def fmt_ms(seconds):
    return '%.2f ms' % (seconds * 1e3)


# ---------------------------------------------------------------------------
# The figures.

class Bench:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.slbscript = os.path.join(self.build, 'lua', 'slbscript')
        self.bench_sign = os.path.join(self.build, 'tests', 'bench',
                                       'bench_sign')
        self.bench_floor = os.path.join(self.build, 'tests', 'bench',
                                        'bench_floor')
        self.node = shutil.which('node')
        self.curl = shutil.which('curl')
        self.clock = Clock(TOTAL_BUDGET_S)
        self.report = Report()
        self.tmp = tempfile.mkdtemp(prefix='slb-bench-')
        quick = args.quick
        self.calls = args.calls or (500 if quick else 2000)
        self.deletes = args.deletes or (400 if quick else 2000)
        self.reps = args.reps or (2 if quick else 3)
        env = dict(os.environ)
        for name in list(env):
            if name.startswith(('ALIBABA_CLOUD_', 'ALICLOUD_')):
                del env[name]
        env.update({'ALIBABA_CLOUD_ACCESS_KEY_ID': KEY_ID,
                    'ALIBABA_CLOUD_ACCESS_KEY_SECRET': KEY_SECRET,
                    'HOME': self.tmp})          # no profile files
        self.env = env

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def slb_cmd(self, fake, *args, log='-q'):
        cmd = [self.slbscript, '--endpoint', fake.url.rstrip('/'),
               '--region', REGION]
        if fake.ca:
            cmd += ['--ca-file', fake.ca]
        if log:
            cmd.append(log)
        return cmd + [os.path.join(HERE, 'calls.lua')] + list(args)

    def node_cmd(self, fake, *args):
        return [self.node, os.path.join(HERE, 'pop_calls.js'),
                fake.url.rstrip('/'), REGION] + list(args)

    def node_env(self, fake):
        env = dict(self.env)
        if fake.ca:
            env['NODE_EXTRA_CA_CERTS'] = fake.ca
        return env

    # -- 1. signing

    def signing(self):
        r = self.report
        r.section('1. signing cost per request (DeleteServerCertificate, '
                  'median of batches, thread CPU time)')
        batches = '7' if self.args.quick else '15'
        out = measure([self.bench_sign, batches, '20000'], self.clock).stdout
        found = {}
        for line in out.splitlines():
            version, rest = line.split(' ', 1)
            fields = dict(part.split('=') for part in rest.split())
            found[version] = float(fields['median_ns'])
        r.target('V1 signature', '%.0f ns' % found['v1'],
                 found['v1'] < SIGN_V1_TARGET_NS,
                 '< %d ns' % SIGN_V1_TARGET_NS)
        r.row('V3 signature', '%.0f ns' % found['v3'], '(no target)')
        for version in ('v1', 'v3'):
            per_signature = self._sign_instructions(version)
            if per_signature is None:
                r.row('instructions (callgrind)', 'skipped',
                      'valgrind not installed')
                break
            r.row('%s instructions per signature (callgrind)'
                  % version.upper(), '%.1fk' % (per_signature / 1e3))

    def _sign_instructions(self, version):
        """Instructions per signature: the difference of two runs of
        different lengths, so start-up and warm-up cancel out."""
        counts = []
        for per_batch in (1000, 3000):
            count = self.instructions([self.bench_sign, '1',
                                       str(per_batch), version])
            if count is None:
                return None
            counts.append(count)
        # bench_sign also warms up with per_batch / 10 + 1 signatures.
        signatures = (3000 + 301) - (1000 + 101)
        return (counts[1] - counts[0]) / signatures

    # -- 2. CPU per call

    def cpu_per_call(self):
        r = self.report
        r.section('2. client CPU per call, %d DescribeServerCertificates '
                  'in sequence, keep-alive (median of %d runs, start-up '
                  'subtracted)' % (self.calls, self.reps))
        for tls in (False, True):
            scheme = 'HTTPS' if tls else 'HTTP'
            try:
                with Fake(tls=tls) as fake:
                    per_call = self._cpu_runs(fake)
            except (MeasureError, OSError) as err:
                r.error('CPU per call over %s' % scheme, err)
                continue
            slb, node = per_call['slbscript'], per_call['node']
            r.row('slbscript CPU per call, %s' % scheme, fmt_us(slb))
            r.row('Node SDK CPU per call, %s' % scheme, fmt_us(node))
            ratio = slb / node
            r.target('slbscript / Node SDK, %s' % scheme, '%.3fx' % ratio,
                     ratio <= CPU_RATIO_TARGET, '<= %.2fx' % CPU_RATIO_TARGET)

    def _cpu_runs(self, fake):
        n = str(self.calls)
        clients = {
            'slbscript': (lambda *a: self.slb_cmd(fake, *a), self.env),
            'node': (lambda *a: self.node_cmd(fake, *a),
                     self.node_env(fake)),
        }
        samples = {name: {'none': [], 'calls': []} for name in clients}
        for _ in range(self.reps):
            for name, (cmd, env) in clients.items():
                samples[name]['none'].append(
                    measure(cmd('none'), self.clock, env, HERE).cpu_s)
                samples[name]['calls'].append(
                    measure(cmd('describe', n), self.clock, env, HERE).cpu_s)
                got = fake.answered('DescribeServerCertificates')
                if got != self.calls:
                    raise MeasureError('%s: %d of %d calls answered 200'
                                       % (name, got, self.calls))
        per_call = {}
        for name, runs in samples.items():
            base, total = median(runs['none']), median(runs['calls'])
            per_call[name] = max(total - base, 0) / self.calls
            self.report.row('  %s start-up CPU (0 calls)' % name,
                            fmt_ms(base), 'runs: ' + ', '.join(
                                '%.0f' % (t * 1e3) for t in runs['none'])
                            + ' ms')
            self.report.row('  %s CPU for %d calls' % (name, self.calls),
                            fmt_ms(total), 'runs: ' + ', '.join(
                                '%.0f' % (t * 1e3) for t in runs['calls'])
                            + ' ms')
        return per_call

    # -- 3. start-up

    def startup(self):
        """Rounds of slbscript and the floor in turn (first one, then the
        other), so that a change in the machine's load hits both alike;
        the ratio is the median of the rounds' ratios. Node, far slower,
        is timed once on its own."""
        r = self.report
        rounds, runs = (4, 20) if self.args.quick else (10, 30)
        commands = {
            'slbscript': [self.slbscript, '-e', ''],
            'floor': [self.bench_floor],
        }
        node = {'node': [self.node, '-e', "require('@alicloud/pop-core')"]}
        hyperfine = shutil.which('hyperfine')
        r.section("3. start-up wall time, %d rounds of %d runs each "
                  "(%s)" % (rounds, runs, 'hyperfine -N' if hyperfine else
                            'own loop: hyperfine not installed'))
        times = {name: [] for name in commands}
        ratios = []
        for round_no in range(rounds):
            # Which goes first alternates, in case going first costs.
            order = list(commands)[::1 if round_no % 2 else -1]
            found = self._wall_times(hyperfine, {
                name: commands[name] for name in order}, runs)
            for name, walls in found.items():
                times[name] += walls
            ratios.append(median(found['slbscript']) /
                          median(found['floor']))
        medians = {name: median(walls) for name, walls in times.items()}
        medians['node'] = median(self._wall_times(hyperfine, node,
                                                  runs)['node'])
        r.row("slbscript -e ''", fmt_ms(medians['slbscript']))
        r.row('empty C program, same libraries (floor)',
              fmt_ms(medians['floor']))
        r.row("node -e \"require('@alicloud/pop-core')\"",
              fmt_ms(medians['node']))
        ratio = median(ratios)
        r.target('slbscript / floor', '%.2fx' % ratio,
                 ratio <= STARTUP_RATIO_TARGET,
                 '<= %.2fx; rounds %.2f-%.2f' % (
                     STARTUP_RATIO_TARGET, min(ratios), max(ratios)))
        r.row('Node SDK / slbscript', '%.1fx' % (medians['node'] /
                                                 medians['slbscript']))
        self._startup_instructions(commands)

    def _wall_times(self, hyperfine, commands, runs):
        if hyperfine:
            return self._hyperfine(hyperfine, commands, runs)
        return {name: [measure(cmd, self.clock, self.env, HERE).wall_s
                       for _ in range(runs)]
                for name, cmd in commands.items()}

    def _hyperfine(self, hyperfine, commands, runs):
        export = os.path.join(self.tmp, 'hyperfine.json')
        names = list(commands)
        cmd = [hyperfine, '-N', '--style', 'none', '--warmup', '3',
               '--runs', str(runs), '--export-json', export]
        for name in names:
            cmd += ['-n', name, shlex.join(commands[name])]
        measure(cmd, self.clock, self.env, HERE)
        with open(export) as results:
            found = json.load(results)['results']
        return {name: found[i]['times'] for i, name in enumerate(names)}

    def instructions(self, cmd):
        """Instructions cmd executes, by callgrind: a figure the machine's
        load cannot skew. None without valgrind."""
        valgrind = shutil.which('valgrind')
        if not valgrind:
            return None
        done = subprocess.run(
            [valgrind, '--tool=callgrind', '--callgrind-out-file=' +
             os.devnull] + cmd, capture_output=True, env=self.env,
            cwd=HERE, timeout=self.clock.limit())
        refs = [line for line in done.stderr.decode().splitlines()
                if 'refs:' in line]
        if done.returncode != 0 or not refs:
            raise MeasureError('callgrind of %s failed' % cmd[0])
        return int(refs[-1].split()[-1].replace(',', ''))

    def _startup_instructions(self, commands):
        """A cross-check of the wall-time ratio."""
        slb = self.instructions(commands['slbscript'])
        if slb is None:
            self.report.row('instructions (callgrind)', 'skipped',
                            'valgrind not installed')
            return
        floor = self.instructions(commands['floor'])
        self.report.row('instructions, slbscript / floor (callgrind)',
                        '%.3fx' % (slb / floor), '%.2fM / %.2fM' % (
                            slb / 1e6, floor / 1e6))

    # -- 4. deletes with latency

    def deletes_with_latency(self):
        r = self.report
        n = self.deletes
        ids = ['%s_bench_%09d' % (ACCOUNT_ID, i) for i in range(n)]
        ids_path = os.path.join(self.tmp, 'ids.txt')
        with open(ids_path, 'w') as out:
            out.write('\n'.join(ids) + '\n')
        inventory = {'regions': {REGION: {'certificates': [
            {'ServerCertificateId': cert_id, 'expires_in_days': -30}
            for cert_id in ids]}}}
        latency = self.args.latency_ms
        with Fake(latency_ms=latency) as fake:
            for concurrency in (16, 1):
                reps = self.reps if concurrency > 1 else 1
                r.section('4. %d deletes, %d ms latency, concurrency %d '
                          '(median of %d run%s)' % (
                              n, latency, concurrency, reps,
                              's' if reps > 1 else ''))
                try:
                    self._delete_runs(fake, inventory, ids_path,
                                      concurrency, reps)
                except (MeasureError, OSError) as err:
                    r.error('deletes at concurrency %d' % concurrency, err)

    def _delete_runs(self, fake, inventory, ids_path, concurrency, reps):
        r = self.report
        n = self.deletes
        c = str(concurrency)
        config = os.path.join(self.tmp, 'curl.cfg')
        clients = {
            'curl': ([self.curl, '--silent', '--no-progress-meter',
                      '--parallel', '--parallel-max', c, '--config',
                      config], self.env),
            'slbscript': (self.slb_cmd(fake, 'delete', ids_path, c,
                                       log=None), self.env),
            'node': (self.node_cmd(fake, 'delete', ids_path, c),
                     self.node_env(fake)),
        }
        samples = {name: [] for name in clients}
        fake_cpu = []
        for _ in range(reps):
            for name, (cmd, env) in clients.items():
                fake.ctl('POST', '/inventory', inventory)
                fake.ctl('DELETE', '/log')
                if name == 'curl':
                    measure([self.slbscript, os.path.join(HERE,
                             'presign.lua'), fake.url, REGION, ids_path,
                             config], self.clock, self.env, HERE)
                cpu_before = fake.cpu_s()
                samples[name].append(measure(cmd, self.clock, env, HERE))
                if name == 'curl':
                    fake_cpu.append(fake.cpu_s() - cpu_before)
                got = fake.answered('DeleteServerCertificate')
                left = fake.ctl('GET', '/inventory')['regions'][REGION]
                if got != n or left['certificates']:
                    raise MeasureError('%s: %d of %d deletes answered 200, '
                                       '%d certificates left' % (
                                           name, got, n,
                                           len(left['certificates'])))
        wall = {name: median(s.wall_s for s in runs)
                for name, runs in samples.items()}
        rss = {name: median(s.rss_kb for s in runs)
               for name, runs in samples.items()}
        ideal = n / concurrency * self.args.latency_ms / 1000
        for name in clients:
            r.row('%s wall' % name, '%.3f s' % wall[name],
                  'runs: %s s; peak RSS %.1f MB' % (
                      ', '.join('%.2f' % s.wall_s for s in samples[name]),
                      rss[name] / 1024))
        r.row('ideal (n / concurrency x latency)', '%.3f s' % ideal,
              'curl floor is %.2fx ideal; fake CPU %.0f us per request'
              % (wall['curl'] / ideal, median(fake_cpu) / n * 1e6))
        ratio = wall['slbscript'] / wall['curl']
        label = 'slbscript / curl floor, wall'
        if concurrency > 1:
            r.target(label, '%.3fx' % ratio, ratio <= WALL_RATIO_TARGET,
                     '<= %.2fx' % WALL_RATIO_TARGET)
            node_ratio = wall['slbscript'] / wall['node']
            r.target('slbscript / Node SDK, wall', '%.3fx' % node_ratio,
                     node_ratio < 1, '< 1x')
            extra = (rss['slbscript'] - rss['curl']) / 1024
            r.target('slbscript peak RSS - curl peak RSS', '%+.1f MB'
                     % extra, extra * 1024 <= RSS_MARGIN_KB,
                     '<= +%d MB' % (RSS_MARGIN_KB // 1024))
            r.row('Node SDK peak RSS - curl peak RSS', '%+.1f MB'
                  % ((rss['node'] - rss['curl']) / 1024))
        else:
            r.row(label, '%.3fx' % ratio, '(no target at concurrency 1)')
            r.row('slbscript / Node SDK, wall', '%.3fx'
                  % (wall['slbscript'] / wall['node']))
            extra = (rss['slbscript'] - rss['curl']) / 1024
            r.target('slbscript peak RSS - curl peak RSS', '%+.1f MB'
                     % extra, extra * 1024 <= RSS_MARGIN_KB,
                     '<= +%d MB' % (RSS_MARGIN_KB // 1024))


# ---------------------------------------------------------------------------

def versions(bench):
    def first_line(cmd):
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=30,
                                  cwd=HERE)
            return (done.stdout or done.stderr).decode().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return '?'
    pop = os.path.join(HERE, 'node_modules', '@alicloud', 'pop-core',
                       'package.json')
    try:
        with open(pop) as package:
            pop_version = json.load(package)['version']
    except (OSError, ValueError):
        pop_version = '?'
    print('slbscript: %s' % first_line([bench.slbscript, '--version']))
    print('curl:      %s' % first_line([bench.curl, '--version']))
    print('node:      %s, @alicloud/pop-core %s'
          % (first_line([bench.node, '--version']), pop_version))
    print('build:     %s' % bench.build)


def load_note():
    one, five, _ = os.getloadavg()
    cores = os.cpu_count() or 1
    note = 'load average %.2f (1 min), %.2f (5 min) on %d cores' % (
        one, five, cores)
    if one > cores / 2:
        note += ('; WARNING: other work is running, wall-clock figures '
                 '(3, 4) will be noisy')
    return note


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--build', required=True,
                        help='build directory with slbscript and the '
                        'bench helpers')
    parser.add_argument('--quick', action='store_true',
                        help='fewer calls and runs, for a smoke test')
    parser.add_argument('--only', default='1,2,3,4',
                        help='comma-separated figures to take')
    parser.add_argument('--calls', type=int,
                        help='calls per run in figure 2 (2000)')
    parser.add_argument('--deletes', type=int,
                        help='certificates deleted per run in figure 4 '
                        '(2000)')
    parser.add_argument('--reps', type=int, help='runs per figure (3)')
    parser.add_argument('--latency-ms', type=int, default=20)
    parser.add_argument('--strict', action='store_true',
                        help='exit 3 when a target is missed')
    args = parser.parse_args(argv)
    if not ((args.calls or 1) in range(1, 100001) and
            (args.deletes or 1) in range(1, 20001) and
            (args.reps or 1) in range(1, 10) and
            0 <= args.latency_ms <= 1000):
        parser.error('--calls 1-100000, --deletes 1-20000, --reps 1-9, '
                     '--latency-ms 0-1000')
    return args


def main(argv):
    args = parse_args(argv)
    bench = Bench(args)
    missing = [path for path in (bench.slbscript, bench.bench_sign,
                                 bench.bench_floor)
               if not os.path.exists(path)]
    if not os.access(TIME, os.X_OK):
        missing.append(TIME + ' (apt-get install time)')
    if missing or not bench.node or not bench.curl:
        print('run.py: missing %s' % ', '.join(
            missing + [name for name, path in (('node', bench.node),
                                               ('curl', bench.curl))
                       if not path]), file=sys.stderr)
        return 1
    figures = [
        ('1', bench.signing), ('2', bench.cpu_per_call),
        ('3', bench.startup), ('4', bench.deletes_with_latency)]
    started = time.monotonic()
    versions(bench)
    print('start:     %s' % load_note())
    try:
        for number, take in figures:
            if number not in args.only.split(','):
                continue
            try:
                take()
            except (MeasureError, OSError, KeyError, ValueError) as err:
                bench.report.error('figure %s' % number, err)
    finally:
        bench.close()
    print('\nend:       %s; took %.0f s' % (load_note(),
                                            time.monotonic() - started))
    bench.report.table()
    if bench.report.errors:
        return 1
    return 3 if args.strict and bench.report.misses else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
