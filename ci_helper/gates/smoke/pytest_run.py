"""Running the smoke tests: pytest with a JUnit file of ours and the base URL in the environment."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ci_helper import orphans
from ci_helper.errors import BadInput
from ci_helper.gates.smoke import cancellation
from ci_helper.gates.smoke.environment import project_environ
from ci_helper.gates.smoke.process import KILL_GRACE_SECONDS, group_members

BASE_URL_ENV = "CI_HELPER_BASE_URL"
# Marks every process of the smoke tests (the runner's RUNNER_TRACKING_ID stays as it is, for its own cleanup).
TRACKING_ENV = "CI_HELPER_SMOKE_TRACKING_ID"
# pytest-base-url's --base-url defaults to this variable, and its `base_url` fixture reads that
# option: setting it serves the plugin's users without passing a flag pytest might not know.
PYTEST_BASE_URL_ENV = "PYTEST_BASE_URL"
CANCEL_GRACE_SECONDS = 5.0
LEFTOVER_GRACE_SECONDS = 1.0

# pytest's documented exit codes.
EXIT_MEANINGS = {
    0: "all tests passed",
    1: "tests failed",
    2: "interrupted",
    3: "internal error",
    4: "usage error",
    5: "no tests collected",
}


@dataclass
class PytestRun:
    exit_code: int
    argv: list[str]
    seconds: float


def check_args(args: list[str]) -> None:
    """Refuse pytest arguments that would take the JUnit file away from us."""
    for arg in args:
        if arg.startswith(("--junitxml", "--junit-xml")) or arg.startswith("junit_family"):
            raise BadInput(
                f"pytest argument {arg!r}: ci-helper smoke writes the JUnit file itself; use --junit F instead"
            )


def command(python: str, junit: Path, args: list[str]) -> list[str]:
    # xunit1 records each test's file and line, so a failed test is a finding with a location.
    return [python, "-m", "pytest", f"--junitxml={junit}", "-o", "junit_family=xunit1", *args]


def run(
    python: str,
    junit: Path,
    args: list[str],
    cwd: Path,
    base_url: str,
    output: IO[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> PytestRun:
    """Run pytest in ``cwd``; a JUnit file left from an earlier run is removed first so it cannot be mistaken for this one.

    pytest runs in a process group of its own, marked with a tracking id in its
    environment: when it ends, or on a cancel, every process it left behind is
    stopped (the group, then anything that left the group with ``setsid``).
    With ``output``, pytest's stdout and stderr are copied there line by line
    (under GitHub Actions: through the fence that keeps test names and
    tracebacks from being read as workflow commands) instead of being inherited.
    """
    junit.parent.mkdir(parents=True, exist_ok=True)
    try:
        junit.unlink()
    except FileNotFoundError:
        pass
    env = project_environ()
    env.update(extra_env or {})
    env[BASE_URL_ENV] = base_url
    env[PYTEST_BASE_URL_ENV] = base_url
    tracking_id = orphans.new_tracking_id("ci-helper-smoke")
    env[TRACKING_ENV] = tracking_id
    argv = command(python, junit, args)
    start = time.monotonic()
    proc: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = None
    try:
        # A cancellation during Popen() is held until proc is known, then lands below.
        with cancellation.deferred():
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if output is not None else None,
                stderr=subprocess.STDOUT if output is not None else None,
                start_new_session=True,
            )
            if output is not None:
                pump = threading.Thread(
                    target=_copy, args=(proc.stdout, output), daemon=True, name=f"pytest-output-{proc.pid}"
                )
                pump.start()
        code = proc.wait()
    except FileNotFoundError:
        raise BadInput(
            f"--python {python!r}: interpreter not found; give the Python that has pytest and your test dependencies"
        ) from None
    finally:
        if proc is not None:
            # Cancelled or not: nothing pytest started outlives it. After a normal end what is left
            # are orphans, given a short grace; a cancel gives pytest the time to finish its report.
            with cancellation.deferred():
                grace = CANCEL_GRACE_SECONDS if proc.poll() is None else LEFTOVER_GRACE_SECONDS
                stop_tree(proc, tracking_id, grace=grace)
                if pump is not None:
                    # A process that escaped both the group and the marker may hold the pipe: never wait on it.
                    pump.join(timeout=1.0)
    return PytestRun(code, argv, time.monotonic() - start)


def stop_tree(proc: subprocess.Popen[bytes], tracking_id: str, grace: float = CANCEL_GRACE_SECONDS) -> None:
    """Stop pytest's process group (SIGTERM, then SIGKILL after ``grace``) and every process with its marker."""
    pgid = proc.pid
    if group_members(pgid) or proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, KILL_GRACE_SECONDS)):
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                proc.poll()  # reap pytest itself so it does not count as alive
                if not group_members(pgid):
                    break
                time.sleep(0.02)
            else:
                continue
            break
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process SIGKILL cannot end
        pass
    orphans.stop_tracked(TRACKING_ENV, tracking_id, grace=min(grace, orphans.TERMINATE_GRACE))


def _copy(pipe: IO[bytes], output: IO[str]) -> None:
    for raw in iter(pipe.readline, b""):
        try:
            output.write(raw.decode("utf-8", errors="replace"))
            output.flush()
        except (OSError, ValueError):
            pass  # our console went away; pytest still writes its JUnit file
    pipe.close()
