"""Issue 14: the code being judged cannot take over our actions.

Each test plants a hostile checkout (modules that would stand in for ci_helper,
its dependencies, pip, pip-audit; a ``sitecustomize`` on ``PYTHONPATH``; a
``.pth`` in the project's interpreter) or poisons what a job step can write
(``$GITHUB_ENV``, ``$GITHUB_OUTPUT``, ``$GITHUB_PATH``, workspace files), runs
the real action through our local runner, and checks that nothing hostile ran
and the gate kept its verdict.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import ci_helper
from tests.actions import hostile
from tests.actions.test_setup_action import make_source, run_install
from tests.conftest import REPO_ROOT, run_ci_helper

HOME = "truthful-ci/ci-helper"


@pytest.fixture
def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1/query"


editable = pytest.mark.skipif(
    Path(ci_helper.__file__).resolve().parent.parent != REPO_ROOT.resolve(),
    reason="needs `pip install -e .` of this checkout (as .ci/run does)",
)


def run_action(
    action: Path, workspace: Path, *args: str, inputs: dict[str, str] | None = None, env: dict[str, str] | None = None
):
    outputs = workspace.parent / "outputs.json"
    argv = [
        "run-action",
        str(action),
        "--workspace",
        str(workspace),
        "--outputs-json",
        str(outputs),
        "--summary-out",
        str(workspace.parent / "summary.md"),
        *args,
    ]
    for key, value in (inputs or {}).items():
        argv += ["--input", f"{key}={value}"]
    full = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    proc = run_ci_helper(*argv, env=full, timeout=300)
    return proc, (json.loads(outputs.read_text()) if outputs.exists() else None)


# --- 14.1: setup installs and launches ci-helper isolated ------------------------------------------


def test_setup_installs_and_launches_ci_helper_isolated_from_a_hostile_checkout(tmp_path):
    marks = tmp_path / "marks"
    checkout = tmp_path / "checkout"
    hostile.plant(checkout, marks)
    # The project's interpreter (it runs install.py, as `python` after setup-python does) has a
    # .pth of the project's environment that runs code at every start.
    project = tmp_path / "project-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project)], check=True)
    [site] = list(project.glob("lib/python3*/site-packages"))
    hostile.planted_pth(site, marks)
    python = project / "bin" / "python"

    repo = make_source(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    bare_path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "ci-helper").exists())
    proc, outputs, github_path = run_install(
        repo / "actions" / "setup",
        tmp_path,
        path=bare_path,
        runner_temp=runner_temp,
        python=str(python),
        cwd=checkout,
        extra_env={"PYTHONPATH": str(checkout)},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["installed"] == "true"
    assert hostile.marks_left(marks) == []

    # The launcher on PATH, started from the checkout with PYTHONPATH pointing into it.
    ran = subprocess.run(
        ["ci-helper"],
        capture_output=True,
        text=True,
        cwd=checkout,
        env={"PATH": os.pathsep.join([*github_path, bare_path]), "PYTHONPATH": str(checkout)},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == f"fake ci-helper {ci_helper.__version__}\n"
    assert hostile.marks_left(marks) == []


# --- 14.2: the guard decides first, with the standard library only ---------------------------------


def test_guard_decision_imports_the_standard_library_only(tmp_path):
    # -S: no site-packages at all, so click, yaml or anything installed cannot be imported.
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_REPOSITORY": "someone/fork",
        "GITHUB_EVENT_NAME": "push",
        "CI_HELPER_GUARD_REPOSITORIES": HOME,
        "CI_HELPER_RESULTS_DIR": str(tmp_path / "results"),
    }
    proc = subprocess.run(
        [sys.executable, "-I", "-S", str(REPO_ROOT / "actions" / "guardrails" / "decide.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [
        "error: guard-repository: must run only in truthful-ci/ci-helper, not in someone/fork (GITHUB_REPOSITORY)",
        f"guardrails: fail (1 finding; repository someone/fork, event push) -> {tmp_path / 'results' / 'guardrails.json'}",
    ]
    assert json.loads((tmp_path / "results" / "guardrails.json").read_text())["status"] == "fail"


@editable
@pytest.mark.parametrize("repository, code", [("someone/fork", 1), (HOME, 0)])
def test_guardrails_decide_before_anything_runs_in_a_hostile_checkout(tmp_path, repository, code):
    marks = tmp_path / "marks"
    workspace = tmp_path / "workspace"
    hostile.plant(workspace, marks)
    proc, outputs = run_action(
        REPO_ROOT / "actions" / "guardrails",
        workspace,
        "--repository",
        repository,
        "--env",
        f"PYTHONPATH={workspace}",
        inputs={"repositories": HOME},
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    steps = outputs["steps"]
    assert list(steps) == ["guard", "setup", "pins"]
    assert steps["guard"]["outcome"] == ("failure" if code else "success")
    # Refused: setup never ran, so nothing was installed or started after the refusal.
    assert steps["setup"]["outcome"] == ("skipped" if code else "success")
    assert steps["pins"]["outcome"] == "skipped"
    assert hostile.marks_left(marks) == []


# --- 14.1 + 14.3: the quality action in a hostile checkout whose tests poison every channel ------


CONFTEST = """
import os, pathlib
def pytest_sessionstart(session):
    # What the code under test can write for the later steps of the job.
    with open(os.environ["GITHUB_ENV"], "a") as env:
        env.write("CI_HELPER_DRY_RUN=true\\nCI_HELPER_ALLOW_OFFLINE=true\\nPYTHONPATH={evil}\\n")
    with open(os.environ["GITHUB_OUTPUT"], "a") as out:
        out.write("dry-run=true\\n")
    with open(os.environ["GITHUB_PATH"], "a") as path:
        path.write("{fake_bin}\\n")
