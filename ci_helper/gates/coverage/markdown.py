"""The markdown section for a job summary or PR comment: verdicts first, worst files first.

The job summary is rejected whole above 1 MiB and it holds every check, so
this section has its own budget (``max_bytes``) and row cap; the JSON report
always holds everything.
"""

from __future__ import annotations

from ci_helper.gates.coverage.gate import CoverageAnalysis, Verdict, format_ranges

MAX_BYTES = 64 * 1024
MAX_FILES = 30
MAX_CHANGED_FILES = 30


def _escape(text: str) -> str:
    """Keep file names from breaking a table cell or turning into markup."""
    out = text.replace("\\", "\\\\")
    for ch in "|*_`[]<>#":
        out = out.replace(ch, "\\" + ch)
    return out


def _floor(value: float | None) -> str:
    return "none" if value is None else f"{value:g}%"


def _status(failed: bool, floor: float | None) -> str:
    if floor is None:
        return "no floor"
    return "**fail**" if failed else "pass"


def render(report: CoverageAnalysis, verdict: Verdict, max_bytes: int = MAX_BYTES, max_files: int = MAX_FILES) -> str:
    """The coverage section, at most ``max_bytes`` bytes of UTF-8."""
    result = verdict.result
    figures = result.figures
    measured = "tests and the server process" if report.measure == "tests+server" else "tests only"
    if verdict.server_missing:
        measured = "tests only: the server process was declared, but no data came from it"
    lines = [
        f"### Coverage: {verdict.total_shown}% ({'pass' if result.passed else 'FAIL'})",
        "",
        f"Measured: {measured}; {len(report.data_files)} data file(s) "
        f"{'combined' if report.combined else 'read'}; branch coverage {'on' if report.branch else 'off'}.",
        "",
        "| Gate | Value | Floor | Verdict |",
        "|---|---|---|---|",
        f"| Total | {verdict.total_shown}% | {_floor(verdict.fail_under)} | {_status(verdict.total_failed, verdict.fail_under)} |",
    ]
    d = report.diff
    if d is not None:
        value = f"{verdict.diff_shown}% ({d.covered}/{d.statements} lines)" if d.statements else d.describe_empty()
        lines.append(
            f"| Changed lines vs `{_escape(d.compare_branch)}` | {value} | {_floor(figures['diff_fail_under'])} | "
            f"{_status(verdict.diff_failed, figures['diff_fail_under'])} |"
        )
    per_file_floor = figures["per_file_fail_under"]
    if per_file_floor is not None:
        lines.append(
            f"| Files under the per-file floor | {len(verdict.per_file_failures)} of {len(report.files)} | "
            f"{_floor(per_file_floor)} | {_status(bool(verdict.per_file_failures), per_file_floor)} |"
        )
    if report.measure == "tests+server":
        served = len(figures.get("server_data_files") or [])
        lines.append(
            f"| Server data (declared) | {served} data file(s) | at least 1 | "
            f"{'FAIL' if verdict.server_missing else 'pass'} |"
        )
    head = "\n".join(lines) + "\n"
    budget = max_bytes - len(head.encode("utf-8"))
    sections: list[str] = []

    if d is not None and d.missing:
        rows = [
            (name, format_ranges(c.ranges) + ("" if c.measured else " (file not in the coverage data)"))
            for name, c in d.files.items()
            if c.missing
        ]
        sections.append(
            _table(
                "Uncovered changed lines",
                ["File", "Lines"],
                [[_escape(name), ranges] for name, ranges in rows],
                MAX_CHANGED_FILES,
                budget // 2,
                "changed_lines",
            )
        )
        budget -= len(sections[-1].encode("utf-8"))

    worst = sorted(report.files, key=lambda f: (f.numbers.pc_covered, -f.numbers.n_missing, f.name))
    header = ["File", "Stmts", "Miss"] + (["Branch", "BrPart"] if report.branch else []) + ["Cover"]
    file_rows: list[list[str]] = []
    for f in worst:
        n = f.numbers
        row = [_escape(f.name), str(n.n_statements), str(n.n_missing)]
        if report.branch:
            row += [str(n.n_branches), str(n.n_partial_branches)]
        file_rows.append(row + [f"{n.pc_covered_str}%"])
    sections.append(_table("Files, worst first", header, file_rows, max_files, budget, "files"))
    return head + "".join(sections)


def _table(title: str, header: list[str], rows: list[list[str]], max_rows: int, budget: int, json_key: str) -> str:
    """A titled table of at most ``max_rows`` rows that fits in ``budget`` bytes."""
    out = f"\n#### {title}\n\n| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"
    used = len(out.encode("utf-8"))
    # Room for the "more rows" note, so adding it never breaks the budget.
    reserve = 120
    shown = 0
    for row in rows[:max_rows]:
        line = "| " + " | ".join(row) + " |\n"
        size = len(line.encode("utf-8"))
        if used + size + reserve > budget:
            break
        out += line
        used += size
        shown += 1
    if shown < len(rows):
        out += f"\n{len(rows) - shown} more not shown (see `{json_key}` in the JSON report).\n"
    return out
