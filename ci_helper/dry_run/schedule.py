"""When each planned job runs, what it sees of the jobs before it, and which jobs run side by side.

The plan lists every job after the jobs it needs. The scheduler walks it one job (all of
its matrix combinations) at a time:

- a job of a called workflow first enters its :class:`~ci_helper.dry_run.calls.Call`: the
  caller's ``if:`` against the caller's ``needs``, then its ``with:`` as the ``inputs``
  context (once per call); a call whose ``if:`` is false skips every job it holds;
- a matrix built by an expression (``fromJSON(needs.plan.outputs.indexes)``) is evaluated
  by the one expression evaluator once the jobs it needs have finished, then expanded;
- the combinations of a called workflow's matrix job run side by side (at most
  ``parallel``, default the CPU count), each in its own copy of the workspace and its own
  runner temp, as CI runs them on separate machines; each one's lines are printed when it
  ends, so the output stays readable. Then the jobs that need them (the verdict) run.

A matrix job of the project's own workflows still runs one combination after another in
the project folder: its checks land in the project's results folder, which the summary reads.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ci_helper import orphans
from ci_helper.dry_run import (
    calls as calls_mod,
    event as event_mod,
    interpreter as interpreter_mod,
    jobs as jobs_mod,
    run as run_mod,
    workspace as workspace_mod,
)
from ci_helper.dry_run.progress import DryRunReporter
from ci_helper.errors import BadInput
from ci_helper.workflows import matrix as matrix_mod

# Every step process of a dry run carries this variable (its value is the run's): Ctrl-C stops them all.
RUN_MARKER = "CI_HELPER_DRY_RUN_ID"
RunOne = Callable[..., Any]  # (job, workspace, event_path, reporter, finished, interpreter) -> JobOutcome


def _groups(planned: list[jobs_mod.PlannedJob]) -> list[list[jobs_mod.PlannedJob]]:
    """Consecutive planned jobs of one job (its matrix combinations)."""
    groups: list[list[jobs_mod.PlannedJob]] = []
    for job in planned:
        if groups and groups[-1][0].key == job.key and groups[-1][0].call is job.call:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def title(job: jobs_mod.PlannedJob) -> str:
    """``workflow / job``; a called workflow's job after its caller: ``quality.yml / Quality / Plan the shards``."""
    if job.call is None:
        return f"{job.source} / {job.display}"
    call = job.call
    callers = []
    while call is not None:
        callers.append(f"{call.name} ({call.combination})" if call.combination else call.name)
        outer = call
        call = call.parent
    where = outer.where.rsplit(":", 1)[0]
    return " / ".join([where, *reversed(callers), job.display])


