"""self-repository: ``uses: ./x`` inside an action meant for others, where ``$/x`` was meant.

Inside a composite action, ``./x`` resolves against the *caller's* workspace:
whatever the caller checked out at that path runs, unpinned, and usually it is
not there at all. ``$/x`` names the action's own repository at the same
commit (runner >= 2.336.0). Actions meant for others are the root
``action.yml`` and those under ``actions/``; a repository's private
``.github/actions/`` are used from its own checkout, where ``./`` is right.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows.uses import LOCAL

ID = "self-repository"


def published(rel: str) -> bool:
    """True for the root action and actions under ``actions/``."""
    return rel in ("action.yml", "action.yaml") or rel.startswith("actions/")


class SelfRepository:
    id = ID
    summary = "uses: ./x inside an action meant for other repositories (root or actions/): it loads the caller's files"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for action in ctx.tree.actions:
            if not published(action.rel):
                continue
            for step in action.steps:
                ref = step.ref
                if ref is None or ref.kind != LOCAL or step.uses is None:
                    continue
                target = "$/" + (ref.local_path or "")
                yield finding(
                    ID,
                    f"'{ref.raw}' in an action others use loads whatever the caller's workspace holds at "
                    f"that path, unpinned; use '{target}' (this action's repository at the same commit)",
                    action.rel,
                    step.uses.line,
                    step.uses.column,
                    uses=ref.raw,
                )


RULE = SelfRepository()
