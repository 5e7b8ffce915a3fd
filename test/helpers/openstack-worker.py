"""Runs openstackclient's own main() for one command line after another, in one interpreter.

The `openstack` command is this same main() behind a fresh Python process, whose start (the
interpreter, then the import of every client plugin) costs about a second and a half of CPU per
command; the tests run over a thousand of them. Here that start is paid once: each request line
is a JSON {"argv": [...], "env": {...}}, run with exactly that environment, no stdin, and its
stdout, stderr and exit status captured; the answer is one JSON line on the real stdout.
Whatever one command leaves behind (log handlers, warning filters, and the API clients that
osc_lib caches on the ClientManager class, with the credentials of the command that made them)
is reset before the next.
"""

import io
import json
import logging
import os
import sys
import traceback
import warnings

from osc_lib.clientmanager import ClientCache
from openstackclient import shell
from openstackclient.common.clientmanager import ClientManager

protocol_out = sys.stdout
# argparse names the program after argv[0], in usage lines and --version.
sys.argv[0] = 'openstack'
pristine_filters = list(warnings.filters)
root = logging.getLogger('')


def capture():
    return io.TextIOWrapper(io.BytesIO(), encoding='utf-8', errors='replace', write_through=True)


def text(stream):
    return stream.buffer.getvalue().decode('utf-8', errors='replace')


def forget_clients():
    for cls in ClientManager.__mro__:
        for attr in vars(cls).values():
            if isinstance(attr, ClientCache):
                attr._handle = None


def run(argv, env):
    forget_clients()
    os.environ.clear()
    os.environ.update(env)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    # Forgets which warnings were shown already, as a new process would, and its filters.
    warnings.resetwarnings()
    warnings.filters[:] = pristine_filters
    out, err = capture(), capture()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = open(os.devnull), out, err
    try:
        code = shell.main(argv)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc(file=err)
        code = 1
    finally:
        sys.stdin.close()
        sys.stdin, sys.stdout, sys.stderr = saved
    return {'code': code or 0, 'stdout': text(out), 'stderr': text(err)}


for line in sys.stdin:
    request = json.loads(line)
    protocol_out.write(json.dumps(run(request['argv'], request['env'])) + '\n')
    protocol_out.flush()
