"""`ci-helper report`: the CI run report; with --run-id or --commit, an audit of real GitHub runs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pathlib import Path


@click.command(name="report")
@click.argument("path", default=".", required=False, metavar="[PATH]")
@click.option(
    "--results",
    "results_in",
    default=None,
    metavar="DIR",
    help="Check results to report on (local report; default: settings, then .ci-helper/results under PATH).",
)
@click.option(
    "--junit",
    "junit_files",
    multiple=True,
    metavar="[NAME=]FILE",
    help="JUnit file of a tier, optionally named (repeatable).",
)
@click.option(
    "--base",
    default=None,
    metavar="REF",
    help="Compare with this ref for the changed files (default: origin/<default-branch>).",
)
@click.option("--run-id", type=int, default=None, help="Audit this GitHub Actions run through the API.")
@click.option("--commit", default=None, metavar="SHA", help="Audit every run on this commit.")
@click.option(
    "--repo",
    "repository",
    default=None,
    envvar="GITHUB_REPOSITORY",
    metavar="OWNER/NAME",
    help="The repository of the run (default: $GITHUB_REPOSITORY).",
)
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
@click.option("--out", default=None, metavar="FILE", help="Also write the report to FILE.")
@click.option(
    "--save",
    is_flag=True,
    envvar="CI_HELPER_REPORT_SAVE",
    help="Also write report.md and report.json into the results folder's report/ subfolder.",
)
@click.option(
    "--step-summary",
    is_flag=True,
    envvar="CI_HELPER_REPORT_STEP_SUMMARY",
    help="Also append the markdown report to $GITHUB_STEP_SUMMARY.",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 once the report is written, whatever its verdict (the gates decide the job; bad input is still 2).",
)
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper].",
)
@click.option(
    "--results-dir", metavar="DIR", help="Where to write run-audit.json (default: settings, then .ci-helper/results)."
)
def command(
    path: str,
    results_in: str | None,
    junit_files: tuple[str, ...],
    base: str | None,
    run_id: int | None,
    commit: str | None,
    repository: str | None,
    fmt: str,
    out: str | None,
    save: bool,
    step_summary: bool,
    exit_zero: bool,
    project_dir: str,
    results_dir: str | None,
) -> None:
    """The run report of PATH (default), or with --run-id / --commit an audit of real GitHub runs.

    Exit 0 merge-ready, 1 not merge-ready (or the API could not be asked: not-run), 2 bad input.
    """
    from pathlib import Path

    from ci_helper import github, results, settings
    from ci_helper.errors import BadInput
    from ci_helper.gates import run_audit
    from ci_helper.report import render

    if run_id is None and commit is None:
        _local(
            Path(path),
            results_in,
            list(junit_files),
            base,
            fmt,
            out,
            project_dir,
            save=save,
            step_summary=step_summary,
            exit_zero=exit_zero,
        )
        return
    if save or step_summary or exit_zero:
        raise BadInput("--save, --step-summary and --exit-zero apply to the run report, not to --run-id or --commit")
    if run_id is not None and commit is not None:
        raise BadInput("give one of --run-id ID or --commit SHA (the run or commit to audit), not both")
    if not repository or "/" not in repository:
        raise BadInput("--repo: give the repository as owner/name (or set GITHUB_REPOSITORY)")
    config = settings.load(project_dir)
    folder = results.results_dir(results_dir, config.results_dir)
    results.start(run_audit.CHECK, folder)
    try:
        runs = github.fetch_runs(
            repository,
            run_id=run_id,
            commit=commit,
            token=github.optional_token_from_env(),
            api_url=github.api_url_from_env(),
        )
    except github.ApiFailure as exc:
        result = results.not_run(run_audit.CHECK, f"the GitHub API could not be asked: {exc}")
        results.write_result(result, folder)
        click.echo(f"report: not run - {result.reason}")
        sys.exit(1)
    verdicts = [run_audit.audit(run) for run in runs]
    result = run_audit.check_result(verdicts)
    results.write_result(result, folder)
    overall = result.figures["verdict"]
    text = render.markdown(verdicts, overall) if fmt == "markdown" else render.as_json(verdicts, overall)
    _emit(text, out)
    if result.status == results.NOT_RUN:
        click.echo(f"report: not run - {result.reason}", err=True)
    sys.exit(result.exit_code)


def _local(
    root: Path,
    results_in: str | None,
    junit_files: list[str],
    base: str | None,
    fmt: str,
    out: str | None,
    project_dir: str,
    save: bool,
    step_summary: bool,
    exit_zero: bool,
) -> None:
    from pathlib import Path

    from ci_helper import gha, results, settings
    from ci_helper.report import local, render

    config = settings.load(root if project_dir == "." else project_dir)
    folder = Path(results_in) if results_in else root / results.results_dir(None, config.results_dir)
    report = local.build(root, config, folder, junit_files, base)
    text = render.local_markdown(report) if fmt == "markdown" else render.local_json(report)
    _emit(text, out)
    if save:
        markdown_file, _ = render.save(report, folder)
        click.echo(f"report: {markdown_file} ({report.verdict})", err=True)
    if step_summary:
        gha.append_step_summary(render.within_step_summary(render.local_markdown(report)))
    sys.exit(0 if report.merge_ready or exit_zero else 1)


def _emit(text: str, out: str | None) -> None:
    """Print the report, and write it to ``--out`` too when given."""
    from pathlib import Path

    from ci_helper.errors import BadInput

    if out:
        try:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"--out {out}: cannot write ({exc.strerror or exc})") from None
    click.echo(text, nl=False)
