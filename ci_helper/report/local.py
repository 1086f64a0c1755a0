"""The CI run report of a local or CI run: inventory, signal integrity, invariants, verdict.

Built from what the run left (check results, JUnit files), the workflow model and
``git diff`` against the base. It only reads and judges; ``render.py`` writes it.
"merge-ready" only when every invariant holds; an invariant that could not be
measured does not hold.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper import junit, results
from ci_helper.errors import BadInput
from ci_helper.settings import Settings

# Verify rules whose findings mean a gate can pass without proving anything.
MUTING_RULES = ("muted-gate", "skipped-gate", "muted-action")
PINNING_RULES = ("unpinned-uses",)


@dataclass
class StepEntry:
    label: str
    line: int
    gate: bool
    continue_on_error: str | None
    condition: str | None
    # A gate whose failure fails its job: a gate step no `continue-on-error` can turn green.
    required: bool = False
    outcome: str | None = None  # what the run did with it (None: the report was built from results alone)
    conclusion: str | None = None


@dataclass
class JobEntry:
    id: str
    name: str
    line: int
    gate: bool
    steps: list[StepEntry]
    required: bool = False  # runs a gate and no `continue-on-error` on the job
    outcome: str | None = None  # success | failure | cancelled | skipped | not-run; None: not known
    reason: str = ""  # why it was skipped or not run


@dataclass
class JobRun:
    """What a run did with one job: a local dry run knows it, a report from results alone does not."""

    outcome: str  # success | failure | cancelled | skipped | not-run (CI would run it, this run could not)
    steps: list[tuple[str, str]] = field(default_factory=list)  # (outcome, conclusion) per step, in order
    reason: str = ""


@dataclass
class WorkflowEntry:
    rel: str
    triggers: list[str]
    jobs: list[JobEntry]


@dataclass
class TierEntry:
    name: str
    file: str
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    first_failure: str | None


@dataclass
class ChangedFile:
    """A changed file and, when the coverage gate counted it, its coverage (from the gate's figures)."""

    file: str
    statements: int | None = None
    missing: int | None = None
    changed_statements: int | None = None
    changed_missing: int | None = None
    measured: bool | None = None

    @property
    def covered(self) -> int | None:
        return None if self.statements is None or self.missing is None else self.statements - self.missing

    @property
    def changed_covered(self) -> int | None:
        if self.changed_statements is None or self.changed_missing is None:
            return None
        return self.changed_statements - self.changed_missing


@dataclass
class Invariant:
    name: str
    holds: bool
    evidence: str


@dataclass
class LocalReport:
    root: str
    workflows: list[WorkflowEntry]
    checks: list[results.CheckResult]
    tiers: list[TierEntry]
    changed_files: list[ChangedFile] | None  # None: no git or no base to compare with
    base: str | None
    verify_findings: list[results.Finding]
    invariants: list[Invariant] = field(default_factory=list)
    # Tiers whose producing step wrote no report this run, with why (a local dry run knows).
    tiers_not_run: dict[str, str] = field(default_factory=dict)
    # Why the changed files show no coverage (None: they do, or there is no changed file).
    coverage_note: str | None = None

    @property
    def merge_ready(self) -> bool:
        return bool(self.invariants) and all(i.holds for i in self.invariants)

    @property
    def verdict(self) -> str:
        return "merge-ready" if self.merge_ready else "not merge-ready"


def _muted(value: str | None) -> bool:
    """A ``continue-on-error`` that may be true (a literal true or an expression) mutes its gate."""
    return value is not None and value.strip().lower() not in ("false", "")


def _inventory(
    root: Path, settings: Settings, runs: dict[tuple[str, str], JobRun] | None = None
) -> list[WorkflowEntry]:
    from ci_helper.rules.gate_commands import GateMatcher
    from ci_helper.workflows import load_tree

    tree = load_tree(root, settings.verify.exclude)
    matcher = GateMatcher(tree, settings.verify.gate_patterns)
    entries = []
    for workflow in tree.workflows:
        default = workflow.default_shell.value if workflow.default_shell else None
        jobs = []
        for job in workflow.jobs:
            shell = job.default_shell.value if job.default_shell else default
            run = (runs or {}).get((workflow.rel, job.id))
            outcomes = run.steps if run is not None and len(run.steps) == len(job.steps) else []
            steps = []
            for index, s in enumerate(job.steps):
                gate = matcher.step(s, shell)
                muted = s.continue_on_error.value if s.continue_on_error is not None else None
                outcome, conclusion = outcomes[index] if outcomes else (None, None)
                steps.append(
                    StepEntry(
                        label=s.label,
                        line=s.line,
                        gate=gate,
                        continue_on_error=muted,
                        condition=s.if_.value if s.if_ is not None else None,
                        required=gate and not _muted(muted),
                        outcome=outcome,
                        conclusion=conclusion,
                    )
                )
            name = job.name.value if job.name is not None else job.id
            gate = job.uses is not None or any(s.gate for s in steps)
            job_muted = job.continue_on_error.value if job.continue_on_error is not None else None
            jobs.append(
                JobEntry(
                    job.id,
                    name,
                    job.line,
                    gate,
                    steps,
                    required=gate and not _muted(job_muted),
                    outcome=run.outcome if run is not None else None,
                    reason=run.reason if run is not None else "",
                )
            )
        entries.append(WorkflowEntry(workflow.rel, sorted(workflow.triggers), jobs))
    return entries


def _changed_files(root: Path, base: str) -> list[str] | None:
    try:
        proc = subprocess.run(
            [
                "git",
                "-c",
                "diff.relative=false",
                "-c",
                "diff.noprefix=false",
                "diff",
                "--no-ext-diff",
                "--no-renames",
                "--name-only",
                f"{base}...HEAD",
                "--",
                ".",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [line for line in proc.stdout.splitlines() if line]


def _tiers(specs: list[str], start: float | None) -> tuple[list[TierEntry], dict[str, str]]:
    """The tiers that wrote a JUnit report this run, and why the others did not (as the summary sees them)."""
    from ci_helper import run_start
    from ci_helper.summary.model import tier_name

    tiers: list[TierEntry] = []
    not_run: dict[str, str] = {}
    for given in specs:
        name, path = tier_name(given)
        if path == given:
            name = given  # a bare path names itself: the report shows which file it read
        if not os.path.exists(path):
            # A test step that was skipped or crashed writes no report: a tier not run, never bad input.
            not_run[name] = f"no JUnit report at {path}"
            continue
        if start is not None and run_start.written_before_run(Path(path), start):
            not_run[name] = f"{path} predates this run: an earlier run's report"
            continue
        report = junit.parse(path)  # malformed XML is bad input (exit 2)
        first = report.problems[0] if report.problems else None
        tiers.append(
            TierEntry(
                name=name,
                file=path,
                total=report.total,
                passed=report.passed,
                failed=report.failed,
                errors=report.errors,
                skipped=report.skipped,
                first_failure=f"{first.id}: {first.message}" if first is not None else None,
            )
        )
    return tiers, not_run


def _with_coverage(
    names: list[str] | None, coverage: results.CheckResult | None
) -> tuple[list[ChangedFile] | None, str | None]:
    """The changed files, each with the coverage gate's figures for it; never recomputed here."""
    if names is None:
        return None, None
    if coverage is None:
        return [ChangedFile(n) for n in names], "no coverage result: the coverage gate did not run"
    figures = coverage.figures.get("changed_files")
    if not isinstance(figures, list):
        why = "the coverage gate compared with no branch (set --compare-branch or a diff floor)"
        return [ChangedFile(n) for n in names], f"no coverage of the changed files: {why}"
    by_file = {f["file"]: f for f in figures if isinstance(f, dict)}
    files = []
    for name in names:
        f = by_file.get(name)
        if f is None:
            files.append(ChangedFile(name))
            continue
        files.append(
            ChangedFile(
                name,
                f["statements"],
                f["missing"],
                f["changed_statements"],
                f["changed_missing"],
                f["measured"],
            )
        )
    return files, None


def default_base(settings: Settings, coverage: results.CheckResult | None) -> str:
    """The ref to compare with: the coverage gate's, else the pull request's base, else the default branch."""
    compared = coverage.figures.get("compare_branch") if coverage is not None else None
    if isinstance(compared, str) and compared:
        return compared
    pr_base = os.environ.get("GITHUB_BASE_REF")
    return f"origin/{pr_base or settings.default_branch}"


def build(
    root: Path,
    settings: Settings,
    results_dir: Path,
    junit_files: list[str],
    base: str | None,
    runs: dict[tuple[str, str], JobRun] | None = None,
    tiers_not_run: dict[str, str] | None = None,
) -> LocalReport:
    """Gather everything the report shows; bad inputs (corrupt results, JUnit, workflows) are exit 2.

    ``junit_files`` are ``NAME=PATH`` or paths (named after their stem); ``runs`` maps
    ``(workflow, job id)`` to what the run did with the job, when the caller knows it.
    """
    from ci_helper import run_start
    from ci_helper.rules import run_rules
    from ci_helper.summary.model import read_checks

    if not root.is_dir():
        raise BadInput(f"{root}: no such folder; pass the project folder to report on")
    start = run_start.started_at()
    # Validated against each check's schema, an earlier run's result shown as not run: as the summary reads them.
    checks = read_checks(results_dir, start) if results_dir.is_dir() else []
    tiers, missing = _tiers(junit_files, start)
    workflows = _inventory(root, settings, runs)
    verify = run_rules(root, settings).findings if workflows else []
    coverage = next((c for c in checks if c.check == "coverage"), None)
    base_ref = base or default_base(settings, coverage)
    changed, note = _with_coverage(_changed_files(root, base_ref), coverage)
    report = LocalReport(
        root=str(root),
        workflows=workflows,
        checks=checks,
        tiers=tiers,
        changed_files=changed,
        base=base_ref,
        verify_findings=verify,
        tiers_not_run={**missing, **(tiers_not_run or {})},
        coverage_note=note if changed else None,
    )
    report.invariants = invariants(report)
    return report


def invariants(report: LocalReport) -> list[Invariant]:
    """The invariants table, each with its evidence."""
    out = []
    required = [c for c in report.checks if c.required]
    failing = [f"{c.check} {c.status}" for c in required if c.status != results.PASS]
    # A tier's JUnit file is a required signal of its own: a failed test is a failed check.
    failing += [f"{t.name} {t.failed + t.errors} failed" for t in report.tiers if t.failed or t.errors]
    jobs = [(w, j) for w in report.workflows for j in w.jobs if j.required and j.outcome is not None]
    failing += [f"job {j.id} {j.outcome}" for _, j in jobs if j.outcome in ("failure", "cancelled", "not-run")]
    signals = len(required) + len(report.tiers) + len(jobs)
    if not required:
        out.append(Invariant("Every required check passed", False, "no check result found: nothing was proven"))
    else:
        out.append(
            Invariant(
                "Every required check passed",
                not failing,
                f"{signals - len(failing)} of {signals} required {'checks, tiers and jobs' if jobs else 'checks and tiers'}"
                " passed" + (": " + ", ".join(failing) if failing else ""),
            )
        )
    not_run = [c for c in report.checks if c.status == results.NOT_RUN]
    muted = [f for f in report.verify_findings if f.rule in MUTING_RULES and f.severity == "error"]
    skipped_jobs = [j for _, j in jobs if j.outcome == "skipped"]
    # A gate that failed in a job that went on as if it had not (continue-on-error), or never ran.
    gate_steps = [(w, j, s) for w, j in jobs if j.outcome == "success" for s in j.steps if s.gate]
    continued = [(w, s) for w, _, s in gate_steps if s.outcome == "failure" and s.conclusion == "success"]
    skipped_steps = [(w, s) for w, _, s in gate_steps if s.required and s.outcome == "skipped"]
    out.append(
        Invariant(
            "No skips, continues or muted gates",
            not not_run and not muted and not skipped_jobs and not continued and not skipped_steps,
            "; ".join(
                filter(
                    None,
                    [
                        ", ".join(f"{c.check} not run ({c.reason})" for c in not_run),
                        ", ".join(f"{f.rule} at {f.location()}" for f in muted),
                        ", ".join(f"job {j.id} skipped ({j.reason or 'no reason given'})" for j in skipped_jobs),
                        ", ".join(
                            f"step '{s.label}' failed and was continued ({w.rel}:{s.line})" for w, s in continued
                        ),
                        ", ".join(f"gate step '{s.label}' skipped ({w.rel}:{s.line})" for w, s in skipped_steps),
                    ],
                )
            )
            or "no check was not run; verify found no muted or skipped gate",
        )
    )
    empty = [t for t in report.tiers if t.total == 0]
    missing = [f"{name} did not run ({why})" for name, why in sorted(report.tiers_not_run.items())]
    if not report.tiers:
        why = "; ".join(missing) or "no JUnit file given: no tier is known to have run a test"
        out.append(Invariant("Every tier ran tests", False, why))
    else:
        out.append(
            Invariant(
                "Every tier ran tests",
                not empty and not missing,
                "; ".join([", ".join(f"{t.name}: {t.total} tests" for t in report.tiers), *missing]),
            )
        )
    unpinned = [f for f in report.verify_findings if f.rule in PINNING_RULES]
    out.append(
        Invariant(
            "Every action pinned to a commit",
            not unpinned,
            f"{len(unpinned)} unpinned references" + (f", first at {unpinned[0].location()}" if unpinned else ""),
        )
    )
    network = next((c for c in report.checks if c.check == "network"), None)
    if network is None:
        out.append(
            Invariant(
                "Determinism preserved (no network, clones, downloads)",
                False,
                "not measured: no network result (run the tiers with the offline plugin)",
            )
        )
    else:
        f = network.figures
        out.append(
            Invariant(
                "Determinism preserved (no network, clones, downloads)",
                network.status == results.PASS,
                f"network {network.status}: {f.get('network', '?')} network attempts, {f.get('clones', '?')} clones, "
                f"{f.get('downloads', '?')} downloads"
                if network.status != results.NOT_RUN
                else f"network not run ({network.reason})",
            )
        )
    return out
