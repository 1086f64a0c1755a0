"""Load and check an ``action.yml``: every step, input and output, with its file:line.

Every ``${{ }}`` and ``if:`` is parsed here, so a syntax error stops the run
before any step starts (as GitHub refuses to load a broken action).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ci_helper.runner.expressions import (
    Condition,
    Template,
    TemplateError,
    compile_condition,
    compile_template,
)

# Named-values a composite action may use (no `secrets`: composite actions have none).
NAMED_VALUES = {"github", "inputs", "steps", "env", "runner", "job", "strategy", "matrix"}
# ... and a workflow job's steps.
WORKFLOW_NAMED_VALUES = NAMED_VALUES | {"secrets", "vars", "needs", "jobs"}
# The runner's shell for a workflow `run` step without `shell` (Linux/macOS).
WORKFLOW_DEFAULT_SHELL = "bash -e {0}"

STEP_KEYS = {"id", "name", "if", "run", "shell", "uses", "with", "env", "working-directory",
             "continue-on-error", "timeout-minutes"}
_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class ManifestError(Exception):
    """The action file cannot be loaded (exit 2): the message names file:line."""


class _Mapping(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    lines: dict


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    result = _Mapping()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = "" if key is None else str(key)
        if key in result:
            raise ManifestError(f"line {key_node.start_mark.line + 1}: duplicate key '{key}'")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = value_node.start_mark.line + 1
    return result


def _construct_raw(loader: _Loader, node: yaml.ScalarNode) -> str:
    # Keep scalars as written (`0x10`, `1.0`, `on`): action inputs are strings.
    return node.value


def _construct_bool(loader: _Loader, node: yaml.ScalarNode) -> Any:
    # YAML 1.2 booleans only: `yes`/`on` stay strings, as GitHub's parser keeps them.
    if node.value in ("true", "True", "TRUE"):
        return True
    if node.value in ("false", "False", "FALSE"):
        return False
    return node.value


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
for _tag in ("int", "float", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _construct_raw)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


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
    for name in ("action.yml", "action.yaml"):
        if (directory / name).is_file():
            return directory / name
    return None


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _template(value: Any, where: str, named_values: set[str] = NAMED_VALUES) -> Template:
    if isinstance(value, (dict, list)):
        raise ManifestError(f"{where}: expected a string, got a {'mapping' if isinstance(value, dict) else 'sequence'}")
    try:
        return compile_template(_text(value), where=where, named_values=named_values)
    except TemplateError as exc:
        raise ManifestError(str(exc)) from None


def generated_id(step: Step) -> str:
    """The runner's id for a step without one, before de-duplication."""
    if step.uses is None:
        return "run"
    uses = step.uses
    if uses.startswith(("./", ".\\", "$/")):
        return "self"
    if uses.startswith("docker://"):
        return uses[len("docker://"):]
    path, _, ref = uses.partition("@")
    segments = [s for s in re.split(r"[/\\]", path) if s]
    if ref and len(segments) >= 2:
        return f"{segments[0]}/{segments[1]}"
    return "run"


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


def _load_step(path: Path, index: int, raw: Any, line: int, named_values: set[str],
               default_shell: str | None) -> Step:
    where = _where(path, line)
    if not isinstance(raw, dict):
        raise ManifestError(f"{where}: runs.steps[{index}] must be a mapping")
    lines = getattr(raw, "lines", {})

    def at(key: str) -> str:
        return _where(path, lines.get(key, line))

    unknown = sorted(set(raw) - STEP_KEYS)
    if unknown:
        raise ManifestError(f"{at(unknown[0])}: unexpected key '{unknown[0]}' in a composite step "
                            f"(allowed: {', '.join(sorted(STEP_KEYS))})")
    if ("run" in raw) == ("uses" in raw):
        raise ManifestError(f"{where}: a step needs exactly one of 'run' or 'uses'")
    step_id = raw.get("id")
    if step_id is not None:
        step_id = _text(step_id)
        if not _ID.match(step_id) or step_id.startswith("__"):
            raise ManifestError(f"{at('id')}: invalid step id '{step_id}' (letters, digits, '-' and '_'; "
                                "starts with a letter or '_'; '__' is reserved)")
    if "run" in raw and not raw.get("shell") and default_shell is None:
        raise ManifestError(f"{where}: a composite 'run' step needs 'shell' (bash, sh, python, pwsh or a "
                            "command with {0})")
    for key in ("with", "env"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], dict):
            raise ManifestError(f"{at(key)}: '{key}' must be a mapping")
    try:
        condition = compile_condition(raw.get("if"), where=at("if"), named_values=named_values)
    except TemplateError as exc:
        raise ManifestError(str(exc)) from None
    continue_on_error: bool | Template = False
    if "continue-on-error" in raw:
        value = raw["continue-on-error"]
        if isinstance(value, bool):
            continue_on_error = value
        else:
            continue_on_error = _template(value, at("continue-on-error"), named_values)
            if not continue_on_error.has_expressions:
                raise ManifestError(f"{at('continue-on-error')}: expected a boolean, got '{value}'")

    def mapping(key: str) -> dict[str, Template]:
        values = raw.get(key) or {}
        sub_lines = getattr(values, "lines", {})
        return {str(k): _template(v, _where(path, sub_lines.get(k, lines.get(key, line))), named_values)
                for k, v in values.items()}

    return Step(
        index=index,
        where=where,
        id=step_id,
        display=_template(raw["name"], at("name"), named_values) if raw.get("name") is not None else None,
        condition=condition,
        run=_template(raw["run"], at("run"), named_values) if "run" in raw else None,
        shell=_text(raw.get("shell")) or (default_shell if "run" in raw else None),
        uses=_text(raw["uses"]).strip() if "uses" in raw else None,
        with_=mapping("with"),
        env=mapping("env"),
        working_directory=_template(raw["working-directory"], at("working-directory"), named_values)
        if raw.get("working-directory") is not None else None,
        continue_on_error=continue_on_error,
        timeout_minutes=_template(raw["timeout-minutes"], at("timeout-minutes"), named_values)
        if raw.get("timeout-minutes") is not None else None,
    )


