"""``ci-helper init [PATH] [--force] [--shards N]``: scaffold a project's pinned workflows and settings."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("init")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite workflow files that already exist.")
@click.option(
    "--shards",
    type=int,
    default=0,
    metavar="N",
    help="Split the quality tests into N shard jobs with one verdict job (the reusable quality workflow).",
)
@click.option(
    "--repository",
    default=None,
    metavar="OWNER/NAME",
    help="The project's GitHub repository (default: [tool.ci-helper] repository, then the origin remote).",
)
@click.option("--python-version", default="3.12", show_default=True, help="The Python version the workflows set up.")
@click.option(
    "--install",
    default=None,
    metavar="CMD",
    help="Command that installs the project's test tools (default: pip install -r requirements-dev.txt when "
    "the project has one, else python -m pip install -e . pytest coverage).",
)
@click.option(
    "--self-ref",
    default=None,
    metavar="REF",
    help="ci-helper commit to pin our actions to (default: the tag v<version>, else HEAD of ci-helper's repository).",
)
@click.option(
    "--repo-dir",
    default=None,
    envvar="CI_HELPER_SELF_REPO",
    metavar="DIR",
    help="ci-helper's git repository (default: the checkout ci-helper runs from).",
)
def command(
    path: Path,
    force: bool,
    shards: int,
    repository: str | None,
    python_version: str,
    install: str | None,
    self_ref: str | None,
    repo_dir: str | None,
) -> None:
    """Write .github/workflows/quality.yml (and smoke.yml when [tool.ci-helper.smoke] declares a server).

    Every job starts with our guardrails; stub repositories are created when the
    code imports heavy packages and a stub manifest exists; every action is pinned
    to a commit SHA with its version in a comment. A [tool.ci-helper] block is
    appended to pyproject.toml when it has none. Nothing is overwritten without
    --force. Exit 0 written, 2 bad input (nothing written).
    """
    from ci_helper import init

    options = init.Options(
        force=force,
        shards=shards,
        repository=repository,
        python_version=python_version,
        install=install,
        self_ref=self_ref,
        repo_dir=repo_dir,
    )
    the_plan = init.plan(path, options)
    init.write(the_plan)
    for output in the_plan.outputs:
        click.echo(f"{output.action} {output.path}" + (f" ({output.what})" if output.what else ""))
    click.echo(
        f"pinned truthful-ci/ci-helper to {the_plan.sha} ({the_plan.tag}); "
        + ", ".join(f"{name} to {sha} ({tag})" for name, (sha, tag) in init.THIRD_PARTY.items())
    )
    for note in the_plan.notes:
        click.echo(f"note: {note}")
    click.echo(f"next: ci-helper verify {path} && ci-helper verify --run {path}")
    sys.exit(0)
