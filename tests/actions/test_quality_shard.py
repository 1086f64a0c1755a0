"""actions/quality with `shard`: each shard job runs its slice under coverage; combine and one gate make the verdict."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.actions.test_quality_action_run import pytestmark as quality_marks, run_quality
from tests.conftest import run_ci_helper

pytestmark = quality_marks

MODULE = """
def grade(n):
    if n > 90:
        return "A"
    if n > 80:
        return "B"
    if n > 70:
        return "C"
    return "F"


def never_called():
    return 0
"""
TESTS = "".join(
    f"\n\ndef test_grade_{n}():\n    from shapes import grade\n    assert grade({n}) in 'ABCF'\n"
    for n in (95, 85, 75, 10, 99, 50, 71)
)


# The action's JUnit lives in RUNNER_TEMP, gone after run-action: the project keeps a copy in the
# workspace, as the reusable workflow's "Keep the shard's JUnit" step does.
CONFTEST = """
import os
import shutil


def pytest_unconfigure(config):
    path = getattr(config.option, "xmlpath", None)
    if path and os.path.exists(path):
        shutil.copy(path, "shard-junit.xml")
"""


def project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "conftest.py").write_text(CONFTEST)
    (root / "shapes.py").write_text(MODULE)
    (root / "test_shapes.py").write_text(TESTS)
    (root / "pyproject.toml").write_text(
        '[tool.coverage.run]\nsource = ["shapes"]\nbranch = true\n[tool.coverage.report]\nprecision = 2\n'
    )
    return root


def test_three_shards_run_each_test_once_and_combine_to_the_unsharded_total(tmp_path):
    artifacts = tmp_path / "artifacts"
    (artifacts / "coverage").mkdir(parents=True)
    # Every GitHub runner checks the repository out at the same path: so do the shards and the aggregate here.
    workspace = tmp_path / "work" / "repo"
    for index in (1, 2, 3):
        shutil.rmtree(workspace, ignore_errors=True)
        project(workspace)
        proc, outputs = run_quality(
            workspace,
            {
                "python": sys.executable,
                "shard": str(index),
                "shards": "3",
                "audit": "false",
                "summary": "false",
                "pytest-args": "test_shapes.py -p no:cacheprovider",
            },
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        steps = outputs["steps"]
        assert (steps["tests"]["outcome"], steps["shard"]["outcome"], steps["gate"]["outcome"]) == (
            "skipped",
            "success",
            "skipped",
        )
        # The shard ran under the offline hook like the unsharded tests, and its skips were counted.
        assert (steps["network"]["outcome"], steps["skips"]["outcome"]) == ("success", "success")
        assert f"shard {index}/3: pass - " in proc.stdout
        shard = json.loads((workspace / ".ci-helper" / "results" / "shard.json").read_text())
        assert (shard["figures"]["index"], shard["figures"]["total"], shard["figures"]["collected"]) == (index, 3, 7)
        # No coverage verdict from a part of the data.
        assert not (workspace / ".ci-helper" / "results" / "coverage.json").exists()
        data = sorted(workspace.glob(".coverage.*"))
        assert len(data) == 1
        # What the reusable workflow uploads as the shard's artifact.
        target = artifacts / f"ci-helper-quality-shard-{index}"
        shutil.copytree(workspace / ".ci-helper", target / ".ci-helper")
        shutil.copy(workspace / "shard-junit.xml", target / "junit.xml")
        shutil.copy(data[0], artifacts / "coverage" / data[0].name)

    shutil.rmtree(workspace)
    aggregate = project(workspace)
    needs = json.dumps({"tests": {"result": "success", "outputs": {}}})
    combined = run_ci_helper(
        "combine",
        *sorted(str(p) for p in artifacts.glob("ci-helper-quality-shard-*")),
        cwd=aggregate,
        env={"CI_HELPER_NEEDS": needs, "CI_HELPER_SHARD_TOTAL": "3"},
    )
    assert combined.returncode == 0, combined.stdout + combined.stderr
    assert combined.stdout.splitlines()[-1] == (
        "combine: pass - 3 of 3 shards, 7 of 7 collected tests ran once, 0 in no shard, 0 more than once"
    )
    gate = run_ci_helper("coverage", "gate", "--data-file", str(artifacts / "coverage"), cwd=aggregate)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    sharded_total = json.loads((aggregate / ".ci-helper" / "results" / "coverage.json").read_text())["figures"]["total"]

    alone = project(tmp_path / "unsharded")
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=alone,
        check=True,
        capture_output=True,
    )
    report = subprocess.run(
        [sys.executable, "-m", "coverage", "report", "--format=total", "--precision=2"],
        cwd=alone,
        check=True,
        capture_output=True,
        text=True,
    )
    assert f"{sharded_total:.2f}" == report.stdout.strip()
    assert sharded_total < 100  # never_called() is missed in both


@pytest.mark.parametrize("index", ["0", "4"])
def test_a_shard_outside_the_total_is_red(tmp_path, index):
    workspace = project(tmp_path / "workspace")
    proc, outputs = run_quality(
        workspace,
        {
            "python": sys.executable,
            "shard": index,
            "shards": "3",
            "audit": "false",
            "summary": "false",
            "pytest-args": "test_shapes.py -p no:cacheprovider",
        },
    )
    assert proc.returncode == 1
    assert outputs["steps"]["shard"]["outcome"] == "failure"
    assert f"Error: --index must be from 1 to --total (3), got {index}" in proc.stdout + proc.stderr