def load_action(directory: Path) -> Action:
    """Load the action in ``directory``; raise :class:`ManifestError` naming file:line."""
    path = find_action_file(directory)
    if path is None:
        raise ManifestError(f"{directory}: no action.yml or action.yaml in this folder")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: the action file must be a mapping with 'runs'")
    lines = getattr(data, "lines", {})
    runs = data.get("runs")
    if not isinstance(runs, dict):
        raise ManifestError(f"{_where(path, lines.get('runs'))}: 'runs' must be a mapping")
    using = _text(runs.get("using"))
    action = Action(path=path, directory=path.parent, name=_text(data.get("name")) or path.parent.name,
                    using=using)
    inputs = data.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise ManifestError(f"{_where(path, lines.get('inputs'))}: 'inputs' must be a mapping")
    for name, spec in inputs.items():
        spec = spec or {}
        spec_lines = getattr(spec, "lines", {})
        if not isinstance(spec, dict):
            raise ManifestError(f"{_where(path, inputs.lines.get(name))}: input '{name}' must be a mapping")
        default = spec.get("default")
        required = spec.get("required", False)
        action.inputs[str(name)] = Input(
            name=str(name),
            required=required is True or _text(required).lower() == "true",
            default=_template(default, _where(path, spec_lines.get("default"))) if default is not None else None,
            deprecation=_text(spec.get("deprecationMessage")),
        )
    if using != "composite":
        return action  # only composite actions have steps to check
    outputs = data.get("outputs") or {}
    if not isinstance(outputs, dict):
        raise ManifestError(f"{_where(path, lines.get('outputs'))}: 'outputs' must be a mapping")
    for name, spec in outputs.items():
        spec_lines = getattr(spec, "lines", {})
        if not isinstance(spec, dict) or "value" not in spec:
            raise ManifestError(f"{_where(path, outputs.lines.get(name))}: composite output '{name}' needs 'value'")
        action.outputs[str(name)] = Output(str(name), _template(spec["value"], _where(path, spec_lines.get("value"))))
    steps = runs.get("steps")
    if not isinstance(steps, list):
        raise ManifestError(f"{_where(path, runs.lines.get('steps'))}: a composite action needs 'runs.steps' (a list)")
    action.steps = load_steps(steps, path, runs.lines.get("steps"))
    return action


def load_steps(steps: list, path: Path, line: int | None = None, *, named_values: set[str] = NAMED_VALUES,
               default_shell: str | None = None) -> list[Step]:
    """Check and compile a list of step mappings (from :func:`load_yaml` for exact lines); give ids.

    For a workflow job's steps pass ``named_values=WORKFLOW_NAMED_VALUES`` and
    ``default_shell=WORKFLOW_DEFAULT_SHELL``.
    """
    result: list[Step] = []
    known: set[str] = set()
    for index, raw in enumerate(steps):
        step = _load_step(path, index, raw, getattr(raw, "line", line), named_values, default_shell)
        if step.id is not None:
            if step.id.lower() in known:
                raise ManifestError(f"{step.where}: the id '{step.id}' is already used by another step")
            known.add(step.id.lower())
        result.append(step)
    builder = IdBuilder(known)
    for step in result:
        step.context_name = step.id if step.id is not None else builder.build(generated_id(step))
    return result


def load_yaml(path: Path) -> Any:
    """Read a YAML file as the runner sees it: scalars as written, mappings that know their lines."""
    try:
        return yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except ManifestError as exc:
        raise ManifestError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{_where(path, line)}: malformed YAML: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read: {exc}") from None
