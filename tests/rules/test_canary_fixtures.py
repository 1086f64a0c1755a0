"""The bundled canary fixtures: each bad tree bites exactly its rule, each good tree is clean."""

import pytest

from ci_helper.rules import run_rules
from ci_helper.rules.registry import RULE_IDS
from ci_helper.settings import Settings
from tests.rules.conftest import FIXTURES

# Each rule's own test asserts its bad fixture's exact finding (tests/rules/test_<rule>.py), so
# adding a rule touches its module, its fixtures and its test only.


def test_every_rule_has_a_bad_and_a_good_fixture():
    for rule in RULE_IDS:
        assert (FIXTURES / rule / "bad" / "canary.json").is_file(), rule
        assert (FIXTURES / rule / "good" / "canary.json").is_file(), rule


@pytest.mark.parametrize("rule", RULE_IDS)
def test_bad_fixture_bites_only_its_rule(rule):
    for only in (None, {rule}):
        report = run_rules(FIXTURES / rule / "bad", Settings(), only)
        assert report.findings, rule
        assert {(f.rule, f.severity) for f in report.findings} == {(rule, "error")}


@pytest.mark.parametrize("rule", RULE_IDS)
def test_good_fixture_is_clean_under_every_rule(rule):
    report = run_rules(FIXTURES / rule / "good", Settings())
    assert report.findings == [] and report.files >= 1


def test_canary_runs_each_verify_fixture_as_a_user_would():
    from ci_helper.canary.cases import discover
    from ci_helper.canary.run import run_case

    cases = [c for c in discover(FIXTURES.parent) if c.gate.startswith("verify/")]
    assert sorted((c.gate, c.fixture, c.expect) for c in cases) == sorted(
        (f"verify/{rule}", kind, "fail" if kind == "bad" else "pass") for rule in RULE_IDS for kind in ("bad", "good")
    )
    outcomes = [run_case(c) for c in cases]
    assert [(o.gate, o.fixture, o.got) for o in outcomes if not o.ok] == []
