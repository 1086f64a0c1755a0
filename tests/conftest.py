"""Shared test fixtures: running the real CLI in-process and as a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_helper.cli import main

REPO_ROOT = Path(__file__).resolve().parent.parent
# The stop-commands fence every command prints under GitHub Actions (ci_helper/gha.py).
_FENCE_LINE = re.compile(r"::(?:add-mask::|stop-commands::)?ci-helper-[0-9a-f]{32}(?:::)?")


def without_fence(text: str) -> str:
    """Output printed under GITHUB_ACTIONS=true without the fence's own lines (mask, stop, resume)."""
    return "".join(line for line in text.splitlines(keepends=True) if not _FENCE_LINE.fullmatch(line.rstrip("\r\n")))


# The variables of a CI job around the suite (our own ci.yml, `ci-helper verify --run .`): GitHub's and the runner's
# (GITHUB_ACTIONS=true turns on annotations and output fences; RUNNER_TEMP holds the job's run-start marker, older
# than nothing the tests write but newer than the fixtures of a local clone), CI (fake inference in the example), and
# the pytest plugin of `ci-helper network run`, which children that build their own PYTHONPATH cannot import. The
# offline hook itself stays: it is installed in this process, and children inherit its PYTHONPATH and settings.
_CI_JOB_PREFIXES = ("GITHUB_", "RUNNER_")
_CI_JOB_NAMES = ("CI", "PYTEST_PLUGINS")


@pytest.fixture(autouse=True)
def _outside_a_ci_job(monkeypatch):
    """Every test sees the environment of a laptop, whatever runs the suite: nothing of the job around it leaks in."""
    for name in list(os.environ):
        if name.startswith(_CI_JOB_PREFIXES) or name in _CI_JOB_NAMES:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def cli(monkeypatch):
    """Invoke ``ci-helper`` in-process: ``cli("verify", "path")`` -> click Result.

    GitHub's env vars are cleared so a test never depends on where it runs.
    """
    for name in list(os.environ):
        # CI too: the example manifest keys fake inference on it, and CI=true is set in CI.
        if name.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_")) or name == "CI":
            monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None):
        return runner.invoke(main, list(args), env=env, input=input, catch_exceptions=False)

    return invoke


# coverage's `[run] patch = ["subprocess"]` (pyproject.toml) measures every child Python through these variables: its
# .pth file starts coverage in a child that finds one set (also under -I, which ignores PYTHON* variables only).
COVERAGE_CHILD_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


def unmeasured_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default os.environ) without coverage's child variables: for a test that counts what a child imports,
    which measuring it would change (coverage imports itself, tomllib...)."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in COVERAGE_CHILD_VARIABLES}


def outside_ci_env() -> dict[str, str]:
    """os.environ without GitHub's, the runner's and ci-helper's variables (and CI): a child that never depends on
    where the suite runs (our own CI, `verify --run`)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_")) and k != "CI"}


def run_ci_helper(
    *args: str, cwd: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m ci_helper`` as a real subprocess (for exit codes, signals, stdout)."""
    full_env = outside_ci_env()
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "ci_helper", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
