"""`ci-helper guard`: runtime guardrails (repository, base branch, ref, event, forks, pins)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

# Actions hand their inputs over in these variables (never pasted into a shell
# line); a list variable holds values separated by commas, spaces or newlines.
ENV_PREFIX = "CI_HELPER_GUARD_"


@click.command("guard")
@click.option(
    "--repository",
    "repositories",
    multiple=True,
    envvar=ENV_PREFIX + "REPOSITORIES",
    metavar="OWNER/NAME",
    help="Repository the pipeline may run in (repeatable).",
)
@click.option(
    "--base-branch",
    "base_branches",
    multiple=True,
    envvar=ENV_PREFIX + "BASE_BRANCHES",
    metavar="BRANCH",
    help="Branch a pull request may target; glob patterns allowed (repeatable).",
)
@click.option(
    "--ref",
    "refs",
    multiple=True,
    envvar=ENV_PREFIX + "REFS",
    metavar="REF",
    help="Ref a non-PR event may run on: a branch name or a full refs/... pattern (repeatable).",
)
@click.option(
    "--event",
    "events",
    multiple=True,
    envvar=ENV_PREFIX + "EVENTS",
    metavar="EVENT",
    help="Event that may trigger the pipeline (repeatable).",
)
@click.option(
    "--forks",
    type=click.Choice(["allow", "refuse"]),
    default=None,
    envvar=ENV_PREFIX + "FORKS",
    help="Whether pull requests from forks may run.",
)
@click.option(
    "--pins/--no-pins",
    default=None,
    envvar=ENV_PREFIX + "PINS",
    help="Also fail on remote actions not pinned to a commit SHA (needs the checkout).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    envvar=ENV_PREFIX + "ROOT",
    show_default=True,
    help="Project folder: its pyproject.toml and, with --pins, its workflows and actions.",
)
@click.option(
    "--results-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write guardrails.json (default: $CI_HELPER_RESULTS_DIR or settings).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "github"]),
    default=None,
    help="Output style; github (annotations) is the default inside GitHub Actions.",
)
def command(
    repositories: tuple[str, ...],
    base_branches: tuple[str, ...],
    refs: tuple[str, ...],
    events: tuple[str, ...],
    forks: str | None,
    pins: bool | None,
    root: Path,
    results_dir: str | None,
    output_format: str | None,
) -> None:
    """Refuse to run where this pipeline must not (reads GITHUB_* env; flags override settings)."""
    from ci_helper import gha, results, settings as settings_module
    from ci_helper.errors import BadInput
    from ci_helper.gates import guard

    github = (output_format or ("github" if gha.in_actions() else "text")) == "github"
    # Until the settings are read, results go where the flag or environment says.
    folder = results.results_dir(results_dir)
    try:
        settings = settings_module.load(root)
        folder = results.results_dir(results_dir, settings.results_dir)
        results.start(guard.CHECK, folder)
        policy = guard.merge_policy(settings, repositories, base_branches, refs, events, forks, pins)
        result = guard.run(policy, guard.GuardContext.from_env(), root=root, settings=settings)
    except BadInput as exc:
        # The summary must show that the guard did not decide, not leave it out.
        results.write_result(results.not_run(guard.CHECK, exc.message), folder)
        if github:
            gha.emit_annotation("error", exc.message, title="Guardrail: bad input")
        raise
    path = results.write_result(result, folder)
    guard.announce(result, path, github, click.echo)
    sys.exit(result.exit_code)
