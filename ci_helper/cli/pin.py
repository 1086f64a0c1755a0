"""``ci-helper pin [PATH] [--check]``: pin every remote ``uses:`` to the commit SHA of its tag or branch."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("pin")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; list what would change and exit 1 if anything would.")
@click.option(
    "--update",
    is_flag=True,
    help="Also re-resolve the version in the comment of already pinned uses (@<sha> # v4) and move the SHA.",
)
@click.option(
    "--self",
    "self_ref",
    default=None,
    metavar="REF",
    help="Move every reference to ci-helper's own actions and workflows (truthful-ci/ci-helper/...@...) "
    "in workflows, actions and Markdown to the commit of REF in ci-helper's local git repository (offline).",
)
@click.option(
    "--repo-dir",
    default=None,
    envvar="CI_HELPER_SELF_REPO",
    type=click.Path(path_type=Path),
    help="With --self: ci-helper's git repository (default: the checkout ci-helper runs from).",
)
def command(path: Path, check: bool, update: bool, self_ref: str | None, repo_dir: Path | None) -> None:
    """Pin every remote uses: under PATH (workflows and action.y*ml files, or one file) to a commit SHA.

    Each owner/repo[/path]@ref whose ref is a tag, branch or short SHA becomes
    owner/repo[/path]@<40-hex sha> # <ref>, edited in place: the rest of the
    file keeps every byte. Already pinned uses are left alone (--update
    re-resolves the version their comment names). Refs resolve
    through the GitHub API (GITHUB_API_URL, GITHUB_TOKEN optional); files are
    written only after every ref resolved. Exit 0 done or nothing to do, 1 with
    --check when something would change, 2 on bad input or an API failure.
    """
    from ci_helper import pin, settings
    from ci_helper.errors import BadInput

    if self_ref is not None:
        if update:
            raise BadInput("--update resolves tags through GitHub; --self pins to a local commit: use one of them")
        _pin_self(path, self_ref, repo_dir, check)
    elif (
        repo_dir is not None
        and click.get_current_context().get_parameter_source("repo_dir") == click.core.ParameterSource.COMMANDLINE
    ):
        raise BadInput("--repo-dir needs --self REF")
    exclude = settings.load(path).verify.exclude if path.is_dir() else []
    files = pin.scan(path, exclude)
    for pin_file in files:
        for why in pin_file.skipped:
            click.echo(f"pin: skipped {why}", err=True)
    items = pin.wanted(files, update)
    resolved = pin.resolve(items) if items else {}
    changes = pin.plan(items, lambda repo, ref: resolved[(repo, ref)])
    edits = pin.edits(files, changes)
    for edit in edits:
        for change in edit.changes:
            click.echo(f"{edit.file.rel}:{change.site.line}: {change.old} -> {change.new}")
    sites = sum(len(f.sites) for f in files)
    if not changes:
        click.echo(f"nothing to pin: {sites} remote uses in {len(files)} files, all pinned to a commit SHA")
        sys.exit(0)
    if check:
        again = "ci-helper pin --update" if update else "ci-helper pin"
        click.echo(f"{len(changes)} uses in {len(edits)} files would be pinned; run {again} to rewrite them")
        sys.exit(1)
    for edit in edits:
        pin.write(edit)
    click.echo(f"pinned {len(changes)} uses in {len(edits)} files")
    sys.exit(0)


def _pin_self(path: Path, ref: str, repo_dir: Path | None, check: bool) -> None:
    from ci_helper import pin_self, release, settings

    repo = release.self_repository(repo_dir)
    exclude = settings.load(path).verify.exclude if path.is_dir() else []
    the_plan = pin_self.plan(path, repo, ref, exclude)
    for why in the_plan.skipped:
        click.echo(f"pin: skipped {why}", err=True)
    for edit in the_plan.edits:
        click.echo(f"{edit.rel}:{edit.line}: {edit.old} -> {edit.new}")
    target = f"{the_plan.sha} ({the_plan.tag})" if ref == the_plan.sha else f"{ref} = {the_plan.sha} ({the_plan.tag})"
    if not the_plan.edits:
        click.echo(
            f"nothing to pin: {the_plan.references} references to {release.OUR_REPOSITORY} in "
            f"{the_plan.files} files, all at {target}"
        )
        sys.exit(0)
    files = len(the_plan.new_bytes)
    if check:
        click.echo(
            f"{len(the_plan.edits)} references in {files} files would move to {target}; "
            f"run ci-helper pin --self {ref} to rewrite them"
        )
        sys.exit(1)
    pin_self.write(the_plan.new_bytes)
    click.echo(f"pinned {len(the_plan.edits)} references in {files} files to {target}")
    sys.exit(0)
