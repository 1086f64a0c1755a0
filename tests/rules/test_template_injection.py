"""template-injection: attacker-controlled ${{ }} inside scripts."""

import pytest

from tests.rules.conftest import GUARDED, bad_fixture_findings

ONLY = {"template-injection"}


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("template-injection") == [
        (
            ".github/workflows/x.yml",
            12,
            68,
            "error",
            "'github.event.pull_request.title' is pasted into the script of step 'Greet' before it runs: whoever writes "
            "that text runs code; pass it through env: and quote the variable",
        )
    ]


@pytest.mark.parametrize(
    "expression, path",
    [
        ("github.event.issue.body", "github.event.issue.body"),
        ("github.head_ref", "github.head_ref"),
        ("github.event.comment.body", "github.event.comment.body"),
        ("github.event.pull_request.head.ref", "github.event.pull_request.head.ref"),
        ("github['event']['issue']['title']", "github.event.issue.title"),
        ("toJSON(github.event.commits.*.message)", "github.event.commits.*.message"),
        ("github.event.head_commit.message", "github.event.head_commit.message"),
    ],
)
def test_attacker_controlled_contexts(findings, expression, path):
    got = findings({".github/workflows/ci.yml": GUARDED + f'      - run: echo "${{{{ {expression} }}}}"\n'}, ONLY)
    assert [m.split("'")[1] for *_, m in got] == [path]


@pytest.mark.parametrize(
    "expression",
    ["github.repository", "github.event.pull_request.number", "inputs.name", "github.sha", "matrix.python"],
)
def test_values_nobody_outside_chooses(findings, expression):
    assert (
        findings({".github/workflows/ci.yml": GUARDED + f'      - run: echo "${{{{ {expression} }}}}"\n'}, ONLY) == []
    )


def test_github_script_is_a_script_too(findings):
    step = "      - uses: actions/github-script@v7\n        with:\n          script: console.log('${{ github.event.issue.title }}')\n"
    assert len(findings({".github/workflows/ci.yml": GUARDED + step}, ONLY)) == 1
