"""Evaluate a parsed expression against contexts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ci_helper.runner.expressions import parser as p
from ci_helper.runner.expressions.functions import FUNCTIONS
from ci_helper.runner.expressions.values import (
    ARRAY, OBJECT, CIDict, FilteredArray, abstract_equal, abstract_greater, abstract_less, canonical,
    is_primitive, kind, to_number, to_string, truthy,
)


@dataclass
class Scope:
    """What an expression can see: the contexts by name, and the status for ``success()`` & co."""

    contexts: CIDict = field(default_factory=CIDict)
    status: str = "success"  # success | failure | cancelled
    cancelled: bool = False

    @classmethod
    def of(cls, contexts: dict[str, Any], status: str = "success", cancelled: bool = False) -> "Scope":
        return cls(CIDict((name, canonical(value)) for name, value in contexts.items()), status, cancelled)


def _integer_index(index: Any) -> int | None:
    number = to_number(index)
    if math.isnan(number) or number < 0:
        return None
    number = math.floor(number)
    if number > 2**31 - 1:
        return None
    return int(number)


def _index(target: Any, index_node: Any, scope: Scope) -> Any:
    wildcard = isinstance(index_node, p.Wildcard)
    index = None if wildcard else evaluate(index_node, scope)
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


def evaluate(node: Any, scope: Scope) -> Any:
    """Evaluate a tree from :func:`parser.parse`; the result is an expression value."""
    if isinstance(node, p.Literal):
        return node.value
    if isinstance(node, p.NamedValue):
        return scope.contexts.get(node.name)
    if isinstance(node, p.Index):
        return _index(evaluate(node.target, scope), node.index, scope)
    if isinstance(node, p.Not):
        return not truthy(evaluate(node.operand, scope))
    if isinstance(node, p.Logical):
        # Short-circuit; the result is the operand that decided (JavaScript-style).
        want = node.operator == "||"
        for operand in node.operands:
            value = evaluate(operand, scope)
            if truthy(value) is want:
                return value
        return value
    if isinstance(node, p.Binary):
        op = node.operator
        left = evaluate(node.left, scope)
        right = evaluate(node.right, scope)
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
        args = [evaluate(arg, scope) for arg in node.args]
        return FUNCTIONS[node.name].call(scope, args)
    raise AssertionError(f"unknown node {node!r}")
