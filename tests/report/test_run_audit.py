"""`ci-helper report --run-id` against a local server speaking GitHub's Actions REST API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .actions_api import ActionsApi, step

CLI = [sys.executable, "-m", "ci_helper"]
PINNED = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"

WORKFLOW = f"""
name: ci
on: [pull_request]
permissions:
  contents: read
jobs:
  quality:
    name: Quality tier
    runs-on: ubuntu-latest
    steps:
      - uses: {PINNED}
      - name: Tests
        run: python -m pytest
      - name: Upload
        run: echo done
  docs:
    runs-on: ubuntu-latest
    steps:
      - run: make docs
"""

CLEAN_JOBS = [
    (
        "Quality tier",
        "success",
        [
            step(1, "Set up job"),
            step(2, "Run actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"),
            step(3, "Tests"),
            step(4, "Upload"),
            step(5, "Complete job"),
        ],
    ),
    ("docs", "success", [step(1, "Set up job"), step(2, "Run make docs"), step(3, "Complete job")]),
]

JUNIT = b'<testsuites><testsuite name="pytest" tests="2"><testcase classname="t" name="a"/><testcase classname="t" name="b"/></testsuite></testsuites>'
EMPTY_JUNIT = b'<testsuites><testsuite name="pytest" tests="0"></testsuite></testsuites>'


def _report(api: ActionsApi, tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_TOKEN")}
    env.update({"GITHUB_API_URL": api.url, "GITHUB_TOKEN": "ghs_test"})
    proc = subprocess.run(
        [*CLI, "report", "--repo", "o/r", "--results-dir", str(tmp_path / "r"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    path = tmp_path / "r" / "run-audit.json"
    return proc, json.loads(path.read_text()) if path.exists() else {}


def _rules(result: dict) -> list[tuple[str, str]]:
    return [(f["rule"], f["message"]) for f in result["findings"]]


def test_a_clean_run_is_merge_ready(tmp_path: Path) -> None:
    with ActionsApi() as api:
        api.add_run(101, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=CLEAN_JOBS)
        api.add_artifact(101, "quality-results", {"junit.xml": JUNIT})
        proc, result = _report(api, tmp_path, "--run-id", "101")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["status"] == "pass"
    assert result["figures"] == {"runs": 1, "jobs": 2, "steps": 8, "tests": 2, "verdict": "merge-ready"}
    assert proc.stdout.startswith("## CI run audit: merge-ready\n")
    assert "Nothing made this run green without proving it." in proc.stdout
    # Jobs came in pages of two: the Link header was followed.
    assert any("jobs" in r for r in api.requests)


def test_continue_on_error_step_that_failed_is_flagged(tmp_path: Path) -> None:
    jobs = [
        ("Quality tier", "success", [step(1, "Set up job"), step(3, "Tests", "failure"), step(4, "Upload")]),
        CLEAN_JOBS[1],
    ]
    with ActionsApi() as api:
        api.add_run(102, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=jobs)
        proc, result = _report(api, tmp_path, "--run-id", "102")
    assert proc.returncode == 1
    assert result["figures"]["verdict"] == "not merge-ready"
    [finding] = result["findings"]
    assert (finding["rule"], finding["message"]) == (
        "audit-continue-on-error",
        "job Quality tier: step 'Tests' failed but the job succeeded (continue-on-error)",
    )
    assert (finding["file"], finding["line"]) == (".github/workflows/ci.yml", 12)


def test_skipped_gate_job_and_cancelled_job_are_flagged(tmp_path: Path) -> None:
    jobs = [("Quality tier", "skipped", []), ("docs", "cancelled", [step(1, "Set up job")])]
    with ActionsApi() as api:
        api.add_run(103, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=jobs, conclusion="success")
        proc, result = _report(api, tmp_path, "--run-id", "103")
    assert proc.returncode == 1
    assert _rules(result) == [
        ("audit-skipped", "job Quality tier was skipped: a skipped required job counts as success"),
        ("audit-cancelled", "job docs was cancelled"),
    ]


def test_zero_test_tier_in_artifacts_is_flagged(tmp_path: Path) -> None:
    not_run = json.dumps(
        {
            "check": "smoke",
            "status": "not-run",
            "reason": "server never became ready",
            "figures": {},
            "findings": [],
            "required": True,
        }
    ).encode()
    with ActionsApi() as api:
        api.add_run(104, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=CLEAN_JOBS)
        api.add_artifact(
            104,
            "smoke",
            {"junit/smoke.xml": EMPTY_JUNIT, ".ci-helper/results/smoke.json": not_run, "../escape.json": not_run},
        )
        proc, result = _report(api, tmp_path, "--run-id", "104")
    assert proc.returncode == 1
    assert _rules(result) == [
        ("audit-result", "artifact smoke: check smoke is not-run (server never became ready)"),
        (
            "audit-zero-tests",
            "artifact smoke: junit/smoke.xml holds zero tests: a tier that ran no test passed nothing",
        ),
    ]


def test_unpinned_reference_at_the_runs_commit_is_flagged(tmp_path: Path) -> None:
    workflow = WORKFLOW.replace(PINNED, "actions/checkout@v4")
    with ActionsApi() as api:
        api.add_run(105, path=".github/workflows/ci.yml", workflow=workflow, jobs=CLEAN_JOBS, head_sha="d" * 40)
        proc, result = _report(api, tmp_path, "--run-id", "105")
    assert proc.returncode == 1
    [finding] = result["findings"]
    assert (finding["rule"], finding["message"], finding["line"]) == (
        "audit-unpinned",
        "actions/checkout@v4 was not pinned to a commit at dddddddddddd",
        11,
    )


def test_every_run_on_a_commit_is_audited(tmp_path: Path) -> None:
    with ActionsApi() as api:
        api.add_run(201, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=CLEAN_JOBS, head_sha="e" * 40)
        api.add_run(
            202,
            path=".github/workflows/ci.yml",
            workflow=WORKFLOW,
            jobs=CLEAN_JOBS,
            head_sha="e" * 40,
            conclusion="failure",
        )
        api.add_run(203, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=CLEAN_JOBS, head_sha="f" * 40)
        proc, result = _report(api, tmp_path, "--commit", "e" * 40, "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert [r["id"] for r in report["runs"]] == [201, 202]
    assert [r["merge_ready"] for r in report["runs"]] == [True, False]
    assert _rules(result) == [("audit-run", "run 202 (.github/workflows/ci.yml) concluded failure")]


def test_rate_limit_is_not_run_never_green(tmp_path: Path) -> None:
    with ActionsApi() as api:
        api.mode = "ratelimit"
        proc, result = _report(api, tmp_path, "--run-id", "101")
    assert proc.returncode == 1
    assert result["status"] == "not-run"
    assert result["reason"].startswith("the GitHub API could not be asked: GitHub's API rate limit is exhausted")


def test_hostile_job_names_cannot_mention_or_reference(tmp_path: Path) -> None:
    jobs = [("@octocat fixes #12 \u202e", "cancelled", [])]
    with ActionsApi() as api:
        api.add_run(106, path=".github/workflows/ci.yml", workflow=WORKFLOW, jobs=jobs)
        proc, _ = _report(api, tmp_path, "--run-id", "106")
    assert "@octocat" not in proc.stdout
    assert " #12" not in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run-id", "1", "--commit", "abc"], "give one of --run-id ID or --commit SHA"),
        (["--run-id", "1", "--repo", "noslash"], "--repo: give the repository as owner/name"),
    ],
)
def test_bad_usage_is_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    with ActionsApi() as api:
        proc, _ = _report(api, tmp_path, *args)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_unknown_run_is_exit_2(tmp_path: Path) -> None:
    with ActionsApi() as api:
        proc, _ = _report(api, tmp_path, "--run-id", "999")
    assert proc.returncode == 2
    assert "o/r: no workflow run 999; check --run-id and --repo" in proc.stderr
