"""JUnit XML parsing, streaming, for every tier that runs tests.

One pass with ``iterparse``; each ``<testcase>`` is cleared once counted, so
100,000 cases need little memory. Understands pytest's output and the common
variants: nested ``<testsuites>``, ``<failure>``, ``<error>``, ``<skipped>``,
and rerun elements (pytest-rerunfailures' ``<rerun>``, Surefire's
``rerunFailure``/``flakyFailure``...) which make a finally-passing test
*flaky*, not failed.

What the test cases do not show is not lost: a ``<failure>``/``<error>``
directly under ``<testsuite>`` (a class or module setup that failed), or an
outermost suite declaring more ``failures``/``errors`` than its cases show,
becomes a *suite problem*, and a report with one is never ok. Test cases with
``status="disabled"`` (or ``notrun``) are skipped, not passed. ``time`` is the
suite's wall time as the runner declared it, not the sum of the cases.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"
FLAKY = "flaky"

RERUN_TAGS = frozenset({"rerun", "rerunFailure", "rerunError", "flakyFailure", "flakyError"})
# <testcase status="..."> values that mean the case did not run (JUnit 5, GoogleTest).
NOT_RUN_STATUSES = frozenset({"disabled", "notrun"})
# A test case without a name is still shown, under this name.
UNNAMED = "(unnamed test)"
# The suite name pytest writes: its classnames are dotted paths that map back to node ids.
PYTEST_SUITE = "pytest"

# How much of each failure we keep: the report must stay small for 100,000 failing cases.
MAX_KEPT_PROBLEMS = 1000
MAX_MESSAGE_CHARS = 4096


class JUnitError(BadInput):
    """A JUnit file that is missing, unreadable or malformed (exit 2)."""


@dataclass
class TestCase:
    __test__ = False  # not a pytest class

    classname: str
    name: str
    outcome: str
    time: float = 0.0
    file: str | None = None
    line: int | None = None
    message: str = ""
    details: str = ""
    reruns: int = 0
    # The pytest node id (``tests/test_x.py::TestY::test_z[1]``) when the report came from pytest.
    node_id: str | None = None

    @property
    def id(self) -> str:
        """What the user pastes back into the runner: pytest's node id, else ``classname::name``."""
        if self.node_id:
            return self.node_id
        return f"{self.classname}::{self.name}" if self.classname else self.name


def pytest_node_id(classname: str, name: str, file: str | None = None) -> str:
    """pytest's JUnit ``classname`` (``tests.test_api.TestX``) and ``name`` back to ``tests/test_api.py::TestX::name``.

    pytest writes the module path with ``/`` turned into ``.`` and ``.py`` dropped, then the
    class names; classes are the trailing parts that start with a capital (pytest collects
    ``Test*`` classes by default). ``file`` (xunit1 reports) wins when present.
    """
    parts = classname.split(".") if classname else []
    classes: list[str] = []
    while len(parts) > 1 and parts[-1][:1].isupper():
        classes.insert(0, parts.pop())
    module = file or ("/".join(parts) + ".py" if parts else "")
    return "::".join([p for p in [module, *classes] if p] + [name])


@dataclass
class JUnitReport:
    path: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    flaky: int = 0
    time: float = 0.0
    # Failed and errored cases first-come, then flaky ones; capped at MAX_KEPT_PROBLEMS.
    problems: list[TestCase] = field(default_factory=list)
    problems_dropped: int = 0
    # What the test cases do not show: setup failures under <testsuite>, declared counts above the cases.
    suite_problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.flaky

    @property
    def ran(self) -> int:
        """Tests that actually executed (skipped ones did not)."""
        return self.total - self.skipped

    @property
    def ok(self) -> bool:
        """Green only when something ran and nothing failed or errored, in a case or in a suite."""
        return self.failed == 0 and self.errors == 0 and self.ran > 0 and not self.suite_problems

    def figures(self) -> dict[str, int | float]:
        return {
            "tests": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "flaky": self.flaky,
            "time": round(self.time, 3),
        }

    def merge(self, other: JUnitReport) -> JUnitReport:
        merged = JUnitReport(
            path=f"{self.path}, {other.path}",
            passed=self.passed + other.passed,
            failed=self.failed + other.failed,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
            flaky=self.flaky + other.flaky,
            time=self.time + other.time,
        )
        merged.suite_problems = self.suite_problems + other.suite_problems
        kept = self.problems + other.problems
        merged.problems = kept[:MAX_KEPT_PROBLEMS]
        merged.problems_dropped = self.problems_dropped + other.problems_dropped + max(0, len(kept) - MAX_KEPT_PROBLEMS)
        return merged


