"""`ci-helper shard`: run one balanced, deterministic slice of the collected tests."""

from __future__ import annotations

import sys

import click


@click.command(name="shard", context_settings={"ignore_unknown_options": True})
@click.option(
    "--total", type=int, required=True, envvar="CI_HELPER_SHARD_TOTAL", help="How many shards the suite is split into."
)
@click.option(
    "--index", type=int, required=True, envvar="CI_HELPER_SHARD_INDEX", help="Which shard to run, from 1 to --total."
)
@click.option(
    "--durations",
    "duration_files",
    multiple=True,
    metavar="JUNIT",
    help="JUnit files of earlier runs whose test times balance the split (repeatable; default: split by count).",
)
@click.option(
    "--python",
    "python",
    default=None,
    envvar="CI_HELPER_SHARD_PYTHON",
    metavar="PATH",
    help="The project's interpreter that runs pytest (default: the one running ci-helper).",
)
@click.option(
    "--coverage",
    "coverage",
    is_flag=True,
    default=False,
    envvar="CI_HELPER_SHARD_COVERAGE",
    help="Run the group under `coverage run --parallel-mode` (its .coverage.* files for combine).",
)
@click.option("--project-dir", default=".", show_default=True, metavar="DIR", help="Where pytest runs.")
@click.option(
    "--results-dir", metavar="DIR", help="Where to write shard.json (default: settings, then .ci-helper/results)."
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def command(
    total: int,
    index: int,
    duration_files: tuple[str, ...],
    python: str | None,
    coverage: bool,
    project_dir: str,
    results_dir: str | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Collect the tests, split them into TOTAL groups, run group INDEX: `ci-helper shard --total 3 --index 1 -- tests`.

    Exit 0 when the shard's tests passed, 1 when one failed (or the shard is empty),
    2 on bad input. The shard result names every test of the group for `ci-helper combine`.
    """
    from pathlib import Path

    from ci_helper import results, settings
    from ci_helper.gates import shard

    config = settings.load(project_dir)
    folder = results.results_dir(results_dir, config.results_dir)
    results.start(shard.CHECK, folder)
    result = shard.execute(
        total=total,
        index=index,
        python=python or sys.executable,
        pytest_args=list(pytest_args),
        cwd=Path(project_dir),
        duration_files=list(duration_files),
        coverage=coverage,
    )
    results.write_result(result, folder)
    f = result.figures
    for finding in result.findings:
        click.echo(f"shard: {finding.message}", err=True)
    click.echo(
        f"shard {index}/{total}: {result.status} - {f.get('selected', 0)} of {f.get('collected', 0)} tests"
        + (f", split by {f['strategy']}" if "strategy" in f else "")
    )
    sys.exit(result.exit_code)
