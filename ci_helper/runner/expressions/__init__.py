"""GitHub Actions ``${{ }}`` expressions with the runner's semantics.

API::

    evaluate_expression("github.ref == 'refs/heads/main'", {"github": {...}})  # -> True
    evaluate_template("v${{ inputs.major }}.0", {"inputs": {"major": "2"}})     # -> 'v2.0'
    evaluate_condition("failure()", contexts, status="failure")                 # -> True

Values are ``None``, ``bool``, ``float``, ``str``, :class:`CIDict` and ``list``;
host data passed in contexts (dicts, ints) is converted on the way in.
Errors are :class:`ExpressionError` (``ParseError`` for syntax, unknown
functions or named-values; ``TemplateError`` when a location is attached).
"""

from __future__ import annotations

from typing import Any

from ci_helper.runner.expressions.errors import EvaluationError, ExpressionError, ParseError
from ci_helper.runner.expressions.evaluator import Scope, evaluate
from ci_helper.runner.expressions.functions import FUNCTIONS, to_json_data
from ci_helper.runner.expressions.parser import parse
from ci_helper.runner.expressions.template import (
    Condition,
    Template,
    TemplateError,
    compile_condition,
    compile_template,
)
from ci_helper.runner.expressions.values import CIDict, canonical, to_string, truthy

__all__ = [
    "CIDict",
    "Condition",
    "EvaluationError",
    "ExpressionError",
    "ParseError",
    "Scope",
    "Template",
    "TemplateError",
    "canonical",
    "compile_condition",
    "compile_template",
    "evaluate_condition",
    "evaluate_expression",
    "evaluate_template",
    "parse",
    "to_json_data",
    "to_string",
    "truthy",
]


def evaluate_expression(
    expression: str, contexts: dict[str, Any] | None = None, *, status: str = "success", cancelled: bool = False
) -> Any:
    """Evaluate one bare expression (no ``${{ }}``); every function is allowed."""
    tree = parse(expression, None, set(FUNCTIONS))
    return evaluate(tree, Scope.of(contexts or {}, status, cancelled), expression)


def evaluate_template(text: str, contexts: dict[str, Any] | None = None, *, where: str | None = None) -> Any:
    """Evaluate a string holding ``${{ }}`` expressions (typed when it is exactly one)."""
    return compile_template(text, where=where).evaluate(Scope.of(contexts or {}))


def evaluate_condition(
    condition: Any,
    contexts: dict[str, Any] | None = None,
    *,
    status: str = "success",
    cancelled: bool = False,
    where: str | None = None,
) -> bool:
    """Evaluate an ``if:`` value, adding the implicit ``success() &&`` when it has no status function."""
    return compile_condition(condition, where=where).evaluate(Scope.of(contexts or {}, status, cancelled))
