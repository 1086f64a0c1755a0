"""The run's start marker: written once, trusted only as written (ci_helper.run_start)."""

from __future__ import annotations

import json
import os
import stat
import time

import pytest

from ci_helper import run_start


@pytest.fixture
def runner_temp(tmp_path, monkeypatch):
    for name in run_start.IDENTITY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path))
    return tmp_path


def test_marked_once_per_run_read_only_and_dated_by_its_start(runner_temp):
    first = run_start.mark()
    path = runner_temp / "ci-helper" / "run-start.json"
    assert run_start.marker_path() == path
    assert json.loads(path.read_text())["started_at"] == first
    assert path.stat().st_mtime == first
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    # The next action's setup keeps the first start; only verify --run starts afresh.
    assert run_start.mark() == first
    assert run_start.started_at() == first
    assert run_start.mark(fresh=True, at=first + 5) == first + 5
    assert run_start.started_at() == first + 5


def test_a_rewritten_marker_is_refused(runner_temp):
    started = run_start.mark()
    path = run_start.marker_path()
    os.chmod(path, 0o644)
    # A later step moves the start back an hour, so older data would pass as this run's.
    path.write_text(json.dumps({"started_at": started - 3600}))
    with pytest.raises(run_start.MarkerError) as caught:
        run_start.started_at()
    assert caught.value.message == (
        f"{path}: the run's start marker was rewritten after setup wrote it (it says "
        f"{run_start.iso(started - 3600)}, the file was written {run_start.iso(path.stat().st_mtime)}); "
        "a step may not move the run's start: delete it and run setup again"
    )


def test_a_marker_in_the_future_is_refused(runner_temp):
    later = time.time() + 3600
    run_start.mark(fresh=True, at=later)
    with pytest.raises(run_start.MarkerError, match="lies in the future"):
        run_start.started_at()


@pytest.mark.parametrize("content", ["not json", "[]", '{"started_at": "yesterday"}', '{"started_at": NaN}'])
def test_an_unreadable_marker_is_bad_input(runner_temp, content):
    path = run_start.marker_path()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(run_start.MarkerError, match=f"^{path}: the run's start marker"):
        run_start.started_at()


def test_a_marker_of_another_run_is_replaced_by_setup_and_refused_by_gates(runner_temp, monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "100")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "1")
    monkeypatch.setenv("GITHUB_JOB", "quality")
    old = run_start.mark(at=time.time() - 3600)
    monkeypatch.setenv("GITHUB_RUN_ID", "101")  # a self-hosted runner's next run, same RUNNER_TEMP
    with pytest.raises(run_start.MarkerError, match=r"left by another run \(run 100 attempt 1, job quality\)"):
        run_start.started_at()
    new = run_start.mark()
    assert new > old
    assert run_start.started_at() == new


def test_a_dry_run_marker_names_no_run_and_is_kept(runner_temp, monkeypatch):
    at = time.time() - 10
    run_start.mark(fresh=True, at=at)  # verify --run, before its runner sets GITHUB_RUN_ID
    monkeypatch.setenv("GITHUB_RUN_ID", "1")
    assert run_start.mark() == at  # the job's setup step
    assert run_start.started_at() == at


def test_written_before_run(runner_temp, tmp_path):
    assert run_start.started_at() is None
    data = tmp_path / "data"
    data.write_text("x")
    assert run_start.written_before_run(data) is False  # no marker: nothing is judged stale
    started = run_start.mark()
    os.utime(data, (started - 60, started - 60))
    assert run_start.written_before_run(data) is True
    os.utime(data, (started - 1, started - 1))  # within the slack of coarse file systems
    assert run_start.written_before_run(data) is False
