"""The ignore policy: ``[tool.ci-helper.audit] ignore = [{id, package, reason, expires}]``.

pip-audit's own ``--ignore-vuln ID`` has no reason and no end: an ignore
written in a hurry stays forever. Here every entry must say why and until
when; an entry is honoured up to and including its ``expires`` date (UTC) and
turns the audit red from the day after.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from ci_helper import limits
from ci_helper.errors import BadInput
from ci_helper.gates.audit.report import Vulnerability
from ci_helper.settings import AuditIgnore, Settings


@dataclass(frozen=True)
class IgnoreRule:
    index: int
    id: str
    reason: str
    expires: dt.date
    package: str | None = None  # canonical name; None matches any package

    @property
    def label(self) -> str:
        """How messages name the entry: ``ignore[0] PYSEC-2024-1 (jinja2)``."""
        scope = f" ({self.package})" if self.package else ""
        return f"ignore[{self.index}] {self.id}{scope}"

    def matches(self, package: str, vuln: Vulnerability) -> bool:
        if self.package is not None and self.package != canonicalize_name(package):
            return False
        wanted = self.id.casefold()
        return any(i.casefold() == wanted for i in vuln.ids)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


def _date(value: str, where: str) -> dt.date:
    # fromisoformat alone also accepts 20261231 and week dates on 3.11+; the
    # policy promises YYYY-MM-DD, so hold it to exactly that shape.
    parts = value.split("-")
    if len(value) != 10 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise BadInput(f"{where}: expires '{value}' is not a date; write it as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadInput(f"{where}: expires '{value}' is not a valid date ({exc}); write it as YYYY-MM-DD") from None


def load(entries: list[AuditIgnore]) -> list[IgnoreRule]:
    """Validate settings entries; a blank id or reason or a bad date is bad input naming the entry."""
    rules = []
    for index, entry in enumerate(entries):
        where = f"[tool.ci-helper.audit] ignore[{index}]"
        if not entry.id.strip():
            raise BadInput(f"{where}: 'id' is empty; give the vulnerability id (e.g. PYSEC-2024-1 or a CVE)")
        where = f"{where} ({entry.id})"
        if not entry.reason.strip():
            raise BadInput(f"{where}: 'reason' is empty; say why the vulnerability is accepted")
        package = entry.package.strip() if entry.package is not None else None
        if package == "":
            raise BadInput(f"{where}: 'package' is empty; name the package or leave the key out")
        rules.append(
            IgnoreRule(
                index=index,
                id=entry.id.strip(),
                reason=entry.reason.strip(),
                expires=_date(entry.expires.strip(), where),
                package=canonicalize_name(package) if package else None,
            )
        )
    return rules


def load_settings(policy: str | None, project_dir: str = ".") -> Settings:
    """Settings from ``--policy`` (a TOML file with ``[tool.ci-helper]``, or its folder) or ``project_dir``."""
    from pathlib import Path

    from ci_helper import settings

    if policy is None:
        return settings.load(project_dir)
    path = Path(policy)
    if path.is_dir():
        if not (path / "pyproject.toml").is_file():
            raise BadInput(f"--policy {policy}: no pyproject.toml in that folder")
        return settings.load(path)
    if not path.is_file():
        raise BadInput(f"--policy {policy}: file not found")
    if path.name == "pyproject.toml":
        return settings.load(path.parent)
    # Any other TOML file holding a [tool.ci-helper] table, e.g. audit-policy.toml.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--policy {policy}: cannot read TOML ({exc})") from None
    except limits.PARSE_ERRORS as exc:
        raise BadInput(f"--policy {policy}: cannot read TOML ({limits.why(exc)})") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise BadInput(f"--policy {policy}: [tool] must be a table")
    table = tool.get("ci-helper", {})
    if not isinstance(table, dict):
        raise BadInput(f"--policy {policy}: [tool.ci-helper] must be a table")
    loaded = settings.from_table(table)
    loaded.project_root = path.parent
    return loaded
