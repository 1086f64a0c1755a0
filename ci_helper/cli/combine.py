"""`ci-helper combine`: the aggregate job's one verdict over every shard."""

from __future__ import annotations

import sys

import click


@click.command(name="combine")
@click.argument("folders", nargs=-1, required=True, metavar="ARTIFACT_DIR...")
@click.option(
    "--needs",
    "needs",
    default=None,
    envvar="CI_HELPER_NEEDS",
    metavar="JSON",
    help="${{ toJSON(needs) }}: every needed job must have succeeded (skipped and cancelled are red).",
)
@click.option(
    "--total",
    "total",
    type=int,
    default=None,
    envvar="CI_HELPER_SHARD_TOTAL",
    help="How many shards were planned (default: what the shard results say).",
)
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper].",
)
@click.option(
    "--results-dir", metavar="DIR", help="Where to write combine.json (default: settings, then .ci-helper/results)."
)
def command(
    folders: tuple[str, ...], needs: str | None, total: int | None, project_dir: str, results_dir: str | None
) -> None:
    """Red when a shard is missing, skipped, cancelled or failed, or a test ran in no shard or in two.

    Run it in one job with `if: always()` that needs every shard job, and make that job the
    only required check (docs/combine.md).
    """
    from ci_helper import gha, results, settings
    from ci_helper.gates import combine

    config = settings.load(project_dir)
    folder = results.results_dir(results_dir, config.results_dir)
    results.start(combine.CHECK, folder)
    jobs = combine.parse_needs(needs) if needs else None
    result = combine.evaluate(combine.discover(list(folders)), jobs, total)
    results.write_result(result, folder)
    for finding in result.findings:
        click.echo(finding.message)
        if gha.in_actions():
            gha.annotate_finding(finding, "combine")
    f = result.figures
    click.echo(
        f"combine: {result.status} - {f['shards_found']} of {f['shards_expected']} shards, "
        f"{f['ran']} of {f['collected']} collected tests ran once, {f['not_run']} in no shard, {f['duplicated']} more than once"
    )
    sys.exit(result.exit_code)
