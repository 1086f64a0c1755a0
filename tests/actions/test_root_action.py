"""The root action.yml: one command and its args, split with shlex, never by a shell."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings as hsettings, strategies as st

from ci_helper import root_action
from ci_helper.cli import COMMANDS
from tests.conftest import REPO_ROOT


def test_args_are_split_like_a_shell_line_but_never_expanded():
    env = {
        "CI_HELPER_COMMAND": "guard",
        "CI_HELPER_ARGS": "--repository 'a/b' --ref \"release/*\" --event $(touch pwned) ; rm -rf ~",
    }
    assert root_action.argv(env) == [
        "guard",
        "--repository",
        "a/b",
        "--ref",
        "release/*",
        "--event",
        "$(touch",
        "pwned)",
        ";",
        "rm",
        "-rf",
        "~",
    ]


# Every command of the CLI, as the error lists them (the list grows with the CLI).
ALL_COMMANDS = ", ".join(sorted(COMMANDS))


@pytest.mark.parametrize(
    "env, message",
    [
        ({"CI_HELPER_COMMAND": "rm -rf /"}, f"command input must be one of: {ALL_COMMANDS}; got 'rm -rf /'"),
        ({}, f"command input must be one of: {ALL_COMMANDS}; got ''"),
        (
            {"CI_HELPER_COMMAND": "guard", "CI_HELPER_ARGS": "--ref 'main"},
            "args input cannot be split like a shell line (No closing quotation); check its quotes",
        ),
    ],
)
def test_bad_inputs_are_rejected(env, message):
    with pytest.raises(ValueError) as exc:
        root_action.argv(env)
    assert str(exc.value) == message


@hsettings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12).filter(lambda s: "\x00" not in s), max_size=6))
def test_any_argument_list_survives_the_round_trip(args):
    assert root_action.argv({"CI_HELPER_COMMAND": "verify", "CI_HELPER_ARGS": shlex.join(args)}) == ["verify", *args]


def run_entry(tmp_path, env):
    out = tmp_path / "output.txt"
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_"))}
    full.update(env, GITHUB_OUTPUT=str(out), CI_HELPER_RESULTS_DIR=str(tmp_path / "results"))
    proc = subprocess.run(
        [sys.executable, "-m", "ci_helper.root_action"],
        env=full,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc, out.read_text() if out.exists() else ""


def test_entry_runs_the_command_and_reports_its_exit_code(tmp_path):
    proc, outputs = run_entry(
        tmp_path,
        {
            "CI_HELPER_COMMAND": "guard",
            "CI_HELPER_ARGS": "--repository truthful-ci/ci-helper --format text",
            "GITHUB_REPOSITORY": "someone/fork",
        },
    )
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[:2] == [
        "+ ci-helper guard --repository truthful-ci/ci-helper --format text",
        "error: guard-repository: must run only in truthful-ci/ci-helper, not in someone/fork (GITHUB_REPOSITORY)",
    ]
    # The command's own outputs come first, then the action's exit code.
    assert outputs == f"status=fail\nresult={tmp_path / 'results' / 'guardrails.json'}\nexit-code=1\n"
    assert json.loads((tmp_path / "results" / "guardrails.json").read_text())["status"] == "fail"


def test_entry_passes_bad_input_through_as_exit_2(tmp_path):
    proc, outputs = run_entry(tmp_path, {"CI_HELPER_COMMAND": "guard", "CI_HELPER_ARGS": "--forks maybe"})
    assert proc.returncode == 2
    assert outputs == "exit-code=2\n"


def test_entry_refuses_an_unknown_command_with_an_annotation(tmp_path):
    proc, outputs = run_entry(tmp_path, {"CI_HELPER_COMMAND": "--help"})
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error title=ci-helper action::command input must be one of: ")
    assert outputs == "exit-code=2\n"


def test_root_action_hands_command_and_args_over_through_env():
    action = yaml.safe_load((REPO_ROOT / "action.yml").read_text())
    setup, run = action["runs"]["steps"]
    assert setup["uses"] == "$/actions/setup"
    assert setup["with"] == {"extras": "${{ inputs.extras }}"}
    assert run["env"] == {
        "CI_HELPER_PYTHON": "${{ steps.setup.outputs.python }}",
        "CI_HELPER_COMMAND": "${{ inputs.command }}",
        "CI_HELPER_ARGS": "${{ inputs.args }}",
    }
    assert run["run"] == '"$CI_HELPER_PYTHON" -I -m ci_helper.root_action'
