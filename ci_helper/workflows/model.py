"""Workflows and actions as the rules, ``pin``, the runner and the dry run see them: triggers, jobs,
steps and the values that matter, each with its position.

What every rule reads (``uses``, ``run``, ``shell``, ``if``...) is built eagerly;
what only the runner and the dry run read (a step's ``env``, a job's matrix,
outputs and services, an action's inputs) is read from the kept node table on
first use, so a repository-wide ``verify`` does not pay for it.
"""

from __future__ import annotations

from typing import Any

from ci_helper.errors import BadInput
from ci_helper.record import FrozenRecord, Record, cached_property
from ci_helper.workflows.source import (
    Node,
    Scalar,
    ScalarNode,
    SequenceNode,
    Source,
    position,
    scalar,
)
from ci_helper.workflows.triggers import Triggers, read_triggers
from ci_helper.workflows.uses import Uses, parse_uses

# A mapping's keys to (key node, value node), as Source.mapping returns them.
Fields = dict[str, tuple[ScalarNode, Node]]

WORKFLOW = "workflow"
ACTION = "action"


class Step(Record):
    _fields = ("index", "line", "column", "name", "uses", "run", "shell", "continue_on_error", "if_", "with_")

    def __init__(
        self,
        index: int,
        line: int,
        column: int,
        name: str | None = None,
        uses: Scalar | None = None,
        run: Scalar | None = None,
        shell: Scalar | None = None,
        continue_on_error: Scalar | None = None,
        if_: Scalar | None = None,
        with_: dict[str, Scalar] | None = None,
        node: Node | None = None,
        source: Source | None = None,
        fields: Fields | None = None,
    ) -> None:
        self.index = index
        self.line = line
        self.column = column
        self.name = name
        self.uses = uses
        self.run = run
        self.shell = shell
        self.continue_on_error = continue_on_error
        self.if_ = if_
        self.with_: dict[str, Scalar] = {} if with_ is None else with_
        # The step's mapping node, for rules that read keys the model does not name (workflows/facts.py).
        self.node = node
        self.source = source
        self.fields: Fields = {} if fields is None else fields  # the step's keys, as written

    @cached_property  # read for every step by several rules; a built step is never changed
    def ref(self) -> Uses | None:
        return parse_uses(self.uses.value) if self.uses is not None else None

    @property
    def what(self) -> str:
        return f"step {self.index + 1}"

    @cached_property
    def id(self) -> Scalar | None:
        return _field_scalar(self, "id")

    @cached_property
    def env(self) -> dict[str, Scalar | Node]:
        """``env:``: name to value (a node when the value is not a single value: the runner refuses it)."""
        return _values(self, "env")

    @cached_property
    def with_values(self) -> dict[str, Scalar | Node]:
        """``with:`` as :attr:`env`: every key, including values that are not a single value."""
        return _values(self, "with")

    @cached_property
    def working_directory(self) -> Scalar | None:
        return _field_scalar(self, "working-directory")

    @cached_property
    def timeout_minutes(self) -> Scalar | None:
        return _field_scalar(self, "timeout-minutes")

    def condition(self, named_values: set[str] | None = None) -> Any:
        """The ``if:`` parsed by the expression parser (a ``Condition``); raises ``TemplateError``."""
        return compile_if(self.if_, self.source, named_values)

    @cached_property  # every finding about the step names it; a built step is never changed
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


