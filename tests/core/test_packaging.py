"""pyproject.toml: the extras require what the code uses; the metadata is in its current form."""

from __future__ import annotations

import sys

from packaging.requirements import Requirement
from packaging.version import Version

from ci_helper.gates.audit.invocation import OSV_URL_MIN_VERSION
from tests.conftest import REPO_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_the_audit_extra_requires_the_pip_audit_whose_flags_we_use():
    (req,) = [Requirement(r) for r in PROJECT["optional-dependencies"]["audit"]]
    assert req.name == "pip-audit"
    lowest = Version(".".join(str(n) for n in OSV_URL_MIN_VERSION))
    assert not req.specifier.contains("2.9.0") and req.specifier.contains(str(lowest))


def test_the_license_is_an_spdx_expression_with_its_file():
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert (REPO_ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")


def test_ci_runs_the_readme_command_lint_and_types_before_the_tests():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (command,) = [line for line in ci.splitlines() if line.startswith("python3 -m pip install -e '.[test]'")]
    assert command in readme.splitlines()
    assert command.index("ruff check") < command.index("mypy ci_helper") < command.index("pytest")
