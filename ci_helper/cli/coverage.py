"""``ci-helper coverage gate``: parse flags, merge settings, dispatch to the coverage gate."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ci_helper.gates.coverage.gate import CoverageAnalysis, Verdict


@click.group(name="coverage")
def command() -> None:
    """Coverage gates from one analysis of the coverage data."""


@command.command("gate")
@click.option(
    "--data-file",
    "data_files",
    multiple=True,
    envvar="CI_HELPER_COVERAGE_DATA_FILES",
    help="Data file or folder of data files (repeatable). Default: coverage's data_file and its parallel files.",
)
@click.option(
    "--combine/--no-combine",
    default=None,
    envvar="CI_HELPER_COVERAGE_COMBINE",
    help="Combine several data files (default) or read exactly one.",
)
@click.option("--fail-under", type=float, envvar="CI_HELPER_FAIL_UNDER", help="Floor for the total, in percent.")
@click.option(
    "--per-file-fail-under",
    type=float,
    envvar="CI_HELPER_PER_FILE_FAIL_UNDER",
    help="Floor for every file, in percent.",
)
@click.option(
    "--diff-fail-under",
    type=float,
    envvar="CI_HELPER_DIFF_FAIL_UNDER",
    help="Floor for the changed lines, in percent (needs --compare-branch).",
)
@click.option(
    "--compare-branch",
    envvar="CI_HELPER_COMPARE_BRANCH",
    help="Git ref to diff against (merge-base). Default with a diff floor in a PR: origin/$GITHUB_BASE_REF.",
)
@click.option("--jobs", type=int, envvar="CI_HELPER_JOBS", help="Analysis processes (default: CPU count).")
@click.option(
    "--json-out", envvar="CI_HELPER_COVERAGE_JSON", type=click.Path(dir_okay=False), help="Write the JSON report here."
)
@click.option(
    "--markdown-out",
    envvar="CI_HELPER_COVERAGE_MARKDOWN",
    type=click.Path(dir_okay=False),
    help="Write the markdown section here.",
)
@click.option(
    "--step-summary/--no-step-summary",
    default=False,
    envvar="CI_HELPER_COVERAGE_STEP_SUMMARY",
    help="Also append the markdown section to $GITHUB_STEP_SUMMARY.",
)
@click.option(
    "--measure",
    type=click.Choice(["tests", "tests+server"]),
    envvar="CI_HELPER_MEASURE",
    help="What the data measured: declared and shown in every output.",
)
@click.option(
    "--rcfile",
    envvar="CI_HELPER_COVERAGE_RCFILE",
    type=click.Path(dir_okay=False),
    help="coverage configuration file (default: coverage's own search).",
)
@click.option("--results-dir", type=click.Path(file_okay=False), help="Where to write the check result.")
def gate(
    data_files: tuple[str, ...],
    combine: bool | None,
    fail_under: float | None,
    per_file_fail_under: float | None,
    diff_fail_under: float | None,
    compare_branch: str | None,
    jobs: int | None,
    json_out: str | None,
    markdown_out: str | None,
    step_summary: bool,
    measure: str | None,
    rcfile: str | None,
    results_dir: str | None,
) -> None:
    """Total, per-file and changed-lines coverage gates from ONE analysis; JSON and markdown reports."""
    import os

    from ci_helper import gha, results, settings as settings_mod
    from ci_helper.errors import BadInput
    from ci_helper.gates.coverage import annotations, gate as gate_mod, json_report, markdown

    settings = settings_mod.load(".")
    conf = settings_mod.merge(
        settings.coverage,
        data_files=list(data_files) or None,
        combine=combine,
        fail_under=fail_under,
        per_file_fail_under=per_file_fail_under,
        diff_fail_under=diff_fail_under,
        compare_branch=compare_branch or None,
        jobs=jobs,
        json_out=json_out or None,
        markdown_out=markdown_out or None,
        measure=measure,
        rcfile=rcfile or None,
    )
    # In a pull request with a changed-lines floor, the base branch is the natural compare branch.
    base_ref = os.environ.get("GITHUB_BASE_REF") if conf.diff_fail_under is not None else None
    options = gate_mod.GateOptions(
        data_files=list(conf.data_files),
        combine=conf.combine,
        fail_under=conf.fail_under,
        per_file_fail_under=conf.per_file_fail_under,
        diff_fail_under=conf.diff_fail_under,
        compare_branch=conf.compare_branch or (f"origin/{base_ref}" if base_ref else None),
        jobs=conf.jobs,
        measure=conf.measure,
        rcfile=conf.rcfile,
    )
    out_dir = results.results_dir(results_dir, settings.results_dir)
    results.start(gate_mod.CHECK, out_dir)
    try:
        if options.diff_fail_under is not None and not options.compare_branch:
            raise BadInput("--diff-fail-under needs --compare-branch REF (the branch the change will merge into)")
        report = gate_mod.analyse(options, settings)
        verdict = gate_mod.evaluate(report, options)
    except BadInput as exc:
        # Unreadable input still leaves a red result behind: no data is never a pass.
        results.write_result(gate_mod.input_failure(exc), out_dir)
        gha.set_output("verdict", results.FAIL)
        raise

    json_path = conf.json_out
    md_path = conf.markdown_out
    section = markdown.render(report, verdict)
    writers: tuple[tuple[str | None, Callable[[], str]], ...] = (
        (json_path, lambda: json_report.dumps(report, verdict)),
        (md_path, lambda: section),
    )
    for path, text in writers:
        if path:
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                Path(path).write_text(text(), encoding="utf-8")
            except OSError as exc:
                raise BadInput(f"{path}: cannot write report ({exc.strerror or exc})") from None
    results.write_result(verdict.result, out_dir)

    _echo_verdict(report, verdict)
    if gha.in_actions():
        annotations.emit(report, verdict)
    gha.set_output("total", report.totals.pc_covered_str)
    diff_display = report.diff.display if report.diff is not None else None
    gha.set_output("diff", diff_display or "")
    gha.set_output("verdict", verdict.result.status)
    if step_summary:
        gha.append_step_summary(section)
    sys.exit(verdict.result.exit_code)


def _echo_verdict(report: CoverageAnalysis, verdict: Verdict) -> None:
    from ci_helper.gates.coverage import gate as gate_mod

    figures = verdict.result.figures

    def floor(value: float | None) -> str:
        return "no floor" if value is None else f"floor {value:g}%"

    def word(failed: bool, value: float | None) -> str:
        return "" if value is None else (": FAIL" if failed else ": pass")

    click.echo(
        f"coverage: {len(report.data_files)} data file(s), measure={report.measure}, "
        f"branch={'on' if report.branch else 'off'}, {len(report.files)} files"
    )
    click.echo(
        f"coverage: total {verdict.total_shown}% ({floor(verdict.fail_under)})"
        f"{word(verdict.total_failed, verdict.fail_under)}"
    )
    if figures["per_file_fail_under"] is not None:
        failures = verdict.per_file_failures
        click.echo(
            f"coverage: {len(failures)} file(s) under the per-file {floor(figures['per_file_fail_under'])}"
            f"{word(bool(failures), figures['per_file_fail_under'])}"
        )
        for f in failures[:20]:
            click.echo(
                f"  {f.name}: {gate_mod.shown_against(f.numbers.pc_covered, figures['per_file_fail_under'], report.precision)}%"
            )
    d = report.diff
    if d is not None:
        shown = f"{verdict.diff_shown}% of {d.statements} changed statements" if d.statements else d.describe_empty()
        click.echo(
            f"coverage: changed lines vs {d.compare_branch}: {shown} ({floor(figures['diff_fail_under'])})"
            f"{word(verdict.diff_failed, figures['diff_fail_under'])}"
        )
    for finding in verdict.result.findings:
        if finding.rule in ("coverage-server-missing", "coverage-subprocess-unpatched", "coverage-contexts-dropped"):
            click.echo(f"coverage: {finding.severity}: {finding.message}")
    click.echo(f"coverage: {verdict.result.status}")


@command.command("erase")
@click.option(
    "--rcfile",
    envvar="CI_HELPER_COVERAGE_RCFILE",
    type=click.Path(dir_okay=False),
    help="coverage configuration file (default: coverage's own search).",
)
def erase(rcfile: str | None) -> None:
    """Delete the coverage data file and its parallel files written before this run started.

    Without a run start marker (a bare local call) every one of them goes. Run it before
    the step that writes the data, so the gate never combines an earlier run's.
    """
    from coverage import Coverage
    from coverage.exceptions import ConfigError

    from ci_helper import run_start
    from ci_helper.errors import BadInput
    from ci_helper.gates.coverage import inputs

    try:
        data_file = str(Coverage(config_file=rcfile or True).get_option("run:data_file"))
    except ConfigError as exc:
        raise BadInput(f"coverage configuration: {exc}") from None
    started = run_start.started_at()
    try:
        removed = inputs.erase(data_file, started)
    except OSError as exc:
        raise BadInput(f"{exc.filename}: cannot delete coverage data ({exc.strerror})") from None
    since = f" written before this run started ({run_start.iso(started)})" if started is not None else ""
    names = ": " + ", ".join(str(p) for p in removed) if removed else ""
    click.echo(f"coverage erase: {len(removed)} data file(s){since} removed{names}")
