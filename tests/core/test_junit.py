import pytest

from ci_helper import junit
from ci_helper.errors import BadInput

PYTEST_XML = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.9">
<testcase classname="tests.test_api" name="test_health" time="0.10"/>
<testcase classname="tests.test_api" name="test_txt2img" time="0.20"><failure message="assert 500 == 200">E assert 500 == 200</failure></testcase>
<testcase classname="tests.test_api" name="test_setup" time="0.30"><error message="fixture 'server' not found">E fixture</error></testcase>
<testcase classname="tests.test_api" name="test_gpu" time="0.0"><skipped type="pytest.skip" message="no GPU">skip</skipped></testcase>
<testcase classname="tests.test_api" name="test_flaky" time="0.30"><rerun message="timeout">first try</rerun></testcase>
</testsuite></testsuites>
"""


def test_pytest_report_counts(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(PYTEST_XML)
    report = junit.parse(path)
    assert report.figures() == {
        "tests": 5,
        "passed": 1,
        "failed": 1,
        "errors": 1,
        "skipped": 1,
        "flaky": 1,
        "time": 0.9,
    }
    assert [(c.id, c.outcome, c.message) for c in report.problems] == [
        ("tests/test_api.py::test_txt2img", "failed", "assert 500 == 200"),
        ("tests/test_api.py::test_setup", "error", "fixture 'server' not found"),
        ("tests/test_api.py::test_flaky", "flaky", "timeout"),
    ]
    assert report.ok is False


def test_zero_tests_is_not_ok(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text('<testsuites><testsuite name="pytest" tests="0"/></testsuites>')
    report = junit.parse(path)
    assert report.total == 0 and report.ok is False


def test_only_skipped_is_not_ok(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text('<testsuite><testcase classname="a" name="b"><skipped/></testcase></testsuite>')
    assert junit.parse(path).ok is False


def test_nested_testsuites(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuites><testsuite name="outer"><testsuite name="inner"><testcase classname="a" name="b"/></testsuite>'
        '<testcase classname="a" name="c"/></testsuite></testsuites>'
    )
    report = junit.parse(path)
    assert (report.passed, report.ok) == (2, True)


@pytest.mark.parametrize(
    "content, message",
    [
        ("<testsuite><testcase", "malformed JUnit XML"),
        ("<html></html>", "not a JUnit report (root element <html>)"),
    ],
)
def test_bad_files_exit_2(tmp_path, content, message):
    path = tmp_path / "junit.xml"
    path.write_text(content)
    with pytest.raises(junit.JUnitError) as exc:
        junit.parse(path)
    assert message in exc.value.message and isinstance(exc.value, BadInput)


def test_missing_file(tmp_path):
    with pytest.raises(junit.JUnitError) as exc:
        junit.parse(tmp_path / "none.xml")
    assert "JUnit file not found" in exc.value.message


def _write(tmp_path, text, name="junit.xml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_failure_directly_under_the_suite_is_a_suite_problem(tmp_path):
    # A class setup that failed (JUnit/Surefire, nose): the cases all "passed", the suite did not.
    path = _write(
        tmp_path,
        '<testsuite name="tests.test_db" tests="2" failures="0" errors="1">'
        '<error message="setup_class: connection refused">Traceback</error>'
        '<testcase classname="tests.test_db" name="test_a"/>'
        '<testcase classname="tests.test_db" name="test_b"/></testsuite>',
    )
    report = junit.parse(path)
    assert (report.passed, report.failed, report.errors) == (2, 0, 0)
    assert report.suite_problems == [
        "suite tests.test_db declares 1 errors but its test cases show 0",
        "suite tests.test_db: error outside any test case (a setup or teardown failed): setup_class: connection refused",
    ]
    assert report.ok is False


def test_declared_failures_above_the_cases_are_a_suite_problem(tmp_path):
    path = _write(
        tmp_path,
        '<testsuites><testsuite name="pytest" tests="3" failures="2" errors="0">'
        '<testcase classname="tests.test_a" name="test_1"><failure message="x"/></testcase>'
        '<testcase classname="tests.test_a" name="test_2"/></testsuite>'
        '<testsuite name="other" failures="0" errors="0"><testcase classname="b" name="c"/>'
        "</testsuite></testsuites>",
    )
    report = junit.parse(path)
    assert report.suite_problems == ["suite pytest declares 2 failures but its test cases show 1"]


def test_matching_declared_counts_are_no_problem(tmp_path):
    path = _write(tmp_path, PYTEST_XML)
    assert junit.parse(path).suite_problems == []


def test_disabled_cases_are_skipped_not_passed(tmp_path):
    path = _write(
        tmp_path,
        '<testsuite name="gtest"><testcase classname="Math" name="Add" status="run"/>'
        '<testcase classname="Math" name="DISABLED_Div" status="disabled"/>'
        '<testcase classname="Math" name="Mul" status="notrun"></testcase></testsuite>',
    )
    report = junit.parse(path)
    assert (report.passed, report.skipped, report.total) == (1, 2, 3)


def test_a_nameless_case_gets_a_placeholder(tmp_path):
    path = _write(
        tmp_path, '<testsuite name="x"><testcase classname="a.b"><failure message="boom"/></testcase></testsuite>'
    )
    assert [c.id for c in junit.parse(path).problems] == ["a.b::(unnamed test)"]


@pytest.mark.parametrize(
    "classname, name, file, node_id",
    [
        ("tests.test_api", "test_x[a-1]", None, "tests/test_api.py::test_x[a-1]"),
        ("tests.smoke.test_api.TestUpload", "test_big", None, "tests/smoke/test_api.py::TestUpload::test_big"),
        ("tests.test_api.TestOuter.TestInner", "test_y", None, "tests/test_api.py::TestOuter::TestInner::test_y"),
        ("test_top", "test_z", None, "test_top.py::test_z"),
        ("tests.test_api.TestX", "test_w", "tests/test_api.py", "tests/test_api.py::TestX::test_w"),
    ],
)
def test_pytest_cases_are_named_by_their_node_id(tmp_path, classname, name, file, node_id):
    attr = f' file="{file}"' if file else ""
    path = _write(
        tmp_path,
        f'<testsuites><testsuite name="pytest"><testcase classname="{classname}" name="{name}"{attr}>'
        '<failure message="m"/></testcase></testsuite></testsuites>',
    )
    assert [c.id for c in junit.parse(path).problems] == [node_id]


def test_other_runners_keep_classname_and_name(tmp_path):
    path = _write(
        tmp_path,
        '<testsuite name="com.acme.ApiTest"><testcase classname="com.acme.ApiTest" name="health">'
        '<failure message="m"/></testcase></testsuite>',
    )
    assert [c.id for c in junit.parse(path).problems] == ["com.acme.ApiTest::health"]


def test_time_is_the_suite_wall_time_not_the_sum_of_cases(tmp_path):
    # pytest-xdist: 4 workers, cases add up to 8 s, the session took 2.5 s.
    cases = "".join(f'<testcase classname="t" name="c{i}" time="2.0"/>' for i in range(4))
    path = _write(tmp_path, f'<testsuites><testsuite name="pytest" time="2.5">{cases}</testsuite></testsuites>')
    assert junit.parse(path).time == 2.5
    # No declared time: the cases' sum is all there is.
    path = _write(tmp_path, f'<testsuite name="x">{cases}</testsuite>', "plain.xml")
    assert junit.parse(path).time == 8.0
