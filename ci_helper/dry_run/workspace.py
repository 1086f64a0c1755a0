"""A job's own copy of the workspace, for the jobs a dry run runs side by side.

On CI every job starts from its own checkout; jobs that run at the same time on one
machine must not share a folder (each writes ``.ci-helper/results/``, erases and writes
``.coverage.*``). The copy holds what a checkout of the working tree would: in a git
repository the tracked files and the untracked ones git does not ignore, otherwise every
file except version control, virtualenvs, caches and earlier runs' output. ci-helper's own
output (``.ci-helper/``) and coverage data are never copied: a fresh checkout has none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# Never part of a checkout's starting state.
_NEVER = {".git", ".ci-helper", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox"}


def _skipped(relative: Path, project: Path) -> bool:
    for index, part in enumerate(relative.parts):
        if part in _NEVER or part.startswith(".coverage"):
            return True
        if (
            index < len(relative.parts) - 1
            and (project.joinpath(*relative.parts[: index + 1]) / "pyvenv.cfg").is_file()
        ):
            return True  # a virtualenv inside the project
    return False


def _git_files(project: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files, or None outside a git work tree."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=project,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return [name for name in done.stdout.split("\0") if name]


def copy(project: Path, destination: Path) -> Path:
    """Copy the project's working tree into ``destination`` (created); returns it."""
    destination.mkdir(parents=True, exist_ok=True)
    names = _git_files(project)
    if names is None:
        names = []
        for folder, dirs, files in os.walk(project):
            base = Path(folder).relative_to(project)
            dirs[:] = [
                d for d in dirs if not _skipped(base / d, project) and not (Path(folder) / d / "pyvenv.cfg").is_file()
            ]
            names.extend(str(base / f) for f in files)
    for name in names:
        relative = Path(name)
        if _skipped(relative, project):
            continue
        source = project / relative
        target = destination / relative
        if source.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(os.readlink(source))
        elif source.is_dir():  # a submodule
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        elif source.is_file():  # a tracked file deleted in the working tree is not there
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination
