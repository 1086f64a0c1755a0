"""Changed lines: ``git diff --unified=0`` against the merge-base with the compare branch.

The diff runs from the merge-base to the working tree, so it holds what the
branch changed (committed, staged or not), the same span diff-cover reads.
Only added and modified lines count: a deletion leaves nothing to cover.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_OCTAL_ESCAPE = re.compile(rb"\\([0-7]{3}|.)")
_SIMPLE_ESCAPES = {
    b"a": b"\a",
    b"b": b"\b",
    b"t": b"\t",
    b"n": b"\n",
    b"v": b"\v",
    b"f": b"\f",
    b"r": b"\r",
    b'"': b'"',
    b"\\": b"\\",
}


@dataclass
class ChangedLines:
    """Added and modified lines per file, paths relative to the repository root."""

    compare_branch: str
    merge_base: str
    repo_root: Path
    files: dict[str, set[int]] = field(default_factory=dict)

    def by_real_path(self) -> dict[str, set[int]]:
        """The same lines keyed by resolved absolute path, to meet coverage's file names."""
        return {os.path.realpath(self.repo_root / name): lines for name, lines in self.files.items()}


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of a path (``"a\\303\\251.py"``)."""
    if not (len(path) >= 2 and path.startswith('"') and path.endswith('"')):
        return path
    raw = path[1:-1].encode("utf-8")

    def replace(match: re.Match[bytes]) -> bytes:
        token = match.group(1)
        if len(token) == 3:
            return bytes([int(token, 8)])
        return _SIMPLE_ESCAPES.get(token, token)

    return _OCTAL_ESCAPE.sub(replace, raw).decode("utf-8", errors="surrogateescape")


def _new_path(header: str) -> str | None:
    """The file of a ``+++ b/path`` header; None for ``+++ /dev/null`` (a deleted file)."""
    target = header[4:].rstrip("\n")
    if target.endswith("\t"):  # git appends a tab after names with spaces in some versions
        target = target[:-1]
    if target == "/dev/null":
        return None
    target = _unquote(target)
    if not target.startswith("b/"):
        raise ValueError(f"unexpected diff header {header!r}")
    return target[2:]


def parse_unified_diff(text: str) -> dict[str, set[int]]:
    """Added/modified line numbers (new side) per file of a ``--unified=0`` diff."""
    files: dict[str, set[int]] = {}
    current: str | None = None
    old_left = new_left = 0
    new_line = 0
    for line in text.splitlines():
        if old_left or new_left:
            # Inside a hunk: body lines are counted, so content such as "+++ x" is never a header.
            # Only "+" lines are changed: git keeps context inside -U0 hunks it merged (diff.interHunkContext).
            if line.startswith("-"):
                old_left -= 1
            elif line.startswith("+"):
                if current is not None:
                    files.setdefault(current, set()).add(new_line)
                new_left -= 1
                new_line += 1
            elif line.startswith(" "):
                old_left -= 1
                new_left -= 1
                new_line += 1
            continue
        if line.startswith("diff --git ") or line.startswith("diff --cc "):
            current = None
        elif line.startswith("+++ "):
            current = _new_path(line)
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            if not match:
                raise ValueError(f"unexpected hunk header {line!r}")
            old_count = 1 if match.group(2) is None else int(match.group(2))
            start = int(match.group(3))
            new_count = 1 if match.group(4) is None else int(match.group(4))
            old_left, new_left, new_line = old_count, new_count, start
    return files


# Every configuration key that changes what `git diff` prints, set to git's own default, so the
# changed lines are the same on every machine whatever the user's, system's or repository's
# config says (command-line -c wins over all of them). The flags of the diff call repeat the
# most dangerous ones. Tested one by one in tests/gates/test_coverage_diff_config.py.
NEUTRAL_CONFIG = (
    "core.quotepath=off",  # our own choice: file names as UTF-8, not octal escapes
    "color.ui=false",
    "color.diff=false",
    "diff.noprefix=false",  # "+++ file" instead of "+++ b/file"
    "diff.mnemonicPrefix=false",  # "+++ w/file" instead of "+++ b/file"
    "diff.relative=false",  # paths relative to a subfolder
    "diff.external=",  # an external diff program prints anything
    "diff.suppressBlankEmpty=false",  # blank context lines as "" instead of " "
    "diff.interHunkContext=0",  # unchanged lines merged into -U0 hunks
    "diff.context=0",
    "diff.renames=true",  # "copies" hides a copied file's lines as a copy, "false" a moved file's
    "diff.algorithm=myers",  # patience/histogram mark other lines as changed
    "diff.indentHeuristic=true",
    "diff.ignoreSubmodules=all",
    "diff.submodule=short",
)


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    config = [item for pair in NEUTRAL_CONFIG for item in ("-c", pair)]
    env = {
        k: v
        for k, v in os.environ.items()
        # The environment can carry config and diff options too.
        if k not in ("GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT")
        and not k.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    try:
        return subprocess.run(
            ["git", *config, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            env=env,
        )
    except FileNotFoundError:
        raise BadInput("git is not installed; the changed-lines gate needs git (or drop --compare-branch)") from None


def toplevel(cwd: Path) -> Path | None:
    """The work tree around ``cwd``, or None outside a repository (or without git)."""
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd)
    except BadInput:
        return None
    return Path(top.stdout.strip()) if top.returncode == 0 and top.stdout.strip() else None


def _fetch_hint(ref: str) -> str:
    if ref.startswith("origin/"):
        return f"`git fetch origin {ref[len('origin/') :]}`"
    return f"`git fetch origin {ref}`"


def changed_lines(compare_branch: str, cwd: str | os.PathLike[str] = ".") -> ChangedLines:
    """Lines added or modified since the merge-base of ``compare_branch`` and HEAD."""
    where = Path(cwd)
    if not compare_branch or compare_branch.startswith("-"):
        raise BadInput(f"--compare-branch must name a git ref, got {compare_branch!r}")
    top = _git(["rev-parse", "--show-toplevel"], where)
    if top.returncode != 0:
        raise BadInput(f"{where.resolve()}: not inside a git repository; the changed-lines gate needs one")
    repo_root = Path(top.stdout.strip())
    ref = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{compare_branch}^{{commit}}"], where)
    if ref.returncode != 0:
        raise BadInput(
            f"compare branch {compare_branch!r} is not in this clone (a shallow clone, or a branch that was "
            f"not fetched); fetch it first: {_fetch_hint(compare_branch)}, or check out with fetch-depth: 0"
        )
    base = _git(["merge-base", ref.stdout.strip(), "HEAD"], where)
    if base.returncode != 0:
        raise BadInput(
            f"no merge-base between {compare_branch!r} and HEAD: the clone's history is too shallow; "
            "run `git fetch --unshallow` (or check out with fetch-depth: 0)"
        )
    merge_base = base.stdout.strip()
    diff = _git(
        [
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--unified=0",
            "--inter-hunk-context=0",
            "--no-relative",
            "-M",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            merge_base,
            "--",
        ],
        where,
    )
    if diff.returncode != 0:
        raise BadInput(f"git diff against {compare_branch!r} failed: {diff.stderr.strip()}")
    return ChangedLines(compare_branch, merge_base, repo_root, parse_unified_diff(diff.stdout))
