"""JUnit XML parsing, streaming, for every tier that runs tests.

One pass with ``iterparse``; each ``<testcase>`` is cleared once counted, so
100,000 cases need little memory. Understands pytest's output and the common
variants: nested ``<testsuites>``, ``<failure>``, ``<error>``, ``<skipped>``,
and rerun elements (pytest-rerunfailures' ``<rerun>``, Surefire's
``rerunFailure``/``flakyFailure``...) which make a finally-passing test
*flaky*, not failed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput

PASSED = "passed"
FAILED = "failed"
ERROR = "error"
SKIPPED = "skipped"
FLAKY = "flaky"

RERUN_TAGS = frozenset({"rerun", "rerunFailure", "rerunError", "flakyFailure", "flakyError"})

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

    @property
    def id(self) -> str:
        return f"{self.classname}::{self.name}" if self.classname else self.name


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

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.flaky

    @property
    def ran(self) -> int:
        """Tests that actually executed (skipped ones did not)."""
        return self.total - self.skipped

    @property
    def ok(self) -> bool:
        """Green only when something ran and nothing failed or errored."""
        return self.failed == 0 and self.errors == 0 and self.ran > 0

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


def _case(elem: ET.Element) -> TestCase:
    outcome = PASSED
    message = ""
    details = ""
    reruns = 0
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
    return TestCase(
        classname=elem.get("classname") or "",
        name=elem.get("name") or "",
        outcome=outcome,
        time=_float(elem.get("time")),
        file=elem.get("file"),
        line=_int(elem.get("line")),
        message=message[:MAX_MESSAGE_CHARS],
        details=details[:MAX_MESSAGE_CHARS],
        reruns=reruns,
    )


def _root_tag(p: Path) -> str | None:
    """The root element's tag, read from the head of the file only."""
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start",))
    with open(p, "rb") as handle:
        while chunk := handle.read(65536):
            parser.feed(chunk)
            for event in parser.read_events():
                # "start" events are (event, element) pairs.
                return event[1].tag  # type: ignore[misc,union-attr]
    parser.close()  # raises ParseError on an empty or truncated file
    return None


def parse(path: str | os.PathLike[str]) -> JUnitReport:
    """Count every test case in a JUnit XML file; raises JUnitError for bad input."""
    p = Path(path)
    report = JUnitReport(path=str(p))
    problems = report.problems
    passed = 0
    total_time = 0.0
    try:
        root = _root_tag(p)
        if root not in ("testsuites", "testsuite"):
            raise JUnitError(f"{p}: not a JUnit report (root element <{root}>); pass the file pytest wrote with --junitxml")
        # Only "end" events: half the events of start+end. A case's children
        # (failure, skipped...) are complete when the case ends.
        for _, elem in ET.iterparse(p, events=("end",)):
            tag = elem.tag
            if tag == "testcase":
                if not len(elem):
                    # Fast path: most cases passed and have no children.
                    passed += 1
                    total_time += _float(elem.get("time"))
                    elem.clear()
                    continue
                case = _case(elem)
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
                # Its cases were counted and cleared when they ended; drop the rest.
                elem.clear()
    except FileNotFoundError:
        raise JUnitError(f"{p}: JUnit file not found; did the test step run with --junitxml={p}?") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise JUnitError(f"{p}:{line}:{column}: malformed JUnit XML ({exc.msg if hasattr(exc, 'msg') else exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JUnitError(f"{p}: cannot read JUnit file ({exc})") from None
    report.passed = passed
    report.time = total_time
    # Failures before errors before flaky, stable within each kind.
    order = {FAILED: 0, ERROR: 1, FLAKY: 2}
    problems.sort(key=lambda c: order[c.outcome])
    return report


def case_times(path: str | os.PathLike[str]) -> dict[tuple[str, str], float]:
    """``(classname, name) -> seconds`` for every test case in a JUnit file (shard balancing)."""
    p = Path(path)
    times: dict[tuple[str, str], float] = {}
    try:
        root = _root_tag(p)
        if root not in ("testsuites", "testsuite"):
            raise JUnitError(f"{p}: not a JUnit report (root element <{root}>); pass a file pytest wrote with --junitxml")
        for _, elem in ET.iterparse(p, events=("end",)):
            if elem.tag == "testcase":
                key = (elem.get("classname") or "", elem.get("name") or "")
                times[key] = times.get(key, 0.0) + _float(elem.get("time"))
                elem.clear()
    except FileNotFoundError:
        raise JUnitError(f"{p}: durations file not found; pass the JUnit file an earlier run wrote") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise JUnitError(f"{p}:{line}:{column}: malformed JUnit XML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JUnitError(f"{p}: cannot read JUnit file ({exc})") from None
    return times


def case_counts(path: str | os.PathLike[str]) -> dict[tuple[str, str], int]:
    """``(classname, name) -> how many times it appears`` in a JUnit file (the shard ledger)."""
    p = Path(path)
    counts: dict[tuple[str, str], int] = {}
    try:
        for _, elem in ET.iterparse(p, events=("end",)):
            if elem.tag == "testcase":
                key = (elem.get("classname") or "", elem.get("name") or "")
                counts[key] = counts.get(key, 0) + 1
                elem.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        raise JUnitError(f"{p}:{line}:{column}: malformed JUnit XML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise JUnitError(f"{p}: cannot read JUnit file ({exc})") from None
    return counts
