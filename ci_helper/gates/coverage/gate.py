"""The coverage gate: analyse once, then derive the total, per-file and changed-lines verdicts."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from coverage import Coverage
from coverage.exceptions import ConfigError
from coverage.files import GlobMatcher, prep_patterns
from coverage.python import PythonFileReporter
from coverage.results import Numbers, display_covered, should_fail_under

from ci_helper import limits, results, run_start
from ci_helper.errors import BadInput
from ci_helper.gates.coverage import analysis, diff, inputs, project as project_mod, server
from ci_helper.gates.coverage.analysis import (  # re-exported
    format_ranges as format_ranges,
    line_ranges as line_ranges,
)
from ci_helper.settings import CoverageSettings, Settings

CHECK = "coverage"
MEASURE_MODES = ("tests", "tests+server")
# Findings per rule in the check result: the JSON report holds the rest.
MAX_FINDINGS_PER_RULE = 100
# Changed files in the result's `changed_files` figure (a result stays small enough for an artifact).
MAX_CHANGED_FILE_FIGURES = 200


# Everything the gate needs, already merged from flags, env and settings: the settings'
# own shape, so a field added to [tool.ci-helper.coverage] reaches the gate without a copy.
GateOptions = CoverageSettings


@dataclass
class ChangedFile:
    """One file's changed executable statements, those that did not run, and those as line ranges."""

    statements: list[int]
    missing: list[int]
    ranges: list[tuple[int, int]]
    measured: bool = True  # False: no data mentions the file, so none of it ran
    file_statements: int = 0  # every statement of the file (unmeasured files: all missing)


@dataclass
class ChangedFileCoverage:
    """A changed file's own coverage next to its changed lines': the report's changed-files table."""

    file: str  # repository-relative
    statements: int
    missing: int
    changed_statements: int
    changed_missing: int
    measured: bool

    def figure(self) -> dict[str, object]:
        return {
            "file": self.file,
            "statements": self.statements,
            "missing": self.missing,
            "changed_statements": self.changed_statements,
            "changed_missing": self.changed_missing,
            "measured": self.measured,
        }


@dataclass
class DiffCoverage:
    """Coverage of the changed executable lines."""

    compare_branch: str
    merge_base: str
    repo_root: Path
    statements: int
    missing: int
    precision: int
    # repository-relative path -> its changed statements
    files: dict[str, ChangedFile]
    # Changed Python files not counted: omitted by the user's config or outside the measured source.
    left_out: int = 0
    # Every counted changed file (also those whose change touches no statement), by path.
    coverage_of_files: list[ChangedFileCoverage] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return self.statements - self.missing

    @property
    def percent(self) -> float | None:
        """None when the change touches no executable line: nothing to cover."""
        return 100.0 * self.covered / self.statements if self.statements else None

    @property
    def display(self) -> str | None:
        pc = self.percent
        return None if pc is None else display_covered(pc, self.precision)

    def describe_empty(self) -> str:
        """What to say when no changed statement was counted: "no changed executable lines" only when true."""
        if not self.left_out:
            return "no changed executable lines"
        files = "file" if self.left_out == 1 else "files"
        return (
            f"no changed executable lines counted ({self.left_out} changed Python {files} "
            "omitted by the coverage configuration or outside the measured source)"
        )


@dataclass
class CoverageAnalysis:
    """The one analysis every output is rendered from."""

    files: list[analysis.FileCoverage]
    totals: Numbers
    branch: bool
    precision: int
    data_files: list[str]
    data_file_records: list[inputs.DataFileRecord]
    run_started_at: float | None
    combined: bool
    measure: str
    config_fail_under: float
    diff: DiffCoverage | None = None
    stub_files_left_out: int = 0
    # Where the data came from: the proof behind measure = "tests+server".
    server_evidence: server.ServerEvidence | None = None


