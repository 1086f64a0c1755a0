"""`ci-helper artifact upload|download`: the dry run's stand-ins for actions/upload-artifact and download-artifact."""

from __future__ import annotations

import sys

import click


@click.group(name="artifact")
def command() -> None:
    """Artifacts of a local dry run (`verify --run` maps actions/upload-artifact and download-artifact here)."""


def _flag(value: str, what: str) -> bool:
    from ci_helper.errors import BadInput

    text = value.strip().lower()
    if text in ("true", "false", ""):
        return text == "true"
    raise BadInput(f"{what}: '{value}' is not a boolean; give true or false")


@command.command(name="upload")
@click.option("--name", default="artifact", envvar="ARTIFACT_NAME", show_default=True, help="The artifact's name.")
@click.option("--path", "paths", required=True, envvar="ARTIFACT_PATH", help="Files, folders or globs, one per line.")
@click.option("--include-hidden-files", default="false", envvar="ARTIFACT_INCLUDE_HIDDEN_FILES", metavar="BOOL")
@click.option("--if-no-files-found", default="warn", envvar="ARTIFACT_IF_NO_FILES_FOUND", metavar="warn|error|ignore")
@click.option("--overwrite", default="false", envvar="ARTIFACT_OVERWRITE", metavar="BOOL")
@click.option("--workspace", default=".", envvar="GITHUB_WORKSPACE", metavar="DIR", help="Relative paths start here.")
def upload_command(
    name: str, paths: str, include_hidden_files: str, if_no_files_found: str, overwrite: str, workspace: str
) -> None:
    """Store files as an artifact of this dry run (actions/upload-artifact v4 rules, docs/verify.md)."""
    import os
    from pathlib import Path

    from ci_helper import gha
    from ci_helper.dry_run import artifacts

    store = artifacts.store_from_env()
    canonical = os.environ.get(artifacts.WORKSPACE_ENV) or None
    try:
        done = artifacts.upload(
            store,
            name,
            paths,
            Path(workspace).resolve(),
            include_hidden_files=_flag(include_hidden_files, "include-hidden-files"),
            if_no_files_found=if_no_files_found.strip() or "warn",
            overwrite=_flag(overwrite, "overwrite"),
            canonical_workspace=Path(canonical) if canonical else None,
        )
    except artifacts.ArtifactError as exc:
        click.echo(f"Error: {exc}")
        sys.exit(1)
    if done.hidden_left_out:
        click.echo(
            f"left out {len(done.hidden_left_out)} hidden file(s) (include-hidden-files is false): "
            + ", ".join(done.hidden_left_out[:10])
            + (" ..." if len(done.hidden_left_out) > 10 else "")
        )
    if done.warning:
        click.echo(f"Warning: {done.warning}")
        return
    if done.files:
        click.echo(f"uploaded artifact '{done.name}': {len(done.files)} file(s) from {done.root}")
        gha.set_output("artifact-id", done.name)


@command.command(name="download")
@click.option("--name", default="", envvar="ARTIFACT_NAME", help="One artifact (default: every one, or --pattern).")
@click.option("--pattern", default="", envvar="ARTIFACT_PATTERN", help="Artifacts whose name matches this glob.")
@click.option("--path", "path", default="", envvar="ARTIFACT_DOWNLOAD_PATH", help="Where to (default: workspace).")
@click.option("--merge-multiple", default="false", envvar="ARTIFACT_MERGE_MULTIPLE", metavar="BOOL")
@click.option("--workspace", default=".", envvar="GITHUB_WORKSPACE", metavar="DIR", help="Relative paths start here.")
def download_command(name: str, pattern: str, path: str, merge_multiple: str, workspace: str) -> None:
    """Copy artifacts of this dry run into a folder (actions/download-artifact v4 rules, docs/verify.md)."""
    import os
    from pathlib import Path

    from ci_helper import gha
    from ci_helper.dry_run import artifacts

    store = artifacts.store_from_env()
    target = Path(os.path.expanduser(path)) if path.strip() else Path(workspace)
    if not target.is_absolute():
        target = Path(workspace) / target
    try:
        names = artifacts.download(
            store, target, name=name, pattern=pattern, merge_multiple=_flag(merge_multiple, "merge-multiple")
        )
    except artifacts.ArtifactError as exc:
        click.echo(f"Error: {exc}")
        sys.exit(1)
    click.echo(f"downloaded {len(names)} artifact(s) to {target}" + (f": {', '.join(names)}" if names else ""))
    gha.set_output("download-path", str(target))