class Job(Record):
    _fields = (
        "id",
        "line",
        "column",
        "uses",
        "steps",
        "has_permissions",
        "continue_on_error",
        "if_",
        "needs",
        "default_shell",
        "with_",
        "name",
    )

    def __init__(
        self,
        id: str,
        line: int,
        column: int,
        uses: Scalar | None = None,
        steps: list[Step] | None = None,
        has_permissions: bool = False,
        continue_on_error: Scalar | None = None,
        if_: Scalar | None = None,
        needs: list[str] | None = None,
        default_shell: Scalar | None = None,
        with_: dict[str, Scalar] | None = None,
        name: Scalar | None = None,
        node: Node | None = None,
        source: Source | None = None,
        fields: Fields | None = None,
    ) -> None:
        self.id = id
        self.line = line
        self.column = column
        self.uses = uses
        self.steps: list[Step] = [] if steps is None else steps
        self.has_permissions = has_permissions
        self.continue_on_error = continue_on_error
        self.if_ = if_
        self.needs: list[str] = [] if needs is None else needs
        self.default_shell = default_shell
        self.with_: dict[str, Scalar] = {} if with_ is None else with_
        # `name:`: what the checks list and the API show for the job (the id when absent).
        self.name = name
        # The job's mapping node (workflows/facts.py reads permissions, environment, runs-on, secrets from it).
        self.node = node
        self.source = source
        self.fields: Fields = {} if fields is None else fields

    @cached_property  # read for every step by several rules; a built step is never changed
    def ref(self) -> Uses | None:
        return parse_uses(self.uses.value) if self.uses is not None else None

    @property
    def what(self) -> str:
        return f"job '{self.id}'"

    @cached_property
    def env(self) -> dict[str, Scalar | Node]:
        return _values(self, "env")

    @cached_property
    def outputs(self) -> dict[str, Scalar | Node]:
        """``outputs:``: name to its ``${{ }}`` value, evaluated after the job's steps."""
        return _values(self, "outputs")

    @cached_property
    def services(self) -> list[str]:
        """The names under ``services:`` (containers a local dry run does not start)."""
        pair = self.fields.get("services")
        if pair is None or _is_null(pair[1]) or self.source is None:
            return []
        return list(self.source.mapping(pair[1], f"{self.what} 'services'"))

    @cached_property
    def matrix(self) -> Any:
        """``strategy.matrix`` as plain values (strings, lists, mappings), or None."""
        pair = self.fields.get("strategy")
        if pair is None or _is_null(pair[1]) or self.source is None:
            return None
        strategy = self.source.mapping(pair[1], f"{self.what} 'strategy'")
        matrix = strategy.get("matrix")
        return None if matrix is None else to_value(self.source, matrix[1], f"{self.what} 'strategy.matrix'")

    @cached_property
    def matrix_line(self) -> int:
        pair = self.fields.get("strategy")
        return pair[1].start_mark.line + 1 if pair is not None else self.line

    @cached_property
    def default_working_directory(self) -> Scalar | None:
        return _defaults_run(self.source, self.fields, "working-directory", self.what)

    def condition(self, named_values: set[str] | None = None) -> Any:
        """The job's ``if:`` parsed by the expression parser (a ``Condition``); raises ``TemplateError``."""
        return compile_if(self.if_, self.source, named_values)


class Workflow(Record):
    _fields = ("source", "triggers", "has_permissions", "default_shell", "jobs", "kind", "on")

    def __init__(
        self,
        source: Source,
        triggers: set[str],
        has_permissions: bool,
        default_shell: Scalar | None,
        jobs: list[Job],
        kind: str = WORKFLOW,
        on: Triggers | None = None,
        fields: Fields | None = None,
    ) -> None:
        self.source = source
        self.triggers = triggers
        self.has_permissions = has_permissions
        self.default_shell = default_shell
        self.jobs = jobs
        self.kind = kind
        self.on = Triggers() if on is None else on
        self.fields: Fields = {} if fields is None else fields

    @property
    def rel(self) -> str:
        return self.source.rel

    @cached_property
    def name(self) -> Scalar | None:
        return _optional_scalar(self.source, self.fields, "name", "the workflow")

    @cached_property
    def env(self) -> dict[str, Scalar | Node]:
        return _values_of(self.source, self.fields, "env", "the workflow")

    @cached_property
    def default_working_directory(self) -> Scalar | None:
        return _defaults_run(self.source, self.fields, "working-directory", "the workflow")

    def job(self, job_id: str) -> Job | None:
        return next((job for job in self.jobs if job.id == job_id), None)


class ActionInput(FrozenRecord):
    __slots__ = ("name", "line", "required", "default", "deprecation")
    _fields = __slots__

    def __init__(self, name: str, line: int, required: bool, default: Scalar | None, deprecation: str = "") -> None:
        self.name = name
        self.line = line
        self.required = required
        self.default = default
        self.deprecation = deprecation


