"""The CI run report of a local or CI run: inventory, signal integrity, invariants, verdict.

Built from what the run left (check results, JUnit files), the workflow model and
``git diff`` against the base. It only reads and judges; ``render.py`` writes it.
"merge-ready" only when every invariant holds; an invariant that could not be
measured does not hold.
"""

from __future__ import annotations

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


@dataclass
class JobEntry:
    id: str
    name: str
    line: int
    gate: bool
    steps: list[StepEntry]


@dataclass
class WorkflowEntry:
    rel: str
    triggers: list[str]
    jobs: list[JobEntry]


@dataclass
class TierEntry:
    file: str
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    first_failure: str | None


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
    changed_files: list[str] | None  # None: no git or no base to compare with
    base: str | None
    verify_findings: list[results.Finding]
    invariants: list[Invariant] = field(default_factory=list)

    @property
    def merge_ready(self) -> bool:
        return bool(self.invariants) and all(i.holds for i in self.invariants)

    @property
    def verdict(self) -> str:
        return "merge-ready" if self.merge_ready else "not merge-ready"


def _inventory(root: Path, settings: Settings) -> list[WorkflowEntry]:
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
            steps = [
                StepEntry(
                    label=s.label,
                    line=s.line,
                    gate=matcher.step(s, shell),
                    continue_on_error=s.continue_on_error.value if s.continue_on_error is not None else None,
                    condition=s.if_.value if s.if_ is not None else None,
                )
                for s in job.steps
            ]
            name = job.name.value if job.name is not None else job.id
            jobs.append(JobEntry(job.id, name, job.line, job.uses is not None or any(s.gate for s in steps), steps))
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


def _tier(path: str) -> TierEntry:
    report = junit.parse(path)
    first = report.problems[0] if report.problems else None
    return TierEntry(
        file=path,
        total=report.total,
        passed=report.passed,
        failed=report.failed,
        errors=report.errors,
        skipped=report.skipped,
        first_failure=f"{first.id}: {first.message}" if first is not None else None,
    )


def build(root: Path, settings: Settings, results_dir: Path, junit_files: list[str], base: str | None) -> LocalReport:
    """Gather everything the report shows; bad inputs (corrupt results, JUnit, workflows) are exit 2."""
    from ci_helper.rules import run_rules

    if not root.is_dir():
        raise BadInput(f"{root}: no such folder; pass the project folder to report on")
    checks = results.read_results(results_dir) if results_dir.is_dir() else []
    workflows = _inventory(root, settings)
    verify = run_rules(root, settings).findings if workflows else []
    base_ref = base or f"origin/{settings.default_branch}"
    report = LocalReport(
        root=str(root),
        workflows=workflows,
        checks=checks,
        tiers=[_tier(f) for f in junit_files],
        changed_files=_changed_files(root, base_ref),
        base=base_ref,
        verify_findings=verify,
    )
    report.invariants = invariants(report)
    return report


def invariants(report: LocalReport) -> list[Invariant]:
    """The invariants table, each with its evidence."""
    out = []
    required = [c for c in report.checks if c.required]
    failing = [f"{c.check} {c.status}" for c in required if c.status != results.PASS]
    # A tier's JUnit file is a required signal of its own: a failed test is a failed check.
    failing += [f"{t.file} {t.failed + t.errors} failed" for t in report.tiers if t.failed or t.errors]
    signals = len(required) + len(report.tiers)
    if not required:
        out.append(Invariant("Every required check passed", False, "no check result found: nothing was proven"))
    else:
        out.append(
            Invariant(
                "Every required check passed",
                not failing,
                f"{signals - len(failing)} of {signals} required checks and tiers passed"
                + (": " + ", ".join(failing) if failing else ""),
            )
        )
    not_run = [c for c in report.checks if c.status == results.NOT_RUN]
    muted = [f for f in report.verify_findings if f.rule in MUTING_RULES and f.severity == "error"]
    out.append(
        Invariant(
            "No skips, continues or muted gates",
            not not_run and not muted,
            "; ".join(
                filter(
                    None,
                    [
                        ", ".join(f"{c.check} not run ({c.reason})" for c in not_run),
                        ", ".join(f"{f.rule} at {f.location()}" for f in muted),
                    ],
                )
            )
            or "no check was not run; verify found no muted or skipped gate",
        )
    )
    empty = [t for t in report.tiers if t.total == 0]
    if not report.tiers:
        out.append(Invariant("Every tier ran tests", False, "no JUnit file given: no tier is known to have run a test"))
    else:
        out.append(
            Invariant(
                "Every tier ran tests",
                not empty,
                ", ".join(f"{t.file}: {t.total} tests" for t in report.tiers),
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
