"""self-repository: ./ inside an action others use loads the caller's files."""

from tests.rules.conftest import bad_fixture_findings

ONLY = {"self-repository"}
STEP = "runs:\n  using: composite\n  steps:\n    - uses: ./actions/setup\n"


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("self-repository") == [
        (
            "actions/tier/action.yml",
            6,
            13,
            "error",
            "'./actions/setup' in an action others use loads whatever the caller's workspace holds at that path, "
            "unpinned; use '$/actions/setup' (this action's repository at the same commit)",
        )
    ]


def test_published_actions_only(findings):
    got = findings({"action.yml": STEP, "actions/a/action.yml": STEP, ".github/actions/b/action.yml": STEP}, ONLY)
    assert [f for _, f, *_ in [(g[0], g[1]) for g in got]] == [4, 4]
    assert findings({".github/actions/b/action.yml": STEP}, ONLY) == []
    assert findings({"actions/a/action.yml": STEP.replace("./", "$/")}, ONLY) == []