@dataclass
class Verdict:
    """The gate's decisions, next to the floors that made them."""

    result: results.CheckResult
    total_failed: bool
    per_file_failures: list[analysis.FileCoverage]
    diff_failed: bool
    fail_under: float | None
    # The totals as shown next to their floors: enough digits that the comparison is visible.
    total_shown: str = ""
    diff_shown: str | None = None
    # Declared measure = "tests+server", and no data came from the server.
    server_missing: bool = False


def _matcher(patterns: list[str] | None, name: str) -> GlobMatcher | None:
    return GlobMatcher(prep_patterns(patterns), name) if patterns else None


def analyse(options: GateOptions, settings: Settings | None = None) -> CoverageAnalysis:
    """Combine the data, read the diff, analyse every reported file once (in the current folder, as coverage does)."""
    if options.measure not in MEASURE_MODES:
        raise BadInput(f"--measure must be one of {', '.join(MEASURE_MODES)}, got {options.measure!r}")
    if options.jobs is not None and options.jobs < 1:
        raise BadInput(f"--jobs must be at least 1, got {options.jobs}")
    config_file: str | bool = options.rcfile if options.rcfile else True
    try:
        config_cov = Coverage(config_file=config_file)
        default_data_file = str(config_cov.get_option("run:data_file"))
        precision = int(config_cov.get_option("report:precision"))  # type: ignore[arg-type]
        config_fail_under = float(config_cov.get_option("report:fail_under") or 0.0)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise BadInput(f"coverage configuration: {exc}") from None
    except UnicodeDecodeError as exc:  # coverage reads .coveragerc/setup.cfg/tox.ini without catching this
        where = options.rcfile or ".coveragerc, setup.cfg or tox.ini"
        raise BadInput(f"coverage configuration ({where}): not UTF-8 text ({exc}); save it as UTF-8") from None
    except limits.PARSE_ERRORS as exc:  # pyproject.toml nested past the recursion limit, a 5,000-digit integer
        where = options.rcfile or "pyproject.toml"
        raise BadInput(f"coverage configuration ({where}): unreadable ({limits.why(exc)}); fix the file") from None
    if not 0 <= config_fail_under <= 100:  # NaN fails this too; coverage would raise ConfigError mid-report
        where = ", ".join(config_cov.config.config_files_read) or "coverage configuration"
        raise BadInput(
            f"{where}: [report] fail_under = {config_fail_under:g} is not a percentage; give a number from 0 to 100"
        )
    data_paths = inputs.find_data_files(options.data_files, default_data_file, options.combine)
    started_at = run_start.started_at()
    records = inputs.check_this_run(data_paths, started_at)
    if settings is None:
        from ci_helper import settings as settings_mod

        settings = settings_mod.load(".")
    project = project_mod.open_project(config_cov, settings)
    changes = diff.changed_lines(options.compare_branch, ".") if options.compare_branch else None

    with tempfile.TemporaryDirectory(prefix="ci-helper-coverage-") as work:
        combined = inputs.combine(config_cov, data_paths, Path(work))
        evidence = server.gather(combined.contexts, config_cov)
        cov = analysis.open_coverage(str(combined.data_file.resolve()), config_file)
        data = cov.get_data()
        include = _matcher(cov.get_option("report:include"), "report_include")  # type: ignore[arg-type]
        omit = _matcher(cov.get_option("report:omit"), "report_omit")  # type: ignore[arg-type]
        changed_by_path = changes.by_real_path() if changes else {}
        items: list[tuple[str, frozenset[int] | None]] = []
        measured_real: set[str] = set()
        stub_files = 0
        for morf in sorted(data.measured_files()):
            tracer = data.file_tracer(morf)
            if tracer:
                raise BadInput(
                    f"{morf}: measured by the coverage plugin {tracer!r}; the gate analyses Python source only "
                    "(omit those files with [report] omit)"
                )
            reporter = PythonFileReporter(morf, cov)
            if include is not None and not include.match(reporter.filename):
                continue
            if omit is not None and omit.match(reporter.filename):
                continue
            real = os.path.realpath(reporter.filename)
            if project.is_offline_hook(real):
                continue  # ours, run inside the project's tests by `ci-helper network run`: never the project's
            project_mod.refuse_foreign(project, morf, real)
            if project.is_stub(real):
                stub_files += 1  # generated stand-ins: never the project's coverage
                continue
            measured_real.add(real)
            changed = changed_by_path.get(real)
            items.append((morf, frozenset(changed) if changed else None))
        if not items:
            why = (
                "every measured file is a generated stub"
                if stub_files
                else "no file left to report after [report] include/omit"
            )
            raise inputs.CoverageInputError(
                f"{combined.data_file}: {why}; no measured file of this project, and nothing measured is never a pass"
            )
        job = analysis.Job(
            data_file=str(combined.data_file.resolve()),
            config_file=config_file,
            precision=precision,
            contexts=cov.get_option("report:contexts"),  # type: ignore[arg-type]
            ignore_errors=bool(cov.get_option("report:ignore_errors")),
        )
        outcomes = analysis.analyse_files(job, items, options.jobs or analysis.default_jobs())
        unmeasured: dict[str, ChangedFile] = {}
        left_out = 0
        if changes is not None:
            source = project_mod.MeasuredSource(cov, project, measured_real)
            unmeasured, left_out = _unmeasured_changes(changes, changed_by_path, measured_real, source, cov)

    files: list[analysis.FileCoverage] = []
    for outcome in outcomes:
        if isinstance(outcome, analysis.AnalysisError):
            raise BadInput(
                f"{outcome.name}: {outcome.message}; if the data was measured elsewhere, map its paths to "
                "this checkout with [paths] in the coverage configuration (or set [report] ignore_errors)"
            )
        if outcome is not None:
            files.append(outcome)
    if not files:
        # Every file was skipped (ignore_errors): a total over nothing would show 100 %.
        named = ", ".join(str(p) for p in combined.inputs)
        raise inputs.CoverageInputError(
            f"{named}: no measured file could be analysed (sources not found or not Python, "
            "skipped by [report] ignore_errors); nothing measured is never a pass",
            combined.inputs[0] if len(combined.inputs) == 1 else None,
        )
    totals = sum((f.numbers for f in files), Numbers(precision=precision))
    return CoverageAnalysis(
        files=files,
        totals=totals,
        branch=combined.has_arcs,
        precision=precision,
        data_files=[str(p) for p in combined.inputs],
        data_file_records=records,
        run_started_at=started_at,
        combined=len(combined.inputs) > 1 or combined.data_file not in combined.inputs,
        measure=options.measure,
        config_fail_under=config_fail_under,
        diff=_diff_coverage(changes, files, unmeasured, left_out, precision) if changes else None,
        stub_files_left_out=stub_files,
        server_evidence=evidence,
    )


