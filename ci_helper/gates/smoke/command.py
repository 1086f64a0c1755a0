"""The server command: split like a shell would, run without one, optionally under coverage.

No shell sits between ci-helper and the server, so the exit code we report is
the server's own and a signal reaches the server, not a wrapper. Leading
``NAME=value`` words set environment variables, as in a shell; anything that
really needs a shell can say so: ``sh -c '...'``.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?(\.exe)?$")
# Interpreter options that take a separate argument (``-X dev``, ``-W error``).
_PYTHON_OPTIONS_WITH_ARGUMENT = {"-X", "-W", "--check-hash-based-pycs"}


@dataclass
class ServerCommand:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)

    def display(self) -> str:
        words = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()] + [shlex.quote(a) for a in self.argv]
        return " ".join(words)


def substitute(text: str, port: int | None, python: str = sys.executable) -> str:
    """Fill the ``{port}`` and ``{python}`` placeholders (the only ones we know)."""
    if port is not None:
        text = text.replace("{port}", str(port))
    return text.replace("{python}", shlex.quote(python))


def substitute_test_arg(arg: str, port: int | None, base_url: str) -> str:
    """Fill ``{port}`` and ``{base_url}`` in one pytest argument (already split: nothing to quote)."""
    if port is not None:
        arg = arg.replace("{port}", str(port))
    return arg.replace("{base_url}", base_url)


def parse(text: str) -> ServerCommand:
    """``"FOO=1 python server.py --port 80"`` -> argv and environment."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise BadInput(f"--server {text!r}: cannot split the command ({exc}); check its quotes") from None
    env: dict[str, str] = {}
    while words and _ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words:
        raise BadInput("--server is empty: give the command that starts the server, e.g. --server 'python server.py'")
    return ServerCommand(words, env)


def under_coverage(
    command: ServerCommand, data_file: Path, rcfile: Path, python: str = sys.executable
) -> ServerCommand:
    """Rewrite ``python [opts] server.py args`` as ``python [opts] -m coverage run ... server.py args``.

    The server's own interpreter runs coverage (``python`` for a bare ``.py``
    file), so coverage must be installed where the server's dependencies are.
    """
    argv = command.argv
    first = argv[0]
    if first.endswith(".py"):
        options: list[str] = []
        rest = argv
    elif _PYTHON.match(os.path.basename(first)):
        python = first
        options = []
        i = 1
        while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m":
            if argv[i] == "-c":
                raise BadInput(
                    "--coverage-data-file cannot measure 'python -c ...'; put the server code in a file or module"
                )
            options.append(argv[i])
            if argv[i] in _PYTHON_OPTIONS_WITH_ARGUMENT and i + 1 < len(argv):
                options.append(argv[i + 1])
                i += 1
            i += 1
        rest = argv[i:]
        if not rest:
            raise BadInput(f"--server {command.display()!r}: no script or -m module to run under coverage")
    else:
        raise BadInput(
            f"--coverage-data-file needs a server command that starts with python or a .py file, got {first!r}; "
            f"write it as 'python -m {os.path.basename(first)} ...'"
        )
    wrapped = [python, *options, "-m", "coverage", "run", f"--data-file={data_file}", f"--rcfile={rcfile}", *rest]
    return ServerCommand(wrapped, dict(command.env))
