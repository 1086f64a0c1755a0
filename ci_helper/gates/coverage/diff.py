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
_SIMPLE_ESCAPES = {b"a": b"\a", b"b": b"\b", b"t": b"\t", b"n": b"\n", b"v": b"\v", b"f": b"\f",
                   b"r": b"\r", b'"': b'"', b"\\": b"\\"}


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
    for line in text.splitlines():
        if old_left or new_left:
            # Inside a hunk: body lines are counted, so content such as "+++ x" is never a header.
            if line.startswith("-"):
                old_left -= 1
            elif line.startswith("+"):
                new_left -= 1
            elif line.startswith(" "):
                old_left -= 1
                new_left -= 1
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
            old_left, new_left = old_count, new_count
            if current is not None and new_count:
                files.setdefault(current, set()).update(range(start, start + new_count))
    return files


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd, capture_output=True, text=True, encoding="utf-8", errors="surrogateescape",
        )
    except FileNotFoundError:
        raise BadInput("git is not installed; the changed-lines gate needs git (or drop --compare-branch)") from None


def _fetch_hint(ref: str) -> str:
    if ref.startswith("origin/"):
        return f"`git fetch origin {ref[len('origin/'):]}`"
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
        ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "--unified=0", "-M",
         "--src-prefix=a/", "--dst-prefix=b/", merge_base, "--"],
        where,
    )
    if diff.returncode != 0:
        raise BadInput(f"git diff against {compare_branch!r} failed: {diff.stderr.strip()}")
    return ChangedLines(compare_branch, merge_base, repo_root, parse_unified_diff(diff.stdout))
