"""Realistic inputs for the summary tests: the bundled fixtures and generated JUnit files."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape, quoteattr

import pytest

FIXTURES = Path(str(importlib.resources.files("ci_helper"))) / "fixtures" / "summary"

HOSTILE_NAME = "test_pipe|name `tick` <img src=x> @octocat"
TEN_KB = ("E   AssertionError: response was <img src=x> | @octocat ``` " * 200)[:10_240]


def write_junit(path: Path, cases: list[dict], suite: str = "pytest") -> Path:
    """Write a pytest-shaped JUnit file; each case: name, classname, outcome, message, details."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests"><testsuite name={quoteattr(suite)} tests="{len(cases)}">\n')
        for case in cases:
            head = f'<testcase classname={quoteattr(case.get("classname", "tests.test_api"))} name={quoteattr(case["name"])} time="0.001"'
            outcome = case.get("outcome", "passed")
            if outcome == "passed":
                out.write(head + "/>\n")
                continue
            tag = {"failed": "failure", "error": "error", "skipped": "skipped", "rerun": "rerun"}[outcome]
            out.write(f"{head}><{tag} message={quoteattr(case.get('message', ''))}>{xml_escape(case.get('details', ''))}</{tag}></testcase>\n")
        out.write("</testsuite></testsuites>\n")
    return path


def write_result(folder: Path, check: str, status: str, figures: dict | None = None, findings: list | None = None,
                 reason: str | None = None, required: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{check}.json"
    path.write_text(json.dumps({"check": check, "status": status, "reason": reason, "figures": figures or {},
                                "findings": findings or [], "required": required}))
    return path


@pytest.fixture
def good():
    return FIXTURES / "good"


@pytest.fixture
def bad():
    return FIXTURES / "bad"
