"""actions/quality end to end through `ci-helper run-action`, on the coverage canary fixtures."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

import ci_helper
from ci_helper.canary.osv_server import OsvServer
from tests.conftest import REPO_ROOT, run_ci_helper

QUALITY = REPO_ROOT / "actions" / "quality"
FIXTURES = REPO_ROOT / "ci_helper" / "fixtures" / "coverage"

pytestmark = [
    # The setup action finds this checkout's editable install on PATH and installs nothing.
    pytest.mark.skipif(
        Path(ci_helper.__file__).resolve().parent.parent != REPO_ROOT.resolve(),
        reason="needs `pip install -e .` of this checkout (as .ci/run does)",
    ),
    pytest.mark.skipif(
        not (REPO_ROOT / "actions" / "setup" / "action.yml").is_file(),
        reason="actions/setup is not in this checkout yet (it lands with issue 4)",
    ),
]


def run_quality(workspace: Path, inputs: dict[str, str]):
    outputs = workspace.parent / "outputs.json"
    argv = [
        "run-action",
        str(QUALITY),
        "--workspace",
        str(workspace),
        "--outputs-json",
        str(outputs),
        "--summary-out",
        str(workspace.parent / "summary.md"),
    ]
    for key, value in inputs.items():
        argv += ["--input", f"{key}={value}"]
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = run_ci_helper(*argv, env=env, timeout=300)
    return proc, (json.loads(outputs.read_text()) if outputs.exists() else None)


@pytest.mark.parametrize(
    ("fixture", "code", "total", "verdict"), [("good", 0, "100", "pass"), ("bad", 1, "29", "fail")]
)
def test_quality_action_runs_the_tests_under_coverage_then_the_gate(tmp_path, fixture, code, total, verdict):
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / fixture, workspace)
    # The audit step runs by default: a local OSV service with no records keeps it offline and green.
    with OsvServer([]) as osv:
        proc, outputs = run_quality(
            workspace,
            {"python": sys.executable, "pytest-args": "test_shapes.py -p no:cacheprovider", "osv-url": osv.query_url},
        )
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert outputs["outputs"]["total"] == total
    assert outputs["outputs"]["verdict"] == verdict
    assert outputs["outputs"]["diff"] == ""
    assert outputs["steps"]["tests"]["outcome"] == "success"
    assert outputs["steps"]["gate"]["outcome"] == ("success" if code == 0 else "failure")
    assert outputs["steps"]["audit"]["outcome"] == "success"
    # The runner's RUNNER_TEMP is gone after the run; pytest said where it wrote the JUnit file.
    assert f"generated xml file: {outputs['outputs']['junit-file']}" in proc.stdout
    result = json.loads((workspace / ".ci-helper" / "results" / "coverage.json").read_text())
    assert result["status"] == verdict
    assert result["figures"]["data_files_combined"] == 1
    # The run summary step renders every result of the job; red exactly when the gate was.
    assert outputs["steps"]["summary"]["outcome"] == ("success" if code == 0 else "failure")
    summary = (tmp_path / "summary.md").read_text().splitlines()
    assert summary[0] == ("## ✅ Green: ci-helper run summary" if code == 0 else "## ❌ Red: ci-helper run summary")
    coverage_row = next(
        line for line in summary if line.startswith(("| ✅ pass | coverage |", "| ❌ fail | coverage |"))
    )
    assert coverage_row.split(" | ")[3] == f"total {total}% (floor 90%)"


def _git(cwd: Path, *args: str) -> None:
    import subprocess

    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize(
    ("fixture", "code", "verdict", "tests"), [("good", 0, "merge-ready", 2), ("bad", 1, "not merge-ready", 1)]
)
def test_report_input_renders_the_run_report_and_never_changes_the_verdict(tmp_path, fixture, code, verdict, tests):
    workspace = tmp_path / "workspace"
    shutil.copytree(FIXTURES / fixture, workspace)
    (workspace / ".gitignore").write_text(".ci-helper/\n.coverage*\n__pycache__/\n")
    _git(workspace, "init", "-q", "-b", "main")
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-qm", "base")
    _git(workspace, "checkout", "-qb", "feature")
    # The change: one new function no test calls (its def line runs at import, its body does not).
    with (workspace / "shapes.py").open("a") as handle:
        handle.write("\n\ndef unused():\n    return 0\n")
    _git(workspace, "commit", "-qam", "feature")
    with OsvServer([]) as osv:
        proc, outputs = run_quality(
            workspace,
            {
                "python": sys.executable,
                "pytest-args": "test_shapes.py -p no:cacheprovider",
                "osv-url": osv.query_url,
                "compare-branch": "main",
                "report": "true",
            },
        )
    # The gates decide the job; the report step succeeds whatever its verdict says.
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert outputs["steps"]["gate"]["outcome"] == ("success" if code == 0 else "failure")
    assert outputs["steps"]["report"]["outcome"] == "success"
    saved = workspace / ".ci-helper" / "results" / "report"
    assert sorted(p.name for p in saved.iterdir()) == ["report.json", "report.md"]
    report = json.loads((saved / "report.json").read_text())
    assert report["verdict"] == verdict
    markdown = (saved / "report.md").read_text()
    assert markdown.splitlines()[0] == f"## CI run report: {verdict}"
    # The job summary holds the run summary, then the report, whole.
    summary = (tmp_path / "summary.md").read_text()
    assert summary.endswith(markdown)
    assert [(t["name"], t["total"], t["failed"]) for t in report["tiers"]] == [("quality", tests, 0)]
    # The changed file with its coverage, as the coverage gate counted it (never recomputed).
    coverage = json.loads((workspace / ".ci-helper" / "results" / "coverage.json").read_text())["figures"]
    [changed] = coverage["changed_files"]
    assert (changed["file"], changed["changed_statements"], changed["changed_missing"]) == ("shapes.py", 2, 1)
    assert report["base"] == "main"
    assert report["changed_files"] == [
        {
            "file": "shapes.py",
            "statements": changed["statements"],
            "missing": changed["missing"],
            "changed_statements": 2,
            "changed_missing": 1,
            "measured": True,
        }
    ]
    assert (
        f"| shapes.py | {changed['statements'] - changed['missing']}/{changed['statements']} | 1/2 |"
        in markdown.splitlines()
    )
    holds = {i["name"]: i["holds"] for i in report["invariants"]}
    assert holds["Every required check passed"] is (code == 0)
    assert holds["Determinism preserved (no network, clones, downloads)"] is True
