"""Compile an ``action.yml`` (or a workflow job's steps) from the one model for the runner.

The file is read by :mod:`ci_helper.workflows` (YAML with positions, ``uses:``,
shells); this module checks what the runner needs beyond the model (step keys,
ids, a shell for composite ``run`` steps) and parses every ``${{ }}`` and
``if:`` now, so a syntax error stops the run before any step starts (as GitHub
refuses to load a broken action). Every error is :class:`BadInput` naming
``file:line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.runner.expressions import Condition, Template, TemplateError, compile_template
from ci_helper.workflows import model
from ci_helper.workflows.discovery import ACTION_NAMES
from ci_helper.workflows.shell import DEFAULT_SHELL
from ci_helper.workflows.source import Node, Scalar, read_source
from ci_helper.workflows.uses import parse_uses

# Named-values a composite action may use (no `secrets`: composite actions have none).
NAMED_VALUES = {"github", "inputs", "steps", "env", "runner", "job", "strategy", "matrix"}
# ... and a workflow job's steps.
WORKFLOW_NAMED_VALUES = NAMED_VALUES | {"secrets", "vars", "needs", "jobs"}
# The runner's shell for a workflow `run` step without `shell` (Linux/macOS): the model's default.
WORKFLOW_DEFAULT_SHELL = DEFAULT_SHELL

STEP_KEYS = {
    "id",
    "name",
    "if",
    "run",
    "shell",
    "uses",
    "with",
    "env",
    "working-directory",
    "continue-on-error",
    "timeout-minutes",
}
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

# The runner's errors are bad input (exit 2 for run-action; a failed step inside a run).
ManifestError = BadInput


@dataclass
class Input:
    name: str
    required: bool
    default: Template | None
    deprecation: str = ""


@dataclass
class Output:
    name: str
    value: Template


@dataclass
class Step:
    index: int
    where: str
    id: str | None
    display: Template | None
    condition: Condition
    run: Template | None
    shell: str | None
    uses: str | None
    with_: dict[str, Template]
    env: dict[str, Template]
    working_directory: Template | None
    continue_on_error: bool | Template
    timeout_minutes: Template | None
    context_name: str = ""  # the id, or the generated __run / __run_2 / __self ...


@dataclass
class Action:
    path: Path  # the action.yml
    directory: Path
    name: str
    using: str
    inputs: dict[str, Input] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


def find_action_file(directory: Path) -> Path | None:
    for name in ACTION_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def _where(source_rel: str, line: int | None) -> str:
    return f"{source_rel}:{line}" if line else source_rel


def _template(
    value: Scalar | Node | None, rel: str, named_values: set[str] = NAMED_VALUES, line: int | None = None
) -> Template:
    if value is not None and not isinstance(value, Scalar):
        kind = "mapping" if getattr(value, "id", None) == "mapping" else "sequence"
        raise BadInput(f"{_where(rel, value.start_mark.line + 1)}: expected a string, got a {kind}")
    text = value.value if value is not None else ""
    where = _where(rel, value.line if value is not None else line)
    try:
        return compile_template(text, where=where, named_values=named_values)
    except TemplateError as exc:
        raise BadInput(str(exc)) from None


def generated_id(step: Step) -> str:
    """The runner's id for a step without one, before de-duplication."""
    return parse_uses(step.uses).step_id if step.uses is not None else "run"


class IdBuilder:
    """``__run``, ``__run_2``, ...: unique among all ids of the action, case-insensitively."""

    def __init__(self, known: set[str]) -> None:
        self.known = {k.lower() for k in known}

    def build(self, name: str) -> str:
        base = "__" + re.sub(r"[^A-Za-z0-9_]", "_", name)
        candidate, n = base, 1
        while candidate.lower() in self.known:
            n += 1
            candidate = f"{base}_{n}"
        self.known.add(candidate.lower())
        return candidate


