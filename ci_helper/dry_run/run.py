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

from ci_helper import orphans, results
from ci_helper.dry_run import event as event_mod, interpreter as interpreter_mod, jobs as jobs_mod, policy
from ci_helper.dry_run.progress import DryRunReporter
from ci_helper.errors import BadInput
from ci_helper.results import CheckResult, Finding

# Step outputs of our actions that name a JUnit file: the test tiers of the summary.
JUNIT_OUTPUTS = ("junit", "junit-file")
# A job CI would run that a dry run cannot (a matrix built by an expression): required, never green.
NOT_RUN_HERE = "not-run"
# Our actions whose step produces a test tier (named after the step, see step_tiers()).
_TIER_ACTION = re.compile(r"(?:^|/)actions/(smoke|quality)(?:@|$)")
# A report older than its job by more than this was not written by the step (coarse mtimes allowed).
_MTIME_SLACK_SECONDS = 2.0
_REMOTE_SKIP = re.compile(r"^(?P<where>.+?): remote action '(?P<uses>[^']+)' cannot run offline")


@dataclass
class DryRunOptions:
    event: str = "pull_request"
    base_branch: str | None = None  # default: [tool.ci-helper] default-branch
    repository: str | None = None  # default: [tool.ci-helper] repository
    jobs: tuple[str, ...] = ()
    stream: TextIO | None = None  # progress (stdout by default)
    colour: bool | None = None
    matrix: dict[str, str] = field(default_factory=dict)  # --matrix k=v: the combinations to run
    inputs: dict[str, str] = field(default_factory=dict)  # --input k=v (workflow_dispatch, workflow_call)
    python: str | None = None  # --python: the project's interpreter
    stub_remotes: dict[str, str] = field(default_factory=dict)  # --stub-remote owner/repo=DIR
    # --parallel N: matrix combinations of a called workflow's job run side by side (default: CPU count).
    parallel: int | None = None


@dataclass
class JobOutcome:
    job: jobs_mod.PlannedJob
    outcome: str  # success | failure | cancelled | skipped | not-run (CI would run it; here it cannot)
    failed_steps: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why steps could not run here (remote actions...)
    outcomes: dict[str, int] = field(default_factory=dict)  # top-level steps per outcome
    junit: list[tuple[str, str]] = field(default_factory=list)  # (tier name, file)
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)  # the job's `outputs:`, for the jobs that need it
    python: str = ""  # the interpreter its steps ran with
    # Tiers whose producing step wrote no report this run (skipped, failed first, stale file): why.
    tiers_not_run: dict[str, str] = field(default_factory=dict)
    # (outcome, conclusion) of each of the job's steps, in order (for the run report's inventory).
    steps: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DryRun:
    run: Any  # ci_helper.summary.Run
    results_dir: Path
    event: event_mod.SimulatedEvent
    jobs: list[JobOutcome]
    passed_over: list[str]
    cleared: int
    interrupted: bool = False
    report: Path | None = None  # the run report's markdown (results/report/report.md)
    report_verdict: str | None = None

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
                    reason = job.job.source + reason[len(prefix) :]
                match = _REMOTE_SKIP.match(reason)
                if match:
                    lines.append(f"skipped: remote action {match['uses']} ({match['where']})")
                else:
                    lines.append(f"skipped: {reason}")
        return list(dict.fromkeys(lines))  # a matrix job's combinations skip the same steps


def fresh_results_dir(project: Path, configured: str | None) -> tuple[Path, int]:
    """The project's results folder, emptied of earlier check results (a CI run starts clean)."""
    folder = Path(configured or results.DEFAULT_RESULTS_DIR)
    folder = folder if folder.is_absolute() else project / folder
    cleared = 0
    if folder.is_dir():
        for stale in folder.glob("*.json"):
            stale.unlink()
            cleared += 1
        # An earlier run's report must not stand for this one if this run stops before writing its own.
        for stale in (folder / "report").glob("report.*"):
            stale.unlink()
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


def _job_condition(job: jobs_mod.PlannedJob, contexts: dict[str, Any], status: str = "success") -> bool:
    """The job's ``if:`` (``success()`` when absent: every job it needs succeeded)."""
    from ci_helper.runner import ExpressionError, evaluate_condition

    try:
        return evaluate_condition(job.condition, contexts, status=status, where=f"{job.source}: job {job.job_id}")
    except ExpressionError as exc:
        raise BadInput(f"{job.source}: job {job.job_id}: if: {exc}") from None


