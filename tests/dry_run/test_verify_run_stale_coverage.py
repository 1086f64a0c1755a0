"""`ci-helper verify --run` never counts an earlier run's coverage data (issue 13: the 34 % shown as 91 %).

The real CLI on a copy of examples/diffusion-api, run twice: the second run, after
most quality tests were deleted, must be red for its own coverage, not green from
the data the first run left in the project folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.dry_run.test_verify_run import (
    EXAMPLE,
    UNREACHABLE_OSV,
    blockers,
    dry_run,
    summary_of,
    table,
)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A clean copy of the example project, as test_verify_run makes it."""
    copy = tmp_path / "diffusion-api"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns(".ci-helper", "repositories", "__pycache__", ".coverage*", ".pytest_cache"),
    )
    with (copy / "pyproject.toml").open("a") as pyproject:
        pyproject.write(UNREACHABLE_OSV)
    return copy


def test_a_second_run_with_the_quality_tests_deleted_is_red(example):
    first = dry_run(example, "--job", "quality")
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    total = re.fullmatch(r"total (\d+)% \(floor 85%\)", table(summary_of(first.stdout))["coverage"][2])
    assert int(total.group(1)) >= 85
    left_behind = sorted(p.name for p in example.glob(".coverage.*"))
    assert len(left_behind) == 1  # the first run's data stays in the project, as it does on a laptop

    for name in ("test_server.py", "test_pipeline.py"):
        (example / "tests" / "quality" / name).unlink()
    second = dry_run(example, "--job", "quality")

    assert second.returncode == 1, second.stdout[-4000:] + second.stderr
    assert "coverage data: 1 data file(s) of an earlier run removed" in second.stdout.splitlines()
    summary = summary_of(second.stdout)
    assert summary.splitlines()[0].endswith(": RED")
    assert blockers(summary) == ["coverage failed", "job-quality failed"]
    status, required, key, why = table(summary)["coverage"]
    assert (status, required, key, why) == (
        "FAIL",
        "required",
        "total 34% (floor 85%)",
        "total coverage 34% is under the floor 85%",
    )
    assert table(summary)["tests: quality"][0] == "PASS"  # the remaining tests passed: red for the coverage
    assert left_behind[0] not in [p.name for p in example.glob(".coverage.*")]
