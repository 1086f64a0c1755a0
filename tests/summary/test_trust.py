"""The summary trusts nothing it cannot check: bare, handmade and stale results, stale and suite-failed JUnit."""

from __future__ import annotations

import json
import os
import time

import pytest

from ci_helper import run_start
from ci_helper.errors import BadInput
from ci_helper.schemas import known_checks
from ci_helper.summary import escape, model, render

from .conftest import real_result, write_junit, write_result


def refused(folder) -> str:
    with pytest.raises(BadInput) as exc:
        model.load(folder, [])
    return exc.value.message


def test_a_bare_pass_is_invalid_input(tmp_path):
    path = write_result(tmp_path, "coverage", "pass")
    assert refused(tmp_path) == (
        f"{path}: invalid coverage result: required figure 'total' is missing (+7 more); "
        "see docs/results-schemas.md, then re-run the gate that writes it"
    )


def test_a_handmade_pass_missing_one_required_figure_is_invalid(gate_results, tmp_path):
    path = real_result(gate_results, "smoke/good", tmp_path)
    raw = json.loads(path.read_text())
    del raw["figures"]["failed"]
    path.write_text(json.dumps(raw))
    assert refused(tmp_path).startswith(f"{path}: invalid smoke result: required figure 'failed' is missing;")


def test_an_unknown_figure_is_invalid(gate_results, tmp_path):
    # An alias no gate writes ("files_under_floor") is not quietly shown.
    path = real_result(gate_results, "coverage/good", tmp_path, files_under_floor=0)
    assert refused(tmp_path).startswith(f"{path}: invalid coverage result: unknown figure 'files_under_floor';")


def test_a_figure_of_the_wrong_type_is_invalid(gate_results, tmp_path):
    path = real_result(gate_results, "coverage/good", tmp_path, total="91%")
    assert refused(tmp_path).startswith(
        f"{path}: invalid coverage result: figure 'total' must be number or null, got \"91%\";"
    )


def test_an_infinite_figure_is_invalid(gate_results, tmp_path):
    path = real_result(gate_results, "coverage/good", tmp_path)
    path.write_text(path.read_text().replace('"total": 100.0', '"total": 1e999'))
    assert (
        refused(tmp_path)
        == f"{path}: corrupt check result (1e999 is not a finite number); delete it and re-run the gate"
    )


def test_a_check_without_a_schema_is_invalid(tmp_path):
    path = write_result(tmp_path, "licenses", "pass", {"packages": 58})
    assert refused(tmp_path).startswith(
        f"{path}: invalid licenses result: no figures schema for check 'licenses' "
        f"(ci-helper writes: {', '.join(known_checks())});"
    )
    assert "skips" in known_checks()


def test_a_result_under_another_checks_file_name_is_refused(gate_results, tmp_path):
    source = real_result(gate_results, "coverage/good", tmp_path)
    source.rename(tmp_path / "smoke.json")
    assert refused(tmp_path) == (
        f"{tmp_path / 'smoke.json'}: holds the result of check 'coverage'; gates write "
        "coverage.json, so this file was not written by one: delete it"
    )


def test_the_cli_exits_2_naming_the_invalid_file(cli, tmp_path):
    path = write_result(tmp_path / "results", "coverage", "pass", {"total": 99.0})
    result = cli("summary", "--results", str(tmp_path / "results"))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1].startswith(f"Error: {path}: invalid coverage result: required figure")


@pytest.fixture
def run_started(tmp_path, monkeypatch):
    """A run whose start marker was written now, under RUNNER_TEMP (as our setup action writes it)."""
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path / "runner-temp"))
    return run_start.mark(fresh=True)


def age(path, seconds=3600):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_result_written_before_the_run_started_is_stale(gate_results, tmp_path, run_started):
    old = real_result(gate_results, "coverage/good", tmp_path / "results")
    real_result(gate_results, "deps/good", tmp_path / "results")
    age(old)
    run = model.load(tmp_path / "results", [])
    coverage = next(c for c in run.checks if c.check == "coverage")
    assert (coverage.status, coverage.reason) == ("not-run", f"stale: written before this run started ({old})")
    assert run.blockers() == ["coverage did not run"]


def test_a_junit_file_written_before_the_run_started_is_a_stale_tier(gate_results, tmp_path, run_started):
    real_result(gate_results, "deps/good", tmp_path / "results")
    old = write_junit(tmp_path / "junit-quality.xml", [{"name": "test_a"}, {"name": "test_b"}])
    age(old)
    run = model.load(tmp_path / "results", [str(old)])
    tier = run.tiers[0]
    assert (tier.name, tier.status, tier.report.total) == ("quality", "not-run", 0)
    assert tier.why == f"stale: written before this run started ({old})"
    assert run.blockers() == [f"tests: quality: stale: written before this run started ({old})"]
    text = render.render_markdown(run).text
    row = f"| ⚠️ not run | tests: quality | required | stale report, not counted | {escape.inline(tier.why)} |"
    assert row in text.split("\n")


def test_a_fresh_junit_file_counts(gate_results, tmp_path, run_started):
    real_result(gate_results, "deps/good", tmp_path / "results")
    fresh = write_junit(tmp_path / "junit-quality.xml", [{"name": "test_a"}])
    assert model.load(tmp_path / "results", [str(fresh)]).green


SETUP_CLASS_FAILED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="tests.test_db.TestDb" tests="2" failures="0" errors="1" time="0.4">
<error message="setup_class: connection refused">Traceback</error>
<testcase classname="tests.test_db.TestDb" name="test_read" time="0.1"/>
<testcase classname="tests.test_db.TestDb" name="test_write" time="0.1"/>
</testsuite></testsuites>
"""


def test_a_suite_level_failure_makes_the_tier_red_with_a_finding(gate_results, tmp_path):
    real_result(gate_results, "deps/good", tmp_path / "results")
    junit = tmp_path / "junit-quality.xml"
    junit.write_text(SETUP_CLASS_FAILED)
    run = model.load(tmp_path / "results", [str(junit)])
    assert run.tiers[0].status == "fail"
    assert run.blockers() == [
        "tests: quality: suite tests.test_db.TestDb declares 1 errors but its test cases show 0 (+1 more)"
    ]
    result = run.to_result()
    assert [(f.rule, f.message) for f in result.findings if f.rule == "summary-junit-suite"] == [
        (
            "summary-junit-suite",
            "tests: quality: suite tests.test_db.TestDb declares 1 errors but its test cases show 0",
        ),
        (
            "summary-junit-suite",
            "tests: quality: suite tests.test_db.TestDb: error outside any test case "
            "(a setup or teardown failed): setup_class: connection refused",
        ),
    ]
    # The tier's Time is the suite's wall time as declared (0.4 s), not the cases' sum (0.2 s).
    assert "| Time (s) | 0.4 |" in render.render_markdown(run).text.split("\n")


def test_refused_input_still_leaves_a_red_job_summary_naming_the_file(cli, tmp_path):
    path = write_result(tmp_path / "results", "coverage", "pass", {"total": 99.0})
    step_summary = tmp_path / "step-summary.md"
    result = cli("summary", "--results", str(tmp_path / "results"), env={"GITHUB_STEP_SUMMARY": str(step_summary)})
    assert result.exit_code == 2
    text = step_summary.read_text()
    assert text.startswith("## ❌ Red: ci-helper run summary\n\nInvalid input: ")
    assert escape.inline(str(path)) in text
