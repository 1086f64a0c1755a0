"""One smoke run: check the port, start the server, wait until ready, run pytest, stop, record."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from ci_helper import gha, run_start
from ci_helper.errors import BadInput
from ci_helper.gates.coverage.inputs import erase as erase_coverage_data
from ci_helper.gates.smoke import cancellation, command as server_command, pytest_run
from ci_helper.gates.smoke.ports import PortHolder, port_in_use
from ci_helper.gates.smoke.probes import check_stop_url, probe_for
from ci_helper.gates.smoke.process import ServerProcess, StopOutcome
from ci_helper.gates.smoke.readiness import Readiness, wait_ready

LOG_TAIL_LINES = 50


@dataclass
class SmokeConfig:
    """Everything a smoke run needs, with paths already resolved against ``cwd``."""

    server: str
    ready_url: str
    cwd: Path
    log: Path
    junit: Path
    ready_status: int = 200
    stop_url: str | None = None
    timeout: float = 60.0
    stop_timeout: float = 10.0
    coverage_data_file: Path | None = None
    pytest_args: list[str] = field(default_factory=list)
    # The project's interpreter: runs pytest and fills {python} (see environment.default_python).
    python: str = sys.executable
    base_url: str | None = None
    # Seconds before the first readiness probe.
    ready_delay: float = 0.0
    # Where the server's output is streamed, prefixed (None: only to the log file).
    stream: IO[str] | None = None
    # The offline hook's variables (ci_helper.gates.network.environment) for the server and the tests.
    network_env: dict[str, str] = field(default_factory=dict)


@dataclass
class SmokeRun:
    """What happened, for :mod:`ci_helper.gates.smoke.result`."""

    config: SmokeConfig
    ready_url: str
    stop_url: str | None
    base_url: str
    port_holder: PortHolder | None = None
    server_pid: int | None = None
    readiness: Readiness | None = None
    pytest: pytest_run.PytestRun | None = None
    died_during_tests: int | None = None
    stop: StopOutcome | None = None
    log_tail: list[str] = field(default_factory=list)
    coverage_rcfile: Path | None = None
    coverage_config_source: Path | None = None
    coverage_data_written: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def base_url_of(ready_url: str) -> str:
    parts = urlsplit(ready_url)
    scheme = "http" if parts.scheme == "tcp" else parts.scheme
    return f"{scheme}://{parts.netloc}"


def _check_output_file(flag: str, path: Path) -> None:
    """Before the server starts: failing on the log or JUnit path later is a traceback, not a one-line error."""
    if path.is_dir():
        raise BadInput(f"{flag} {path}: is a directory; give a file path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"{flag} {path}: cannot create its folder ({exc.strerror}); give a file path") from None


def run(config: SmokeConfig, echo: Callable[[str], None] = lambda line: None) -> SmokeRun:
    """Run the whole lifecycle; the server is stopped whatever happens, even on Ctrl-C or SIGTERM."""
    began = time.monotonic()
    templated = [config.server, config.ready_url, config.stop_url or "", config.base_url or "", *config.pytest_args]
    port = free_port() if any("{port}" in text for text in templated) else None
    ready_url = server_command.substitute(config.ready_url, port)
    stop_url = server_command.substitute(config.stop_url, port) if config.stop_url else None
    # URLs are checked before anything reads them (base_url_of splits the ready URL).
    probe = probe_for(ready_url, config.ready_status)
    if stop_url:
        check_stop_url(stop_url)
    base_url = server_command.substitute(config.base_url, port) if config.base_url else base_url_of(ready_url)
    command = server_command.parse(server_command.substitute(config.server, port, config.python))
    if config.network_env:
        from ci_helper.offline import WHO_ENV

        command.env.update({**config.network_env, WHO_ENV: "server"})
    pytest_args = [server_command.substitute_test_arg(arg, port, base_url) for arg in config.pytest_args]
    pytest_run.check_args(pytest_args)
    if not (config.ready_delay >= 0 and config.ready_delay < config.timeout):
        raise BadInput(
            f"--ready-delay {config.ready_delay:g}: give seconds from 0 to below --timeout ({config.timeout:g})"
        )
    if not config.cwd.is_dir():
        raise BadInput(f"--cwd {config.cwd}: no such directory")
    for flag, target in (("--log", config.log), ("--junit", config.junit)):
        _check_output_file(flag, target)
    # The junit output is announced before the run: an earlier run's file must not pass for this
    # one's when the server never gets ready (pytest_run removes it again right before pytest).
    config.junit.unlink(missing_ok=True)
    outcome = SmokeRun(config, ready_url, stop_url, base_url)

    holder = port_in_use(ready_url)
    if holder is not None:
        outcome.port_holder = holder
        outcome.seconds = time.monotonic() - began
        return outcome

    if config.coverage_data_file is not None:
        from ci_helper.gates.smoke.coverage_rc import write_rcfile

        # Absolute: the server runs in cwd, and the folder may be given relative to ours.
        rcfile, source = write_rcfile(config.cwd, config.log.parent.resolve())
        outcome.coverage_rcfile, outcome.coverage_config_source = rcfile, source
        data_file = config.coverage_data_file.resolve()
        data_file.parent.mkdir(parents=True, exist_ok=True)
        # A data file from an earlier run would prove nothing about this one, nor would the
        # parallel files (parallel = true) an earlier run of the server left beside it.
        data_file.unlink(missing_ok=True)
        erase_coverage_data(str(data_file), run_start.started_at())
        command = server_command.under_coverage(command, data_file, rcfile, config.python)

    started_wall = time.time()
    echo(f"smoke: starting server: {command.display()}")
    echo(f"smoke: server log: {config.log}")
    with cancellation.installed():
        server: ServerProcess | None = None
        try:
            # Held until `server` is set: a cancellation inside Popen() would orphan the server.
            with cancellation.deferred():
                server = ServerProcess.start(command, config.cwd, config.log, config.stream)
                outcome.server_pid = server.pid
            outcome.readiness = wait_ready(server, probe, config.timeout, config.ready_delay)
            r = outcome.readiness
            if r.ready:
                echo(f"smoke: ready after {r.seconds:.2f} s (GET {ready_url}: {r.last_answer})")
                echo(
                    f"smoke: running pytest with {pytest_run.BASE_URL_ENV}={base_url} (and {pytest_run.PYTEST_BASE_URL_ENV})"
                )
                # Fenced (GitHub Actions): pytest's output passes through us, so it ends when we say.
                output = sys.stdout if gha.fence_active() else None
                outcome.pytest = pytest_run.run(
                    config.python, config.junit, pytest_args, config.cwd, base_url, output, config.network_env
                )
                outcome.died_during_tests = server.poll()
            elif r.outcome == "exited":
                echo(f"smoke: server exited with code {r.exit_code} before it was ready ({r.seconds:.2f} s)")
            else:
                echo(f"smoke: server not ready after {config.timeout:g} s (last answer: {r.last_answer})")
        finally:
            # A second Ctrl-C must not cut the stop short and leave the server running.
            with cancellation.deferred():
                if server is not None:
                    outcome.stop = server.stop(stop_url, config.stop_timeout)
                    outcome.log_tail = server.log_tail(LOG_TAIL_LINES)
    stop = outcome.stop
    echo(f"smoke: server stopped: {stop.method or 'had already exited'} (exit code {stop.exit_code})")
    if config.coverage_data_file is not None:
        data_file = config.coverage_data_file.resolve()
        # parallel = true in the project's config adds a suffix per process.
        written = [data_file] if data_file.exists() else []
        written += sorted(
            p for p in data_file.parent.glob(data_file.name + ".*") if p.stat().st_mtime >= started_wall - 1
        )
        outcome.coverage_data_written = written
    outcome.seconds = time.monotonic() - began
    return outcome
