"""skipped-gate: a gate that can never run, or a tier whose required check a path filter leaves pending.

GitHub counts a job skipped by ``if:`` as a success for a required status
check. So a gate job or step whose ``if:`` is false on every trigger of its
workflow (``if: false``, ``if: ${{ false }}``, ``github.event_name == 'push'``
in a workflow run only on ``pull_request``) is a green check that never ran.
Conditions are read with the expression parser (``conditions.py``).

A tier workflow (one that runs ci-helper's quality or smoke action) behind
``paths:``/``paths-ignore:`` never starts for a pull request that touches no
listed path, so its required check stays pending (and gets waived or made
optional); unless an aggregate job (``needs:`` with ``if: always()``) is the
required check, that is a finding too.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules import conditions
from ci_helper.rules.base import Context, finding
from ci_helper.rules.gate_commands import matcher
from ci_helper.workflows import Job, Tree, Workflow, facts
from ci_helper.workflows.uses import LOCAL, REMOTE, SELF

ID = "skipped-gate"
_TIERS = ("actions/quality", "actions/smoke")


def _events(workflow: Workflow) -> list[str | None]:
    if "workflow_call" in workflow.triggers or not workflow.triggers:
        return [None]
    return list(sorted(workflow.triggers))


def _shown(events: list[str | None]) -> str:
    return ", ".join(e for e in events if e is not None) or "any event"


def _runs_tier(job: Job) -> bool:
    for step in job.steps:
        ref = step.ref
        if ref is None:
            continue
        path = ref.path.strip("/") if ref.kind == REMOTE else (ref.local_path or "")
        if ref.kind == REMOTE and ref.repo.split("/")[-1] != "ci-helper":
            continue
        if ref.kind in (REMOTE, LOCAL, SELF) and path in _TIERS:
            return True
    return False


def _has_aggregate(tree: Tree) -> bool:
    for workflow in tree.workflows:
        for job in workflow.jobs:
            if job.needs and job.if_ is not None and conditions.runs_after_failure(job.if_.value):
                return True
    return False


def _filter_line(workflow: Workflow) -> tuple[int, int]:
    for index, line in enumerate(workflow.source.lines):
        stripped = line.lstrip()
        if stripped.startswith(("paths:", "paths-ignore:")):
            return index + 1, len(line) - len(stripped) + 1
    return 1, 1


class SkippedGate:
    id = ID
    summary = "a gate job or step whose if: is never true for the workflow's triggers, or a tier behind a paths filter"

    def check(self, ctx: Context) -> Iterator[Finding]:
        gates = matcher(ctx.tree, ctx.settings.gate_patterns)
        aggregate: bool | None = None
        for workflow in ctx.tree.workflows:
            events = _events(workflow)
            rel = workflow.rel
            shell = workflow.default_shell.value if workflow.default_shell is not None else None
            tier = False
            for job in workflow.jobs:
                job_shell = job.default_shell.value if job.default_shell is not None else shell
                gate_steps = [s for s in job.steps if gates.step(s, job_shell)]
                tier = tier or _runs_tier(job)
                if (
                    (gate_steps or job.uses is not None)
                    and job.if_ is not None
                    and not any(conditions.can_be_true(job.if_.value, e) for e in events)
                ):
                    what = f"runs gate step '{gate_steps[0].label}'" if gate_steps else "calls a reusable workflow"
                    yield finding(
                        ID,
                        f"job '{job.id}' {what} but its if: {job.if_.value.strip()} is never true on "
                        f"this workflow's triggers ({_shown(events)}): the job is always skipped, and a "
                        "skipped required check counts as success",
                        rel,
                        job.if_.line,
                        job.if_.column,
                        job=job.id,
                    )
                    continue
                job_events = (
                    events
                    if job.if_ is None
                    else [e for e in events if conditions.can_be_true(job.if_.value, e)] or events
                )
                for step in gate_steps:
                    if step.if_ is not None and not any(conditions.can_be_true(step.if_.value, e) for e in job_events):
                        yield finding(
                            ID,
                            f"gate step '{step.label}' has if: {step.if_.value.strip()}, never true on "
                            f"this job's events ({_shown(job_events)}): the gate never runs and the job "
                            "stays green",
                            rel,
                            step.if_.line,
                            step.if_.column,
                            step=step.label,
                        )
            if not tier:
                continue
            filters = facts.trigger_filters(workflow)
            filtered = sorted(
                e
                for e in ("pull_request", "push", "pull_request_target")
                if {"paths", "paths-ignore"} & set(filters.get(e, {}))
            )
            if filtered:
                if aggregate is None:
                    aggregate = _has_aggregate(ctx.tree)
                if not aggregate:
                    line, column = _filter_line(workflow)
                    yield finding(
                        ID,
                        f"this tier workflow runs on {'/'.join(filtered)} only when listed paths change: "
                        "for other changes its required check stays pending; drop the paths filter or make "
                        "an aggregate job (needs: the tiers, if: always()) the required check",
                        rel,
                        line,
                        column,
                    )


RULE = SkippedGate()
