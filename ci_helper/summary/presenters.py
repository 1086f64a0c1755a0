"""What each check looks like in the summary: key figure, why, facts, tables.

A presenter turns one :class:`~ci_helper.results.CheckResult` (or one test
tier) into an :class:`Entry`, a plain structure the templates render. It reads
typed figures only: every result was validated against its check's schema
(``ci_helper/schemas``) before it got here, and a figure's label is its schema
``title``. Nothing is parsed back out of a finding's message. A check with a
schema but no presenter of its own is shown generically (its figures as
``label: value``, its findings as a list). Values stay raw: escaping happens in
the renderer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ci_helper import schemas, severity
from ci_helper.junit import TestCase
from ci_helper.results import NOT_RUN, PASS, STATUS_ORDER, CheckResult, Finding
from ci_helper.summary.model import Run, Tier, effective_status

WORST_FILES = 20
WHY_LIMIT = 160


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Entry:
    """One row of the checks table and its section."""

    name: str
    status: str
    required: bool
    key_figure: str = ""
    why: str = ""
    facts: list[tuple[str, Any]] = field(default_factory=list)
    callouts: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    tests_not_kept: int = 0
    kind: str = "check"


# --- formatting of figures --------------------------------------------------


def number(value: Any) -> str:
    """1234 -> "1,234"; 38.20 -> "38.2"; other values as text."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
        return text if text not in ("-0", "") else "0"
    return str(value)


