"""`ci-helper shard`: deterministic, balanced splits run with real pytest subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ci_helper.gates import shard

CLI = [sys.executable, "-m", "ci_helper"]

SUITE = """
    import time
    import pytest

    @pytest.mark.parametrize("i", range(10))
    def test_param(i):
        assert i >= 0

    class TestSlow:
        def test_slow(self):
            time.sleep(0.3)
"""


def _project(tmp_path: Path, suite: str = SUITE, pyproject: str = "") -> Path:
    (tmp_path / "test_suite.py").write_text(textwrap.dedent(suite), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return tmp_path


def _shard(
    project: Path, total: int, index: int, *extra: str, durations: tuple[str, ...] = ()
) -> tuple[subprocess.CompletedProcess[str], dict]:
    args = [*CLI, "shard", "--total", str(total), "--index", str(index), "--results-dir", str(project / f"r{index}")]
    for d in durations:
        args += ["--durations", d]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    proc = subprocess.run(
        [*args, "--", "-p", "no:cacheprovider", *extra],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    path = project / f"r{index}" / "shard.json"
    return proc, (json.loads(path.read_text(encoding="utf-8")) if path.exists() else {})


def test_three_shards_run_every_collected_test_exactly_once(tmp_path: Path) -> None:
    project = _project(tmp_path)
    groups = []
    for index in (1, 2, 3):
        proc, result = _shard(project, 3, index, f"--junitxml=j{index}.xml")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert result["status"] == "pass"
        assert result["figures"]["collected"] == 11
        assert result["figures"]["strategy"] == "counts"
        groups.append(result["figures"]["tests"])
    assert [len(g) for g in groups] == [4, 4, 3]
    flat = [t for g in groups for t in g]
    assert len(flat) == len(set(flat)) == 11
    assert "test_suite.py::TestSlow::test_slow" in flat
    # Each shard's JUnit holds exactly its own group.
    for index, group in enumerate(groups, 1):
        xml = (project / f"j{index}.xml").read_text(encoding="utf-8")
        assert xml.count("<testcase ") == len(group)


def test_durations_from_earlier_junit_balance_the_slow_test_alone(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _shard(project, 1, 1, "--junitxml=all.xml")
    proc, result = _shard(project, 2, 1, durations=(str(project / "all.xml"),))
    assert proc.returncode == 0
    figures = result["figures"]
    assert figures["strategy"] == "durations"
    assert figures["known_durations"] == 11
    assert figures["tests"] == ["test_suite.py::TestSlow::test_slow"]
    _, second = _shard(project, 2, 2, durations=(str(project / "all.xml"),))
    assert len(second["figures"]["tests"]) == 10
    assert result["figures"]["collected_digest"] == second["figures"]["collected_digest"]


def test_a_failing_test_makes_its_shard_red(tmp_path: Path) -> None:
    project = _project(tmp_path, "def test_ok():\n    pass\n\ndef test_bad():\n    assert False\n")
    outcomes = {}
    for index in (1, 2):
        proc, result = _shard(project, 2, index)
        outcomes[tuple(result["figures"]["tests"])] = (
            proc.returncode,
            result["status"],
            [f["rule"] for f in result["findings"]],
        )
    assert outcomes[("test_suite.py::test_bad",)] == (1, "fail", ["shard-tests"])
    assert outcomes[("test_suite.py::test_ok",)] == (0, "pass", [])


def test_more_shards_than_tests_is_red_not_an_empty_green(tmp_path: Path) -> None:
    project = _project(tmp_path, "def test_only():\n    pass\n")
    proc, result = _shard(project, 2, 2)
    assert proc.returncode == 1
    assert result["status"] == "fail"
    assert result["findings"][0]["message"] == (
        "shard 2 of 2 has no tests: 1 collected tests cannot fill 2 shards; lower --total"
    )


def test_collection_error_is_red_with_pytests_reason(tmp_path: Path) -> None:
    project = _project(tmp_path, "import not_a_module_anywhere\n\ndef test_x():\n    pass\n")
    proc, result = _shard(project, 2, 1)
    assert proc.returncode == 1
    assert result["findings"][0]["rule"] == "shard-collection"


def test_no_tests_collected_is_red(tmp_path: Path) -> None:
    project = _project(tmp_path, "x = 1\n")
    proc, result = _shard(project, 2, 1)
    assert proc.returncode == 1
    assert result["findings"][0]["message"] == "pytest collected no tests: a tier that runs zero tests failed"


def test_project_verbosity_and_selection_options_are_honoured(tmp_path: Path) -> None:
    # addopts with -qq would turn `--collect-only -q` output into per-file counts; we read node ids from the plugin.
    project = _project(tmp_path, pyproject='[tool.pytest.ini_options]\naddopts = "-qq"\n')
    proc, result = _shard(project, 1, 1, "-k", "slow")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["figures"]["tests"] == ["test_suite.py::TestSlow::test_slow"]
    assert result["figures"]["collected"] == 1


@pytest.mark.parametrize(
    ("total", "index", "message"),
    [
        ("0", "1", "--total must be at least 1, got 0"),
        ("3", "4", "--index must be from 1 to --total (3), got 4"),
        ("3", "0", "--index must be from 1 to --total (3), got 0"),
    ],
)
def test_bad_total_or_index_is_exit_2(tmp_path: Path, total: str, index: str, message: str) -> None:
    proc = subprocess.run(
        [*CLI, "shard", "--total", total, "--index", index, "--results-dir", str(tmp_path / "r")],
        cwd=_project(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_durations_file_is_exit_2(tmp_path: Path) -> None:
    proc, _ = _shard(_project(tmp_path), 2, 1, durations=(str(tmp_path / "nope.xml"),))
    assert proc.returncode == 2
    assert "durations file not found" in proc.stderr


@pytest.mark.parametrize(
    ("node_id", "key"),
    [
        ("tests/test_x.py::test_y", ("tests.test_x", "test_y")),
        ("tests/test_x.py::TestC::test_y[a::b-1]", ("tests.test_x.TestC", "test_y[a::b-1]")),
        ("test_top.py::TestA::TestB::test_z", ("test_top.TestA.TestB", "test_z")),
    ],
)
def test_junit_key_matches_pytests_classname_and_name(node_id: str, key: tuple[str, str]) -> None:
    assert shard.junit_key(node_id) == key


node_lists = st.lists(st.text("abcdefgh/_:[]", min_size=1, max_size=12), min_size=0, max_size=60, unique=True)


@settings(max_examples=150, deadline=None)
@given(nodes=node_lists, total=st.integers(1, 7), seed_times=st.lists(st.floats(0, 50), max_size=60))
def test_split_is_a_deterministic_partition_in_collection_order(
    nodes: list[str], total: int, seed_times: list[float]
) -> None:
    times = {
        shard.junit_key(n): t for n, t in zip(nodes, seed_times, strict=False)
    }  # fewer times than nodes is the point
    plan = shard.split(nodes, total, times)
    assert plan == shard.split(list(nodes), total, dict(times))
    assert len(plan.groups) == total
    flat = [n for g in plan.groups for n in g]
    assert sorted(flat) == sorted(nodes)
    position = {n: i for i, n in enumerate(nodes)}
    for group in plan.groups:
        assert [position[n] for n in group] == sorted(position[n] for n in group)
    if not times:
        sizes = [len(g) for g in plan.groups]
        assert max(sizes) - min(sizes) <= 1
