"""Run a composite action's steps the way the GitHub runner does.

Semantics kept from the runner:
- a step's ``if:`` without a status function is ``success() && (...)``; inside a
  composite action ``success()``/``failure()`` look at the action's own status;
- ``continue-on-error`` keeps ``outcome: failure`` but makes ``conclusion: success``;
- file commands are read after every step, even a failed one: ``GITHUB_ENV`` and
  ``GITHUB_PATH`` apply to every later step (nested actions included), outputs go
  to ``steps.<id>.outputs``, summaries are collected in order;
- ``uses: ./x`` is the workspace's ``x``; ``uses: $/x`` is ``x`` in the repository
  that holds the running action; a remote ``owner/repo/path@ref`` is skipped with a
  reason unless ``--stub-remote owner/repo=DIR`` maps it;
- the action's ``outputs`` are evaluated after its steps, whatever their outcome;
- every step process carries ``RUNNER_TRACKING_ID`` (one value per run, as the runner's per job);
  when the run ends, every process still carrying it is stopped (``setsid`` daemons included)
  and so is every step's process group;
- ``timeout-minutes: 0`` (or less) means no timeout, as on the runner;
- workflow commands are read like the runner reads them, stop-commands state shared by the job.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_helper import orphans
from ci_helper.errors import BadInput
from ci_helper.runner import contexts as ctx
from ci_helper.runner.commands import CommandState, Masker, StepCommands
from ci_helper.runner.expressions import CIDict, Scope, TemplateError, canonical, truthy
from ci_helper.runner.files import StepFiles
from ci_helper.runner.manifest import (
    WORKFLOW_DEFAULT_SHELL,
    WORKFLOW_NAMED_VALUES,
    Action,
    Step,
    compile_steps,
    load_action,
)
from ci_helper.runner.report import Reporter
from ci_helper.runner.steps import ShellError, group_alive, run_script, stop_group
from ci_helper.workflows import model
from ci_helper.workflows.source import Scalar
from ci_helper.workflows.uses import DOCKER, LOCAL, SELF, parse_uses

SUCCESS, FAILURE, SKIPPED, CANCELLED = "success", "failure", "skipped", "cancelled"
MAX_NESTING = 9  # the runner refuses deeper composite nesting


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C / SIGTERM)."""


@dataclass
class StepResult:
    """One step: ``id`` is its ``steps`` key (its id, or a generated ``__run``, ``__run_2`` ...)."""

    id: str
    name: str
    outcome: str
    conclusion: str
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    reason: str = ""
    steps: dict[str, StepResult] = field(default_factory=dict)  # a nested action's steps

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "conclusion": self.conclusion, "outputs": dict(self.outputs)}


@dataclass
class RunResult:
    """The result of :func:`run_action`: outcome, the action's outputs, its steps and summary."""

    outcome: str  # success | failure | cancelled
    outputs: dict[str, str]
    steps: dict[str, StepResult]
    summary: str
    skipped: list[str] = field(default_factory=list)  # why steps that could not run were skipped

    @property
    def exit_code(self) -> int:
        return {SUCCESS: 0, FAILURE: 1}.get(self.outcome, 130)

    def to_json(self) -> dict[str, Any]:
        """``{"outputs": {...}, "steps": {"<id>": {"outcome", "conclusion", "outputs"}}}``."""
        return {"outputs": dict(self.outputs), "steps": {k: v.to_json() for k, v in self.steps.items()}}


@dataclass
class _Job:
    """State shared by every action of one run (the runner's job-wide state)."""

    options: ctx.Options
    reporter: Reporter
    runner_temp: Path
    event_path: Path
    event: dict[str, Any]
    environ: dict[str, str]
    global_env: dict[str, str] = field(default_factory=dict)  # from GITHUB_ENV
    prepend_path: list[str] = field(default_factory=list)  # from GITHUB_PATH, oldest first
    summaries: list[str] = field(default_factory=list)
    process_groups: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    root_cache: dict[Path, Path | None] = field(default_factory=dict)
    masker: Masker = field(default_factory=Masker)
    command_state: CommandState = field(default_factory=CommandState)
    # RUNNER_TRACKING_ID of every step process: what the end-of-run cleanup looks for.
    tracking_id: str = field(default_factory=orphans.new_tracking_id)


