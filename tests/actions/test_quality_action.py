"""Static shape of actions/quality/action.yml: inputs only through env, the shared setup, the outputs."""

from __future__ import annotations

from pathlib import Path

import yaml

ACTION = Path(__file__).resolve().parents[2] / "actions" / "quality" / "action.yml"


def _action() -> dict:
    return yaml.safe_load(ACTION.read_text())


def test_no_expression_inside_a_run_script():
    for step in _action()["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def test_installs_the_cli_with_the_shared_setup_action_after_finding_the_project_python():
    steps = _action()["runs"]["steps"]
    # The setup puts ci-helper's virtualenv first on PATH: the project's Python is found before it.
    assert "command -v python3" in steps[0]["run"]
    assert steps[1] == {
        "name": "Install ci-helper",
        "id": "setup",
        "uses": "$/actions/setup",
        "with": {"extras": "${{ inputs.audit == 'true' && 'audit' || '' }}"},
    }
    tests = next(s for s in steps if s.get("id") == "tests")
    assert tests["env"]["PROJECT_PYTHON"] == "${{ steps.paths.outputs.python }}"
    # Through ci-helper's offline hook and output fence (issues 19 and 14), in the project's Python.
    assert tests["run"].startswith(
        '"$CI_HELPER_PYTHON" -I -m ci_helper network run -- '
        '"$PROJECT_PYTHON" -m coverage run --parallel-mode -m pytest '
    )


def test_gate_takes_its_inputs_through_env_and_feeds_the_outputs():
    action = _action()
    gate = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    assert gate["run"] == '"$CI_HELPER_PYTHON" -I -m ci_helper coverage gate\n'
    assert gate["env"]["CI_HELPER_PYTHON"] == "${{ steps.setup.outputs.python }}"
    assert gate["env"]["CI_HELPER_FAIL_UNDER"] == "${{ inputs.fail-under }}"
    assert gate["env"]["CI_HELPER_DIFF_FAIL_UNDER"] == "${{ inputs.diff-fail-under }}"
    assert gate["env"]["CI_HELPER_COVERAGE_DATA_FILES"] == ". ${{ inputs.data-files }}"
    # A shard's data is a part: the aggregate job gates the combined data (actions/quality shard input).
    assert gate["if"] == "${{ !cancelled() && inputs.shard == '' }}"
    assert {name: out["value"] for name, out in action["outputs"].items()} == {
        "total": "${{ steps.gate.outputs.total }}",
        "diff": "${{ steps.gate.outputs.diff }}",
        "verdict": "${{ steps.gate.outputs.verdict }}",
        "junit-file": "${{ steps.paths.outputs.junit-file }}",
    }
