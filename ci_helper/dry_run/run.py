"""Run a dry run: static rules, then each planned job through the runner, then the summary."""

from __future__ import annotations

import os
import re
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ci_helper import results
from ci_helper.dry_run import event as event_mod, jobs as jobs_mod, policy
from ci_helper.dry_run.progress import DryRunReporter
from ci_helper.errors import BadInput
from ci_helper.results import CheckResult, Finding

# Step outputs of our actions that name a JUnit file: the test tiers of the summary.
JUNIT_OUTPUTS = ("junit", "junit-file")
_REMOTE_SKIP = re.compile(r"^(?P<where>.+?): remote action '(?P<uses>[^']+)' cannot run offline")


@dataclass
class DryRunOptions:
    event: str = "pull_request"
    base_branch: str | None = None   # default: [tool.ci-helper] default-branch
    repository: str | None = None    # default: [tool.ci-helper] repository
    jobs: tuple[str, ...] = ()
    stream: TextIO | None = None     # progress (stdout by default)
    colour: bool | None = None


@dataclass
class JobOutcome:
    job: jobs_mod.PlannedJob
    outcome: str                      # success | failure | cancelled | skipped
    failed_steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # why steps could not run here (remote actions...)
    outcomes: dict[str, int] = field(default_factory=dict)  # top-level steps per outcome
    junit: list[tuple[str, str]] = field(default_factory=list)  # (tier name, file)
    reason: str = ""


@dataclass
class DryRun:
    run: Any                          # ci_helper.summary.Run
    results_dir: Path
    event: event_mod.SimulatedEvent
    jobs: list[JobOutcome]
    passed_over: list[str]
    cleared: int
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else self.run.exit_code

    def skipped_lines(self) -> list[str]:
        """``skipped: remote action <uses> (<file:line>)`` for every step that was not run."""
        lines = []
        for job in self.jobs:
            prefix = str(job.job.workflow)
            for reason in job.skipped:
                if reason.startswith(prefix):  # name the workflow as the project does
                    reason = job.job.source + reason[len(prefix):]
                match = _REMOTE_SKIP.match(reason)
                if match:
                    lines.append(f"skipped: remote action {match['uses']} ({match['where']})")
                else:
                    lines.append(f"skipped: {reason}")
        return lines


def fresh_results_dir(project: Path, configured: str | None) -> tuple[Path, int]:
    """The project's results folder, emptied of earlier check results (a CI run starts clean)."""
    folder = Path(configured or results.DEFAULT_RESULTS_DIR)
    folder = folder if folder.is_absolute() else project / folder
    cleared = 0
    if folder.is_dir():
        for stale in folder.glob("*.json"):
            stale.unlink()
            cleared += 1
    folder.mkdir(parents=True, exist_ok=True)
    return folder, cleared


def erase_coverage_data(project: Path) -> list[Path]:
    """Delete the project's ``.coverage`` and ``.coverage.*`` files: a run never combines an earlier run's data."""
    from ci_helper.gates.coverage import inputs

    return inputs.erase(str(project / ".coverage"), None)


def _base_environ() -> dict[str, str]:
    environ = dict(os.environ)
    # Results go where the project's settings say; a results folder from the caller would split them.
    environ.pop(results.RESULTS_DIR_ENV, None)
    environ.update(policy.ENVIRONMENT)
    # The actions' setup step reuses this very ci-helper when its console script comes first on PATH.
    scripts = scripts_dir()
    if scripts:
        environ["PATH"] = os.pathsep.join([scripts, environ.get("PATH", "")])
    return environ


def scripts_dir() -> str | None:
    """The folder of this interpreter's ``ci-helper`` console script (a venv, a system or a user install)."""
    candidates = [sysconfig.get_path("scripts"), os.path.dirname(sys.executable)]
    try:
        candidates.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    for folder in candidates:
        if folder and os.path.isfile(os.path.join(folder, "ci-helper")):
            return folder
    return None


