"""Workflows and actions as the rules see them: jobs, steps and the values that matter, each with its position."""

from __future__ import annotations

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
            first = next((l.strip() for l in self.run.value.splitlines() if l.strip()), "")
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
        ))
    return steps


def _triggers(source: Source, node: Node) -> set[str]:
    if isinstance(node, ScalarNode):
        return {node.value}
    if isinstance(node, SequenceNode):
        return {source.scalar(item, "an 'on' event").value for item in node.value}
    return set(source.mapping(node, "'on'"))


def _needs(source: Source, table: dict[str, tuple[ScalarNode, Node]], what: str) -> list[str]:
    pair = table.get("needs")
    if pair is None or _is_null(pair[1]):
        return []
    node = pair[1]
    if isinstance(node, ScalarNode):
        return [node.value]
    return [source.scalar(item, f"{what} 'needs' entry").value for item in source.sequence(node, f"{what} 'needs'")]


def build_workflow(source: Source) -> Workflow:
    if source.root is None:
        raise BadInput(f"{source.rel}:1: empty workflow file; give it 'on:' and 'jobs:' or delete it")
    top = source.mapping(source.root, "a workflow")
    # `on` is YAML 1.1's boolean true: the composer keeps the key's text, so look it up by name.
    on = top.get("on")
    triggers = _triggers(source, on[1]) if on is not None and not _is_null(on[1]) else set()
    jobs_pair = top.get("jobs")
    jobs: list[Job] = []
    if jobs_pair is not None and not _is_null(jobs_pair[1]):
        for job_id, (key, node) in source.mapping(jobs_pair[1], "'jobs'").items():
            what = f"job '{job_id}'"
            table = source.mapping(node, what)
            line, column = position(key)
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
            ))
    return Workflow(
        source=source, triggers=triggers, has_permissions="permissions" in top,
        default_shell=_default_shell(source, top, "the workflow"), jobs=jobs,
    )


def build_action(source: Source) -> Action:
    if source.root is None:
        raise BadInput(f"{source.rel}:1: empty action file; give it 'runs:' or delete it")
    top = source.mapping(source.root, "an action")
    runs_pair = top.get("runs")
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