def _github_context(simulated: event_mod.SimulatedEvent, project: Path) -> dict[str, Any]:
    pr = simulated.payload.get("pull_request") or {}
    return {
        "event_name": simulated.name,
        "event": simulated.payload,
        "repository": simulated.repository,
        "ref": simulated.ref,
        "sha": simulated.sha,
        "workspace": str(project),
        "base_ref": pr.get("base", {}).get("ref", ""),
        "head_ref": pr.get("head", {}).get("ref", ""),
        "ref_name": simulated.ref.rsplit("/", 1)[-1] if simulated.ref.startswith("refs/heads/") else "",
        "repository_owner": simulated.repository.split("/")[0],
    }


def _needs_context(job: jobs_mod.PlannedJob, finished: dict[tuple[str, str], JobOutcome]) -> tuple[dict[str, Any], str]:
    """``needs.<id>.result`` and ``.outputs`` of the jobs this one needs, and the status its ``if:`` sees."""
    return needs_context(job.key[0], job.needs, finished)


def needs_context(
    scope: str, names: list[str], finished: dict[tuple[str, str], JobOutcome]
) -> tuple[dict[str, Any], str]:
    """The ``needs`` context of jobs ``names`` of one workflow (or call), and ``success`` or ``failure``."""
    needs: dict[str, Any] = {}
    status = "success"
    for need in names:
        done = finished.get((scope, need))
        result = done.outcome if done is not None else "skipped"
        if result == NOT_RUN_HERE:
            result = "skipped"  # as GitHub would name a need that never ran; the dependent is skipped
        needs[need] = {"result": result, "outputs": dict(done.outputs) if done is not None else {}}
        if result != "success":
            status = "failure"
    return needs, status


def _job_outputs(job: jobs_mod.PlannedJob, result: Any, contexts: dict[str, Any]) -> dict[str, str]:
    """The job's ``outputs:`` evaluated against its steps, as the runner does when the job ends."""
    from ci_helper.runner import ExpressionError, evaluate_template
    from ci_helper.runner.expressions.values import to_string

    steps = {
        name: {"outputs": dict(step.outputs), "outcome": step.outcome, "conclusion": step.conclusion}
        for name, step in result.steps.items()
        if not name.startswith("__")
    }
    outputs = {}
    for name, value in job.outputs.items():
        try:
            outputs[name] = to_string(evaluate_template(value, {**contexts, "steps": steps}))
        except ExpressionError:
            outputs[name] = ""
    return outputs


def _merged_outcome(outcomes: list[JobOutcome]) -> JobOutcome:
    """A matrix job as ``needs`` sees it: failed when any combination failed; outputs of the last that set them."""
    merged = JobOutcome(outcomes[0].job, "success")
    order = {"cancelled": 3, "failure": 2, NOT_RUN_HERE: 2, "success": 1, "skipped": 0}
    merged.outcome = max((o.outcome for o in outcomes), key=lambda name: order.get(name, 2))
    if all(o.outcome == "skipped" for o in outcomes):
        merged.outcome = "skipped"
    elif merged.outcome == "skipped":
        merged.outcome = "success"
    for outcome in outcomes:
        merged.outputs.update({k: v for k, v in outcome.outputs.items() if v})
    return merged


def _scripts(job: jobs_mod.PlannedJob) -> list[str]:
    return [step.run.value for step in job.steps if step.run is not None]


