"""skipped-gate: gates whose if: can never hold, and tiers behind a paths filter."""

import pytest

from tests.rules.conftest import SHA, bad_fixture_findings

ONLY = {"skipped-gate"}


def wf(on: str, job_if: str | None = None, step_if: str | None = None, run: str = "pytest") -> dict[str, str]:
    job = (
        "  t:\n    runs-on: x\n" + (f"    if: {job_if}\n" if job_if else "") + "    steps:\n      - run: " + run + "\n"
    )
    if step_if:
        job += f"        if: {step_if}\n"
    return {".github/workflows/ci.yml": f"on: {on}\npermissions: {{contents: read}}\njobs:\n{job}"}


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("skipped-gate") == [
        (
            ".github/workflows/x.yml",
            9,
            9,
            "error",
            "job 'test' runs gate step 'Tests' but its if: github.event_name == 'push' is never true on this workflow's "
            "triggers (pull_request): the job is always skipped, and a skipped required check counts as success",
        )
    ]


@pytest.mark.parametrize(
    "on, job_if",
    [
        ("push", "false"),
        ("push", "${{ false }}"),
        ("pull_request", "github.event_name == 'push'"),
        ("[push, pull_request]", "github.event_name == 'schedule'"),
        ("push", "${{ 1 == 2 && always() }}"),
    ],
)
def test_a_gate_job_that_never_runs(findings, on, job_if):
    got = findings(wf(on, job_if=job_if), ONLY)
    assert [(line, sev) for _, line, _, sev, _ in got] == [(6, "error")]


@pytest.mark.parametrize("on, step_if", [("push", "false"), ("pull_request", "github.event_name == 'push'")])
def test_a_gate_step_that_never_runs(findings, on, step_if):
    got = findings(wf(on, step_if=step_if), ONLY)
    assert [m.split(" has if:")[0] for *_, m in got] == ["gate step 'pytest'"]


@pytest.mark.parametrize(
    "on, job_if",
    [
        ("push", "github.event_name == 'push'"),
        ("[push, pull_request]", "github.event_name == 'push'"),
        ("push", "github.repository == 'o/r'"),
        ("workflow_call", "github.event_name == 'push'"),
        ("push", "failure()"),
    ],
)
def test_conditions_that_can_hold_are_clean(findings, on, job_if):
    assert findings(wf(on, job_if=job_if), ONLY) == []


def test_a_non_gate_job_that_never_runs_is_not_this_rules_concern(findings):
    assert findings(wf("push", job_if="false", run="echo hi"), ONLY) == []


def test_a_tier_behind_a_paths_filter_needs_an_aggregate_job(findings):
    tier = (
        f"on:\n  pull_request:\n    paths: ['src/**']\npermissions: {{contents: read}}\njobs:\n  q:\n    runs-on: x\n"
        f"    steps:\n      - uses: truthful-ci/ci-helper/actions/quality@{SHA}\n"
    )
    got = findings({".github/workflows/q.yml": tier}, ONLY)
    assert [(line, col) for _, line, col, *_ in got] == [(3, 5)]
    assert got[0][4].startswith("this tier workflow runs on pull_request only when listed paths change")
    aggregate = (
        "on: pull_request\npermissions: {contents: read}\njobs:\n  a:\n    runs-on: x\n    steps: [{run: x}]\n"
        "  all:\n    needs: [a]\n    if: always()\n    runs-on: x\n    steps: [{run: ci-helper combine .}]\n"
    )
    assert findings({".github/workflows/q.yml": tier, ".github/workflows/all.yml": aggregate}, ONLY) == []