def _evaluate_env(job: jobs_mod.PlannedJob, contexts: dict[str, Any]) -> dict[str, str]:
    from ci_helper.runner import ExpressionError, evaluate_template
    from ci_helper.runner.expressions.values import to_string

    env = {}
    for key, value in job.env.items():
        try:
            env[key] = to_string(evaluate_template(value if isinstance(value, str) else str(value), contexts))
        except ExpressionError as exc:
            raise BadInput(f"{job.source}: job {job.job_id}: env {key}: {exc}") from None
    return env


def _job_condition(job: jobs_mod.PlannedJob, contexts: dict[str, Any]) -> bool:
    if job.condition is None:
        return True
    from ci_helper.runner import ExpressionError, evaluate_condition

    try:
        return evaluate_condition(job.condition, contexts, where=f"{job.source}: job {job.job_id}")
    except ExpressionError as exc:
        raise BadInput(f"{job.source}: job {job.job_id}: if: {exc}") from None


def _github_context(simulated: event_mod.SimulatedEvent, project: Path) -> dict[str, Any]:
    pr = simulated.payload.get("pull_request") or {}
    return {"event_name": simulated.name, "event": simulated.payload, "repository": simulated.repository,
            "ref": simulated.ref, "sha": simulated.sha, "workspace": str(project),
            "base_ref": pr.get("base", {}).get("ref", ""), "head_ref": pr.get("head", {}).get("ref", ""),
            "repository_owner": simulated.repository.split("/")[0]}


def run_job(job: jobs_mod.PlannedJob, project: Path, simulated: event_mod.SimulatedEvent, event_path: Path,
            reporter: DryRunReporter, temp: Path, environ: dict[str, str],
            started_at: float | None = None) -> JobOutcome:
    from ci_helper import run_start
    from ci_helper.runner import run_steps

    contexts = {"github": _github_context(simulated, project), "matrix": dict(job.matrix),
                "secrets": {}, "vars": {}, "needs": {}, "env": {}, "inputs": {}}
    if not _job_condition(job, contexts):
        reporter.line(f"skipped job {job.job_id}: if: {job.condition} is false for this event")
        return JobOutcome(job, "skipped", reason=f"if: {job.condition} is false")
    checkout = jobs_mod.checkout_root()
    runner_temp = temp / f"job-{len(list(temp.iterdir()))}"
    # The dry run's start, in the job's RUNNER_TEMP where our setup step looks (and keeps it):
    # data a job reads that an earlier job of this run wrote is fresh, anything older is stale.
    run_start.mark(fresh=True, at=started_at, runner_temp=runner_temp)
    result = run_steps(
        job.steps, job.workflow, workspace=project, event_name=simulated.name, event_path=event_path,
        repository=simulated.repository, ref=simulated.ref, sha=simulated.sha,
        env=_evaluate_env(job, contexts), dry_run=True,
        contexts={"secrets": {}, "vars": {}, "matrix": dict(job.matrix), "needs": {}},
        stub_remotes={slug: checkout for slug in job.remotes}, base_environ=environ,
        reporter=reporter, runner_temp=runner_temp,
    )
    failed = [f"{step.name}: {step.reason}" if step.reason else step.name
              for step in result.steps.values() if step.conclusion == "failure"]
    junit = []
    for step in result.steps.values():
        for key in JUNIT_OUTPUTS:
            path = step.outputs.get(key)
            if path:
                full = Path(path) if Path(path).is_absolute() else project / path
                if full.is_file():
                    junit.append((job.job_id, str(full)))
    counts: dict[str, int] = {}
    for step in result.steps.values():
        counts[step.outcome] = counts.get(step.outcome, 0) + 1
    return JobOutcome(job, result.outcome, failed, list(result.skipped), counts, junit)


_CHECK_NAME = re.compile(r"[^a-z0-9._-]+")


