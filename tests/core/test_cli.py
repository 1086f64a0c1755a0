import json
import re
import subprocess
import sys

from ci_helper import __version__
from tests.conftest import REPO_ROOT, run_ci_helper, unmeasured_env


def test_version_prints_the_package_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output == f"ci-helper {__version__}\n"


def test_module_entry_point_runs():
    proc = run_ci_helper("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"ci-helper {__version__}\n"


def test_version_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from ci_helper.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "import json\n"
        "heavy = ['github', 'coverage', 'pip_audit', 'jsonschema', 'yaml', 'requests']\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    # Unmeasured: under our own coverage run, the child would import coverage itself.
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=unmeasured_env()
    )
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_unknown_command_is_usage_error(cli):
    result = cli("no-such-command")
    assert result.exit_code == 2


def test_domain_errors_do_not_know_the_command_line():
    """errors.BadInput is a plain exception; only ci_helper/cli/ imports click."""
    from ci_helper.errors import BadInput

    assert BadInput.__mro__[1:] == (Exception, BaseException, object)
    pkg = REPO_ROOT / "ci_helper"
    importers = sorted(
        str(p.relative_to(pkg))
        for p in pkg.rglob("*.py")
        if "fixtures" not in p.parts
        and p.parent.name != "cli"
        and re.search(r"^\s*(import click|from click)", p.read_text(encoding="utf-8"), re.M)
    )
    assert importers == []


def test_the_cli_layer_shows_a_domain_error_as_one_line_and_exit_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.ci-helper]\nresults_dir = 3\n")
    proc = run_ci_helper("guard", "--root", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
