"""Our own coverage floor means what it says: the CLI's subprocesses are measured, -I ones included."""

from __future__ import annotations

import subprocess
import sys

from coverage import CoverageData

from tests.conftest import REPO_ROOT, outside_ci_env, unmeasured_env

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_our_coverage_configuration_measures_every_child_python():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["coverage"]["run"]
    assert (config["source"], config["patch"], config["parallel"]) == (["ci_helper"], ["subprocess"], True)


def test_an_isolated_child_of_the_tests_is_measured(tmp_path):
    # Our actions and tests run the CLI as `python -I -m ci_helper` (nothing from the checkout may shadow it);
    # -I ignores PYTHON* variables, not COVERAGE_PROCESS_CONFIG, and still reads site-packages' .pth files.
    script = tmp_path / "parent.py"
    script.write_text(
        "import subprocess, sys\nsubprocess.run([sys.executable, '-I', '-m', 'ci_helper', '--version'], check=True)\n",
        encoding="utf-8",
    )
    data_file = tmp_path / ".coverage"
    proc = subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}", str(script)],
        cwd=REPO_ROOT,  # our pyproject.toml's [tool.coverage.run]
        env=unmeasured_env(outside_ci_env()),  # only this test's measurement, whether or not the suite is measured
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ci-helper ")
    measured: set[str] = set()
    files = sorted(tmp_path.glob(".coverage.*"))
    for path in files:
        data = CoverageData(basename=str(path))
        data.read()
        measured.update(data.measured_files())
    # The parent measured nothing of ours (source = ci_helper); the -I child wrote its own data file.
    assert len(files) == 2
    assert str(REPO_ROOT / "ci_helper" / "__main__.py") in measured
    assert str(REPO_ROOT / "ci_helper" / "launcher.py") in measured
