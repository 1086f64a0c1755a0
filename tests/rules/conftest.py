"""Build a tiny repository and run the verify rules over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_helper import settings as settings_mod
from ci_helper.rules import run_rules
from tests.workflows.conftest import write_tree  # noqa: F401  (re-exported for the tests)

FIXTURES = Path(__file__).resolve().parents[2] / "ci_helper" / "fixtures" / "verify"
SHA = "0123456789abcdef0123456789abcdef01234567"

# A workflow header that satisfies missing-permissions and missing-guardrail, so a
# test sees only the rule it is about.
GUARDED = """\
on: [push, pull_request]
permissions: {contents: read}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: '[ "$GITHUB_REPOSITORY" = "o/r" ] || exit 1'
"""


@pytest.fixture
def findings(tmp_path):
    """``findings({"path": "text"}, only={"rule"}, table={...})`` -> [(rule, line, column, severity, message)]."""
    counter = iter(range(1000))

    def run(files, only=None, table=None):
        root = write_tree(tmp_path / f"r{next(counter)}", files)
        config = settings_mod.from_table(table or {})
        report = run_rules(root, config, only)
        return [(f.rule, f.line, f.column, f.severity, f.message) for f in report.findings]

    return run


def steps_workflow(steps: str, shell_defaults: str = "") -> dict[str, str]:
    """A guarded, permissioned workflow whose test job has these extra steps (indented 6)."""
    body = GUARDED + "".join("      " + line + "\n" for line in steps.strip("\n").splitlines())
    if shell_defaults:
        body = body.replace(
            "    runs-on: ubuntu-latest\n",
            f"    runs-on: ubuntu-latest\n    defaults: {{run: {{shell: {shell_defaults}}}}}\n",
        )
    return {".github/workflows/ci.yml": body}


def bad_fixture_findings(rule: str) -> list[tuple]:
    """``(file, line, column, severity, message)`` of every finding on the rule's bad canary fixture."""
    from ci_helper.settings import Settings

    report = run_rules(FIXTURES / rule / "bad", Settings(), {rule})
    return [(f.file, f.line, f.column, f.severity, f.message) for f in report.findings]
