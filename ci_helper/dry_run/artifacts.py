"""A dry run's artifact store: ``actions/upload-artifact`` and ``download-artifact`` (v4) on one machine.

``verify --run`` maps both actions to small stand-ins (``stand_ins/``) whose one step is
``ci-helper artifact upload|download``: the files go to a folder under the dry run's temp
(``CI_HELPER_ARTIFACT_STORE``, one subfolder per artifact name) and come back from it.
What matters for a truthful verdict is kept from v4.4+:

- every ``path`` line is a file, a folder or a glob (``!`` excludes); the artifact's root
  is the least common ancestor of the search paths, so ``.ci-helper/results/`` and
  ``.coverage.*`` keep their relative layout;
- hidden files and folders (a name starting with ``.``) are left out unless
  ``include-hidden-files: true``: the same silent loss of ``.coverage.*`` CI would have;
- an artifact name is uploaded once per run (``overwrite: true`` replaces it);
- ``if-no-files-found``: ``warn`` (default), ``error`` or ``ignore``;
- a download by ``name`` that is missing fails; without a name every artifact (or each
  matching ``pattern``) goes to ``path/<name>/``, or straight into ``path`` with
  ``merge-multiple: true``; a pattern that matches nothing downloads nothing and passes.

On CI every job checks the repository out at the same path; a dry run gives the jobs
that run in parallel a copy of the workspace each. Coverage data uploaded from such a
copy is stored with the copy's paths mapped to the project's
(``CI_HELPER_DRY_RUN_WORKSPACE``), as if it had been measured there.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput

STORE_ENV = "CI_HELPER_ARTIFACT_STORE"
# The workspace path every job of the run has on CI (a dry run's workspace copies map onto it).
WORKSPACE_ENV = "CI_HELPER_DRY_RUN_WORKSPACE"
IF_NO_FILES_FOUND = ("warn", "error", "ignore")
_WILDCARDS = set("*?[")


class ArtifactError(Exception):
    """The step fails (as the real action's would): a duplicate name, no files with ``error``, a missing artifact."""


@dataclass
class Upload:
    name: str
    files: list[str] = field(default_factory=list)  # relative to the artifact's root
    root: str = ""
    hidden_left_out: list[str] = field(default_factory=list)  # what include-hidden-files: false dropped
    warning: str = ""


STAND_INS = Path(__file__).resolve().parent / "stand_ins"


def stand_ins() -> dict[str, str]:
    """``--stub-remote`` mappings of the artifact actions to our stand-ins (a dry run's defaults)."""
    return {f"actions/{name}": str(STAND_INS / name) for name in ("upload-artifact", "download-artifact")}


def environment(store: Path, project: Path) -> dict[str, str]:
    """What the stand-ins read: the run's store, and the workspace path every job has on CI."""
    return {STORE_ENV: str(store), WORKSPACE_ENV: str(project)}


def store_from_env(environ: dict[str, str] | None = None) -> Path:
    value = (environ if environ is not None else os.environ).get(STORE_ENV, "")
    if not value:
        raise BadInput(
            f"{STORE_ENV} is not set: `ci-helper artifact` is the stand-in for actions/upload-artifact and "
            "download-artifact inside `ci-helper verify --run`, which sets it"
        )
    return Path(value)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") and part not in (".", "..") for part in relative.parts)


def _search_root(pattern: str) -> str:
    """The folder a pattern searches from: its path up to the first component with a wildcard."""
    parts = Path(pattern).parts
    kept: list[str] = []
    for part in parts:
        if _WILDCARDS & set(part):
            return str(Path(*kept)) if kept else "."
        kept.append(part)
    return str(Path(*kept)) if kept else "."


def _expand(pattern: str) -> list[Path]:
    """The files a path line names: a file, every file under a folder, or the files a glob matches."""
    found: list[Path] = []
    if not _WILDCARDS & set(pattern):
        path = Path(pattern)
        if path.is_file():
            return [path]
        if path.is_dir():
            return sorted(p for p in path.rglob("*") if p.is_file())
        return []
    # @actions/glob matches hidden names too (they are dropped later unless include-hidden-files).
    if sys.version_info >= (3, 11):
        matches = glob.glob(pattern, recursive=True, include_hidden=True)
    else:  # pragma: no cover - Python 3.10 matches hidden names only where the pattern starts with a dot
        matches = glob.glob(pattern, recursive=True)
    for match in sorted(matches):
        path = Path(match)
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()))
    return found


