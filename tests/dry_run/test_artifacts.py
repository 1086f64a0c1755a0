"""The dry run's artifact store: actions/upload-artifact and download-artifact v4 rules on one machine (issue 18.4)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ci_helper.dry_run import artifacts


@pytest.fixture
def workspace(tmp_path):
    root = tmp_path / "ws"
    (root / ".ci-helper" / "results").mkdir(parents=True)
    (root / ".ci-helper" / "results" / "shard.json").write_text("{}")
    (root / "junit").mkdir()
    (root / "junit" / "quality.xml").write_text("<testsuite/>")
    (root / ".coverage.host.1.x").write_text("data")
    (root / "notes.txt").write_text("n")
    return root


def tree(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_hidden_files_are_left_out_unless_asked_as_upload_artifact_v4_4_does(tmp_path, workspace):
    store = tmp_path / "store"
    paths = ".ci-helper/results/\njunit/\n.coverage.*\n"
    dropped = artifacts.upload(store, "no-hidden", paths, workspace)
    # The least common ancestor of the search paths is the root: the layout below it is kept.
    assert (dropped.root, dropped.files) == (str(workspace), ["junit/quality.xml"])
    assert dropped.hidden_left_out == [".ci-helper/results/shard.json", ".coverage.host.1.x"]
    kept = artifacts.upload(store, "hidden", paths, workspace, include_hidden_files=True)
    assert kept.files == [".ci-helper/results/shard.json", "junit/quality.xml", ".coverage.host.1.x"]
    assert tree(store) == [
        "hidden/.ci-helper/results/shard.json",
        "hidden/.coverage.host.1.x",
        "hidden/junit/quality.xml",
        "no-hidden/junit/quality.xml",
    ]


def test_one_folder_is_the_root_and_exclusions_apply(tmp_path, workspace):
    store = tmp_path / "store"
    (workspace / "junit" / "skip.xml").write_text("x")
    done = artifacts.upload(store, "j", "junit\n!junit/skip.xml", workspace)
    assert (done.root, done.files) == (str(workspace / "junit"), ["quality.xml"])


def test_names_are_unique_per_run_and_no_files_follows_if_no_files_found(tmp_path, workspace):
    store = tmp_path / "store"
    artifacts.upload(store, "a", "notes.txt", workspace)
    with pytest.raises(artifacts.ArtifactError, match="an artifact named 'a' was already uploaded in this run"):
        artifacts.upload(store, "a", "notes.txt", workspace)
    assert artifacts.upload(store, "a", "junit", workspace, overwrite=True).files == ["quality.xml"]
    warned = artifacts.upload(store, "b", "missing/*.xml", workspace)
    assert (warned.files, warned.warning) == (
        [],
        "No files were found with the provided path: missing/*.xml. No artifacts will be uploaded.",
    )
    # Only hidden files found, and not included: nothing uploaded, as on CI.
    assert artifacts.upload(store, "c", ".coverage.*", workspace, if_no_files_found="ignore").files == []
    with pytest.raises(artifacts.ArtifactError, match="^No files were found with the provided path: nope"):
        artifacts.upload(store, "d", "nope", workspace, if_no_files_found="error")
    assert sorted(p.name for p in store.iterdir()) == ["a"]


def test_download_by_name_by_pattern_and_merged(tmp_path, workspace):
    store = tmp_path / "store"
    for index in (1, 2):
        (workspace / "junit" / "quality.xml").write_text(f"<testsuite name='{index}'/>")
        artifacts.upload(store, f"shard-{index}", "junit/", workspace)
    artifacts.upload(store, "other", "notes.txt", workspace)
    assert artifacts.download(store, tmp_path / "all", pattern="shard-*") == ["shard-1", "shard-2"]
    assert tree(tmp_path / "all") == ["shard-1/quality.xml", "shard-2/quality.xml"]
    assert artifacts.download(store, tmp_path / "one", name="other") == ["other"]
    assert tree(tmp_path / "one") == ["notes.txt"]
    assert artifacts.download(store, tmp_path / "merged", pattern="shard-*", merge_multiple=True) == [
        "shard-1",
        "shard-2",
    ]
    assert (tmp_path / "merged" / "quality.xml").read_text() == "<testsuite name='2'/>"
    assert artifacts.download(store, tmp_path / "none", pattern="nothing-*") == []
    with pytest.raises(
        artifacts.ArtifactError, match="^Unable to download artifact\\(s\\): Artifact not found for name: x$"
    ):
        artifacts.download(store, tmp_path / "x", name="x")


def test_coverage_data_from_a_workspace_copy_is_stored_as_measured_in_the_project(tmp_path):
    from coverage import CoverageData

    copy, project = tmp_path / "copy", tmp_path / "project"
    for root in (copy, project):
        (root / "pkg").mkdir(parents=True)
        (root / "pkg" / "m.py").write_text("x = 1\n")
    data = CoverageData(basename=str(copy / ".coverage.host.1.x"))
    data.add_lines({str(copy / "pkg" / "m.py"): [1], "/elsewhere/n.py": [2]})
    data.write()
    store = tmp_path / "store"
    artifacts.upload(store, "cov", ".coverage.*", copy, include_hidden_files=True, canonical_workspace=project)
    stored = CoverageData(basename=str(store / "cov" / ".coverage.host.1.x"))
    stored.read()
    assert sorted(stored.measured_files()) == ["/elsewhere/n.py", str(project / "pkg" / "m.py")]


def test_the_cli_stand_in_needs_the_dry_runs_store(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "ci_helper", "artifact", "upload", "--path", "x"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "Error: CI_HELPER_ARTIFACT_STORE is not set: `ci-helper artifact` is the stand-in for "
        "actions/upload-artifact and download-artifact inside `ci-helper verify --run`, which sets it\n"
    )
