"""The run summary's "Determinism" section: no network, no clones, no downloads, no silent skips.

It shows the typed figures of three gates side by side, as they wrote them: ``network``
(attempts, clones, downloads and who made them), ``stubs`` (fake inference on or off) and
``skips`` (skips by reason, each budget and whether it was exceeded). Nothing is counted or
compared here: a verdict such as "over budget" is a figure of the gate that owns it. A gate
that did not run, or wrote ``not-run``, shows "not run", never 0: an absent recorder proves
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ci_helper.results import NOT_RUN, PASS, CheckResult
from ci_helper.summary.model import Run, effective_status
from ci_helper.summary.presenters import Table, number

TITLE = "Determinism"
NOT_RUN_TEXT = "not run"
# The figure is missing from a result that is not a pass (the gate could not measure it).
UNKNOWN_TEXT = "unknown"
# The checks whose figures the section shows; with none of them and no test tier, there is no section.
SOURCES = ("network", "stubs", "skips")


@dataclass
class Row:
    label: str
    value: str
    expected: str
    check: str
    # The source check's status (pass | fail | not-run); not-run also when the check wrote nothing.
    status: str


@dataclass
class Determinism:
    rows: list[Row]
    # Why a source check did not give a verdict, one line each.
    notes: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _value(result: CheckResult | None, key: str, show: Any = number) -> str:
    if result is None or result.status == NOT_RUN:
        return NOT_RUN_TEXT
    value = result.figures.get(key)
    return UNKNOWN_TEXT if value is None else show(value)


def _status(result: CheckResult | None) -> str:
    return NOT_RUN if result is None else effective_status(result)


def _on_off(value: Any) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else number(value)


def _skipped(result: CheckResult | None) -> str:
    value = _value(result, "skipped")
    tests = result.figures.get("tests") if result is not None and value not in (NOT_RUN_TEXT, UNKNOWN_TEXT) else None
    return f"{value} of {number(tests)}" if tests is not None else value


def _verdict(over: Any) -> str:
    if over is None:
        return "—"
    return "over" if over else "within"


def build(run: Run) -> Determinism | None:
    """The section for ``run``, or None when the run has no test tier and none of the source checks."""
    by_check = {c.check: c for c in run.checks if c.check in SOURCES}
    if not by_check and not run.tiers:
        return None
    network, stubs, skips = (by_check.get(name) for name in SOURCES)
    budget = skips.figures.get("total_budget") if skips is not None and skips.status != NOT_RUN else None
    rows = [
        Row("Network attempts", _value(network, "network"), "0", "network", _status(network)),
        Row("Clones", _value(network, "clones"), "0", "network", _status(network)),
        Row("Downloads", _value(network, "downloads"), "0", "network", _status(network)),
        Row("Fake inference", _value(stubs, "fake_inference", _on_off), "—", "stubs", _status(stubs)),
        Row(
            "Skipped tests",
            _skipped(skips),
            f"at most {number(budget)}" if budget is not None else "—",
            "skips",
            _status(skips),
        ),
    ]
    section = Determinism(rows)
    for name, result in zip(SOURCES, (network, stubs, skips), strict=True):
        if result is None:
            section.notes.append(f"{name}: not run: no {name} result was written")
        elif result.reason and result.status != PASS:
            section.notes.append(f"{name}: {result.reason}")
    if network is not None and network.figures.get("attempted"):
        attempted = network.figures["attempted"]
        rows_out = [[a["who"], a["kind"], a["target"], number(a["count"])] for a in attempted]
        left_out = network.figures.get("attempted_left_out") or 0
        title = "Attempts outside the allow-list" + (f" ({number(left_out)} more not listed)" if left_out else "")
        section.tables.append(Table(title, ["Test (or process)", "Kind", "Target", "Times"], rows_out))
    if skips is not None and skips.status != NOT_RUN:
        f = skips.figures
        budgets = [
            [f'"{b["pattern"]}"', _count(b.get("count")), number(b["budget"]), _verdict(b.get("over"))]
            for b in f.get("budgets") or []
        ]
        if f.get("total_budget") is not None:
            budgets.append(
                ["total", _count(f.get("skipped")), number(f["total_budget"]), _verdict(f.get("total_over"))]
            )
        if budgets:
            section.tables.append(Table("Skip budgets", ["Budget", "Skipped", "At most", "Verdict"], budgets))
        reasons = [[r["reason"], number(r["count"])] for r in f.get("reasons") or []]
        if reasons:
            left_out = f.get("reasons_left_out") or 0
            title = "Skips by reason" + (f" ({number(left_out)} more reasons not listed)" if left_out else "")
            section.tables.append(Table(title, ["Reason", "Skipped"], reasons))
    return section


def _count(value: Any) -> str:
    return UNKNOWN_TEXT if value is None else number(value)
