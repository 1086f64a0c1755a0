"""parallel-gate: a gate run as a GitHub parallel step (``background: true``) whose result can be lost.

A background step stopped with ``cancel:`` does not affect the job's result,
so a gate that is cancelled before it finishes passes whatever it found (an
error). A background gate that nothing ``wait``\\ s for still fails the job
when the job ends (the runner waits for it), but its failure lands after the
steps that followed it ran: a note says so. Gates inside ``parallel:`` are
waited for by the group and are fine.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.rules.gate_commands import GateMatcher, matcher
from ci_helper.workflows import Step, facts

ID = "parallel-gate"


def _ids(step: Step, key: str) -> list[str] | None:
    node = facts.step_value(step, key)
    if node is None:
        return None
    return facts.texts(node)


class ParallelGate:
    id = ID
    summary = "a gate run as a background step and stopped by cancel: (its failure is dropped), or never waited for"

    def check(self, ctx: Context) -> Iterator[Finding]:
        gates = matcher(ctx.tree, ctx.settings.gate_patterns)
        for workflow in ctx.tree.workflows:
            shell = workflow.default_shell.value if workflow.default_shell is not None else None
            for job in workflow.jobs:
                job_shell = job.default_shell.value if job.default_shell is not None else shell
                yield from self._steps(workflow.rel, job.steps, job_shell, gates)
        for action in ctx.tree.actions:
            yield from self._steps(action.rel, action.steps, None, gates)

    def _steps(self, rel: str, steps: list[Step], shell: str | None, gates: GateMatcher) -> Iterator[Finding]:
        for index, step in enumerate(steps):
            if "background" not in step.fields:
                continue  # most steps: the model's table of the step's keys answers without a lookup in the node
            background = facts.text(facts.step_value(step, "background"))
            if (background or "").strip().lower() != "true" or not gates.step(step, shell):
                continue
            step_id = facts.text(facts.step_value(step, "id"))
            waited = cancelled = None
            for later in steps[index + 1 :]:
                if facts.step_value(later, "wait-all") is not None and waited is None and cancelled is None:
                    waited = later
                wait = _ids(later, "wait")
                if wait is not None and step_id in wait and waited is None and cancelled is None:
                    waited = later
                cancel = _ids(later, "cancel")
                if cancel is not None and step_id in cancel and waited is None and cancelled is None:
                    cancelled = later
            if cancelled is not None:
                at = facts.step_value(cancelled, "cancel")
                line = at.start_mark.line + 1 if at is not None else cancelled.line
                column = at.start_mark.column + 1 if at is not None else cancelled.column
                yield finding(
                    ID,
                    f"gate step '{step.label}' runs in the background and is stopped by cancel: "
                    f"{step_id} before anything waits for it: a cancelled background step does not fail the "
                    "job; wait: for it instead",
                    rel,
                    line,
                    column,
                    step=step.label,
                )
            elif waited is None:
                yield finding(
                    ID,
                    f"gate step '{step.label}' runs in the background and nothing waits for it: its "
                    "failure fails the job only when the job ends, after the later steps ran; add "
                    f"'wait: {step_id or '<its id>'}' where its result matters",
                    rel,
                    step.line,
                    step.column,
                    "note",
                    step=step.label,
                )


RULE = ParallelGate()
