"""muted-action: a known action configured to swallow its own failure.

- ``codecov/codecov-action`` with ``fail_ci_if_error: false``: an upload that
  failed (no token, no report) is green;
- ``step-security/harden-runner`` at ``egress-policy: audit`` as the job's only
  egress control: it logs calls it was meant to block (a warning: audit is the
  documented first step before ``block``);
- ``actions/upload-artifact`` with ``if-no-files-found: ignore`` on an artifact
  a later job downloads: the producer is green with nothing uploaded, and the
  failure surfaces elsewhere or never.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import Job, Step, Workflow

ID = "muted-action"


def _value(step: Step, key: str) -> str | None:
    value = step.with_.get(key)
    return value.value.strip().lower() if value is not None else None


def _downloaded_later(workflow: Workflow, producer: Job, name: str) -> bool:
    for job in workflow.jobs:
        if job is producer or producer.id not in _all_needs(workflow, job):
            continue
        for step in job.steps:
            ref = step.ref
            if ref is not None and ref.action_name == "actions/download-artifact":
                wanted = step.with_.get("name")
                pattern = step.with_.get("pattern")
                if (wanted is not None and wanted.value.strip() == name) or (wanted is None and pattern is None):
                    return True
    return False


def _all_needs(workflow: Workflow, job: Job) -> set[str]:
    by_id = {j.id: j for j in workflow.jobs}
    seen: set[str] = set()
    stack = list(job.needs)
    while stack:
        need = stack.pop()
        if need in seen:
            continue
        seen.add(need)
        if need in by_id:
            stack.extend(by_id[need].needs)
    return seen


class MutedAction:
    id = ID
    summary = "a known action set to swallow failure (codecov fail_ci_if_error: false, harden-runner audit, if-no-files-found: ignore)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for workflow in ctx.tree.workflows:
            rel = workflow.rel
            for job in workflow.jobs:
                hardeners = [
                    s for s in job.steps if s.ref is not None and s.ref.action_name == "step-security/harden-runner"
                ]
                if hardeners and all(_value(s, "egress-policy") in (None, "audit") for s in hardeners):
                    step = hardeners[0]
                    at = step.with_.get("egress-policy") or step.uses
                    assert at is not None  # a harden-runner step has a uses:
                    yield finding(
                        ID,
                        f"job '{job.id}': harden-runner at egress-policy: audit only logs outbound calls; "
                        "set 'egress-policy: block' with an allowed-endpoints list",
                        rel,
                        at.line,
                        at.column,
                        "warning",
                        step=step.label,
                    )
                for step in job.steps:
                    ref = step.ref
                    if ref is None:
                        continue
                    if ref.repo.lower() == "codecov/codecov-action" and _value(step, "fail_ci_if_error") == "false":
                        at = step.with_["fail_ci_if_error"]
                        yield finding(
                            ID,
                            f"step '{step.label}': codecov-action with fail_ci_if_error: false passes when "
                            "the upload fails; set it to true",
                            rel,
                            at.line,
                            at.column,
                            step=step.label,
                        )
                    if ref.action_name == "actions/upload-artifact" and _value(step, "if-no-files-found") == "ignore":
                        name = step.with_.get("name")
                        artifact = name.value.strip() if name is not None else "artifact"
                        if _downloaded_later(workflow, job, artifact):
                            at = step.with_["if-no-files-found"]
                            yield finding(
                                ID,
                                f"step '{step.label}': if-no-files-found: ignore uploads nothing without "
                                f"failing, and a later job downloads '{artifact}'; use 'error'",
                                rel,
                                at.line,
                                at.column,
                                step=step.label,
                            )


RULE = MutedAction()
