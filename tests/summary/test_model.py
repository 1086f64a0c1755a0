"""The verdict: green only when every required check passed and every tier ran tests."""

import pytest

from ci_helper.errors import BadInput
from ci_helper.junit import JUnitError
from ci_helper.summary import model

from .conftest import real_result, write_junit, write_result


def load(folder, *junit):
    return model.load(folder / "results", [str(folder / "junit" / j) for j in junit])


def test_known_good_fixture_is_green(good):
    run = load(good, "smoke.xml", "quality.xml")
    assert (run.green, run.blockers(), run.exit_code) == (True, [], 0)


def test_known_bad_fixture_is_red_for_each_reason(bad):
    run = load(bad, "smoke.xml", "quality.xml")
    assert run.blockers() == ["tests: smoke: 1 failed", "audit did not run", "coverage failed", "smoke failed"]
    assert run.exit_code == 1


def test_one_red_gate_is_red(gate_results, tmp_path):
    real_result(gate_results, "deps/good", tmp_path)
    real_result(gate_results, "coverage/bad", tmp_path)
    assert model.load(tmp_path, []).blockers() == ["coverage failed"]


def test_not_run_audit_is_never_green(tmp_path):
    write_result(tmp_path, "audit", "not-run", reason="vulnerability service unreachable")
    run = model.load(tmp_path, [])
    assert (run.green, run.blockers()) == (False, ["audit did not run"])


def test_optional_check_does_not_decide_the_verdict(gate_results, tmp_path):
    real_result(gate_results, "deps/good", tmp_path)
    write_result(tmp_path, "audit", "not-run", reason="offline", required=False)
    assert model.load(tmp_path, []).green is True


def test_zero_tests_is_red(tmp_path):
    junit = write_junit(tmp_path / "junit-smoke.xml", [])
    run = model.load(tmp_path / "results", [str(junit)])
    assert run.blockers() == [
        "tests: smoke: no tests ran",
        f"no gate ran: results folder {tmp_path / 'results'} not found",
    ]
    assert run.input_notes == [f"results folder {tmp_path / 'results'} not found: no gate wrote a result"]


def test_only_skipped_tests_is_red(tmp_path):
    junit = write_junit(tmp_path / "quality.xml", [{"name": "test_gpu", "outcome": "skipped", "message": "no GPU"}])
    assert model.load(None, [str(junit)]).blockers() == ["tests: quality: no tests ran (1 skipped)"]


def test_a_gate_that_passed_with_zero_tests_is_red(gate_results, tmp_path):
    # Belt and braces: the smoke gate itself fails a run of zero tests; the summary does not trust it to.
    real_result(gate_results, "smoke/good", tmp_path, tests=0, passed=0)
    assert model.load(tmp_path, []).blockers() == ["smoke passed with 0 tests"]


def test_nothing_at_all_is_red(tmp_path):
    assert model.load(tmp_path / "missing", []).blockers() == ["nothing ran: no check results and no test reports"]


def test_flaky_tests_do_not_make_a_tier_red(tmp_path):
    junit = write_junit(
        tmp_path / "quality.xml", [{"name": "test_a"}, {"name": "test_b", "outcome": "rerun", "message": "timeout"}]
    )
    run = model.load(None, [str(junit)])
    assert (run.green, run.tiers[0].report.flaky) == (True, 1)


def test_named_tiers_and_shards_add_up(tmp_path):
    a = write_junit(
        tmp_path / "a.xml", [{"name": "test_1"}, {"name": "test_2", "outcome": "failed", "message": "boom"}]
    )
    b = write_junit(tmp_path / "b.xml", [{"name": "test_3"}])
    run = model.load(None, [f"quality={a}", f"quality={b}", str(b)])
    assert [(t.name, t.report.total, t.report.failed) for t in run.tiers] == [("quality", 3, 1), ("b", 1, 0)]


def test_corrupt_result_is_bad_input(tmp_path):
    (tmp_path / "coverage.json").write_text("{not json")
    with pytest.raises(BadInput) as exc:
        model.load(tmp_path, [])
    assert (
        exc.value.message
        == f"{tmp_path / 'coverage.json'}:1: corrupt check result (Expecting property name enclosed in double quotes); delete it and re-run the gate"
    )


def test_malformed_junit_is_bad_input(tmp_path):
    (tmp_path / "junit.xml").write_text("<testsuite><testcase")
    with pytest.raises(JUnitError) as exc:
        model.load(None, [str(tmp_path / "junit.xml")])
    assert isinstance(exc.value, BadInput)  # the CLI shows it as one line and exits 2


def test_a_missing_junit_file_is_a_tier_that_did_not_run(tmp_path):
    present = write_junit(tmp_path / "a.xml", [{"name": "test_1"}])
    run = model.load(
        None, [f"quality={present}", f"quality={tmp_path / 'shard2.xml'}", str(tmp_path / "junit-smoke.xml")]
    )
    assert [(t.name, t.status, t.report.total) for t in run.tiers] == [
        ("quality", "not-run", 1),
        ("smoke", "not-run", 0),
    ]
    assert run.blockers() == [
        "tests: quality did not run (no JUnit report)",
        "tests: smoke did not run (no JUnit report)",
    ]
    assert (
        run.tiers[1].why
        == f"no JUnit report at {tmp_path / 'junit-smoke.xml'}: the test step did not run or did not write it"
    )


def test_passing_tests_without_any_gate_result_are_red(tmp_path):
    # docs/summary.md: a missing results folder means no gate ran, and the summary says so, red.
    junit = write_junit(tmp_path / "quality.xml", [{"name": "test_a", "outcome": "passed"}])
    run = model.load(tmp_path / "results", [str(junit)])
    assert (run.green, run.blockers()) == (False, [f"no gate ran: results folder {tmp_path / 'results'} not found"])
    (tmp_path / "results").mkdir()
    run = model.load(tmp_path / "results", [str(junit)])
    assert (run.green, run.blockers()) == (False, [f"no gate ran: no check result in {tmp_path / 'results'}"])


def test_nothing_ran_is_one_reason(tmp_path):
    assert model.load(tmp_path / "results", []).blockers() == ["nothing ran: no check results and no test reports"]


@pytest.mark.parametrize("tests", [0.0, None])
def test_a_pass_whose_tests_figure_is_not_a_positive_count_is_red(gate_results, tmp_path, tests):
    # The smoke row shows these as "0/0 passed" and "tests did not run": never green.
    real_result(gate_results, "smoke/good", tmp_path, tests=tests)
    assert model.load(tmp_path, []).blockers() == ["smoke passed with 0 tests"]