def run_job(
    job: jobs_mod.PlannedJob,
    project: Path,
    simulated: event_mod.SimulatedEvent,
    event_path: Path,
    reporter: DryRunReporter,
    temp: Path,
    environ: dict[str, str],
    finished: dict[tuple[str, str], JobOutcome] | None = None,
    interpreter: interpreter_mod.Interpreter | None = None,
    stub_remotes: dict[str, str] | None = None,
    started_at: float | None = None,
    workspace: Path | None = None,
) -> JobOutcome:
    """Run one planned job (one matrix combination) in ``workspace`` (default: the project itself)."""
    from ci_helper import run_start
    from ci_helper.runner import run_steps

    if job.not_run:
        # CI would run it; the dry run cannot: never green, and the jobs that need it are skipped.
        reporter.line(f"not run: job {job.job_id}: {job.not_run}")
        return JobOutcome(job, NOT_RUN_HERE, reason=job.not_run)
    workspace = workspace or project
    needs, status = _needs_context(job, finished or {})
    contexts = {
        "github": _github_context(simulated, workspace),
        "matrix": dict(job.matrix),
        "secrets": {},
        "vars": {},
        "needs": needs,
        "env": {},
        "inputs": dict(job.inputs),
    }
    if not _job_condition(job, contexts, status):
        condition = job.condition if job.condition is not None else "success()"
        why = (
            f"if: {condition} is false for this event"
            if status == "success"
            else f"if: {condition} is false: a job it needs did not succeed"
        )
        reporter.line(f"skipped job {job.job_id}: {why}")
        return JobOutcome(job, "skipped", reason=why.replace(" for this event", ""))
    skipped = [
        f"{job.source}: job {job.job_id}: service '{name}' not started: a local dry run starts no service "
        "containers (steps that reach it fail here)"
        for name in job.services
    ]
    for line in skipped:
        reporter.line(f"not run: {line}")
    if interpreter is None:
        interpreter = interpreter_mod.throwaway(project, _scripts(job), reporter.line)
    reporter.line(f"python: {interpreter.describe()}")
    checkout = jobs_mod.checkout_root()
    # Its own folder, also when jobs run side by side.
    runner_temp = Path(tempfile.mkdtemp(prefix="job-", dir=temp))
    started = time.time()
    # The dry run's start, in the job's RUNNER_TEMP where our setup step looks (and keeps it):
    # data a job reads that an earlier job of this run wrote is fresh, anything older is stale.
    run_start.mark(fresh=True, at=started_at, runner_temp=runner_temp)
    link = interpreter_mod.ci_helper_link(temp.parent / "ci-helper-bin", scripts_dir())
    job_environ = interpreter_mod.environment(environ, interpreter, link)
    remotes = {slug: str(checkout) for slug in job.remotes}
    remotes.update(stub_remotes or {})
    result = run_steps(
        job.steps,
        job.workflow,
        workspace=workspace,
        event_name=simulated.name,
        event_path=event_path,
        repository=simulated.repository,
        ref=simulated.ref,
        sha=simulated.sha,
        env=_evaluate_env(job, contexts),
        dry_run=True,
        contexts={"secrets": {}, "vars": {}, "matrix": dict(job.matrix), "needs": needs, "inputs": dict(job.inputs)},
        stub_remotes=remotes,
        base_environ=job_environ,
        reporter=reporter,
        runner_temp=runner_temp,
        default_shell=job.default_shell,
        default_working_directory=job.default_working_directory,
        # `$/` in a called workflow: ci-helper for one of ours, the workspace (this job's copy) for a local one.
        self_root=job.self_root or (workspace if job.call is not None else None),
    )
    failed = [
        f"{step.name}: {step.reason}" if step.reason else step.name
        for step in result.steps.values()
        if step.conclusion == "failure"
    ]
    junit, tiers_not_run = step_tiers(job, list(result.steps.values()), workspace, started)
    counts: dict[str, int] = {}
    for step in result.steps.values():
        counts[step.outcome] = counts.get(step.outcome, 0) + 1
    outputs = _job_outputs(job, result, contexts)
    return JobOutcome(
        job,
        result.outcome,
        failed,
        skipped + list(result.skipped),
        counts,
        junit,
        outputs=outputs,
        python=str(interpreter.python),
        tiers_not_run=tiers_not_run,
        steps=[(step.outcome, step.conclusion) for step in result.steps.values()],
    )


