"""Workflows and actions as the rules see them: jobs, steps and the values that matter, each with its position."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from ci_helper.errors import BadInput
from ci_helper.workflows.source import Node, Scalar, ScalarNode, SequenceNode, Source, position, scalar
from ci_helper.workflows.uses import Uses, parse_uses

WORKFLOW = "workflow"
ACTION = "action"


@dataclass
class Step:
    index: int
    line: int
    column: int
    name: str | None = None
    uses: Scalar | None = None
    run: Scalar | None = None
    shell: Scalar | None = None
    continue_on_error: Scalar | None = None
    if_: Scalar | None = None
    with_: dict[str, Scalar] = field(default_factory=dict)
    # The step's mapping node, for rules that read keys the model does not name (workflows/facts.py).
    node: Node | None = field(default=None, repr=False, compare=False)

    @cached_property  # read for every step by several rules; a built step is never changed
    def ref(self) -> Uses | None:
        return parse_uses(self.uses.value) if self.uses is not None else None

    @property
    def label(self) -> str:
        """How messages name the step: its name, else what it uses or runs."""
        if self.name:
            return self.name
        if self.uses is not None:
            return self.uses.value
        if self.run is not None:
            first = next((line.strip() for line in self.run.value.splitlines() if line.strip()), "")
            return first if len(first) <= 60 else first[:57] + "..."
        return f"step {self.index + 1}"


@dataclass
class Job:
    id: str
    line: int
    column: int
    uses: Scalar | None = None
    steps: list[Step] = field(default_factory=list)
    has_permissions: bool = False
    continue_on_error: Scalar | None = None
    if_: Scalar | None = None
    needs: list[str] = field(default_factory=list)
    default_shell: Scalar | None = None
    with_: dict[str, Scalar] = field(default_factory=dict)
    # `name:`: what the checks list and the API show for the job (the id when absent).
    name: Scalar | None = None
    # The job's mapping node (workflows/facts.py reads permissions, environment, runs-on, secrets from it).
    node: Node | None = field(default=None, repr=False, compare=False)

    @cached_property  # read for every step by several rules; a built step is never changed
    def ref(self) -> Uses | None:
        return parse_uses(self.uses.value) if self.uses is not None else None


@dataclass
class Workflow:
    source: Source
    triggers: set[str]
    has_permissions: bool
    default_shell: Scalar | None
    jobs: list[Job]
    kind: str = WORKFLOW

    @property
    def rel(self) -> str:
        return self.source.rel


@dataclass
class Action:
    source: Source
    using: str | None
    steps: list[Step]
    # `runs.image` of a Docker action (`Dockerfile` or `docker://image...`).
    image: Scalar | None = None
    kind: str = ACTION

    @property
    def rel(self) -> str:
        return self.source.rel

    @property
    def composite(self) -> bool:
        return (self.using or "").strip().lower() == "composite"


# --- building from nodes ------------------------------------------------------


def _optional_scalar(source: Source, table: dict[str, tuple[ScalarNode, Node]], key: str, what: str) -> Scalar | None:
    pair = table.get(key)
    if pair is None:
        return None
    node = pair[1]
    if isinstance(node, ScalarNode):
        # The common case, without building the error message of source.scalar().
        return None if node.tag == _NULL_TAG else scalar(node)
    return source.scalar(node, f"{what} '{key}'")


def _scalars(source: Source, table: dict[str, tuple[ScalarNode, Node]], key: str, what: str) -> dict[str, Scalar]:
    pair = table.get(key)
    if pair is None or _is_null(pair[1]):
        return {}
    out = {}
    for name, (_, value) in source.mapping(pair[1], f"{what} '{key}'").items():
        if isinstance(value, ScalarNode):
            out[name] = scalar(value)
    return out


_NULL_TAG = "tag:yaml.org,2002:null"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _default_shell(source: Source, table: dict[str, tuple[ScalarNode, Node]], what: str) -> Scalar | None:
    pair = table.get("defaults")
    if pair is None or _is_null(pair[1]):
        return None
    defaults = source.mapping(pair[1], f"{what} 'defaults'")
    run = defaults.get("run")
    if run is None or _is_null(run[1]):
        return None
    return _optional_scalar(source, source.mapping(run[1], f"{what} 'defaults.run'"), "shell", f"{what} 'defaults.run'")


def _steps(source: Source, table: dict[str, tuple[ScalarNode, Node]], what: str) -> list[Step]:
    pair = table.get("steps")
    if pair is None or _is_null(pair[1]):
        return []
    steps = []
    for index, node in enumerate(source.sequence(pair[1], f"{what} 'steps'")):
        where = f"{what} step {index + 1}"
        step_table = source.mapping(node, where)
        line, column = position(node)
        name = _optional_scalar(source, step_table, "name", where)
        steps.append(Step(
            index=index, line=line, column=column,
            name=name.value if name is not None else None,
            uses=_optional_scalar(source, step_table, "uses", where),
            run=_optional_scalar(source, step_table, "run", where),
            shell=_optional_scalar(source, step_table, "shell", where),
            continue_on_error=_optional_scalar(source, step_table, "continue-on-error", where),
            if_=_optional_scalar(source, step_table, "if", where),
            with_=_scalars(source, step_table, "with", where),
            node=node,
        ))
    return steps


# GitHub's event names: lowercase words joined by underscores (push, pull_request_target...).
_EVENT_NAME = re.compile(r"^[a-z]+(_[a-z]+)*$")


def _event(source: Source, node: Node, what: str) -> str:
    value = source.scalar(node, what).value
    if not _EVENT_NAME.match(value):
        raise BadInput(f"{source.where(node)}: {what} must be an event name such as push or pull_request, "
                       f"got '{value}'; fix the file")
    return value


def _triggers(source: Source, node: Node) -> set[str]:
    if isinstance(node, ScalarNode):
        return {_event(source, node, "'on'")}
    if isinstance(node, SequenceNode):
        return {_event(source, item, "an 'on' event") for item in node.value}
    return set(source.mapping(node, "'on'"))


def _needs(source: Source, table: dict[str, tuple[ScalarNode, Node]], what: str) -> list[str]:
    pair = table.get("needs")
    if pair is None or _is_null(pair[1]):
        return []
    node = pair[1]
    if isinstance(node, ScalarNode):
        return [node.value]
    return [source.scalar(item, f"{what} 'needs' entry").value for item in source.sequence(node, f"{what} 'needs'")]


def _absent(table: dict[str, tuple[ScalarNode, Node]], key: str) -> bool:
    pair = table.get(key)
    return pair is None or _is_null(pair[1])


def _missing_at(source: Source, pair: tuple[ScalarNode, Node] | None) -> str:
    """``file:line`` of a key given no value, else of the top of the document."""
    return source.where(pair[0] if pair is not None else source.root)  # type: ignore[arg-type]  # a parsed file has a root


def build_workflow(source: Source, strict: bool = True) -> Workflow:
    """The workflow in ``source``. ``strict``: a file GitHub would refuse (no ``on:`` or ``jobs:``, a
    job with neither ``steps:`` nor ``uses:``) is bad input; ``ci-helper pin``, which only edits
    ``uses:`` values, reads leniently."""
    if source.root is None:
        raise BadInput(f"{source.rel}:1: empty workflow file; give it 'on:' and 'jobs:' or delete it")
    top = source.mapping(source.root, "a workflow")
    # GitHub refuses a workflow without events or jobs: such a file is bad input, not a clean one.
    # `on` is YAML 1.1's boolean true: the composer keeps the key's text, so look it up by name.
    on = top.get("on")
    if not strict:
        triggers = _triggers(source, on[1]) if on is not None and not _is_null(on[1]) else set()
    elif on is None or _is_null(on[1]):
        raise BadInput(f"{_missing_at(source, on)}: not a workflow GitHub accepts: no 'on:' (the events that "
                       "start it); add 'on:' or move the file out of .github/workflows")
    else:
        triggers = _triggers(source, on[1])
    jobs_pair = top.get("jobs")
    if strict and (jobs_pair is None or _is_null(jobs_pair[1])):
        raise BadInput(f"{_missing_at(source, jobs_pair)}: not a workflow GitHub accepts: no 'jobs:'; "
                       "add the jobs to run or move the file out of .github/workflows")
    jobs: list[Job] = []
    job_nodes = {} if jobs_pair is None or _is_null(jobs_pair[1]) else source.mapping(jobs_pair[1], "'jobs'")
    for job_id, (key, node) in job_nodes.items():
        what = f"job '{job_id}'"
        table = source.mapping(node, what)
        line, column = position(key)
        if strict and _absent(table, "steps") and _absent(table, "uses"):
            raise BadInput(f"{source.rel}:{line}: {what} has neither 'steps:' nor 'uses:' (a reusable "
                           "workflow); give it steps to run or fix the file")
        jobs.append(Job(
            id=job_id, line=line, column=column,
            uses=_optional_scalar(source, table, "uses", what),
            steps=_steps(source, table, what),
            has_permissions="permissions" in table,
            continue_on_error=_optional_scalar(source, table, "continue-on-error", what),
            if_=_optional_scalar(source, table, "if", what),
            needs=_needs(source, table, what),
            default_shell=_default_shell(source, table, what),
            with_=_scalars(source, table, "with", what),
            name=_optional_scalar(source, table, "name", what),
            node=node,
        ))
    return Workflow(
        source=source, triggers=triggers, has_permissions="permissions" in top,
        default_shell=_default_shell(source, top, "the workflow"), jobs=jobs,
    )


def build_action(source: Source, strict: bool = True) -> Action:
    """The action in ``source``; ``strict``: one with no ``runs:`` is bad input (see :func:`build_workflow`)."""
    if source.root is None:
        raise BadInput(f"{source.rel}:1: empty action file; give it 'runs:' or delete it")
    top = source.mapping(source.root, "an action")
    runs_pair = top.get("runs")
    if strict and (runs_pair is None or _is_null(runs_pair[1])):
        raise BadInput(f"{_missing_at(source, runs_pair)}: not an action GitHub accepts: no 'runs:' (what the "
                       "action runs); add 'runs:' or rename the file")
    using: str | None = None
    steps: list[Step] = []
    image: Scalar | None = None
    if runs_pair is not None and not _is_null(runs_pair[1]):
        runs = source.mapping(runs_pair[1], "'runs'")
        using_value = _optional_scalar(source, runs, "using", "'runs'")
        using = using_value.value if using_value is not None else None
        steps = _steps(source, runs, "'runs'")
        image = _optional_scalar(source, runs, "image", "'runs'")
    return Action(source=source, using=using, steps=steps, image=image)

