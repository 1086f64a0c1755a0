"""What an ``if:`` (or ``continue-on-error:``) expression can evaluate to, without running anything.

The value is parsed with the runner's own expression parser
(``ci_helper.runner.expressions``) and evaluated over *partly known* contexts:
what the rules fix (the event name, a repository that is not the expected
one, the job's status) is known, everything else is :data:`UNKNOWN`. An
operator or function with an unknown operand is unknown, except where the
known operands decide (``false && x`` is false, ``true || x`` is true).

Questions the rules ask:

- :func:`can_be_true`: may the condition hold on this event? (``skipped-gate``)
- :func:`always_true`: does it hold on this event, whatever else? (a guard must run)
- :func:`never_true_when`: is it false whenever a variable differs from every
  value the workflow names? (``if: github.repository == 'o/r'`` guards a job)
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from ci_helper.runner.expressions import parser as p
from ci_helper.runner.expressions.errors import ExpressionError
from ci_helper.runner.expressions.functions import FUNCTIONS
from ci_helper.runner.expressions.template import compile_condition, compile_template
from ci_helper.runner.expressions.values import (
    CIDict,
    abstract_equal,
    abstract_greater,
    abstract_less,
    canonical,
    truthy,
)


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
# Never equal to, never starting with, never contained in a value a workflow writes.
OTHER = "\x00other\x00/\x00value\x00"
# Which `github.*` names each guardrail kind compares.
VARIABLES = {
    # A fork or copy lives under another owner too: an owner check is a repository guard.
    "repository": ("repository", "repository_owner"),
    "base-branch": ("base_ref",),
    "ref": ("ref", "ref_name"),
    "event": ("event_name",),
}
ANY_EVENT = None  # the event is not known (a reusable workflow runs on its caller's)


def _tree(text: str, condition: bool) -> Any | None:
    try:
        if condition:
            return compile_condition(text).tree
        template = compile_template(text)
    except ExpressionError:
        return None
    if template.single:
        return template.parts[0][1]
    if not template.has_expressions:
        return p.Literal(template.source)
    return None  # text around ${{ }}: a non-empty string


@lru_cache(maxsize=8192)
def _parsed(text: str, condition: bool) -> Any | None:
    return _tree(text, condition)


def value(
    text: str,
    *,
    condition: bool,
    event: str | None = ANY_EVENT,
    github: dict[str, Any] | None = None,
    status: str | None = "success",
) -> Any:
    """The value of ``text`` (an ``if:`` when ``condition``, else a template) or :data:`UNKNOWN`.

    ``status``: ``success`` (the job so far succeeded), or None when it may be anything.
    """
    tree = _parsed(text, condition)
    if tree is None:
        if not condition and "${{" in text:
            return UNKNOWN if not text.strip() else "x"  # text around ${{ }} is a non-empty string
        return UNKNOWN
    known: dict[str, Any] = dict(github or {})
    if event is not ANY_EVENT:
        known["event_name"] = event
    return _evaluate(tree, {"github": CIDict((k, canonical(v)) for k, v in known.items())}, status)


def truth(result: Any) -> bool | None:
    return None if result is UNKNOWN else truthy(result)


def can_be_true(text: str, event: str | None = ANY_EVENT) -> bool:
    """False only when the condition is false on ``event`` whatever the rest of the run looks like."""
    return truth(value(text, condition=True, event=event, status=None)) is not False


def always_true(text: str | None, event: str | None = ANY_EVENT) -> bool:
    """True when the condition holds on ``event`` for a job whose earlier steps succeeded."""
    if text is None:
        return True
    return truth(value(text, condition=True, event=event)) is True


def _others(text: str) -> list[str]:
    """Values a variable may hold that the file does not allow: one unlike anything, and each string
    literal of the expression inside other text (``xo/rx`` passes ``contains(github.repository, 'o/r')``)."""
    tree = _parsed(text, True)
    literals = (
        {n.value for n in p.walk(tree) if isinstance(n, p.Literal) and isinstance(n.value, str)} if tree else set()
    )
    return [OTHER] + [f"x{literal}x" for literal in sorted(literals) if literal]


def never_true_when(text: str, kind: str, event: str | None = ANY_EVENT) -> bool:
    """True when the condition is false whenever ``kind``'s variable is not a value the file names."""
    return all(
        truth(value(text, condition=True, event=event, github={n: other for n in VARIABLES[kind]})) is False
        for other in _others(text)
    )


