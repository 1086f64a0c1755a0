"""Running the smoke tests: pytest with a JUnit file of ours and the base URL in the environment."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.gates.smoke import cancellation
from ci_helper.gates.smoke.environment import project_environ

BASE_URL_ENV = "CI_HELPER_BASE_URL"
# pytest-base-url's --base-url defaults to this variable, and its `base_url` fixture reads that
# option: setting it serves the plugin's users without passing a flag pytest might not know.
PYTEST_BASE_URL_ENV = "PYTEST_BASE_URL"
CANCEL_GRACE_SECONDS = 5.0

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
            raise BadInput(f"pytest argument {arg!r}: ci-helper smoke writes the JUnit file itself; use --junit F instead")


def command(python: str, junit: Path, args: list[str]) -> list[str]:
    # xunit1 records each test's file and line, so a failed test is a finding with a location.
    return [python, "-m", "pytest", f"--junitxml={junit}", "-o", "junit_family=xunit1", *args]


def run(python: str, junit: Path, args: list[str], cwd: Path, base_url: str) -> PytestRun:
    """Run pytest in ``cwd``; a JUnit file left from an earlier run is removed first so it cannot be mistaken for this one."""
    import time

    junit.parent.mkdir(parents=True, exist_ok=True)
    try:
        junit.unlink()
    except FileNotFoundError:
        pass
    env = project_environ()
    env[BASE_URL_ENV] = base_url
    env[PYTEST_BASE_URL_ENV] = base_url
    argv = command(python, junit, args)
    start = time.monotonic()
    proc: subprocess.Popen[bytes] | None = None
    try:
        # A cancellation during Popen() is held until proc is known, then lands below.
        with cancellation.deferred():
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL)
        code = proc.wait()
    except FileNotFoundError:
        raise BadInput(f"--python {python!r}: interpreter not found; give the Python that has pytest and your test dependencies") from None
    except BaseException:
        if proc is None:
            raise
        # Cancelled: pytest goes too (it shares our process group, so Ctrl-C already reached it).
        with cancellation.deferred():
            proc.terminate()
            try:
                proc.wait(timeout=CANCEL_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        raise
    return PytestRun(code, argv, time.monotonic() - start)
