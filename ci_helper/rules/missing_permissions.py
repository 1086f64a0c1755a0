"""missing-permissions: a workflow with no top-level ``permissions:`` and a job without its own.

Such a job gets the repository's default GITHUB_TOKEN permissions, which on
many repositories is read-write to everything. A workflow started only by
``workflow_call`` is exempt: its jobs get the caller's token, which the
caller's ``permissions:`` limit.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding

ID = "missing-permissions"


class MissingPermissions:
    id = ID
    summary = "a workflow with no top-level permissions: and a job that sets none"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for workflow in ctx.tree.workflows:
            if workflow.has_permissions or workflow.triggers == {"workflow_call"}:
                continue
            for job in workflow.jobs:
                if not job.has_permissions:
                    yield finding(
                        ID,
                        f"job '{job.id}' has no permissions: and the workflow sets none at the top level, so it gets "
                        "the repository's default token permissions; add 'permissions: {contents: read}' at the top level",
                        workflow.rel,
                        job.line,
                        job.column,
                        job=job.id,
                    )


RULE = MissingPermissions()
