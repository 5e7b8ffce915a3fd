"""Runs openstackclient's own main() for one command line after another, in one interpreter.

The `openstack` command is this same main() behind a fresh Python process, whose start (the
interpreter, then the import of every client plugin) costs about a second and a half of CPU per
command; the tests run over a thousand of them. Here that start is paid once: each request line
is a JSON {"argv": [...], "env": {...}}, run with exactly that environment, no stdin, and its
stdout, stderr and exit status captured; the answer is one JSON line on the real stdout.
Whatever one command leaves behind is reset before the next: log handlers, warning filters,
the API clients that osc_lib caches on the ClientManager class (with the credentials of the
command that made them), and the plain values at the top of each client plugin's module (the
volume plugin deletes entries of its API_VERSIONS and keeps the negotiated microversion there).
"""

import copy
import io
import json
import logging
import os
import sys
import traceback
import warnings

from osc_lib.clientmanager import ClientCache
from openstackclient import shell
from openstackclient.common.clientmanager import PLUGIN_MODULES, ClientManager

protocol_out = sys.stdout
# argparse names the program after argv[0], in usage lines and --version.
sys.argv[0] = 'openstack'
pristine_filters = list(warnings.filters)
root = logging.getLogger('')
PLAIN = (dict, list, set, str, int, float, bool, type(None))
plugin_globals = [
    (module, {k: copy.copy(v) for k, v in vars(module).items() if isinstance(v, PLAIN) and not k.startswith('__')})
    for module in PLUGIN_MODULES
]


def capture():
    return io.TextIOWrapper(io.BytesIO(), encoding='utf-8', errors='replace', write_through=True)


def text(stream):
    return stream.buffer.getvalue().decode('utf-8', errors='replace')


def forget_clients():
    for cls in ClientManager.__mro__:
        for attr in vars(cls).values():
            if isinstance(attr, ClientCache):
                attr._handle = None
    for module, values in plugin_globals:
        for k, v in values.items():
            setattr(module, k, copy.copy(v))


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
