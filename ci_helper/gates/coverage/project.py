"""What "this project" is for the coverage gate: where it lies, what it measures, what it never counts.

- Measured files must lie under the project (the git work tree around the working
  folder, else the working folder) and outside any ``site-packages``: data from
  another checkout, another machine without a ``[paths]`` mapping, or an installed
  copy of the package measures something else, and is refused naming the
  ``[paths]`` entry that would map it here.
- The stub manifest's root (generated stand-ins for heavy packages) is never counted, nor ci-helper's own
  offline hook, which runs in the tests' processes (docs/offline.md).
- A changed Python file under the measured source that no data mentions is measured
  code that never ran: :func:`measured_source` decides which files those are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

from coverage import Coverage
from coverage.files import GlobMatcher, prep_patterns

from ci_helper.gates.coverage import diff
from ci_helper.gates.coverage.inputs import CoverageInputError
from ci_helper.settings import Settings

# Folders that hold installed copies, never the project's own source.
_INSTALLED = ("site-packages", "dist-packages")

# ci-helper's offline hook (docs/offline.md) runs inside every test process `ci-helper network run` starts (the
# quality action's tests): a project whose coverage measures every file it meets (no [run] source) records it.
_PACKAGE = Path(__file__).resolve().parents[2]
_OFFLINE_HOOK = (os.path.realpath(_PACKAGE / "offline.py"), os.path.realpath(_PACKAGE / "offline_site"))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass
class Project:
    """The project's folders, resolved once."""

    root: str  # realpath of the git work tree (or the working folder)
    cwd: str  # realpath of the working folder (where coverage's config and relative paths live)
    stub_roots: list[str] = field(default_factory=list)
    config_file: str | None = None

    def foreign_reason(self, real_path: str) -> str | None:
        """Why a measured file is not this project's code, or None when it is."""
        if not _under(real_path, self.root):
            return f"measured outside this project ({self.root})"
        relative = Path(os.path.relpath(real_path, self.root))
        if any(part in _INSTALLED for part in relative.parts):
            return "an installed copy (site-packages), not this checkout's source"
        return None

    def is_offline_hook(self, real_path: str) -> bool:
        """ci-helper's own offline hook, measured in the project's test processes from outside the project: ours,
        never the project's (in ci-helper's own checkout the same file is the project's code, and counts)."""
        return any(_under(real_path, hook) for hook in _OFFLINE_HOOK) and not _under(real_path, self.root)

    def is_stub(self, real_path: str) -> bool:
        return any(_under(real_path, stub) for stub in self.stub_roots)

    def paths_hint(self, measured: str) -> str:
        """The ``[paths]`` entry that maps ``measured`` onto this checkout, or what to do when none can."""
        pure = PureWindowsPath(measured) if "\\" in measured and "/" not in measured else PurePosixPath(measured)
        parts = pure.parts
        start = 1
        for i, part in enumerate(parts):
            if part in _INSTALLED:
                start = i + 1  # the part after site-packages is the package
        # The longest tail that exists here names the folder the data meant.
        for i in range(start, len(parts)):
            tail = parts[i:]
            if not (Path(self.cwd).joinpath(*tail)).is_file():
                continue
            local = "/".join(tail[:-1])
            local = f"{local}/" if local else "./"
            sep = "\\" if isinstance(pure, PureWindowsPath) else "/"
            remote = str(pure.parent).rstrip(sep) + sep  # the same folder where the data was measured
            if self.config_file and self.config_file.endswith(".toml"):
                return f'map it to this checkout with [tool.coverage.paths] source = ["{local}", "{remote}"]'
            return f"map it to this checkout with [paths] source = {local} {remote} (one entry per line)"
        return (
            "no file of this checkout matches it: measure this project's code ([run] source) "
            "or leave it out with [report] omit"
        )


def open_project(cov: Coverage, settings: Settings) -> Project:
    """The project around the working folder, with the stub root of its manifest."""
    cwd = os.path.realpath(".")
    top = diff.toplevel(Path("."))
    root = os.path.realpath(top) if top is not None else cwd
    stub_roots = [os.path.realpath(p) for p in _stub_roots(settings)]
    return Project(root=root, cwd=cwd, stub_roots=stub_roots, config_file=cov.config.config_file or None)