def _unmeasured_changes(
    changes: diff.ChangedLines,
    changed_by_path: dict[str, set[int]],
    measured: set[str],
    source: project_mod.MeasuredSource,
    cov: Coverage,
) -> tuple[dict[str, ChangedFile], int]:
    """Changed Python files no data mentions: under the measured source, every changed statement is uncovered.

    Returns those files (repository-relative) and how many changed Python files were left out
    (omitted, or outside the measured source).
    """
    found: dict[str, ChangedFile] = {}
    left_out = 0
    for real, lines in sorted(changed_by_path.items()):
        if not real.endswith(".py") or real in measured or not os.path.isfile(real):
            continue
        if not source.covers(real):
            left_out += 1
            continue
        try:
            reporter = PythonFileReporter(real, cov)
            statements = sorted(reporter.lines())
        except Exception:  # a file coverage cannot parse is not counted, as coverage itself would stop
            left_out += 1
            continue
        changed = sorted(set(statements) & lines)
        if not changed:
            continue
        name = Path(os.path.relpath(real, os.path.realpath(changes.repo_root))).as_posix()
        found[name] = ChangedFile(
            changed, changed, line_ranges(statements, changed), measured=False, file_statements=len(statements)
        )
    return found, left_out


def _diff_coverage(
    changes: diff.ChangedLines,
    files: list[analysis.FileCoverage],
    unmeasured: dict[str, ChangedFile],
    left_out: int,
    precision: int,
) -> DiffCoverage:
    per_file: dict[str, ChangedFile] = dict(unmeasured)
    changed_real = changes.by_real_path()
    root = os.path.realpath(changes.repo_root)
    of_files = [
        ChangedFileCoverage(name, c.file_statements, c.file_statements, len(c.statements), len(c.missing), False)
        for name, c in unmeasured.items()
    ]
    for f in files:
        if f.real_path not in changed_real:
            continue
        name = Path(os.path.relpath(f.real_path, root)).as_posix()
        of_files.append(
            ChangedFileCoverage(
                name,
                f.numbers.n_statements,
                f.numbers.n_missing,
                len(f.changed_statements),
                len(f.changed_missing),
                True,
            )
        )
        if not f.changed_statements:
            continue
        per_file[name] = ChangedFile(f.changed_statements, f.changed_missing, f.changed_ranges)
    return DiffCoverage(
        compare_branch=changes.compare_branch,
        merge_base=changes.merge_base,
        repo_root=changes.repo_root,
        statements=sum(len(c.statements) for c in per_file.values()),
        missing=sum(len(c.missing) for c in per_file.values()),
        precision=precision,
        files=dict(sorted(per_file.items())),
        left_out=left_out,
        coverage_of_files=sorted(of_files, key=lambda c: c.file),
    )


