"""Which workflow jobs a dry run executes, in which order, and where ci-helper's own actions come from.

Workflows are read through the one model (:mod:`ci_helper.workflows`). A job
is run when its workflow is triggered by the simulated event and one of its
steps uses a ci-helper action: ``<owner>/ci-helper[/actions/<name>]@<ref>``
(any owner and any case: forks and mirrors keep the repository name) or a
local ``./path`` that resolves into this checkout; the jobs those need
(``needs:``) run before them, so their outputs reach them. Every matrix
combination is a job of its own (``--matrix k=v`` chooses some). Those remote
references are mapped to this checkout (the runner's stub-remote mapping), so
the dry run executes the very ``action.yml`` files of the installed ci-helper;
other remote actions are not run and are reported as skipped.

A job that calls a reusable workflow of ours (``<owner>/ci-helper/.github/workflows/x.yml@ref``,
this checkout's file) or a local one is replaced by the called workflow's jobs, as on
GitHub (:mod:`ci_helper.dry_run.calls`); a call the dry run cannot load (another
repository's workflow) is a required job not run. A matrix built by an expression is
planned as one job with ``matrix_source`` and expanded when the jobs it needs have
finished (:mod:`ci_helper.dry_run.schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_helper.dry_run import calls as calls_mod
from ci_helper.errors import BadInput
from ci_helper.workflows import matrix as matrix_mod
from ci_helper.workflows.discovery import discover
from ci_helper.workflows.model import Job, Workflow, build_workflow
from ci_helper.workflows.source import Scalar, read_source
from ci_helper.workflows.uses import LOCAL, REMOTE, SELF, parse_uses


def checkout_root() -> Path:
    """The ci-helper checkout this code runs from (it holds ``actions/``)."""
    root = Path(__file__).resolve().parent.parent.parent
    if not (root / "actions").is_dir():
        raise BadInput(
            f"verify --run needs ci-helper's actions/ folder beside its package ({root}/actions not "
            "found); install ci-helper from a checkout: python3 -m pip install -e ."
        )
    return root


def is_ours(uses: str, workspace: Path, ours: Path) -> bool:
    parsed = parse_uses(uses)
    if parsed.kind == REMOTE:
        return parsed.our_action
    if parsed.kind in (LOCAL, SELF):
        # In a workflow, `$/x` is x in the repository of the running workflow: the workspace checkout.
        target = (workspace / (parsed.local_path or "")).resolve()
        return target == ours or ours in target.parents
    return False


@dataclass
class PlannedJob:
    workflow: Path  # the workflow file
    source: str  # its path as shown (relative to the project)
    job_id: str
    name: str
    steps: list[Any]  # the model's steps (ci_helper.workflows.Step)
    env: dict[str, Any] = field(default_factory=dict)  # workflow env, then job env: values as written
    matrix: dict[str, Any] = field(default_factory=dict)
    condition: Any = None  # the job's `if:` as written
    remotes: set[str] = field(default_factory=set)  # owner/ci-helper slugs to map to this checkout
    needs: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # the job's `outputs:` as written
    services: list[str] = field(default_factory=list)
    default_shell: str | None = None  # defaults.run.shell (job, else workflow)
    default_working_directory: Scalar | None = None
    inputs: dict[str, Any] = field(default_factory=dict)  # the `inputs` context of this workflow
    combination: str = ""  # the matrix combination's label, "" without a matrix
    not_run: str = ""  # why this job cannot run here (a third-party reusable workflow, a malformed matrix...)
    # A matrix built by an expression (`fromJSON(needs.plan.outputs.indexes)`): expanded when the job starts.
    matrix_source: Any = None
    matrix_where: str = ""  # file:line of that matrix
    call: Any = None  # the calls.Call whose called workflow this job belongs to, None for a job of the project's
    self_root: Path | None = None  # `$/` in this job's steps when it is not the workspace (our called workflows)

    @property
    def key(self) -> tuple[str, str]:
        """Jobs of one workflow (or of one call of a reusable workflow) share ``needs`` by job id."""
        return (self.call.scope if self.call is not None else self.source, self.job_id)

    @property
    def label(self) -> str:
        """The job's id (after its caller's), and its matrix combination: what its check is named after."""
        own = f"{self.job_id}-{self.combination}" if self.combination else self.job_id
        return f"{self.call.label}-{own}" if self.call is not None else own

    @property
    def display(self) -> str:
        return f"{self.name} ({self.combination})" if self.combination else self.name


@dataclass
class Plan:
    jobs: list[PlannedJob]
    # Jobs that were looked at and not run, with why (shown, never counted as passed).
    passed_over: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.value if isinstance(value, Scalar) else ""


def _uses_ours(job: Job, project: Path, ours: Path) -> tuple[bool, set[str]]:
    remotes: set[str] = set()
    uses_ours = False
    for step in job.steps:
        if step.uses is not None and is_ours(step.uses.value, project, ours):
            uses_ours = True
            parsed = step.ref
            if parsed is not None and parsed.kind == REMOTE:
                remotes.add(parsed.repo)
    return uses_ours, remotes


def _calls_ours(job: Job, project: Path, ours: Path, depth: int = 0) -> bool:
    """True when the job calls one of our reusable workflows, or a local one whose jobs use our actions.

    Local calls are followed as far as GitHub nests them (a cycle of calls stops there).
    """
    ref = job.ref
    if ref is None:
        return False
    if ref.ours:
        return True
    if ref.kind != LOCAL or depth >= calls_mod.MAX_DEPTH:
        return False
    try:
        called, _ = calls_mod.resolve(ref, project, ours, {})
    except calls_mod.CannotCall:
        return False
    if project not in called.parents:
        return False  # outside the checkout: not a workflow of this repository
    workflow = build_workflow(read_source(called, str(called.relative_to(project))))
    return any(
        _uses_ours(inner, project, ours)[0] or _calls_ours(inner, project, ours, depth + 1) for inner in workflow.jobs
    )


def _order(workflow: Workflow, wanted: set[str]) -> list[Job]:
    """The wanted jobs and every job they need, needed jobs first, otherwise in file order."""
    by_id = {job.id: job for job in workflow.jobs}
    closure: set[str] = set()
    stack = list(wanted)
    while stack:
        job_id = stack.pop()
        if job_id in closure or job_id not in by_id:
            continue
        closure.add(job_id)
        stack.extend(by_id[job_id].needs)
    ordered: list[Job] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def place(job: Job) -> None:
        if job.id in placed:
            return
        if job.id in visiting:
            raise BadInput(
                f"{workflow.rel}:{job.line}: job '{job.id}' needs itself through 'needs:' (a cycle); fix the file"
            )
        visiting.add(job.id)
        for need in job.needs:
            if need not in by_id:
                raise BadInput(
                    f"{workflow.rel}:{job.line}: job '{job.id}' needs '{need}', which is not a job of "
                    "this workflow; fix the file"
                )
            place(by_id[need])
        visiting.discard(job.id)
        placed.add(job.id)
        ordered.append(job)

    for job in workflow.jobs:
        if job.id in closure:
            place(job)
    return ordered


def workflow_inputs(workflow: Workflow, event: str, given: dict[str, str]) -> dict[str, Any]:
    """The ``inputs`` context: the trigger's defaults, then ``--input`` values; a missing required one is bad input."""
    trigger = workflow.on.events.get(event)
    if trigger is None:
        return {}
    inputs: dict[str, Any] = {}
    for name, spec in trigger.inputs.items():
        if name in given:
            value: Any = given[name]
        elif spec.default is not None:
            value = spec.default
        elif spec.required:
            raise BadInput(
                f"{workflow.rel}:{trigger.line}: input '{name}' of {event} is required; "
                f"pass it with --input {name}=VALUE"
            )
        else:
            value = "" if spec.type != "boolean" else "false"
        if spec.type == "boolean":
            value = str(value).strip().lower() == "true"
        elif spec.type == "number":
            try:
                value = float(value)
            except ValueError:
                raise BadInput(f"--input {name}={value}: {workflow.rel} declares it a number") from None
        inputs[name] = value
    return inputs


