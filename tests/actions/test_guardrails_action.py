"""actions/guardrails, actions/setup and the root action.yml, run end to end through `ci-helper run-action`."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

import ci_helper
from tests.conftest import REPO_ROOT, run_ci_helper

HOME = "truthful-ci/ci-helper"
GUARDRAILS = REPO_ROOT / "actions" / "guardrails"

# Each action calls the setup action, which finds this checkout's editable install
# on PATH and installs nothing; any other install would make it reach for the index.
pytestmark = pytest.mark.skipif(
    Path(ci_helper.__file__).resolve().parent.parent != REPO_ROOT.resolve(),
    reason="needs `pip install -e .` of this checkout (as .ci/run does)",
)


def run_action(action: Path, workspace: Path, *args: str, inputs: dict[str, str] | None = None):
    """Run an action of ours through the local runner; returns (process, outputs JSON)."""
    outputs = workspace.parent / f"{workspace.name}-outputs.json"
    argv = ["run-action", str(action), "--workspace", str(workspace), "--outputs-json", str(outputs), *args]
    for key, value in (inputs or {}).items():
        argv += ["--input", f"{key}={value}"]
    # The setup step finds this checkout's ci-helper (the editable install running
    # these tests) on PATH and installs nothing: no index, no network.
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = run_ci_helper(*argv, env=env, timeout=180)
    return proc, (json.loads(outputs.read_text()) if outputs.exists() else None)


def pr_event(path: Path, base_ref: str, head_repo: str, base_repo: str = HOME) -> Path:
    path.write_text(
        json.dumps(
            {
                "pull_request": {
                    "head": {"ref": "topic", "repo": {"full_name": head_repo}},
                    "base": {"ref": base_ref, "repo": {"full_name": base_repo}},
                }
            }
        )
    )
    return path


@pytest.fixture
def workspace(tmp_path):
    folder = tmp_path / "workspace"
    folder.mkdir()
    return folder


def guard_result(workspace: Path) -> dict:
    return json.loads((workspace / ".ci-helper" / "results" / "guardrails.json").read_text())


def test_allowed_repository_passes(workspace):
    proc, outputs = run_action(
        GUARDRAILS, workspace, "--repository", HOME, inputs={"repositories": f"other/repo\n{HOME}"}
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["outputs"] == {"status": "pass", "result": ".ci-helper/results/guardrails.json"}
    assert outputs["steps"]["guard"]["outcome"] == "success"
    assert guard_result(workspace)["figures"]["repository"] == HOME


def test_foreign_repository_fails_with_the_message(workspace):
    proc, outputs = run_action(GUARDRAILS, workspace, "--repository", "someone/fork", inputs={"repositories": HOME})
    assert proc.returncode == 1
    assert (
        "::error title=Guardrail%3A repository::must run only in truthful-ci/ci-helper, "
        "not in someone/fork (GITHUB_REPOSITORY)"
    ) in proc.stdout.splitlines()
    assert outputs["outputs"]["status"] == "fail"
    assert outputs["steps"]["guard"]["outcome"] == "failure"


def test_pr_to_the_wrong_base_fails(workspace, tmp_path):
    event = pr_event(tmp_path / "event.json", base_ref="develop", head_repo=HOME)
    proc, outputs = run_action(
        GUARDRAILS,
        workspace,
        "--repository",
        HOME,
        "--event-name",
        "pull_request",
        "--event-path",
        str(event),
        "--ref",
        "refs/pull/5/merge",
        inputs={"repositories": HOME, "base-branches": "main"},
    )
    assert proc.returncode == 1
    assert (
        "::error title=Guardrail%3A base branch::pull requests must target main, not develop (GITHUB_BASE_REF)"
    ) in proc.stdout.splitlines()
    assert [f["rule"] for f in guard_result(workspace)["findings"]] == ["guard-base-branch"]


def test_fork_pr_is_refused(workspace, tmp_path):
    event = pr_event(tmp_path / "event.json", base_ref="main", head_repo="attacker/ci-helper")
    proc, outputs = run_action(
        GUARDRAILS,
        workspace,
        "--repository",
        HOME,
        "--event-name",
        "pull_request",
        "--event-path",
        str(event),
        "--ref",
        "refs/pull/5/merge",
        inputs={"repositories": HOME, "base-branches": "main", "forks": "refuse"},
    )
    assert proc.returncode == 1
    assert (
        "::error title=Guardrail%3A fork pull request::pull requests from forks are refused: expected the "
        "head repository to be truthful-ci/ci-helper, found attacker/ci-helper "
        "(pull_request.head.repo.full_name)"
    ) in proc.stdout.splitlines()
    assert guard_result(workspace)["figures"]["head_repository"] == "attacker/ci-helper"


def test_push_to_an_unexpected_ref_fails(workspace):
    proc, outputs = run_action(
        GUARDRAILS,
        workspace,
        "--repository",
        HOME,
        "--ref",
        "refs/heads/experiment",
        inputs={"repositories": HOME, "refs": "main, refs/tags/v*"},
    )
    assert proc.returncode == 1
    assert (
        "::error title=Guardrail%3A ref::push events must run only on one of main, refs/tags/v*, "
        "not on refs/heads/experiment (GITHUB_REF)"
    ) in proc.stdout.splitlines()


def test_unpinned_action_with_pins_on_fails_with_file_and_line(workspace):
    workflows = workspace / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        "name: ci\non: push\npermissions: {}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
        "      - uses: actions/setup-python@v5\n"
    )
    proc, outputs = run_action(
        GUARDRAILS, workspace, "--repository", HOME, inputs={"repositories": HOME, "pins": "true"}
    )
    assert proc.returncode == 1
    assert (
        "::error file=.github/workflows/ci.yml,line=9,col=15,title=Guardrail%3A unpinned action::"
        "actions/setup-python@v5 is not pinned to a full commit SHA (ref 'v5'); "
        "pin it as actions/setup-python@<40-hex commit sha> # v5"
    ) in proc.stdout.splitlines()
    [finding] = guard_result(workspace)["findings"]
    assert (finding["file"], finding["line"]) == (".github/workflows/ci.yml", 9)


def test_setup_action_reuses_this_checkout(workspace):
    proc, outputs = run_action(REPO_ROOT / "actions" / "setup", workspace, inputs={"extras": "audit"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["outputs"]["installed"] == "false"
    assert outputs["outputs"]["bin"] == str(Path(sys.executable).parent)


def test_root_action_runs_a_command_and_keeps_args_literal(workspace):
    proc, outputs = run_action(
        REPO_ROOT,
        workspace,
        "--repository",
        HOME,
        inputs={"command": "guard", "args": f"--repository {HOME} --event 'push' --ref \"$(touch pwned)\" --ref main"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "+ ci-helper guard --repository truthful-ci/ci-helper --event push --ref '$(touch pwned)' --ref main"
        in proc.stdout.splitlines()
    )
    assert outputs["outputs"] == {"exit-code": "0"}
    assert not (workspace / "pwned").exists()


def test_root_action_fails_with_the_command_exit_code(workspace):
    proc, outputs = run_action(
        REPO_ROOT,
        workspace,
        "--repository",
        "someone/fork",
        inputs={"command": "guard", "args": f"--repository {HOME}"},
    )
    assert proc.returncode == 1
    assert outputs["outputs"] == {"exit-code": "1"}