def percent(value: Any, precision: int | None = None) -> str:
    """A percentage; with ``precision`` exactly that many decimals, as the gate showed it (66.667%, never 66.67%)."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return number(value)
    if precision is not None:
        return f"{value:,.{precision}f}%"
    return f"{value:,.10g}%" if isinstance(value, float) else f"{number(value)}%"


def value_text(value: Any, items: int = 10) -> str:
    """A figure of any JSON type as one short line."""
    if value is None:
        return "—"
    if isinstance(value, list):
        shown = ", ".join(value_text(v) for v in value[:items])
        more = f", … ({len(value) - items:,} more)" if len(value) > items else ""
        return (shown + more) if value else "none"
    if isinstance(value, dict):
        pairs = list(value.items())
        shown = ", ".join(f"{k}={value_text(v)}" for k, v in pairs[:items])
        return shown + (f", … ({len(pairs) - items:,} more)" if len(pairs) > items else "")
    return number(value)


_IDENTIFIER = re.compile(r"(^|_)(pid|port|exit_code|code|year|id)$")


def fact(key: str, value: Any) -> str:
    """A figure as a fact: numbers that are identifiers (a PID, an exit code) keep no separators."""
    if isinstance(value, int) and not isinstance(value, bool) and _IDENTIFIER.search(key):
        return str(value)
    return value_text(value)


def _int(figures: dict[str, Any], key: str) -> int | None:
    value = figures.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _count(value: Any) -> int | None:
    """A figure that is a count, or a list whose length is the count."""
    if isinstance(value, list):
        return len(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _first_error(findings: list[Finding]) -> Finding | None:
    for name in severity.SEVERITIES:
        for f in findings:
            if f.severity == name:
                return f
    return None


def _why(result: CheckResult) -> str:
    status = effective_status(result)
    if status == PASS:
        return ""
    if status != result.status:
        return "reported pass, but ran 0 tests"
    if result.reason:
        return result.reason
    first = _first_error(result.findings)
    if first is None:
        return "failed without a finding"
    more = len(result.findings) - 1
    return first.message + (f" (+{more:,} more)" if more else "")


def _generic_facts(result: CheckResult) -> list[tuple[str, Any]]:
    return [(schemas.title(result.check, key), fact(key, value)) for key, value in result.figures.items()]


def _generic_key_figure(result: CheckResult) -> str:
    shown = list(result.figures.items())[:3]
    return ", ".join(f"{schemas.title(result.check, k)}: {value_text(v, 3)}" for k, v in shown)


# --- known checks -----------------------------------------------------------


_PERCENT_FIGURES = ("total", "fail_under", "diff", "diff_fail_under", "per_file_fail_under")
# Measured percentages are shown with the gate's precision; floors as the user wrote them.
_MEASURED = ("total", "diff")


def _coverage(entry: Entry, result: CheckResult) -> None:
    f = result.figures
    precision = f.get("precision")

    def shown(key: str) -> str:
        return percent(f[key], precision if key in _MEASURED else None)

    parts = []
    if f.get("total") is not None:
        floor = f" (floor {shown('fail_under')})" if f.get("fail_under") is not None else ""
        parts.append(f"total {shown('total')}{floor}")
    if f.get("diff") is not None:
        floor = f" (floor {shown('diff_fail_under')})" if f.get("diff_fail_under") is not None else ""
        parts.append(f"changed lines {shown('diff')}{floor}")
    entry.key_figure = ", ".join(parts) or ("no coverage data" if "total" in f else _generic_key_figure(result))
    entry.facts = [
        (schemas.title(result.check, k), shown(k) if k in _PERCENT_FIGURES else value_text(v))
        for k, v in f.items()
        if v is not None
    ]
    if f.get("measure") == "tests+server":
        entry.callouts.append("Coverage includes the server process: lines hit at startup count as covered.")

    worst: list[tuple[float, Finding]] = []
    changed: dict[str, list[int]] = {}
    rest: list[Finding] = []
    for finding in result.findings:
        if finding.rule == "coverage-changed-lines" and finding.file and finding.line:
            end = finding.data.get("end_line")
            last = end if isinstance(end, int) and finding.line <= end <= finding.line + 100_000 else finding.line
            changed.setdefault(finding.file, []).extend(range(finding.line, last + 1))
            continue
        pct = finding.data.get("percent") if finding.rule == "coverage-per-file" and finding.file else None
        if isinstance(pct, (int, float)) and not isinstance(pct, bool):
            worst.append((float(pct), finding))
        else:
            rest.append(finding)
    if worst:
        worst.sort(key=lambda item: (item[0], item[1].file or ""))
        title = (
            f"Worst files ({WORST_FILES} of {len(worst):,} under the floor)"
            if len(worst) > WORST_FILES
            else "Files under the floor"
        )
        entry.tables.append(
            Table(
                title,
                ["File", "Coverage"],
                [[finding.file, percent(pct, precision)] for pct, finding in worst[:WORST_FILES]],
            )
        )
    if changed:
        entry.tables.append(
            Table(
                "Uncovered changed lines",
                ["File", "Lines"],
                [[path, line_ranges(lines)] for path, lines in sorted(changed.items())],
            )
        )
    entry.findings = rest


def line_ranges(lines: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> "1-3, 7, 9-10"."""
    ordered = sorted(set(lines))
    out: list[str] = []
    start: int | None = None
    prev = 0
    for n in ordered:
        if start is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        out.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(out)


def _smoke(entry: Entry, result: CheckResult) -> None:
    f = result.figures
    tests = _int(f, "tests")
    if tests is not None:
        bits = [f"{number(_int(f, 'passed') or 0)}/{number(tests)} passed"]
        for key in ("failed", "errors", "skipped", "flaky"):
            if _int(f, key):
                bits.append(f"{number(_int(f, key))} {key}")
    elif "tests" in f:
        bits = ["tests did not run"]
    else:
        bits = [_generic_key_figure(result)] if f else []
    if isinstance(f.get("ready_seconds"), (int, float)):
        bits.append(f"ready in {number(float(f['ready_seconds']))} s")
    elif "ready_seconds" in f:
        bits.append("server never ready")
    entry.key_figure = ", ".join(b for b in bits if b)
    entry.facts = [(schemas.title(result.check, k), fact(k, v)) for k, v in f.items() if v is not None]
    entry.findings = list(result.findings)


