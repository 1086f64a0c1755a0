"""The bundled canary fixtures: each bad tree bites exactly its rule, each good tree is clean."""

import pytest

from ci_helper.rules import run_rules
from ci_helper.rules.registry import RULE_IDS
from ci_helper.settings import Settings
from tests.rules.conftest import FIXTURES

EXPECTED = {
    "unpinned-uses": (18, 15, "actions/checkout@v4 is not pinned to a full commit SHA (ref 'v4'); pin it as actions/checkout@<40-hex commit sha> # v4"),
    "muted-gate": (25, 28, "gate step 'Tests' has continue-on-error: true: its failure cannot fail the job; remove it"),
    "missing-guardrail": (9, 3, "job 'test' runs on pull_request/push without a repository guardrail; add a step that uses truthful-ci/ci-helper/actions/guardrails (or fails when GITHUB_REPOSITORY is not the expected value)"),
    "missing-permissions": (7, 3, "job 'test' has no permissions: and the workflow sets none at the top level, so it gets the repository's default token permissions; add 'permissions: {contents: read}' at the top level"),
    "pin-lacks-action": (15, 15, "truthful-ci/ci-helper/actions/quality@0000000000000000000000000000000000000000 is pinned to the all-zero placeholder, which GitHub cannot load; pin a release: ci-helper pin --self v0.1.0"),
}


def test_every_rule_has_a_bad_and_a_good_fixture():
    assert sorted(EXPECTED) == sorted(RULE_IDS)
    for rule in RULE_IDS:
        assert (FIXTURES / rule / "bad" / ".github" / "workflows" / "x.yml").is_file()
        assert (FIXTURES / rule / "good" / ".github" / "workflows" / "x.yml").is_file()


@pytest.mark.parametrize("rule", RULE_IDS)
def test_bad_fixture_bites_only_its_rule(rule):
    for only in (None, {rule}):
        report = run_rules(FIXTURES / rule / "bad", Settings(), only)
        assert [(f.rule, f.file, f.line, f.column, f.severity, f.message) for f in report.findings] == [
            (rule, ".github/workflows/x.yml", *EXPECTED[rule][:2], "error", EXPECTED[rule][2])]
        assert report.files == 1


@pytest.mark.parametrize("rule", RULE_IDS)
def test_good_fixture_is_clean_under_every_rule(rule):
    report = run_rules(FIXTURES / rule / "good", Settings())
    assert report.findings == [] and report.files == 1


def test_canary_runs_each_verify_fixture_as_a_user_would():
    from ci_helper.canary.cases import discover
    from ci_helper.canary.run import run_case

    cases = [c for c in discover(FIXTURES.parent) if c.gate.startswith("verify/")]
    assert sorted((c.gate, c.fixture, c.expect) for c in cases) == sorted(
        (f"verify/{rule}", kind, "fail" if kind == "bad" else "pass") for rule in RULE_IDS for kind in ("bad", "good"))
    outcomes = [run_case(c) for c in cases]
    assert [(o.gate, o.fixture, o.got) for o in outcomes if not o.ok] == []
