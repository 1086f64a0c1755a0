"""The JSON report: totals, files and changed lines of the one analysis.

Per-file and total ``summary`` objects use the keys and values of coverage's
own JSON report (``coverage json``), so tools that read one can read the other.
"""

from __future__ import annotations

import json
from typing import Any

from coverage.results import Numbers

from ci_helper.gates.coverage.gate import CoverageAnalysis, Verdict

FORMAT = 1


def summary(numbers: Numbers, branch: bool) -> dict[str, Any]:
    """coverage's JSON ``summary`` object for these numbers."""
    out: dict[str, Any] = {
        "covered_lines": numbers.n_executed,
        "num_statements": numbers.n_statements,
        "percent_covered": numbers.pc_covered,
        "percent_covered_display": numbers.pc_covered_str,
        "missing_lines": numbers.n_missing,
        "excluded_lines": numbers.n_excluded,
        "percent_statements_covered": numbers.pc_statements,
        "percent_statements_covered_display": numbers.pc_statements_str,
    }
    if branch:
        out.update(
            {
                "num_branches": numbers.n_branches,
                "num_partial_branches": numbers.n_partial_branches,
                "covered_branches": numbers.n_executed_branches,
                "missing_branches": numbers.n_missing_branches,
                "percent_branches_covered": numbers.pc_branches,
                "percent_branches_covered_display": numbers.pc_branches_str,
            }
        )
    return out


def render(report: CoverageAnalysis, verdict: Verdict) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    files: dict[str, Any] = {}
    for f in report.files:
        entry: dict[str, Any] = {
            "summary": summary(f.numbers, report.branch),
            "missing_lines": f.missing_lines,
            "excluded_lines": f.excluded_lines,
        }
        if report.branch:
            entry["missing_branches"] = [list(arc) for arc in f.missing_branches]
        files[f.name] = entry
    changed: dict[str, Any] | None = None
    d = report.diff
    if d is not None:
        changed = {
            "compare_branch": d.compare_branch,
            "merge_base": d.merge_base,
            "num_statements": d.statements,
            "covered_lines": d.covered,
            "missing_lines": d.missing,
            "percent_covered": d.percent,
            "percent_covered_display": d.display,
            "files": {
                name: {"statements": c.statements, "missing_lines": c.missing, "measured": c.measured}
                for name, c in d.files.items()
            },
            "files_left_out": d.left_out,
        }
    figures = verdict.result.figures
    return {
        "meta": {
            "format": FORMAT,
            "branch_coverage": report.branch,
            "precision": report.precision,
            "measure": report.measure,
            "data_files": [r.figure() for r in report.data_file_records],
            "run_started_at": report.run_started_at,
            "server_data_files": figures["server_data_files"],
        },
        "verdict": verdict.result.status,
        "gates": {
            "fail_under": figures["fail_under"],
            "per_file_fail_under": figures["per_file_fail_under"],
            "diff_fail_under": figures["diff_fail_under"],
            "total_failed": verdict.total_failed,
            "files_under_per_file_floor": [f.name for f in verdict.per_file_failures],
            "diff_failed": verdict.diff_failed,
            "server_missing": verdict.server_missing,
        },
        "totals": summary(report.totals, report.branch),
        "files": files,
        "changed_lines": changed,
    }


def dumps(report: CoverageAnalysis, verdict: Verdict) -> str:
    # Compact on purpose: an indent switches json to its pure-Python encoder, seconds on a big project.
    return json.dumps(render(report, verdict), separators=(",", ":"), allow_nan=False) + "\n"
