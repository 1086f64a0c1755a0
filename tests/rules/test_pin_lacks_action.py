"""pin-lacks-action: our actions pinned to a commit that lacks them, told by a real local git repository."""

from __future__ import annotations

import pytest

from ci_helper.rules import run_rules
from ci_helper.settings import Settings
from tests.pin.test_self import git

HOLDS = "(holds)"


@pytest.fixture
def self_repo(tmp_path):
    repo = tmp_path / "ci-helper"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("no actions yet\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no actions")
    bare = git(repo, "rev-parse", "HEAD")
    (repo / "actions" / "smoke").mkdir(parents=True)
    (repo / "actions" / "smoke" / "action.yml").write_text("runs: {using: composite, steps: []}\n")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "quality.yml").write_text("on: workflow_call\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "actions")
    return repo, bare, git(repo, "rev-parse", "HEAD")


def workflow(tmp_path, *uses: str):
    root = tmp_path / "project"
    (root / ".github" / "workflows").mkdir(parents=True)
    steps = "".join(f"      - uses: {u}\n" for u in uses)
    (root / ".github" / "workflows" / "x.yml").write_text(
        "on: push\npermissions: {}\njobs:\n"
        f"  reuse:\n    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@{uses[0].split('@')[1]}\n"
        "  t:\n    runs-on: ubuntu-latest\n    steps:\n" + steps
    )
    return root


def findings(root, monkeypatch, repo):
    monkeypatch.setenv("CI_HELPER_SELF_REPO", str(repo))
    report = run_rules(root, Settings(), {"pin-lacks-action"})
    return [(f.line, f.column, f.message) for f in report.findings]


def test_a_commit_without_the_action_is_a_finding(tmp_path, monkeypatch, self_repo):
    repo, bare, full = self_repo
    root = workflow(
        tmp_path,
        f"truthful-ci/ci-helper/actions/smoke@{bare} # v0.1.0",
        f"Truthful-CI/ci-helper/actions/smoke@{full} # v0.1.0",
        f"someone/ci-helper/actions/smoke@{bare}",
    )
    assert findings(root, monkeypatch, repo) == [
        (
            5,
            11,
            f"truthful-ci/ci-helper/.github/workflows/quality.yml@{bare} is pinned to a commit that has no "
            ".github/workflows/quality.yml, so the job fails before it starts; pin a release that holds it: "
            "ci-helper pin --self v0.1.0",
        ),
        (
            9,
            15,
            f"truthful-ci/ci-helper/actions/smoke@{bare} is pinned to a commit that has no actions/smoke/action.yml, "
            "so the job fails before it starts; pin a release that holds it: ci-helper pin --self v0.1.0",
        ),
    ]


def test_a_commit_that_holds_it_or_an_unknown_one_is_left_alone(tmp_path, monkeypatch, self_repo):
    repo, _, full = self_repo
    root = workflow(
        tmp_path, f"truthful-ci/ci-helper/actions/smoke@{full}", f"truthful-ci/ci-helper/actions/smoke@{'ab' * 20}"
    )
    assert findings(root, monkeypatch, repo) == []
    # Without a git repository of ci-helper nothing can be told, and nothing is reported.
    (tmp_path / "not-git").mkdir()
    root2 = workflow(tmp_path / "b", f"truthful-ci/ci-helper/actions/quality@{full}")
    assert findings(root2, monkeypatch, tmp_path / "not-git") == []


def test_the_placeholder_is_a_finding_without_any_repository(tmp_path, monkeypatch):
    (tmp_path / "not-git").mkdir()
    root = workflow(tmp_path, f"truthful-ci/ci-helper/actions/smoke@{'0' * 40} # v0.1.0")
    assert [line for line, _, _ in findings(root, monkeypatch, tmp_path / "not-git")] == [5, 9]


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    from tests.rules.conftest import bad_fixture_findings

    assert bad_fixture_findings("pin-lacks-action") == [
        (
            ".github/workflows/x.yml",
            15,
            15,
            "error",
            "truthful-ci/ci-helper/actions/quality@0000000000000000000000000000000000000000 is pinned to the all-zero "
            "placeholder, which GitHub cannot load; pin a release: ci-helper pin --self v0.1.0",
        )
    ]
