"""Rules every action and workflow of this repository keeps (they guard the contracts in BRIEF/DESIGN)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ci_helper.cli import COMMANDS
from tests.conftest import REPO_ROOT

ACTION_FILES = sorted([*REPO_ROOT.glob("action.y*ml"), *REPO_ROOT.glob("actions/*/action.y*ml")])
# Our CI, the reusable workflows we ship, and the example project's workflows and
# actions (users copy those). Fixtures under */fixtures/ are deliberately bad.
WORKFLOW_FILES = sorted(
    [
        *REPO_ROOT.glob(".github/workflows/*.y*ml"),
        *REPO_ROOT.glob("workflows/*.y*ml"),
        *(
            p
            for p in REPO_ROOT.glob("examples/**/*.y*ml")
            if "fixtures" not in p.parts and (p.parent.name == "workflows" or p.stem == "action")
        ),
    ]
)
USES_LINE = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}$")


def rel(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def run_scripts(path: Path) -> list[tuple[str, str]]:
    """(where, script) of every ``run:`` in a workflow's jobs or an action's composite steps."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    steps: list[tuple[str, dict]] = []
    runs = doc.get("runs") if isinstance(doc.get("runs"), dict) else {}
    steps += [(f"runs.steps[{i}]", s) for i, s in enumerate(runs.get("steps") or [])]
    for job_id, job in (doc.get("jobs") or {}).items():
        steps += [(f"jobs.{job_id}.steps[{i}]", s) for i, s in enumerate((job or {}).get("steps") or [])]
    return [(where, str(step["run"])) for where, step in steps if isinstance(step, dict) and "run" in step]


def test_the_actions_of_this_issue_exist():
    assert {rel(p) for p in ACTION_FILES} >= {"action.yml", "actions/setup/action.yml", "actions/guardrails/action.yml"}


@pytest.mark.parametrize("path", ACTION_FILES + WORKFLOW_FILES, ids=rel)
def test_no_run_script_contains_an_expression(path):
    # An expression in a script is pasted into the shell before it runs (script
    # injection); inputs must reach scripts through env: instead.
    offenders = [where for where, script in run_scripts(path) if "${{" in script]
    assert offenders == []


@pytest.mark.parametrize("path", ACTION_FILES, ids=rel)
def test_actions_reach_siblings_through_the_self_repository_syntax(path):
    # `./actions/x` resolves against the caller's workspace and breaks for every
    # user outside this repository; `$/actions/x` is this repository at this commit.
    local = [
        (n, line.strip())
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if (m := USES_LINE.match(line)) and m["ref"].startswith("./")
    ]
    assert local == []


@pytest.mark.parametrize("path", ACTION_FILES, ids=rel)
def test_remote_uses_are_pinned_with_a_version_comment(path):
    bad = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = USES_LINE.match(line)
        if not m or m["ref"].startswith(("./", "$/", "docker://")):
            continue
        if not PINNED.match(m["ref"]) or not VERSION_COMMENT.match((m["comment"] or "").strip()):
            bad.append((n, line.strip()))
    assert bad == []


@pytest.mark.parametrize("path", ACTION_FILES, ids=rel)
def test_every_declared_input_is_used_by_a_step(path):
    # An input no step reads is a setting that silently does nothing.
    doc = yaml.safe_load(path.read_text())
    text = json.dumps(doc["runs"]["steps"])
    unused = [name for name in (doc.get("inputs") or {}) if f"inputs.{name} " not in text.replace("}}", " }}")]
    assert unused == []


def zizmor() -> str | None:
    # pip puts console scripts beside the interpreter, which need not be on PATH.
    beside = Path(sys.executable).parent / "zizmor"
    return shutil.which("zizmor") or (str(beside) if beside.is_file() else None)


# In CI ([test] extras installed) a missing zizmor must fail the test, not skip it.
@pytest.mark.skipif(
    zizmor() is None and not os.environ.get("CI"), reason="zizmor is not installed (pip install -e '.[test]' has it)"
)
def test_zizmor_offline_reports_no_finding_on_our_actions():
    assert zizmor() is not None, "zizmor is not installed; pip install -e '.[test]' installs it"
    # Every file named explicitly: zizmor given a folder that is not a repository's .github scans nothing there.
    files = [
        *ACTION_FILES,
        *sorted((REPO_ROOT / "workflows").glob("*.yml")),
        *sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml")),
    ]
    assert len(files) >= len(ACTION_FILES) + 3
    # The auditor persona reports every finding, the pedantic and low-confidence ones included.
    proc = subprocess.run(
        [zizmor(), "--offline", "--persona=auditor", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == []


def test_pre_commit_hook_runs_verify_on_the_repository():
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = hooks
    assert {k: hook[k] for k in ("id", "entry", "language", "pass_filenames")} == {
        "id": "ci-helper-verify",
        "entry": "ci-helper verify",
        "language": "python",
        "pass_filenames": False,
    }
    assert hook["entry"].split()[1] in COMMANDS
    files = re.compile(hook["files"])
    for path in (
        ".github/workflows/ci.yml",
        ".github/workflows/release.yaml",
        "action.yml",
        "actions/smoke/action.yml",
        ".github/actions/x/action.yaml",
        "pyproject.toml",
    ):
        assert files.search(path), path
    for path in ("README.md", "docs/action.yml.md", "src/transaction.yml", ".github/dependabot.yml"):
        assert not files.search(path), path


def test_docs_show_every_action_pinned_by_sha_with_the_version_comment():
    text = (REPO_ROOT / "docs" / "actions.md").read_text()
    uses = re.findall(r"uses:\s*(truthful-ci/ci-helper\S*)(.*)", text)
    shown = {ref.split("@")[0] for ref, _ in uses}
    assert shown == {
        "truthful-ci/ci-helper",
        "truthful-ci/ci-helper/actions/setup",
        "truthful-ci/ci-helper/actions/guardrails",
        "truthful-ci/ci-helper/actions/stub-repos",
        "truthful-ci/ci-helper/actions/smoke",
        "truthful-ci/ci-helper/actions/quality",
    }
    for ref, comment in uses:
        assert re.fullmatch(r"[^@]+@[0-9a-f]{40}", ref), ref
        assert comment.strip() == "# v0.1.0", ref


def test_verify_on_this_repository_stays_clean(cli):
    result = cli("verify", str(REPO_ROOT), "--format", "json")
    report = json.loads(result.output)
    assert report["findings"] == []
    assert result.exit_code == 0
    # Our actions are among the files it read.
    assert report["summary"]["files"] >= 1 + len(ACTION_FILES)
