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
    assert report.figures() == {"tests": 5, "passed": 1, "failed": 1, "errors": 1, "skipped": 1, "flaky": 1, "time": 0.9}
    assert [(c.id, c.outcome, c.message) for c in report.problems] == [
        ("tests.test_api::test_txt2img", "failed", "assert 500 == 200"),
        ("tests.test_api::test_setup", "error", "fixture 'server' not found"),
        ("tests.test_api::test_flaky", "flaky", "timeout"),
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
    path.write_text('<testsuites><testsuite name="outer"><testsuite name="inner"><testcase classname="a" name="b"/></testsuite>'
                    '<testcase classname="a" name="c"/></testsuite></testsuites>')
    report = junit.parse(path)
    assert (report.passed, report.ok) == (2, True)


@pytest.mark.parametrize("content, message", [
    ("<testsuite><testcase", "malformed JUnit XML"),
    ("<html></html>", "not a JUnit report (root element <html>)"),
])
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
