"""The streaming JUnit parser (end events only, fast path for passes) agrees with a naive full parse."""

import xml.etree.ElementTree as ET

from hypothesis import given, settings, strategies as st

from ci_helper import junit

CHILDREN = st.lists(st.sampled_from(["failure", "error", "skipped", "rerun", "flakyFailure", "system-out"]), max_size=3)
CASES = st.lists(st.tuples(CHILDREN, st.sampled_from(["0.5", "", "x", "1e-3"])), max_size=25)


def naive(root):
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "flaky": 0}
    for case in root.iter("testcase"):
        tags = [c.tag for c in case]
        if "failure" in tags and "error" not in tags:
            counts["failed"] += 1
        elif "error" in tags:
            counts["errors"] += 1
        elif "skipped" in tags:
            counts["skipped"] += 1
        elif any(t in junit.RERUN_TAGS for t in tags):
            counts["flaky"] += 1
        else:
            counts["passed"] += 1
    return counts


@settings(max_examples=40, deadline=None)
@given(suites=st.lists(CASES, min_size=1, max_size=4), nested=st.booleans())
def test_counts_match_a_full_parse(tmp_path_factory, suites, nested):
    parts = []
    for i, cases in enumerate(suites):
        body = "".join(
            f'<testcase classname="c{i}" name="t{j}" time="{time}">'
            + "".join(f'<{c} message="m"/>' for c in children)
            + "</testcase>"
            for j, (children, time) in enumerate(cases)
        )
        parts.append(f'<testsuite name="s{i}">{body}</testsuite>')
    inner = "".join(parts)
    xml = (
        f"<testsuites><testsuite name='outer'>{inner}</testsuite></testsuites>"
        if nested
        else f"<testsuites>{inner}</testsuites>"
    )
    path = tmp_path_factory.getbasetemp() / "junit-property.xml"
    path.write_text(xml)
    report = junit.parse(path)
    expected = naive(ET.fromstring(xml))
    assert {k: getattr(report, k) for k in expected} == expected
    assert len(report.problems) == expected["failed"] + expected["errors"] + expected["flaky"]
    assert [c.outcome for c in report.problems] == sorted(
        (c.outcome for c in report.problems), key=["failed", "error", "flaky"].index
    )


def test_an_empty_file_is_malformed(tmp_path):
    (tmp_path / "junit.xml").write_text("")
    try:
        junit.parse(tmp_path / "junit.xml")
    except junit.JUnitError as exc:
        assert exc.message == f"{tmp_path / 'junit.xml'}:1:0: malformed JUnit XML (no element found: line 1, column 0)"
    else:
        raise AssertionError("an empty JUnit file parsed")
