"""Entry of the root ``action.yml``: one ci-helper command with its arguments, from the environment.

The action hands ``command`` and ``args`` over in ``CI_HELPER_COMMAND`` and
``CI_HELPER_ARGS``. The arguments are split here with :func:`shlex.split`
(quotes honoured, nothing expanded), never by pasting them into a shell line,
so an input such as ``$(curl ...)`` or ``; rm -rf ~`` stays a literal argument.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping

from ci_helper import gha
from ci_helper.cli import COMMANDS, main as cli_main
from ci_helper.errors import EXIT_BAD_INPUT


def argv(env: Mapping[str, str]) -> list[str]:
    """The ci-helper argument list the action asks for; ValueError says what is wrong."""
    command = env.get("CI_HELPER_COMMAND", "").strip()
    if command not in COMMANDS:
        known = ", ".join(sorted(COMMANDS))
        raise ValueError(f"command input must be one of: {known}; got {command!r}")
    try:
        args = shlex.split(env.get("CI_HELPER_ARGS", ""), comments=False, posix=True)
    except ValueError as exc:
        raise ValueError(f"args input cannot be split like a shell line ({exc}); check its quotes") from None
    return [command, *args]


def main(env: Mapping[str, str] | None = None) -> int:
    """Run the command the action asks for; also sets the ``exit-code`` step output."""
    with gha.fenced_output(None if env is None else env.get("GITHUB_ACTIONS") == "true"):
        return _main(os.environ if env is None else env)


def _main(env: Mapping[str, str]) -> int:
    try:
        arguments = argv(env)
    except ValueError as exc:
        gha.emit_annotation("error", str(exc), title="ci-helper action")
        code = EXIT_BAD_INPUT
    else:
        print("+ ci-helper " + " ".join(shlex.quote(a) for a in arguments), flush=True)
        code = _run(arguments)
    gha.set_output("exit-code", str(code))
    return code


def _run(arguments: list[str]) -> int:
    """Run the click group as the console script would and return its exit code."""
    try:
        cli_main.main(arguments, prog_name="ci-helper")
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
