"""The allow-list in [tool.ci-helper.verify]: entries accept findings, each with a reason."""

import pytest

from ci_helper import settings
from ci_helper.errors import BadInput
from ci_helper.rules import run_rules
from ci_helper.rules.registry import RULE_IDS
from tests.rules.conftest import FIXTURES, write_tree

BAD = FIXTURES / "unpinned-uses" / "bad"


def report_for(tmp_path, allow_toml: str):
    (tmp_path / "pyproject.toml").write_text(allow_toml)
    return run_rules(BAD, settings.load(tmp_path))


@pytest.mark.parametrize(
    "entry",
    [
        'rule = "unpinned-uses"\nreason = "vendored"',
        'rule = "unpinned-uses"\nreason = "vendored"\nfile = ".github/workflows/*.yml"',
        'rule = "unpinned-uses"\nreason = "vendored"\nline = 18',
        'rule = "unpinned-uses"\nreason = "vendored"\nuses = "actions/checkout@*"',
    ],
)
def test_matching_entries_allow_the_finding(tmp_path, entry):
    report = report_for(tmp_path, f"[[tool.ci-helper.verify.allow]]\n{entry}\n")
    assert report.findings == []
    assert [(f.rule, f.line) for f in report.allowed] == [("unpinned-uses", 18)]


@pytest.mark.parametrize(
    "entry",
    [
        'rule = "muted-gate"\nreason = "x"',
        'rule = "unpinned-uses"\nreason = "x"\nfile = "other.yml"',
        'rule = "unpinned-uses"\nreason = "x"\nline = 3',
        'rule = "unpinned-uses"\nreason = "x"\nuses = "actions/setup-python@*"',
    ],
)
def test_non_matching_entries_do_not(tmp_path, entry):
    report = report_for(tmp_path, f"[[tool.ci-helper.verify.allow]]\n{entry}\n")
    assert [f.rule for f in report.findings] == ["unpinned-uses"] and report.allowed == []


@pytest.mark.parametrize(
    "entry, message",
    [
        ('rule = "unpinned-uses"', "[tool.ci-helper] 'verify.allow[0]' is missing required key 'reason'"),
        (
            'rule = "unpinned-uses"\nreason = "  "',
            "[tool.ci-helper] verify.allow[0]: 'reason' is empty; say why the unpinned-uses finding is accepted",
        ),
        (
            'rule = "no-such-rule"\nreason = "x"',
            "[tool.ci-helper] verify.allow[0]: unknown rule 'no-such-rule'; expected one of: " + ", ".join(RULE_IDS),
        ),
    ],
)
def test_bad_entries_are_bad_input(tmp_path, entry, message):
    with pytest.raises(BadInput) as exc:
        report_for(tmp_path, f"[[tool.ci-helper.verify.allow]]\n{entry}\n")
    assert exc.value.message == message


def test_unknown_only_rule_is_bad_input(tmp_path):
    with pytest.raises(BadInput) as exc:
        run_rules(write_tree(tmp_path, {"action.yml": "runs: {using: composite}\n"}), settings.Settings(), {"nope"})
    assert exc.value.message == "unknown verify rule 'nope'; expected one of: " + ", ".join(RULE_IDS)


def test_run_rules_on_a_folder_without_files_reports_zero(tmp_path):
    report = run_rules(write_tree(tmp_path, {"README.md": "x"}), settings.Settings())
    assert (report.findings, report.files, report.allowed) == ([], 0, [])


def test_run_rules_on_a_missing_folder_is_bad_input(tmp_path):
    with pytest.raises(BadInput) as exc:
        run_rules(tmp_path / "nope", settings.Settings())
    assert exc.value.message == f"{tmp_path / 'nope'}: no such folder; pass the repository folder to check"
