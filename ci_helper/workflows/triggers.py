"""What starts a workflow: its ``on:`` events, their filters and inputs, and whether an event matches.

The one reading of ``on:``: the rules read the event names, the dry run asks
:meth:`Triggers.why_not` whether a simulated event starts the workflow.
"""

from __future__ import annotations

import fnmatch
import re

from ci_helper.errors import BadInput
from ci_helper.record import FrozenRecord, Record
from ci_helper.workflows.source import MappingNode, Node, ScalarNode, SequenceNode, Source

# GitHub's event names: lowercase words joined by underscores (push, pull_request_target...).
_EVENT_NAME = re.compile(r"^[a-z]+(_[a-z]+)*$")
_NULL_TAG = "tag:yaml.org,2002:null"
# Events whose branch filters match the pull request's base branch (push: the pushed branch).
BASE_BRANCH_EVENTS = frozenset({"pull_request", "pull_request_target", "merge_group"})


class TriggerInput(FrozenRecord):
    """One ``workflow_dispatch`` or ``workflow_call`` input."""

    __slots__ = ("name", "required", "default", "type")
    _fields = __slots__

    def __init__(self, name: str, required: bool = False, default: str | None = None, type: str = "string") -> None:
        self.name = name
        self.required = required
        self.default = default
        self.type = type


class Trigger(Record):
    """One event under ``on:`` with the filters the dry run applies."""

    __slots__ = ("event", "line", "branches", "branches_ignore", "inputs", "crons")
    _fields = __slots__

    def __init__(
        self,
        event: str,
        line: int,
        branches: list[str] | None = None,
        branches_ignore: list[str] | None = None,
        inputs: dict[str, TriggerInput] | None = None,
        crons: list[str] | None = None,
    ) -> None:
        self.event = event
        self.line = line
        self.branches = branches
        self.branches_ignore = branches_ignore
        self.inputs: dict[str, TriggerInput] = {} if inputs is None else inputs
        self.crons: list[str] = [] if crons is None else crons

    def why_not(self, branch: str) -> str:
        """Empty when this trigger fires on ``branch``, else why not (branch filters; later patterns win)."""
        if self.branches is not None:
            included = False
            for pattern in self.branches:  # a leading ! excludes
                if pattern.startswith("!"):
                    if fnmatch.fnmatchcase(branch, pattern[1:]):
                        included = False
                elif fnmatch.fnmatchcase(branch, pattern):
                    included = True
            if not included:
                return f"{self.event} on {branch} is not in branches: {', '.join(self.branches)}"
        if self.branches_ignore is not None and any(fnmatch.fnmatchcase(branch, p) for p in self.branches_ignore):
            return f"{self.event} on {branch} is in branches-ignore"
        return ""


class Triggers(Record):
    """Every event of a workflow's ``on:``, in the order written."""

    __slots__ = ("events",)
    _fields = __slots__

    def __init__(self, events: dict[str, Trigger] | None = None) -> None:
        self.events: dict[str, Trigger] = {} if events is None else events

    def names(self) -> set[str]:
        return set(self.events)

    def why_not(self, event: str, branch: str) -> str:
        """Empty when the workflow runs for ``event`` (on ``branch`` where filters apply), else why not."""
        trigger = self.events.get(event)
        if trigger is None:
            return f"not triggered by {event}"
        if event in BASE_BRANCH_EVENTS or event == "push":
            return trigger.why_not(branch)
        return ""


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


def _event(source: Source, node: Node, what: str) -> str:
    value = source.scalar(node, what).value
    if not _EVENT_NAME.match(value):
        raise BadInput(
            f"{source.where(node)}: {what} must be an event name such as push or pull_request, "
            f"got '{value}'; fix the file"
        )
    return value


def _patterns(source: Source, node: Node, what: str) -> list[str]:
    if isinstance(node, ScalarNode):
        return [] if _is_null(node) else [node.value]
    return [source.scalar(item, what).value for item in source.sequence(node, what)]


def _inputs(source: Source, node: Node, what: str) -> dict[str, TriggerInput]:
    if _is_null(node):
        return {}
    out = {}
    for name, (_, spec) in source.mapping(node, what).items():
        if _is_null(spec) or not isinstance(spec, MappingNode):
            out[name] = TriggerInput(name)
            continue
        table = source.mapping(spec, f"{what} '{name}'")
        values = {
            key: value.value
            for key, (_, value) in table.items()
            if isinstance(value, ScalarNode) and not _is_null(value)
        }
        out[name] = TriggerInput(
            name,
            values.get("required", "").strip().lower() == "true",
            values.get("default"),
            values.get("type", "string"),
        )
    return out


def _trigger(source: Source, event: str, key: Node, node: Node | None) -> Trigger:
    trigger = Trigger(event, key.start_mark.line + 1)
    if node is None or _is_null(node) or not isinstance(node, MappingNode):
        return trigger
    table = source.mapping(node, f"'on.{event}'")
    for name, (_, value) in table.items():
        if name == "branches":
            trigger.branches = _patterns(source, value, f"'on.{event}.branches'")
        elif name == "branches-ignore":
            trigger.branches_ignore = _patterns(source, value, f"'on.{event}.branches-ignore'")
        elif name == "inputs":
            trigger.inputs = _inputs(source, value, f"'on.{event}.inputs'")
    return trigger


def read_triggers(source: Source, node: Node) -> Triggers:
    """The ``on:`` value: one event name, a list of names, or a mapping of events to their filters."""
    triggers = Triggers()
    if isinstance(node, ScalarNode):
        name = _event(source, node, "'on'")
        triggers.events[name] = Trigger(name, node.start_mark.line + 1)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            name = _event(source, item, "an 'on' event")
            triggers.events[name] = Trigger(name, item.start_mark.line + 1)
    else:
        for name, (key, value) in source.mapping(node, "'on'").items():
            trigger = _trigger(source, name, key, value)
            if name == "schedule" and isinstance(value, SequenceNode):
                for entry in value.value:
                    if isinstance(entry, MappingNode):
                        cron = source.mapping(entry, "'on.schedule' entry").get("cron")
                        if cron is not None and isinstance(cron[1], ScalarNode):
                            trigger.crons.append(cron[1].value)
            triggers.events[name] = trigger
    return triggers
