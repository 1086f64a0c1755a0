"""A job that calls a reusable workflow: where the called file is, and its ``inputs`` context.

On GitHub a job with ``uses: owner/repo/.github/workflows/x.yml@ref`` (or a local
``./.github/workflows/x.yml``) is replaced by the called workflow's jobs. The dry run does
the same: :func:`resolve` finds the file (one of ours is this ci-helper checkout's
``.github/workflows/<file>``, as our remote actions are mapped to the checkout; a
``--stub-remote owner/repo=DIR`` maps any other), and each called job is planned with a
:class:`Call` that the jobs share. The call's ``with:`` is evaluated with the caller's
contexts when its first job starts (the jobs the caller needs have finished by then), with
the defaults and types of ``on.workflow_call.inputs``.

Inside a called workflow ``$/`` is the called workflow's repository: our checkout for one
of ours, the workspace for a local one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_helper.errors import BadInput
from ci_helper.workflows.model import Job, Workflow
from ci_helper.workflows.triggers import TriggerInput
from ci_helper.workflows.uses import LOCAL, REMOTE, Uses

# GitHub's limit: a caller and up to nine levels of called workflows.
MAX_DEPTH = 10


class CannotCall(Exception):
    """The called workflow cannot run here (a third-party repository, a missing file): the job is not run."""


@dataclass
class Call:
    """One caller job (one matrix combination of it); the called workflow's jobs run in its place."""

    caller_scope: str  # the caller's own scope: its workflow, or the call it is part of
    job_id: str
    name: str
    uses: str
    where: str  # file:line of the caller job
    called: Path  # the called workflow file
    with_: dict[str, str]  # the caller's `with:`, as written
    specs: dict[str, TriggerInput]  # on.workflow_call.inputs of the called workflow
    condition: Any  # the caller's `if:`
    needs: list[str]  # the caller's `needs:` (jobs of the caller's scope)
    matrix: dict[str, Any] = field(default_factory=dict)  # the caller's matrix combination
    combination: str = ""
    self_root: Path | None = None  # `$/` in the called workflow: our checkout; None = the workspace
    parent: Call | None = None  # the call this caller job belongs to (nested calls)
    top_inputs: dict[str, Any] = field(default_factory=dict)  # the caller workflow's inputs context
    # Filled when the call's first job is about to run.
    entered: bool | None = None
    skip_reason: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        """What the called jobs' ``needs`` are looked up in: this call, not the caller's workflow."""
        label = f"{self.job_id} ({self.combination})" if self.combination else self.job_id
        return f"{self.caller_scope} > {label}"

    @property
    def key(self) -> tuple[str, str]:
        """The caller job, as the jobs of the caller's workflow that need it see it."""
        return (self.caller_scope, self.job_id)

    @property
    def label(self) -> str:
        """``quality`` (``quality-1`` for a matrix combination): what check names of its jobs start with."""
        own = f"{self.job_id}-{self.combination}" if self.combination else self.job_id
        return f"{self.parent.label}-{own}" if self.parent is not None else own

    def caller_inputs(self) -> dict[str, Any]:
        return self.parent.inputs if self.parent is not None else self.top_inputs


def resolve(ref: Uses, project: Path, checkout: Path, stub_remotes: dict[str, str]) -> tuple[Path, Path | None]:
    """(the called workflow file, the root `$/` means inside it: None for the workspace); CannotCall else."""
    if ref.kind == LOCAL:
        called = (project / (ref.local_path or "")).resolve()
        root: Path | None = None
    elif ref.kind == REMOTE and ref.valid:
        stubs = {k.lower(): Path(v) for k, v in stub_remotes.items()}
        if ref.repo_key in stubs:
            root = stubs[ref.repo_key].resolve()
        elif ref.ours:
            root = checkout
        else:
            raise CannotCall(
                f"it calls the reusable workflow {ref.raw} of another repository, which a local dry run does not "
                f"fetch; CI does (map it with --stub-remote {ref.repo}=DIR to run a local copy)"
            )
        called = root.joinpath(*ref.path_parts)
    else:
        raise CannotCall(f"it calls {ref.raw}, which is not a reusable workflow a dry run can load")
    if called.suffix not in (".yml", ".yaml") or not called.is_file():
        raise CannotCall(
            f"it calls the reusable workflow {ref.raw}, but {called} is not a workflow file here; CI runs it"
        )
    return called, root


def check_with(job: Job, workflow: Workflow, called: Workflow, caller_rel: str) -> dict[str, TriggerInput]:
    """The called workflow's inputs; bad input when it is not callable or a required input is missing."""
    trigger = called.on.events.get("workflow_call")
    if trigger is None:
        raise BadInput(
            f"{caller_rel}:{job.line}: job '{job.id}' calls {called.rel}, which has no `on: workflow_call`; "
            "a workflow is callable only with that trigger"
        )
    given = {name.lower() for name in job.with_}
    for name, spec in trigger.inputs.items():
        if spec.required and spec.default is None and name.lower() not in given:
            raise BadInput(
                f"{caller_rel}:{job.line}: job '{job.id}' calls {called.rel} without its required input "
                f"'{name}'; add it under `with:` ({name}: VALUE)"
            )
    declared = {name.lower() for name in trigger.inputs}
    for name, value in job.with_.items():
        if name.lower() not in declared:
            raise BadInput(
                f"{caller_rel}:{value.line}: job '{job.id}' gives input '{name}', which {called.rel} does not "
                f"declare under on.workflow_call.inputs (declared: {', '.join(sorted(trigger.inputs)) or 'none'})"
            )
    return dict(trigger.inputs)


def evaluate_inputs(call: Call, contexts: dict[str, Any]) -> dict[str, Any]:
    """The ``inputs`` context of the called workflow: ``with:`` evaluated in the caller's contexts, then defaults."""
    from ci_helper.runner import ExpressionError, evaluate_template

    given: dict[str, Any] = {}
    for name, raw in call.with_.items():
        try:
            given[name.lower()] = evaluate_template(raw, contexts)
        except ExpressionError as exc:
            raise BadInput(f"{call.where}: job '{call.job_id}': with: {name}: {exc}") from None
    inputs: dict[str, Any] = {}
    for name, spec in call.specs.items():
        if name.lower() in given:
            value: Any = given[name.lower()]
        elif spec.default is not None:
            try:
                value = evaluate_template(spec.default, contexts)
            except ExpressionError as exc:
                raise BadInput(f"{call.called}: default of input '{name}': {exc}") from None
        else:
            value = {"boolean": False, "number": 0}.get(spec.type, "")
        inputs[name] = _typed(value, spec, call)
    return inputs


def _typed(value: Any, spec: TriggerInput, call: Call) -> Any:
    if spec.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text == "true"
    elif spec.type == "number":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    else:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return value if isinstance(value, str) else str(value)
    raise BadInput(
        f"{call.where}: job '{call.job_id}': input '{spec.name}' of {call.called.name} is a {spec.type}, "
        f"got {value!r}; fix its `with:` value"
    )