def _stub_roots(settings: Settings) -> list[Path]:
    """The folder ``stubs create`` writes into, from the settings and the manifest (never from env)."""
    if not settings.stubs.manifest and not settings.stubs.root:
        return []
    from ci_helper.gates.stubs import locate, manifest as manifest_mod

    base = settings.project_root or Path(".")
    if settings.stubs.root:
        return [base / settings.stubs.root]
    path = locate.manifest_path(None, settings)
    if not path.is_file():
        return [base / manifest_mod.DEFAULT_ROOT]
    loaded = manifest_mod.load(path)
    return [locate.root_path(None, settings, loaded)]


def refuse_foreign(project: Project, measured: str, real_path: str) -> None:
    """Exit 2 naming a measured file that is not this project's code and the fix."""
    reason = project.foreign_reason(real_path)
    if reason is None:
        return
    raise CoverageInputError(
        f"{measured}: coverage data measured a file that is not this project's: {reason}; "
        f"{project.paths_hint(measured)}",
        measured,
        rule="coverage-foreign-data",
    )


class MeasuredSource:
    """Which files the data was meant to measure (coverage's source/include, else the measured packages)."""

    def __init__(self, cov: Coverage, project: Project, measured_real: set[str]) -> None:
        self.project = project
        self.folders: list[str] | None = None
        self.include: GlobMatcher | None = None
        source = _strings(cov, "run:source") + _strings(cov, "run:source_pkgs")
        include = cov.get_option("run:include") or []
        if source:
            self.folders = [f for f in (_source_folder(entry, project, measured_real) for entry in source) if f]
        elif include:
            self.include = GlobMatcher(prep_patterns(include), "run_include")  # type: ignore[arg-type]
        else:
            # Unset: the top-level packages the data measured are the source.
            self.folders = sorted({pkg for path in measured_real if (pkg := _top_package(path, project.root))})
        omits = _strings(cov, "run:omit") + _strings(cov, "report:omit")
        self.omit = GlobMatcher(prep_patterns(omits), "omit") if omits else None
        report_include = cov.get_option("report:include") or []
        self.report_include = (
            GlobMatcher(prep_patterns(report_include), "report_include")  # type: ignore[arg-type]
            if report_include
            else None
        )

    def covers(self, real_path: str) -> bool:
        """True when ``real_path`` is measured source that the user did not omit."""
        if self.project.is_stub(real_path) or self.project.foreign_reason(real_path) is not None:
            return False
        if self.omit is not None and self.omit.match(real_path):
            return False
        if self.report_include is not None and not self.report_include.match(real_path):
            return False
        if self.include is not None:
            return bool(self.include.match(real_path))
        return any(_under(real_path, folder) for folder in self.folders or [])


def _source_folder(entry: str, project: Project, measured_real: set[str]) -> str | None:
    """A ``[run] source`` entry as a folder: a directory, else a package found here or among the measured files."""
    as_dir = os.path.realpath(os.path.join(project.cwd, entry))
    if os.path.isdir(as_dir):
        return as_dir
    relative = os.path.join(*entry.split("."))
    for base in (project.cwd, os.path.join(project.cwd, "src")):
        candidate = os.path.realpath(os.path.join(base, relative))
        if os.path.isdir(candidate):
            return candidate
    marker = os.sep + relative + os.sep
    for path in measured_real:
        at = path.find(marker)
        if at >= 0:
            return path[: at + len(marker) - 1]
    return None


def _top_package(real_path: str, root: str) -> str | None:
    """The outermost folder with an ``__init__.py`` that holds ``real_path`` (None for a loose module)."""
    folder = os.path.dirname(real_path)
    top = None
    while _under(folder, root) and os.path.isfile(os.path.join(folder, "__init__.py")):
        top = folder
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return top


def _strings(cov: Coverage, name: str) -> list[str]:
    """A list option of coverage's (coverage types every option as one union)."""
    value = cov.get_option(name) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
