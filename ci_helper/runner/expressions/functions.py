"""The expression functions, with the runner's argument counts and coercions.

Function names are case-insensitive (``toJSON``, ``tojson``). The status
functions (``success()`` ...) are allowed only in ``if:`` conditions; their
answer comes from the :class:`Scope`'s ``status`` and ``cancelled`` fields.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, cast

from ci_helper.record import FrozenRecord
from ci_helper.runner.expressions.errors import EvaluationError
from ci_helper.runner.expressions.values import (
    ARRAY,
    CIDict,
    abstract_equal,
    canonical,
    fold,
    is_primitive,
    kind,
    to_string,
)


class Function(FrozenRecord):
    __slots__ = ("arity", "call", "lazy")
    _fields = __slots__

    def __init__(self, arity: tuple[int, int], call: Callable[[Any, list[Any]], Any], lazy: bool = False) -> None:
        self.arity = arity
        self.call = call
        self.lazy = lazy  # call receives argument thunks and evaluates only what it needs


def _case(scope: Any, args: list[Any]) -> Any:
    """``case(pred1, val1, ..., default)``: the value of the first true predicate, else the default."""
    for i in range(0, len(args) - 1, 2):
        predicate = args[i]()
        if not isinstance(predicate, bool):
            raise EvaluationError("case predicate must evaluate to a boolean value")
        if predicate:
            return args[i + 1]()
    return args[-1]()


def _contains(scope: Any, args: list[Any]) -> bool:
    haystack, needle = args
    if is_primitive(haystack):
        return is_primitive(needle) and fold(to_string(needle)) in fold(to_string(haystack))
    if kind(haystack) == ARRAY:
        return any(abstract_equal(needle, item) for item in haystack)
    return False


def _starts_with(scope: Any, args: list[Any]) -> bool:
    text, prefix = args
    return is_primitive(text) and is_primitive(prefix) and fold(to_string(text)).startswith(fold(to_string(prefix)))


def _ends_with(scope: Any, args: list[Any]) -> bool:
    text, suffix = args
    return is_primitive(text) and is_primitive(suffix) and fold(to_string(text)).endswith(fold(to_string(suffix)))


def _format(scope: Any, args: list[Any]) -> str:
    template = to_string(args[0])
    values = args[1:]
    out: list[str] = []
    i = 0
    invalid = EvaluationError(f"The following format string is invalid: {template}")
    while i < len(template):
        left = template.find("{", i)
        right = template.find("}", i)
        if left >= 0 and (right < 0 or right > left):
            if template[left + 1 : left + 2] == "{":
                out.append(template[i : left + 1])
                i = left + 2
                continue
            j = left + 1
            while j < len(template) and template[j].isdigit():
                j += 1
            if j == left + 1 or j >= len(template) or template[j] != "}":
                # A format specifier ({0:x}) is only meaningful for dates, which expressions never produce.
                if j > left + 1 and j < len(template) and template[j] == ":":
                    raise EvaluationError(f"The format specifiers are not valid in: {template}")
                raise invalid
            number = int(template[left + 1 : j])
            if number > 255:
                raise invalid
            if number >= len(values):
                raise EvaluationError(
                    f"The following format string references more arguments than were supplied: {template}"
                )
            out.append(template[i:left])
            out.append(to_string(values[number]))
            i = j + 1
        elif right >= 0:
            if template[right + 1 : right + 2] == "}":
                out.append(template[i : right + 1])
                i = right + 2
            else:
                raise invalid
        else:
            out.append(template[i:])
            break
    return "".join(out)


def _join(scope: Any, args: list[Any]) -> str:
    items = args[0]
    if kind(items) == ARRAY:
        separator = ","
        if len(args) > 1 and is_primitive(args[1]):
            separator = to_string(args[1])
        return separator.join(to_string(item) for item in items)
    if is_primitive(items):
        return to_string(items)
    return ""


def to_json_data(value: Any) -> Any:
    """Expression value -> plain JSON data (integral doubles written as integers, as the runner does)."""
    k = kind(value)
    if k == "Number":
        number = float(value)
        if math.isfinite(number) and number == int(number) and abs(number) < 2**63:
            return int(number)
        return number
    if k == "Object":
        return {key: to_json_data(item) for key, item in value.items()}
    if k == ARRAY:
        return [to_json_data(item) for item in value]
    return value


def _to_json(scope: Any, args: list[Any]) -> str:
    return json.dumps(to_json_data(args[0]), indent=2, ensure_ascii=False)


def _from_json(scope: Any, args: list[Any]) -> Any:
    text = to_string(args[0])
    if not text.strip():
        raise EvaluationError("Error reading JToken from JsonReader. Path '', line 0, position 0.")
    try:
        return canonical(json.loads(text))
    except (ValueError, RecursionError) as exc:
        raise EvaluationError(f"fromJSON: invalid JSON: {exc}") from None


def _hash_files(scope: Any, args: list[Any]) -> str:
    from ci_helper.runner.expressions.hash_files import hash_files

    github = scope.contexts.get("github")
    workspace = github.get("workspace") if isinstance(github, CIDict) else None
    if not workspace:
        raise EvaluationError("hashFiles() needs github.workspace")
    return hash_files(str(workspace), [to_string(a) for a in args])


def _success(scope: Any, args: list[Any]) -> bool:
    return cast(bool, scope.status == "success")


def _failure(scope: Any, args: list[Any]) -> bool:
    return cast(bool, scope.status == "failure")


def _cancelled(scope: Any, args: list[Any]) -> bool:
    return bool(scope.cancelled)


def _always(scope: Any, args: list[Any]) -> bool:
    return True


FUNCTIONS: dict[str, Function] = {
    "contains": Function((2, 2), _contains),
    "startsWith": Function((2, 2), _starts_with),
    "endsWith": Function((2, 2), _ends_with),
    "format": Function((1, 255), _format),
    "join": Function((1, 2), _join),
    "toJSON": Function((1, 1), _to_json),
    "fromJSON": Function((1, 1), _from_json),
    "hashFiles": Function((1, 255), _hash_files),
    "case": Function((3, 2**31 - 1), _case, lazy=True),
    "success": Function((0, 0), _success),
    "failure": Function((0, 0), _failure),
    "cancelled": Function((0, 0), _cancelled),
    "always": Function((0, 0), _always),
}

STATUS_FUNCTIONS = frozenset({"success", "failure", "cancelled", "always"})
VALUE_FUNCTIONS = frozenset(FUNCTIONS) - STATUS_FUNCTIONS