class Action(Record):
    _fields = ("source", "using", "steps", "image", "kind")

    def __init__(
        self,
        source: Source,
        using: str | None,
        steps: list[Step],
        image: Scalar | None = None,
        kind: str = ACTION,
        fields: Fields | None = None,
        runs: Fields | None = None,
    ) -> None:
        self.source = source
        self.using = using
        self.steps = steps
        # `runs.image` of a Docker action (`Dockerfile` or `docker://image...`).
        self.image = image
        self.kind = kind
        self.fields: Fields = {} if fields is None else fields
        self.runs: Fields = {} if runs is None else runs

    @property
    def rel(self) -> str:
        return self.source.rel

    @cached_property
    def name(self) -> str:
        value = _optional_scalar(self.source, self.fields, "name", "the action")
        return value.value if value is not None else ""

    @cached_property
    def inputs(self) -> dict[str, ActionInput]:
        """``inputs:`` with each one's default (a scalar that may hold ``${{ }}``) and whether it is required."""
        pair = self.fields.get("inputs")
        if pair is None or _is_null(pair[1]):
            return {}
        out = {}
        for name, (key, node) in self.source.mapping(pair[1], "'inputs'").items():
            what = f"input '{name}'"
            table = {} if _is_null(node) else self.source.mapping(node, what)
            required = _optional_scalar(self.source, table, "required", what)
            deprecation = _optional_scalar(self.source, table, "deprecationMessage", what)
            out[name] = ActionInput(
                name,
                key.start_mark.line + 1,
                required is not None and required.value.strip().lower() == "true",
                _optional_scalar(self.source, table, "default", what),
                deprecation.value if deprecation is not None else "",
            )
        return out

    @cached_property
    def outputs(self) -> dict[str, Scalar | None]:
        """``outputs:`` of a composite action: name to its ``value`` (None when it has none)."""
        pair = self.fields.get("outputs")
        if pair is None or _is_null(pair[1]):
            return {}
        out = {}
        for name, (_key, node) in self.source.mapping(pair[1], "'outputs'").items():
            table = {} if _is_null(node) else self.source.mapping(node, f"output '{name}'")
            value = _optional_scalar(self.source, table, "value", f"output '{name}'")
            out[name] = value
        return out

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


def _defaults_run(source: Source | None, table: Fields, key: str, what: str) -> Scalar | None:
    """``defaults.run.<key>`` (``shell`` or ``working-directory``) of a workflow or a job."""
    pair = table.get("defaults")
    if source is None or pair is None or _is_null(pair[1]):
        return None
    defaults = source.mapping(pair[1], f"{what} 'defaults'")
    run = defaults.get("run")
    if run is None or _is_null(run[1]):
        return None
    return _optional_scalar(source, source.mapping(run[1], f"{what} 'defaults.run'"), key, f"{what} 'defaults.run'")


def _default_shell(source: Source, table: Fields, what: str) -> Scalar | None:
    return _defaults_run(source, table, "shell", what)


def _field_scalar(owner: Step | Job, key: str) -> Scalar | None:
    if owner.source is None:
        return None
    return _optional_scalar(owner.source, owner.fields, key, owner.what)


def _values_of(source: Source | None, table: Fields, key: str, what: str) -> dict[str, Scalar | Node]:
    """A mapping of single values (``env:``, ``with:``, ``outputs:``): a value that is not one stays a node."""
    pair = table.get(key)
    if source is None or pair is None or _is_null(pair[1]):
        return {}
    out: dict[str, Scalar | Node] = {}
    for name, (_, value) in source.mapping(pair[1], f"{what} '{key}'").items():
        if isinstance(value, ScalarNode):
            out[name] = Scalar("", *position(value), True, value) if _is_null(value) else scalar(value)
        else:
            out[name] = value
    return out


def _values(owner: Step | Job, key: str) -> dict[str, Scalar | Node]:
    return _values_of(owner.source, owner.fields, key, owner.what)


def to_value(source: Source, node: Node, what: str) -> Any:
    """A node as plain values: strings as written (None for null), lists and mappings (merge keys applied)."""
    if isinstance(node, ScalarNode):
        return None if _is_null(node) else node.value
    if isinstance(node, SequenceNode):
        return [to_value(source, item, what) for item in node.value]
    return {key: to_value(source, value, what) for key, (_, value) in source.mapping(node, what).items()}


def compile_if(value: Scalar | None, source: Source | None, named_values: set[str] | None = None) -> Any:
    """An ``if:`` value parsed by the one expression parser; ``TemplateError`` names ``file:line``."""
    from ci_helper.runner.expressions import compile_condition

    where = f"{source.rel if source is not None else '?'}:{value.line}" if value is not None else None
    return compile_condition(value.value if value is not None else None, where=where, named_values=named_values)