def upload(
    store: Path,
    name: str,
    paths: str,
    workspace: Path,
    *,
    include_hidden_files: bool = False,
    if_no_files_found: str = "warn",
    overwrite: bool = False,
    canonical_workspace: Path | None = None,
) -> Upload:
    """Store the files ``paths`` names (v4 rules, see the module docstring) as the artifact ``name``."""
    if not name.strip():
        name = "artifact"
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ArtifactError(f"artifact name '{name}' is not valid: it must not contain / or \\")
    if if_no_files_found not in IF_NO_FILES_FOUND:
        raise BadInput(f"if-no-files-found: '{if_no_files_found}'; expected one of {', '.join(IF_NO_FILES_FOUND)}")
    lines = [line.strip() for line in paths.splitlines() if line.strip()]
    if not lines:
        raise BadInput("path: no path given; name the files or folders to upload (one per line)")
    include: list[str] = []
    exclude: list[str] = []
    for line in lines:
        target = exclude if line.startswith("!") else include
        line = line[1:].strip() if line.startswith("!") else line
        line = os.path.expanduser(line)
        target.append(line if os.path.isabs(line) else str(workspace / line))
    roots = [os.path.abspath(_search_root(p)) for p in include]
    root = Path(os.path.commonpath(roots)) if roots else workspace
    if root.is_file():
        root = root.parent
    chosen: dict[Path, None] = {}
    for pattern in include:
        for path in _expand(pattern):
            absolute = Path(os.path.abspath(path))
            if any(fnmatch.fnmatch(str(absolute), os.path.abspath(p)) for p in exclude):
                continue
            chosen[absolute] = None
    result = Upload(name, root=str(root))
    files: list[Path] = []
    for path in chosen:
        relative = path.relative_to(root)
        if not include_hidden_files and _hidden(relative):
            result.hidden_left_out.append(str(relative))
            continue
        files.append(path)
    if not files:
        message = f"No files were found with the provided path: {' '.join(lines)}. No artifacts will be uploaded."
        if if_no_files_found == "error":
            raise ArtifactError(message)
        result.warning = message if if_no_files_found == "warn" else ""
        return result
    stored = store / name
    if stored.exists():
        if not overwrite:
            raise ArtifactError(
                f"an artifact named '{name}' was already uploaded in this run; names are unique per run "
                "(give each matrix job its own name, or set overwrite: true)"
            )
        shutil.rmtree(stored)
    for path in files:
        relative = path.relative_to(root)
        destination = stored / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if canonical_workspace is not None and _is_coverage_data(path):
            _remap_coverage(path, destination, workspace, canonical_workspace)
        else:
            shutil.copyfile(path, destination)
        result.files.append(relative.as_posix())
    return result


def download(
    store: Path,
    destination: Path,
    *,
    name: str = "",
    pattern: str = "",
    merge_multiple: bool = False,
) -> list[str]:
    """Copy artifacts out of the store (v4 rules, see the module docstring); returns the names downloaded."""
    available = sorted(p.name for p in store.iterdir() if p.is_dir()) if store.is_dir() else []
    if name.strip():
        if name not in available:
            raise ArtifactError(f"Unable to download artifact(s): Artifact not found for name: {name}")
        _copy_tree(store / name, destination)
        return [name]
    chosen = [n for n in available if not pattern.strip() or fnmatch.fnmatchcase(n, pattern.strip())]
    for artifact in chosen:
        _copy_tree(store / artifact, destination if merge_multiple else destination / artifact)
    return chosen


def _copy_tree(source: Path, destination: Path) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = destination / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)  # a download writes new files: fresh times, as on CI


def _is_coverage_data(path: Path) -> bool:
    if not path.name.startswith(".coverage"):
        return False
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def _remap_coverage(source: Path, destination: Path, workspace: Path, canonical: Path) -> None:
    """Copy a coverage data file with paths under ``workspace`` rewritten to lie under ``canonical``."""
    from coverage import CoverageData

    prefix = os.path.realpath(workspace)
    target = os.path.realpath(canonical)
    if prefix == target:
        shutil.copyfile(source, destination)
        return

    def map_path(path: str) -> str:
        if path == prefix or path.startswith(prefix + os.sep):
            return target + path[len(prefix) :]
        return path

    original = CoverageData(basename=str(source))
    original.read()
    mapped = CoverageData(basename=str(destination))
    mapped.update(original, map_path=map_path)
    mapped.write()