def step_tiers(
    job: jobs_mod.PlannedJob, steps: list[Any], project: Path, started: float
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The test tiers of a job: one per step that produces a JUnit report, named after that step.

    A tier is the step's ``id``, else our action's name (``smoke``, ``quality``): the smoke
    and quality actions in one job are two tiers, never one named after the job. A step of
    ours that was skipped, failed before writing its report, or names a report older than
    the job (another step's or an earlier run's file) is a tier that did not run.
    """
    found: list[tuple[str, str]] = []
    not_run: dict[str, str] = {}
    raw_steps = job.steps if len(job.steps) == len(steps) else [None] * len(steps)
    for raw, step in zip(raw_steps, steps, strict=True):
        if isinstance(raw, dict):
            uses = raw.get("uses")
        else:  # a step of the workflow model
            uses = raw.uses.value if raw is not None and raw.uses is not None else None
        ours = _TIER_ACTION.search(uses) if isinstance(uses, str) else None
        paths = [step.outputs[key] for key in JUNIT_OUTPUTS if step.outputs.get(key)]
        if not ours and not paths:
            continue
        generated = step.id.startswith("__")
        name = (ours.group(1) if ours else job.job_id) if generated else step.id
        if job.combination:
            name += f" ({job.combination})"  # each matrix combination is a tier of its own
        label = f"'{step.name or step.id}' ({step.outcome})"
        if step.outcome == "skipped":
            not_run[name] = f"its step {label} was skipped: no tests ran"
            continue
        if not paths:
            not_run[name] = f"its step {label} named no JUnit report"
            continue
        for path in paths:
            full = Path(path) if Path(path).is_absolute() else project / path
            if not full.is_file():
                not_run[name] = f"its step {label} did not write {path}"
            elif full.stat().st_mtime + _MTIME_SLACK_SECONDS < started:
                not_run[name] = f"{path} predates its step {label}: an earlier report, not this run's"
            else:
                found.append((name, str(full)))
    return found, not_run


_CHECK_NAME = re.compile(r"[^a-z0-9._-]+")


def job_result(outcome: JobOutcome) -> CheckResult:
    """A job as GitHub's checks list shows it: a failed ``run:`` step makes it red even without a gate."""
    name = "job-" + (_CHECK_NAME.sub("-", outcome.job.label.lower()).strip("-") or "job")
    # Skipped counts remote actions (not run locally) and steps a failure before them stopped.
    figures = {
        "steps": len(outcome.job.steps),
        "failed": outcome.outcomes.get("failure", 0),
        "skipped": outcome.outcomes.get("skipped", 0),
        "succeeded": outcome.outcomes.get("success", 0),
        "workflow": outcome.job.source,
    }
    if outcome.outcome == "success":
        return results.passed(name, figures)
    if outcome.outcome == "skipped":
        return results.not_run(name, outcome.reason, figures, required=False)
    if outcome.outcome == NOT_RUN_HERE:
        return results.not_run(name, f"not run by a local dry run: {outcome.reason}", figures)
    if outcome.outcome == "cancelled":
        return results.not_run(name, "interrupted (Ctrl-C)", figures)
    findings = [Finding("job-step-failed", f"step failed: {step}") for step in outcome.failed_steps]
    return results.failed(name, figures, findings or [Finding("job-failed", "the job failed")])


_STEP_ORDER = {"failure": 3, "cancelled": 3, "skipped": 2, "success": 1}


def job_runs(outcomes: list[JobOutcome]) -> dict[tuple[str, str], Any]:
    """What the run did with each job, for the run report: a matrix job's worst combination, step by step."""
    from ci_helper.report.local import JobRun

    by_key: dict[tuple[str, str], list[JobOutcome]] = {}
    for outcome in outcomes:
        by_key.setdefault(outcome.job.key, []).append(outcome)
        call = outcome.job.call
        while call is not None:  # the caller job of a reusable workflow: every job the call ran
            by_key.setdefault(call.key, []).append(outcome)
            call = call.parent
    runs = {}
    for key, group in by_key.items():
        merged = _merged_outcome(group)
        lengths = {len(o.steps) for o in group}
        steps: list[tuple[str, str]] = []
        if len(lengths) == 1:
            for row in zip(*(o.steps for o in group), strict=True):
                outcome = max((r[0] for r in row), key=lambda name: _STEP_ORDER.get(name, 3))
                conclusion = max((r[1] for r in row), key=lambda name: _STEP_ORDER.get(name, 3))
                steps.append((outcome, conclusion))
        reason = next((o.reason for o in group if o.reason), "")
        runs[key] = JobRun(merged.outcome, steps, reason)
    return runs


def write_report(
    project: Path, config: Any, folder: Path, outcomes: list[JobOutcome], junit: list[str]
) -> tuple[Path, str]:
    """The run report of this dry run, saved beside its results (``results/report/``)."""
    from ci_helper.report import local, render

    report = local.build(
        project,
        config,
        folder,
        junit,
        None,
        runs=job_runs(outcomes),
        tiers_not_run={name: why for o in outcomes for name, why in o.tiers_not_run.items()},
    )
    markdown, _ = render.save(report, folder)
    return markdown, report.verdict


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
    if options.inputs and options.event not in event_mod.INPUT_EVENTS:
        raise BadInput(
            f"--input applies to --event {' or '.join(event_mod.INPUT_EVENTS)} (the workflow's "
            f"on.<event>.inputs), not to {options.event}"
        )
    project_python = interpreter_mod.find(project, options.python, config.python)
    repository = options.repository or config.repository
    if not repository or repository.count("/") != 1:
        raise BadInput(
            f'{project}/pyproject.toml: set [tool.ci-helper] repository = "owner/name" '
            "(or pass --repository): the simulated event needs the repository it runs in"
        )
    base_branch = options.base_branch or config.default_branch
    simulated = event_mod.simulate(options.event, repository, base_branch, options.inputs)
    the_plan = jobs_mod.plan(
        project, simulated.starts, base_branch, options.jobs, options.matrix, options.inputs, options.stub_remotes
    )
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
    results.write_result(
        build(
            "verify",
            figures={
                "files": report.files,
                "findings": len(report.findings),
                "errors": report.errors,
                "warnings": report.warnings,
                "allowed": len(report.allowed),
            },
            findings=report.findings,
        ),
        folder,
    )
    reporter.line(f"static rules: {len(report.findings)} finding(s) in {report.files} file(s)")

    from ci_helper.dry_run import artifacts, job_results, schedule

    environ = _base_environ()
    # actions/upload-artifact and download-artifact run as our stand-ins unless --stub-remote maps them.
    stub_remotes = {**artifacts.stand_ins(), **options.stub_remotes}
    with tempfile.TemporaryDirectory(prefix="ci-helper-dry-run-") as tmp:
        temp = Path(tmp)
        (temp / "jobs").mkdir()
        environ.update(artifacts.environment(temp / "artifacts", project))
        marker = orphans.new_tracking_id("ci-helper-dry-run")
        environ[schedule.RUN_MARKER] = marker

        written: list[tuple[str, dict[str, bytes]]] = []

        def run_one(
            job: jobs_mod.PlannedJob,
            workspace: Path | None,
            event_path: Path,
            job_reporter: DryRunReporter,
            finished: dict[tuple[str, str], JobOutcome],
            interpreter: interpreter_mod.Interpreter | None,
        ) -> JobOutcome:
            began = time.time()
            outcome = run_job(
                job,
                project,
                simulated,
                event_path,
                job_reporter,
                temp / "jobs",
                environ,
                finished,
                interpreter,
                stub_remotes,
                started_at,
                workspace,
            )
            if workspace is None or Path(workspace) == project:
                written.append((job.display, job_results.snapshot(folder, began)))
            return outcome

        scheduler = schedule.Scheduler(
            project, simulated, temp, reporter, run_one, project_python, parallel=options.parallel, marker=marker
        )
        outcomes, interrupted = scheduler.run(the_plan.jobs)
        for line in job_results.keep_the_worst(folder, written):
            reporter.line(line)
        # The JUnit files live in the jobs' runner temp folders: read them before those go.
        # Validated against each check's figures schema, as the summary step would.
        checks = model.read_checks(folder)
        judged, notes = policy.apply(checks)
        junit = [f"{name}={path}" for o in outcomes for name, path in o.junit]
        run = model.load(
            None,
            junit,
            title=f"ci-helper dry run ({simulated.describe()})",
            not_run_tiers={name: why for o in outcomes for name, why in o.tiers_not_run.items()},
        )
        # The run report reads the same results and JUnit files, unrelaxed by the laptop policy:
        # it says whether the run proves the change merge-ready, which an audit not run does not.
        report_file, verdict = (None, None) if interrupted else write_report(project, config, folder, outcomes, junit)
    run.checks = sorted(judged + [job_result(o) for o in outcomes], key=lambda c: c.check)
    run.input_notes.extend(notes)
    return DryRun(run, folder, simulated, outcomes, the_plan.passed_over, cleared, interrupted, report_file, verdict)
