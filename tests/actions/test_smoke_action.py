"""actions/smoke run end to end through `ci-helper run-action` against the example project."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from ci_helper import settings
from tests.conftest import REPO_ROOT, run_ci_helper

SMOKE = REPO_ROOT / "actions" / "smoke"
EXAMPLE = REPO_ROOT / "examples" / "diffusion-api"
# The example's settings name port 7861; a free port per run keeps parallel runs apart.
INPUTS = {
    "server": "{python} -m diffusion_api --host 127.0.0.1 --port {port}",
    "ready-url": "http://127.0.0.1:{port}/health",
    "stop-url": "http://127.0.0.1:{port}/sdapi/v1/server-stop",
    "coverage-data-file": ".ci-helper/smoke/server.coverage",
}


@pytest.fixture
def workspace(tmp_path):
    """A copy of the example project with its stub repositories written, as the workflow's earlier steps do."""
    ws = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns(".ci-helper", "repositories", "__pycache__"))
    proc = run_ci_helper("stubs", "create", cwd=ws)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return ws


def run_smoke_action(ws: Path, inputs: dict[str, str]):
    outputs = ws.parent / "outputs.json"
    argv = ["run-action", str(SMOKE), "--workspace", str(ws), "--outputs-json", str(outputs)]
    for key, value in inputs.items():
        argv += ["--input", f"{key}={value}"]
    # The setup step finds this checkout's ci-helper (the editable install running
    # these tests) on PATH and installs nothing; {python} is this interpreter.
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = run_ci_helper(*argv, cwd=ws, env=env, timeout=180)
    return proc, (json.loads(outputs.read_text()) if outputs.exists() else None)


def test_smoke_action_passes_on_the_example_and_keeps_the_server_coverage(workspace):
    proc, outputs = run_smoke_action(workspace, INPUTS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The log path comes from the example's [tool.ci-helper.smoke]; the rest are defaults.
    log = settings.load(workspace).smoke.log or ".ci-helper/smoke/server.log"
    assert outputs["outputs"] == {
        "log": str(workspace / log),
        "junit": str(workspace / ".ci-helper/smoke/junit.xml"),
        "result": str(workspace / ".ci-helper/results/smoke.json"),
        "status": "pass",
    }
    assert outputs["steps"]["smoke"]["outcome"] == "success"
    result = json.loads((workspace / ".ci-helper/results/smoke.json").read_text())
    f = result["figures"]
    assert (result["status"], f["stop"], f["server_exit_code"], f["failed"], f["errors"]) == (
        "pass",
        "stop-url",
        0,
        0,
        0,
    )
    assert f["passed"] == f["tests"] > 0
    assert f["coverage_data_written"] is True
    # The server's coverage data exists after the stop and measured the server's code.
    import coverage

    data = coverage.CoverageData(str(workspace / ".ci-helper/smoke/server.coverage"))
    data.read()
    server_py = str((workspace / "diffusion_api/server.py").resolve())
    assert server_py in data.measured_files()
    assert data.has_arcs()  # branch = true from the example's [tool.coverage.run]
    # The smoke tests' skips were held to [tool.ci-helper.skips] (none set: listed, and a pass).
    assert outputs["steps"]["skips"]["outcome"] == "success"
    skipped = json.loads((workspace / ".ci-helper/results/skips.json").read_text())
    assert (skipped["status"], skipped["figures"]["tests"], skipped["figures"]["skipped"]) == ("pass", f["tests"], 0)
    assert skipped["figures"]["junit_files"] == [str(workspace / ".ci-helper/smoke/junit.xml")]
    # The server's output was streamed, prefixed, into the step's log.
    assert any(
        line.startswith("server | diffusion-api listening on http://127.0.0.1:") for line in proc.stdout.splitlines()
    )


def test_smoke_action_fails_on_a_failing_smoke_test_and_still_outputs_the_paths(workspace):
    (workspace / "tests/smoke/test_broken.py").write_text(
        "def test_txt2img_returns_an_image(api):\n"
        "    status, body = api.request('GET', '/sdapi/v1/no-such-route')\n"
        "    assert status == 200\n"
    )
    proc, outputs = run_smoke_action(workspace, INPUTS)
    assert proc.returncode == 1
    assert outputs["outputs"]["status"] == "fail"
    assert outputs["outputs"]["log"] == str(
        workspace / (settings.load(workspace).smoke.log or ".ci-helper/smoke/server.log")
    )
    assert Path(outputs["outputs"]["junit"]).is_file()
    assert outputs["steps"]["smoke"]["outcome"] == "failure"
    result = json.loads((workspace / ".ci-helper/results/smoke.json").read_text())
    [finding] = [x for x in result["findings"] if x["rule"] == "smoke-test-failed"]
    assert (finding["file"], finding["line"]) == ("tests/smoke/test_broken.py", 1)
    assert finding["message"] == "tests/smoke/test_broken.py::test_txt2img_returns_an_image failed: assert 404 == 200"


def test_smoke_action_holds_the_smoke_tests_skips_to_their_budget(workspace):
    (workspace / "tests/smoke/test_gpu.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.skip(reason='torch not installed')\n"
        "def test_txt2img_on_the_gpu(api):\n"
        "    pass\n"
    )
    pyproject = workspace / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.ci-helper.skips]\n"torch" = 0\n')
    proc, outputs = run_smoke_action(workspace, INPUTS)
    # The smoke tests passed (one skipped); the skip budget makes the tier red.
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (outputs["steps"]["smoke"]["outcome"], outputs["steps"]["skips"]["outcome"]) == ("success", "failure")
    result = json.loads((workspace / ".ci-helper/results/skips.json").read_text())
    assert (result["status"], result["figures"]["skipped"], result["figures"]["over_budget"]) == ("fail", 1, 1)
    [finding] = result["findings"]
    assert finding["message"] == '1 test skipped for "torch" (budget 0): torch not installed (1)'
    assert (finding["file"], finding["line"]) == ("tests/smoke/test_gpu.py", 4)
