"""Human-readable report: findings grouped by file, with line:column, severity and rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ci_helper.severity import level

if TYPE_CHECKING:
    from ci_helper.rules import Report


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(report: Report) -> str:
    files = _plural(report.files, "file")
    if report.findings:
        line = (
            f"{_plural(len(report.findings), 'finding')} ({_plural(report.errors, 'error')}, "
            f"{_plural(report.warnings, 'warning')}) in {files}"
        )
    else:
        line = f"no findings in {files}"
    if report.allowed:
        line += f"; {len(report.allowed)} allowed by [tool.ci-helper.verify] allow"
    return line


def render(report: Report, base: str = "") -> str:
    lines: list[str] = []
    width = max((len(f"{f.line}:{f.column}") for f in report.findings), default=0)
    current = None
    for item in report.findings:
        if item.file != current:
            if current is not None:
                lines.append("")
            current = item.file
            lines.append(item.file or "(no file)")
        where = f"{item.line}:{item.column}"
        lines.append(f"  {where:<{width}}  {level(item.severity).text:<7}  {item.rule:<19}  {item.message}")
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
