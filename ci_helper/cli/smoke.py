"""``ci-helper smoke``: parse flags and settings, run the smoke lifecycle, write the result."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ci_helper.gates.smoke.lifecycle import SmokeRun
    from ci_helper.results import CheckResult

ENV = "CI_HELPER_SMOKE_"


@click.command("smoke")
@click.option(
    "--server", envvar=ENV + "SERVER", help="Command that starts the server (split like a shell, run without one)."
)
@click.option(
    "--ready-url",
    envvar=ENV + "READY_URL",
    help="Polled until it answers --ready-status (http/https), or accepts a connection (tcp://host:port).",
)
@click.option("--ready-status", type=int, envvar=ENV + "READY_STATUS", help="HTTP status that means ready [200].")
@click.option("--stop-url", envvar=ENV + "STOP_URL", help="POSTed to stop the server gracefully before any signal.")
@click.option("--timeout", type=float, envvar=ENV + "TIMEOUT", help="Seconds to wait for readiness [60].")
@click.option(
    "--ready-delay",
    type=float,
    envvar=ENV + "READY_DELAY",
    help="Seconds after the start before the first probe [0]; see docs/smoke.md.",
)
@click.option(
    "--stop-timeout",
    type=float,
    envvar=ENV + "STOP_TIMEOUT",
    help="Seconds to wait after the stop request, and again after SIGTERM [10].",
)
@click.option("--log", "log", envvar=ENV + "LOG", help="Server log file [.ci-helper/smoke/server.log].")
@click.option("--junit", envvar=ENV + "JUNIT", help="JUnit file pytest writes [.ci-helper/smoke/junit.xml].")
@click.option(
    "--coverage-data-file",
    envvar=ENV + "COVERAGE_DATA_FILE",
    help="Run the server under `coverage run --data-file=F` (saved on SIGTERM too).",
)
@click.option(
    "--cwd",
    envvar=ENV + "CWD",
    help="Project folder: the server and pytest run here, settings and relative paths are read from here.",
)
@click.option(
    "--base-url",
    envvar=ENV + "BASE_URL",
    help="Given to the tests as CI_HELPER_BASE_URL and PYTEST_BASE_URL (pytest-base-url's base_url) [scheme://host:port of --ready-url].",
)
@click.option(
    "--python",
    envvar=ENV + "PYTHON",
    help="The project's interpreter: runs pytest and fills {python} [the one running ci-helper].",
)
@click.option(
    "--stream/--no-stream",
    default=None,
    envvar=ENV + "STREAM",
    help="Also print the server's output, prefixed with 'server | '.",
)
@click.option("--results-dir", envvar="CI_HELPER_RESULTS_DIR", help="Where the check result goes [.ci-helper/results].")
@click.option(
    "--network-log",
    envvar="CI_HELPER_NETWORK_LOG",
    help="Run the server and the tests with the offline hook, appending attempts to this log "
    "(then `ci-helper network gate --log` judges them; docs/offline.md).",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def command(
    server: str | None,
    ready_url: str | None,
    ready_status: int | None,
    stop_url: str | None,
    timeout: float | None,
    ready_delay: float | None,
    stop_timeout: float | None,
    log: str | None,
    junit: str | None,
    coverage_data_file: str | None,
    cwd: str | None,
    base_url: str | None,
    python: str | None,
    stream: bool | None,
    results_dir: str | None,
    network_log: str | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Start the server, wait until ready, run pytest (after --), stop the server, write the smoke result."""
    from ci_helper import gha, results, settings as settings_mod
    from ci_helper.errors import BadInput
    from ci_helper.gates.smoke import lifecycle, result as smoke_result
    from ci_helper.gates.smoke.environment import default_python

    project = Path(cwd) if cwd else Path(".")
    loaded = settings_mod.load(project)
    folder = results.results_dir(results_dir, loaded.results_dir)
    results.start(smoke_result.CHECK, folder)
    s = settings_mod.merge(
        loaded.smoke,
        server=server,
        ready_url=ready_url,
        ready_status=ready_status,
        stop_url=stop_url,
        timeout=timeout,
        ready_delay=ready_delay,
        stop_timeout=stop_timeout,
        log=log,
        junit=junit,
        coverage_data_file=coverage_data_file,
        base_url=base_url,
        python=python,
        stream=stream,
    )
    if cwd is None and s.cwd:
        project = project / s.cwd

    def path(value: str | None, default: str) -> Path:
        p = Path(value or default)
        return p if p.is_absolute() else project / p

    if not s.server:
        raise BadInput("no server command: pass --server 'CMD' or set server in [tool.ci-helper.smoke]")
    if not s.ready_url:
        raise BadInput("no ready URL: pass --ready-url URL or set ready-url in [tool.ci-helper.smoke]")
    if not math.isfinite(s.ready_delay):
        raise BadInput("--ready-delay must be a finite number of seconds")
    if not (math.isfinite(s.timeout) and math.isfinite(s.stop_timeout)):
        # nan compares false with everything: the readiness wait would never end.
        raise BadInput("--timeout and --stop-timeout must be finite numbers of seconds")
    if s.timeout <= 0 or s.stop_timeout < 0:
        raise BadInput("--timeout must be above 0 and --stop-timeout at least 0 seconds")
    args = list(pytest_args)
    if not args:
        args = _env_pytest_args()
    if not args:
        args = list(s.pytest_args)
    data_file = s.coverage_data_file
    config = lifecycle.SmokeConfig(
        server=s.server,
        ready_url=s.ready_url,
        cwd=project,
        log=path(s.log, ".ci-helper/smoke/server.log"),
        junit=path(s.junit, ".ci-helper/smoke/junit.xml"),
        ready_status=s.ready_status,
        stop_url=s.stop_url or None,
        timeout=s.timeout,
        ready_delay=s.ready_delay,
        stop_timeout=s.stop_timeout,
        coverage_data_file=path(data_file, data_file) if data_file else None,
        pytest_args=args,
        python=s.python or default_python(),
        base_url=s.base_url or None,
        stream=sys.stdout if s.stream else None,
    )
    if network_log:
        from ci_helper.gates import network

        network.prepare_log(Path(network_log))
        config.network_env = network.environment(loaded.network, Path(network_log))
    # Outputs first: the caller's upload step needs the paths even when the run breaks.
    gha.set_output("log", str(config.log.resolve()))
    gha.set_output("junit", str(config.junit.resolve()))

    run = lifecycle.run(config, echo=click.echo)
    check = smoke_result.build(run)
    written = results.write_result(check, folder)
    gha.set_output("result", str(written.resolve()))
    gha.set_output("status", check.status)
    _report(check, run)
    sys.exit(check.exit_code)


