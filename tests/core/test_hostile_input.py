"""Hostile input ends fast, in one line: the real `ci-helper` in a subprocess, exit 2, no traceback.

A workflow, an event payload, a result file or a configuration in a pull
request is written by whoever opened it. Each case below is an input that
once kept a command busy for minutes or ended it with a Python traceback
(RecursionError, ValueError, OSError, coverage's ConfigError).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import run_ci_helper

DEEP = 100_000
# Every case must end well inside this many seconds (the merge bomb took > 60 s).
BOUND = 20.0


def merge_bomb(levels: int = 12, fan: int = 8) -> str:
    """Each level merges the one before ``fan`` times: fan**levels mappings behind a few hundred bytes."""
    lines = ["on: push", "x0: &a0 {k: v}"]
    lines += [f"x{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * fan)}]}}" for i in range(1, levels)]
    lines.append(f"jobs:\n  j:\n    <<: *a{levels - 1}\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo")
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def workflow(root: Path, text: str) -> Path:
    return write(root / ".github" / "workflows" / "ci.yml", text)


def result_file(root: Path, figures_json: str) -> Path:
    text = (
        '{"check": "deps", "status": "pass", "reason": null, "figures": '
        + figures_json
        + ', "findings": [], "required": true}'
    )
    return write(root / "results" / "deps.json", text)


def deep_json() -> str:
    return "[" * DEEP + "]" * DEEP


def prepare(case: str, root: Path) -> tuple[list[str], dict[str, str], str]:
    """Build the input for ``case``: (arguments, environment, a phrase the one error line must contain)."""
    if case == "yaml-merge-bomb":
        workflow(root, merge_bomb())
        return ["verify", "."], {}, ".github/workflows/ci.yml"
    if case == "yaml-recursive-merge":
        workflow(root, "on: push\nx: &j {<<: *j}\njobs:\n  j:\n    <<: *j\n    runs-on: x\n    steps: [{run: echo}]\n")
        return ["verify", "."], {}, ".github/workflows/ci.yml"
    if case == "yaml-recursive-alias":
        workflow(root, "on: push\nx: &j [*j]\njobs:\n  j:\n    runs-on: *j\n    steps: [{run: echo}]\n")
        return ["verify", "."], {}, ".github/workflows/ci.yml"
    if case == "yaml-deep-brackets":
        workflow(root, "on: push\njobs: " + "[" * DEEP + "]" * DEEP + "\n")
        return ["verify", "."], {}, ".github/workflows/ci.yml"
    if case == "yaml-deep-blocks":
        workflow(root, "on: push\njobs:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(300)))
        return ["verify", "."], {}, ".github/workflows/ci.yml"
    if case == "yaml-too-big":
        workflow(root, "on: push\n# " + "x" * (5 * 1024 * 1024) + "\njobs: {}\n")
        return ["verify", "."], {}, ".github/workflows/ci.yml"
    if case == "workflow-symlink-loop":
        folder = root / ".github" / "workflows"
        folder.mkdir(parents=True)
        os.symlink("loop.yml", folder / "loop.yml")
        return ["verify", "."], {}, ".github/workflows/loop.yml"
    if case == "action-fifo":
        (root / "act").mkdir()
        os.mkfifo(root / "act" / "action.yml")
        return ["verify", "."], {}, "act/action.yml"
    if case == "toml-deep-settings":
        write(root / "pyproject.toml", "[tool.ci-helper]\nx = " + "[" * DEEP + "]" * DEEP + "\n")
        return ["verify", "."], {}, "pyproject.toml"
    if case == "toml-huge-int-settings":
        write(root / "pyproject.toml", "[tool.ci-helper]\nx = " + "9" * 5000 + "\n")
        return ["verify", "."], {}, "pyproject.toml"
    if case == "result-huge-int":
        result_file(root, '{"installed": ' + "9" * 5000 + "}")
        return ["summary", "--results", "results"], {}, "deps.json"
    if case == "result-deep":
        result_file(root, '{"x": ' + deep_json() + "}")
        return ["summary", "--results", "results"], {}, "deps.json"
    if case in ("event-deep", "event-huge-int"):
        payload = deep_json() if case == "event-deep" else '{"pull_request": {"number": ' + "9" * 5000 + "}}"
        write(root / "event.json", payload)
        write(
            root / "act" / "action.yml", "runs:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n"
        )
        return ["run-action", "act", "--event-path", "event.json", "--event-name", "pull_request"], {}, "event.json"
    if case in ("guard-event-deep", "guard-event-huge-int"):
        payload = (
            '{"pull_request": ' + deep_json() + "}"
            if case == "guard-event-deep"
            else '{"pull_request": {"number": ' + "9" * 5000 + "}}"
        )
        write(root / "event.json", payload)
        env = {
            "GITHUB_EVENT_NAME": "pull_request",
            "GITHUB_EVENT_PATH": str(root / "event.json"),
            "GITHUB_REPOSITORY": "o/r",
            "GITHUB_REF": "refs/pull/1/merge",
        }
        return ["guard", "--forks", "refuse"], env, "event.json"
    if case == "ready-url-ipv6":
        return ["smoke", "--server", "sleep 30", "--ready-url", "http://[::1/", "--", "-q"], {}, "--ready-url"
    if case == "stop-url-ipv6":
        return (
            [
                "smoke",
                "--server",
                "sleep 30",
                "--ready-url",
                "http://127.0.0.1:{port}/",
                "--stop-url",
                "http://[::1/",
                "--",
                "-q",
            ],
            {},
            "--stop-url",
        )
    if case.startswith("coveragerc-fail-under-"):
        value = case.rsplit("-", 1)[1].replace("minus", "-")
        write(root / ".coveragerc", f"[report]\nfail_under = {value}\n")
        write(root / "mod.py", "x = 1\n")
        return ["coverage", "gate"], {}, ".coveragerc"
    if case == "pyproject-coverage-fail-under-nan":
        write(root / "pyproject.toml", "[tool.coverage.report]\nfail_under = nan\n")
        write(root / "mod.py", "x = 1\n")
        return ["coverage", "gate"], {}, "pyproject.toml"
    if case == "stubs-manifest-deep":
        write(root / "stubs.yml", "repos: " + "[" * DEEP + "]" * DEEP + "\n")
        return ["stubs", "create", "--manifest", "stubs.yml", "--root", "out"], {}, "stubs.yml"
    if case == "stubs-manifest-alias-bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
        write(root / "stubs.yml", "version: 1\n" + "\n".join(lines) + "\nrepositories: *a8\n")
        return ["stubs", "create", "--manifest", "stubs.yml", "--root", "out"], {}, "stubs.yml"
    if case == "junit-deep":
        write(root / "junit.xml", "<testsuite>" + "<a>" * DEEP + "</a>" * DEEP + "</testsuite>")
        write(root / "results" / ".keep", "")
        return ["summary", "--results", "results", "--junit", "junit.xml"], {}, "junit.xml"
    if case == "junit-entity-bomb":
        entities = ['<!ENTITY e0 "lol">'] + [f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10)]
        write(
            root / "junit.xml",
            f'<?xml version="1.0"?>\n<!DOCTYPE t [{"".join(entities)}]>\n'
            '<testsuite><testcase name="&e9;"/></testsuite>',
        )
        write(root / "results" / ".keep", "")
        return ["summary", "--results", "results", "--junit", "junit.xml"], {}, "junit.xml"
    if case == "audit-policy-deep":
        write(root / "policy.toml", "[tool.ci-helper.audit]\nx = " + "[" * DEEP + "]" * DEEP + "\n")
        write(root / "requirements.txt", "safepkg==2.0\n")
        return ["audit", "-r", "requirements.txt", "--policy", "policy.toml"], {}, "policy.toml"
    raise AssertionError(case)


CASES = [
    "yaml-merge-bomb",
    "yaml-recursive-merge",
    "yaml-recursive-alias",
    "yaml-deep-brackets",
    "yaml-deep-blocks",
    "yaml-too-big",
    "workflow-symlink-loop",
    "action-fifo",
    "toml-deep-settings",
    "toml-huge-int-settings",
    "result-huge-int",
    "result-deep",
    "event-deep",
    "event-huge-int",
    "guard-event-deep",
    "guard-event-huge-int",
    "ready-url-ipv6",
    "stop-url-ipv6",
    "coveragerc-fail-under-nan",
    "coveragerc-fail-under-minus5",
    "coveragerc-fail-under-101",
    "coveragerc-fail-under-inf",
    "pyproject-coverage-fail-under-nan",
    "stubs-manifest-deep",
    "stubs-manifest-alias-bomb",
    "junit-deep",
    "junit-entity-bomb",
    "audit-policy-deep",
]


@pytest.mark.parametrize("case", CASES)
def test_hostile_input_is_one_line_exit_2(tmp_path, case):
    args, env, names = prepare(case, tmp_path)
    if case.startswith(("coveragerc", "pyproject-coverage")):
        # Real coverage data, so the gate reaches the configuration check on its own merits.
        run = __import__("subprocess").run
        run(
            [__import__("sys").executable, "-m", "coverage", "run", "--rcfile=/dev/null", "mod.py"],
            cwd=tmp_path,
            check=True,
            capture_output=True,
        )
    started = time.monotonic()
    proc = run_ci_helper(*args, cwd=tmp_path, env=env, timeout=60)
    elapsed = time.monotonic() - started
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert elapsed < BOUND, elapsed
    if case == "junit-deep":
        # Well-formed XML with no test case: not bad input, a red tier that ran no tests.
        assert (proc.returncode, proc.stderr) == (1, "")
        assert "no test" in proc.stdout.lower() or "0 tests" in proc.stdout.lower() or "Tests: 0" in proc.stdout
        return
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-3000:]
    assert lines[0].startswith("Error: ") and names in lines[0], lines[0]
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:])
