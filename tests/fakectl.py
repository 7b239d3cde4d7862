#!/usr/bin/env python3
"""Control a running fake SLB endpoint through its control port.

usage: fakectl.py [--ctl URL] COMMAND
  faults JSON          queue faults (a JSON array, or one object)
  clear-faults         drop all queued faults
  log [--lines]        print the request log
  clear-log            empty the request log
  inventory            print the current inventory
  inventory-set FILE   replace the inventory with FILE's
  count ACTION [STATUS]  print how many logged requests match

URL defaults to $SLB_TEST_CTL (set by with_fake.py).
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def call(ctl, method, path, body=None):
    data = None if body is None else body.encode('utf-8')
    request = urllib.request.Request(ctl.rstrip('/') + path, data=data,
                                     method=method)
    if data is not None:
        request.add_header('Content-Type', 'application/json')
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def count(ctl, action, status):
    entries = json.loads(call(ctl, 'GET', '/log'))
    return sum(1 for entry in entries if entry['action'] == action
               and (status is None or entry['status'] == status))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='fakectl.py', description=__doc__.splitlines()[0])
    parser.add_argument('--ctl', default=os.environ.get('SLB_TEST_CTL'),
                        help='control URL (default $SLB_TEST_CTL)')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('faults').add_argument('json')
    commands.add_parser('clear-faults')
    commands.add_parser('log').add_argument('--lines', action='store_true')
    commands.add_parser('clear-log')
    commands.add_parser('inventory')
    commands.add_parser('inventory-set').add_argument('file')
    counting = commands.add_parser('count')
    counting.add_argument('action')
    counting.add_argument('status', nargs='?', type=int)
    args = parser.parse_args(argv)
    if not args.ctl:
        parser.error('no control URL: give --ctl or set SLB_TEST_CTL')
    return args


def run(args):
    if args.command == 'faults':
        return call(args.ctl, 'POST', '/faults', args.json)
    if args.command == 'clear-faults':
        return call(args.ctl, 'DELETE', '/faults')
    if args.command == 'log':
        return call(args.ctl, 'GET',
                    '/log?format=lines' if args.lines else '/log')
    if args.command == 'clear-log':
        return call(args.ctl, 'DELETE', '/log')
    if args.command == 'inventory':
        return call(args.ctl, 'GET', '/inventory')
    if args.command == 'inventory-set':
        with open(args.file, encoding='utf-8') as source:
            return call(args.ctl, 'POST', '/inventory', source.read())
    return b'%d\n' % count(args.ctl, args.action, args.status)


def main(argv):
    args = parse_args(argv)
    try:
        output = run(args)
    except urllib.error.HTTPError as err:
        detail = err.read().decode('utf-8', 'replace').strip()
        print('fakectl.py: %s: %s' % (err, detail), file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError, ValueError) as err:
        print('fakectl.py: %s' % err, file=sys.stderr)
        return 1
    # Bytes as received: names in the log may not be UTF-8.
    sys.stdout.buffer.write(output if output.endswith(b'\n')
                            else output + b'\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
