"""One analysis per source file, spread over worker processes.

Each file is analysed exactly as ``coverage report`` analyses it: a
:class:`coverage.python.PythonFileReporter` and the public
:func:`coverage.results.analysis_from_file_reporter`, so every figure derives
from coverage's own :class:`coverage.results.Numbers`. The public
``Coverage.analysis2`` would do for statements, but it returns no branch
figures, and adding ``Coverage.branch_stats`` would parse every file twice;
``Coverage._analyze`` is private. Analysis (parsing the source) dominates the
cost, so files are spread over ``jobs`` processes.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from coverage import Coverage
from coverage.exceptions import NoSource, NotPython
from coverage.files import abs_file, relative_filename
from coverage.python import PythonFileReporter
from coverage.results import Numbers, analysis_from_file_reporter

# Below this many files a pool costs more than it saves.
_MIN_FILES_FOR_POOL = 16
# Parsing allocates millions of short-lived tokens and AST nodes and keeps few of them;
# collecting the youngest generation every 700 allocations (the default) is about a
# tenth of the analysis time. Memory stays flat: the parser makes almost no cycles.
_GC_THRESHOLDS = (100_000, 50, 100)


@dataclass
class FileCoverage:
    """What one analysis of one file yields; every per-file figure comes from here."""

    name: str  # as coverage reports it (relative to the project when inside it)
    real_path: str  # resolved absolute path, to meet git's file names
    numbers: Numbers
    missing_lines: list[int]
    excluded_lines: list[int]
    missing_branches: list[tuple[int, int]] = field(default_factory=list)
    # Changed executable statements, those of them that did not run, and those grouped into
    # ranges over the file's consecutive statements (never across an unchanged one).
    changed_statements: list[int] = field(default_factory=list)
    changed_missing: list[int] = field(default_factory=list)
    changed_ranges: list[tuple[int, int]] = field(default_factory=list)


def line_ranges(statements: list[int], missing: list[int]) -> list[tuple[int, int]]:
    """Group ``missing`` into ranges that run over consecutive ``statements`` (coverage's Missing column).

    ``statements`` are all the file's statements, so a range of changed lines never
    spans a statement that is not in ``missing`` (an unchanged or a covered one).
    """
    missing_set = set(missing)
    ranges: list[tuple[int, int]] = []
    start = end = None
    for line in statements:
        if line in missing_set:
            if start is None:
                start = line
            end = line
        elif start is not None:
            ranges.append((start, end))  # type: ignore[arg-type]
            start = end = None
    if start is not None:
        ranges.append((start, end))  # type: ignore[arg-type]
    return ranges


def format_ranges(ranges: list[tuple[int, int]]) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


@dataclass
class AnalysisError:
    """A file that could not be analysed (no source, not Python)."""

    name: str
    message: str


@dataclass
class Job:
    """The same configuration every worker rebuilds its Coverage object from."""

    data_file: str
    config_file: str | bool
    precision: int
    contexts: list[str] | None
    ignore_errors: bool


_worker: dict[str, object] = {}


def open_coverage(data_file: str, config_file: str | bool) -> Coverage:
    """A Coverage object over ``data_file`` with the project's configuration, data loaded."""
    cov = Coverage(data_file=data_file, config_file=config_file)
    cov.load()
    return cov


def _init_worker(job: Job, own_process: bool = True) -> None:
    if own_process:
        gc.freeze()  # what the worker inherited or imported is never garbage
        gc.set_threshold(*_GC_THRESHOLDS)
    cov = open_coverage(job.data_file, job.config_file)
    data = cov.get_data()
    if job.contexts:
        data.set_query_contexts(job.contexts)
    _worker.update(cov=cov, data=data, job=job)


def _analyse_one(item: tuple[str, frozenset[int] | None]) -> FileCoverage | AnalysisError | None:
    morf, changed = item
    cov: Coverage = _worker["cov"]  # type: ignore[assignment]
    job: Job = _worker["job"]  # type: ignore[assignment]
    reporter = PythonFileReporter(morf, cov)
    # coverage maps reporter names back to data names the same way (Coverage._file_mapper).
    mapper = relative_filename if cov.get_option("run:relative_files") else abs_file
    try:
        analysis = analysis_from_file_reporter(_worker["data"], job.precision, reporter, mapper(reporter.filename))  # type: ignore[arg-type]
    except NotPython as exc:
        if not reporter.should_be_python() or job.ignore_errors:
            return None
        return AnalysisError(reporter.relative_filename(), f"couldn't parse Python file: {exc}")
    except NoSource:
        if job.ignore_errors:
            return None
        return AnalysisError(reporter.relative_filename(), "source file not found")
    except Exception as exc:  # coverage report stops on any analysis error unless ignore_errors
        if job.ignore_errors:
            return None
        return AnalysisError(reporter.relative_filename(), f"couldn't analyse: {exc}")
    changed_statements: list[int] = []
    changed_missing: list[int] = []
    changed_ranges: list[tuple[int, int]] = []
    if changed:
        changed_statements = sorted(analysis.statements & changed)
        changed_missing = sorted(analysis.missing & changed)
        changed_ranges = line_ranges(sorted(analysis.statements), changed_missing)
    missing_branches = (
        sorted((src, dst) for src, dsts in analysis.missing_branch_arcs().items() for dst in dsts)
        if analysis.has_arcs
        else []
    )
    return FileCoverage(
        name=reporter.relative_filename(),
        real_path=os.path.realpath(reporter.filename),
        numbers=analysis.numbers,
        missing_lines=sorted(analysis.missing),
        excluded_lines=sorted(analysis.excluded),
        missing_branches=missing_branches,
        changed_statements=changed_statements,
        changed_missing=changed_missing,
        changed_ranges=changed_ranges,
    )


def default_jobs() -> int:
    """CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def analyse_files(
    job: Job,
    files: list[tuple[str, frozenset[int] | None]],
    jobs: int,
) -> Iterable[FileCoverage | AnalysisError | None]:
    """Analyse each ``(data file name, changed lines)``; results in input order."""
    if jobs <= 1 or len(files) < _MIN_FILES_FOR_POOL:
        _init_worker(job, own_process=False)
        thresholds = gc.get_threshold()
        gc.set_threshold(*_GC_THRESHOLDS)
        try:
            return [_analyse_one(item) for item in files]
        finally:
            gc.set_threshold(*thresholds)
            _worker.clear()
    methods = multiprocessing.get_all_start_methods()
    # fork starts workers in milliseconds; spawn is the portable fallback.
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    workers = min(jobs, len(files))
    # Several chunks per worker even out files of different sizes.
    chunksize = max(1, len(files) // (workers * 8))
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(job,)
    ) as pool:
        return list(pool.map(_analyse_one, files, chunksize=chunksize))
