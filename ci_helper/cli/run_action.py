"""``ci-helper run-action DIR``: run a composite action locally (parses and dispatches only)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from ci_helper.errors import BadInput

if TYPE_CHECKING:
    from pathlib import Path


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInput(f"{flag} expects KEY=VALUE, got '{item}'")
        result[key] = value
    return result


@click.command(name="run-action")
@click.argument("action_dir", type=click.Path(path_type=str))
@click.option("--input", "inputs", multiple=True, metavar="K=V", help="An input of the action (repeatable).")
@click.option("--env", "envs", multiple=True, metavar="K=V", help="An env: entry of the calling step (repeatable).")
@click.option("--event-name", default="push", show_default=True, help="github.event_name.")
@click.option(
    "--event-path",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="JSON webhook payload (github.event).",
)
@click.option("--repository", default="local/repository", show_default=True, help="owner/repo.")
@click.option("--ref", default="refs/heads/main", show_default=True, help="github.ref.")
@click.option("--sha", default="0" * 40, help="github.sha (default: 40 zeros).")
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    help="GITHUB_WORKSPACE (default: the current folder).",
)
@click.option(
    "--stub-remote",
    "stubs",
    multiple=True,
    metavar="OWNER/REPO=DIR",
    help="Run remote uses: OWNER/REPO/...@ref from a local folder (repeatable).",
)
@click.option(
    "--outputs-json",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Write {outputs, steps} as JSON here.",
)
@click.option(
    "--summary-out",
    type=click.Path(dir_okay=False, path_type=str),
    default=None,
    help="Write the concatenated step summaries here (default: print them at the end).",
)
def command(
    action_dir: str,
    inputs: tuple[str, ...],
    envs: tuple[str, ...],
    event_name: str,
    event_path: str | None,
    repository: str,
    ref: str,
    sha: str,
    workspace: str | None,
    stubs: tuple[str, ...],
    outputs_json: str | None,
    summary_out: str | None,
) -> None:
    """Run the composite action in ACTION_DIR (or that action.yml) with GitHub's expression and step semantics.

    Exit 0 when the action succeeded, 1 when it failed, 2 for bad input, 130 when interrupted.
    """
    import json
    import signal
    import threading
    from pathlib import Path

    from ci_helper.runner import run_action

    stub_map = _pairs(stubs, "--stub-remote")
    for slug in stub_map:
        if slug.count("/") != 1:
            raise BadInput(f"--stub-remote expects OWNER/REPO=DIR, got '{slug}'")

    def terminate(signum: int, frame: object) -> None:  # SIGTERM stops the step's process group like Ctrl-C does
        raise KeyboardInterrupt

    # Signal handlers can only be set from the main thread (an embedding caller may use another).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, terminate) if main_thread else None
    try:
        result = run_action(
            action_dir,
            _pairs(inputs, "--input"),
            workspace=workspace,
            event_name=event_name,
            event_path=event_path,
            repository=repository,
            ref=ref,
            sha=sha,
            env=_pairs(envs, "--env"),
            stub_remotes=stub_map,
        )
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    click.echo(f"outcome: {result.outcome}")
    for name, value in result.outputs.items():
        click.echo(f"output {name}: {value}")
    for reason in result.skipped:
        click.echo(f"skipped: {reason}")
    if outputs_json:
        _write(Path(outputs_json), json.dumps(result.to_json(), indent=2) + "\n", "--outputs-json")
    if summary_out:
        _write(Path(summary_out), result.summary, "--summary-out")
    elif result.summary:
        click.echo("--- step summary ---")
        click.echo(result.summary, nl=not result.summary.endswith("\n"))
    sys.exit(result.exit_code)


def _write(path: Path, text: str, flag: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {flag} {path}: {exc.strerror or exc}") from None
