"""pin-lacks-action: one of ci-helper's own actions or workflows pinned to a commit that does not hold it.

GitHub loads ``truthful-ci/ci-helper/actions/smoke@<sha>`` from that commit; when
the commit has no ``actions/smoke/action.yml`` the job fails at "Set up job",
before any gate runs (our examples once pinned such a commit). The local git
repository of ci-helper (the checkout ci-helper runs from, or
``CI_HELPER_SELF_REPO``) tells: a commit it knows that lacks the file is a
finding; a commit it does not know is left alone (it cannot tell). The all-zero
SHA is the documentation placeholder (docs/release.md) and never loads.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_helper import release
from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import Scalar, parse_uses

ID = "pin-lacks-action"


def _ours(ctx: Context) -> Iterator[tuple[str, Scalar]]:
    for workflow in ctx.tree.workflows:
        for job in workflow.jobs:
            if job.uses is not None:
                yield workflow.rel, job.uses
            for step in job.steps:
                if step.uses is not None:
                    yield workflow.rel, step.uses
    for action in ctx.tree.actions:
        for step in action.steps:
            if step.uses is not None:
                yield action.rel, step.uses


class PinLacksAction:
    id = ID
    summary = (
        "one of ci-helper's actions or workflows pinned to a commit that lacks it (or to the all-zero placeholder)"
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        pinned = []
        for rel, value in _ours(ctx):
            uses = parse_uses(value.value)
            if release.is_ours(uses) and uses.pinned:
                pinned.append((rel, value, uses))
        if not pinned:
            return
        repo = None
        if any(uses.ref != release.PLACEHOLDER_SHA for _, _, uses in pinned):
            repo = release.self_repository(required=False)
        known = {}
        if repo is not None:
            known = release.holdings(
                repo,
                list(
                    dict.fromkeys(
                        (uses.ref, release.target_paths(uses))
                        for _, _, uses in pinned
                        if uses.ref != release.PLACEHOLDER_SHA
                    )
                ),
            )
        for rel, value, uses in pinned:
            version = f"v{release.current_version()}"
            if uses.ref == release.PLACEHOLDER_SHA:
                yield finding(
                    ID,
                    f"{uses.raw} is pinned to the all-zero placeholder, which GitHub cannot load; "
                    f"pin a release: ci-helper pin --self {version}",
                    rel,
                    value.line,
                    value.column,
                    uses=uses.raw,
                )
                continue
            holding = known.get((uses.ref, release.target_paths(uses)))
            if holding is not None and holding.known and not holding.holds:
                yield finding(
                    ID,
                    f"{uses.raw} is pinned to a commit that has no {release.target_paths(uses)[0]}, so "
                    f"the job fails before it starts; pin a release that holds it: "
                    f"ci-helper pin --self {version}",
                    rel,
                    value.line,
                    value.column,
                    uses=uses.raw,
                )


RULE = PinLacksAction()
