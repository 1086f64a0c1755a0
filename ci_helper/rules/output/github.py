"""GitHub workflow-command annotations, one per finding, paths from the repository root."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_helper import gha
from ci_helper.rules.output.text import summary_line
from ci_helper.severity import level

if TYPE_CHECKING:
    from ci_helper.rules import Report


def render(report: Report, base: str = "") -> str:
    prefix = base.rstrip("/") + "/" if base and base != "." else ""
    lines = [
        gha.annotation(
            level(item.severity).annotation,
            item.message,
            file=prefix + (item.file or ""),
            line=item.line,
            column=item.column,
            title=item.rule,
        )
        for item in report.findings
    ]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
