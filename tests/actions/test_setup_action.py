"""actions/setup: installs the CLI of the action's own source, or reuses one already there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ci_helper
from ci_helper import run_start
from tests.conftest import REPO_ROOT

SETUP = REPO_ROOT / "actions" / "setup"
FAKE_SOURCE = Path(__file__).parent / "fixtures" / "setup" / "fake_source"


def read_outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}


def run_install(
    action_path: Path,
    tmp_path: Path,
    extras: str = "",
    path: str | None = None,
    runner_temp: Path | None = None,
    cache_dir: Path | None = None,
    python: str = sys.executable,
    project_python: str = "",
    reuse_only: bool = False,
    cwd: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], list[str]]:
    """Run install.py as the action's step does; returns (process, step outputs, GITHUB_PATH lines)."""
    outputs, github_path = tmp_path / "output.txt", tmp_path / "path.txt"
    for f in (outputs, github_path):
        f.unlink(missing_ok=True)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "CI_HELPER_", "PIP_", "RUNNER_", "VIRTUAL_ENV"))
    }
    env.update(
        {
            "CI_HELPER_ACTION_PATH": str(action_path),
            "CI_HELPER_EXTRAS": extras,
            "CI_HELPER_PROJECT_PYTHON": project_python,
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_PATH": str(github_path),
            "PATH": path if path is not None else env["PATH"],
            # Nothing may come from an index: the machine's pip configuration is ignored too.
            "PIP_NO_INDEX": "1",
            "PIP_CONFIG_FILE": os.devnull,
        }
    )
    if runner_temp is not None:
        env["RUNNER_TEMP"] = str(runner_temp)
    if cache_dir is not None:
        env["CI_HELPER_PIP_CACHE_DIR"] = str(cache_dir)
    if reuse_only:
        env["CI_HELPER_SETUP_REUSE_ONLY"] = "true"
    env.update(extra_env or {})
    # The job's workspace is usually a checkout of the user's project, never our source.
    proc = subprocess.run(
        [python, "-I", "-S", str(action_path / "install.py")],
        env=env,
        cwd=cwd or tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = github_path.read_text().splitlines() if github_path.exists() else []
    return proc, read_outputs(outputs), lines


def this_checkout_is_installed_editable() -> bool:
    return Path(ci_helper.__file__).resolve().parent.parent == REPO_ROOT.resolve()


@pytest.mark.skipif(not this_checkout_is_installed_editable(), reason="needs `pip install -e .` of this checkout")
def test_noop_when_this_checkout_is_already_on_path(tmp_path):
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "ci-helper").exists()
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    proc, outputs, github_path = run_install(
        SETUP,
        tmp_path,
        extras="audit, github",
        path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        runner_temp=runner_temp,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    marker = runner_temp / "ci-helper" / "run-start.json"
    started = json.loads(marker.read_text())["started_at"]
    assert proc.stdout == f"ci-helper from this source is already on PATH ({bin_dir}): nothing to install\n"
    assert proc.stderr == (
        f"run started {run_start.iso(started)} (marker {marker}): gates refuse inputs written before it\n"
    )
    assert outputs["bin"] == str(bin_dir)
    assert outputs["installed"] == "false"
    assert Path(outputs["python"]).parent == bin_dir
    # Nothing installed, nothing added to PATH, nothing written under RUNNER_TEMP but the run's start.
    assert github_path == []
    assert sorted(p.relative_to(runner_temp).as_posix() for p in runner_temp.rglob("*")) == [
        "ci-helper",
        "ci-helper/run-start.json",
    ]
    # A second setup in the same job (the next action of ours) keeps the first start.
    again, _, _ = run_install(
        SETUP,
        tmp_path,
        extras="audit, github",
        path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        runner_temp=runner_temp,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert json.loads(marker.read_text())["started_at"] == started


@pytest.mark.parametrize(
    "extras, message",
    [
        ("nosuch", "extras: ci-helper has no extra nosuch; known extras: all, audit, bench, github, test"),
        ("audit;rm -rf ~", "extras: 'audit;rm' is not an extra name (letters, digits, '.', '_', '-')"),
    ],
)
@pytest.mark.skipif(not this_checkout_is_installed_editable(), reason="needs `pip install -e .` of this checkout")
def test_bad_extras_exit_2_with_an_annotation(tmp_path, extras, message):
    bin_dir = Path(sys.executable).parent
    proc, outputs, _ = run_install(SETUP, tmp_path, extras=extras, path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[-1] == f"::error title=ci-helper setup::{message}"
    assert outputs == {}


def make_source(tmp_path: Path) -> Path:
    """A repository-shaped tree (actions/setup + an installable ci-helper) that builds with no index."""
    repo = tmp_path / "action-source"
    shutil.copytree(FAKE_SOURCE, repo, ignore=shutil.ignore_patterns("__pycache__"))
    package = repo / "ci_helper"
    package.mkdir()
    # install.py reads the version and talks to the runner through the source's own modules.
    for name in ("__init__.py", "gha.py", "run_start.py"):
        shutil.copy(REPO_ROOT / "ci_helper" / name, package / name)
    shutil.move(str(repo / "fake_cli.py"), package / "fake_cli.py")
    (repo / "actions" / "setup").mkdir(parents=True)
    shutil.copy(SETUP / "install.py", repo / "actions" / "setup" / "install.py")
    return repo


def test_installs_into_a_dedicated_virtualenv_then_reuses_it(tmp_path):
    repo = make_source(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    # A PATH with no ci-helper on it: the user's environment has none.
    bare_path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "ci-helper").exists())
    action = repo / "actions" / "setup"

    cache = tmp_path / "pip-cache"
    proc, outputs, github_path = run_install(action, tmp_path, path=bare_path, runner_temp=runner_temp, cache_dir=cache)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [venv] = [p for p in (runner_temp / "ci-helper").iterdir() if p.is_dir()]
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    shim = venv / "ci-helper-path"
    # The virtualenv's own pip (seeded by venv), isolated: never the pip of the interpreter that made
    # it, whose site-packages may hold the project's .pth files.
    assert [line for line in proc.stdout.splitlines() if line.startswith("+ ")] == [
        f"+ {sys.executable} -I -S -m venv {venv}",
        f"+ {bin_dir / 'python'} -I -m pip install --disable-pip-version-check "
        f"--progress-bar off --cache-dir {cache} {repo.resolve()}",
    ]
    # Whether pip keeps a wheel built from a local folder in its cache varies by pip
    # version (23 does, 26 does not); the --cache-dir flag above is what we control.
    assert outputs == {"python": str(bin_dir / "python"), "bin": str(shim), "installed": "true"}
    # Only the shim folder goes on PATH, and it holds ci-helper alone: the virtualenv's
    # python, pip and the rest stay off PATH, so the project's own are still found first.
    assert github_path == [str(shim)]
    assert sorted(p.name for p in shim.iterdir()) == ["ci-helper"]
    # The launcher runs the virtualenv's python isolated (-I) on the console script.
    assert (shim / "ci-helper").read_text().splitlines()[-1] == (
        f'exec {bin_dir / "python"} -I {bin_dir / "ci-helper"} "$@"'
    )
    assert {p.name for p in bin_dir.iterdir()} >= {"ci-helper", "python", "python3"}
    later_path = os.pathsep.join([*github_path, bare_path])
    for name in ("python", "python3", "pip"):
        assert shutil.which(name, path=later_path) == shutil.which(name, path=bare_path), name
    assert shutil.which("python3", path=later_path) != str(bin_dir / "python3")
    assert shutil.which("ci-helper", path=later_path) == str(shim / "ci-helper")
    ran = subprocess.run(["ci-helper"], capture_output=True, text=True, check=True, env={"PATH": later_path})
    assert ran.stdout == f"fake ci-helper {ci_helper.__version__}\n"
    assert json.loads((venv / "ci-helper-install.json").read_text()) == {
        "source": str(repo.resolve()),
        "version": ci_helper.__version__,
        "extras": [],
    }

    # A second action of the same job: the virtualenv is reused, nothing is installed.
    proc, outputs, github_path = run_install(action, tmp_path, path=bare_path, runner_temp=runner_temp)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == f"ci-helper {ci_helper.__version__} from {repo.resolve()} already installed in {venv}\n"
    assert outputs == {"python": str(bin_dir / "python"), "bin": str(shim), "installed": "false"}
    assert github_path == [str(shim)]
    assert sorted(p.name for p in shim.iterdir()) == ["ci-helper"]

    # An action that needs an extra the first one did not: installed on top, both kept.
    proc, outputs, _ = run_install(
        action, tmp_path, extras="light", path=bare_path, runner_temp=runner_temp, cache_dir=cache
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert outputs["installed"] == "true"
    assert json.loads((venv / "ci-helper-install.json").read_text())["extras"] == ["light"]
    assert sorted(p.name for p in shim.iterdir()) == ["ci-helper"]


def test_without_runner_temp_and_no_install_on_path_it_exits_2(tmp_path):
    repo = make_source(tmp_path)
    proc, outputs, _ = run_install(repo / "actions" / "setup", tmp_path, path="/nonexistent")
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[-1] == (
        "::error title=ci-helper setup::RUNNER_TEMP is not set; the virtualenv for ci-helper lives there"
    )


def test_setup_action_hands_everything_to_the_script_through_env():
    action = yaml.safe_load((SETUP / "action.yml").read_text())
    [step] = action["runs"]["steps"]
    assert step["env"] == {
        "CI_HELPER_ACTION_PATH": "${{ github.action_path }}",
        "CI_HELPER_EXTRAS": "${{ inputs.extras }}",
        "CI_HELPER_PYTHON": "${{ inputs.python }}",
        "CI_HELPER_PROJECT_PYTHON": "${{ inputs.project-python }}",
        "CI_HELPER_PIP_CACHE_DIR": "${{ inputs.pip-cache-dir }}",
    }
    assert step["run"] == '"$CI_HELPER_PYTHON" -I -S "$CI_HELPER_ACTION_PATH/install.py"'


def test_an_interpreter_without_pip_seeds_the_virtualenv_with_its_own(tmp_path):
    repo = make_source(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    bare = tmp_path / "bare-python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    proc, outputs, _ = run_install(
        repo / "actions" / "setup", tmp_path, path="/nonexistent", runner_temp=runner_temp, python=str(python)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [venv] = [p for p in (runner_temp / "ci-helper").iterdir() if p.is_dir()]
    assert [line for line in proc.stdout.splitlines() if line.startswith("+ ")] == [
        f"+ {python} -I -S -m venv {venv}",
        f"+ {venv / 'bin' / 'python'} -I -m pip install --disable-pip-version-check --progress-bar off {repo.resolve()}",
    ]
    assert outputs["installed"] == "true"


@pytest.mark.skipif(not this_checkout_is_installed_editable(), reason="needs `pip install -e .` of this checkout")
def test_project_python_that_already_imports_this_source_is_left_alone(tmp_path):
    bin_dir = Path(sys.executable).parent
    proc, outputs, github_path = run_install(
        SETUP, tmp_path, path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", project_python=sys.executable
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == (
        f"ci-helper from this source is already on PATH ({bin_dir}): nothing to install\n"
        f"{sys.executable} already imports ci_helper from {REPO_ROOT.resolve()}: nothing to install into it\n"
    )
    assert outputs["installed"] == "false"
    assert github_path == []


def test_project_python_gets_this_source_installed_then_is_left_alone(tmp_path):
    repo = make_source(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    bare_path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "ci-helper").exists())
    project = tmp_path / "project-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project)], check=True)
    project_python = project / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    action = repo / "actions" / "setup"

    proc, outputs, github_path = run_install(
        action, tmp_path, path=bare_path, runner_temp=runner_temp, project_python=str(project_python)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [venv] = [p for p in (runner_temp / "ci-helper").iterdir() if p.is_dir()]
    # The CLI's own virtualenv first, then the same source into the project's interpreter,
    # by the virtualenv's pip (the project's has none), with --no-deps: the project's pins stay.
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    assert [line for line in proc.stdout.splitlines() if line.startswith("+ ")] == [
        f"+ {sys.executable} -I -S -m venv {venv}",
        f"+ {bin_dir / 'python'} -I -m pip install --disable-pip-version-check --progress-bar off {repo.resolve()}",
        f"+ {bin_dir / 'python'} -I -m pip --python {project_python} install --disable-pip-version-check "
        f"--progress-bar off --no-deps {repo.resolve()}",
    ]
    assert outputs["installed"] == "true"
    assert github_path == [str(venv / "ci-helper-path")]
    imported = subprocess.run(
        [str(project_python), "-I", "-c", "import ci_helper, sys; print(ci_helper.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert Path(imported.stdout.strip()).is_relative_to(project)
    # pip also wrote a ci-helper command beside the project's python; $GITHUB_PATH entries
    # come before the PATH setup-python left, so later steps still run the shim's, and
    # python is the project's.
    later_path = os.pathsep.join([*github_path, str(project_python.parent), bare_path])
    assert shutil.which("ci-helper", path=later_path) == str(venv / "ci-helper-path" / "ci-helper")
    assert shutil.which("python", path=later_path) == str(project_python)

    # A later action of the job with the same input: both installs are reused.
    proc, outputs, _ = run_install(
        action, tmp_path, path=bare_path, runner_temp=runner_temp, project_python=str(project_python)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == (
        f"ci-helper {ci_helper.__version__} from {repo.resolve()} already installed in {venv}\n"
        f"{project_python} already imports ci_helper from {repo.resolve()}: nothing to install into it\n"
    )
    assert outputs["installed"] == "false"


def test_a_project_python_that_does_not_exist_exits_2(tmp_path):
    repo = make_source(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    proc, outputs, _ = run_install(
        repo / "actions" / "setup",
        tmp_path,
        path="/nonexistent",
        runner_temp=runner_temp,
        project_python="no-such-python",
    )
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[-1] == (
        "::error title=ci-helper setup::project-python: 'no-such-python' is not an interpreter on PATH; "
        "run actions/setup-python first or give the interpreter's path"
    )
    assert outputs == {}


@pytest.mark.skipif(not this_checkout_is_installed_editable(), reason="needs `pip install -e .` of this checkout")
def test_a_local_dry_run_never_installs_into_project_python(tmp_path):
    project = tmp_path / "project-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project)], check=True)
    project_python = project / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    bin_dir = Path(sys.executable).parent
    proc, outputs, github_path = run_install(
        SETUP,
        tmp_path,
        path=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        project_python=str(project_python),
        reuse_only=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = REPO_ROOT.resolve()
    assert proc.stdout == (
        f"ci-helper from this source is already on PATH ({bin_dir}): nothing to install\n"
        f"{project_python} does not import ci_helper from {root}: not installing into it "
        f"(CI_HELPER_SETUP_REUSE_ONLY); for fake inference run: {project_python} -m pip install -e {root}\n"
    )
    assert outputs["installed"] == "false"
    assert github_path == []
    assert subprocess.run([str(project_python), "-I", "-c", "import ci_helper"], capture_output=True).returncode == 1
