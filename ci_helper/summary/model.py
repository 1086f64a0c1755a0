"""The model of a run: check results plus test tiers, and the verdict.

The verdict is computed here and only here: green when every required check
passed and every test tier ran tests without failures. ``not-run`` is never
green, and neither is a run in which nothing ran at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper import junit, results, run_start
from ci_helper.results import FAIL, NOT_RUN, PASS, CheckResult

DEFAULT_TITLE = "ci-helper run summary"
SUMMARY_CHECK = "summary"
STALE_REASON = "stale: written before this run started"


@dataclass
class Tier:
    """One test tier: the JUnit report(s) of a test step (smoke, quality...)."""

    name: str
    report: junit.JUnitReport
    # JUnit files that were expected but do not exist: the test step did not run.
    missing: list[str] = field(default_factory=list)
    # JUnit files written before this run started (an earlier run's report): never counted.
    stale: list[str] = field(default_factory=list)
    # Why the step that writes this tier's report produced none (skipped, failed before writing).
    not_run_reason: str | None = None

    @property
    def status(self) -> str:
        if self.missing or self.stale or self.not_run_reason:
            return NOT_RUN
        return PASS if self.report.ok else FAIL

    @property
    def why(self) -> str:
        """Why the tier is red, empty when it is green."""
        r = self.report
        if self.not_run_reason:
            return self.not_run_reason
        if self.stale:
            return f"{STALE_REASON} ({', '.join(self.stale)})"
        if self.missing:
            return f"no JUnit report at {', '.join(self.missing)}: the test step did not run or did not write it"
        if r.suite_problems:
            more = len(r.suite_problems) - 1
            return r.suite_problems[0] + (f" (+{more:,} more)" if more else "")
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
            if tier.status == NOT_RUN and not (tier.stale or tier.not_run_reason):
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
                reasons.append(
                    f"{check.check} passed with 0 tests" if check.status == PASS else f"{check.check} failed"
                )
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
        figures = {
            "checks": len(self.checks),
            "required": self.required_count,
            "tests": sum(t.report.total for t in self.tiers),
            "blockers": len(self.blockers()),
        }
        findings = [results.Finding("summary-not-green", reason) for reason in self.blockers()]
        # Suite-level JUnit problems get a rule of their own: the canary proves this refusal bites.
        findings += [
            results.Finding("summary-junit-suite", f"tests: {tier.name}: {problem}", file=tier.report.path)
            for tier in self.tiers
            for problem in tier.report.suite_problems
        ]
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
            return stem[len(prefix) :], path
    return stem, path


def read_checks(folder: Path, start: float | None = None) -> list[CheckResult]:
    """Every gate's result in ``folder``, validated against its check's figures schema.

    A result written before the run started (``start``, the run's start marker) is an
    earlier run's verdict: it is shown as ``not-run`` ("stale: written before this run
    started"), never as what it says. The summary's own result is an output, never an input.
    Raises BadInput naming the file for a corrupt or invalid result.
    """
    from ci_helper import schemas

    if not folder.is_dir():
        raise results.BadInput(f"{folder}: results folder not found; run a gate first or pass --results DIR")
    checks = []
    for path in sorted(folder.glob("*.json")):
        result = results.read_result(path)
        if result.check == SUMMARY_CHECK:
            continue
        if path.name != f"{result.check}.json":
            raise results.BadInput(
                f"{path}: holds the result of check '{result.check}'; gates write "
                f"{result.check}.json, so this file was not written by one: delete it"
            )
        schemas.validate(result, str(path))
        if start is not None and run_start.written_before_run(path, start):
            result = results.not_run(result.check, f"{STALE_REASON} ({path})")
        checks.append(result)
    return sorted(checks, key=lambda r: r.check)


def load(
    results_dir: str | os.PathLike[str] | None,
    junit_paths: list[str],
    title: str | None = None,
    not_run_tiers: dict[str, str] | None = None,
) -> Run:
    """Read every check result in ``results_dir`` and parse each JUnit file into a tier.

    JUnit files given under the same name (matrix shards) are added up into one tier.
    A missing results folder is not bad input: the gates may not have run, and the
    summary must show that (red), not fail to render. Inputs written before the run's
    start marker (results and JUnit files) are stale: shown as not run, never counted.
    ``not_run_tiers`` names tiers whose producing step wrote nothing, with the reason.
    """
    run = Run(title=title or DEFAULT_TITLE)
    start = run_start.started_at()
    if results_dir is not None:
        folder = Path(results_dir)
        if folder.is_dir():
            run.checks = read_checks(folder, start)
            if not run.checks:
                run.no_gate_results = f"no check result in {folder}"
        else:
            run.input_notes.append(f"results folder {folder} not found: no gate wrote a result")
            run.no_gate_results = f"results folder {folder} not found"
    by_name: dict[str, junit.JUnitReport | None] = {}
    missing: dict[str, list[str]] = {}
    stale: dict[str, list[str]] = {}
    for spec in junit_paths:
        name, path = tier_name(spec)
        if not os.path.exists(path):
            # Not bad input: a test step that was skipped or crashed writes no report,
            # and the summary must show that tier as not run rather than fail to render.
            missing.setdefault(name, []).append(path)
            by_name.setdefault(name, None)
            continue
        if start is not None and run_start.written_before_run(Path(path), start):
            # An earlier run's report (the producer did not run, or did not delete it first).
            stale.setdefault(name, []).append(path)
            by_name.setdefault(name, None)
            continue
        report = junit.parse(path)  # malformed XML is bad input (exit 2)
        previous = by_name.get(name)
        by_name[name] = previous.merge(report) if previous is not None else report
    for name in not_run_tiers or {}:
        by_name.setdefault(name, None)

    def empty(name: str) -> junit.JUnitReport:
        return junit.JUnitReport(path=", ".join(missing.get(name, []) + stale.get(name, [])) or "(none)")

    run.tiers = [
        Tier(
            name,
            report if report is not None else empty(name),
            missing.get(name, []),
            stale.get(name, []),
            (not_run_tiers or {}).get(name),
        )
        for name, report in by_name.items()
    ]
    return run
