"""What the dynamic hook fabricated: read its log, and suggest manifest entries for it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
            raise BadInput(
                f"{path}:{number}: corrupt fabrication log line; run `ci-helper stubs create` again"
            ) from None
        previous = entries.get(entry.name)
        if previous is None or (entry.refused and not previous.refused):
            entries[entry.name] = entry
    return [entries[name] for name in sorted(entries)]


def suggestion(fabricated: list[Fabricated]) -> dict[str, dict[str, Any]]:
    """Manifest ``modules`` entries that would declare these names; ``stubs create`` accepts them.

    A name is split at the longest fabricated module (or prefix) it lies in. At module level, a
    name used with attributes of its own is a class; else ALL_CAPS is a constant ``{}`` (an empty
    container, as it was), CamelCase a class, anything else a function returning null. Inside a
    class, a leaf is a method, a name with attributes an ``$object``. A name that is also a module
    is left to the module (declaring both would make the import replace the name).
    """
    modules = {f.name for f in fabricated if f.kind == "module"} | {f.prefix for f in fabricated}
    trees: dict[str, dict[str, Any]] = {f.name: {} for f in fabricated if f.kind == "module"}
    for item in fabricated:
        if item.kind == "module" or item.name in modules:
            continue
        parts = item.name.split(".")
        cut = next((i for i in range(len(parts) - 1, 0, -1) if ".".join(parts[:i]) in modules), len(parts) - 1)
        node = trees.setdefault(".".join(parts[:cut]), {})
        for part in parts[cut:]:
            node = node.setdefault(part, {})

    def nested(children: dict[str, Any]) -> dict[str, Any]:
        return {
            name: {"$object": nested(sub)} if sub else {"$callable": None} for name, sub in sorted(children.items())
        }

    out: dict[str, dict[str, Any]] = {}
    for module in sorted(trees):
        entry: dict[str, dict[str, Any]] = {}
        for name, children in sorted(trees[module].items()):
            if children:
                spec: dict[str, dict[str, Any]] = {}
                for member, sub in sorted(children.items()):
                    if sub:
                        spec.setdefault("attributes", {})[member] = {"$object": nested(sub)}
                    else:
                        spec.setdefault("methods", {})[member] = {"returns": None}
                entry.setdefault("classes", {})[name] = spec
            elif len(name) > 1 and name.isupper():
                entry.setdefault("constants", {})[name] = {}
            elif name[:1].isupper():
                entry.setdefault("classes", {})[name] = {}
            else:
                entry.setdefault("functions", {})[name] = {"returns": None}
        out[module] = entry
    return out
