"""``{"version": 1, "findings": [...], "summary": {"files": N, "findings": N}}``, paths relative to the scanned folder."""

from __future__ import annotations

import json

VERSION = 1


def render(report, base: str = "") -> str:
    document = {
        "version": VERSION,
        "findings": [
            {"rule": f.rule, "severity": f.severity, "message": f.message, "file": f.file, "line": f.line, "column": f.column}
            for f in report.findings
        ],
        "summary": {"files": report.files, "findings": len(report.findings)},
    }
    return json.dumps(document, indent=2) + "\n"
