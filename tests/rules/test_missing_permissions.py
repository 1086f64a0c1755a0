"""missing-permissions: jobs that get the default token permissions."""

import pytest

ONLY = {"missing-permissions"}
MESSAGE = (
    "job '{}' has no permissions: and the workflow sets none at the top level, so it gets the repository's "
    "default token permissions; add 'permissions: {{contents: read}}' at the top level"
)


def test_top_level_permissions_cover_every_job(findings):
    files = {
        ".github/workflows/ci.yml": "on: push\npermissions: read-all\njobs:\n  a: {runs-on: x, steps: [{run: x}]}\n  b: {runs-on: x, steps: [{run: x}]}\n"
    }
    assert findings(files, ONLY) == []


def test_each_job_without_its_own_is_reported(findings):
    files = {
        ".github/workflows/ci.yml": (
            "on: push\njobs:\n  a:\n    permissions: {contents: read}\n    steps: [{run: x}]\n"
            "  b:\n    steps: [{run: x}]\n  c:\n    uses: ./.github/workflows/r.yml\n"
        )
    }
    assert findings(files, ONLY) == [
        ("missing-permissions", 6, 3, "error", MESSAGE.format("b")),
        ("missing-permissions", 8, 3, "error", MESSAGE.format("c")),
    ]


def test_empty_permissions_mapping_counts_as_set(findings):
    files = {".github/workflows/ci.yml": "on: push\npermissions: {}\njobs:\n  a: {runs-on: x, steps: [{run: x}]}\n"}
    assert findings(files, ONLY) == []


def test_action_files_are_not_workflows(findings):
    assert findings({"action.yml": "runs: {using: composite, steps: []}\n"}, ONLY) == []


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    from tests.rules.conftest import bad_fixture_findings

    assert bad_fixture_findings("missing-permissions") == [
        (
            ".github/workflows/x.yml",
            7,
            3,
            "error",
            "job 'test' has no permissions: and the workflow sets none at the top level, so it gets the repository's default token permissions; add 'permissions: {contents: read}' at the top level",
        )
    ]


@pytest.mark.parametrize(
    "on, expected",
    [
        ("workflow_call", 0),
        ("{workflow_call: {inputs: {x: {type: string}}}}", 0),
        ("[workflow_call, workflow_dispatch]", 1),
        ("[workflow_call, push]", 1),
    ],
)
def test_a_workflow_only_called_by_others_gets_the_callers_token(findings, on, expected):
    files = {".github/workflows/r.yml": f"on: {on}\njobs:\n  a:\n    runs-on: x\n    steps: [{{run: x}}]\n"}
    assert len(findings(files, {"missing-permissions"})) == expected
