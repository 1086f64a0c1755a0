"""lockfile: ``.github/workflows/actions.lock`` disagrees with the workflows it locks.

An onboarded workflow (listed under ``workflows:``) fails to start when it uses
an action the lockfile does not list; a ``uses: x@<sha>`` whose locked commit is
another one runs code nobody reviewed under that SHA; a dependency without a
commit locks nothing. Entries the workflow no longer uses are stale (warning).
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import lockfile
from ci_helper.workflows.uses import REMOTE

ID = "lockfile"


class Lockfile:
    id = ID
    summary = "actions.lock does not lock what an onboarded workflow uses, or locks it to another commit"

    def check(self, ctx: Context) -> Iterator[Finding]:
        lock = lockfile.load(ctx.tree.root)
        if lock is None:
            return
        by_rel = {w.rel: w for w in ctx.tree.workflows}
        for rel, (line, listed) in lock.workflows.items():
            workflow = by_rel.get(rel)
            if workflow is None:
                yield finding(
                    ID,
                    f"actions.lock locks '{rel}', which does not exist; run 'gh actions-lock' to prune it",
                    lock.source_rel,
                    line,
                    1,
                    "warning",
                )
                continue
            used = set()
            for job in workflow.jobs:
                for step in job.steps:
                    ref = step.ref
                    if step.uses is None or ref is None or ref.kind != REMOTE:
                        continue
                    value = step.uses.value.strip()
                    used.add(value)
                    if value not in listed:
                        yield finding(
                            ID,
                            f"{value} is not in actions.lock, which locks this workflow: GitHub refuses to "
                            "start it; run 'gh actions-lock'",
                            rel,
                            step.uses.line,
                            step.uses.column,
                            uses=value,
                        )
                        continue
                    dependency = lock.dependencies.get(value)
                    commit = dependency[1] if dependency is not None else None
                    if commit is None:
                        yield finding(
                            ID,
                            f"actions.lock lists {value} without a locked commit; run 'gh actions-lock'",
                            rel,
                            step.uses.line,
                            step.uses.column,
                            uses=value,
                        )
                    elif ref.pinned and ref.ref != commit:
                        yield finding(
                            ID,
                            f"{value} is pinned to {ref.ref} but actions.lock runs it at {commit}; "
                            "run 'gh actions-lock' after reviewing the change",
                            rel,
                            step.uses.line,
                            step.uses.column,
                            uses=value,
                        )
            for value in listed:
                if value not in used:
                    yield finding(
                        ID,
                        f"actions.lock locks {value} for '{rel}', which no longer uses it; run 'gh actions-lock'",
                        lock.source_rel,
                        line,
                        1,
                        "warning",
                        uses=value,
                    )


RULE = Lockfile()
