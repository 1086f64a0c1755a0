"""pip-audit's JSON report (``pip-audit -f json``) as a small typed model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name


@dataclass(frozen=True)
class Vulnerability:
    id: str
    aliases: tuple[str, ...] = ()
    fix_versions: tuple[str, ...] = ()
    description: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclass
class Dependency:
    name: str
    version: str | None = None
    vulns: list[Vulnerability] = field(default_factory=list)
    # Set when pip-audit could not audit this dependency (e.g. not on the index).
    skip_reason: str | None = None

    @property
    def canonical_name(self) -> str:
        return canonicalize_name(self.name)


def _vulnerability(raw: Any) -> Vulnerability:
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("id"), str)
        or not all(isinstance(raw.get(key, []), list) for key in ("aliases", "fix_versions"))
    ):
        raise ValueError(f"malformed vulnerability entry: {raw!r}")
    return Vulnerability(
        id=raw["id"],
        # pip-audit keeps aliases in a set: sort them so output is stable.
        aliases=tuple(sorted(str(a) for a in raw.get("aliases", []))),
        fix_versions=tuple(str(f) for f in raw.get("fix_versions", [])),
        description=raw.get("description"),
    )


@dataclass
class AuditReport:
    dependencies: list[Dependency]

    @classmethod
    def from_json(cls, raw: Any) -> AuditReport:
        """Parse pip-audit's JSON; raises ``ValueError`` when it is not that shape."""
        if not isinstance(raw, dict) or not isinstance(raw.get("dependencies"), list):
            raise ValueError("expected an object with a 'dependencies' list")
        deps = []
        for item in raw["dependencies"]:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ValueError(f"malformed dependency entry: {item!r}")
            skip_reason = item.get("skip_reason")
            if skip_reason is None and not isinstance(item.get("vulns"), list):
                # An entry pip-audit audited always carries its list, empty when clean.
                raise ValueError(f"dependency {item['name']!r} has no 'vulns' list and no skip_reason")
            vulns = [_vulnerability(v) for v in item.get("vulns") or []]
            deps.append(Dependency(item["name"], item.get("version"), vulns, skip_reason))
        return cls(deps)
