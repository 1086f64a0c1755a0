"""Strings with ``${{ }}`` in them, and ``if:`` conditions.

A value that is exactly one ``${{ expr }}`` keeps the expression's type; a
value mixing text and expressions becomes a string, as the runner turns it
into ``format('text {0}', expr)``. ``}}`` inside a quoted string does not end
an expression.
"""

from __future__ import annotations

from typing import Any

from ci_helper.record import FrozenRecord
from ci_helper.runner.expressions import parser as p
from ci_helper.runner.expressions.errors import EvaluationError, ExpressionError, ParseError
from ci_helper.runner.expressions.evaluator import Scope, evaluate
from ci_helper.runner.expressions.functions import FUNCTIONS, VALUE_FUNCTIONS
from ci_helper.runner.expressions.values import ARRAY, OBJECT, kind, to_string, truthy

OPEN, CLOSE = "${{", "}}"


class TemplateError(ExpressionError):
    """A parse or evaluation error located in a file: ``file:line: message``."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


def split(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_expression, content) segments; raise ValueError when a ``${{`` is not closed."""
    segments: list[tuple[bool, str]] = []
    i = 0
    while True:
        start = text.find(OPEN, i)
        if start < 0:
            if i < len(text):
                segments.append((False, text[i:]))
            return segments
        if start > i:
            segments.append((False, text[i:start]))
        j = start + len(OPEN)
        in_string = False
        end = -1
        while j < len(text):
            c = text[j]
            if c == "'":
                in_string = not in_string
            elif not in_string and c == "}" and text[j - 1] == "}" and j - 1 >= start + len(OPEN):
                end = j
                break
            j += 1
        if end < 0:
            raise ValueError(
                "The expression is not closed. An unescaped ${{ sequence was found, "
                "but the closing }} sequence was not found."
            )
        segments.append((True, text[start + len(OPEN) : end - 1].strip()))
        i = end + 1


class Template(FrozenRecord):
    """A compiled string: literal parts and parsed expressions."""

    __slots__ = ("source", "parts", "where")
    _fields = __slots__

    def __init__(self, source: str, parts: tuple[Any, ...], where: str | None = None) -> None:
        self.source = source
        self.parts = parts  # str literals and (expression text, tree) pairs
        self.where = where

    @property
    def single(self) -> bool:
        return len(self.parts) == 1 and not isinstance(self.parts[0], str)

    @property
    def has_expressions(self) -> bool:
        return any(not isinstance(part, str) for part in self.parts)

    def evaluate(self, scope: Scope) -> Any:
        """The value: typed for a lone ``${{ }}``, else a string."""
        try:
            if self.single:
                return evaluate(self.parts[0][1], scope)
            return "".join(
                part if isinstance(part, str) else to_string(evaluate(part[1], scope)) for part in self.parts
            )
        except EvaluationError as exc:
            raise TemplateError(f"{exc} (in {self.source!r})", self.where) from None

    def render(self, scope: Scope) -> str:
        """The value as a string; an object or array here is an error, as on GitHub."""
        value = self.evaluate(scope)
        if kind(value) == OBJECT:
            raise TemplateError(f"A mapping was not expected (in {self.source!r})", self.where)
        if kind(value) == ARRAY:
            raise TemplateError(f"A sequence was not expected (in {self.source!r})", self.where)
        return to_string(value)


def compile_template(
    text: str, *, where: str | None = None, named_values: set[str] | None = None, functions: set[str] | None = None
) -> Template:
    """Parse every ``${{ }}`` in ``text`` now, so a bad expression fails before anything runs."""
    try:
        segments = split(text)
    except ValueError as exc:
        raise TemplateError(f"{exc} (in {text!r})", where) from None
    parts: list[Any] = []
    for is_expression, content in segments:
        if not is_expression:
            parts.append(content)
            continue
        if not content:
            raise TemplateError(f"An expression was expected (in {text!r})", where)
        try:
            tree = p.parse(content, named_values, set(VALUE_FUNCTIONS) if functions is None else functions)
        except ParseError as exc:
            raise TemplateError(f"{exc} (in '${{{{ {content} }}}}')", where) from None
        parts.append((content, tree))
    return Template(text, tuple(parts), where)


class Condition(FrozenRecord):
    """An ``if:`` condition, already rewritten to ``success() && (...)`` when it names no status function."""

    __slots__ = ("source", "expression", "tree", "where")
    _fields = __slots__

    def __init__(self, source: str, expression: str, tree: Any, where: str | None = None) -> None:
        self.source = source
        self.expression = expression
        self.tree = tree
        self.where = where

    def evaluate(self, scope: Scope) -> bool:
        try:
            return truthy(evaluate(self.tree, scope))
        except EvaluationError as exc:
            raise TemplateError(f"{exc} (in if: {self.source!r})", self.where) from None


def compile_condition(text: Any, *, where: str | None = None, named_values: set[str] | None = None) -> Condition:
    """Compile an ``if:`` value: bare or wrapped in ``${{ }}``; empty means ``success()``."""
    if text is None or (isinstance(text, str) and not text.strip()):
        expression = "success()"
    elif isinstance(text, bool):
        expression = "true" if text else "false"
    else:
        source = str(text).strip()
        try:
            segments = split(source)
        except ValueError as exc:
            raise TemplateError(f"{exc} (in if: {source!r})", where) from None
        if len(segments) == 1 and segments[0][0]:
            expression = segments[0][1]
        elif any(is_expr for is_expr, _ in segments):
            # Text around ${{ }} makes a format() string: a non-empty string is always truthy.
            args = "".join(", " + c for e, c in segments if e)
            fmt_index = 0
            pieces = []
            for is_expr, content in segments:
                if is_expr:
                    pieces.append(f"{{{fmt_index}}}")
                    fmt_index += 1
                else:
                    pieces.append(content.replace("'", "''").replace("{", "{{").replace("}", "}}"))
            expression = f"format('{''.join(pieces)}'{args})"
        else:
            expression = source
        if not expression:
            raise TemplateError(f"An expression was expected (in if: {source!r})", where)
    try:
        tree = p.parse(expression, named_values, set(FUNCTIONS))
    except ParseError as exc:
        raise TemplateError(f"{exc} (in if: '{text}')", where) from None
    if not p.uses_status_function(tree):
        expression = f"success() && ({expression})"
        tree = p.Logical("&&", (p.Call("success", ()), tree))
    return Condition(str(text), expression, tree, where)