def _env_pytest_args() -> list[str]:
    import os

    from ci_helper.errors import BadInput

    raw = os.environ.get(ENV + "PYTEST_ARGS", "")
    try:
        return shlex.split(raw)
    except ValueError as exc:
        raise BadInput(f"{ENV}PYTEST_ARGS={raw!r}: cannot split ({exc}); check its quotes") from None


def _report(check: CheckResult, run: SmokeRun) -> None:
    from ci_helper import gha

    f = check.figures
    if f.get("tests") is not None:
        tests = f"{f['passed']} passed, {f['failed']} failed, {f['skipped']} skipped, {f['errors']} errors"
    else:
        tests = "tests not run"
    if f.get("ready_seconds") is not None:
        ready = f"ready in {f['ready_seconds']:.2f} s"
    else:
        ready = (
            "never ready"
            if f.get("stop") is not None or f.get("server_exit_code") is not None
            else "server not started"
        )
    click.echo(
        f"smoke: {check.status}: {tests}; {ready}; stop: {f.get('stop') or 'none needed'}; "
        f"server exit code {f.get('server_exit_code')}"
    )
    for finding in check.findings:
        where = f" {finding.location()}" if finding.location() else ""
        click.echo(f"  {finding.severity} {finding.rule}{where}: {finding.message}")
        tail = finding.data.get("log_tail")
        if tail:
            for line in tail.splitlines():
                click.echo(f"    | {line}")
        if gha.in_actions():
            gha.annotate_finding(finding, f"smoke: {finding.rule}")
