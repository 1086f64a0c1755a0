"""Realistic inputs for the summary tests: the bundled fixtures and generated JUnit files."""

from __future__ import annotations

import importlib.resources
import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape, quoteattr

import pytest

FIXTURES = Path(str(importlib.resources.files("ci_helper"))) / "fixtures" / "summary"

HOSTILE_NAME = "test_pipe|name `tick` <img src=x> @octocat"
TEN_KB = ("E   AssertionError: response was <img src=x> | @octocat ``` " * 200)[:10_240]


def write_junit(path: Path, cases: list[dict], suite: str = "pytest") -> Path:
    """Write a pytest-shaped JUnit file; each case: name, classname, outcome, message, details."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests"><testsuite name={quoteattr(suite)} tests="{len(cases)}">\n'
        )
        for case in cases:
            head = f'<testcase classname={quoteattr(case.get("classname", "tests.test_api"))} name={quoteattr(case["name"])} time="0.001"'
            outcome = case.get("outcome", "passed")
            if outcome == "passed":
                out.write(head + "/>\n")
                continue
            tag = {"failed": "failure", "error": "error", "skipped": "skipped", "rerun": "rerun"}[outcome]
            out.write(
                f"{head}><{tag} message={quoteattr(case.get('message', ''))}>{xml_escape(case.get('details', ''))}</{tag}></testcase>\n"
            )
        out.write("</testsuite></testsuites>\n")
    return path


def write_result(
    folder: Path,
    check: str,
    status: str,
    figures: dict | None = None,
    findings: list | None = None,
    reason: str | None = None,
    required: bool = True,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{check}.json"
    path.write_text(
        json.dumps(
            {
                "check": check,
                "status": status,
                "reason": reason,
                "figures": figures or {},
                "findings": findings or [],
                "required": required,
            }
        )
    )
    return path


@pytest.fixture
def good():
    return FIXTURES / "good"


@pytest.fixture
def bad():
    return FIXTURES / "bad"


# The gates whose canary fixtures make the summary's real inputs: each bad and good fixture runs once.
REAL_GATES = ("coverage", "smoke", "audit", "deps", "stubs", "guard")


@pytest.fixture(scope="session")
def gate_results(tmp_path_factory) -> dict[str, Path]:
    """Results written by running the real gates: ``{"coverage/bad": path, ..., "verify/bad": ..., "canary/good": ...}``.

    The summary is tested with what the gates really write, never with hand-written JSON
    (hand-made results appear only where a test is about refusing them).
    """
    # CI=true (as on CI's machine) switches the stubs' fake inference on; the expectations are written
    # for a developer's shell, so the gates run without it wherever the suite runs.
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CI", raising=False)
        return run_real_gates(tmp_path_factory.mktemp("gate-results"))


def run_real_gates(out: Path) -> dict[str, Path]:
    """Run each real gate's canary fixtures (and verify, canary) once; results are kept under ``out``."""
    from ci_helper.canary.cases import discover
    from ci_helper.canary.run import run_case

    found: dict[str, Path] = {}
    for case in discover():
        if case.gate not in REAL_GATES:
            continue
        folder = out / f"{case.gate}-{case.fixture}"
        outcome = run_case(case, results_out=folder)
        assert outcome.ok, outcome
        found[f"{case.gate}/{case.fixture}"] = folder / f"{case.check}.json"
    # verify over a fixture with an unpinned action (red) and over itself... and a one-gate canary (green).
    verify_bad = FIXTURES.parent / "verify" / "unpinned-uses" / "bad"
    for key, argv in (
        ("verify/bad", ["verify", str(verify_bad), "--format", "text"]),
        ("canary/good", ["canary", "--gate", "deps"]),
    ):
        folder = out / key.replace("/", "-")
        subprocess.run(
            [sys.executable, "-m", "ci_helper", *argv, "--results-dir", str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=out,
        )
        found[key] = folder / f"{key.split('/')[0]}.json"
        assert found[key].is_file(), key
    return found


def real_result(gate_results: dict[str, Path], key: str, folder: Path, **figures) -> Path:
    """Copy the real gate's result ``key`` into ``folder``; ``figures`` overrides some (for the summary's own checks)."""
    folder.mkdir(parents=True, exist_ok=True)
    source = gate_results[key]
    target = folder / source.name
    if figures:
        raw = json.loads(source.read_text())
        raw["figures"].update(figures)
        target.write_text(json.dumps(raw))
    else:
        shutil.copyfile(source, target)
    return target
