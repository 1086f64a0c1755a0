"""The allow-list: findings a project accepts on purpose, each with a reason.

``[[tool.ci-helper.verify.allow]]`` entries match on ``rule`` and, when given,
``file`` (a glob on the path relative to the scanned folder), ``line`` and
``uses`` (a glob on the ``uses:`` value, for ``unpinned-uses``).
"""

from __future__ import annotations

import fnmatch

from ci_helper.errors import BadInput
from ci_helper.results import Finding
from ci_helper.settings import AllowEntry


def validate(entries: list[AllowEntry], rule_ids: tuple[str, ...]) -> None:
    for index, entry in enumerate(entries):
        where = f"[tool.ci-helper] verify.allow[{index}]"
        if entry.rule not in rule_ids:
            raise BadInput(f"{where}: unknown rule '{entry.rule}'; expected one of: {', '.join(rule_ids)}")
        if not entry.reason.strip():
            raise BadInput(f"{where}: 'reason' is empty; say why the {entry.rule} finding is accepted")


def allows(entry: AllowEntry, item: Finding) -> bool:
    if entry.rule != item.rule:
        return False
    if entry.file is not None and not fnmatch.fnmatchcase(item.file or "", entry.file):
        return False
    if entry.line is not None and entry.line != item.line:
        return False
    if entry.uses is not None and not fnmatch.fnmatchcase(str(item.data.get("uses", "")), entry.uses):
        return False
    return True


def split(findings: list[Finding], entries: list[AllowEntry]) -> tuple[list[Finding], list[Finding]]:
    """``(reported, allowed)``."""
    if not entries:
        return findings, []
    reported: list[Finding] = []
    allowed: list[Finding] = []
    for item in findings:
        (allowed if any(allows(e, item) for e in entries) else reported).append(item)
    return reported, allowed
