import pytest

from tests.rules.conftest import GUARDED, SHA, steps_workflow

ONLY = {"unpinned-uses"}


@pytest.mark.parametrize(
    "ref, message",
    [
        (
            "actions/checkout@v4",
            "actions/checkout@v4 is not pinned to a full commit SHA (ref 'v4'); pin it as actions/checkout@<40-hex commit sha> # v4",
        ),
        (
            "actions/checkout@main",
            "actions/checkout@main is not pinned to a full commit SHA (ref 'main'); pin it as actions/checkout@<40-hex commit sha> # main",
        ),
        (
            "actions/checkout@0123456",
            "actions/checkout@0123456 is not pinned to a full commit SHA (ref '0123456'); pin it as actions/checkout@<40-hex commit sha> # 0123456",
        ),
        (
            f"actions/checkout@release-{SHA}",
            f"actions/checkout@release-{SHA} is not pinned to a full commit SHA (ref 'release-{SHA}'); pin it as actions/checkout@<40-hex commit sha> # release-{SHA}",
        ),
        (
            f"actions/checkout@{SHA.upper()}",
            f"actions/checkout@{SHA.upper()} is not pinned to a full commit SHA (ref '{SHA.upper()}'); pin it as actions/checkout@<40-hex commit sha> # {SHA.upper()}",
        ),
        ("actions/checkout", "actions/checkout has no ref; pin it as actions/checkout@<40-hex commit sha> # <version>"),
        (
            "docker://alpine:3.20",
            "docker://alpine:3.20 is not pinned to an image digest; use docker://<image>@sha256:<64 hex digits>",
        ),
        (
            "github/codeql-action/init@v3",
            "github/codeql-action/init@v3 is not pinned to a full commit SHA (ref 'v3'); pin it as github/codeql-action/init@<40-hex commit sha> # v3",
        ),
    ],
)
def test_unpinned_step_refs(findings, ref, message):
    assert findings(steps_workflow(f"- uses: {ref}"), ONLY) == [("unpinned-uses", 8, 15, "error", message)]


def test_expression_ref_is_unpinned(findings):
    got = findings(steps_workflow("- uses: 'actions/checkout@${{ inputs.ref }}'"), ONLY)
    assert got == [
        (
            "unpinned-uses",
            8,
            15,
            "error",
            "actions/checkout@${{ inputs.ref }} is not pinned to a full commit SHA (ref '${{ inputs.ref }}'); "
            "pin it as actions/checkout@<40-hex commit sha> # ${{ inputs.ref }}",
        )
    ]


@pytest.mark.parametrize(
    "ref",
    [
        f"actions/checkout@{SHA}",
        f"actions/checkout@{SHA} # v4.2.2",
        "./actions/local",
        "$/actions/setup",
        "docker://alpine@sha256:" + "0" * 64,
        f"o/r/path/to@{SHA}",
    ],
)
def test_pinned_and_local_refs_are_clean(findings, ref):
    assert findings(steps_workflow(f"- uses: {ref}"), ONLY) == []


def test_reusable_workflow_job_ref(findings):
    files = {
        ".github/workflows/ci.yml": GUARDED + "  call:\n    uses: o/r/.github/workflows/x.yml@v1\n"
        f"  pinned:\n    uses: o/r/.github/workflows/x.yml@{SHA}\n"
        "  local:\n    uses: ./.github/workflows/x.yml\n"
    }
    assert findings(files, ONLY) == [
        (
            "unpinned-uses",
            9,
            11,
            "error",
            "o/r/.github/workflows/x.yml@v1 is not pinned to a full commit SHA (ref 'v1'); "
            "pin it as o/r/.github/workflows/x.yml@<40-hex commit sha> # v1",
        )
    ]


def test_action_steps_and_every_finding_reported(findings):
    files = {
        "actions/x/action.yml": """\
        runs:
          using: composite
          steps:
            - uses: actions/checkout@v4
            - uses: actions/setup-python@v5
            - uses: $/actions/setup
    """
    }
    got = findings(files, ONLY)
    assert [(r, line, col) for r, line, col, _, _ in got] == [("unpinned-uses", 4, 13), ("unpinned-uses", 5, 13)]


def test_docker_action_image(findings):
    files = {
        "a/action.yml": "runs:\n  using: docker\n  image: docker://alpine:3.20\n",
        "b/action.yml": "runs:\n  using: docker\n  image: docker://alpine@sha256:" + "0" * 64 + "\n",
        "c/action.yml": "runs:\n  using: docker\n  image: Dockerfile\n",
    }
    assert findings(files, ONLY) == [
        (
            "unpinned-uses",
            3,
            10,
            "error",
            "docker://alpine:3.20 is not pinned to an image digest; use docker://<image>@sha256:<64 hex digits>",
        )
    ]


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    from tests.rules.conftest import bad_fixture_findings

    assert bad_fixture_findings("unpinned-uses") == [
        (
            ".github/workflows/x.yml",
            18,
            15,
            "error",
            "actions/checkout@v4 is not pinned to a full commit SHA (ref 'v4'); pin it as actions/checkout@<40-hex commit sha> # v4",
        )
    ]
