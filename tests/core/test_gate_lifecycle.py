"""Every gate replaces its result with not-run before it works; interrupts, refusals and crashes leave not-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ci_helper import results
from ci_helper.errors import BadInput
from tests.conftest import run_ci_helper


def _status(path: Path) -> tuple[str, str | None]:
    raw = json.loads(path.read_text())
    return raw["status"], raw["reason"]


def _previous_pass(folder: Path, check: str, figures: dict | None = None) -> Path:
    return results.write_result(results.passed(check, figures or {}), folder)


def test_start_replaces_an_earlier_pass_with_a_placeholder(tmp_path):
    _previous_pass(tmp_path, "coverage", {"total": 91.0})
    path = results.start("coverage", tmp_path)
    try:
        assert _status(path) == ("not-run", "started, no verdict yet")
    finally:
        results.settle(None)


def test_in_progress_leaves_interrupted_even_over_a_verdict(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with results.in_progress("smoke", tmp_path) as path:
            results.write_result(results.passed("smoke", {"tests": 1}), tmp_path)
            raise KeyboardInterrupt
    assert _status(path) == ("not-run", "interrupted")


def test_in_progress_keeps_a_verdict_the_gate_wrote_before_refusing(tmp_path):
    with pytest.raises(BadInput):
        with results.in_progress("coverage", tmp_path) as path:
            results.write_result(results.failed("coverage", {"total": None}, reason="no data"), tmp_path)
            raise BadInput("no data")
    assert _status(path) == ("fail", "no data")


def test_a_crash_replaces_the_placeholder_with_its_cause(tmp_path):
    with pytest.raises(RuntimeError):
        with results.in_progress("deps", tmp_path) as path:
            raise RuntimeError("disk on fire")
    assert _status(path) == ("not-run", "crashed: RuntimeError: disk on fire")


def test_refused_input_does_not_leave_the_previous_pass(tmp_path):
    folder = tmp_path / "results"
    _previous_pass(folder, "deps", {"requirements": 3})
    proc = run_ci_helper("deps", "verify", "missing.txt", "--results-dir", str(folder), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "Error: requirements file not found: missing.txt\n"
    assert _status(folder / "deps.json") == ("not-run", "bad input: requirements file not found: missing.txt")


def test_stubs_refusing_its_manifest_does_not_leave_the_previous_pass(tmp_path):
    folder = tmp_path / "results"
    _previous_pass(folder, "stubs")
    proc = run_ci_helper("stubs", "check", "--manifest", "nope.yml", "--results-dir", str(folder), cwd=tmp_path)
    assert proc.returncode == 2
    status, reason = _status(folder / "stubs.json")
    assert status == "not-run" and reason.startswith("bad input: ") and "nope.yml" in reason


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_exit_130_and_leave_interrupted(tmp_path, signum):
    """A gate stopped while it works leaves not-run/interrupted (never its previous pass) and exits 130."""
    folder = tmp_path / "results"
    _previous_pass(folder, "stubs")
    # Stop ci-helper while `stubs check` blocks reading a manifest that is a FIFO nobody writes.
    fifo = tmp_path / "manifest.yml"
    os.mkfifo(fifo)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ci_helper", "stubs", "check", "--manifest", str(fifo), "--results-dir", str(folder)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while _status(folder / "stubs.json")[0] == "pass" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _status(folder / "stubs.json") == ("not-run", "started, no verdict yet")
    time.sleep(0.2)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == "ci-helper: interrupted"
    assert "Traceback" not in err
    assert _status(folder / "stubs.json") == ("not-run", "interrupted")
