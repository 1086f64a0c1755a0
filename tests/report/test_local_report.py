"""`ci-helper report` (local): inventory, invariants and verdict from what a real run left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ci_helper"]
PINNED = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"

WORKFLOW = f"""
name: tests
on: [pull_request]
permissions:
  contents: read
jobs:
  tests:
    name: Unit tests
    if: github.repository == 'o/r'
    runs-on: ubuntu-latest
    steps:
      - uses: {PINNED}
      - name: Tests
        run: ci-helper network run --log net.jsonl -- python -m pytest --junitxml=junit.xml
      - name: No network
        run: ci-helper network gate --log net.jsonl
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "PYTEST_ADDOPTS", "RUNNER_TEMP")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose tier ran for real: tests under the offline plugin, the network gate, verify."""
    project = tmp_path_factory.mktemp("project")
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "tests.yml").write_text(WORKFLOW, encoding="utf-8")
    (project / "pyproject.toml").write_text('[tool.ci-helper]\nrepository = "o/r"\n', encoding="utf-8")
    (project / "test_app.py").write_text("def test_one():\n    assert True\n\ndef test_two():\n    assert 2 > 1\n")
    tests = _run(
        [
            *CLI,
            "network",
            "run",
            "--log",
            "net.jsonl",
            "--",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml=junit.xml",
            "test_app.py",
        ],
        project,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert _run([*CLI, "network", "gate", "--log", "net.jsonl"], project).returncode == 0
    assert _run([*CLI, "verify", "."], project).returncode == 0
    return project


@pytest.fixture()
def project(ran: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(ran, copy)
    return copy


def _report(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = _run([*CLI, "report", ".", "--junit", "junit.xml", "--format", "json", *args], project)
    return proc, json.loads(proc.stdout) if proc.stdout.startswith("{") else {}


def test_a_clean_run_is_merge_ready_and_its_inventory_matches_the_workflow(project: Path) -> None:
    proc, report = _report(project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["verdict"] == "merge-ready"
    assert [(i["name"], i["holds"]) for i in report["invariants"]] == [
        ("Every required check passed", True),
        ("No skips, continues or muted gates", True),
        ("Every tier ran tests", True),
        ("Every action pinned to a commit", True),
        ("Determinism preserved (no network, clones, downloads)", True),
    ]
    assert report["invariants"][0]["evidence"] == "3 of 3 required checks and tiers passed"
    assert report["invariants"][4]["evidence"] == "network pass: 0 network attempts, 0 clones, 0 downloads"
    [workflow] = report["workflows"]
    assert workflow["rel"] == ".github/workflows/tests.yml"
    assert workflow["triggers"] == ["pull_request"]
    [job] = workflow["jobs"]
    assert (job["id"], job["name"], job["gate"]) == ("tests", "Unit tests", True)
    assert [(s["label"], s["gate"], s["required"]) for s in job["steps"]] == [
        (PINNED.split(" #")[0], False, False),
        ("Tests", True, True),
        ("No network", True, True),
    ]
    assert job["required"] is True
    # Built from results alone, the report does not know what the run did with each step.
    assert {s["outcome"] for s in job["steps"]} == {None}
    assert report["tiers"] == [
        {
            "name": "junit.xml",
            "file": "junit.xml",
            "total": 2,
            "passed": 2,
            "failed": 0,
            "errors": 0,
            "skipped": 0,
            "first_failure": None,
        }
    ]


def test_a_red_tier_is_not_merge_ready(project: Path) -> None:
    (project / "test_app.py").write_text("def test_one():\n    assert 1 == 2, 'one is not two'\n")
    _run(
        [
            *CLI,
            "network",
            "run",
            "--log",
            "net.jsonl",
            "--",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml=junit.xml",
            "test_app.py",
        ],
        project,
    )
    proc, report = _report(project)
    assert proc.returncode == 1
    assert report["verdict"] == "not merge-ready"
    assert report["tiers"][0]["failed"] == 1
    assert report["invariants"][0] == {
        "name": "Every required check passed",
        "holds": False,
        "evidence": "2 of 3 required checks and tiers passed: junit.xml 1 failed",
    }
    assert report["tiers"][0]["first_failure"].startswith("test_app.py::test_one: AssertionError: one is not two")


def test_a_check_that_did_not_run_is_not_merge_ready(project: Path) -> None:
    (project / "net.jsonl").unlink()
    _run([*CLI, "network", "gate", "--log", "net.jsonl"], project)
    proc, report = _report(project)
    assert proc.returncode == 1
    by_name = {i["name"]: i for i in report["invariants"]}
    assert by_name["No skips, continues or muted gates"]["holds"] is False
    assert (
        "network not run (no network log at net.jsonl: the offline plugin did not run)"
        in by_name["No skips, continues or muted gates"]["evidence"]
    )
    assert (
        by_name["Every required check passed"]["evidence"] == "2 of 3 required checks and tiers passed: network not-run"
    )


def test_a_muted_gate_is_not_merge_ready(project: Path) -> None:
    workflow = project / ".github" / "workflows" / "tests.yml"
    workflow.write_text(
        workflow.read_text().replace("      - name: Tests\n", "      - name: Tests\n        continue-on-error: true\n")
    )
    proc, report = _report(project)
    assert proc.returncode == 1
    muted = next(i for i in report["invariants"] if i["name"] == "No skips, continues or muted gates")
    assert muted["holds"] is False
    assert "muted-gate at .github/workflows/tests.yml:" in muted["evidence"]
    step = report["workflows"][0]["jobs"][0]["steps"][1]
    assert step["continue_on_error"] == "true"
    assert (step["gate"], step["required"]) == (True, False)


def test_no_results_and_no_junit_prove_nothing(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "tests.yml").write_text(WORKFLOW)
    proc = _run([*CLI, "report", "."], tmp_path)
    assert proc.returncode == 1
    assert "## CI run report: not merge-ready" in proc.stdout
    assert "| Every required check passed | ❌ no | no check result found: nothing was proven |" in proc.stdout
    assert "| Every tier ran tests | ❌ no | no JUnit file given: no tier is known to have run a test |" in proc.stdout


def test_markdown_report_escapes_hostile_step_names(project: Path) -> None:
    workflow = project / ".github" / "workflows" / "tests.yml"
    workflow.write_text(workflow.read_text().replace("name: Tests", "name: 'Tests @octocat #7 | x'"))
    proc = _run([*CLI, "report", ".", "--junit", "junit.xml"], project)
    assert "@octocat" not in proc.stdout
    assert "\\| x | gate |" in proc.stdout  # the pipe cannot open a table cell
