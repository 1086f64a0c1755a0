"""`ci-helper network`: the offline proof of a test tier (docs/offline.md)."""

from __future__ import annotations

import sys

import click


@click.group(name="network")
def command() -> None:
    """Record or block network use, clones and downloads in the tests and the server."""


@command.command(name="env")
@click.option(
    "--log",
    "log",
    required=True,
    envvar="CI_HELPER_NETWORK_LOG",
    metavar="FILE",
    help="Where the tests and the server append their attempts (erased now).",
)
@click.option("--who", default=None, help="Label for attempts outside a test (e.g. server).")
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper.network].",
)
def env_command(log: str, who: str | None, project_dir: str) -> None:
    """Print KEY=VALUE lines that switch the offline hook on; erase LOG if an earlier run wrote it.

    Erasing first means the gate never reads an earlier run's attempts (or their absence).
    """
    from pathlib import Path

    from ci_helper import settings
    from ci_helper.gates import network

    config = settings.load(project_dir)
    path = Path(log)
    network.prepare_log(path)
    for key, value in network.environment(config.network, path, who).items():
        click.echo(f"{key}={value}")


@command.command(name="run", context_settings={"ignore_unknown_options": True})
@click.option(
    "--log",
    "log",
    required=True,
    envvar="CI_HELPER_NETWORK_LOG",
    metavar="FILE",
    help="Where the command's Python processes append their attempts (an earlier run's log is erased).",
)
@click.option("--who", default=None, help="Label for attempts outside a test (e.g. server).")
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper.network].",
)
@click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
def run_command(log: str, who: str | None, project_dir: str, argv: tuple[str, ...]) -> None:
    """Run ARGV (after --) with the offline hook in every Python process it starts; exit with its code."""
    from pathlib import Path

    from ci_helper.gates import network

    # The plain form (`network run [--log F] [--who W] [--project-dir D] -- ARGV`) runs the same
    # function from ci_helper/launcher.py without importing click: this wrapper starts every test tier.
    sys.exit(network.run_hooked(list(argv), Path(log), who, project_dir))


@command.command(name="gate")
@click.option(
    "--log",
    "log",
    required=True,
    envvar="CI_HELPER_NETWORK_LOG",
    metavar="FILE",
    help="The log the offline plugin wrote during the tier.",
)
@click.option(
    "--project-dir",
    default=".",
    show_default=True,
    metavar="DIR",
    help="Folder whose pyproject.toml holds [tool.ci-helper.network].",
)
@click.option(
    "--results-dir", metavar="DIR", help="Where to write network.json (default: settings, then .ci-helper/results)."
)
def gate_command(log: str, project_dir: str, results_dir: str | None) -> None:
    """Fail on any network attempt, clone or download outside the allow-list, naming the test."""
    from pathlib import Path

    from ci_helper import gha, results, settings
    from ci_helper.gates import network

    config = settings.load(project_dir)
    folder = results.results_dir(results_dir, config.results_dir)
    results.start(network.CHECK, folder)
    result = network.evaluate(Path(log), config.network)
    results.write_result(result, folder)
    for finding in result.findings:
        click.echo(finding.message)
        if gha.in_actions():
            gha.annotate_finding(finding, "network")
    f = result.figures
    if result.status == results.NOT_RUN:
        click.echo(f"network: not-run - {result.reason}")
    else:
        click.echo(
            f"network: {result.status} - {f['network']} network attempts, {f['clones']} clones, "
            f"{f['downloads']} downloads (policy {f['policy']})"
        )
    sys.exit(result.exit_code)
