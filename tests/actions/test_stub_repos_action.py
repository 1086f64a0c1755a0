"""actions/stub-repos, run end to end through `ci-helper run-action` (with actions/setup from this checkout)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT, run_ci_helper

STUB_REPOS = REPO_ROOT / "actions" / "stub-repos"
EXAMPLE = REPO_ROOT / "examples" / "diffusion-api"

# A job's steps as a composite action in the user's workspace: our action by its remote
# reference (mapped to this checkout), then a step that relies on what it exported.
CALLER = """\
name: caller
runs:
  using: composite
  steps:
    - id: stubs
      uses: truthful-ci/ci-helper/actions/stub-repos@94cde3876a2334712175e64dca05ba4cecd11503 # v0.1.0
      with:
        manifest: stubs.yml
    - id: probe
      shell: bash
      run: |
        python -c "import ldm.util, k_diffusion.sampling, sgm.models; print('scale=' + str(ldm.util.SCALE))" >> "$GITHUB_OUTPUT"
        echo "manifest=$CI_HELPER_STUBS_MANIFEST" >> "$GITHUB_OUTPUT"
        ci-helper stubs report >> "$GITHUB_STEP_SUMMARY"
outputs:
  stamp:
    value: ${{ steps.stubs.outputs.stamp }}
  scale:
    value: ${{ steps.probe.outputs.scale }}
  manifest:
    value: ${{ steps.probe.outputs.manifest }}
"""


def run_action(action: Path, workspace: Path, *args: str, inputs: dict[str, str] | None = None):
    outputs = workspace.parent / f"{workspace.name}-outputs.json"
    argv = ["run-action", str(action), "--workspace", str(workspace), "--outputs-json", str(outputs), *args]
    for key, value in (inputs or {}).items():
        argv += ["--input", f"{key}={value}"]
    # actions/setup finds this checkout's ci-helper on PATH and installs nothing.
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "CI": "true"}
    proc = run_ci_helper(*argv, env=env, timeout=180)
    return proc, (json.loads(outputs.read_text()) if outputs.exists() else None)


@pytest.fixture
def workspace(tmp_path):
    work = tmp_path / "workspace"
    shutil.copytree(
        EXAMPLE, work, ignore=shutil.ignore_patterns("repositories", ".ci-helper", "__pycache__", ".pytest_cache")
    )
    return work


def test_stub_repos_action_creates_the_stubs_and_outputs_the_stamp(workspace):
    proc, outputs = run_action(STUB_REPOS, workspace, inputs={"manifest": "stubs.yml"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = (workspace / "repositories").resolve()
    from ci_helper.gates.stubs import generator, manifest

    stamp = generator.stamp(manifest.load(workspace / "stubs.yml"))
    assert outputs["outputs"] == {
        "stamp": stamp,
        "root": str(root),
        "pythonpath": os.pathsep.join(
            str(root / p) if p else str(root)
            for p in ("", "stable-diffusion-stability-ai", "k-diffusion", "generative-models")
        ),
    }
    assert outputs["steps"]["create"]["outcome"] == "success"
    assert (root / "stable-diffusion-stability-ai/ldm/util.py").is_file()
    result = json.loads((workspace / ".ci-helper/results/stubs.json").read_text())
    assert (result["status"], result["figures"]["fake_inference"]) == ("pass", True)


def test_later_steps_import_the_stubs_through_the_exported_pythonpath(workspace, tmp_path):
    caller = workspace / ".github" / "actions" / "caller"
    caller.mkdir(parents=True)
    (caller / "action.yml").write_text(CALLER)
    summary = tmp_path / "summary.md"
    proc, outputs = run_action(
        caller, workspace, "--stub-remote", f"truthful-ci/ci-helper={REPO_ROOT}", "--summary-out", str(summary)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["outputs"]["scale"] == "0.18215"
    assert outputs["outputs"]["manifest"] == str((workspace / "stubs.yml").resolve())
    assert len(outputs["outputs"]["stamp"]) == 64
    assert summary.read_text().splitlines()[:2] == [
        "fabricated names: 1 (budget: 8)",
        "  sgm.models  [module, prefix sgm]",
    ]


def test_a_bad_manifest_fails_the_action(workspace):
    (workspace / "stubs.yml").write_text("repositories: {r: {modules: {m: {functions: {f: {return: 1}}}}}}\n")
    proc, outputs = run_action(STUB_REPOS, workspace, inputs={"manifest": "stubs.yml"})
    assert proc.returncode == 1
    assert outputs["steps"]["create"]["outcome"] == "failure"
    assert (
        "Error: stubs.yml:1: repositories.r.modules.m.functions.f: unknown key 'return'; expected one of: "
        "raises, returns; see docs/stubs.md"
    ) in proc.stdout + proc.stderr


def test_the_action_file_follows_the_contract():
    text = (STUB_REPOS / "action.yml").read_text()
    action = yaml.safe_load(text)
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite"
    assert steps[0]["uses"] == "$/actions/setup"
    # The only thing handed to setup: the project's interpreter, for ci_helper.fake.
    assert steps[0]["with"] == {"project-python": "${{ inputs.project-python }}"}
    assert set(action["inputs"]) == {"manifest", "root", "project-python", "working-directory"}
    assert action["inputs"]["project-python"]["default"] == ""
    for step in steps:
        assert "${{" not in step.get("run", "")
    assert steps[1]["env"] == {
        "CI_HELPER_PYTHON": "${{ steps.setup.outputs.python }}",
        "CI_HELPER_STUBS_MANIFEST": "${{ inputs.manifest }}",
        "CI_HELPER_STUBS_ROOT": "${{ inputs.root }}",
    }
