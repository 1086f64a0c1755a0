"""Errors that map to the documented exit codes."""

from __future__ import annotations

import click

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
# SIGINT or SIGTERM: one exit for both (128 + SIGINT, the shell's Ctrl-C code).
EXIT_INTERRUPTED = 130


class BadInput(click.ClickException):
    """Bad usage or bad input (missing file, malformed YAML, corrupt data): exit 2.

    The message is one line that says what is wrong and what to fix; click
    prints it as ``Error: <message>`` on stderr, never with a traceback.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        # One line: a newline in a user-facing error hides the fix below the fold.
        super().__init__(" ".join(str(message).split("\n")))