def always_true_when(text: str, kind: str, event: str | None = ANY_EVENT) -> bool:
    """True when the condition holds whenever ``kind``'s variable differs (``github.repository != 'o/r'``)."""
    return all(
        truth(value(text, condition=True, event=event, github={n: other for n in VARIABLES[kind]})) is True
        for other in _others(text)
    )


def runs_after_failure(text: str | None) -> bool:
    """True when a job with this ``if:`` may run after a job it needs failed (``always()``, ``failure()``)."""
    if text is None:
        return False
    return truth(value(text, condition=True, status="failure")) is not False


def constant(text: str) -> bool | None:
    """A ``continue-on-error:`` value's truth when it does not depend on the run (``${{ true }}``), else None."""
    if "${{" not in text:
        word = text.strip().lower()
        return True if word == "true" else False if word == "false" else None
    return truth(value(text, condition=False, status=None))


# --- the partial evaluator -----------------------------------------------


def _evaluate(node: Any, contexts: dict[str, Any], status: str | None) -> Any:
    if isinstance(node, p.Literal):
        return node.value
    if isinstance(node, p.NamedValue):
        return contexts.get(node.name, UNKNOWN)
    if isinstance(node, p.Index):
        target = _evaluate(node.target, contexts, status)
        if target is UNKNOWN or isinstance(node.index, p.Wildcard):
            return UNKNOWN
        index = _evaluate(node.index, contexts, status)
        if index is UNKNOWN:
            return UNKNOWN
        if isinstance(target, CIDict):
            # Only the names the rules fix are known; any other property may hold anything.
            return target[str(index)] if isinstance(index, str) and str(index) in target else UNKNOWN
        return UNKNOWN
    if isinstance(node, p.Not):
        operand = _evaluate(node.operand, contexts, status)
        return UNKNOWN if operand is UNKNOWN else not truthy(operand)
    if isinstance(node, p.Logical):
        want = node.operator == "||"
        unknown = False
        result: Any = None
        for operand in node.operands:
            result = _evaluate(operand, contexts, status)
            if result is UNKNOWN:
                unknown = True
            elif truthy(result) is want:
                return result
        return UNKNOWN if unknown else result
    if isinstance(node, p.Binary):
        left = _evaluate(node.left, contexts, status)
        right = _evaluate(node.right, contexts, status)
        if left is UNKNOWN or right is UNKNOWN:
            return UNKNOWN
        op = node.operator
        if op == "==":
            return abstract_equal(left, right)
        if op == "!=":
            return not abstract_equal(left, right)
        if op == "<":
            return abstract_less(left, right)
        if op == ">":
            return abstract_greater(left, right)
        if op == "<=":
            return abstract_equal(left, right) or abstract_less(left, right)
        return abstract_equal(left, right) or abstract_greater(left, right)
    if isinstance(node, p.Call):
        name = node.name.lower()
        if name in ("success", "failure", "cancelled", "always"):
            if name == "always":
                return True
            if status is None:
                return UNKNOWN
            return name == status
        args = [_evaluate(arg, contexts, status) for arg in node.args]
        if any(arg is UNKNOWN for arg in args):
            if name == "format" and args and args[0] is not UNKNOWN and str(args[0]).strip("{}0123456789"):
                return "x"  # literal text around the placeholders: a non-empty, truthy string
            return UNKNOWN
        function = FUNCTIONS.get(node.name)
        if function is None:
            return UNKNOWN
        try:
            result = function.call(None, args)
        except Exception:  # an evaluation error fails the run, which this reading does not model
            return UNKNOWN
        if isinstance(result, float) and math.isnan(result):
            return result
        return result
    return UNKNOWN
