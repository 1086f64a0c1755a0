"""`ci-helper init`: pinned workflows and settings for a project, checked by verify and a real dry run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from ci_helper import init, settings
from tests.conftest import REPO_ROOT, run_ci_helper
from tests.dry_run.project_env import build_wheel, install_wheel, make_venv

EXAMPLE = REPO_ROOT / "examples" / "diffusion-api"
UNREACHABLE_OSV = '\n[tool.ci-helper.audit]\nosv-url = "http://127.0.0.1:9/v1/query"\n'


def head() -> str:
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def example(tmp_path):
    """The example project without its workflows (what a user has before init)."""
    copy = tmp_path / "diffusion-api"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns(
            ".github", ".ci-helper", "repositories", "__pycache__", ".coverage*", ".pytest_cache"
        ),
    )
    with (copy / "pyproject.toml").open("a") as pyproject:
        pyproject.write(UNREACHABLE_OSV)
    # The project's own environment (a developer's .venv): the dry run's steps run there, offline.
    python = make_venv(copy)
    # One distribution of its own, so the audit has something to audit (as tests/dry_run does).
    wheel = build_wheel(tmp_path / "wheels", "diffusion_extras", "1.0")
    install_wheel(python, wheel)
    return copy


def zizmor_findings(project):
    """zizmor's auditor persona (every finding, pedantic ones included) over the written workflows."""
    from tests.actions.test_action_files import zizmor

    program = zizmor()
    if program is None:  # as in test_action_files: only a laptop without the [test] extras lacks it
        assert not os.environ.get("CI"), "zizmor is not installed; pip install -e '.[test]' installs it"
        return []
    files = sorted(str(p) for p in (project / ".github" / "workflows").glob("*.yml"))
    proc = subprocess.run(
        [program, "--offline", "--persona=auditor", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def uses_of(path):
    document = yaml.safe_load(path.read_text())
    return [step.get("uses") for job in document["jobs"].values() for step in job.get("steps", [])]


def test_init_on_the_example_gives_workflows_verify_accepts_and_a_green_dry_run(example):
    sha = head()
    proc = run_ci_helper("init", str(example), "--self-ref", "HEAD")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        f"wrote {example}/.github/workflows/quality.yml (quality)",
        f"wrote {example}/.github/workflows/smoke.yml (smoke)",
        f"pinned truthful-ci/ci-helper to {sha} (v0.1.0); actions/checkout to 11bd71901bbe5b1630ceea73d27597364c9af683 "
        "(v4.2.2), actions/setup-python to 0b93645e9fea7318ecaed2b359559ac225c90a2b (v5.3.0)",
        f"next: ci-helper verify {example} && ci-helper verify --run {example}",
    ]
    quality = example / ".github" / "workflows" / "quality.yml"
    assert uses_of(quality) == [
        f"truthful-ci/ci-helper/actions/guardrails@{sha}",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683",
        "actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b",
        None,
        f"truthful-ci/ci-helper/actions/stub-repos@{sha}",
        f"truthful-ci/ci-helper/actions/quality@{sha}",
    ]
    assert uses_of(example / ".github" / "workflows" / "smoke.yml")[-1] == f"truthful-ci/ci-helper/actions/smoke@{sha}"
    assert f"        uses: truthful-ci/ci-helper/actions/quality@{sha} # v0.1.0\n" in quality.read_text()
    # The project keeps its test tools in requirements-dev.txt: that is what the job installs.
    assert '        run: "python -m pip install -r requirements-dev.txt"\n' in quality.read_text()
    # The example already has [tool.ci-helper]: its pyproject.toml is left as it was.
    assert (example / "pyproject.toml").read_text() == (EXAMPLE / "pyproject.toml").read_text() + UNREACHABLE_OSV

    static = run_ci_helper("verify", str(example), "--format", "text")
    assert (static.returncode, static.stdout) == (0, "no findings in 2 files\n")
    assert zizmor_findings(example) == []

    run = run_ci_helper("verify", "--run", str(example), timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    assert (
        "ci-helper dry run (pull_request #1 from ci-helper-dry-run into main of example-org/diffusion-api): GREEN"
        in run.stdout.splitlines()
    )
    for row in (
        "tests: quality",
        "tests: smoke",
        "coverage",
        "guardrails",
        "smoke",
        "stubs",
        "job-quality",
        "job-smoke",
    ):
        assert re.search(rf"^PASS +{re.escape(row)} +required", run.stdout, re.M), row


def test_init_never_overwrites_without_force(example):
    first = run_ci_helper("init", str(example), "--self-ref", "HEAD")
    assert first.returncode == 0, first.stderr
    quality = example / ".github" / "workflows" / "quality.yml"
    quality.write_text("# mine\n")
    again = run_ci_helper("init", str(example), "--self-ref", "HEAD")
    assert again.returncode == 2
    assert again.stderr == (
        ".github/workflows/quality.yml, .github/workflows/smoke.yml already exist; nothing was "
        "written (pass --force to overwrite them)\n"
    ).join(["Error: ", ""])
    assert quality.read_text() == "# mine\n"
    forced = run_ci_helper("init", str(example), "--self-ref", "HEAD", "--force")
    assert forced.returncode == 0
    assert forced.stdout.splitlines()[0] == f"overwrote {quality} (quality)"
    assert quality.read_text().startswith("# Quality tier:")


PROJECT = '[project]\r\nname = "app"\r\nversion = "1"\r\n\r\n[tool.pytest.ini_options]\r\ntestpaths = ["tests"]'


def test_a_bare_project_gets_the_settings_block_and_a_quality_workflow_only(tmp_path):
    project = tmp_path / "app"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_bytes(PROJECT.encode())
    (project / "app" / "model.py").write_text("import torch\nfrom transformers import AutoModel\nimport json\n")
    proc = run_ci_helper("init", str(project), "--repository", "my-org/app", "--self-ref", "HEAD")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == [
        f"wrote {project}/.github/workflows/quality.yml (quality)",
        f"appended [tool.ci-helper] to {project}/pyproject.toml",
    ]
    assert lines[3:5] == [
        "note: heavy imports found (torch, transformers) but no stub manifest: declare them (docs/stubs.md), set "
        "[tool.ci-helper.stubs] manifest, then run ci-helper init --force",
        "note: no [tool.ci-helper.smoke] server declared: no smoke workflow (docs/smoke.md)",
    ]
    # Appended to the text: every byte before it kept, the file's CRLF line ends used.
    assert (project / "pyproject.toml").read_bytes() == (
        PROJECT + "\r\n\r\n# Written by `ci-helper init` (docs/init.md): "
        'the settings every ci-helper command reads.\r\n[tool.ci-helper]\r\nrepository = "my-org/app"\r\n'
        'default-branch = "main"\r\n\r\n[tool.ci-helper.guard]\r\nrepositories = ["my-org/app"]\r\n'
        'base-branches = ["main"]\r\n'
    ).encode()
    config = settings.load(project)
    assert (config.repository, config.guard.repositories) == ("my-org/app", ["my-org/app"])
    assert not (project / ".github" / "workflows" / "smoke.yml").exists()
    text = (project / ".github" / "workflows" / "quality.yml").read_text()
    assert "stub-repos" not in text
    assert '        run: "python -m pip install -e . pytest coverage"\n' in text
    assert run_ci_helper("verify", str(project)).returncode == 0


def test_shards_call_the_reusable_quality_workflow_and_the_dry_run_runs_it(example):
    proc = run_ci_helper("init", str(example), "--self-ref", "HEAD", "--shards", "2")
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout.splitlines()[0]
        == f"wrote {example}/.github/workflows/quality.yml (quality, 2 shards and one verdict)"
    )
    document = yaml.safe_load((example / ".github" / "workflows" / "quality.yml").read_text())
    assert document["jobs"] == {
        "quality": {
            "name": "Quality (2 shards, one verdict)",
            "uses": f"truthful-ci/ci-helper/.github/workflows/quality.yml@{head()}",
            "with": {
                "repositories": "example-org/diffusion-api",
                "base-branches": "main",
                "python-version": "3.12",
                "install": "python -m pip install -r requirements-dev.txt",
                "stub-manifest": "stubs.yml",
                "shards": 2,
            },
        }
    }
    static = run_ci_helper("verify", str(example), "--format", "text")
    assert (static.returncode, static.stdout) == (0, "no findings in 2 files\n")
    assert zizmor_findings(example) == []
    # The sharded tier runs through our reusable workflow (this checkout's file): the plan job, both shards
    # side by side in their own workspace copies, then the verdict job (combine and the coverage gate). It
    # used to be left out (GREEN without a single quality test), then a required job not run (RED).
    local = run_ci_helper("verify", "--run", str(example), "--job", "quality", timeout=300)
    assert local.returncode == 0, local.stdout[-6000:] + local.stderr
    assert (
        "ci-helper dry run (pull_request #1 from ci-helper-dry-run into main of example-org/diffusion-api): GREEN"
        in local.stdout.splitlines()
    )
    for row in (
        "tests: quality (1)",
        "tests: quality (2)",
        "combine",
        "coverage",
        "job-quality-plan",
        "job-quality-tests-1",
        "job-quality-tests-2",
        "job-quality-verdict",
    ):
        assert re.search(rf"^PASS +{re.escape(row)} +required", local.stdout, re.M), row
    # The combine ledger: every collected test ran in exactly one of the two shards.
    ledger = json.loads((example / ".ci-helper" / "results" / "combine.json").read_text())
    assert (ledger["status"], ledger["figures"]) == (
        "pass",
        {
            "shards_expected": 2,
            "shards_found": 2,
            "collected": 28,
            "planned": 28,
            "ran": 28,
            "not_run": 0,
            "duplicated": 0,
            "jobs_not_successful": 0,
        },
    )

    # One failing test in the suite: its shard fails, the verdict job's combine is red, the run names the test.
    with (example / "tests" / "quality" / "test_payload.py").open("a") as tests:
        tests.write("\n\ndef test_ci_helper_red():\n    assert 1 == 2\n")
    red = run_ci_helper("verify", "--run", str(example), "--job", "quality", timeout=300)
    assert red.returncode == 1, red.stdout[-6000:] + red.stderr
    assert (
        "ci-helper dry run (pull_request #1 from ci-helper-dry-run into main of example-org/diffusion-api): RED"
        in red.stdout.splitlines()
    )
    assert "test_ci_helper_red" in red.stdout.split("ci-helper dry run (pull_request")[-1]


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (
            lambda p: None,
            [],
            "{p}/pyproject.toml: not found; init scaffolds a Python project with a pyproject.toml "
            "(create one, then run ci-helper init again)",
        ),
        (
            lambda p: (p / "pyproject.toml").write_text("[project]\nname = 'x'\n"),
            [],
            "{p}: cannot tell the GitHub repository (no [tool.ci-helper] repository, no github.com origin remote); "
            "pass --repository my-org/my-app",
        ),
        (
            lambda p: (p / "pyproject.toml").write_text("[project]\nname = 'x'\n"),
            ["--repository", "not a repo"],
            "--repository: 'not a repo' is not owner/name; pass --repository my-org/my-app",
        ),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, setup, args, message):
    project = tmp_path / "p"
    project.mkdir()
    setup(project)
    proc = run_ci_helper("init", str(project), "--self-ref", "HEAD", *args)
    assert proc.returncode == 2
    assert proc.stderr == f"Error: {message.format(p=project)}\n"
    assert not (project / ".github").exists()


def test_the_repository_comes_from_the_origin_remote(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(
        ["git", "-C", str(project), "remote", "add", "origin", "git@github.com:Some-Org/some.app.git"], check=True
    )
    assert run_ci_helper("init", str(project), "--self-ref", "HEAD").returncode == 0
    assert settings.load(project).repository == "Some-Org/some.app"


def test_third_party_pins_are_the_examples_pins():
    text = "".join(p.read_text() for p in sorted((EXAMPLE / ".github" / "workflows").glob("*.yml")))
    for name, (sha, tag) in init.THIRD_PARTY.items():
        assert f"uses: {name}@{sha} # {tag}\n" in text, name