def _steps(source: Source, table: dict[str, tuple[ScalarNode, Node]], what: str) -> list[Step]:
    pair = table.get("steps")
    if pair is None or _is_null(pair[1]):
        return []
    steps = []
    for index, node in enumerate(source.sequence(pair[1], f"{what} 'steps'")):
        where = f"{what} step {index + 1}"
        step_table = source.mapping(node, where)
        line, column = position(node)
        # A step names few of these keys: an absent one costs a lookup, not a call.
        name = _optional_scalar(source, step_table, "name", where) if "name" in step_table else None
        steps.append(
            Step(
                index,
                line,
                column,
                name.value if name is not None else None,
                _optional_scalar(source, step_table, "uses", where) if "uses" in step_table else None,
                _optional_scalar(source, step_table, "run", where) if "run" in step_table else None,
                _optional_scalar(source, step_table, "shell", where) if "shell" in step_table else None,
                (
                    _optional_scalar(source, step_table, "continue-on-error", where)
                    if "continue-on-error" in step_table
                    else None
                ),
                _optional_scalar(source, step_table, "if", where) if "if" in step_table else None,
                _scalars(source, step_table, "with", where) if "with" in step_table else None,
                node,
                source,
                step_table,
            )
        )
    return steps


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
        triggers = read_triggers(source, on[1]) if on is not None and not _is_null(on[1]) else Triggers()
    elif on is None or _is_null(on[1]):
        raise BadInput(
            f"{_missing_at(source, on)}: not a workflow GitHub accepts: no 'on:' (the events that "
            "start it); add 'on:' or move the file out of .github/workflows"
        )
    else:
        triggers = read_triggers(source, on[1])
    jobs_pair = top.get("jobs")
    if strict and (jobs_pair is None or _is_null(jobs_pair[1])):
        raise BadInput(
            f"{_missing_at(source, jobs_pair)}: not a workflow GitHub accepts: no 'jobs:'; "
            "add the jobs to run or move the file out of .github/workflows"
        )
    jobs: list[Job] = []
    job_nodes = {} if jobs_pair is None or _is_null(jobs_pair[1]) else source.mapping(jobs_pair[1], "'jobs'")
    for job_id, (key, node) in job_nodes.items():
        what = f"job '{job_id}'"
        table = source.mapping(node, what)
        line, column = position(key)
        if strict and _absent(table, "steps") and _absent(table, "uses"):
            raise BadInput(
                f"{source.rel}:{line}: {what} has neither 'steps:' nor 'uses:' (a reusable "
                "workflow); give it steps to run or fix the file"
            )
        jobs.append(
            Job(
                id=job_id,
                line=line,
                column=column,
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
                source=source,
                fields=table,
            )
        )
    return Workflow(
        source=source,
        triggers=triggers.names(),
        has_permissions="permissions" in top,
        default_shell=_default_shell(source, top, "the workflow"),
        jobs=jobs,
        on=triggers,
        fields=top,
    )


def build_action(source: Source, strict: bool = True) -> Action:
    """The action in ``source``; ``strict``: one with no ``runs:`` is bad input (see :func:`build_workflow`)."""
    if source.root is None:
        raise BadInput(f"{source.rel}:1: empty action file; give it 'runs:' or delete it")
    top = source.mapping(source.root, "an action")
    runs_pair = top.get("runs")
    if strict and (runs_pair is None or _is_null(runs_pair[1])):
        raise BadInput(
            f"{_missing_at(source, runs_pair)}: not an action GitHub accepts: no 'runs:' (what the "
            "action runs); add 'runs:' or rename the file"
        )
    using: str | None = None
    steps: list[Step] = []
    image: Scalar | None = None
    runs: Fields = {}
    if runs_pair is not None and not _is_null(runs_pair[1]):
        runs = source.mapping(runs_pair[1], "'runs'")
        using_value = _optional_scalar(source, runs, "using", "'runs'")
        using = using_value.value if using_value is not None else None
        steps = _steps(source, runs, "'runs'")
        image = _optional_scalar(source, runs, "image", "'runs'")
    return Action(source=source, using=using, steps=steps, image=image, fields=top, runs=runs)
