"""The summary's bundled canary fixtures: the bad one must be red, the good one green."""

import json

from ci_helper.canary import cases, run
from ci_helper.summary import model

from .conftest import FIXTURES


def test_summary_registers_a_bad_and_a_good_fixture():
    found = {(c.fixture, c.expect, c.check) for c in cases.discover() if c.gate == "summary"}
    assert found == {("bad", "fail", "summary"), ("good", "pass", "summary"), ("suite-failure", "fail", "summary")}


def test_the_canary_sees_the_summary_bite():
    outcomes = [run.run_case(c) for c in cases.discover() if c.gate == "summary"]
    assert sorted((o.fixture, o.expected, o.got, o.detail) for o in outcomes) == [
        ("bad", "fail", "fail", "tests: smoke: 1 failed"),
        ("good", "pass", "pass", ""),
        (
            "suite-failure",
            "fail",
            "fail",
            "tests: quality: suite tests.quality.test_weights.TestWeights declares 1 errors "
            "but its test cases show 0 (+1 more)",
        ),
    ]
    suite = next(o for o in outcomes if o.fixture == "suite-failure")
    assert "summary-junit-suite" in suite.rules


def test_write_result_records_the_verdict_and_is_never_read_back(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    args = ["--results", str(FIXTURES / "bad" / "results"), "--junit", str(FIXTURES / "bad" / "junit" / "smoke.xml")]
    result = cli("summary", *args, "--write-result", env={"CI_HELPER_RESULTS_DIR": str(out)})
    assert result.exit_code == 1
    written = json.loads((out / "summary.json").read_text())
    assert written["status"] == "fail"
    assert written["figures"] == {"checks": 6, "required": 7, "tests": 6, "blockers": 4}
    assert [f["message"] for f in written["findings"]] == [
        "tests: smoke: 1 failed",
        "audit did not run",
        "coverage failed",
        "smoke failed",
    ]
    # A summary result sitting in the results folder is not one of the checks.
    (out / "deps.json").write_text((FIXTURES / "good" / "results" / "deps.json").read_text())
    assert [c.check for c in model.load(out, []).checks] == ["deps"]
