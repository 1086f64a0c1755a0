"""`verify --run` runs what GitHub would: every trigger, every matrix combination, the job graph, in the project's
environment (issue 17 items 1 and 2). Real subprocesses, real virtualenvs, a real pip installing a real wheel offline."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import run_ci_helper
from tests.dry_run.project_env import build_wheel, make_venv, pip_freeze

# The graph runs on schedule, which missing-guardrail rightly flags; this test is about the graph, not guards.
PYPROJECT = (
    '[tool.ci-helper]\nrepository = "o/r"\n'
    '[[tool.ci-helper.verify.allow]]\nrule = "missing-guardrail"\nreason = "a test fixture, never published"\n'
)

GRAPH = """\
name: graph
on:
  schedule:
    - cron: "0 3 * * *"
  workflow_dispatch:
    inputs:
      greeting: {required: true}
      loud: {type: boolean, default: false}
permissions: {contents: read}
defaults:
  run:
    shell: bash
    working-directory: work
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.v.outputs.version }}
    steps:
      - id: v
        run: |
          seed=$(cat seed.txt)
          echo "version=1.2.$seed" >> "$GITHUB_OUTPUT"
          echo "build ran in $(basename "$PWD") with $SHELLOPTS" >> ../ran.txt
  test:
    needs: build
    runs-on: ubuntu-latest
    services:
      postgres: {image: postgres:16}
    strategy:
      matrix:
        python: ["3.11", "3.12"]
        os: [linux, mac]
    steps:
      - run: >-
          echo "test ${{ matrix.python }}/${{ matrix.os }} got ${{ needs.build.outputs.version }}
          greeting=${{ inputs.greeting }} loud=${{ inputs.loud }} event=${{ github.event_name }}" >> ../ran.txt
  report:
    needs: [build, test]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "report saw build=${{ needs.build.result }} test=${{ needs.test.result }}" >> ../ran.txt
"""


@pytest.fixture
def graph_project(tmp_path: Path) -> Path:
    project = tmp_path / "graph"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "graph.yml").write_text(GRAPH)
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "work").mkdir()
    (project / "work" / "seed.txt").write_text("7\n")
    make_venv(project)  # the project's own .venv: no throwaway virtualenv needed here
    return project


def _ran(project: Path) -> list[str]:
    return (project / "ran.txt").read_text().splitlines()


def test_workflow_dispatch_runs_every_job_every_combination_in_needs_order(graph_project):
    proc = run_ci_helper(
        "verify",
        "--run",
        str(graph_project),
        "--event",
        "workflow_dispatch",
        "--input",
        "greeting=hi",
        "--job",
        "build",
        "--job",
        "test",
        "--job",
        "report",
        timeout=240,
    )

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    assert _ran(graph_project) == [
        # defaults.run: bash (GitHub's `bash` template sets pipefail) in the folder `work`.
        "build ran in work with braceexpand:errexit:hashall:interactive-comments:pipefail",
        "test 3.11/linux got 1.2.7 greeting=hi loud=false event=workflow_dispatch",
        "test 3.11/mac got 1.2.7 greeting=hi loud=false event=workflow_dispatch",
        "test 3.12/linux got 1.2.7 greeting=hi loud=false event=workflow_dispatch",
        "test 3.12/mac got 1.2.7 greeting=hi loud=false event=workflow_dispatch",
        "report saw build=success test=success",
    ]
    out = proc.stdout
    assert "======== job 2/6: .github/workflows/graph.yml / test (3.11, linux) ========" in out
    # services are reported as not run, with the reason.
    assert (
        "not run: .github/workflows/graph.yml: job test: service 'postgres' not started: a local dry run starts "
        "no service containers (steps that reach it fail here)"
    ) in out
    for check in (
        "job-build",
        "job-test-3.11-linux",
        "job-test-3.11-mac",
        "job-test-3.12-linux",
        "job-test-3.12-mac",
        "job-report",
    ):
        assert re.search(rf"^PASS +{re.escape(check)} ", out, re.M), out[-3000:]


def test_schedule_runs_the_graph_and_matrix_picks_combinations(graph_project):
    proc = run_ci_helper(
        "verify", "--run", str(graph_project), "--event", "schedule", "--matrix", "os=mac", "--job", "test", timeout=240
    )

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    assert _ran(graph_project)[1:] == [
        "test 3.11/mac got 1.2.7 greeting= loud= event=schedule",
        "test 3.12/mac got 1.2.7 greeting= loud= event=schedule",
    ]


def test_a_failed_need_skips_its_dependents_unless_they_ask(graph_project):
    (graph_project / "work" / "seed.txt").unlink()  # build's `cat` fails
    proc = run_ci_helper(
        "verify", "--run", str(graph_project), "--event", "schedule", "--job", "report", "--job", "test", timeout=240
    )

    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    assert _ran(graph_project) == ["report saw build=failure test=skipped"]
    assert "skipped job test: if: success() is false: a job it needs did not succeed" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--event", "workflow_dispatch"),
            "input 'greeting' of workflow_dispatch is required; pass it with --input greeting=VALUE",
        ),
        (
            ("--event", "workflow_dispatch", "--input", "greeting=x", "--input", "nope=1"),
            "--input nope: no workflow run for workflow_dispatch declares that input",
        ),
        (("--event", "push", "--input", "a=b"), "--input applies to --event workflow_dispatch or workflow_call"),
        (
            ("--event", "schedule", "--matrix", "os=windows"),
            "--matrix os=windows: no job's matrix has that combination",
        ),
        (("--event", "schedule", "--matrix", "novalue"), "--matrix expects KEY=VALUE, got 'novalue'"),
        (("--python", "/nonexistent/python"), "--python /nonexistent/python: not an interpreter"),
    ],
)
def test_bad_graph_input_exits_2(graph_project, args, message):
    proc = run_ci_helper("verify", "--run", str(graph_project), "--job", "test", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr


TESTS = """\
import os, sys, unittest

