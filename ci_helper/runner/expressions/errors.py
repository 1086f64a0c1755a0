"""Errors raised while parsing or evaluating an expression."""

from __future__ import annotations


class ExpressionError(Exception):
    """An expression could not be parsed or evaluated; ``str()`` is the runner-style message."""


class ParseError(ExpressionError):
    """Bad syntax, an unknown function or named-value, a wrong argument count."""

    def __init__(self, description: str, expression: str, raw: str | None = None, index: int = 0) -> None:
        self.description = description
        self.expression = expression
        self.raw = raw
        self.index = index
        if raw is None:
            message = description
        else:
            message = f"{description}: '{raw}'. Located at position {index + 1} within expression: {expression}"
        super().__init__(message)


class EvaluationError(ExpressionError):
    """A function failed at run time (bad ``format`` string, invalid JSON, ...)."""