def repository_root(directory: Path, cache: dict[Path, Path | None] | None = None) -> Path | None:
    """The repository holding ``directory``: the git work tree's top, else the nearest folder with ``actions/``."""
    cache = {} if cache is None else cache
    if directory in cache:
        return cache[directory]
    root: Path | None = None
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=directory, capture_output=True, text=True, timeout=30
        )
        if done.returncode == 0 and done.stdout.strip():
            root = Path(done.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        root = None
    if root is None:
        for candidate in (directory, *directory.parents):
            if (candidate / "actions").is_dir():
                root = candidate
                break
    cache[directory] = root
    return root


def _default_name(step: Step) -> str:
    if step.uses is not None:
        return f"Run {step.uses}"
    first = next((line.strip() for line in (step.run.source if step.run else "").splitlines() if line.strip()), "")
    return f"Run {first}"


class _ActionRun:
    """One composite action being run (the top one or a nested one)."""

    def __init__(
        self,
        job: _Job,
        action: Action,
        inputs: dict[str, str],
        parent_env: dict[str, str],
        depth: int,
        repo_root: Path | None,
    ) -> None:
        self.job = job
        self.action = action
        self.inputs = inputs
        self.parent_env = parent_env
        self.depth = depth
        self.repo_root = repo_root
        self.status = SUCCESS
        self.steps_context = CIDict()
        self.results: dict[str, StepResult] = {}
        self.extra_contexts: dict[str, Any] = {}  # secrets, vars, matrix, needs of a workflow job
        self.action_path = str(action.directory)

    # -- contexts -------------------------------------------------------------------------------
    def github(self, step: Step | None) -> dict[str, Any]:
        github = ctx.github_context(self.job.options, self.job.event, self.job.event_path)
        github["action_path"] = self.action_path
        github["action"] = step.context_name if step is not None else ""
        # What success()/failure() read inside a composite action (the runner's github.action_status).
        github["action_status"] = self.status
        return github

    def env_context(self) -> dict[str, str]:
        return {**self.job.global_env, **self.parent_env}

    def scope(self, step: Step | None, env: dict[str, str]) -> Scope:
        contexts = {
            "github": self.github(step),
            "inputs": CIDict(self.inputs),
            "steps": self.steps_context,
            "env": CIDict(env),
            "runner": ctx.runner_context(self.job.runner_temp, self.job.options.dry_run),
            "job": {"status": SUCCESS},
            "strategy": {},
            "matrix": {},
            **self.extra_contexts,
        }
        return Scope(
            CIDict((k, v if isinstance(v, CIDict) else canonical(v)) for k, v in contexts.items()),
            status=self.status,
            cancelled=False,
        )

    # -- running --------------------------------------------------------------------------------
    def run(self) -> tuple[str, dict[str, str]]:
        for step in self.action.steps:
            result = self.run_step(step)
            self.results[step.context_name] = result
            if step.id is not None:
                self.steps_context[step.id] = canonical(
                    {"outputs": result.outputs, "outcome": result.outcome, "conclusion": result.conclusion}
                )
            if result.conclusion == FAILURE:
                self.status = FAILURE
        outputs: dict[str, str] = {}
        scope = self.scope(None, self.env_context())
        for name, output in self.action.outputs.items():
            try:
                outputs[name] = output.value.render(scope)
            except TemplateError as exc:
                self.job.reporter.line(f"{self.indent}Error: output '{name}': {exc}")
                outputs[name] = ""
                self.status = FAILURE
        return self.status, outputs

    @property
    def indent(self) -> str:
        return "  " * self.depth

    def run_step(self, step: Step) -> StepResult:
        reporter = self.job.reporter
        env = self.env_context()
        scope = self.scope(step, env)
        name = _default_name(step)
        if step.display is not None:
            try:
                name = step.display.render(scope) or name
            except TemplateError:
                name = step.display.source
        try:
            should_run = step.condition.evaluate(scope)
        except TemplateError as exc:
            reporter.step_started(self.depth, name)
            reporter.line(f"{self.indent}Error: {exc}")
            return self.finish(step, name, FAILURE, {}, 0.0, str(exc), scope)
        if not should_run:
            result = StepResult(step.context_name, name, SKIPPED, SKIPPED)
            reporter.step_finished(
                self.depth, name, SKIPPED, SKIPPED, 0.0, f"if: {step.condition.expression} was false"
            )
            return result
        reporter.step_started(self.depth, name)
        started = time.monotonic()
        nested: dict[str, StepResult] = {}
        try:
            # `env:` blocks (the caller's, then this step's) win over GITHUB_ENV.
            explicit = dict(self.parent_env)
            for key, template in step.env.items():
                explicit[key] = template.render(self.scope(step, {**self.job.global_env, **explicit}))
            step_env = {**self.job.global_env, **explicit}
            scope = self.scope(step, step_env)
            if step.run is not None:
                outcome, outputs, reason = self.run_shell(step, scope, step_env)
            else:
                # As the runner does, a nested action merges this step's whole env context (GITHUB_ENV
                # values as they are now included) over the job's: a later GITHUB_ENV write of a name
                # the caller already had does not show inside the nested action.
                outcome, outputs, reason, nested = self.run_uses(step, scope, step_env)
        except TemplateError as exc:
            reporter.line(f"{self.indent}Error: {exc}")
            outcome, outputs, reason = FAILURE, {}, str(exc)
        result = self.finish(step, name, outcome, outputs, time.monotonic() - started, reason, scope)
        result.steps = nested
        return result

    def finish(
        self, step: Step, name: str, outcome: str, outputs: dict[str, str], seconds: float, reason: str, scope: Scope
    ) -> StepResult:
        conclusion = outcome
        if outcome == FAILURE:
            continue_on_error = step.continue_on_error
            if not isinstance(continue_on_error, bool):
                try:
                    continue_on_error = truthy(continue_on_error.evaluate(scope))
                except TemplateError as exc:
                    self.job.reporter.line(f"{self.indent}Error: {exc}")
                    continue_on_error = False
            if continue_on_error:
                conclusion = SUCCESS
        self.job.reporter.step_finished(
            self.depth, name, outcome, conclusion, seconds, reason if outcome == SKIPPED else ""
        )
        return StepResult(step.context_name, name, outcome, conclusion, outputs, seconds, reason)

    def process_env(self, step: Step, step_env: dict[str, str], files: StepFiles) -> dict[str, str]:
        github = self.github(step)
        runner = ctx.runner_context(self.job.runner_temp, self.job.options.dry_run)
        environ = dict(self.job.environ)
        environ.update(step_env)
        environ.update(ctx.github_variables(github, runner))
        environ.update(files.environment())
        environ[orphans.RUNNER_TRACKING_ID] = self.job.tracking_id
        if self.job.prepend_path:
            # The latest GITHUB_PATH entry comes first, as on the runner.
            prefix = os.pathsep.join(reversed(self.job.prepend_path))
            current = environ.get("PATH", "")
            environ["PATH"] = prefix + (os.pathsep + current if current else "")
        return environ

    def run_shell(self, step: Step, scope: Scope, step_env: dict[str, str]) -> tuple[str, dict[str, str], str]:
        reporter = self.job.reporter
        workspace = Path(self.job.options.workspace)
        cwd = workspace
        if step.working_directory is not None:
            cwd = workspace / step.working_directory.render(scope)
        script = step.run.render(scope) if step.run is not None else ""
        timeout = None
        if step.timeout_minutes is not None:
            try:
                minutes = float(step.timeout_minutes.render(scope))
            except ValueError:
                minutes = math.nan
            if not math.isfinite(minutes):
                reporter.line(f"{self.indent}Error: timeout-minutes is not a number")
                return FAILURE, {}, "timeout-minutes is not a number"
            # As on the runner, a timeout applies only above 0: `timeout-minutes: 0` never times out.
            timeout = minutes * 60 if minutes > 0 else None
        files = StepFiles.create(self.job.runner_temp)
        environ = self.process_env(step, step_env, files)
        if not cwd.is_dir():
            reporter.line(f"{self.indent}Error: working-directory {cwd} does not exist")
            return FAILURE, {}, f"working-directory {cwd} does not exist"
        commands = StepCommands(self.job.masker, command_state=self.job.command_state)

        def write(text: str) -> None:
            shown = commands.filter(text)
            if shown:
                reporter.write(shown)

        try:
            process = run_script(
                script,
                step.shell or "bash",
                cwd=cwd,
                env=environ,
                temp=self.job.runner_temp,
                write=write,
                timeout=timeout,
                started=self.job.process_groups.append,
            )
        except ShellError as exc:
            reporter.line(f"{self.indent}Error: {exc}")
            return FAILURE, {}, str(exc)
        except KeyboardInterrupt:
            raise Cancelled() from None
        outcome, reason = SUCCESS, ""
        if process.timed_out:
            outcome, reason = (
                FAILURE,
                f"the step timed out after {step.timeout_minutes.source if step.timeout_minutes else '?'} minutes",
            )
            reporter.line(f"{self.indent}Error: {reason}")
        elif process.returncode != 0:
            outcome, reason = FAILURE, f"Process completed with exit code {process.returncode}."
            reporter.line(f"{self.indent}Error: {reason}")
        outputs = self.apply_files(files)
        if outputs is None:
            return FAILURE, {}, "a file command could not be processed"
        if commands.errors:
            outcome, reason = FAILURE, commands.errors[0]
        # Outputs set by the deprecated ::set-output command, then by the file (the file wins, processed last).
        return outcome, {**commands.outputs, **outputs}, reason

    def apply_files(self, files: StepFiles) -> dict[str, str] | None:
        commands = files.read()
        shutil.rmtree(files.directory, ignore_errors=True)
        for warning in commands.warnings:
            self.job.reporter.line(f"{self.indent}Error: {warning}")
        self.job.global_env.update(commands.env)
        for path in commands.paths:
            if path in self.job.prepend_path:
                self.job.prepend_path.remove(path)
            self.job.prepend_path.append(path)
        if commands.summary:
            self.job.summaries.append(self.job.masker.mask(commands.summary))
        if commands.errors:
            for error in commands.errors:
                self.job.reporter.line(f"{self.indent}Error: {error}")
            return None
        return commands.outputs

    def resolve_uses(self, uses: str) -> tuple[Path | None, Path | None, str]:
        """(action folder, its repository root, reason when it cannot run)."""
        workspace = Path(self.job.options.workspace)
        ref = parse_uses(uses)
        if ref.kind == LOCAL:
            directory = (workspace / ref.raw[2:]).resolve()
            return directory, repository_root(directory, self.job.root_cache), ""
        if ref.kind == SELF:
            root = self.repo_root
            if root is None:
                root = repository_root(self.action.directory, self.job.root_cache)
            if root is None:
                return (
                    None,
                    None,
                    (
                        f"cannot resolve '{uses}': {self.action.directory} is not in a git work tree "
                        "and no parent folder holds actions/"
                    ),
                )
            return (root / ref.raw[2:]).resolve(), root, ""
        if ref.kind == DOCKER:
            return None, None, f"docker actions are not run locally ('{uses}')"
        if not ref.valid:
            return None, None, ref.format_error
        stubs = {k.lower(): Path(v) for k, v in self.job.options.stub_remotes.items()}
        if ref.repo_key not in stubs:
            return None, None, (f"remote action '{uses}' cannot run offline; map it with --stub-remote {ref.repo}=DIR")
        root = stubs[ref.repo_key].resolve()
        return root.joinpath(*ref.path_parts), root, ""

    def run_uses(
        self, step: Step, scope: Scope, explicit_env: dict[str, str]
    ) -> tuple[str, dict[str, str], str, dict[str, StepResult]]:
        reporter = self.job.reporter
        assert step.uses is not None
        directory, root, reason = self.resolve_uses(step.uses)
        if directory is None:
            if reason.startswith("Expected format"):
                reporter.line(f"{self.indent}Error: {reason}")
                return FAILURE, {}, reason, {}
            self.job.skipped.append(f"{step.where}: {reason}")
            reporter.line(f"{self.indent}Skipped: {reason}")
            return SKIPPED, {}, reason, {}
        if self.depth + 1 > MAX_NESTING:
            reason = f"composite actions are nested more than {MAX_NESTING} deep"
            reporter.line(f"{self.indent}Error: {reason}")
            return FAILURE, {}, reason, {}
        try:
            action = load_action(directory)
        except BadInput as exc:
            reporter.line(f"{self.indent}Error: {exc.message}")
            return FAILURE, {}, exc.message, {}
        if action.using != "composite":
            reason = f"runs.using '{action.using}' is not run locally (only composite actions are)"
            self.job.skipped.append(f"{step.where}: {reason}")
            reporter.line(f"{self.indent}Skipped: {reason}")
            return SKIPPED, {}, reason, {}
        given = {key: template.render(scope) for key, template in step.with_.items()}
        try:
            inputs = resolve_inputs(
                action,
                given,
                self.job,
                lambda text: reporter.line(f"{self.indent}{text}"),
                nested_env=explicit_env,
                nested=True,
            )
        except BadInput as exc:
            reporter.line(f"{self.indent}Error: {exc.message}")
            return FAILURE, {}, exc.message, {}
        nested = _ActionRun(self.job, action, inputs, explicit_env, self.depth + 1, root)
        status, outputs = nested.run()
        return status, outputs, "", nested.results


def resolve_inputs(
    action: Action,
    given: dict[str, str],
    job: _Job,
    warn: Callable[[str], object],
    nested_env: dict[str, str],
    nested: bool = False,
) -> dict[str, str]:
    """Given inputs plus defaults (evaluated in the action's scope); a missing required input is BadInput.

    The hint names what supplies it: ``--input`` for the action ``run-action`` runs, ``with:`` for a step's.
    """
    declared = {name.lower(): name for name in action.inputs}
    unexpected = [key for key in given if key.lower() not in declared]
    if unexpected:
        warn(
            f"Warning: Unexpected input(s) '{', '.join(unexpected)}', valid inputs are "
            f"[{', '.join(repr(n) for n in action.inputs)}]"
        )
    inputs: dict[str, str] = {}
    lowered = {key.lower(): value for key, value in given.items()}
    missing = []
    probe = _ActionRun(job, action, {}, nested_env, 0, None)
    for name, spec in action.inputs.items():
        if name.lower() in lowered:
            inputs[name] = lowered[name.lower()]
            if spec.deprecation:
                warn(f"Warning: Input '{name}' has been deprecated with message: {spec.deprecation}")
        elif spec.default is not None:
            try:
                inputs[name] = spec.default.render(probe.scope(None, probe.env_context()))
            except TemplateError as exc:
                raise BadInput(f"default of input '{name}': {exc}") from None
        else:
            if spec.required:
                missing.append(name)
            inputs[name] = ""
    if missing:
        how = (
            f"give it in the step's `with:` ({missing[0]}: VALUE)"
            if nested
            else f"pass it with --input {missing[0]}=VALUE or `with:`"
        )
        raise BadInput(f"{action.path}: input required and not supplied: {', '.join(missing)} ({how})")
    for key, value in given.items():
        if key.lower() not in declared:
            inputs[key] = value
    return inputs


def _options(
    workspace: str | os.PathLike[str] | None,
    event_name: str,
    event_path: str | os.PathLike[str] | None,
    repository: str,
    ref: str,
    sha: str,
    env: dict[str, str] | None,
    stub_remotes: Mapping[str, str | os.PathLike[str]] | None,
    base_environ: dict[str, str] | None,
    dry_run: bool = False,
) -> ctx.Options:
    options = ctx.Options(
        dry_run=dry_run,
        workspace=Path(workspace).resolve() if workspace is not None else Path.cwd(),
        event_name=event_name,
        event_path=Path(event_path) if event_path else None,
        repository=repository,
        ref=ref,
        sha=sha,
        env=dict(env or {}),
        stub_remotes={k: Path(v) for k, v in (stub_remotes or {}).items()},
        base_environ=base_environ,
    )
    if not options.workspace.is_dir():
        raise BadInput(f"--workspace {options.workspace} is not a folder")
    return options


def _execute(
    action: Action,
    inputs: dict[str, str] | None,
    options: ctx.Options,
    reporter: Reporter | None,
    runner_temp: str | os.PathLike[str] | None,
    extra_contexts: dict[str, Any] | None = None,
    action_path: str | None = None,
    self_root: Path | None = None,
) -> RunResult:
    event = ctx.load_event(options)
    own_temp = runner_temp is None
    temp = Path(tempfile.mkdtemp(prefix="ci-helper-runner-")) if runner_temp is None else Path(runner_temp)
    temp.mkdir(parents=True, exist_ok=True)
    try:
        if options.event_path is not None:
            resolved_event_path = options.event_path.resolve()
        else:
            resolved_event_path = temp / "event.json"
            resolved_event_path.write_text("{}", encoding="utf-8")
        (temp / "_tool").mkdir(exist_ok=True)
        job = _Job(
            options=options,
            reporter=reporter or Reporter(),
            runner_temp=temp,
            event_path=resolved_event_path,
            event=event,
            environ=ctx.base_environment(options),
        )
        resolved = resolve_inputs(action, dict(inputs or {}), job, job.reporter.line, nested_env=dict(options.env))
        top = _ActionRun(job, action, resolved, dict(options.env), 0, self_root)
        top.extra_contexts = dict(extra_contexts or {})
        if action_path is not None:
            top.action_path = action_path
        try:
            status, outputs = top.run()
        except (Cancelled, KeyboardInterrupt):
            job.reporter.line("Cancelled: the run was interrupted; the step's process group was stopped.")
            return RunResult(CANCELLED, {}, top.results, "".join(job.summaries), job.skipped)
        finally:
            _cleanup_orphans(job)
        return RunResult(status, outputs, top.results, "".join(job.summaries), job.skipped)
    finally:
        if own_temp:
            shutil.rmtree(temp, ignore_errors=True)


def run_action(
    action_dir: str | os.PathLike[str],
    inputs: dict[str, str] | None = None,
    *,
    workspace: str | os.PathLike[str] | None = None,
    event_name: str = "push",
    event_path: str | os.PathLike[str] | None = None,
    repository: str = "local/repository",
    ref: str = "refs/heads/main",
    sha: str = "0" * 40,
    env: dict[str, str] | None = None,
    stub_remotes: Mapping[str, str | os.PathLike[str]] | None = None,
    base_environ: dict[str, str] | None = None,
    reporter: Reporter | None = None,
    runner_temp: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run the composite action in ``action_dir``; see the package docstring."""
    directory = Path(action_dir).resolve()
    if directory.is_file() and directory.name in ("action.yml", "action.yaml"):
        directory = directory.parent
    action = load_action(directory)
    if action.using != "composite":
        raise BadInput(f"{action.path}: runs.using is '{action.using}'; run-action runs composite actions only")
    options = _options(workspace, event_name, event_path, repository, ref, sha, env, stub_remotes, base_environ)
    return _execute(action, inputs, options, reporter, runner_temp)


def run_steps(
    steps: list[model.Step],
    source: str | os.PathLike[str],
    *,
    workspace: str | os.PathLike[str] | None = None,
    contexts: dict[str, Any] | None = None,
    event_name: str = "push",
    event_path: str | os.PathLike[str] | None = None,
    repository: str = "local/repository",
    ref: str = "refs/heads/main",
    sha: str = "0" * 40,
    env: dict[str, str] | None = None,
    stub_remotes: Mapping[str, str | os.PathLike[str]] | None = None,
    base_environ: dict[str, str] | None = None,
    reporter: Reporter | None = None,
    runner_temp: str | os.PathLike[str] | None = None,
    default_shell: str | None = None,
    default_working_directory: Scalar | None = None,
    dry_run: bool = False,
    self_root: str | os.PathLike[str] | None = None,
) -> RunResult:
    """Run a workflow job's ``steps`` (the model's: ``ci_helper.workflows`` ``Job.steps``).

    ``source`` is the workflow file (named in messages). ``contexts`` adds
    ``secrets``, ``vars``, ``matrix``, ``needs``...; ``env`` is the job's (and
    workflow's) ``env:``. A ``run`` step without ``shell`` uses ``default_shell``
    (the job's ``defaults.run.shell``), else ``bash -e {0}`` as the runner does.
    The result has no outputs; its ``steps`` hold each step.
    ``dry_run`` (``verify --run``) sets ``runner.ci_helper_dry_run``. ``self_root`` is the repository
    ``uses: $/x`` means (default: the one holding ``source``): a called workflow of ci-helper's is ci-helper.
    """
    path = Path(source)
    rel = steps[0].source.rel if steps and steps[0].source is not None else str(path)
    compiled = compile_steps(
        list(steps),
        rel,
        named_values=WORKFLOW_NAMED_VALUES,
        default_shell=default_shell or WORKFLOW_DEFAULT_SHELL,
        default_working_directory=default_working_directory,
    )
    action = Action(path=path, directory=path.parent.resolve(), name=path.name, using="composite", steps=compiled)
    options = _options(
        workspace, event_name, event_path, repository, ref, sha, env, stub_remotes, base_environ, dry_run
    )
    return _execute(
        action,
        {},
        options,
        reporter,
        runner_temp,
        extra_contexts=contexts,
        action_path="",
        self_root=Path(self_root).resolve() if self_root is not None else None,
    )


def _cleanup_orphans(job: _Job) -> None:
    """What the runner does when a job ends: stop every process a step left behind."""
    alive = [pgid for pgid in job.process_groups if group_alive(pgid)]
    marked = orphans.tracked(orphans.RUNNER_TRACKING_ID, job.tracking_id)
    if alive or marked:
        job.reporter.line("Cleaning up orphan processes")
    for pgid in alive:
        stop_group(pgid, grace=0.5)
    # Processes that left their step's group (setsid, double fork) still carry the marker.
    for orphan in orphans.stop_tracked(orphans.RUNNER_TRACKING_ID, job.tracking_id, grace=0.5):
        job.reporter.line(f"Terminate orphan process: pid ({orphan.pid}) ({orphan.name})")
