import json
import subprocess
import sys

from ci_helper import __version__
from tests.conftest import run_ci_helper


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
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout.splitlines()[-1]) == []


def test_unknown_command_is_usage_error(cli):
    result = cli("no-such-command")
    assert result.exit_code == 2
