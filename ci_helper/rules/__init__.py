"""``ci-helper verify``'s static rules over workflow and action files.

Public API::

    from ci_helper.rules import run_rules
    report = run_rules(root, settings, only={"unpinned-uses"})
    report.findings  # list[Finding]: file relative to root (posix), 1-based line/column
    report.files     # number of workflow/action files read

Each rule is one module with an id and a one-line summary; ``registry.RULES``
lists them. Every file is parsed once into ``ci_helper.workflows.Tree`` and
every rule reads that tree.

``run_rules`` raises ``BadInput`` for a missing folder, an unreadable or
malformed file, bad settings or an unknown rule id; a folder with no workflow
or action file gives an empty report with ``files == 0`` (the caller decides:
``ci-helper verify`` treats it as bad input).
"""

from __future__ import annotations

from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.record import Record
from ci_helper.results import Finding
from ci_helper.settings import Settings


class Report(Record):
    __slots__ = ("findings", "files", "allowed")
    _fields = __slots__

    def __init__(self, findings: list[Finding], files: int, allowed: list[Finding] | None = None) -> None:
        self.findings = findings
        self.files = files
        # Findings the allow-list accepted (not in `findings`).
        self.allowed: list[Finding] = [] if allowed is None else allowed

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def run_rules(root: Path, settings: Settings, only: set[str] | None = None) -> Report:
    """Parse every workflow and action under ``root`` once and run the rules (all, or ``only`` these ids)."""
    from ci_helper.rules import allow
    from ci_helper.rules.base import Context
    from ci_helper.rules.registry import RULE_IDS, RULES
    from ci_helper.workflows import load_tree

    if only is not None:
        unknown = sorted(set(only) - set(RULE_IDS))
        if unknown:
            raise BadInput(f"unknown verify rule '{unknown[0]}'; expected one of: {', '.join(RULE_IDS)}")
    root = Path(root)
    if not root.is_dir():
        raise BadInput(f"{root}: no such folder; pass the repository folder to check")
    verify = settings.verify
    allow.validate(verify.allow, RULE_IDS)
    tree = load_tree(root, verify.exclude)
    ctx = Context(tree, verify, settings.guard, settings.repository)
    findings: list[Finding] = []
    for rule in RULES:
        if only is None or rule.id in only:
            findings.extend(rule.check(ctx))
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.column or 0, RULE_IDS.index(f.rule)))
    reported, allowed = allow.split(findings, verify.allow)
    return Report(findings=reported, files=tree.files, allowed=allowed)
