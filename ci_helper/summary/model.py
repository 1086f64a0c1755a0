"""The model of a run: check results plus test tiers, and the verdict.

The verdict is computed here and only here: green when every required check
passed and every test tier ran tests without failures. ``not-run`` is never
green, and neither is a run in which nothing ran at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper import junit, results
from ci_helper.results import FAIL, NOT_RUN, PASS, CheckResult

DEFAULT_TITLE = "ci-helper run summary"
SUMMARY_CHECK = "summary"


@dataclass
class Tier:
    """One test tier: the JUnit report(s) of a test step (smoke, quality...)."""

    name: str
    report: junit.JUnitReport
    # JUnit files that were expected but do not exist: the test step did not run.
    missing: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.missing:
            return NOT_RUN
        return PASS if self.report.ok else FAIL

    @property
    def why(self) -> str:
        """Why the tier is red, empty when it is green."""
        r = self.report
        if self.missing:
            return f"no JUnit report at {', '.join(self.missing)}: the test step did not run or did not write it"
        if r.total == 0:
            return "no tests ran"
        if r.ran == 0:
            return f"no tests ran ({r.skipped:,} skipped)"
        parts = []
        if r.failed:
            parts.append(f"{r.failed:,} failed")
        if r.errors:
            parts.append(f"{r.errors:,} errors" if r.errors != 1 else "1 error")
        return ", ".join(parts)


def effective_status(result: CheckResult) -> str:
    """The gate's status, except that a pass which ran zero tests is a fail."""
    if result.status == PASS and "tests" in result.figures:
        tests = result.figures["tests"]
        # 0.0 renders as "0/0 passed" and null as "tests did not run": neither is a count of tests that ran.
        if isinstance(tests, bool) or not isinstance(tests, (int, float)) or tests <= 0:
            return FAIL
    return result.status


@dataclass
class Run:
    """Everything one summary shows."""

    title: str = DEFAULT_TITLE
    checks: list[CheckResult] = field(default_factory=list)
    tiers: list[Tier] = field(default_factory=list)
    # Facts about the inputs themselves (e.g. the results folder was missing).
    input_notes: list[str] = field(default_factory=list)
    # Why no gate result was read from the results folder (missing or empty); None when some was.
    no_gate_results: str | None = None

    def blockers(self) -> list[str]:
        """One short reason per thing that keeps the run from being green."""
        reasons: list[str] = []
        if not self.checks and not self.tiers:
            reasons.append("nothing ran: no check results and no test reports")
        for tier in self.tiers:
            if tier.status == NOT_RUN:
                reasons.append(f"tests: {tier.name} did not run (no JUnit report)")
            elif tier.status != PASS:
                reasons.append(f"tests: {tier.name}: {tier.why}")
        for check in self.checks:
            if not check.required:
                continue
            status = effective_status(check)
            if status == NOT_RUN:
                reasons.append(f"{check.check} did not run")
            elif status == FAIL:
                reasons.append(f"{check.check} passed with 0 tests" if check.status == PASS else f"{check.check} failed")
        if self.tiers and self.no_gate_results:
            # Passing tests alone are not a green run when the gates wrote nothing where we look.
            reasons.append(f"no gate ran: {self.no_gate_results}")
        return reasons

    @property
    def green(self) -> bool:
        return not self.blockers()

    @property
    def exit_code(self) -> int:
        return 0 if self.green else 1

    def to_result(self) -> CheckResult:
        """The verdict as a ``summary`` check result (for the canary and ``verify --run``)."""
        figures = {"checks": len(self.checks), "required": self.required_count,
                   "tests": sum(t.report.total for t in self.tiers), "blockers": len(self.blockers())}
        findings = [results.Finding("summary-not-green", reason) for reason in self.blockers()]
        if self.green:
            return results.passed(SUMMARY_CHECK, figures)
        return results.failed(SUMMARY_CHECK, figures, findings)

    @property
    def required_count(self) -> int:
        return sum(1 for c in self.checks if c.required) + len(self.tiers)


def tier_name(path: str) -> tuple[str, str]:
    """``NAME=PATH`` -> (NAME, PATH); a bare path is named after its file stem."""
    if "=" in path and not os.path.exists(path):
        name, _, rest = path.partition("=")
        if name and rest:
            return name, rest
    stem = Path(path).stem
    for prefix in ("junit-", "junit_", "junit."):
        if stem.startswith(prefix) and len(stem) > len(prefix):
            return stem[len(prefix):], path
    return stem, path


def load(results_dir: str | os.PathLike[str] | None, junit_paths: list[str], title: str | None = None) -> Run:
    """Read every check result in ``results_dir`` and parse each JUnit file into a tier.

    JUnit files given under the same name (matrix shards) are added up into one tier.
    A missing results folder is not bad input: the gates may not have run, and the
    summary must show that (red), not fail to render.
    """
    run = Run(title=title or DEFAULT_TITLE)
    if results_dir is not None:
        folder = Path(results_dir)
        if folder.is_dir():
            # The summary's own result (--write-result) is an output, never an input.
            run.checks = [c for c in results.read_results(folder) if c.check != SUMMARY_CHECK]
            if not run.checks:
                run.no_gate_results = f"no check result in {folder}"
        else:
            run.input_notes.append(f"results folder {folder} not found: no gate wrote a result")
            run.no_gate_results = f"results folder {folder} not found"
    by_name: dict[str, junit.JUnitReport | None] = {}
    missing: dict[str, list[str]] = {}
    for spec in junit_paths:
        name, path = tier_name(spec)
        if not os.path.exists(path):
            # Not bad input: a test step that was skipped or crashed writes no report,
            # and the summary must show that tier as not run rather than fail to render.
            missing.setdefault(name, []).append(path)
            by_name.setdefault(name, None)
            continue
        report = junit.parse(path)  # malformed XML is bad input (exit 2)
        previous = by_name.get(name)
        by_name[name] = previous.merge(report) if previous is not None else report
    run.tiers = [Tier(name, report if report is not None else junit.JUnitReport(path=", ".join(missing[name])),
                      missing.get(name, []))
                 for name, report in by_name.items()]
    return run
