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
from typing import Any


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
    """True when the combination has every ``--matrix k=v`` value given for its keys."""
    return all(_text(combination[k]) == v for k, v in chosen.items() if k in combination)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
