"""What the dynamic hook fabricated: read its log, and suggest manifest entries for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ci_helper.errors import BadInput


@dataclass(frozen=True)
class Fabricated:
    name: str
    kind: str  # "module" or "attribute"
    prefix: str
    refused: bool


def read_log(path: Path) -> list[Fabricated]:
    """Distinct fabricated names, sorted; a name refused by the budget in any process stays refused."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the fabrication log ({exc}); run `ci-helper stubs create` again") from None
    entries: dict[str, Fabricated] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = Fabricated(str(raw["name"]), str(raw["kind"]), str(raw["prefix"]), bool(raw["refused"]))
        except (ValueError, KeyError, TypeError):
            raise BadInput(f"{path}:{number}: corrupt fabrication log line; run `ci-helper stubs create` again") from None
        previous = entries.get(entry.name)
        if previous is None or (entry.refused and not previous.refused):
            entries[entry.name] = entry
    return [entries[name] for name in sorted(entries)]


def suggestion(fabricated: list[Fabricated]) -> dict[str, dict]:
    """Manifest ``modules`` entries that would declare these names (classes for CamelCase, else functions)."""
    modules = {f.name for f in fabricated if f.kind == "module"}
    out: dict[str, dict] = {}
    for item in fabricated:
        if item.kind == "module":
            out.setdefault(item.name, {})
            continue
        owner, _, attr = item.name.rpartition(".")
        if owner in modules or owner == item.prefix or "." not in owner:
            section = "classes" if attr[:1].isupper() else "functions"
            out.setdefault(owner, {}).setdefault(section, {}).setdefault(attr, {} if section == "classes" else {"returns": None})
        else:
            module, _, cls = owner.rpartition(".")
            classes = out.setdefault(module, {}).setdefault("classes", {})
            classes.setdefault(cls, {}).setdefault("methods", {})[attr] = {"returns": None}
    return {name: out[name] for name in sorted(out)}
