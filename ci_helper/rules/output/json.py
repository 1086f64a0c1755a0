"""``{"version": 1, "findings": [...], "summary": {"files": N, "findings": N}}``, paths relative to the scanned folder."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ci_helper.rules import Report

VERSION = 1


def render(report: Report, base: str = "") -> str:
    # One finding per line: readable, diffable, and written by json's C encoder
    # (an `indent=` makes json fall back to its pure-Python encoder, 10x slower).
    findings = [
        json.dumps(
            {
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "file": f.file,
                "line": f.line,
                "column": f.column,
            }
        )
        for f in report.findings
    ]
    body = ",\n  ".join(findings)
    summary = json.dumps({"files": report.files, "findings": len(report.findings)})
    if findings:
        return f'{{"version": {VERSION}, "findings": [\n  {body}\n], "summary": {summary}}}\n'
    return f'{{"version": {VERSION}, "findings": [], "summary": {summary}}}\n'