def _plain(value: Any) -> Any:
    """An expression value as matrix data; JSON numbers are doubles: ``fromJSON('[1,2]')`` gives 1 and 2, not 1.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _evaluate(value: Any, contexts: dict[str, Any]) -> Any:
    """Every ``${{ }}`` in a matrix, typed (a whole-value expression keeps its list or mapping)."""
    from ci_helper.runner import evaluate_template

    if isinstance(value, str):
        return _plain(evaluate_template(value, contexts)) if "${{" in value else value
    if isinstance(value, list):
        return [_evaluate(v, contexts) for v in value]
    if isinstance(value, dict):
        return {k: _evaluate(v, contexts) for k, v in value.items()}
    return value


class Scheduler:
    """Runs a plan's jobs in order, side by side where CI would run them on separate machines."""

    def __init__(
        self,
        project: Path,
        simulated: event_mod.SimulatedEvent,
        temp: Path,
        reporter: DryRunReporter,
        run_one: RunOne,
        interpreter: interpreter_mod.Interpreter | None,
        parallel: int | None = None,
        marker: str = "",
    ) -> None:
        self.project = project
        self.simulated = simulated
        self.temp = temp
        self.reporter = reporter
        self.run_one = run_one
        self.interpreter = interpreter
        self.parallel = max(1, parallel if parallel else (os.cpu_count() or 1))
        self.outcomes: list[Any] = []
        self.finished: dict[tuple[str, str], Any] = {}
        self.by_key: dict[tuple[str, str], list[Any]] = {}
        self.number = 0
        self.total = 0
        self.copies = 0
        self.marker = marker

    # -- the walk -------------------------------------------------------------------------------
    def run(self, planned: list[jobs_mod.PlannedJob]) -> tuple[list[Any], bool]:
        """Every job's outcome in the order they ran; True when the run was interrupted."""
        self.total = len(planned)
        for group in _groups(planned):
            first = group[0]
            if first.call is not None and not first.not_run:
                why = self._enter(first.call)
                if why:
                    for job in group:
                        self._start(job)
                        self.reporter.line(f"skipped job {job.job_id}: {why}")
                        self._record(run_mod.JobOutcome(job, "skipped", reason=why))
                    continue
                for job in group:
                    job.inputs = first.call.inputs
            if first.matrix_source is not None and not first.not_run:
                expanded = self._expand(first)
                if isinstance(expanded, run_mod.JobOutcome):
                    self._start(first)
                    shown = {"skipped": "skipped", "failure": "failed"}.get(expanded.outcome, "not run")
                    self.reporter.line(f"{shown}: job {first.job_id}: {expanded.reason}")
                    self._record(expanded)
                    continue
                self.total += len(expanded) - 1
                group = expanded
            for job in group:
                self._name(job)
            # Each in its own workspace copy also with --parallel 1: on CI they never share a checkout.
            if len(group) > 1 and first.call is not None:
                done = self._side_by_side(group)
            else:
                done = []
                for job in group:
                    self._start(job)
                    outcome = self.run_one(
                        job, None, self._event_path(job), self.reporter, self.finished, self.interpreter
                    )
                    done.append(outcome)
                    self._record(outcome)
                    if outcome.outcome == "cancelled":
                        return self.outcomes, True
                continue
            for outcome in done:
                self._record(outcome)
            if any(o.outcome == "cancelled" for o in done):
                return self.outcomes, True
        return self.outcomes, False

    def _start(self, job: jobs_mod.PlannedJob, reporter: DryRunReporter | None = None) -> None:
        self.number += 1
        (reporter or self.reporter).start_job(self.number, self.total, title(job), len(job.steps))

    def _record(self, outcome: Any) -> None:
        self.outcomes.append(outcome)
        job = outcome.job
        self.by_key.setdefault(job.key, []).append(outcome)
        self.finished[job.key] = run_mod._merged_outcome(self.by_key[job.key])
        call = job.call
        while call is not None:  # the caller job, as the jobs of its workflow that need it see it
            self.by_key.setdefault(call.key, []).append(outcome)
            merged = run_mod._merged_outcome(self.by_key[call.key])
            merged.outputs = {}  # a called workflow's outputs come from on.workflow_call.outputs, not its jobs
            self.finished[call.key] = merged
            call = call.parent

    def _event_path(self, job: jobs_mod.PlannedJob) -> Path:
        call = job.call
        inputs = job.inputs
        while call is not None:  # a called workflow sees its caller's event
            inputs = call.top_inputs
            call = call.parent
        return self.simulated.with_inputs(inputs).write(self.temp)

    def _contexts(self, needs: dict[str, Any], inputs: dict[str, Any], matrix: dict[str, Any]) -> dict[str, Any]:
        return {
            "github": run_mod._github_context(self.simulated, self.project),
            "needs": needs,
            "inputs": dict(inputs),
            "matrix": dict(matrix),
            "vars": {},
            "secrets": {},
            "strategy": {},
        }

    def _name(self, job: jobs_mod.PlannedJob) -> None:
        """A job's ``name:`` may use ``matrix``, ``inputs`` and ``needs`` (``shard ${{ matrix.shard }}``)."""
        from ci_helper.runner import ExpressionError, evaluate_template
        from ci_helper.runner.expressions.values import to_string

        if "${{" not in job.name:
            return
        needs, _ = run_mod.needs_context(job.key[0], job.needs, self.finished)
        try:
            job.name = to_string(evaluate_template(job.name, self._contexts(needs, job.inputs, job.matrix)))
        except ExpressionError:
            pass  # shown as written; GitHub shows the expression too when it cannot evaluate it

    # -- reusable workflow calls ----------------------------------------------------------------
    def _enter(self, call: calls_mod.Call) -> str:
        """Enter the call once (its ``if:`` and ``inputs``); why its jobs are skipped, or ""."""
        from ci_helper.runner import ExpressionError, evaluate_condition

        if call.entered is None:
            why = self._enter(call.parent) if call.parent is not None else ""
            if why:
                call.entered, call.skip_reason = False, why
                return why
            needs, status = run_mod.needs_context(call.caller_scope, call.needs, self.finished)
            contexts = self._contexts(needs, call.caller_inputs(), call.matrix)
            try:
                call.entered = evaluate_condition(call.condition, contexts, status=status, where=call.where)
            except ExpressionError as exc:
                raise BadInput(f"{call.where}: job '{call.job_id}': if: {exc}") from None
            if call.entered:
                call.inputs = calls_mod.evaluate_inputs(call, contexts)
            else:
                condition = call.condition if call.condition is not None else "success()"
                call.skip_reason = f"its caller '{call.job_id}' was skipped: if: {condition} is false" + (
                    ": a job it needs did not succeed" if status != "success" else ""
                )
        return call.skip_reason

    # -- a matrix built by an expression ----------------------------------------------------------
    def _expand(self, job: jobs_mod.PlannedJob) -> list[jobs_mod.PlannedJob] | Any:
        """The job's combinations once the jobs it needs have finished, or the outcome of a job that cannot start."""
        from ci_helper.runner import ExpressionError

        needs, status = run_mod.needs_context(job.key[0], job.needs, self.finished)
        if status != "success" and job.condition is None:
            return run_mod.JobOutcome(
                job,
                "skipped",
                reason="if: success() is false: a job it needs did not succeed (its matrix was not built)",
            )
        where = job.matrix_where or job.source
        try:
            matrix = _evaluate(job.matrix_source, self._contexts(needs, job.inputs, {}))
            combinations = matrix_mod.expand(matrix)
        except (ExpressionError, matrix_mod.MatrixError) as exc:
            written = str(job.matrix_source)
            local = " (a dry run has no vars or secrets)" if "vars." in written or "secrets." in written else ""
            return run_mod.JobOutcome(
                job, run_mod.NOT_RUN_HERE, reason=f"{where}: strategy.matrix cannot be built here{local}: {exc}"
            )
        if not combinations:
            why = f"{where}: strategy.matrix has no combination (CI fails the job)"
            return run_mod.JobOutcome(job, "failure", [why], reason=why)
        return [
            jobs_mod.PlannedJob(
                **{
                    **job.__dict__,
                    "matrix": dict(combination),
                    "combination": matrix_mod.label(combination),
                    "matrix_source": None,
                }
            )
            for combination in combinations
        ]

    # -- side by side ---------------------------------------------------------------------------
    def _side_by_side(self, group: list[jobs_mod.PlannedJob]) -> list[Any]:
        """The combinations in parallel, each in its own workspace copy; lines printed per job when it ends."""
        limit = min(self.parallel, len(group))
        first = group[0]
        self.reporter.line(
            f"{title(first).rsplit(' / ', 1)[0]} / {first.job_id}: {len(group)} matrix jobs, {limit} at a time, each in its own "
            "copy of the workspace (as on CI's separate machines); each one's lines follow when it ends"
        )
        interpreter = self.interpreter or interpreter_mod.throwaway(
            self.project, run_mod._scripts(first), self.reporter.line
        )
        event_path = self._event_path(first)
        finished = dict(self.finished)
        numbers = []
        for _ in group:
            self.number += 1
            numbers.append(self.number)
        workspaces = []
        for job in group:
            self.copies += 1
            workspaces.append(
                workspace_mod.copy(self.project, self.temp / "workspaces" / f"{self.copies}-{job.label}"[:120])
            )
        colour = self.reporter._tty()

        def one(index: int) -> tuple[Any, str, float]:
            job = group[index]
            buffer = io.StringIO()
            reporter = DryRunReporter(buffer, colour=colour)
            reporter.start_job(numbers[index], self.total, title(job), len(job.steps))
            reporter.line(f"workspace: {workspaces[index]} (a copy of {self.project})")
            started = time.monotonic()
            outcome = self.run_one(job, workspaces[index], event_path, reporter, finished, interpreter)
            return outcome, buffer.getvalue(), time.monotonic() - started

        results: list[Any] = [None] * len(group)
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="ci-helper-job") as pool:
            futures = {pool.submit(one, index): index for index in range(len(group))}
            try:
                for future in as_completed(futures):
                    outcome, text, seconds = future.result()
                    self.reporter.write(text)
                    self.reporter.line(f"(job {title(outcome.job)}: {outcome.outcome} in {seconds:.1f}s)")
                    results[futures[future]] = outcome
            except KeyboardInterrupt:
                # Only this thread hears Ctrl-C: stop every step process of the run, so the jobs end now.
                for future in futures:
                    future.cancel()
                if self.marker:
                    orphans.stop_tracked(RUN_MARKER, self.marker, grace=0.5)
                raise
        return results
