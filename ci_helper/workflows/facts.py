"""Facts the rules read from a job, step, workflow or action beyond what the model names.

Each reads the YAML node the model keeps (``Job.node``, ``Step.node``,
``Source.root``) and never raises for an unusual shape: a fact that cannot be
read is absent (GitHub itself validates these keys; the rules only need to know
what is there).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_helper.record import FrozenRecord
from ci_helper.workflows.model import Action, Job, Step, Workflow
from ci_helper.workflows.source import MappingNode, Node, ScalarNode, SequenceNode

_SECRET = re.compile(r"\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']+)'\s*\])")
_NULL_TAG = "tag:yaml.org,2002:null"
_TABLE = "_ci_helper_table"  # where table() keeps a mapping node's table
_SECRETS = "_ci_helper_secrets"  # and secrets() the names under a node


def table(node: Node | None) -> dict[str, Node]:
    """A mapping node's keys to value nodes (merge keys applied, first wins); {} for anything else.

    Read-only: the table is built once per node and kept on it (rules ask for the same job's and
    step's keys many times; a composed node never changes), so callers must not change it.
    """
    if not isinstance(node, MappingNode):
        return {}
    known: dict[str, Node] | None = node.__dict__.get(_TABLE)
    if known is not None:
        return known
    out: dict[str, Node] = {}
    node.__dict__[_TABLE] = out
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.value == "<<":
            for src in value.value if isinstance(value, SequenceNode) else [value]:
                for k, v in table(src).items():
                    out.setdefault(k, v)
            continue
        if isinstance(key, ScalarNode):
            out[key.value] = value
    return out


def text(node: Node | None) -> str | None:
    """A scalar's value; None for a null, a mapping or a list."""
    if isinstance(node, ScalarNode) and node.tag != _NULL_TAG:
        value: str = node.value
        return value
    return None


def texts(node: Node | None) -> list[str]:
    """A scalar or a list of scalars as a list of strings."""
    if isinstance(node, SequenceNode):
        return [v for v in (text(item) for item in node.value) if v is not None]
    value = text(node)
    return [value] if value is not None else []


def scalars(node: Node | None) -> Iterator[ScalarNode]:
    """Every scalar under ``node`` (keys and values)."""
    stack = [node] if node is not None else []
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            yield current
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, MappingNode):
            for key, value in current.value:
                stack.append(key)
                stack.append(value)


# --- permissions --------------------------------------------------------------


class Permissions(FrozenRecord):
    """What a ``permissions:`` value grants: the scopes given ``write`` (``*`` for write-all)."""

    __slots__ = ("writes", "unknown")
    _fields = __slots__

    def __init__(self, writes: frozenset[str], unknown: bool = False) -> None:
        self.writes = writes
        # An expression or an unknown form: it may grant anything.
        self.unknown = unknown


def permissions(node: Node | None) -> Permissions | None:
    """The ``permissions:`` value; None when absent."""
    if node is None:
        return None
    value = text(node)
    if value is not None:
        value = value.strip()
        if value == "write-all":
            return Permissions(frozenset({"*"}))
        if value in ("read-all", "{}", ""):
            return Permissions(frozenset())
        return Permissions(frozenset(), unknown=True)
    if isinstance(node, MappingNode):
        writes = set()
        unknown = False
        for scope, level in table(node).items():
            level_text = (text(level) or "").strip()
            if level_text == "write":
                writes.add(scope)
            elif "${{" in level_text:
                unknown = True
        return Permissions(frozenset(writes), unknown)
    if isinstance(node, ScalarNode):  # `permissions:` with no value: no scope granted
        return Permissions(frozenset())
    return Permissions(frozenset(), unknown=True)


def workflow_permissions(workflow: Workflow) -> Permissions | None:
    return permissions(table(workflow.source.root).get("permissions"))


def job_permissions(job: Job) -> Permissions | None:
    return permissions(table(job.node).get("permissions"))


# --- what a job holds -----------------------------------------------------


