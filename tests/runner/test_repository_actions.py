"""Every action.yml of this repository loads through the runner: YAML, steps and every expression.

Running them end to end is each action's own test (through ``run_action``);
this catches a broken expression or a dangling ``uses: $/...`` in any of them.
"""

from __future__ import annotations

import subprocess

import pytest

from ci_helper.runner.manifest import find_action_file, load_action
from tests.conftest import REPO_ROOT


def _repository_actions() -> list[str]:
    try:
        listed = subprocess.run(
            [
                "git",
                "ls-files",
                "--cached",
                "--others",
                "--exclude-standard",
                "action.yml",
                "action.yaml",
                "**/action.yml",
                "**/action.yaml",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = [p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.rglob("action.y*ml")]
    # Test fixtures (some deliberately broken) are exercised by their own tests.
    return sorted(p for p in listed if not p.startswith("tests/"))


@pytest.mark.parametrize("relative", _repository_actions())
def test_repository_action_loads(relative):
    action = load_action((REPO_ROOT / relative).parent)
    assert action.using == "composite", f"{relative}: run-action runs composite actions only"
    for step in action.steps:
        if step.uses and step.uses.startswith("$/"):
            target = REPO_ROOT / step.uses[2:]
            assert find_action_file(target) is not None, f"{step.where}: uses {step.uses}, which has no action.yml"
