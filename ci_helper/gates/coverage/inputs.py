"""Coverage data files: find them, read each one, combine them into one data file.

Combining reads every input itself (instead of ``Coverage.combine``) because
coverage's combine warns about and skips an unreadable file, and a skipped
shard silently lowers what was measured; here it is bad input naming the file.
The project's ``[paths]`` aliases and ``relative_files`` are honoured exactly as
``coverage combine`` honours them, and the inputs are never modified or deleted.

Only this run's data counts: a data file tracked by git, or written before the
run's start marker (:mod:`ci_helper.run_start`), is refused, and every file
combined is recorded (path, size, mtime) in the check result.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from coverage import Coverage, CoverageData
from coverage.exceptions import CoverageException
from coverage.files import PathAliases

from ci_helper import run_start
from ci_helper.errors import BadInput

# SQLite leaves these beside a data file; they are not data files themselves.
_SIDE_FILE_SUFFIXES = ("-journal", "-wal", "-shm")


class CoverageInputError(BadInput):
    """Unreadable or refused coverage input (exit 2); ``path`` names the file, ``rule`` the finding."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None, rule: str = "coverage-input") -> None:
        super().__init__(message)
        self.path = os.fspath(path) if path is not None else None
        self.rule = rule


@dataclass
class CombinedData:
    """The data to analyse: one data file and the inputs it was made from."""

    data_file: Path
    inputs: list[Path]
    has_arcs: bool
    # Every input's measured contexts (the static ``server`` context proves server data).
    contexts: dict[Path, frozenset[str]] = field(default_factory=dict)


def _is_data_file_name(name: str, base: str) -> bool:
    if name.endswith(_SIDE_FILE_SUFFIXES):
        return False
    return name == base or name.startswith(base + ".")


def find_data_files(paths: list[str], default_data_file: str, combine: bool) -> list[Path]:
    """The data files to read: the given files, the data files in given folders, or the default.

    Without paths: the configured data file (``.coverage``) and, when
    combining, its parallel files (``.coverage.*``) beside it.
    """
    base = Path(default_data_file)
    found: list[Path] = []
    if not paths:
        if base.is_file():
            found.append(base)
        if combine and base.parent.is_dir():
            found += sorted(
                p
                for p in base.parent.iterdir()
                if p.name != base.name and _is_data_file_name(p.name, base.name) and p.is_file()
            )
        if not found:
            parallel = f" or {base.name}.* parallel files" if combine else ""
            raise CoverageInputError(
                f"{base}: no coverage data file{parallel}; run the tests under `coverage run` first, "
                "or pass --data-file",
                base,
            )
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            matches = sorted(p for p in path.iterdir() if p.is_file() and _is_data_file_name(p.name, base.name))
            if not matches:
                raise CoverageInputError(
                    f"{path}: folder holds no {base.name} or {base.name}.* data file; "
                    "check the path (downloaded artifacts keep their folder names)",
                    path,
                )
            found += matches
        elif path.is_file():
            found.append(path)
        else:
            raise CoverageInputError(
                f"{path}: coverage data file not found; run the tests under `coverage run` "
                "(or download the shards' data) first",
                path,
            )
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    files = list(unique.values())
    if not combine and len(files) != 1:
        listed = ", ".join(str(p) for p in files)
        raise CoverageInputError(
            f"--no-combine reads exactly one data file, got {len(files)} ({listed}); pass one or use --combine"
        )
    return files


def read_data_file(path: Path) -> CoverageData:
    """Open one data file, or raise :class:`CoverageInputError` naming it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CoverageInputError(f"{path}: cannot read coverage data ({exc.strerror})", path) from None
    if size == 0:
        raise CoverageInputError(
            f"{path}: coverage data file is empty (0 bytes); the test run that writes it failed or was killed",
            path,
        )
    data = CoverageData(basename=str(path))
    try:
        data.read()
        measured = data.measured_files()
    except CoverageException as exc:
        raise CoverageInputError(
            f"{path}: corrupt or unreadable coverage data ({_first_line(exc)}); re-run the tests that write it",
            path,
        ) from None
    if not measured:
        raise CoverageInputError(
            f"{path}: coverage data holds no measured files; the tests ran no code of the project "
            "(check [run] source/omit and that the tests ran)",
            path,
        )
    return data


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def path_aliases(cov: Coverage) -> PathAliases | None:
    """The project's ``[paths]`` as coverage builds them for ``combine``; None when there are none."""
    paths: dict[str, list[str]] = cov.get_option("paths") or {}  # type: ignore[assignment]  # [paths] is a table
    if not paths:
        return None
    aliases = PathAliases(relative=bool(cov.get_option("run:relative_files")))
    for locations in paths.values():
        # The first entry is where files live here; the others are where they were measured.
        result = locations[0]
        for pattern in locations[1:]:
            aliases.add(pattern, result)
    return aliases


