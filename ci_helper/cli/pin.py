"""``ci-helper pin [PATH] [--check]``: pin every remote ``uses:`` to the commit SHA of its tag or branch."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command("pin")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; list what would change and exit 1 if anything would.")
@click.option("--update", is_flag=True,
              help="Also re-resolve the version in the comment of already pinned uses (@<sha> # v4) and move the SHA.")
def command(path: Path, check: bool, update: bool) -> None:
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