def plan(
    project: Path,
    event: str,
    branch: str,
    only_jobs: tuple[str, ...] = (),
    matrix: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
    stub_remotes: dict[str, str] | None = None,
) -> Plan:
    """The jobs to run, in workflow-file order, each job after the jobs it needs; one per matrix combination."""
    ours = checkout_root() / "actions"
    workflows, _ = discover(project)
    result = Plan(jobs=[])
    seen_ids: set[str] = set()
    declared_inputs: set[str] = set()
    chosen = dict(matrix or {})
    matched_matrix = not chosen
    offered: dict[str, list[str]] = {}  # each chosen key's values, as written, for the error
    for path, rel in workflows:
        workflow = build_workflow(read_source(path, rel))
        why_not = workflow.on.why_not(event, branch)
        wanted: set[str] = set()
        remotes_of: dict[str, set[str]] = {}
        for job in workflow.jobs:
            seen_ids.add(job.id)
            if only_jobs and job.id not in only_jobs:
                continue
            where = f"{rel}: job {job.id}"
            if job.uses is not None:
                # CI runs the called workflow's jobs in its place, and so does the dry run (calls.py); one it
                # cannot load is a required job not run, never passed over (a tier CI runs must not vanish).
                if only_jobs or _calls_ours(job, project.resolve(), ours):
                    if why_not:
                        result.passed_over.append(f"{where}: {why_not}")
                    else:
                        wanted.add(job.id)
                continue
            uses_ours, remotes = _uses_ours(job, project.resolve(), ours)
            if not uses_ours and not only_jobs:
                continue
            if why_not:
                result.passed_over.append(f"{where}: {why_not}")
                continue
            wanted.add(job.id)
            remotes_of[job.id] = remotes
        if not wanted:
            continue
        trigger = workflow.on.events.get(event)
        if trigger is not None:
            declared_inputs.update(trigger.inputs)
        context_inputs = workflow_inputs(workflow, event, dict(inputs or {}))
        for job in _order(workflow, wanted):
            where = f"{rel}: job {job.id}"
            if job.uses is not None:
                result.jobs.extend(
                    _plan_call(job, workflow, path, rel, project.resolve(), stub_remotes or {}, context_inputs)
                )
                continue
            remotes = remotes_of.get(job.id) or _uses_ours(job, project.resolve(), ours)[1]
            template = _planned(job, workflow, path, rel, remotes, context_inputs)
            if template.not_run or template.matrix_source is not None:
                result.jobs.append(template)
                continue
            combinations = matrix_mod.expand(job.matrix)
            picked = [c for c in combinations if matrix_mod.matches(c, chosen)]
            for combination in combinations:
                for key in chosen:
                    found = matrix_mod.key_of(combination, key)
                    if found is not None:
                        offered.setdefault(key, []).append(matrix_mod.text(combination[found]))
            if chosen and any(matrix_mod.key_of(c, k) is not None for c in combinations for k in chosen):
                matched_matrix = matched_matrix or bool(picked)
            if not picked:
                result.passed_over.append(
                    f"{where}: no matrix combination has {', '.join(f'{k}={v}' for k, v in chosen.items())}"
                )
                if job.id in wanted:
                    continue
                picked = combinations  # a needed job still runs, or its dependents could not
            result.jobs.extend(_combinations(template, job, picked))
    unknown = [j for j in only_jobs if j not in seen_ids]
    if unknown:
        raise BadInput(
            f"--job {unknown[0]}: no such job in {project}/.github/workflows "
            f"(jobs: {', '.join(sorted(seen_ids)) or 'none'})"
        )
    undeclared = sorted(set(inputs or {}) - declared_inputs)
    if undeclared and result.jobs:
        raise BadInput(
            f"--input {undeclared[0]}: no workflow run for {event} declares that input under "
            f"on.{event}.inputs (declared: {', '.join(sorted(declared_inputs)) or 'none'})"
        )
    if not matched_matrix:
        raise BadInput(
            f"--matrix {', '.join(f'{k}={v}' for k, v in chosen.items())}: no job's matrix has that combination"
            + "".join(f"; {k} is one of {', '.join(dict.fromkeys(v))}" for k, v in offered.items())
        )
    return result


