"""Which files are workflows and actions: ``.github/workflows/*.y*ml`` and every ``action.y*ml`` under the root."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from pathlib import Path

from ci_helper.errors import BadInput

WORKFLOW_SUFFIXES = (".yml", ".yaml")
ACTION_NAMES = ("action.yml", "action.yaml")
# Folders that hold tools and caches, never a project's own actions; walking them is slow and noisy.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        ".ci-helper",
        ".eggs",
        "site-packages",
    }
)


def excluded(rel: str, patterns: Sequence[str]) -> bool:
    """True when a posix path relative to the root matches an ``exclude`` glob (``dir``, ``dir/**``, ``*.yml``)."""
    for pattern in patterns:
        pat = pattern.strip().strip("/")
        if not pat:
            continue
        if fnmatch.fnmatchcase(rel, pat):
            return True
        if pat.endswith("/**") and fnmatch.fnmatchcase(rel, pat[:-3]):
            return True
    return False


def _is_file(entry: os.DirEntry[str], rel: str) -> bool:
    """``entry.is_file()``, but a link that cannot be followed (a loop, say) is bad input, not a traceback."""
    try:
        return entry.is_file()
    except OSError as exc:
        raise BadInput(f"{rel}: cannot read ({exc.strerror or exc}); remove the link or point it at a file") from None


def discover(root: Path, exclude: Sequence[str] = ()) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """``(workflows, actions)``, each a sorted list of ``(path, posix path relative to root)``."""
    patterns = list(exclude)
    workflows: list[tuple[Path, str]] = []
    actions: list[tuple[Path, str]] = []
    workflow_dir = root / ".github" / "workflows"
    if workflow_dir.is_dir():
        for entry in os.scandir(workflow_dir):
            if entry.name.endswith(WORKFLOW_SUFFIXES) and _is_file(entry, f".github/workflows/{entry.name}"):
                rel = f".github/workflows/{entry.name}"
                if not excluded(rel, patterns):
                    workflows.append((Path(entry.path), rel))
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and not excluded(prefix + d, patterns)
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        ]
        for name in ACTION_NAMES:
            if name in files and not excluded(prefix + name, patterns):
                actions.append((Path(folder) / name, prefix + name))
    workflows.sort(key=lambda item: item[1])
    actions.sort(key=lambda item: item[1])
    return workflows, actions
