"""`ci-helper combine` over real shards: one honest verdict, red for every way a matrix goes wrong."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "ci_helper"]

SUITE = """
    import pytest

    @pytest.mark.parametrize("i", range(8))
    def test_param(i):
        assert i >= 0

    def test_alone():
        pass
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "GITHUB_ACTIONS")}
    return subprocess.run(args, cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project run as 3 real shards, each leaving an artifact folder like upload-artifact would."""
    root = tmp_path_factory.mktemp("sharded")
    project = root / "project"
    project.mkdir()
    (project / "test_suite.py").write_text(textwrap.dedent(SUITE), encoding="utf-8")
    for index in (1, 2, 3):
        artifact = root / "artifacts" / f"shard-{index}"
        proc = _run(
            [
                *CLI,
                "shard",
                "--total",
                "3",
                "--index",
                str(index),
                "--results-dir",
                str(artifact / "results"),
                "--",
                "-p",
                "no:cacheprovider",
                f"--junitxml={artifact / 'junit.xml'}",
            ],
            project,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _combine(
    root: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = _run([*CLI, "combine", str(root / "artifacts"), "--results-dir", str(root / "out"), *extra], root, env)
    result_path = root / "out" / "combine.json"
    return proc, json.loads(result_path.read_text(encoding="utf-8")) if result_path.exists() else {}


@pytest.fixture()
def copy(sharded: Path, tmp_path: Path) -> Path:
    shutil.copytree(sharded / "artifacts", tmp_path / "artifacts")
    return tmp_path


def _messages(result: dict) -> list[str]:
    return [f["message"] for f in result["findings"]]


def test_all_green_shards_give_one_green_verdict(copy: Path) -> None:
    proc, result = _combine(copy, "--needs", json.dumps({"tests": {"result": "success", "outputs": {}}}))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["status"] == "pass"
    assert result["figures"] == {
        "shards_expected": 3,
        "shards_found": 3,
        "collected": 9,
        "planned": 9,
        "ran": 9,
        "not_run": 0,
        "duplicated": 0,
        "jobs_not_successful": 0,
    }
    assert (
        "combine: pass - 3 of 3 shards, 9 of 9 collected tests ran once, 0 in no shard, 0 more than once" in proc.stdout
    )


def test_a_deleted_junit_file_is_red_and_names_the_shard_and_its_tests(copy: Path) -> None:
    (copy / "artifacts" / "shard-2" / "junit.xml").unlink()
    proc, result = _combine(copy)
    assert proc.returncode == 1
    plan = json.loads((copy / "artifacts" / "shard-2" / "results" / "shard.json").read_text())["figures"]["tests"]
    assert (
        _messages(result)[0]
        == f"shard 2: no JUnit file in {copy / 'artifacts' / 'shard-2'}; upload the file pytest wrote"
    )
    assert _messages(result)[1] == f"{len(plan)} collected tests ran in no shard: {', '.join(plan)}"


def test_a_cancelled_shard_is_red(copy: Path) -> None:
    shutil.rmtree(copy / "artifacts" / "shard-3")
    proc, result = _combine(
        copy, "--needs", json.dumps({"tests": {"result": "cancelled"}, "lint": {"result": "success"}})
    )
    assert proc.returncode == 1
    assert _messages(result)[:2] == [
        "job tests cancelled: a required job that did not succeed cannot pass as green",
        "shard 3 of 3: no result (skipped, cancelled or its artifact was not uploaded)",
    ]
    assert result["figures"]["jobs_not_successful"] == 1


def test_a_skipped_job_alone_is_red(copy: Path) -> None:
    proc, result = _combine(copy, env={"CI_HELPER_NEEDS": json.dumps({"tests": {"result": "skipped"}})})
    assert proc.returncode == 1
    assert _messages(result) == ["job tests skipped: a required job that did not succeed cannot pass as green"]


def test_a_test_run_in_two_shards_is_red_and_named(copy: Path) -> None:
    one = copy / "artifacts" / "shard-1" / "junit.xml"
    two = (copy / "artifacts" / "shard-2" / "junit.xml").read_text(encoding="utf-8")
    start = two.index("<testcase ")
    case = two[start : two.index("/>", start) + 2]
    text = one.read_text(encoding="utf-8")
    one.write_text(text.replace("</testsuite>", case + "</testsuite>"), encoding="utf-8")
    proc, result = _combine(copy)
    assert proc.returncode == 1
    name = case.split(' name="', 1)[1].split('"', 1)[0]
    [message] = _messages(result)
    assert message.startswith("1 tests ran more than once: test_suite.py::")
    assert f"{name} (shards 1, 2)" in message


def test_a_failed_shard_is_red(copy: Path) -> None:
    path = copy / "artifacts" / "shard-1" / "results" / "shard.json"
    data = json.loads(path.read_text())
    data["status"] = "fail"
    data["findings"] = [
        {"rule": "shard-tests", "message": "pytest exited 1 in shard 1 of 3", "file": None, "line": None}
    ]
    path.write_text(json.dumps(data))
    proc, result = _combine(copy)
    assert proc.returncode == 1
    assert _messages(result) == ["shard 1: fail - pytest exited 1 in shard 1 of 3"]


def test_shards_of_different_suites_are_red(copy: Path) -> None:
    path = copy / "artifacts" / "shard-1" / "results" / "shard.json"
    data = json.loads(path.read_text())
    data["figures"]["collected_digest"] = "0" * 64
    path.write_text(json.dumps(data))
    _, result = _combine(copy)
    assert any(m.startswith("shards collected different suites") for m in _messages(result))


def test_no_artifacts_is_red_and_missing_folder_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "artifacts").mkdir()
    proc, result = _combine(tmp_path)
    assert proc.returncode == 1
    assert _messages(result) == ["no shard result in any artifact folder"]
    missing = _run([*CLI, "combine", str(tmp_path / "nope")], tmp_path)
    assert missing.returncode == 2
    assert "artifact folder not found" in missing.stderr


@pytest.mark.parametrize(
    ("needs", "message"),
    [
        ("{not json", "--needs: not JSON"),
        ('["a"]', "--needs: expected an object of jobs"),
        ('{"a": {"result": "maybe"}}', "--needs: job 'a' has no result among success, failure, cancelled, skipped"),
    ],
)
def test_bad_needs_is_exit_2(copy: Path, needs: str, message: str) -> None:
    proc, _ = _combine(copy, "--needs", needs)
    assert proc.returncode == 2
    assert message in proc.stderr
