"""The console script's plain ``network run``: what the click command does, without importing click.

``network run`` starts every test tier under the offline hook, so its start-up is paid by
every tier (docs/performance.md, "Offline plugin overhead").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ci_helper.launcher import plain_network_run

CLICK = "import sys; from ci_helper.cli import main; main(prog_name='ci-helper')"
# Prints what the hook's environment says, writes to stderr, and exits 3.
CHILD = (
    "import os, sys; print(os.environ['CI_HELPER_NETWORK_POLICY'], os.environ.get('CI_HELPER_NETWORK_WHO')); "
    "print('::error::from a test', file=sys.stderr); sys.exit(3)"
)


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_")) and k != "CI"}
    env.update(extra)
    return env


def _both(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> list[tuple]:
    """(exit code, stdout with the fence token taken out, stderr, log lines) for the launcher and for click."""
    out = []
    for name, prefix in (("launcher", ["-m", "ci_helper"]), ("click", ["-c", CLICK])):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "pyproject.toml").write_text('[tool.ci-helper.network]\npolicy = "record"\n', encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, *prefix, *args],
            cwd=folder,
            capture_output=True,
            text=True,
            env=_env(env or {}),
            timeout=120,
        )
        stdout = proc.stdout
        for line in proc.stdout.splitlines():
            if line.startswith("::stop-commands::"):
                stdout = stdout.replace(line.split("::")[-1], "TOKEN")
        log = folder / "net.jsonl"
        lines = len(log.read_text().splitlines()) if log.exists() else None
        out.append((proc.returncode, stdout, proc.stderr, lines))
    return out


@pytest.mark.parametrize("actions", [False, True], ids=["laptop", "actions"])
def test_plain_network_run_does_what_the_click_command_does(tmp_path, actions):
    env = {"GITHUB_ACTIONS": "true"} if actions else {}
    launcher, click = _both(
        tmp_path, ["network", "run", "--log", "net.jsonl", "--who", "tests", "--", sys.executable, "-c", CHILD], env
    )
    assert launcher == click
    code, stdout, stderr, lines = launcher
    assert (code, lines) == (3, 1)  # the child's exit code; the hook's start record in the log
    if actions:
        # Fenced, and the child's stderr joined its stdout inside the fence.
        assert stdout == "::add-mask::TOKEN\n::stop-commands::TOKEN\nrecord tests\n::error::from a test\n::TOKEN::\n"
    else:
        assert (stdout, stderr) == ("record tests\n", "::error::from a test\n")


def test_a_command_that_cannot_start_is_the_same_one_line_error(tmp_path):
    launcher, click = _both(tmp_path, ["network", "run", "--log", "net.jsonl", "--", "/no/such/program"])
    assert launcher == click
    assert launcher[:3] == (2, "", "Error: cannot run /no/such/program: No such file or directory\n")


def test_plain_network_run_imports_no_click(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ci_helper", "network", "run", "--", sys.executable, "-c", "pass"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env({"CI_HELPER_NETWORK_LOG": str(tmp_path / "net.jsonl")}),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "ci_helper.gates.network" in imported
    assert sorted(imported & {"click", "jsonschema", "jinja2", "yaml", "coverage"}) == []


@pytest.mark.parametrize(
    "args, log_env, expected",
    [
        (
            ["network", "run", "--", "x"],
            "env.jsonl",
            {"argv": ["x"], "log": Path("env.jsonl"), "who": None, "project_dir": "."},
        ),
        (
            ["network", "run", "--log", "l", "--who", "server", "--project-dir=p", "--", "py", "--log", "y"],
            None,
            {"argv": ["py", "--log", "y"], "log": Path("l"), "who": "server", "project_dir": "p"},
        ),
        (
            ["network", "run", "--log=l", "--", "py"],
            "",
            {"argv": ["py"], "log": Path("l"), "who": None, "project_dir": "."},
        ),
    ],
)
def test_plain_forms(monkeypatch, args, log_env, expected):
    if log_env is None:
        monkeypatch.delenv("CI_HELPER_NETWORK_LOG", raising=False)
    else:
        monkeypatch.setenv("CI_HELPER_NETWORK_LOG", log_env)
    assert plain_network_run(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["network", "run", "x"],  # no "--": click decides what is an option
        ["network", "run", "--log", "l", "--"],  # nothing to run
        ["network", "run", "--"],
        ["network", "run", "--log", "l", "--log", "m", "--", "x"],
        ["network", "run", "--log", "-x", "--", "y"],
        ["network", "run", "--log=", "--", "y"],
        ["network", "run", "--log"],
        ["network", "run", "--bogus", "v", "--", "x"],
        ["network", "run", "--help"],
        ["network", "run", "-h", "--", "x"],
        ["network", "gate", "--", "x"],
        ["network", "env", "--log", "l"],
        ["network"],
    ],
)
def test_everything_else_goes_to_click(monkeypatch, args):
    monkeypatch.setenv("CI_HELPER_NETWORK_LOG", "env.jsonl")
    assert plain_network_run(args) is None


def test_without_a_log_click_reports_the_missing_option(monkeypatch):
    monkeypatch.delenv("CI_HELPER_NETWORK_LOG", raising=False)
    assert plain_network_run(["network", "run", "--", "x"]) is None
    monkeypatch.setenv("CI_HELPER_NETWORK_LOG", "")
    assert plain_network_run(["network", "run", "--", "x"]) is None