def _compile_step(
    step: model.Step,
    rel: str,
    named_values: set[str],
    default_shell: str | None,
    default_working_directory: Scalar | None,
) -> Step:
    where = _where(rel, step.line)
    fields = step.fields

    def at(key: str) -> str:
        pair = fields.get(key)
        return _where(rel, pair[1].start_mark.line + 1 if pair is not None else step.line)

    unknown = sorted(set(fields) - STEP_KEYS)
    if unknown:
        raise BadInput(
            f"{at(unknown[0])}: unexpected key '{unknown[0]}' in a composite step "
            f"(allowed: {', '.join(sorted(STEP_KEYS))})"
        )
    if (step.run is None) == (step.uses is None):
        raise BadInput(f"{where}: a step needs exactly one of 'run' or 'uses'")
    step_id = step.id.value if step.id is not None else None
    if step_id is not None and (not _ID.match(step_id) or step_id.startswith("__")):
        raise BadInput(
            f"{at('id')}: invalid step id '{step_id}' (letters, digits, '-' and '_'; "
            "starts with a letter or '_'; '__' is reserved)"
        )
    shell = step.shell.value if step.shell is not None and step.shell.value else None
    if step.run is not None and shell is None and default_shell is None:
        raise BadInput(
            f"{where}: a composite 'run' step needs 'shell' (bash, sh, python, pwsh or a command with {{0}})"
        )
    try:
        condition = step.condition(named_values)
    except TemplateError as exc:
        raise BadInput(str(exc)) from None
    continue_on_error: bool | Template = False
    if step.continue_on_error is not None:
        literal = step.continue_on_error.as_bool()
        if literal is not None:
            continue_on_error = literal
        else:
            continue_on_error = _template(step.continue_on_error, rel, named_values)
            if not continue_on_error.has_expressions:
                raise BadInput(f"{at('continue-on-error')}: expected a boolean, got '{step.continue_on_error.value}'")
    name = model._field_scalar(step, "name")
    working_directory = step.working_directory or (default_working_directory if step.run is not None else None)
    return Step(
        index=step.index,
        where=where,
        id=step_id,
        display=_template(name, rel, named_values) if name is not None else None,
        condition=condition,
        run=_template(step.run, rel, named_values) if step.run is not None else None,
        shell=(shell or default_shell) if step.run is not None else None,
        uses=step.uses.value.strip() if step.uses is not None else None,
        with_={k: _template(v, rel, named_values, step.line) for k, v in step.with_values.items()},
        env={k: _template(v, rel, named_values, step.line) for k, v in step.env.items()},
        working_directory=_template(working_directory, rel, named_values) if working_directory is not None else None,
        continue_on_error=continue_on_error,
        timeout_minutes=_template(step.timeout_minutes, rel, named_values)
        if step.timeout_minutes is not None
        else None,
    )


def read_action(path: Path) -> model.Action:
    """The model of one action file, named by its full path in messages."""
    return model.build_action(read_source(path, str(path)))


def load_action(directory: Path) -> Action:
    """Load the action in ``directory``; raise :class:`BadInput` naming file:line."""
    path = find_action_file(directory)
    if path is None:
        raise BadInput(f"{directory}: no action.yml or action.yaml in this folder")
    return compile_action(read_action(path), path)


def compile_action(parsed: model.Action, path: Path) -> Action:
    """The runner's action from the model: inputs, outputs and compiled steps."""
    rel = parsed.rel
    using = (parsed.using or "").strip()
    action = Action(path=path, directory=path.parent, name=parsed.name or path.parent.name, using=using)
    for name, spec in parsed.inputs.items():
        action.inputs[name] = Input(
            name=name,
            required=spec.required,
            default=_template(spec.default, rel) if spec.default is not None else None,
            deprecation=spec.deprecation,
        )
    if using != "composite":
        return action  # only composite actions have steps to check
    for name, value in parsed.outputs.items():
        if value is None:
            line = parsed.source.mapping(parsed.fields["outputs"][1], "'outputs'")[name][0].start_mark.line + 1
            raise BadInput(f"{_where(rel, line)}: composite output '{name}' needs 'value'")
        action.outputs[name] = Output(name, _template(value, rel))
    steps_pair = parsed.runs.get("steps")
    if steps_pair is None or model._is_null(steps_pair[1]):
        line = steps_pair[0].start_mark.line + 1 if steps_pair is not None else None
        raise BadInput(f"{_where(rel, line)}: a composite action needs 'runs.steps' (a list)")
    action.steps = compile_steps(parsed.steps, rel)
    return action


def compile_steps(
    steps: list[model.Step],
    rel: str,
    *,
    named_values: set[str] = NAMED_VALUES,
    default_shell: str | None = None,
    default_working_directory: Scalar | None = None,
) -> list[Step]:
    """Check and compile the model's steps; give ids.

    For a workflow job's steps pass ``named_values=WORKFLOW_NAMED_VALUES`` and
    ``default_shell`` (``defaults.run.shell`` or :data:`WORKFLOW_DEFAULT_SHELL`).
    """
    result: list[Step] = []
    known: set[str] = set()
    for step in steps:
        compiled = _compile_step(step, rel, named_values, default_shell, default_working_directory)
        if compiled.id is not None:
            if compiled.id.lower() in known:
                raise BadInput(f"{compiled.where}: the id '{compiled.id}' is already used by another step")
            known.add(compiled.id.lower())
        result.append(compiled)
    builder = IdBuilder(known)
    for compiled in result:
        compiled.context_name = compiled.id if compiled.id is not None else builder.build(generated_id(compiled))
    return result