def _planned(
    job: Job,
    workflow: Workflow,
    path: Path,
    rel: str,
    remotes: set[str],
    inputs: dict[str, Any],
    call: calls_mod.Call | None = None,
) -> PlannedJob:
    """The job as the dry run runs it, before its matrix is expanded (``matrix_source`` when an expression builds it)."""
    env = {k: _text(v) for k, v in workflow.env.items()}
    env.update({k: _text(v) for k, v in job.env.items()})
    default_shell = job.default_shell or workflow.default_shell
    planned = PlannedJob(
        path,
        rel,
        job.id,
        job.name.value if job.name is not None else job.id,
        job.steps,
        env,
        condition=job.if_.value if job.if_ is not None else None,
        remotes=set(remotes),
        needs=list(job.needs),
        outputs={k: _text(v) for k, v in job.outputs.items()},
        services=list(job.services),
        default_shell=default_shell.value if default_shell else None,
        default_working_directory=job.default_working_directory or workflow.default_working_directory,
        inputs=inputs,
        call=call,
        self_root=call.self_root if call is not None else None,
    )
    try:
        matrix_mod.expand(job.matrix)
    except matrix_mod.MatrixError as exc:
        if _has_expression(job.matrix):
            planned.matrix_source = job.matrix  # expanded when the jobs it needs have finished
            planned.matrix_where = f"{rel}:{job.matrix_line}"
        else:
            planned.not_run = f"{rel}:{job.matrix_line}: {exc}"
    return planned


