"""`ci-helper skips`: skipped tests by reason against their budgets (docs/skips.md)."""

from __future__ import annotations

import sys

import click


@click.command(name="skips")
@click.option(
    "--junit",
    "junit_files",
    multiple=True,
    envvar="CI_HELPER_SKIPS_JUNIT",
    metavar="FILE",
    help="A JUnit file the tier wrote (repeatable). Default: [tool.ci-helper.summary] junit.",
)
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper.skips].",
)
@click.option(
    "--results-dir", metavar="DIR", help="Where to write skips.json (default: settings, then .ci-helper/results)."
)
def command(junit_files: tuple[str, ...], project_dir: str, results_dir: str | None) -> None:
    """Group skipped tests by reason; fail when a reason pattern or the total is over its budget."""
    from pathlib import Path

    from ci_helper import gha, junit, results, settings
    from ci_helper.gates import skips

    config = settings.load(project_dir)
    skips.validate(config.skips)
    folder = results.results_dir(results_dir, config.results_dir)
    paths = [Path(p) for p in (junit_files or config.summary.junit)]
    earlier = skips.earlier_files(folder, paths)
    if earlier:
        click.echo(
            f"skips: also judging the JUnit files an earlier tier of this run wrote: {', '.join(map(str, earlier))}"
        )
    paths = earlier + paths
    results.write_result(results.not_run(skips.CHECK, "started, no verdict yet"), folder)
    try:
        result = skips.evaluate(paths, config.skips)
    except junit.JUnitError as exc:
        # An unreadable JUnit file still leaves a red result behind: no verdict is never a pass.
        results.write_result(skips.input_failure(exc, paths, config.skips), folder)
        raise
    results.write_result(result, folder)
    for finding in result.findings:
        click.echo(finding.message)
        if gha.in_actions():
            gha.annotate_finding(finding, "skips")
    f = result.figures
    if result.status == results.NOT_RUN:
        click.echo(f"skips: not-run - {result.reason}")
    elif f.get("tests") is None:
        click.echo(f"skips: {result.status} - {result.reason}")
    else:
        budgets = ", ".join(f"{b['pattern']!r} {b['count']}/{b['budget']}" for b in f["budgets"])
        total = f" (total budget {f['total_budget']})" if f["total_budget"] is not None else ""
        click.echo(
            f"skips: {result.status} - {f['skipped']} of {f['tests']} tests skipped{total}"
            + (f"; budgets: {budgets}" if budgets else "")
        )
        for reason in f["reasons"][:20]:
            click.echo(f"  {reason['count']:>5}  {reason['reason']}")
    sys.exit(result.exit_code)
