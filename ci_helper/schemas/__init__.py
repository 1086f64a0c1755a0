"""The typed figures of each check: one JSON Schema per check, owned by the gate that writes it.

``<check>.json`` beside this file is the contract between a gate and every reader
(``summary``, the canary, ``verify --run``); docs/results-schemas.md is rendered
from these files (``python -m ci_helper.schemas > docs/results-schemas.md``).

Rules, for every result read from a file:

- a check without a schema is refused: nobody can say what its figures mean;
- a figure the schema does not list is refused (``additionalProperties: false``):
  a renderer must never guess at keys no gate writes;
- a ``pass`` must carry every ``required`` figure (a bare ``{"status": "pass"}`` is
  not a verdict); ``fail`` and ``not-run`` may lack them (the gate could not measure),
  but what they carry is typed;
- numbers are finite (``NaN``, ``1e999`` are refused on read and here).
"""

from __future__ import annotations

import functools
import json
import math
from importlib import resources
from typing import Any

from ci_helper.errors import BadInput
from ci_helper.results import PASS, CheckResult

DOCS_PAGE = "docs/results-schemas.md"


@functools.cache
def known_checks() -> tuple[str, ...]:
    """Every check that has a figures schema, sorted."""
    folder = resources.files(__name__)
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json")))


@functools.cache
def schema(check: str) -> dict[str, Any] | None:
    """The JSON Schema of ``check``'s figures, or None for a check without one."""
    if check not in known_checks():
        return None
    doc: dict[str, Any] = json.loads(resources.files(__name__).joinpath(f"{check}.json").read_text(encoding="utf-8"))
    return doc


@functools.cache
def _validator(check: str, require: bool) -> Any:
    import jsonschema

    doc = dict(schema(check) or {})
    if not require:
        doc.pop("required", None)
    return jsonschema.Draft202012Validator(doc)


def _non_finite(value: Any, path: str) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        for key, item in value.items():
            found = _non_finite(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _non_finite(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"required figure '{missing[0]}' is missing" if missing else error.message
    if error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        unknown = sorted(k for k in error.instance if k not in known)
        return f"unknown figure '{unknown[0]}'" if unknown else error.message
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return f"figure '{where}' must be {' or '.join(wanted)}, got {json.dumps(error.instance)[:40]}"
    return f"figure '{where}': {error.message[:120]}"


def problems(result: CheckResult) -> list[str]:
    """What is wrong with ``result``'s figures, one short phrase each (empty when valid)."""
    if schema(result.check) is None:
        return [f"no figures schema for check '{result.check}' (ci-helper writes: {', '.join(known_checks())})"]
    bad_number = _non_finite(result.figures, "figures")
    if bad_number:
        return [f"{bad_number} is not a finite number"]
    validator = _validator(result.check, result.status == PASS)
    errors = sorted(validator.iter_errors(result.figures), key=lambda e: (list(e.absolute_path), e.validator))
    return [_describe(e) for e in errors]


def validate(result: CheckResult, where: str) -> None:
    """Raise BadInput (exit 2) naming ``where`` when the figures do not match the check's schema."""
    found = problems(result)
    if found:
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        raise BadInput(
            f"{where}: invalid {result.check} result: {found[0]}{more}; "
            f"see {DOCS_PAGE}, then re-run the gate that writes it"
        )


def title(check: str, figure: str) -> str:
    """The label of a figure (its schema ``title``), or the key itself."""
    doc = schema(check) or {}
    label: str = doc.get("properties", {}).get(figure, {}).get("title", figure)
    return label


def markdown() -> str:
    """docs/results-schemas.md, rendered from the schemas."""
    lines = [
        "# Check result figures: one schema per check",
        "",
        "<!-- Rendered from ci_helper/schemas/*.json by `python -m ci_helper.schemas`; edit the schemas, not this page. -->",
        "",
        "Every gate writes `.ci-helper/results/<check>.json` (docs/summary.md). Its `figures` object is typed",
        "by the JSON Schema `ci_helper/schemas/<check>.json`, and `summary`, the canary and `verify --run`",
        "validate every result against it before they show anything:",
        "",
        "- a check without a schema, a figure the schema does not list, a figure of the wrong type or a",
        "  non-finite number (`NaN`, `1e999`) is **invalid input**: exit 2 naming the file;",
        "- a `pass` must carry every required figure; `fail` and `not-run` may lack them (the gate",
        "  could not measure), but whatever they carry is typed.",
        "",
    ]
    for check in known_checks():
        doc = schema(check) or {}
        required = set(doc.get("required", []))
        lines += [
            f"## `{check}`",
            "",
            doc.get("description", ""),
            "",
            "| figure | type | required for pass | shown as | meaning |",
            "|---|---|---|---|---|",
        ]
        for name, prop in doc.get("properties", {}).items():
            kind = prop.get("type", "any")
            kind = " or ".join(kind) if isinstance(kind, list) else kind
            if "enum" in prop:
                kind += " (" + ", ".join(f"`{v}`" for v in prop["enum"]) + ")"
            lines.append(
                f"| `{name}` | {kind} | {'yes' if name in required else ''} | {prop.get('title', '')} "
                f"| {prop.get('description', '')} |"
            )
        lines.append("")
    return "\n".join(lines)
