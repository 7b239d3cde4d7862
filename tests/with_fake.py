#!/usr/bin/env python3
"""Run a command against a fresh fake SLB endpoint (used by ctest).

usage: with_fake.py [--tls] [--inventory FILE] [--latency-ms N]
                    [--key ID:SECRET[:TOKEN]]... -- CMD ...

Starts fake_slb.py on free ports, runs CMD with SLB_TEST_* variables
pointing at it, stops the fake and exits with CMD's status (2 if the fake
does not start).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, 'fake_slb.py')
START_TIMEOUT_S = 10


class StartError(Exception):
    pass


class Terminated(Exception):
    pass


def split_argv(argv):
    if '--' not in argv:
        sys.exit('usage: with_fake.py [--tls] [--inventory FILE] '
                 '[--latency-ms N] [--key ID:SECRET[:TOKEN]]... '
                 '-- CMD [ARGS...]')
    at = argv.index('--')
    parser = argparse.ArgumentParser(prog='with_fake.py')
    parser.add_argument('--tls', action='store_true')
    parser.add_argument('--inventory')
    parser.add_argument('--latency-ms', type=float, default=0)
    # Extra keys the fake accepts besides testid:testsecret, for STS tests.
    parser.add_argument('--key', action='append', default=[])
    options = parser.parse_args(argv[:at])
    command = argv[at + 1:]
    if not command:
        parser.error('no command after --')
    return options, command


def start_fake(options, work_dir):
    """Start the fake and return (process, ready-file contents)."""
    ready_path = os.path.join(work_dir, 'ready.json')
    fake_cmd = [sys.executable, FAKE, '--ready-file', ready_path,
                '--parent-pid', str(os.getpid())]
    if options.tls:
        fake_cmd.append('--tls')
    if options.inventory:
        fake_cmd += ['--inventory', os.path.abspath(options.inventory)]
    if options.latency_ms:
        fake_cmd += ['--latency-ms', str(options.latency_ms)]
    if options.key:
        fake_cmd += ['--key', 'testid:testsecret']
        for key in options.key:
            fake_cmd += ['--key', key]
    with open(os.path.join(work_dir, 'fake.stderr'), 'w+b') as errors:
        process = subprocess.Popen(fake_cmd, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=errors)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not os.path.exists(ready_path):
            status = process.poll()
            timed_out = status is None and time.monotonic() > deadline
            if status is not None or timed_out:
                if timed_out:
                    stop_fake(process)
                errors.seek(0)
                why = errors.read().decode(errors='replace').strip()
                what = ('not ready after %d s' % START_TIMEOUT_S
                        if timed_out else 'exited with status %d' % status)
                raise StartError(what + ('; ' + why if why else ''))
            time.sleep(0.02)
    with open(ready_path, encoding='utf-8') as ready:
        return process, json.load(ready)


def stop_fake(process):
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_environment(info):
    env = dict(os.environ)
    env.update({
        'SLB_TEST_ENDPOINT': info['endpoint'],
        'SLB_TEST_URL': info['url'],
        'SLB_TEST_SCHEME': info['scheme'],
        'SLB_TEST_CA': info['ca'] or '',
        'SLB_TEST_CTL': info['ctl'],
        'SLB_TEST_KEY_ID': 'testid',
        'SLB_TEST_KEY_SECRET': 'testsecret',
    })
    return env


def on_terminate(signum, frame):
    raise Terminated(signum)


def main(argv):
    options, command = split_argv(argv)
    # ctest stops a test that times out with SIGTERM; the fake must not
    # outlive it.
    signal.signal(signal.SIGTERM, on_terminate)
    work_dir = tempfile.mkdtemp(prefix='with-fake-')
    process = None
    try:
        try:
            process, info = start_fake(options, work_dir)
        except (StartError, OSError) as err:
            print('with_fake.py: the fake SLB did not start: %s' % err,
                  file=sys.stderr)
            return 2
        try:
            status = subprocess.call(command, env=test_environment(info))
        except OSError as err:
            print('with_fake.py: cannot run %s: %s' % (command[0], err),
                  file=sys.stderr)
            return 127
        return 128 - status if status < 0 else status
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Terminated as err:
        return 128 + err.args[0]
    finally:
        if process is not None and process.poll() is None:
            stop_fake(process)
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
