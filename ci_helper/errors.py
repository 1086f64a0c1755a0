"""Errors that map to the documented exit codes."""

from __future__ import annotations

try:
    from click import ClickException as _Base
except ImportError:  # the guardrails action's first step decides with the standard library only

    class _Base(Exception):  # type: ignore[no-redef]
        exit_code = 1

        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.message = message

        def format_message(self) -> str:
            return self.message

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
# SIGINT or SIGTERM: one exit for both (128 + SIGINT, the shell's Ctrl-C code).
EXIT_INTERRUPTED = 130


class BadInput(_Base):
    """Bad usage or bad input (missing file, malformed YAML, corrupt data): exit 2.

    The message is one line that says what is wrong and what to fix; click
    prints it as ``Error: <message>`` on stderr, never with a traceback. Without
    click (the guardrails action's stdlib-only decision) the caller prints it.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str) -> None:
        # One line: a newline in a user-facing error hides the fix below the fold.
        super().__init__(" ".join(str(message).split("\n")))
