"""Limits on hostile input, in one place (docs/security.md, "Hostile input limits").

Workflows, event payloads, results, JUnit reports and configuration files may
be written by whoever opened the pull request. Parsers of nested data recurse
(``json``, ``tomllib``) and Python refuses integers longer than 4,300 digits:
both surface as exceptions that are not the parser's own error type. Readers
catch :data:`PARSE_ERRORS` and describe the problem with :func:`why`, so the
user sees one line naming the file, never a traceback.
"""

from __future__ import annotations

import sys

# What json.loads / tomllib.loads raise on hostile text besides their decode errors (which are ValueErrors):
# RecursionError for deep nesting, ValueError for an integer over sys.get_int_max_str_digits() digits,
# OverflowError when such an integer is turned into a float (coverage does, for fail_under = 999...9).
PARSE_ERRORS = (ValueError, RecursionError, OverflowError)


def why(exc: BaseException) -> str:
    """A short, one-line description of a parse failure."""
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "integer string conversion" in str(exc):
        return f"an integer longer than {sys.get_int_max_str_digits()} digits"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
