"""The console script's plain ``verify``: the same bytes, result and exit code as the click group, without click."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ci_helper.launcher import plain_verify
from tests.conftest import REPO_ROOT

FIXTURES = REPO_ROOT / "ci_helper" / "fixtures" / "verify"
# The click group run directly, as the console script ran it before the launcher.
CLICK = "import sys; from ci_helper.cli import main; main(prog_name='ci-helper')"


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_")) and k != "CI"}
    env.update(extra)
    return env


def _both(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> list[tuple]:
    """(exit code, stdout, stderr, result file) for the launcher and for the click group, each in its own folder."""
    out = []
    for name, prefix in (("launcher", ["-m", "ci_helper"]), ("click", ["-c", CLICK])):
        results = tmp_path / name / "results"
        proc = subprocess.run(
            [sys.executable, *prefix, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=_env({"CI_HELPER_RESULTS_DIR": str(results), **(env or {})}),
            timeout=120,
        )
        written = results / "verify.json"
        result = json.loads(written.read_text()) if written.exists() else None
        out.append((proc.returncode, proc.stdout, proc.stderr, result))
    return out


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The muted-gate and missing-guardrail bad canaries together: errors, warnings, several files."""
    root = tmp_path / "repo"
    for rule in ("muted-gate", "missing-guardrail", "unpinned-uses"):
        shutil.copytree(FIXTURES / rule / "bad", root, dirs_exist_ok=True)
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "repo"],
        ["verify", "repo", "--format", "json"],
        ["verify", "--format=sarif", "repo"],
        ["verify", "repo", "--format", "github"],
        ["verify", "repo", "--results-dir", "elsewhere"],
        ["verify", "no-such-folder"],
        ["verify", "repo/.github/workflows"],
    ],
)
def test_plain_verify_prints_what_the_click_command_prints(tmp_path, repo, args):
    launcher, click = _both(tmp_path, args)
    assert launcher == click
    assert launcher[0] in (1, 2)
    if args[-1] == "elsewhere":
        assert (tmp_path / "elsewhere" / "verify.json").is_file()


def test_plain_verify_is_fenced_under_actions_like_the_click_command(tmp_path, repo):
    launcher, click = _both(tmp_path, ["verify", "repo"], {"GITHUB_ACTIONS": "true"})

    # The fence token is random per run: compare the output with it taken out.
    def unfenced(run: tuple) -> tuple:
        code, stdout, stderr, result = run
        tokens = {line.split("::")[-1] for line in stdout.splitlines() if line.startswith("::stop-commands::")}
        for token in tokens:
            stdout = stdout.replace(token, "TOKEN")
        return code, stdout, stderr, result

    assert len([line for line in launcher[1].splitlines() if line.startswith("::stop-commands::")]) >= 1
    assert unfenced(launcher) == unfenced(click)


def test_a_bad_format_in_the_environment_is_clicks_usage_error(tmp_path, repo):
    launcher, click = _both(tmp_path, ["verify", "repo"], {"CI_HELPER_VERIFY_FORMAT": "xml"})
    assert launcher == click
    assert launcher[0] == 2
    assert "Invalid value for '--format': 'xml' is not one of" in launcher[2]


def test_plain_verify_imports_no_click_and_nothing_heavy(tmp_path, repo):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ci_helper", "verify", "repo", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env({"CI_HELPER_RESULTS_DIR": str(tmp_path / "results")}),
    )
    assert proc.returncode == 1
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"click", "jsonschema", "jinja2", "coverage", "subprocess", "ci_helper.runner.composite", "tomllib"}
    # dataclasses (with inspect, ast, dis) and its per-class compilation were a fifth of a small repository's run.
    heavy |= {"dataclasses", "inspect", "pkgutil"}
    assert "ci_helper.rules.registry" in imported
    assert sorted(imported & heavy) == []


@pytest.mark.parametrize(
    "args, expected",
    [
        (["verify"], {"path": Path("."), "fmt": None, "results_dir": None}),
        (["verify", "x", "--format", "json"], {"path": Path("x"), "fmt": "json", "results_dir": None}),
        (
            ["verify", "--results-dir=r", "--format=text", "x"],
            {"path": Path("x"), "fmt": "text", "results_dir": Path("r")},
        ),
    ],
)
def test_plain_forms(monkeypatch, args, expected):
    monkeypatch.delenv("CI_HELPER_VERIFY_FORMAT", raising=False)
    assert plain_verify(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version"],
        ["guard"],
        ["verify", "--run"],
        ["verify", "--help"],
        ["verify", "-h"],
        ["verify", "a", "b"],
        ["verify", "--format"],
        ["verify", "--format", "xml"],
        ["verify", "--format", "json", "--format", "text"],
        ["verify", "--format", "-x"],
        ["verify", "--results-dir="],
        ["verify", ""],
        ["verify", "--", "x"],
        ["verify", "--job", "j"],
        ["verify", "--form", "json"],
        ["verify", "-"],
    ],
)
def test_everything_else_goes_to_click(monkeypatch, args):
    monkeypatch.delenv("CI_HELPER_VERIFY_FORMAT", raising=False)
    assert plain_verify(args) is None


def test_sigterm_during_plain_verify_ends_like_the_click_group(tmp_path):
    """A cancelled job: exit 130, 'ci-helper: interrupted', and the result says interrupted, on both paths."""
    import signal
    import time

    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    try:
        from verify_bench import generate
    finally:
        sys.path.pop(0)
    generate(tmp_path / "repo", 1500, 100)  # a few seconds of work: time to be interrupted
    seen = []
    for name, prefix in (("launcher", ["-m", "ci_helper"]), ("click", ["-c", CLICK])):
        results = tmp_path / name
        proc = subprocess.Popen(
            [sys.executable, *prefix, "verify", "repo", "--format", "json"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env({"CI_HELPER_RESULTS_DIR": str(results)}),
        )
        placeholder = results / "verify.json"
        deadline = time.monotonic() + 60
        while not placeholder.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
        result = json.loads(placeholder.read_text())
        seen.append((proc.returncode, stdout, stderr, result["status"], result["reason"]))
    assert seen[0] == seen[1]
    assert seen[0][0] == 130 and seen[0][2] == "ci-helper: interrupted\n" and seen[0][3] == "not-run"
