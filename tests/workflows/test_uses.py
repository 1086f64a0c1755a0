import pytest

from ci_helper.workflows.uses import DOCKER, LOCAL, REMOTE, SELF, parse_uses

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "raw, kind, repo, path, ref, pinned",
    [
        (f"actions/checkout@{SHA}", REMOTE, "actions/checkout", "", SHA, True),
        (f"github/codeql-action/init@{SHA}", REMOTE, "github/codeql-action", "init", SHA, True),
        (f"o/r/.github/workflows/x.yml@{SHA}", REMOTE, "o/r", ".github/workflows/x.yml", SHA, True),
        ("actions/checkout@v4", REMOTE, "actions/checkout", "", "v4", False),
        ("actions/checkout@main", REMOTE, "actions/checkout", "", "main", False),
        ("actions/checkout@0123456", REMOTE, "actions/checkout", "", "0123456", False),
        (f"actions/checkout@{SHA.upper()}", REMOTE, "actions/checkout", "", SHA.upper(), False),
        (f"actions/checkout@release-{SHA}", REMOTE, "actions/checkout", "", f"release-{SHA}", False),
        ("actions/checkout@${{ inputs.ref }}", REMOTE, "actions/checkout", "", "${{ inputs.ref }}", False),
        ("actions/checkout", REMOTE, "actions/checkout", "", "", False),
        ("./actions/x", LOCAL, "", "", "", True),
        ("$/actions/setup", SELF, "", "", "", True),
        ("docker://alpine:3.20", DOCKER, "", "", "", False),
        ("docker://alpine@sha256:" + "a" * 64, DOCKER, "", "", "", True),
        ("docker://alpine@sha256:" + "a" * 63, DOCKER, "", "", "", False),
        ("docker://alpine@sha256:" + "A" * 64, DOCKER, "", "", "", False),
    ],
)
def test_parse_uses(raw, kind, repo, path, ref, pinned):
    uses = parse_uses(raw)
    assert (uses.kind, uses.repo, uses.path, uses.ref, uses.pinned) == (kind, repo, path, ref, pinned)
