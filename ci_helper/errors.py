"""The domain's errors: plain exceptions, with no command-line knowledge.

Domain modules raise these; only the command line (``ci_helper/cli/``) turns
them into output and exit codes (``cli.exit_codes``), as coverage.py's
``cmdline.py`` does for its ``ConfigError``. The guardrails action's first
step imports this module with the standard library alone, so it stays free
of third-party imports.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
# SIGINT or SIGTERM: one exit for both (128 + SIGINT, the shell's Ctrl-C code).
EXIT_INTERRUPTED = 130


class BadInput(Exception):
    """Bad usage or bad input (missing file, malformed YAML, corrupt data).

    The message is one line that says what is wrong and what to fix; the CLI
    prints it as ``Error: <message>`` on stderr and exits 2, never with a
    traceback.
    """

    def __init__(self, message: str) -> None:
        # One line: a newline in a user-facing error hides the fix below the fold.
        self.message = " ".join(str(message).split("\n"))
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