_AUDIT_ORDER = {"vulnerable": 0, "expired": 1, "stale": 2, "not audited": 3, "ignored": 4}
# The audit gate's finding rules (gates/audit/gate.py) and the state each one is.
_AUDIT_STATES = {
    "audit-vulnerability": "vulnerable",
    "audit-ignore-expired": "expired",
    "audit-ignore-stale": "stale",
    "audit-skipped": "not audited",
    "audit-ignored": "ignored",
}


def _audit(entry: Entry, result: CheckResult) -> None:
    f = result.figures
    if "dependencies" in f or "vulnerable" in f:
        bits = [f"{number(f.get('vulnerable') or 0)} vulnerable of {number(f.get('dependencies') or 0)}"]
        for key in ("ignored", "expired", "stale", "skipped"):
            if f.get(key):
                bits.append(f"{number(f[key])} {'not audited' if key == 'skipped' else key}")
        entry.key_figure = ", ".join(bits)
    else:
        entry.key_figure = _generic_key_figure(result)
    entry.facts = [(schemas.title(result.check, k), value_text(v)) for k, v in f.items()]
    rows = []
    listed = [x for x in result.findings if x.rule in _AUDIT_STATES]
    for finding in sorted(listed, key=lambda x: _AUDIT_ORDER[_AUDIT_STATES[x.rule]]):
        d = finding.data
        state = _AUDIT_STATES[finding.rule]
        # Vulnerabilities carry their ignore entry under "ignored"; policy entries carry it flat.
        ignored = d.get("ignored")
        ignore = ignored if isinstance(ignored, dict) else d
        fixes = d.get("fix_versions") or []
        reason = ignore.get("reason") or d.get("skip_reason")
        rows.append(
            [
                state,
                d.get("package") or "any",
                d.get("version") or "—",
                d.get("id") or finding.rule,
                value_text(fixes) if fixes else "—",
                reason or ("none" if state == "vulnerable" else "—"),
                ignore.get("expires") or "—",
            ]
        )
    if rows:
        entry.tables.append(
            Table(
                "Vulnerabilities and ignores",
                ["State", "Package", "Version", "ID", "Fix versions", "Reason", "Expires"],
                rows,
            )
        )
    entry.findings = [x for x in result.findings if x.rule not in _AUDIT_STATES]


def _stubs(entry: Entry, result: CheckResult) -> None:
    f = result.figures
    fake = f.get("fake_inference")
    bits = []
    if isinstance(fake, bool):
        bits.append(f"fake inference {'on' if fake else 'off'}")
        if fake:
            entry.callouts.append(
                "Fake inference was on: green inference tests did not exercise the real model pipeline."
            )
    # Fabricated names (counted after the tiers ran) before the declared counts: a cut line keeps them.
    fabricated, budget = f.get("fabricated"), f.get("dynamic_budget")
    if isinstance(fabricated, int) and fabricated:
        bits.append(f"{number(fabricated)} fabricated" + (f" (budget {number(budget)})" if budget is not None else ""))
    for key in ("modules", "repositories"):
        if isinstance(f.get(key), int):
            bits.append(f"{number(f[key])} {key}")
    entry.key_figure = ", ".join(bits) or _generic_key_figure(result)
    entry.facts = [
        (
            schemas.title(result.check, k),
            ("on" if v else "off") if k == "fake_inference" and isinstance(v, bool) else value_text(v),
        )
        for k, v in f.items()
    ]
    entry.findings = list(result.findings)


def _guardrails(entry: Entry, result: CheckResult) -> None:
    f = result.figures
    bits = [str(f[k]) for k in ("repository", "event") if f.get(k)]
    if f.get("base"):
        bits.append(f"into {f['base']}")
    elif f.get("ref"):
        bits.append(str(f["ref"]))
    entry.key_figure = " · ".join(bits) or _generic_key_figure(result)
    entry.facts = _generic_facts(result)
    entry.findings = list(result.findings)


def _plural(count: int, word: str) -> str:
    return f"{number(count)} {word if count == 1 else word + 's'}"