import tinypkg


class InTheProjectsEnvironment(unittest.TestCase):
    def test_runs_with_the_projects_interpreter(self):
        self.assertEqual(os.path.realpath(sys.prefix), os.path.realpath(os.environ["EXPECTED_PREFIX"]))

    def test_the_workflow_installed_the_package_here(self):
        self.assertEqual(tinypkg.VERSION, "2.0")
        self.assertTrue(tinypkg.__file__.startswith(os.environ["EXPECTED_PREFIX"]))
"""

INSTALLS = """\
on: pull_request
permissions: {contents: read}
jobs:
  test:
    runs-on: ubuntu-latest
    env:
      EXPECTED_PREFIX: ${{ github.workspace }}/%s
    steps:
      # Our action under another spelling of our name: GitHub compares repository names case-insensitively.
      - uses: truthful-ci/CI-Helper/actions/guardrails@d772e708c70810b372632e3c367030b60eaa3fa3
      - run: python -m pip install --no-index --find-links wheels -r requirements.txt
      - run: python -m unittest -v test_env.py
      - run: echo "pip=$(command -v pip || echo none) python=$(command -v python)" > which.txt
"""


def _installs_project(tmp_path: Path, prefix: str) -> Path:
    project = tmp_path / "installs"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "ci.yml").write_text(INSTALLS % prefix)
    (project / "pyproject.toml").write_text(PYPROJECT + '[tool.ci-helper.guard]\nrepositories = ["o/r"]\n')
    (project / "requirements.txt").write_text("tinypkg==2.0\n")
    (project / "test_env.py").write_text(TESTS)
    build_wheel(project / "wheels", "tinypkg", "2.0")
    return project


def test_a_project_venv_gets_the_installs_and_runs_the_tests_while_ci_helpers_env_stays(tmp_path):
    project = _installs_project(tmp_path, ".venv")
    python = make_venv(project)
    before = pip_freeze()

    proc = run_ci_helper("verify", "--run", str(project), timeout=240)

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    assert pip_freeze() == before  # ci-helper's own environment: not one package changed
    assert "tinypkg" not in " ".join(before)
    assert f"python: {python} (.venv)" in proc.stdout
    assert "Ran 2 tests" in proc.stderr + proc.stdout and "OK" in proc.stdout
    # `pip` and `python` in a step are the project's; ci-helper's own scripts folder is off PATH.
    which = (project / "which.txt").read_text()
    assert f"python={project}/.venv/bin/python" in which
    assert str(Path(sys.executable).parent) not in which


def test_without_a_project_interpreter_a_cached_throwaway_virtualenv_is_built(tmp_path):
    project = _installs_project(tmp_path, ".ci-helper/venvs/*")
    # The env check cannot know the hash: the tests compare with the folder the run names.
    (project / "test_env.py").write_text(
        TESTS.replace(
            'os.path.realpath(os.environ["EXPECTED_PREFIX"])', 'os.path.realpath(os.environ["VIRTUAL_ENV"])'
        ).replace('startswith(os.environ["EXPECTED_PREFIX"])', 'startswith(os.environ["VIRTUAL_ENV"])')
    )
    before = pip_freeze()

    first = run_ci_helper("verify", "--run", str(project), timeout=240)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    [venv] = list((project / ".ci-helper" / "venvs").iterdir())
    assert f"creating a throwaway virtualenv for the job's installs: {venv}" in first.stdout
    assert json.loads((venv / "ci-helper-venv.json").read_text())["key"] == venv.name
    assert pip_freeze() == before

    second = run_ci_helper("verify", "--run", str(project), timeout=240)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr
    assert "creating a throwaway virtualenv" not in second.stdout  # same install files: reused
    assert f"python: {venv}/bin/python (throwaway virtualenv .ci-helper/venvs/{venv.name})" in second.stdout

    (project / "requirements.txt").write_text("tinypkg==2.0\n# changed\n")
    third = run_ci_helper("verify", "--run", str(project), timeout=240)
    assert third.returncode == 0, third.stdout[-4000:] + third.stderr
    assert len(list((project / ".ci-helper" / "venvs").iterdir())) == 2  # a new hash, a new virtualenv


REMOTE = """\
on: push
permissions: {contents: read}
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: truthful-ci/ci-helper/actions/guardrails@d772e708c70810b372632e3c367030b60eaa3fa3
      - id: hello
        uses: someone/greeter/hello@0123456789abcdef0123456789abcdef01234567
        with: {who: dry run}
      - run: echo "said=${{ steps.hello.outputs.said }}" > said.txt