def combine(cov: Coverage, inputs: list[Path], work_dir: Path) -> CombinedData:
    """Read every input and write one combined data file under ``work_dir``."""
    datas = [(path, read_data_file(path)) for path in inputs]
    contexts = {path: frozenset(data.measured_contexts()) for path, data in datas}
    aliases = path_aliases(cov)
    if len(datas) == 1 and aliases is None:
        # Nothing to merge or remap: analyse the input itself, saving a copy.
        path, data = datas[0]
        return CombinedData(path, inputs, data.has_arcs(), contexts)
    map_path = functools.cache(aliases.map) if aliases is not None else None
    target = work_dir / ".coverage"
    combined = CoverageData(basename=str(target))
    for path, data in datas:
        try:
            combined.update(data, map_path=map_path)
        except CoverageException as exc:
            raise CoverageInputError(
                f"{path}: cannot combine with the other data files ({_first_line(exc)}); "
                "measure every shard with the same [run] branch setting",
                path,
            ) from None
    combined.write()
    has_arcs = combined.has_arcs()
    combined.close()
    return CombinedData(target, inputs, has_arcs, contexts)


# --- this run's data only -------------------------------------------------------------------


@dataclass(frozen=True)
class DataFileRecord:
    """One data file the gate combined, as it found it (recorded in the check result's figures)."""

    path: str
    size: int
    mtime: float

    def figure(self) -> dict[str, object]:
        return {"path": self.path, "size": self.size, "mtime": self.mtime}


def tracked_by_git(paths: list[Path]) -> list[Path]:
    """The paths git tracks (one ``git ls-files`` per folder); none outside a repository."""
    by_folder: dict[Path, list[Path]] = {}
    for path in paths:
        by_folder.setdefault(path.resolve().parent, []).append(path)
    tracked: list[Path] = []
    for folder, members in by_folder.items():
        try:
            proc = subprocess.run(
                ["git", "-c", "core.quotepath=off", "ls-files", "-z", "--", *(p.resolve().name for p in members)],
                cwd=folder,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="surrogateescape",
            )
        except FileNotFoundError:  # no git: nothing can be tracked
            return []
        if proc.returncode != 0:  # not a repository (an artifact folder under RUNNER_TEMP)
            continue
        names = set(proc.stdout.split("\0"))
        tracked += [p for p in members if p.resolve().name in names]
    return tracked


def check_this_run(paths: list[Path], started_at: float | None) -> list[DataFileRecord]:
    """Record every data file; refuse one tracked by git or written before the run started."""
    tracked = tracked_by_git(paths)
    if tracked:
        first = tracked[0]
        raise CoverageInputError(
            f"{first}: coverage data tracked by git: committed data measured an old commit, not this run; "
            f"remove it (`git rm --cached {first}`) and add .coverage* to .gitignore",
            first,
            rule="coverage-tracked-data",
        )
    records = []
    for path in paths:
        stat = path.stat()
        if started_at is not None and stat.st_mtime + run_start.MTIME_SLACK_SECONDS < started_at:
            raise CoverageInputError(
                f"{path}: coverage data written before this run started (written {run_start.iso(stat.st_mtime)}, "
                f"run started {run_start.iso(started_at)}): a leftover of an earlier run; erase it before the "
                "tests run (`ci-helper coverage erase`) or delete it",
                path,
                rule="coverage-stale-data",
            )
        records.append(DataFileRecord(str(path), stat.st_size, stat.st_mtime))
    return records


def erase(default_data_file: str, started_at: float | None) -> list[Path]:
    """Delete the data file and its parallel files written before the run started (all without a marker).

    Data this run already wrote (a server tier earlier in the same job) is kept.
    """
    base = Path(default_data_file)
    if not base.parent.is_dir():
        return []
    removed = []
    for path in sorted(base.parent.iterdir()):
        if not (_is_data_file_name(path.name, base.name) and path.is_file()):
            continue
        if started_at is not None and path.stat().st_mtime + run_start.MTIME_SLACK_SECONDS >= started_at:
            continue
        path.unlink()
        removed.append(path)
    return removed
