"""Render canary outcomes: a terminal table and the `canary` check result."""

from __future__ import annotations

from ci_helper import results
from ci_helper.canary.run import Outcome
from ci_helper.results import CheckResult, Finding


def render_table(outcomes: list[Outcome]) -> str:
    headers = ("gate", "fixture", "expected", "got", "verdict")
    rows = [(o.gate, o.fixture, o.expected, o.got, "ok" if o.ok else "FAILED") for o in outcomes]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    gates = sorted({o.gate for o in outcomes})
    bitten = [g for g in gates if all(o.ok for o in outcomes if o.gate == g)]
    lines.append("")
    lines.append(f"gates proven to bite: {len(bitten)}/{len(gates)}")
    return "\n".join(lines)


def to_result(outcomes: list[Outcome]) -> CheckResult:
    gates = sorted({o.gate for o in outcomes})
    proven = [g for g in gates if all(o.ok for o in outcomes if o.gate == g)]
    findings = []
    for o in outcomes:
        if o.ok:
            continue
        if o.got == "missing":
            message = o.detail
        elif o.got == "wrong-reason":
            message = f"{o.gate} failed its bad fixture {o.fixture}, but not for its reason: {o.detail}"
        elif o.expected == "fail" and o.got == "pass":
            message = f"{o.gate} did not bite its bad fixture {o.fixture}"
        elif o.expected == "pass" and o.got != "pass":
            message = f"{o.gate} failed its good fixture {o.fixture} ({o.got}: {o.detail})"
        else:
            message = f"{o.gate} / {o.fixture}: expected {o.expected}, got {o.got} ({o.detail})"
        rule = {"pass": "canary-toothless", "missing": "canary-no-fixture", "wrong-reason": "canary-wrong-reason"}
        findings.append(
            Finding(
                rule.get(o.got, "canary-case"),
                message,
                data={"gate": o.gate, "fixture": o.fixture, "expected": o.expected, "got": o.got},
            )
        )
    figures = {"gates": len(gates), "proven": len(proven), "cases": sum(1 for o in outcomes if o.got != "missing")}
    if findings or not gates:
        return results.failed("canary", figures, findings, reason=None if gates else "no canary fixture was found")
    return results.passed("canary", figures)