def _float(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _case(elem: ET.Element, pytest: bool) -> TestCase:
    outcome = PASSED
    message = ""
    details = ""
    reruns = 0
    status = elem.get("status")
    if status in NOT_RUN_STATUSES:
        outcome = SKIPPED
        message = f"status={status}"
    for child in elem:
        tag = child.tag
        if tag in ("failure", "error"):
            # An error outranks a failure; the first problem keeps its message.
            if outcome not in (FAILED, ERROR) or (tag == "error" and outcome == FAILED):
                outcome = FAILED if tag == "failure" else ERROR
                message = child.get("message") or ""
                details = child.text or ""
        elif tag == "skipped" and outcome == PASSED:
            outcome = SKIPPED
            message = child.get("message") or ""
            details = child.text or ""
        elif tag in RERUN_TAGS:
            reruns += 1
            if not message:
                message = child.get("message") or ""
                details = child.text or ""
    if outcome == PASSED and reruns:
        outcome = FLAKY
    classname = elem.get("classname") or ""
    name = elem.get("name") or UNNAMED
    file = elem.get("file")
    return TestCase(
        classname=classname,
        name=name,
        outcome=outcome,
        time=_float(elem.get("time")),
        file=file,
        line=_int(elem.get("line")),
        message=message[:MAX_MESSAGE_CHARS],
        details=details[:MAX_MESSAGE_CHARS],
        reruns=reruns,
        node_id=pytest_node_id(classname, name, file) if pytest else None,
    )


def _suite_name(elem: ET.Element) -> str:
    return elem.get("name") or "(unnamed suite)"


def _suite_problems(root: ET.Element, ends: dict[int, tuple[int, int]]) -> list[str]:
    """Problems the test cases do not show, per outermost suite (see the module docstring).

    ``ends`` maps each suite element to the running (failed, errors) counts when it ended;
    outermost suites end one after another, so their differences are each suite's own counts.
    """
    outermost = [root] if root.tag == "testsuite" else [s for s in root if s.tag == "testsuite"]
    problems: list[str] = []
    before = (0, 0)
    for suite in outermost:
        counted = ends.get(id(suite), before)
        failed, errors = counted[0] - before[0], counted[1] - before[1]
        before = counted
        name = _suite_name(suite)
        for label, declared_text, shown in (
            ("failures", suite.get("failures"), failed),
            ("errors", suite.get("errors"), errors),
        ):
            declared = _int(declared_text)
            if declared is not None and declared > shown:
                problems.append(f"suite {name} declares {declared} {label} but its test cases show {shown}")
    for suite in root.iter("testsuite"):
        for child in suite:
            if child.tag in ("failure", "error"):
                kind = "failure" if child.tag == "failure" else "error"
                text = child.get("message") or (child.text or "").strip().split("\n")[0] or "no message"
                problems.append(
                    f"suite {_suite_name(suite)}: {kind} outside any test case "
                    f"(a setup or teardown failed): {text[:MAX_MESSAGE_CHARS]}"
                )
    return problems


def _declared_time(root: ET.Element) -> float | None:
    """The runner's wall time: the root's ``time``, else the sum over its top-level suites."""
    if root.get("time") is not None:
        return _float(root.get("time"))
    if root.tag == "testsuites":
        times = [s.get("time") for s in root if s.tag == "testsuite"]
        if times and all(t is not None for t in times):
            return sum(_float(t) for t in times)
    return None


def _head(p: Path) -> tuple[str | None, str | None]:
    """The root element's tag and the first suite's name, read from the head of the file only."""
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start",))
    root = None
    with open(p, "rb") as handle:
        while chunk := handle.read(65536):
            parser.feed(chunk)
            for event in parser.read_events():
                # "start" events are (event, element) pairs.
                elem: ET.Element = event[1]  # type: ignore[assignment,misc]
                if root is None:
                    root = elem.tag
                    if root != "testsuites":
                        return root, elem.get("name")
                elif elem.tag == "testsuite":
                    return root, elem.get("name")
                else:
                    return root, None
    parser.close()  # raises ParseError on an empty or truncated file
    return root, None


def parse(path: str | os.PathLike[str]) -> JUnitReport:
    """Count every test case in a JUnit XML file; raises JUnitError for bad input."""
    p = Path(path)
    report = JUnitReport(path=str(p))
    problems = report.problems
    passed = 0
    total_time = 0.0
    ends: dict[int, tuple[int, int]] = {}
    elem = None
    try:
        root, first_suite = _head(p)
        pytest = first_suite == PYTEST_SUITE
        if root not in ("testsuites", "testsuite"):
            raise JUnitError(
                f"{p}: not a JUnit report (root element <{root}>); pass the file pytest wrote with --junitxml"
            )
        # Only "end" events: half the events of start+end. A case's children
        # (failure, skipped...) are complete when the case ends. Suites are few and
        # stay in the tree (without their cases) for the suite-level checks at the end.
        for _, elem in ET.iterparse(p, events=("end",)):
            tag = elem.tag
            if tag == "testcase":
                if not len(elem) and elem.get("status") not in NOT_RUN_STATUSES:
                    # Fast path: most cases passed and have no children.
                    passed += 1
                    total_time += _float(elem.get("time"))
                    elem.clear()
                    continue
                case = _case(elem, pytest)
                total_time += case.time
                if case.outcome == PASSED:
                    passed += 1
                elif case.outcome == FAILED:
                    report.failed += 1
                elif case.outcome == ERROR:
                    report.errors += 1
                elif case.outcome == SKIPPED:
                    report.skipped += 1
                else:
                    report.flaky += 1
                if case.outcome in (FAILED, ERROR, FLAKY):
                    if len(problems) < MAX_KEPT_PROBLEMS:
                        problems.append(case)
                    else:
                        report.problems_dropped += 1
                elem.clear()
            elif tag == "testsuite":
                # Its cases were counted and cleared when they ended; drop them, keep the suite.
                for child in [c for c in elem if c.tag == "testcase" or c.tag.startswith("system-")]:
                    elem.remove(child)
                ends[id(elem)] = (report.failed, report.errors)
    except FileNotFoundError:
        raise JUnitError(f"{p}: JUnit file not found; did the test step run with --junitxml={p}?") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise JUnitError(
            f"{p}:{line}:{column}: malformed JUnit XML ({exc.msg if hasattr(exc, 'msg') else exc})"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JUnitError(f"{p}: cannot read JUnit file ({exc})") from None
    report.passed = passed
    if elem is not None:  # the last element to end is the root
        report.suite_problems = _suite_problems(elem, ends)
        declared = _declared_time(elem)
        report.time = declared if declared is not None else total_time
    else:
        report.time = total_time
    # Failures before errors before flaky, stable within each kind.
    order = {FAILED: 0, ERROR: 1, FLAKY: 2}
    problems.sort(key=lambda c: order[c.outcome])
    return report


def _case_keys(p: Path, missing: str) -> Iterator[tuple[tuple[str, str], float]]:
    """``((classname, name), seconds)`` for every test case of a JUnit file, streamed; ``missing`` ends the
    one-line error for a file that does not exist."""
    try:
        root, _ = _head(p)
        if root not in ("testsuites", "testsuite"):
            raise JUnitError(
                f"{p}: not a JUnit report (root element <{root}>); pass a file pytest wrote with --junitxml"
            )
        for _, elem in ET.iterparse(p, events=("end",)):
            if elem.tag == "testcase":
                yield (elem.get("classname") or "", elem.get("name") or ""), _float(elem.get("time"))
                elem.clear()
    except FileNotFoundError:
        raise JUnitError(f"{p}: {missing}") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise JUnitError(f"{p}:{line}:{column}: malformed JUnit XML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JUnitError(f"{p}: cannot read JUnit file ({exc})") from None


def case_times(path: str | os.PathLike[str]) -> dict[tuple[str, str], float]:
    """``(classname, name) -> seconds`` for every test case in a JUnit file (shard balancing)."""
    times: dict[tuple[str, str], float] = {}
    for key, seconds in _case_keys(Path(path), "durations file not found; pass the JUnit file an earlier run wrote"):
        times[key] = times.get(key, 0.0) + seconds
    return times


def case_counts(path: str | os.PathLike[str]) -> dict[tuple[str, str], int]:
    """``(classname, name) -> how many times it appears`` in a JUnit file (the shard ledger)."""
    counts: dict[tuple[str, str], int] = {}
    for key, _seconds in _case_keys(Path(path), "JUnit file not found; upload the file pytest wrote"):
        counts[key] = counts.get(key, 0) + 1
    return counts


@dataclass
class Skip:
    """One skipped test case as the JUnit file records it; ``kind`` is its ``type`` (``pytest.xfail``...)."""

    id: str
    kind: str
    message: str
    details: str
    file: str | None = None
    line: int | None = None


def skipped(path: str | os.PathLike[str]) -> tuple[int, list[Skip]]:
    """(how many test cases, the skipped ones) in a JUnit file: the skip budget's input."""
    p = Path(path)
    cases = 0
    skips: list[Skip] = []
    try:
        root, first_suite = _head(p)
        if root not in ("testsuites", "testsuite"):
            raise JUnitError(
                f"{p}: not a JUnit report (root element <{root}>); pass the file pytest wrote with --junitxml"
            )
        for _, elem in ET.iterparse(p, events=("end",)):
            if elem.tag != "testcase":
                continue
            cases += 1
            tags = [child.tag for child in elem]
            mark = next((child for child in elem if child.tag == "skipped"), None)
            # A failure or an error outranks a skip, as in parse().
            if mark is not None and "failure" not in tags and "error" not in tags:
                case = _case(elem, first_suite == PYTEST_SUITE)
                skips.append(
                    Skip(
                        id=case.id,
                        kind=mark.get("type") or "",
                        message=(mark.get("message") or "")[:MAX_MESSAGE_CHARS],
                        details=(mark.text or "")[:MAX_MESSAGE_CHARS],
                        file=case.file,
                        line=case.line,
                    )
                )
            elem.clear()
    except FileNotFoundError:
        raise JUnitError(f"{p}: JUnit file not found; did the test step run with --junitxml={p}?") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise JUnitError(f"{p}:{line}:{column}: malformed JUnit XML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JUnitError(f"{p}: cannot read JUnit file ({exc})") from None
    return cases, skips
