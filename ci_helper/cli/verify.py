"""``ci-helper verify [PATH] [--format text|json|sarif|github] [--run ...]``: static rules; ``--run`` also runs the tiers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ci_helper.dry_run.event import EVENTS  # the events `--run` simulates

FORMATS = ("text", "json", "sarif", "github")


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    from ci_helper.errors import BadInput

    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"{flag} expects KEY=VALUE, got '{value}'")
        pairs[key.strip()] = rest
    return pairs


@click.command("verify")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    envvar="CI_HELPER_VERIFY_FORMAT",
    help="Output format (default: github inside GitHub Actions, text elsewhere).",
)
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the 'verify' check result (default: .ci-helper/results).",
)
@click.option(
    "--run",
    "dry_run",
    is_flag=True,
    default=False,
    help="Also run the jobs that use ci-helper's actions locally, then print the PR's summary.",
)
@click.option(
    "--event",
    type=click.Choice(EVENTS),
    default="pull_request",
    show_default=True,
    help="With --run: the simulated event.",
)
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="K=V",
    help="With --run and --event workflow_dispatch or workflow_call: a workflow input (repeatable).",
)
@click.option(
    "--matrix",
    "matrix",
    multiple=True,
    metavar="K=V",
    help="With --run: only the matrix combinations with this value (repeatable; default: every one).",
)
@click.option(
    "--python",
    "python",
    default=None,
    metavar="PYTHON",
    help="With --run: the project's interpreter for the jobs' steps (default: [tool.ci-helper] python, "
    "the active virtualenv, .venv, else a throwaway virtualenv per job).",
)
@click.option(
    "--stub-remote",
    "stub_remotes",
    multiple=True,
    metavar="OWNER/REPO=DIR",
    help="With --run: run another remote action from a local folder (repeatable).",
)
@click.option(
    "--base-branch",
    default=None,
    metavar="B",
    help="With --run: the pull request's base (or pushed) branch (default: [tool.ci-helper] default-branch).",
)
@click.option(
    "--repository",
    default=None,
    metavar="OWNER/NAME",
    help="With --run: the repository of the simulated event (default: [tool.ci-helper] repository).",
)
@click.option("--job", "jobs", multiple=True, metavar="J", help="With --run: only this job id (repeatable).")
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --run: how many matrix jobs of a called workflow (shards) run side by side (default: CPU count).",
)
def command(
    path: Path,
    fmt: str | None,
    results_dir: Path | None,
    dry_run: bool,
    event: str,
    inputs: tuple[str, ...],
    matrix: tuple[str, ...],
    python: str | None,
    stub_remotes: tuple[str, ...],
    base_branch: str | None,
    repository: str | None,
    jobs: tuple[str, ...],
    parallel: int | None,
) -> None:
    """Check every workflow and action.y*ml under PATH: unpinned uses, muted gates, missing guardrails, missing permissions.

    With --run, then run the jobs that use ci-helper's actions through the local
    action runner with a simulated event, and print the summary the PR would get.

    Exit 0 when there is no error finding (with --run: green), 1 when there is (red), 2 on bad input,
    130 when interrupted.
    """
    if dry_run:
        source = click.get_current_context().get_parameter_source("fmt")
        if fmt is not None and source == click.core.ParameterSource.COMMANDLINE:
            from ci_helper.errors import BadInput

            raise BadInput("--format does not apply to --run: it prints the run's summary (see ci-helper summary)")
        options = {
            "event": event,
            "base_branch": base_branch,
            "repository": repository,
            "jobs": jobs,
            "inputs": _pairs(inputs, "--input"),
            "matrix": _pairs(matrix, "--matrix"),
            "python": python,
            "stub_remotes": _pairs(stub_remotes, "--stub-remote"),
            "parallel": parallel,
        }
        _dry_run(path, options, results_dir)
    elif (
        jobs
        or base_branch
        or repository
        or event != "pull_request"
        or inputs
        or matrix
        or python
        or stub_remotes
        or parallel
    ):
        from ci_helper.errors import BadInput

        raise BadInput(
            "--event, --input, --matrix, --python, --stub-remote, --base-branch, --repository, --job and "
            "--parallel need --run"
        )
    from ci_helper.verify import run

    sys.exit(run(path, fmt, results_dir, lambda text: click.echo(text, nl=False)))


def _dry_run(path: Path, options: dict[str, Any], results_dir: Path | None) -> None:
    import signal
    import threading

    from ci_helper.dry_run import DryRunOptions, dry_run
    from ci_helper.errors import BadInput
    from ci_helper.summary import render_text

    if results_dir is not None:
        raise BadInput(
            "--results-dir does not apply to --run: results go to the project's results folder "
            "([tool.ci-helper] results-dir), emptied first"
        )

    def terminate(
        signum: int, frame: object
    ) -> None:  # SIGTERM stops the running step's process group like Ctrl-C does
        raise KeyboardInterrupt

    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminate) if main_thread else None
    try:
        outcome = dry_run(path, DryRunOptions(**options))
    except KeyboardInterrupt:
        click.echo("dry run interrupted", err=True)
        sys.exit(130)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    click.echo("")
    for line in outcome.skipped_lines():
        click.echo(line)
    if outcome.interrupted:
        click.echo("dry run interrupted: the running step's process group was stopped", err=True)
        sys.exit(130)
    click.echo(render_text(outcome.run), nl=False)
    if outcome.report is not None:
        click.echo(f"report: {outcome.report} ({outcome.report_verdict})")
    sys.exit(outcome.exit_code)
