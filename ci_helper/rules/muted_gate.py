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

from typing import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.rules.gate_commands import GateMatcher
from ci_helper.workflows import Scalar, Source, Step
from ci_helper.workflows.shell import AndOr, Command, Shell, parse_script, resolve_shell, set_flags_after

ID = "muted-gate"

_STATUS_REFERENCES = ("$?", "${?}", "PIPESTATUS")
_TAIL_STOP = frozenset({";", "}", ")", "&&", "||", "|", "&"})


class MutedGate:
    id = ID
    summary = "a gate step (tests, coverage, audit, linters, ci-helper) whose failure is ignored or swallowed"

    def check(self, ctx: Context) -> Iterator[Finding]:
        gates = GateMatcher(ctx.tree, ctx.settings.gate_patterns)
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
                    yield from _step(source, step, shell, is_gate, gates, analysed)
                if gate_steps and job.continue_on_error is not None:
                    yield from _continue_on_error(
                        source, job.continue_on_error,
                        f"job '{job.id}' runs gate step '{gate_steps[0].label}' but has",
                    )
        for action in ctx.tree.actions:
            for step in action.steps:
                yield from _step(action.source, step, None, gates.step(step), gates, analysed)


def _step(source: Source, step: Step, default_shell: str | None, is_gate: bool, gates: GateMatcher,
          analysed: dict[tuple[str, Shell], list[tuple[Command, str]]]) -> Iterator[Finding]:
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
            yield finding(ID, f"gate step '{step.label}': cannot analyse {name} scripts for swallowed exit status; "
                          "check by hand that its failure fails the step", source.rel, at.line, at.column, "warning",
                          step=step.label)
        return
    key = (step.run.value, shell)
    if key not in analysed:
        analysed[key] = list(swallowed(parse_script(step.run.value), shell, gates.command))
    for command, reason in analysed[key]:
        line, column = _script_position(source, step.run, command)
        yield finding(ID, reason, source.rel, line, column, step=step.label)


def _shell_name(shell: Shell) -> str:
    """``pwsh`` for ``pwsh``, ``pwsh -command ". '{0}'"`` or ``/usr/bin/pwsh {0}``."""
    word = shell.command.split()[0] if shell.command.split() else shell.command
    return word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]


def _continue_on_error(source: Source, value: Scalar, subject: str) -> Iterator[Finding]:
    if value.is_expression:
        yield finding(ID, f"{subject} continue-on-error: {value.value.strip()}: when it is true the failure is ignored; "
                      "remove it or make sure it is never true for a gate", source.rel, value.line, value.column, "warning")
    elif value.as_bool():
        yield finding(ID, f"{subject} continue-on-error: true: its failure cannot fail the job; remove it",
                      source.rel, value.line, value.column)


def swallowed(lists: list[AndOr], shell: Shell, is_gate) -> Iterator[tuple[Command, str]]:
    """Each gate command whose exit status the script loses, with the reason."""
    errexit, pipefail = shell.errexit, shell.pipefail
    errexit_off_by = "set +e" if shell.errexit else f"the shell '{shell.command}' (no -e)"
    last = len(lists) - 1
    for i, item in enumerate(lists):
        for j, pipeline in enumerate(item.pipelines):
            op_after = item.ops[j] if j < len(item.ops) else None
            for k, cmd in enumerate(pipeline):
                if not cmd.condition and is_gate(cmd):
                    name = _name(cmd)
                    final = i == last and op_after is None and k == len(pipeline) - 1
                    if k < len(pipeline) - 1 and not pipefail and not _checked_next(lists, i, ("PIPESTATUS",)):
                        consumer = pipeline[-1].program or pipeline[-1].text
                        yield cmd, (f"'{name}' is piped into '{consumer}' without pipefail: the step gets "
                                    f"'{consumer}'s status, not the gate's; add 'set -o pipefail' or use 'shell: bash'")
                    if op_after == "||" and not _tail_fails(item.pipelines[j + 1:], is_gate):
                        tail = item.pipelines[j + 1][0].text
                        yield cmd, f"'{name} || {_short(tail)}' swallows the gate's exit status; let it fail"
                    elif op_after == "&&" and errexit and i != last:
                        yield cmd, (f"'{name} && ...' is not the script's last command: bash -e ignores a failure "
                                    f"before '&&' and the script goes on; put the gate on its own line")
                    elif not errexit and not final and op_after is None and not _checked_next(lists, i):
                        yield cmd, (f"'{name}' runs with errexit off ({errexit_off_by}) and the next command does not "
                                    "check $? or PIPESTATUS, so its failure is ignored")
                new_errexit, pipefail = set_flags_after(cmd, errexit, pipefail)
                if new_errexit != errexit:
                    errexit_off_by = "set +e"
                errexit = new_errexit


def _name(cmd: Command) -> str:
    """The command as a reader names it: ``pytest``, ``python -m mypy``, ``ruff check``, ``ci-helper smoke``."""
    argv = cmd.argv
    if not argv:
        return cmd.text
    if len(argv) > 2 and argv[1] == "-m":
        return " ".join(argv[:3])
    if len(argv) > 1 and argv[1].isalpha():
        return " ".join(argv[:2])
    return argv[0]


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _tail_fails(tail: list[list[Command]], is_gate) -> bool:
    """True when what runs after ``||`` still fails the step (exit non-zero, false, a retry, or a captured $?)."""
    for pipeline in tail:
        for cmd in pipeline:
            if is_gate(cmd):
                return True
            words = cmd.argv if cmd.words[0] not in ("(", "{") else cmd.words
            text = cmd.text
            if any(ref in text for ref in _STATUS_REFERENCES):
                return True
            for index, word in enumerate(words):
                if word in ("exit", "return"):
                    arg = words[index + 1] if index + 1 < len(words) else None
                    if arg is None or arg in _TAIL_STOP or arg != "0":
                        return True
                elif word == "false":
                    return True
    return False


def _checked_next(lists: list[AndOr], index: int, references: tuple[str, ...] = _STATUS_REFERENCES) -> bool:
    """True when the command list right after ``index`` reads the status (``$?`` or ``PIPESTATUS``)."""
    if index + 1 >= len(lists):
        return False
    text = " ".join(c.text for c in lists[index + 1].commands())
    return any(ref in text for ref in references)


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
