"""unpinned-uses: a remote action, reusable workflow or docker image not pinned to an immutable digest.

A tag or branch can be moved to new code after review; only a full commit SHA
(40 lowercase hex digits) or a docker ``sha256`` digest names exactly one thing.
A step's ``uses:`` that GitHub's workflow lockfile (``.github/workflows/actions.lock``)
locks for that workflow runs the locked commit, so it is pinned too (the
``lockfile`` rule checks the lockfile agrees with the workflows).
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import Scalar, lockfile, parse_uses
from ci_helper.workflows.uses import DOCKER, REMOTE

ID = "unpinned-uses"


def _problem(value: Scalar) -> str | None:
    ref = parse_uses(value.value)
    if ref.pinned:
        return None
    if ref.kind == DOCKER:
        return f"{ref.raw} is not pinned to an image digest; use docker://<image>@sha256:<64 hex digits>"
    assert ref.kind == REMOTE
    if not ref.has_ref:
        return f"{ref.raw} has no ref; pin it as {ref.action_name}@<40-hex commit sha> # <version>"
    return (
        f"{ref.raw} is not pinned to a full commit SHA (ref '{ref.ref}'); "
        f"pin it as {ref.action_name}@<40-hex commit sha> # {ref.ref}"
    )


class UnpinnedUses:
    id = ID
    summary = "a remote uses: (action, reusable workflow or docker image) not pinned to a full commit SHA or digest"

    def check(self, ctx: Context) -> Iterator[Finding]:
        tree = ctx.tree
        lock = lockfile.load(tree.root)
        for workflow in tree.workflows:
            for job in workflow.jobs:
                if job.uses is not None:  # reusable workflow calls are never locked
                    yield from self._one(workflow.rel, job.uses)
                for step in job.steps:
                    if step.uses is not None:
                        if lock is not None and lock.locked(workflow.rel, step.uses.value.strip()) is not None:
                            continue
                        yield from self._one(workflow.rel, step.uses)
        for action in tree.actions:
            for step in action.steps:
                if step.uses is not None:
                    yield from self._one(action.rel, step.uses)
            # A Docker action's image is pulled like a `uses: docker://` step.
            if action.image is not None and parse_uses(action.image.value).kind == DOCKER:
                yield from self._one(action.rel, action.image)

    def _one(self, rel: str, value: Scalar) -> Iterator[Finding]:
        problem = _problem(value)
        if problem is not None:
            yield finding(ID, problem, rel, value.line, value.column, uses=value.value.strip())


RULE = UnpinnedUses()
