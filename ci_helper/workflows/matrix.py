"""A job's ``strategy.matrix`` expanded into its combinations, as GitHub expands it.

The base keys give their cartesian product (in the order written); ``exclude``
removes each combination that matches an entry on all of that entry's keys;
then each ``include`` entry is added to every original combination whose
original values it does not change, or becomes a combination of its own when
it fits none. A matrix built by an expression (``${{ fromJSON(...) }}``) cannot
be expanded before the run: :func:`expand` says so instead.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from ci_helper.workflows.model import PlainText


class MatrixError(Exception):
    """The matrix cannot be expanded here (an expression builds it, or it is malformed)."""


def expand(matrix: Any) -> list[dict[str, Any]]:
    """Every combination, in GitHub's order; ``[{}]`` for a job without a matrix."""
    if matrix is None:
        return [{}]
    if isinstance(matrix, str):
        raise MatrixError(f"the matrix is an expression ({matrix.strip()}), expanded only when the run starts")
    if not isinstance(matrix, dict):
        raise MatrixError("strategy.matrix must be a mapping")
    base: dict[str, list[Any]] = {}
    for key, values in matrix.items():
        if key in ("include", "exclude"):
            continue
        if isinstance(values, str):
            raise MatrixError(
                f"matrix key '{key}' is an expression ({values.strip()}), expanded only when the run starts"
            )
        if not isinstance(values, list):
            raise MatrixError(f"matrix key '{key}' must be a list")
        base[key] = values
    combinations = (
        [dict(zip(base, values, strict=True)) for values in itertools.product(*base.values())] if base else []
    )
    for entry in _entries(matrix.get("exclude"), "exclude"):
        combinations = [c for c in combinations if not all(c.get(k) == v for k, v in entry.items())]
    original = list(combinations)
    extra: list[dict[str, Any]] = []
    for entry in _entries(matrix.get("include"), "include"):
        fitted = False
        for combination in original:
            if all(combination[k] == v for k, v in entry.items() if k in base):
                combination.update(entry)
                fitted = True
        if not fitted:
            extra.append(dict(entry))
    return original + extra


def _entries(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        raise MatrixError(f"matrix {what} is an expression ({value.strip()}), expanded only when the run starts")
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise MatrixError(f"matrix {what} must be a list of mappings")
    return value


def label(combination: dict[str, Any]) -> str:
    """``3.12, ubuntu``: how GitHub names a combination after the job's name."""
    return ", ".join(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in combination.values())


def matches(combination: dict[str, Any], chosen: dict[str, str]) -> bool:
    """True when the combination has every ``--matrix k=v`` value given for its keys.

    A key is found whatever its case (GitHub's contexts ignore case). A value is selected by its text as written
    (``3.12`` selects ``"3.12"`` and ``3.12``), and a value written without quotes also by the value YAML reads
    and GitHub hands to the job (``3.1`` selects an unquoted ``3.10``, ``True`` selects ``true``, ``16`` selects
    ``0x10``): the same value, whatever the spelling.
    """
    for key, given in chosen.items():
        found = key_of(combination, key)
        if found is not None and not _selects(combination[found], given):
            return False
    return True


def key_of(combination: dict[str, Any], key: str) -> str | None:
    """The combination's own spelling of ``key`` (GitHub's contexts ignore case), or None."""
    if key in combination:
        return key
    folded = key.casefold()
    return next((k for k in combination if k.casefold() == folded), None)


def _selects(value: Any, given: str) -> bool:
    if text(value) == given:
        return True
    if value is not None and not isinstance(value, PlainText):
        return False  # quoted: a string, only its own text selects it
    written, typed = _core_value("" if value is None else value), _core_value(given)
    return written is not None and written == typed


# YAML 1.2's core schema, which GitHub reads workflows with (YAML 1.1's yes/no/on/off and 010 octal are not in it).
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)")


def _core_value(text: str) -> tuple[str, Any] | None:
    """What an unquoted scalar means: ("null", None), ("bool", b), ("number", x); None for a plain string."""
    if text in ("", "~", "null", "Null", "NULL"):
        return ("null", None)
    if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return ("bool", text[0] in "tT")
    if _INT.fullmatch(text):
        base = 16 if text.startswith("0x") else 8 if text.startswith("0o") else 10
        return ("number", float(int(text[2:] if base != 10 else text, base)))
    if _FLOAT.fullmatch(text):
        return ("number", float(text.lower().replace(".inf", "inf")))
    return None  # a string (.nan too: NaN equals nothing, as in GitHub's expressions)


def text(value: Any) -> str:
    """A value as written (a mapping or list as compact JSON)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
