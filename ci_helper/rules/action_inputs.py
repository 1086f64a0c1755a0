"""action-inputs: a ``with:`` key the called action does not declare, or a required input left out.

GitHub only warns about an unexpected input and runs the action with its
default: ``fail_under: 90`` for an action whose input is ``fail-under`` quietly
drops the floor. Checked where the action's ``action.yml`` can be read without
the network: local actions (``./x``, ``$/x``) and ci-helper's own actions (read
from the ci-helper that runs verify).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import Action, Source, Step, Tree, facts
from ci_helper.workflows.discovery import ACTION_NAMES
from ci_helper.workflows.model import build_action
from ci_helper.workflows.source import read_source
from ci_helper.workflows.uses import LOCAL, REMOTE, SELF

ID = "action-inputs"
_OURS = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=64)
def _our_action(path: str) -> Action | None:
    """One of ci-helper's own actions (``actions/smoke``, the root action), from this installation."""
    folder = _OURS / path if path else _OURS
    for name in ACTION_NAMES:
        file = folder / name
        if file.is_file():
            return build_action(read_source(file, f"{path}/{name}" if path else name))
    return None


def called_action(tree: Tree, step: Step) -> Action | None:
    ref = step.ref
    if ref is None:
        return None
    if ref.kind in (LOCAL, SELF):
        return tree.local_action(ref)
    if ref.kind == REMOTE and ref.repo.split("/")[-1] == "ci-helper":
        return _our_action(ref.path.strip("/"))
    return None


class ActionInputs:
    id = ID
    summary = "a with: key the called action does not declare (a typo drops the setting), or a missing required input"

    def check(self, ctx: Context) -> Iterator[Finding]:
        # Each called action's inputs, read once however many steps call it (keyed by the action object).
        inputs: dict[int, tuple[dict[str, facts.Input], dict[str, facts.Input]]] = {}
        for workflow in ctx.tree.workflows:
            for job in workflow.jobs:
                for step in job.steps:
                    if _may_call_known_action(step):
                        yield from _step(ctx.tree, workflow.source, step, inputs)
        for action in ctx.tree.actions:
            for step in action.steps:
                if _may_call_known_action(step):
                    yield from _step(ctx.tree, action.source, step, inputs)


def _may_call_known_action(step: Step) -> bool:
    """False when :func:`called_action` is None for certain (a run step, docker, someone else's action)."""
    ref = step.ref
    return ref is not None and (ref.kind in (LOCAL, SELF) or (ref.kind == REMOTE and ref.ours))


def _step(
    tree: Tree,
    source: Source,
    step: Step,
    inputs: dict[int, tuple[dict[str, facts.Input], dict[str, facts.Input]]],
) -> Iterator[Finding]:
    action = called_action(tree, step)
    if action is None:
        return
    known = inputs.get(id(action))
    if known is None:
        declared = facts.action_inputs(action) or {}
        known = inputs[id(action)] = (declared, {name.lower(): spec for name, spec in declared.items()})
    declared, by_lower = known
    name = step.uses.value.strip() if step.uses is not None else action.rel
    for key, value in step.with_.items():
        if key.lower() in by_lower:
            continue
        import difflib  # only for a key the action does not declare (a finding): not on every run

        close = difflib.get_close_matches(key.lower().replace("_", "-"), list(by_lower), n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}'?" if close else f"; it declares: {', '.join(sorted(declared)) or 'none'}"
        yield finding(
            ID,
            f"'{key}' is not an input of {name}: GitHub ignores it and the action runs with its default" + hint,
            source.rel,
            value.line,
            value.column,
            step=step.label,
            input=key,
        )
    given = {key.lower() for key in step.with_}
    for spec in declared.values():
        if spec.required and not spec.has_default and spec.name.lower() not in given:
            at = step.uses if step.uses is not None else None
            yield finding(
                ID,
                f"{name} requires the input '{spec.name}' and step '{step.label}' does not give it",
                source.rel,
                at.line if at else step.line,
                at.column if at else step.column,
                step=step.label,
                input=spec.name,
            )


RULE = ActionInputs()
