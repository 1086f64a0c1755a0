"""Issue 14 item 5: the fork-PR poster never publishes a greener verdict than the PR's run had."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ci_helper import results
from tests.conftest import run_ci_helper


def artifact(tmp_path: Path) -> Path:
    """What a fork's run uploads: every check passing (forged or not, the files say green)."""
    root = tmp_path / "pr-summary"
    results.write_result(
        results.passed(
            "guardrails",
            {
                "repository": "o/r",
                "event": "pull_request",
                "ref": None,
                "base": "main",
                "head_repository": "o/r",
                "unpinned_uses": None,
            },
        ),
        root / "results",
    )
    (root / "junit").mkdir()
    (root / "summary").mkdir()
    (root / "summary" / "pr-number").write_text("7\n")
    return root


def poster(tmp_path: Path, folder: Path, *args: str):
    work = tmp_path / "poster"
    work.mkdir(exist_ok=True)
    return run_ci_helper(
        "summary", "--artifact", str(folder), "--out", str(tmp_path / "summary.md"), *args, cwd=work, env={}
    )


@pytest.mark.parametrize("conclusion", ["failure", "cancelled", "timed_out", "skipped", ""])
def test_forged_green_artifact_of_a_failed_run_renders_red(tmp_path, conclusion):
    proc = poster(tmp_path, artifact(tmp_path), "--run-conclusion", conclusion)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## ❌ Red")
    assert "- pr-run failed" in summary.splitlines()
    shown = (conclusion or "nothing").replace("_", "\\_")
    assert f"the pull request's run concluded {shown}, not success" in summary


def test_green_artifact_of_a_successful_run_renders_green(tmp_path):
    proc = poster(tmp_path, artifact(tmp_path), "--run-conclusion", "success")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "summary.md").read_text().startswith("## ✅ Green")


def _link_out(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    os.symlink(secret, root / "results" / "stolen.json")


def _report_and(extra: str):
    def forge(root: Path, tmp_path: Path) -> None:
        folder = root / "results" / "report"
        folder.mkdir()
        (folder / "report.md").write_text("## CI run report: merge-ready\n")
        if extra.endswith("/"):
            (folder / extra).mkdir()
        else:
            (folder / extra).write_text("")

    return forge


def _report_link(root: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", root / "results" / "report")


def test_the_run_report_beside_the_results_is_allowed_and_never_read(tmp_path):
    # actions/quality with `report: true` saves it in results/report/; uploading the results
    # folder for the poster must not get the artifact refused, nor let the report count.
    root = artifact(tmp_path)
    (root / "results" / "report").mkdir()
    (root / "results" / "report" / "report.md").write_text("## CI run report: merge-ready\n")
    (root / "results" / "report" / "report.json").write_text('{"verdict": "merge-ready"}\n')
    proc = poster(tmp_path, root, "--run-conclusion", "failure")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (tmp_path / "summary.md").read_text().startswith("## ❌ Red")


@pytest.mark.parametrize(
    "forge, where, why",
    [
        (lambda root, tmp: (root / "results" / "x.py").write_text(""), "results/x.py", "unexpected file name"),
        (lambda root, tmp: (root / "evil").mkdir(), "evil", "unexpected entry"),
        (_link_out, "results/stolen.json", "not a regular file"),
        (
            lambda root, tmp: (root / "summary" / "pr-number").write_text("7; rm -rf /"),
            "summary/pr-number",
            "not a pull request number",
        ),
        (
            lambda root, tmp: (root / "results" / "big.json").write_bytes(b" " * (256 * 1024 + 1)),
            "results/big.json",
            "262145 bytes, over the limit of 262144",
        ),
        (lambda root, tmp: (root / "summary" / "run.sh").write_text(""), "summary/run.sh", "unexpected file"),
        # The run report's folder holds its two files and nothing else.
        (_report_and("run.sh"), "results/report/run.sh", "unexpected file"),
        (_report_and("inner/"), "results/report/inner", "not a regular file"),
        (_report_link, "results/report", "not a regular file"),
    ],
)
def test_a_forged_artifact_is_refused_before_anything_is_read(tmp_path, forge, where, why):
    root = artifact(tmp_path)
    forge(root, tmp_path)
    proc = poster(tmp_path, root, "--run-conclusion", "success")
    assert proc.returncode == 2
    assert proc.stderr == (
        f"Error: {root / where}: {why}; the pull request's artifact is refused (only "
        "results/*.json, junit/*.xml and summary/pr-number, no links, within the size limits "
        "of docs/security.md)\n"
    )
    assert not (tmp_path / "summary.md").exists()
