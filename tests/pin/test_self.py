"""`ci-helper pin --self REF`: our own references moved to a commit of a real local git repository, offline."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_ci_helper

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_AUTHOR_DATE": "2026-12-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-12-01T00:00:00Z",
}
OTHER = "11bd71901bbe5b1630ceea73d27597364c9af683"
OLD = "94cde3876a2334712175e64dca05ba4cecd11503"


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return proc.stdout.strip()


@pytest.fixture
def self_repo(tmp_path):
    """A ci-helper repository: a first commit without actions/, then v0.1.0 with them."""
    repo = tmp_path / "ci-helper"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "ci_helper").mkdir()
    (repo / "ci_helper" / "__init__.py").write_text('__version__ = "0.0.9"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "no actions yet")
    before = git(repo, "rev-parse", "HEAD")
    (repo / "ci_helper" / "__init__.py").write_text('"""ci-helper."""\n\n__version__ = "0.1.0"\n')
    for name in ("quality", "guardrails"):
        (repo / "actions" / name).mkdir(parents=True)
        (repo / "actions" / name / "action.yml").write_text("runs: {using: composite, steps: []}\n")
    (repo / "action.yml").write_text("runs: {using: composite, steps: []}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "actions")
    git(repo, "tag", "v0.1.0")
    return repo, before, git(repo, "rev-parse", "HEAD")


WORKFLOW = (
    "name: ci\r\n"
    "on: pull_request\r\n"
    "jobs:\r\n"
    "  test:\r\n"
    "    runs-on: ubuntu-latest\r\n"
    "    steps:\r\n"
    f"      - uses: actions/checkout@{OTHER} # v4.2.2\r\n"
    f"      - uses: Truthful-CI/CI-Helper/actions/guardrails@{OLD}   # v0.0.1 keep me\r\n"
    "      - uses: 'truthful-ci/ci-helper/actions/quality@v0.1.0'\r\n"
    "      - {uses: truthful-ci/ci-helper@main, with: {command: verify}}\r\n"
    f"      - uses: someone/ci-helper-fork/actions/quality@{OLD} # v0.0.1\r\n"
)


def expected_workflow(sha: str) -> str:
    return (
        "name: ci\r\n"
        "on: pull_request\r\n"
        "jobs:\r\n"
        "  test:\r\n"
        "    runs-on: ubuntu-latest\r\n"
        "    steps:\r\n"
        f"      - uses: actions/checkout@{OTHER} # v4.2.2\r\n"
        f"      - uses: Truthful-CI/CI-Helper/actions/guardrails@{sha}   # v0.1.0 keep me\r\n"
        f"      - uses: 'truthful-ci/ci-helper/actions/quality@{sha}' # v0.1.0\r\n"
        f"      - {{uses: truthful-ci/ci-helper@{sha}, with: {{command: verify}}}} # v0.1.0\r\n"
        f"      - uses: someone/ci-helper-fork/actions/quality@{OLD} # v0.0.1\r\n"
    )


README = (
    "# project\n\n```yaml\n"
    f"      - uses: truthful-ci/ci-helper/actions/quality@{'0' * 40} # v0.1.0\n"
    "      - uses: truthful-ci/ci-helper/actions/quality@v0.1.0\n"
    f"      - uses: other/tool@{OLD} # v1\n"
    "```\n"
)


def make_tree(root: Path) -> None:
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_bytes(WORKFLOW.encode())
    (root / "examples" / "app" / ".github" / "workflows").mkdir(parents=True)
    (root / "examples" / "app" / ".github" / "workflows" / "q.yml").write_text(
        f"on: push\njobs:\n  q:\n    runs-on: x\n    steps:\n      - uses: truthful-ci/ci-helper/actions/quality@{OLD}\n"
    )
    (root / "README.md").write_text(README)


def test_pin_self_moves_every_reference_of_ours_to_the_tag_commit(tmp_path, self_repo):
    repo, _, release = self_repo
    tree = tmp_path / "project"
    make_tree(tree)
    proc = run_ci_helper("pin", "--self", "v0.1.0", "--repo-dir", str(repo), str(tree))
    assert proc.returncode == 0, proc.stderr
    assert (tree / ".github" / "workflows" / "ci.yml").read_bytes() == expected_workflow(release).encode()
    assert (
        (tree / "examples" / "app" / ".github" / "workflows" / "q.yml")
        .read_text()
        .endswith(f"      - uses: truthful-ci/ci-helper/actions/quality@{release} # v0.1.0\n")
    )
    assert (tree / "README.md").read_text() == README.replace("0" * 40, release)
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"pinned 5 references in 3 files to v0.1.0 = {release} (v0.1.0)"
    assert (
        f"{tree}/.github/workflows/ci.yml:8: Truthful-CI/CI-Helper/actions/guardrails@{OLD} # v0.0.1 keep me -> "
        f"Truthful-CI/CI-Helper/actions/guardrails@{release} # v0.1.0 keep me" in lines
    )
    # A second run has nothing left to do.
    again = run_ci_helper("pin", "--self", "v0.1.0", "--repo-dir", str(repo), str(tree), "--check")
    assert again.returncode == 0, again.stdout
    assert (
        again.stdout
        == f"nothing to pin: 5 references to truthful-ci/ci-helper in 3 files, all at v0.1.0 = {release} (v0.1.0)\n"
    )


def test_pin_self_never_moves_a_reference_to_a_commit_that_lacks_its_action(tmp_path, self_repo):
    repo, before, _ = self_repo
    tree = tmp_path / "project"
    make_tree(tree)
    proc = run_ci_helper("pin", "--self", before[:10], "--repo-dir", str(repo), str(tree))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"Error: {before[:10]} ({before}) does not hold what 4 references load ("
        f"{tree}/.github/workflows/ci.yml:8: Truthful-CI/CI-Helper/actions/guardrails; "
        f"{tree}/.github/workflows/ci.yml:9: truthful-ci/ci-helper/actions/quality; "
        f"{tree}/.github/workflows/ci.yml:10: truthful-ci/ci-helper; "
        f"{tree}/examples/app/.github/workflows/q.yml:6: truthful-ci/ci-helper/actions/quality); "
        "nothing was written; pin a newer commit\n"
    )
    assert (tree / ".github" / "workflows" / "ci.yml").read_bytes() == WORKFLOW.encode()
    # The documentation placeholder of something the commit lacks stays a placeholder, with a note.
    readme = run_ci_helper("pin", "--self", before, "--repo-dir", str(repo), str(tree / "README.md"))
    assert readme.returncode == 0
    assert readme.stderr == (
        f"pin: skipped {tree}/README.md:4: truthful-ci/ci-helper/actions/quality@{'0' * 40}: "
        f"{before} has no actions/quality/action.yml; the placeholder stays\n"
    )
    assert (tree / "README.md").read_text() == README


def test_pin_self_check_writes_nothing_and_exits_1(tmp_path, self_repo):
    repo, _, release = self_repo
    tree = tmp_path / "project"
    make_tree(tree)
    proc = run_ci_helper("pin", "--self", "main", "--repo-dir", str(repo), "--check", str(tree))
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[-1] == (
        f"5 references in 3 files would move to main = {release} (v0.1.0); "
        "run ci-helper pin --self main to rewrite them"
    )
    assert (tree / ".github" / "workflows" / "ci.yml").read_bytes() == WORKFLOW.encode()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--self", "v9.9.9"],
            "--self v9.9.9: no such commit, tag or branch in {repo}; fetch it first "
            "(git -C {repo} fetch --tags origin) or name another ref",
        ),
        (
            ["--self", "v0.1.0", "--update"],
            "--update resolves tags through GitHub; --self pins to a local commit: use one of them",
        ),
    ],
)
def test_pin_self_bad_input_is_one_line(tmp_path, self_repo, args, message):
    repo, _, _ = self_repo
    tree = tmp_path / "project"
    make_tree(tree)
    proc = run_ci_helper("pin", *args, "--repo-dir", str(repo), str(tree))
    assert proc.returncode == 2
    assert proc.stderr == f"Error: {message.format(repo=repo)}\n"
    assert (tree / ".github" / "workflows" / "ci.yml").read_bytes() == WORKFLOW.encode()


def test_pin_self_needs_a_git_repository(tmp_path):
    proc = run_ci_helper("pin", "--self", "HEAD", "--repo-dir", str(tmp_path), str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"Error: {tmp_path}: not a git repository of ci-helper; pass --repo-dir with a clone of truthful-ci/ci-helper\n"
    )