"""


def test_the_skipped_remote_action_hint_names_a_flag_verify_run_accepts(tmp_path):
    project = tmp_path / "remote"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "ci.yml").write_text(REMOTE)
    (project / "pyproject.toml").write_text(PYPROJECT + '[tool.ci-helper.guard]\nrepositories = ["o/r"]\n')
    make_venv(project)
    greeter = tmp_path / "greeter-checkout"
    (greeter / "hello").mkdir(parents=True)
    (greeter / "hello" / "action.yml").write_text(
        "inputs: {who: {required: true}}\noutputs: {said: {value: '${{ steps.s.outputs.said }}'}}\n"
        "runs:\n  using: composite\n  steps:\n    - id: s\n      shell: bash\n"
        '      run: echo "said=hello $WHO" >> "$GITHUB_OUTPUT"\n      env: {WHO: \'${{ inputs.who }}\'}\n'
    )

    first = run_ci_helper("verify", "--run", str(project), "--event", "push", timeout=240)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    assert (
        "remote action 'someone/greeter/hello@0123456789abcdef0123456789abcdef01234567' cannot run offline; "
        "map it with --stub-remote someone/greeter=DIR"
    ) in first.stdout
    assert (
        "skipped: remote action someone/greeter/hello@0123456789abcdef0123456789abcdef01234567 "
        "(.github/workflows/ci.yml:8)"
    ) in first.stdout
    assert (project / "said.txt").read_text() == "said=\n"

    # The flag the hint names exists, and maps the action to a local folder.
    second = run_ci_helper(
        "verify", "--run", str(project), "--event", "push", "--stub-remote", f"someone/greeter={greeter}", timeout=240
    )
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr
    assert (project / "said.txt").read_text() == "said=hello dry run\n"


def test_a_matrix_the_dry_run_cannot_build_is_not_run_and_never_green(tmp_path):
    # Expressions are evaluated when the jobs a matrix needs have finished; `vars` is empty on a laptop.
    project = tmp_path / "dynamic"
    (project / ".github" / "workflows").mkdir(parents=True)
    (project / ".github" / "workflows" / "ci.yml").write_text(
        "on: push\npermissions: {contents: read}\njobs:\n  t:\n    strategy:\n"
        "      matrix: {py: '${{ fromJSON(vars.PYTHONS) }}'}\n    steps: [{run: echo}]\n"
        "  after:\n    needs: t\n    steps: [{run: echo after > after.txt}]\n"
    )
    (project / "pyproject.toml").write_text(PYPROJECT)
    make_venv(project)

    proc = run_ci_helper(
        "verify", "--run", str(project), "--event", "push", "--job", "t", "--job", "after", timeout=240
    )

    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    assert (
        "not run: job t: .github/workflows/ci.yml:6: strategy.matrix cannot be built here (a dry run has no vars or "
        "secrets): Error reading JToken from JsonReader. Path '', line 0, position 0. (in "
        "'${{ fromJSON(vars.PYTHONS) }}')\n"
    ) in proc.stdout
    assert re.search(r"^NOT RUN +job-t +required .*not run by a local dry run: ", proc.stdout, re.M), proc.stdout
    assert not (project / "after.txt").exists()  # its dependent is skipped
