"""A tier is named by the step that produced it; a step that wrote nothing this run is a tier that did not run."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ci_helper.dry_run import jobs as jobs_mod
from ci_helper.dry_run.run import step_tiers
from ci_helper.runner.composite import StepResult
from ci_helper.summary import model

SMOKE = "truthful-ci/ci-helper/actions/smoke@94cde3876a2334712175e64dca05ba4cecd11503"
QUALITY = "truthful-ci/ci-helper/actions/quality@94cde3876a2334712175e64dca05ba4cecd11503"
PASSING = (
    '<testsuites><testsuite name="pytest" tests="1" time="0.1">'
    '<testcase classname="tests.test_a" name="test_a" time="0.1"/></testsuite></testsuites>'
)


def job(*uses: str) -> jobs_mod.PlannedJob:
    return jobs_mod.PlannedJob(
        Path("ci.yml"), ".github/workflows/ci.yml", "tests", "tests", [{"uses": u} for u in uses]
    )


def report(path: Path) -> str:
    path.write_text(PASSING)
    return str(path)


def test_smoke_and_quality_in_one_job_are_two_tiers(tmp_path):
    started = time.time() - 1
    steps = [
        StepResult("__smoke", "Smoke", "success", "success", {"junit": report(tmp_path / "smoke.xml")}),
        StepResult("__quality", "Quality", "success", "success", {"junit-file": report(tmp_path / "quality.xml")}),
    ]
    found, not_run = step_tiers(job(SMOKE, QUALITY), steps, tmp_path, started)
    assert found == [("smoke", str(tmp_path / "smoke.xml")), ("quality", str(tmp_path / "quality.xml"))]
    assert not_run == {}


def test_a_step_id_names_its_tier(tmp_path):
    steps = [StepResult("api-smoke", "Smoke", "success", "success", {"junit": report(tmp_path / "s.xml")})]
    found, _ = step_tiers(job(SMOKE), steps, tmp_path, time.time() - 1)
    assert found == [("api-smoke", str(tmp_path / "s.xml"))]


def test_a_skipped_step_is_a_tier_that_did_not_run_not_a_pass_from_another_steps_file(tmp_path):
    # Both steps name the same report: the smoke step wrote it, the quality step was skipped.
    shared = report(tmp_path / "junit.xml")
    steps = [
        StepResult("__smoke", "Smoke", "success", "success", {"junit": shared}),
        StepResult("__quality", "Quality", "skipped", "skipped", {}),
    ]
    found, not_run = step_tiers(job(SMOKE, QUALITY), steps, tmp_path, time.time() - 1)
    assert found == [("smoke", shared)]
    assert not_run == {"quality": "its step 'Quality' (skipped) was skipped: no tests ran"}
    run = model.load(None, [f"{n}={p}" for n, p in found], not_run_tiers=not_run)
    assert [(t.name, t.status) for t in run.tiers] == [("smoke", "pass"), ("quality", "not-run")]
    assert run.blockers() == ["tests: quality: its step 'Quality' (skipped) was skipped: no tests ran"]


def test_a_step_that_failed_before_writing_is_not_run(tmp_path):
    steps = [StepResult("__quality", "Quality", "failure", "failure", {"junit-file": str(tmp_path / "never.xml")})]
    _, not_run = step_tiers(job(QUALITY), steps, tmp_path, time.time() - 1)
    assert not_run == {"quality": f"its step 'Quality' (failure) did not write {tmp_path / 'never.xml'}"}


def test_a_report_older_than_the_job_is_not_this_runs(tmp_path):
    old = report(tmp_path / "junit.xml")
    then = time.time() - 3600
    os.utime(old, (then, then))
    steps = [StepResult("__quality", "Quality", "success", "success", {"junit-file": old})]
    found, not_run = step_tiers(job(QUALITY), steps, tmp_path, time.time() - 1)
    assert found == []
    assert not_run == {"quality": f"{old} predates its step 'Quality' (success): an earlier report, not this run's"}