def secrets(node: Node | None) -> set[str]:
    """Secret names an expression under ``node`` reads (``secrets.NAME``, ``secrets['NAME']``)."""
    if node is None:
        return set()
    # Kept on the node like table(): a reusable workflow's jobs are asked about once per caller.
    known = node.__dict__.get(_SECRETS)
    if known is None:
        known = node.__dict__[_SECRETS] = frozenset(_secrets(node))
    return set(known)


def _secrets(node: Node) -> set[str]:
    # The walk of scalars() without a generator and with no bookkeeping per scalar (a scalar reached twice
    # through an alias adds the same names again): this runs over every job, and most values name no secret.
    names: set[str] = set()
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        value = current.value
        if value.__class__ is str:
            if "secrets" in value:
                for match in _SECRET.finditer(value):
                    names.add(match.group(1) or match.group(2))
            continue
        key = id(current)
        if key in seen:
            continue
        seen.add(key)
        if current.__class__ is MappingNode or isinstance(current, MappingNode):
            for pair in value:
                stack += pair
        elif isinstance(current, SequenceNode):
            stack += value
    return names


def job_secrets(workflow: Workflow, job: Job) -> set[str]:
    """Secrets the job can read: its own references, ``secrets: inherit`` (``*``), and the workflow's ``env:``."""
    # Every name comes from a scalar holding "secrets": a file that cannot hold one needs no walk.
    if not workflow.source.may_contain("secrets"):
        return set()
    names = secrets(job.node)
    if (text(table(job.node).get("secrets")) or "").strip() == "inherit":
        names.add("*")
    names |= secrets(table(workflow.source.root).get("env"))
    return names


def environment(job: Job) -> str | None:
    node = table(job.node).get("environment")
    if node is None:
        return None
    value = text(node)
    if value is not None:
        return value
    return text(table(node).get("name")) or "(environment)"


def runs_on(job: Job) -> list[str]:
    node = table(job.node).get("runs-on")
    if isinstance(node, MappingNode):
        return texts(table(node).get("labels")) + [f"group:{g}" for g in texts(table(node).get("group"))]
    return texts(node)


def step_env(step: Step) -> dict[str, str]:
    return {k: v for k, v in ((k, text(n)) for k, n in table(table(step.node).get("env")).items()) if v is not None}


def job_env(workflow: Workflow, job: Job) -> dict[str, str]:
    out = {}
    for node in (table(workflow.source.root).get("env"), table(job.node).get("env")):
        out.update({k: v for k, v in ((k, text(n)) for k, n in table(node).items()) if v is not None})
    return out


def step_value(step: Step, key: str) -> Node | None:
    return table(step.node).get(key)


# --- triggers ---------------------------------------------------------------


def trigger_filters(workflow: Workflow) -> dict[str, dict[str, list[str]]]:
    """Each event of ``on:`` with its filters (``branches``, ``paths``, ``paths-ignore``...)."""
    on = table(workflow.source.root).get("on")
    out: dict[str, dict[str, list[str]]] = {event: {} for event in workflow.triggers}
    for event, node in table(on).items():
        out[event] = {key: texts(value) for key, value in table(node).items()}
    return out


# --- actions -----------------------------------------------------------------


class Input(FrozenRecord):
    __slots__ = ("name", "required", "has_default")
    _fields = __slots__

    def __init__(self, name: str, required: bool, has_default: bool) -> None:
        self.name = name
        self.required = required
        self.has_default = has_default


def action_inputs(action: Action) -> dict[str, Input] | None:
    """The action's declared inputs; None when it has no ``inputs:`` at all."""
    node = table(action.source.root).get("inputs")
    if node is None:
        return None
    out = {}
    for name, spec in table(node).items():
        spec_table = table(spec)
        required = (text(spec_table.get("required")) or "").strip().lower() == "true"
        out[name] = Input(name, required, "default" in spec_table)
    return out


def outputs_of(action: Action) -> set[str]:
    return set(table(table(action.source.root).get("outputs")))