def _has_expression(value: Any) -> bool:
    """True when a matrix (or a part of it) is built by a ``${{ }}`` expression."""
    if isinstance(value, str):
        return "${{" in value
    if isinstance(value, dict):
        return any(_has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_expression(v) for v in value)
    return False


def _combinations(template: PlannedJob, job: Job, picked: list[dict[str, Any]]) -> list[PlannedJob]:
    """One planned job per matrix combination (the job itself without a matrix)."""
    return [
        PlannedJob(
            **{
                **template.__dict__,
                "matrix": dict(combination),
                "combination": matrix_mod.label(combination) if job.matrix else "",
            }
        )
        for combination in picked
    ]


def _plan_call(
    job: Job,
    workflow: Workflow,
    path: Path,
    rel: str,
    project: Path,
    stub_remotes: dict[str, str],
    inputs: dict[str, Any],
    parent: calls_mod.Call | None = None,
    depth: int = 1,
) -> list[PlannedJob]:
    """The called workflow's jobs in place of the caller job (one set per matrix combination of the caller)."""
    name = job.name.value if job.name is not None else job.id
    caller_scope = parent.scope if parent is not None else rel

    def not_run(why: str) -> list[PlannedJob]:
        planned = PlannedJob(path, rel, job.id, name, [], needs=list(job.needs), inputs=inputs, call=parent)
        planned.not_run = f"{rel}:{job.line}: {why}"
        return [planned]

    assert job.uses is not None and job.ref is not None
    if depth > calls_mod.MAX_DEPTH:
        return not_run(f"reusable workflows are nested more than {calls_mod.MAX_DEPTH} deep (GitHub refuses that)")
    try:
        called_path, root = calls_mod.resolve(job.ref, project, checkout_root(), stub_remotes)
    except calls_mod.CannotCall as exc:
        return not_run(str(exc))
    # How messages name it: its path in the project, or the remote reference it was mapped from.
    shown = str(called_path.relative_to(project)) if called_path.is_relative_to(project) else job.ref.action_name
    called = build_workflow(read_source(called_path, shown))
    specs = calls_mod.check_with(job, workflow, called, rel)
    try:
        combinations = matrix_mod.expand(job.matrix)
    except matrix_mod.MatrixError as exc:
        return not_run(f"its matrix cannot be expanded before the run for a reusable workflow call ({exc})")
    planned: list[PlannedJob] = []
    ours = checkout_root() / "actions"
    for combination in combinations:
        call = calls_mod.Call(
            caller_scope=caller_scope,
            job_id=job.id,
            name=name,
            uses=job.uses.value,
            where=f"{rel}:{job.line}",
            called=called_path,
            with_={k: v.value for k, v in job.with_.items()},
            specs=specs,
            condition=job.if_.value if job.if_ is not None else None,
            needs=list(job.needs),
            matrix=dict(combination),
            combination=matrix_mod.label(combination) if job.matrix else "",
            self_root=root,
            parent=parent,
            top_inputs=inputs,
        )
        for inner in _order(called, {j.id for j in called.jobs}):
            if inner.uses is not None:
                planned.extend(
                    _plan_call(inner, called, called_path, shown, project, stub_remotes, {}, call, depth + 1)
                )
                continue
            remotes = _uses_ours(inner, project, ours)[1]
            template = _planned(inner, called, called_path, shown, remotes, {}, call)
            if template.not_run or template.matrix_source is not None:
                planned.append(template)
            else:
                planned.extend(_combinations(template, inner, matrix_mod.expand(inner.matrix)))
    return planned
