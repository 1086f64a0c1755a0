"""muted-gate: a gate step whose failure cannot fail the job.

Either GitHub is told to ignore it (``continue-on-error: true`` on the step,
or on a job that runs gates), or the script throws the status away:
``|| true``, ``|| :``, ``|| echo``, ``|| exit 0``, errexit turned off with no
check of ``$?``/``PIPESTATUS`` right after, a gate piped into another command
where the shell has no pipefail, or a gate before ``&&`` in the middle of a
script (``bash -e`` ignores a failure there).

Scripts in non-POSIX shells (``pwsh``, ``powershell``, ``cmd``, ``python``) are
not analysed; a gate step in one gets a warning saying so, so that no finding
never means "not looked at".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ci_helper.results import Finding
from ci_helper.rules import conditions
from ci_helper.rules.base import Context, finding
from ci_helper.rules.gate_commands import GateMatcher, matcher
from ci_helper.workflows import Scalar, Source, Step
from ci_helper.workflows.exit_status import fates
from ci_helper.workflows.shell import Command, Shell, resolve_shell

ID = "muted-gate"


class MutedGate:
    id = ID
    summary = "a gate step (tests, coverage, audit, linters, ci-helper) whose failure is ignored or swallowed"

    def check(self, ctx: Context) -> Iterator[Finding]:
        gates = matcher(ctx.tree, ctx.settings.gate_patterns)
        # The same script often runs in many steps (matrix jobs, copied workflows): analyse it once.
        analysed: dict[tuple[str, Shell], list[tuple[Command, str]]] = {}
        for workflow in ctx.tree.workflows:
            source = workflow.source
            workflow_shell = workflow.default_shell.value if workflow.default_shell is not None else None
            for job in workflow.jobs:
                shell = job.default_shell.value if job.default_shell is not None else workflow_shell
                gate_steps = []
                for step in job.steps:
                    is_gate = gates.step(step, shell)
                    if is_gate:
                        gate_steps.append(step)
                    if _worth_a_look(step, is_gate, gates):
                        yield from _step(source, step, shell, is_gate, gates, analysed)
                if gate_steps and job.continue_on_error is not None:
                    yield from _continue_on_error(
                        source,
                        job.continue_on_error,
                        f"job '{job.id}' runs gate step '{gate_steps[0].label}' but has",
                    )
        for action in ctx.tree.actions:
            for step in action.steps:
                is_gate = gates.step(step)
                if _worth_a_look(step, is_gate, gates):
                    yield from _step(action.source, step, None, is_gate, gates, analysed)


def _worth_a_look(step: Step, is_gate: bool, gates: GateMatcher) -> bool:
    """False when :func:`_step` would find nothing (most steps): it is not called for them."""
    if is_gate and step.continue_on_error is not None:
        return True
    return step.run is not None and gates.may_gate(step.run.value)


def _step(
    source: Source,
    step: Step,
    default_shell: str | None,
    is_gate: bool,
    gates: GateMatcher,
    analysed: dict[tuple[str, Shell], list[tuple[Command, str]]],
) -> Iterator[Finding]:
    if is_gate and step.continue_on_error is not None:
        yield from _continue_on_error(source, step.continue_on_error, f"gate step '{step.label}' has")
    if step.run is None or not gates.may_gate(step.run.value):
        return
    shell = resolve_shell(step.shell.value if step.shell is not None else default_shell)
    if not shell.posix:
        if is_gate:
            # Silence would read as "clean": say the script was not analysed.
            name = _shell_name(shell)
            at = step.shell if step.shell is not None else step.run
            yield finding(
                ID,
                f"gate step '{step.label}': cannot analyse {name} scripts for swallowed exit status; "
                "check by hand that its failure fails the step",
                source.rel,
                at.line,
                at.column,
                "warning",
                step=step.label,
            )
        return
    key = (step.run.value, shell)
    if key not in analysed:
        analysed[key] = list(swallowed(step.run.value, shell, gates.command))
    for command, reason in analysed[key]:
        line, column = _script_position(source, step.run, command)
        yield finding(ID, reason, source.rel, line, column, step=step.label)


def _shell_name(shell: Shell) -> str:
    """``pwsh`` for ``pwsh``, ``pwsh -command ". '{0}'"`` or ``/usr/bin/pwsh {0}``."""
    word = shell.command.split()[0] if shell.command.split() else shell.command
    return word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def _continue_on_error(source: Source, value: Scalar, subject: str) -> Iterator[Finding]:
    known = conditions.constant(value.value)
    if known is True:
        shown = value.value.strip()
        what = "true" if shown.lower() == "true" else f"{shown} (always true)"
        yield finding(
            ID,
            f"{subject} continue-on-error: {what}: its failure cannot fail the job; remove it",
            source.rel,
            value.line,
            value.column,
        )
    elif known is None:
        yield finding(
            ID,
            f"{subject} continue-on-error: {value.value.strip()}: when it is true the failure is ignored; "
            "remove it or make sure it is never true for a gate",
            source.rel,
            value.line,
            value.column,
            "warning",
        )


def swallowed(script: str, shell: Shell, is_gate: Callable[[Command], bool]) -> Iterator[tuple[Command, str]]:
    """Each gate command whose exit status the script loses, with the reason."""
    for fate in fates(script, shell, is_gate):
        if not fate.fatal and not fate.checked and fate.reason is not None:
            yield fate.command, fate.reason


def _script_position(source: Source, run: Scalar, cmd: Command) -> tuple[int, int]:
    needle = cmd.words[len(cmd.words) - len(cmd.argv)] if cmd.argv else cmd.words[0]
    node = run.node
    if node.style == "|":
        index = node.start_mark.line + 1 + cmd.line
        if index < len(source.lines):
            col = source.lines[index].find(needle)
            if col >= 0:
                return index + 1, col + 1
    return source.locate(run, needle)


RULE = MutedGate()
