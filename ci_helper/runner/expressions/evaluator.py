"""Evaluate a parsed expression against contexts."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from ci_helper.record import Record
from ci_helper.runner.expressions import parser as p
from ci_helper.runner.expressions.errors import EvaluationError
from ci_helper.runner.expressions.functions import FUNCTIONS
from ci_helper.runner.expressions.values import (
    ARRAY,
    OBJECT,
    CIDict,
    FilteredArray,
    abstract_equal,
    abstract_greater,
    abstract_less,
    canonical,
    is_primitive,
    kind,
    to_number,
    to_string,
    truthy,
)


class Scope(Record):
    """What an expression can see: the contexts by name, and the status for ``success()`` & co."""

    __slots__ = ("contexts", "status", "cancelled")
    _fields = __slots__

    def __init__(self, contexts: CIDict | None = None, status: str = "success", cancelled: bool = False) -> None:
        self.contexts = CIDict() if contexts is None else contexts
        self.status = status  # success | failure | cancelled
        self.cancelled = cancelled

    @classmethod
    def of(cls, contexts: dict[str, Any], status: str = "success", cancelled: bool = False) -> Scope:
        return cls(CIDict((name, canonical(value)) for name, value in contexts.items()), status, cancelled)


def _integer_index(index: Any) -> int | None:
    number = to_number(index)
    if not math.isfinite(number) or number < 0:
        return None
    number = math.floor(number)
    if number > 2**31 - 1:
        return None
    return int(number)


MAX_MEMORY = 1024 * 1024  # bytes one evaluation may hold, as the runner (1 MiB)
_STRING_OVERHEAD, _OBJECT_SIZE = 26, 24  # the runner's estimates: a .NET string header, a minimal object


class _Memory:
    """The runner's evaluation memory: the sizes of the results each tree depth holds right now.

    A node's result is counted at its depth and its children's are released when it finishes,
    so ``format('{0}{0}...', toJSON(github))`` is charged for what it builds, not for the whole tree.
    """

    __slots__ = ("depths", "total", "expression")

    def __init__(self, expression: str | None) -> None:
        self.depths: list[int] = []
        self.total = 0
        self.expression = expression

    def hold(self, depth: int, value: Any) -> None:
        while len(self.depths) > depth + 1:
            self.total -= self.depths.pop()
        while len(self.depths) <= depth:
            self.depths.append(0)
        size = _STRING_OVERHEAD + 2 * len(value) if isinstance(value, str) else _OBJECT_SIZE
        self.depths[depth] += size
        self.total += size
        if self.total > MAX_MEMORY:
            where = f" while evaluating the following expression: {self.expression}" if self.expression else ""
            raise EvaluationError(f"The maximum allowed memory size was exceeded{where}")


def _index(target: Any, index_node: Any, scope: Scope, memory: _Memory, depth: int) -> Any:
    wildcard = isinstance(index_node, p.Wildcard)
    index = None if wildcard else _evaluate(index_node, scope, memory, depth)
    target_kind = kind(target)
    if target_kind not in (OBJECT, ARRAY):
        return FilteredArray() if wildcard else None
    if isinstance(target, FilteredArray):
        result = FilteredArray()
        for item in target:
            if kind(item) == OBJECT:
                if wildcard:
                    result.extend(item.values())
                elif is_primitive(index):
                    key = to_string(index)
                    if key in item:
                        result.append(item[key])
            elif kind(item) == ARRAY:
                if wildcard:
                    result.extend(item)
                else:
                    position = _integer_index(index)
                    if position is not None and position < len(item):
                        result.append(item[position])
        return result
    if target_kind == OBJECT:
        if wildcard:
            return FilteredArray(target.values())
        if is_primitive(index):
            key = to_string(index)
            if key in target:
                return target[key]
        return None
    if wildcard:
        return FilteredArray(target)
    position = _integer_index(index)
    if position is not None and position < len(target):
        return target[position]
    return None


def evaluate(node: Any, scope: Scope, expression: str | None = None) -> Any:
    """Evaluate a tree from :func:`parser.parse`; the result is an expression value.

    Raises :class:`EvaluationError` when the results held at once exceed :data:`MAX_MEMORY`
    (``expression`` is named in that message).
    """
    return _evaluate(node, scope, _Memory(expression), 0)


def _evaluate(node: Any, scope: Scope, memory: _Memory, depth: int) -> Any:
    value = _value(node, scope, memory, depth + 1)
    memory.hold(depth, value)
    return value


def _value(node: Any, scope: Scope, memory: _Memory, depth: int) -> Any:
    if isinstance(node, p.Literal):
        return node.value
    if isinstance(node, p.NamedValue):
        return scope.contexts.get(node.name)
    if isinstance(node, p.Index):
        return _index(_evaluate(node.target, scope, memory, depth), node.index, scope, memory, depth)
    if isinstance(node, p.Not):
        return not truthy(_evaluate(node.operand, scope, memory, depth))
    if isinstance(node, p.Logical):
        # Short-circuit; the result is the operand that decided (JavaScript-style).
        want = node.operator == "||"
        for operand in node.operands:
            value = _evaluate(operand, scope, memory, depth)
            if truthy(value) is want:
                return value
        return value
    if isinstance(node, p.Binary):
        op = node.operator
        left = _evaluate(node.left, scope, memory, depth)
        right = _evaluate(node.right, scope, memory, depth)
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
        if op == ">=":
            return abstract_equal(left, right) or abstract_greater(left, right)
        raise AssertionError(op)
    if isinstance(node, p.Call):
        function = FUNCTIONS[node.name]
        if function.lazy:
            return function.call(scope, [partial(_evaluate, arg, scope, memory, depth) for arg in node.args])
        args = [_evaluate(arg, scope, memory, depth) for arg in node.args]
        return function.call(scope, args)
    raise AssertionError(f"unknown node {node!r}")