def job_result(outcome: JobOutcome) -> CheckResult:
    """A job as GitHub's checks list shows it: a failed ``run:`` step makes it red even without a gate."""
    name = "job-" + (_CHECK_NAME.sub("-", outcome.job.job_id.lower()).strip("-") or "job")
    # Skipped counts remote actions (not run locally) and steps a failure before them stopped.
    figures = {"steps": len(outcome.job.steps), "failed": outcome.outcomes.get("failure", 0),
               "skipped": outcome.outcomes.get("skipped", 0), "succeeded": outcome.outcomes.get("success", 0),
               "workflow": outcome.job.source}
    if outcome.outcome == "success":
        return results.passed(name, figures)
    if outcome.outcome == "skipped":
        return results.not_run(name, outcome.reason, figures, required=False)
    if outcome.outcome == "cancelled":
        return results.not_run(name, "interrupted (Ctrl-C)", figures)
    findings = [Finding("job-step-failed", f"step failed: {step}") for step in outcome.failed_steps]
    return results.failed(name, figures, findings or [Finding("job-failed", "the job failed")])


def dry_run(project: Path, options: DryRunOptions) -> DryRun:
    """Run the project's ci-helper jobs locally and build the summary; see the package docstring."""
    from ci_helper import settings as settings_mod
    from ci_helper.rules import run_rules
    from ci_helper.summary import model

    project = project.resolve()
    if not project.is_dir():
        raise BadInput(f"{project}: no such folder; pass the project folder that holds .github/workflows")
    config = settings_mod.load(project)
    if options.event not in event_mod.EVENTS:
        raise BadInput(f"--event {options.event}: expected one of {', '.join(event_mod.EVENTS)}")
    repository = options.repository or config.repository
    if not repository or repository.count("/") != 1:
        raise BadInput(f"{project}/pyproject.toml: set [tool.ci-helper] repository = \"owner/name\" "
                       "(or pass --repository): the simulated event needs the repository it runs in")
    base_branch = options.base_branch or config.default_branch
    simulated = event_mod.simulate(options.event, repository, base_branch)
    the_plan = jobs_mod.plan(project, options.event, base_branch, options.jobs)
    if not the_plan.jobs:
        why = "; ".join(the_plan.passed_over) or "no job uses ci-helper's actions"
        raise BadInput(f"{project}: nothing to run for a {simulated.describe()}: {why}")

    reporter = DryRunReporter(options.stream, colour=options.colour)
    started_at = time.time()
    folder, cleared = fresh_results_dir(project, config.results_dir)
    erased = erase_coverage_data(project)
    reporter.line(f"dry run: {simulated.describe()}")
    reporter.line(f"results: {folder}" + (f" ({cleared} stale result(s) removed)" if cleared else ""))
    if erased:
        reporter.line(f"coverage data: {len(erased)} data file(s) of an earlier run removed")
    for line in the_plan.passed_over:
        reporter.line(f"not run: {line}")

    report = run_rules(project, config)
    build = results.failed if report.errors else results.passed
    results.write_result(build("verify", figures={"files": report.files, "findings": len(report.findings),
                                                  "errors": report.errors, "warnings": report.warnings,
                                                  "allowed": len(report.allowed)},
                               findings=report.findings), folder)
    reporter.line(f"static rules: {len(report.findings)} finding(s) in {report.files} file(s)")

    outcomes: list[JobOutcome] = []
    interrupted = False
    environ = _base_environ()
    with tempfile.TemporaryDirectory(prefix="ci-helper-dry-run-") as tmp:
        temp = Path(tmp)
        event_path = simulated.write(temp)
        (temp / "jobs").mkdir()
        for number, job in enumerate(the_plan.jobs, 1):
            reporter.start_job(number, len(the_plan.jobs), f"{job.source} / {job.name}", len(job.steps))
            outcome = run_job(job, project, simulated, event_path, reporter, temp / "jobs", environ, started_at)
            outcomes.append(outcome)
            if outcome.outcome == "cancelled":
                interrupted = True
                break
        # The JUnit files live in the jobs' runner temp folders: read them before those go.
        checks = [c for c in results.read_results(folder) if c.check != model.SUMMARY_CHECK]
        judged, notes = policy.apply(checks)
        run = model.load(None, [f"{name}={path}" for o in outcomes for name, path in o.junit],
                         title=f"ci-helper dry run ({simulated.describe()})")
    run.checks = sorted(judged + [job_result(o) for o in outcomes], key=lambda c: c.check)
    run.input_notes.extend(notes)
    return DryRun(run, folder, simulated, outcomes, the_plan.passed_over, cleared, interrupted)