"""


@editable
def test_quality_action_stays_red_when_its_tests_poison_every_channel(tmp_path, closed_port_url):
    marks = tmp_path / "marks"
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO_ROOT / "ci_helper" / "fixtures" / "coverage" / "good", workspace)
    planted = hostile.plant(workspace, marks, modules=("click", "yaml", "jinja2", "jsonschema", "pip"))
    evil = tmp_path / "evil"
    hostile.plant(evil, marks, modules=("sitecustomize",), packages=())
    fake_bin = tmp_path / "fake-bin"
    hostile.fake_command(fake_bin, marks)
    (workspace / "conftest.py").write_text(CONFTEST.format(evil=evil, fake_bin=fake_bin))
    omit = ", ".join(json.dumps(p) for p in ["test_*.py", "conftest.py", *planted])
    # A workspace file: the project's own settings ask for the offline pass.
    (workspace / "pyproject.toml").write_text(
        f'[tool.coverage.run]\nsource = ["."]\nomit = [{omit}]\n\n'
        "[tool.ci-helper.coverage]\nfail-under = 90\n\n[tool.ci-helper.audit]\nallow-offline = true\n"
    )
    proc, outputs = run_action(
        REPO_ROOT / "actions" / "quality",
        workspace,
        inputs={
            "python": sys.executable,
            "pytest-args": "test_shapes.py -p no:cacheprovider",
            "osv-url": closed_port_url,
        },
    )
    steps = outputs["steps"]
    assert steps["tests"]["outcome"] == "success", proc.stdout
    assert steps["gate"]["outcome"] == "success", proc.stdout
    # The service is unreachable: the audit did not run, and that stays red in CI.
    assert steps["audit"]["outcome"] == "failure", proc.stdout
    audit = json.loads((workspace / ".ci-helper" / "results" / "audit.json").read_text())
    assert audit["status"] == "not-run"
    assert audit["figures"]["allow_offline"] is False
    # The summary step ran (no step could switch it off) and is red.
    assert steps["summary"]["outcome"] == "failure"
    assert proc.returncode == 1
    assert hostile.marks_left(marks) == []