def _floor(value: float | None, name: str) -> float | None:
    if value is not None and not 0 <= value <= 100:
        raise BadInput(f"{name} must be between 0 and 100, got {value:g}")
    return value


def _pct(value: float) -> str:
    return f"{value:g}%"


def compare_digits(floor: float | None, precision: int) -> int:
    """Decimals a floor comparison needs: the precision, or more when the floor has more (76.9 needs 1)."""
    if floor is None:
        return precision
    text = f"{floor:.10f}".rstrip("0")
    return max(precision, len(text.split(".")[1]) if "." in text else 0)


def shown_against(value: float, floor: float | None, precision: int) -> str:
    """``value`` with enough digits that its comparison with ``floor`` is visible (76.8 under 76.9, never 77)."""
    return display_covered(value, compare_digits(floor, precision))


def evaluate(report: CoverageAnalysis, options: GateOptions) -> Verdict:
    """Apply the floors to the one analysis and build the ``coverage`` check result."""
    fail_under = _floor(options.fail_under, "--fail-under")
    if fail_under is None and report.config_fail_under:
        fail_under = report.config_fail_under  # coverage's own [report] fail_under
    per_file_floor = _floor(options.per_file_fail_under, "--per-file-fail-under")
    diff_floor = _floor(options.diff_fail_under, "--diff-fail-under")
    precision = report.precision
    totals = report.totals
    findings: list[results.Finding] = []
    server_missing = report.server_evidence is not None and server.server_missing(
        report.server_evidence, report.measure
    )
    if report.server_evidence is not None:
        findings += server.findings(report.server_evidence, report.measure)

    total_failed = fail_under is not None and should_fail_under(totals.pc_covered, fail_under, precision)
    total_display = shown_against(totals.pc_covered, fail_under, precision)
    if total_failed:
        findings.append(
            results.Finding(
                "coverage-total",
                f"total coverage {total_display}% is under the floor {_pct(fail_under)}",  # type: ignore[arg-type]
                data={"total": float(total_display), "fail_under": fail_under},
            )
        )

    per_file_failures: list[analysis.FileCoverage] = []
    if per_file_floor is not None:
        per_file_failures = [
            f
            for f in report.files
            if f.numbers.n_statements and should_fail_under(f.numbers.pc_covered, per_file_floor, precision)
        ]
        per_file_failures.sort(key=lambda f: (f.numbers.pc_covered, -f.numbers.n_missing, f.name))
        for f in per_file_failures[:MAX_FINDINGS_PER_RULE]:
            findings.append(
                results.Finding(
                    "coverage-per-file",
                    f"{f.name}: {shown_against(f.numbers.pc_covered, per_file_floor, precision)}% covered, "
                    f"under the per-file floor {_pct(per_file_floor)}",
                    file=f.name,
                    # Typed for the summary's worst-files table: it never parses the message.
                    data={"percent": float(f.numbers.pc_covered_str)},
                )
            )

    d = report.diff
    diff_failed = bool(
        d is not None
        and diff_floor is not None
        and d.percent is not None
        and should_fail_under(d.percent, diff_floor, precision)
    )
    diff_display = d.display if d is not None else None
    if d is not None and d.percent is not None:
        diff_display = shown_against(d.percent, diff_floor, precision)
    if d is not None:
        if diff_failed:
            findings.append(
                results.Finding(
                    "coverage-diff",
                    f"changed lines {diff_display}% covered ({d.covered} of {d.statements} statements changed since "
                    f"{d.compare_branch}), under the floor {_pct(diff_floor)}",  # type: ignore[arg-type]
                )
            )
        uncovered = 0
        for name, changed in d.files.items():
            for start, end in changed.ranges:
                uncovered += 1
                if uncovered > MAX_FINDINGS_PER_RULE:
                    break
                lines = f"line {start}" if start == end else f"lines {start}-{end}"
                why = (
                    "not covered by the tests"
                    if changed.measured
                    else "not covered: no coverage data mentions the file"
                )
                findings.append(
                    results.Finding(
                        "coverage-changed-lines",
                        f"changed {lines} {why}",
                        file=name,
                        line=start,
                        severity="error" if diff_failed else "warning",
                        data={"end_line": end},
                    )
                )

    figures: dict[str, object] = {
        "total": float(total_display),
        "fail_under": fail_under,
        "diff": float(diff_display) if diff_display is not None else None,
        "diff_fail_under": diff_floor,
        "per_file_fail_under": per_file_floor,
        "files_under_per_file_floor": len(per_file_failures) if per_file_floor is not None else None,
        "measure": report.measure,
        # The data files that came from the server process (context "server" or named .coverage.server*).
        "server_data_files": report.server_evidence.server_data_files if report.server_evidence is not None else None,
        "data_files_combined": len(report.data_files),
        # Every data file combined, as found: path, size in bytes, modification time (epoch seconds).
        "data_files": [r.figure() for r in report.data_file_records],
        "run_started_at": report.run_started_at,
        "stub_files_left_out": report.stub_files_left_out,
        "branch": report.branch,
        "precision": precision,
        "files": len(report.files),
        "statements": totals.n_statements,
        "missing": totals.n_missing,
        "branches": totals.n_branches,
        "partial_branches": totals.n_partial_branches,
        "compare_branch": d.compare_branch if d is not None else None,
        "diff_statements": d.statements if d is not None else None,
        "diff_missing": d.missing if d is not None else None,
        "diff_files_unmeasured": sum(not c.measured for c in d.files.values()) if d is not None else None,
        "diff_files_left_out": d.left_out if d is not None else None,
        # Each counted changed file's own coverage and its changed lines' (the run report's table).
        "changed_files": (
            [c.figure() for c in d.coverage_of_files[:MAX_CHANGED_FILE_FIGURES]] if d is not None else None
        ),
        "changed_files_counted": len(d.coverage_of_files) if d is not None else None,
    }
    failed = total_failed or bool(per_file_failures) or diff_failed or server_missing
    result = (results.failed if failed else results.passed)(CHECK, figures=figures, findings=findings)
    return Verdict(
        result, total_failed, per_file_failures, diff_failed, fail_under, total_display, diff_display, server_missing
    )


def input_failure(error: BadInput) -> results.CheckResult:
    """The ``fail`` result for unreadable input: no data is never a pass."""
    path = getattr(error, "path", None)
    rule = getattr(error, "rule", "coverage-input")
    return results.failed(
        CHECK,
        figures={"total": None},
        findings=[results.Finding(rule, error.message, file=path)],
        reason=error.message,
    )
