"""Canary cases: the ``canary.json`` file format and its discovery.

A case file::

    {
      "expect": "fail",                     # pass | fail: the status the gate must produce
      "check": "coverage",                  # which check result to read
      "description": "total under the floor",
      "setup": [["python", "-m", "coverage", "run", "-m", "pytest", "-q"]],
      "command": ["ci-helper", "coverage", "gate", "--fail-under", "80"],
      "env": {"GITHUB_REPOSITORY": "example-org/diffusion-api"},
      "services": ["osv"],                  # optional: a local OSV server, records from osv.json
      "findings": ["coverage-total"],       # optional, bad fixtures: rules that must be among the findings
      "exit": 2                             # optional, bad fixtures: a refusal of bad input (default 1)
    }

``findings`` proves a bad fixture failed *for the reason it was written for*: a
verify rule's fixture that fails only because another rule fired would
otherwise count as that rule biting.

In ``setup``, ``command`` and ``env``, ``python`` (as a program) is the running
interpreter and ``ci-helper`` is this very ci-helper; ``{fixture}`` is the
case's temporary folder and ``{osv_url}`` the local OSV server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ci_helper.errors import BadInput

CASE_FILE = "canary.json"
EXPECTATIONS = ("pass", "fail")
SERVICES = ("osv",)

# Every gate that must register a bad fixture (and a good one). A gate missing
# here could silently lose its teeth; a gate listed here without fixtures makes
# the canary red. Each verify rule is a gate of its own (see required_gates()).
GATES = ("guard", "stubs", "smoke", "coverage", "audit", "deps", "summary", "network", "skips")


def required_gates() -> tuple[str, ...]:
    """``verify/<rule-id>`` for every registered verify rule (a new rule needs fixtures), then the gates."""
    from ci_helper.rules.registry import RULE_IDS

    return tuple(f"verify/{rule_id}" for rule_id in RULE_IDS) + GATES


REQUIRED_GATES = required_gates()


@dataclass
class Case:
    gate: str
    fixture: str
    folder: Path
    expect: str
    check: str
    command: list[str]
    description: str = ""
    setup: list[list[str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    exit: int | None = None  # the exit code the command must give (default: 0 for pass, 1 for fail)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{where}: expected a non-empty list of strings")
    return list(value)


def load_case(folder: Path, gate: str) -> Case:
    path = folder / CASE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}: unreadable canary case ({exc})") from None
    if not isinstance(raw, dict):
        raise BadInput(f"{path}: a canary case must be a JSON object")
    expect = raw.get("expect")
    if expect not in EXPECTATIONS:
        raise BadInput(f"{path}: 'expect' must be 'pass' or 'fail', got {expect!r}")
    check = raw.get("check")
    if not isinstance(check, str) or not check:
        raise BadInput(f"{path}: 'check' must name the check result to read")
    setup = raw.get("setup", [])
    if not isinstance(setup, list):
        raise BadInput(f"{path}: 'setup' must be a list of commands")
    env = raw.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise BadInput(f"{path}: 'env' must map names to strings")
    services = raw.get("services", [])
    if not isinstance(services, list) or any(s not in SERVICES for s in services):
        raise BadInput(f"{path}: 'services' may only list {', '.join(SERVICES)}")
    findings = raw.get("findings", [])
    if not isinstance(findings, list) or not all(isinstance(r, str) and r for r in findings):
        raise BadInput(f"{path}: 'findings' must be a list of rule ids")
    if findings and expect != "fail":
        raise BadInput(f"{path}: 'findings' only applies to a bad fixture (expect: fail)")
    exit_code = raw.get("exit")
    if exit_code is not None and (expect != "fail" or exit_code not in (1, 2)):
        raise BadInput(f"{path}: 'exit' is 1 or 2, for a bad fixture (expect: fail) only")
    return Case(
        gate=gate,
        fixture=folder.name,
        folder=folder,
        expect=expect,
        check=check,
        command=_strings(raw.get("command"), f"{path}: 'command'"),
        description=str(raw.get("description", "")),
        setup=[_strings(c, f"{path}: setup[{i}]") for i, c in enumerate(setup)],
        env=dict(env),
        services=list(services),
        findings=list(findings),
        exit=exit_code,
    )


def fixtures_root() -> Path:
    return Path(str(resources.files("ci_helper") / "fixtures"))


def discover(root: Path | None = None) -> list[Case]:
    """Every case under the fixtures folder; the gate is the path above the fixture folder."""
    base = root or fixtures_root()
    cases = []
    for case_file in sorted(base.rglob(CASE_FILE)):
        folder = case_file.parent
        gate = folder.parent.relative_to(base).as_posix()
        cases.append(load_case(folder, gate))
    return cases
