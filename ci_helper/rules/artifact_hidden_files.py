"""artifact-hidden-files: ``actions/upload-artifact`` v4.4+ asked to upload dot-files it will drop.

Since v4.4.0 the action leaves out hidden files (``.coverage``,
``.coverage.<host>.<pid>``, ``.ci-helper/...``) unless
``include-hidden-files: true``: the artifact is uploaded without them, the
combine job finds no coverage data, and nothing said why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import Source, Step

ID = "artifact-hidden-files"
_VERSION = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.\d+)*")
_COMMENT_VERSION = re.compile(r"#\s*v?(\d+)(?:\.(\d+))?")


def drops_hidden_files(source: Source, step: Step) -> bool:
    """True for upload-artifact v4.4 or later (a moving ``v4`` tag, or a SHA whose ``# v`` comment says so;
    a SHA with no comment is taken to be a current release)."""
    ref = step.ref
    if ref is None or ref.action_name != "actions/upload-artifact" or step.uses is None:
        return False
    match = _VERSION.fullmatch(ref.ref) if ref.ref else None
    if match is None and step.uses.line - 1 < len(source.lines):
        match = _COMMENT_VERSION.search(source.lines[step.uses.line - 1])
        if match is None:
            return ref.pinned
    if match is None:
        return False
    major, minor = int(match.group(1)), match.group(2)
    if major != 4:
        return major > 4
    return minor is None or int(minor) >= 4


def hidden_paths(paths: str) -> list[str]:
    """Lines of a ``path:`` value that name a dot-file or dot-folder (not ``./`` or ``../``)."""
    out = []
    for line in paths.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("!") or entry.startswith("#"):
            continue
        if any(part.startswith(".") and part not in (".", "..") for part in entry.split("/")):
            out.append(entry)
    return out


class ArtifactHiddenFiles:
    id = ID
    summary = "upload-artifact v4.4+ given a dot-file path (.coverage*) without include-hidden-files: true"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for workflow in ctx.tree.workflows:
            for job in workflow.jobs:
                for step in job.steps:
                    yield from _step(workflow.source, step)
        for action in ctx.tree.actions:
            for step in action.steps:
                yield from _step(action.source, step)


def _step(source: Source, step: Step) -> Iterator[Finding]:
    path = step.with_.get("path")
    if path is None or not drops_hidden_files(source, step):
        return
    include = step.with_.get("include-hidden-files")
    if include is not None and (include.is_expression or include.as_bool() is True):
        return
    for entry in hidden_paths(path.value):
        line, column = source.locate(path, entry)
        yield finding(
            ID,
            f"upload-artifact v4.4+ leaves out hidden files, so '{entry}' is not uploaded; add "
            "'include-hidden-files: true'",
            source.rel,
            line,
            column,
            step=step.label,
        )


RULE = ArtifactHiddenFiles()
