"""Expression values and GitHub's coercion rules (the runner's ``EvaluationResult``).

Values are plain Python objects: ``None`` (null), ``bool``, ``float`` (every
number is a double), ``str``, :class:`CIDict` (object, keys compared
case-insensitively) and ``list`` (array). Ints are accepted on the way in and
treated as doubles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, cast

NULL, BOOLEAN, NUMBER, STRING, OBJECT, ARRAY = "Null", "Boolean", "Number", "String", "Object", "Array"

# Double.TryParse(AllowLeadingSign | AllowDecimalPoint | AllowExponent), ASCII digits only.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_HEX = re.compile(r"0x([0-9a-fA-F]+)")
_OCTAL = re.compile(r"0o([0-7]+)")


def fold(text: str) -> str:
    """Ordinal-ignore-case key: a one-to-one, culture-invariant upper-casing per character, as .NET does.

    The dotless ``ı`` keeps its case: Unicode upper-cases it to ``I``, GitHub (and .NET's
    ordinal-ignore-case) keeps the two distinct.
    """
    if text.isascii():
        return text.upper()
    return "".join(c if c == "\u0131" or len(c.upper()) != 1 else c.upper() for c in text)


class CIDict(Mapping[str, Any]):
    """An object value: keeps keys as written, looks them up case-insensitively."""

    __slots__ = ("_items",)

    def __init__(self, items: Any = ()) -> None:
        self._items: dict[str, tuple[str, Any]] = {}
        pairs = items.items() if isinstance(items, Mapping) else items
        for key, value in pairs:
            self[key] = value

    def __setitem__(self, key: str, value: Any) -> None:
        folded = fold(key)
        original = self._items[folded][0] if folded in self._items else key
        self._items[folded] = (original, value)

    def __getitem__(self, key: str) -> Any:
        return self._items[fold(key)][1]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and fold(key) in self._items

    def __iter__(self) -> Iterator[str]:
        return (original for original, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __delitem__(self, key: str) -> None:
        del self._items[fold(key)]

    def __repr__(self) -> str:
        return f"CIDict({dict(self.items())!r})"

    # Mapping's __eq__ compares contents; expression equality uses identity
    # (see abstract_equal), so keep the Python one for tests and comparisons.


class FilteredArray(list[Any]):
    """The result of a ``*`` filter: an array whose later ``.x`` apply to each item."""


def kind(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, (list, tuple)):
        return ARRAY
    return OBJECT


def canonical(value: Any) -> Any:
    """Convert host data (JSON-like) to expression values: numbers become floats, dicts CIDicts."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, CIDict):
        return value
    if isinstance(value, Mapping):
        return CIDict((str(k), canonical(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return str(value)


def is_primitive(value: Any) -> bool:
    return kind(value) in (NULL, BOOLEAN, NUMBER, STRING)


def truthy(value: Any) -> bool:
    k = kind(value)
    if k == NULL:
        return False
    if k == BOOLEAN:
        return cast(bool, value)
    if k == NUMBER:
        return not (value == 0 or math.isnan(value))
    if k == STRING:
        return cast(bool, value != "")
    return True


def parse_number(text: str) -> float:
    """A string as a number, following JavaScript's ``Number()`` as the runner does."""
    text = text.strip()
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    match = _HEX.fullmatch(text)
    if match:
        digits = match.group(1).lstrip("0") or "0"
        if len(digits) > 8:
            return math.nan  # exceeds Int32
        number = int(digits, 16)
        # Int32 hex parsing is two's complement: 0xffffffff is -1.
        return float(number - (1 << 32) if number >= (1 << 31) else number)
    match = _OCTAL.fullmatch(text)
    if match:
        number = int(match.group(1), 8)
        if number >= (1 << 32):
            return math.nan
        return float(number - (1 << 32) if number >= (1 << 31) else number)
    lowered = text.lower()
    if lowered in ("infinity", "+infinity"):
        return math.inf
    if lowered == "-infinity":
        return -math.inf
    return math.nan


def to_number(value: Any) -> float:
    k = kind(value)
    if k == NULL:
        return 0.0
    if k == BOOLEAN:
        return 1.0 if value else 0.0
    if k == NUMBER:
        return float(value)
    if k == STRING:
        return parse_number(value)
    return math.nan


def format_number(number: float) -> str:
    """.NET ``ToString("G15")``: 15 significant digits, exponent form past 1e15."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"  # -0 prints as 0, as .NET does
    return format(number, ".15G")


def to_string(value: Any) -> str:
    k = kind(value)
    if k == NULL:
        return ""
    if k == BOOLEAN:
        return "true" if value else "false"
    if k == NUMBER:
        return format_number(float(value))
    if k == STRING:
        return cast(str, value)
    return k  # "Object" / "Array", as the runner prints them


def _coerce(left: Any, right: Any) -> tuple[Any, Any, str, str]:
    lk, rk = kind(left), kind(right)
    while lk != rk:
        if lk == NUMBER and rk == STRING:
            right, rk = parse_number(right), NUMBER
        elif lk == STRING and rk == NUMBER:
            left, lk = parse_number(left), NUMBER
        elif lk in (BOOLEAN, NULL):
            left, lk = to_number(left), NUMBER
        elif rk in (BOOLEAN, NULL):
            right, rk = to_number(right), NUMBER
        else:
            break
    return left, right, lk, rk


def abstract_equal(left: Any, right: Any) -> bool:
    left, right, lk, rk = _coerce(left, right)
    if lk != rk:
        return False
    if lk == NULL:
        return True
    if lk == NUMBER:
        if math.isnan(left) or math.isnan(right):
            return False
        return float(left) == float(right)
    if lk == STRING:
        return fold(left) == fold(right)
    if lk == BOOLEAN:
        return cast(bool, left == right)
    return left is right


def _compare(left: Any, right: Any) -> int | None:
    """-1/0/1 for comparable same-kind values, None otherwise (NaN, objects, mixed)."""
    left, right, lk, rk = _coerce(left, right)
    if lk != rk:
        return None
    if lk == NUMBER:
        if math.isnan(left) or math.isnan(right):
            return None
        return cast(int, (left > right) - (left < right))
    if lk == STRING:
        a, b = fold(left), fold(right)
        return (a > b) - (a < b)
    if lk == BOOLEAN:
        return int(left) - int(right)
    return None


def abstract_greater(left: Any, right: Any) -> bool:
    return _compare(left, right) == 1


def abstract_less(left: Any, right: Any) -> bool:
    return _compare(left, right) == -1
