"""The two-workflow pattern for fork PRs: structure, pins, and the poster's step run for real."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

from .conftest import FIXTURES
from .github_server import FakeGitHub

WORKFLOWS = REPO_ROOT / "workflows"
PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def load(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(workflow):
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


@pytest.mark.parametrize("name", ["pr-summary.yml", "summary-comment.yml"])
def test_every_action_is_pinned_by_sha_with_a_version_comment(name):
    text = (WORKFLOWS / name).read_text()
    uses = re.findall(r"uses: (\S+)( # v\d+\.\d+\.\d+)?", text)
    assert uses and all(PIN.match(ref) and comment for ref, comment in uses)


@pytest.mark.parametrize("name", ["pr-summary.yml", "summary-comment.yml"])
def test_no_expression_is_pasted_into_a_shell_line(name):
    assert all("${{" not in s["run"] for s in steps(load(name)) if "run" in s)


def test_the_poster_never_checks_out_and_has_minimal_permissions():
    poster = load("summary-comment.yml")
    pr = load("pr-summary.yml")
    assert poster[True] == {"workflow_run": {"workflows": [pr["name"]], "types": ["completed"]}}  # YAML 1.1: on -> True
    assert poster["permissions"] == {}
    assert poster["jobs"]["post"]["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any("checkout" in s.get("uses", "") for s in steps(poster))
    download = next(s for s in steps(poster) if "download-artifact" in s.get("uses", ""))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert download["with"]["github-token"] == "${{ github.token }}"
    assert download["with"]["name"] == "ci-helper-summary"


def test_the_pr_side_asks_for_write_access_only_in_its_job():
    pr = load("pr-summary.yml")
    assert pr["permissions"] == {"contents": "read"}
    assert pr["jobs"]["tests"]["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_the_pr_side_uploads_what_the_poster_reads():
    upload = next(s for s in steps(load("pr-summary.yml")) if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "ci-helper-summary"
    assert upload["with"]["path"].split() == [".ci-helper/results", ".ci-helper/junit", ".ci-helper/summary"]
    assert upload["with"]["include-hidden-files"] is True
    assert upload["if"] == "${{ !cancelled() && steps.summary.outputs.needs-workflow-run == 'true' }}"


def poster_script():
    return next(s for s in steps(load("summary-comment.yml")) if s.get("name") == "Post the sticky comment")["run"]


def artifact(tmp_path, pr_number="7\n"):
    """The artifact as download-artifact lays it out: results/, junit/, summary/."""
    root = tmp_path / "pr-summary"
    shutil.copytree(FIXTURES / "bad" / "results", root / "results")
    shutil.copytree(FIXTURES / "bad" / "junit", root / "junit")
    (root / "summary").mkdir()
    (root / "summary" / "pr-number").write_text(pr_number)
    (root / "summary" / "comment.md").write_text("<!-- ci-helper:summary -->\n@everyone ![x](http://evil/p.png)")
    return root


def run_poster(tmp_path, gh, head_sha):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_"))}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
            "RUNNER_TEMP": str(tmp_path),
            "PR_SUMMARY": str(artifact(tmp_path)),
            "GITHUB_TOKEN": "tok",
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_API_URL": gh.url,
            "CI_HELPER_HEAD_SHA": head_sha,
        }
    )
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", poster_script()],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_poster_step_renders_again_and_posts(tmp_path):
    with FakeGitHub(head_sha="b" * 40) as gh:
        proc = run_poster(tmp_path, gh, "b" * 40)
        assert proc.returncode == 0, proc.stderr  # --post-only: a red verdict was the PR run's to report
        [comment] = gh.comments[7]
        # Rendered here from the data, not the artifact's comment.md.
        assert comment["body"].split("\n")[:2] == ["<!-- ci-helper:summary -->", "## ❌ Red: ci-helper run summary"]
        assert "@everyone" not in comment["body"]


def test_the_poster_refuses_a_pr_number_that_does_not_match_the_run(tmp_path):
    with FakeGitHub(head_sha="b" * 40) as gh:
        proc = run_poster(tmp_path, gh, "c" * 40)
        assert proc.returncode == 1 and gh.comments == {}
        assert proc.stderr.split("\n")[-2].startswith(
            f"summary: PR comment not posted: PR #7 head is {'b' * 40}, not {'c' * 40}"
        )
