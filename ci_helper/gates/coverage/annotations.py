"""GitHub annotations on uncovered changed lines (only inside Actions)."""

from __future__ import annotations

from typing import IO

from ci_helper import gha
from ci_helper.gates.coverage.gate import CoverageAnalysis, Verdict

# GitHub shows only the first few annotations of a step; more is noise in the log.
MAX_ANNOTATIONS = 50


def emit(report: CoverageAnalysis, verdict: Verdict, stream: IO[str] | None = None) -> int:
    """Print one annotation per uncovered range of changed lines; returns how many."""
    if report.diff is None:
        return 0
    level = "error" if verdict.diff_failed else "warning"
    count = 0
    for name, changed in report.diff.files.items():
        for start, end in changed.ranges:
            if count >= MAX_ANNOTATIONS:
                return count
            lines = f"Line {start} is" if start == end else f"Lines {start}-{end} are"
            gha.emit_annotation(
                level,
                f"{lines} changed but not covered by the tests.",
                stream,
                file=name,
                line=start,
                end_line=end,
                title="Uncovered changed lines",
            )
            count += 1
    return count
