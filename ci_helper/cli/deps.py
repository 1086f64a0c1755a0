"""`ci-helper deps verify`: pinned requirements match the installed environment."""

from __future__ import annotations

import sys

import click


@click.group(name="deps")
def command() -> None:
    """Check installed dependencies against requirements files."""


@command.command(name="verify")
@click.argument("requirements", nargs=-1, envvar="CI_HELPER_DEPS_REQUIREMENTS")
@click.option(
    "--python",
    "python",
    envvar="CI_HELPER_DEPS_PYTHON",
    metavar="PATH",
    help="Interpreter of the environment to check (default: the one running ci-helper).",
)
@click.option(
    "--installed-from",
    metavar="SNAPSHOT",
    envvar="CI_HELPER_DEPS_INSTALLED_FROM",
    help="Compare with a pip-freeze-style snapshot instead of a live environment (markers: --python or this interpreter).",
)
@click.option(
    "--snapshot-out",
    metavar="FILE",
    envvar="CI_HELPER_DEPS_SNAPSHOT",
    help="Write a pip-freeze-style snapshot of the environment to FILE.",
)
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper.deps].",
)
@click.option(
    "--results-dir", metavar="DIR", help="Where to write deps.json (default: settings, then .ci-helper/results)."
)
def verify_command(
    requirements: tuple[str, ...],
    python: str | None,
    installed_from: str | None,
    snapshot_out: str | None,
    project_dir: str,
    results_dir: str | None,
) -> None:
    """Every requirement in REQUIREMENTS (files) is installed at the pinned version.

    Follows -r/-c includes, honours environment markers, accepts --hash
    options. Exit 0 when all match, 1 on a mismatch or a missing package,
    2 on bad input (missing file, unparsable line).
    """
    from pathlib import Path

    from ci_helper import gha, results, settings
    from ci_helper.errors import BadInput
    from ci_helper.gates import deps

    config = settings.load(project_dir)
    folder = results.results_dir(results_dir, config.results_dir)
    results.start(deps.CHECK, folder)
    files = list(requirements) or list(config.deps.requirements)
    if not files:
        raise BadInput("no requirements file given; pass REQUIREMENTS or set [tool.ci-helper.deps] requirements")
    if not requirements and config.project_root is not None:
        files = [str(config.project_root / f) for f in files]
    lines = deps.read_requirements(files)
    if installed_from:
        env = deps.environment_from_snapshot(installed_from, python)
    else:
        env = deps.inspect_environment(python)
    result = deps.verify(lines, env, files)

    if snapshot_out:
        try:
            Path(snapshot_out).parent.mkdir(parents=True, exist_ok=True)
            Path(snapshot_out).write_text(deps.snapshot(env), encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"--snapshot-out {snapshot_out}: cannot write ({exc.strerror or exc})") from None

    results.write_result(result, folder)
    for finding in result.findings:
        where = finding.location()
        click.echo(f"{where}: {finding.message}" if where else finding.message)
        if gha.in_actions():
            gha.annotate_finding(finding, "deps verify")
    f = result.figures
    if result.reason:
        click.echo(f"deps: {result.status} - {result.reason}")
        sys.exit(result.exit_code)
    click.echo(
        f"deps: {result.status} - {f['matched']} matched, {f['mismatched']} mismatched, {f['missing']} missing, "
        f"{f['not_applicable']} not for this environment (markers), in {env.python}"
    )
    sys.exit(result.exit_code)