def _counts(first: str, second: str, describe: Callable[[int, int], str]) -> Callable[[Entry, CheckResult], None]:
    def present(entry: Entry, result: CheckResult) -> None:
        f = result.figures
        a, b = _count(f.get(first)), _count(f.get(second))
        entry.key_figure = describe(a, b) if a is not None and b is not None else _generic_key_figure(result)
        entry.facts = _generic_facts(result)
        entry.findings = list(result.findings)

    return present


def _deps(entry: Entry, result: CheckResult) -> None:
    f = result.figures
    total = _count(f.get("requirements"))
    if total is not None:
        bits = [f"{number(_count(f.get('mismatched')) or 0)} of {_plural(total, 'requirement')} mismatched"]
        if _count(f.get("missing")):
            bits.append(f"{number(_count(f.get('missing')))} missing")
        entry.key_figure = ", ".join(bits)
    else:
        entry.key_figure = _generic_key_figure(result)
    entry.facts = _generic_facts(result)
    entry.findings = list(result.findings)


PRESENTERS: dict[str, Callable[[Entry, CheckResult], None]] = {
    "coverage": _coverage,
    "smoke": _smoke,
    "audit": _audit,
    "stubs": _stubs,
    "guardrails": _guardrails,
    "verify": _counts("findings", "files", lambda a, b: f"{_plural(a, 'finding')} in {_plural(b, 'file')}"),
    "deps": _deps,
    "canary": _counts("proven", "gates", lambda a, b: f"gates proven to bite: {number(a)}/{number(b)}"),
}


def _generic(entry: Entry, result: CheckResult) -> None:
    entry.key_figure = _generic_key_figure(result)
    entry.facts = _generic_facts(result)
    entry.findings = list(result.findings)


def present_check(result: CheckResult) -> Entry:
    entry = Entry(name=result.check, status=effective_status(result), required=result.required, why=_why(result))
    PRESENTERS.get(result.check, _generic)(entry, result)
    if result.status == NOT_RUN:
        entry.callouts.insert(0, f"Not run: {result.reason}")
    # Errors first, then warnings, then notes; stable within each.
    entry.findings.sort(key=lambda x: severity.level(x.severity).rank)
    return entry


def present_tier(tier: Tier) -> Entry:
    r = tier.report
    bits = [f"{number(r.total)} tests", f"{number(r.passed)} passed"]
    for label, count in (("failed", r.failed), ("errors", r.errors), ("skipped", r.skipped), ("flaky", r.flaky)):
        if count:
            bits.append(f"{number(count)} {label}")
    entry = Entry(
        name=f"tests: {tier.name}",
        status=tier.status,
        required=True,
        kind="tests",
        key_figure=", ".join(bits),
        why=tier.why,
        facts=[
            ("Report", r.path),
            ("Tests", number(r.total)),
            ("Passed", number(r.passed)),
            ("Failed", number(r.failed)),
            ("Errors", number(r.errors)),
            ("Skipped", number(r.skipped)),
            ("Flaky (passed on rerun)", number(r.flaky)),
            ("Time (s)", number(round(r.time, 2))),
        ],
        tests=list(r.problems),
        tests_not_kept=r.problems_dropped,
    )
    if tier.status == NOT_RUN:
        entry.callouts.append(f"Not run: {tier.why}.")
        if not r.total:
            entry.key_figure = "stale report, not counted" if tier.stale else "no report"
    elif r.total == 0:
        entry.callouts.append("No tests ran: a tier that runs nothing is red, never green.")
    elif r.ran == 0:
        entry.callouts.append(
            f"All {number(r.skipped)} tests were skipped: a tier that runs nothing is red, never green."
        )
    return entry


def entries(run: Run) -> list[Entry]:
    """Every tier and check, red first (failed, then not run, then passed), tiers before checks."""
    listed = [present_tier(t) for t in run.tiers] + [present_check(c) for c in run.checks]
    return sorted(listed, key=lambda e: (STATUS_ORDER[e.status], 0 if e.kind == "tests" else 1))
