"""`ci-helper canary`: green on this tree, red when a gate loses its teeth or its bad fixture.

The clean run goes through the quality action (`canary: true`), exactly as a
user's workflow runs it, and its result is rendered by the summary. The red
runs select one gate (`--gate`) so they cost one or two gate runs each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from ci_helper.canary import cases
from ci_helper.dry_run.run import scripts_dir
from ci_helper.errors import BadInput
from ci_helper.rules.registry import RULE_IDS
from tests.conftest import REPO_ROOT, run_ci_helper

FIXTURES = REPO_ROOT / "ci_helper" / "fixtures"

# Installed into a child's PYTHONPATH: every Python process of the canary (the gate's
# own subprocess included) imports it first, and the coverage gate then always passes.
TOOTHLESS_COVERAGE = """
from ci_helper import results
from ci_helper.gates.coverage import gate

_real = gate.evaluate


def evaluate(report, options):
    verdict = _real(report, options)
    verdict.result = results.passed(verdict.result.check, verdict.result.figures)
    verdict.total_failed, verdict.per_file_failures, verdict.diff_failed = False, [], False
    return verdict


gate.evaluate = evaluate
"""


def rows(stdout: str) -> list[list[str]]:
    """The canary table as [gate, fixture, expected, got, verdict] rows."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("gate "))
    out = []
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        out.append(re.split(r" {2,}", line.strip()))
    return out


def test_every_registered_verify_rule_and_gate_is_required():
    assert cases.required_gates() == tuple(f"verify/{r}" for r in RULE_IDS) + (
        "guard",
        "stubs",
        "smoke",
        "coverage",
        "audit",
        "deps",
        "summary",
        "network",
        "skips",
    )
    found = {(c.gate, c.expect) for c in cases.discover()}
    assert {g for g, _ in found} == set(cases.required_gates())
    # Every bad fixture names the findings it exists to raise.
    assert [c.gate for c in cases.discover() if c.expect == "fail" and not c.findings] == []


def test_the_quality_action_runs_the_canary_and_the_summary_shows_every_gate_bites(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "coverage" / "good", project)
    scripts = scripts_dir()
    assert scripts is not None, "the ci-helper console script of this interpreter was not found"
    env = {"PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]), "CI_HELPER_SETUP_REUSE_ONLY": "true"}

    proc = run_ci_helper(
        "run-action",
        str(REPO_ROOT / "actions" / "quality"),
        "--input",
        "canary=true",
        "--input",
        "audit=false",
        "--workspace",
        str(project),
        env=env,
        timeout=300,
    )

    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    table = rows(proc.stdout)
    assert len(table) == len(cases.discover())
    assert [r for r in table if r[4] != "ok"] == []
    gates = len(cases.required_gates())
    assert f"gates proven to bite: {gates}/{gates}" in proc.stdout.splitlines()
    canary = json.loads((project / ".ci-helper" / "results" / "canary.json").read_text())
    assert (canary["status"], canary["figures"]) == (
        "pass",
        {"gates": gates, "proven": gates, "cases": len(cases.discover())},
    )

    summary = run_ci_helper("summary", "--results", str(project / ".ci-helper" / "results"), cwd=project)
    assert summary.returncode == 0, summary.stdout
    assert f"PASS    canary    required  gates proven to bite: {gates}/{gates}" in summary.stdout.splitlines()


def test_a_toothless_coverage_gate_makes_the_canary_red(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(TOOTHLESS_COVERAGE)
    pythonpath = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    proc = run_ci_helper(
        "canary",
        "--gate",
        "coverage",
        "--results-dir",
        str(tmp_path / "results"),
        env={"PYTHONPATH": pythonpath},
        timeout=180,
    )

    assert proc.returncode == 1, proc.stdout + proc.stderr
    # The stale and foreign data refusals come before the floors: they still bite.
    assert rows(proc.stdout) == [
        ["coverage", "bad", "fail", "pass", "FAILED"],
        ["coverage", "foreign-data", "fail", "fail", "ok"],
        ["coverage", "good", "pass", "pass", "ok"],
        ["coverage", "server-measured", "pass", "pass", "ok"],
        ["coverage", "server-missing", "fail", "pass", "FAILED"],
        ["coverage", "stale-data", "fail", "fail", "ok"],
    ]
    assert "gates proven to bite: 0/1" in proc.stdout.splitlines()
    result = json.loads((tmp_path / "results" / "canary.json").read_text())
    assert result["status"] == "fail"
    assert [(f["rule"], f["message"]) for f in result["findings"]] == [
        ("canary-toothless", "coverage did not bite its bad fixture bad"),
        ("canary-toothless", "coverage did not bite its bad fixture server-missing"),
    ]


def test_a_required_gate_without_a_bad_fixture_makes_the_canary_red(tmp_path):
    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES / "coverage" / "good", fixtures / "coverage" / "good")

    proc = run_ci_helper(
        "canary",
        "--gate",
        "coverage",
        "--fixtures",
        str(fixtures),
        "--results-dir",
        str(tmp_path / "results"),
        timeout=180,
    )

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert rows(proc.stdout) == [
        ["coverage", "good", "pass", "pass", "ok"],
        ["coverage", "(no bad fixture)", "fail", "missing", "FAILED"],
    ]
    result = json.loads((tmp_path / "results" / "canary.json").read_text())
    assert [(f["rule"], f["message"]) for f in result["findings"]] == [
        ("canary-no-fixture", "gate coverage registers no bad fixture")
    ]


def test_a_bad_fixture_failing_for_another_reason_proves_nothing(tmp_path):
    fixtures = tmp_path / "fixtures"
    for kind in ("bad", "good"):
        shutil.copytree(FIXTURES / "verify" / "muted-gate" / kind, fixtures / "verify" / "muted-gate" / kind)
    case_file = fixtures / "verify" / "muted-gate" / "bad" / "canary.json"
    case = json.loads(case_file.read_text())
    case["findings"] = ["unpinned-uses"]  # the bad workflow is pinned: this rule never fires on it
    case_file.write_text(json.dumps(case))

    proc = run_ci_helper(
        "canary", "--gate", "verify/muted-gate", "--fixtures", str(fixtures), "--results-dir", str(tmp_path / "results")
    )

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert rows(proc.stdout)[0] == ["verify/muted-gate", "bad", "fail", "wrong-reason", "FAILED"]
    assert (
        "BAD verify/muted-gate / bad: expected fail, got wrong-reason (no unpinned-uses finding (got: "
        "muted-gate))" in proc.stderr.splitlines()
    )


def test_findings_belong_to_bad_fixtures_only(tmp_path):
    folder = tmp_path / "good"
    folder.mkdir()
    (folder / "canary.json").write_text(
        json.dumps(
            {"expect": "pass", "check": "verify", "command": ["ci-helper", "verify", "."], "findings": ["muted-gate"]}
        )
    )
    with pytest.raises(BadInput, match=r"'findings' only applies to a bad fixture \(expect: fail\)$"):
        cases.load_case(folder, "verify/muted-gate")


HANG = """
import subprocess, sys, time
from pathlib import Path

# A gate that hangs and has started a helper (as smoke starts a server) holding our stdout.
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
Path("child.pid").write_text(str(child.pid))
time.sleep(30)
"""


def test_a_case_that_times_out_is_an_error_and_leaves_no_process(tmp_path, monkeypatch):
    from ci_helper.canary import run as canary_run

    folder = tmp_path / "smoke" / "hangs"
    folder.mkdir(parents=True)
    (folder / "hang.py").write_text(HANG)
    (folder / "canary.json").write_text(
        json.dumps({"expect": "fail", "check": "smoke", "command": ["python", "hang.py", "{fixture}"]})
    )
    case = cases.load_case(folder, "smoke")
    pid_file = tmp_path / "child.pid"
    case.command = ["python", "-c", HANG.replace('Path("child.pid")', f"Path({str(pid_file)!r})")]
    monkeypatch.setattr(canary_run, "CASE_TIMEOUT", 1.0)
    outcome = canary_run.run_case(case)
    assert (outcome.got, outcome.detail, outcome.ok) == ("error", "timed out after 1s", False)
    # Before: only the direct child was killed, the helper survived and the canary waited for it.
    assert outcome.seconds < 15
    pid = int(pid_file.read_text())
    # A killed process can still show as running (R) for a moment while the kernel tears it down (longer on a
    # loaded machine, or when it is measured by coverage): give it 5 s; a helper that survived sleeps for 30.
    deadline = time.monotonic() + 5
    while True:
        state = ""
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
        if state in ("", "Z", "X") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert state in ("", "Z", "X"), f"helper {pid} still running"


# A toy gate writing a valid result (its check's figures schema: a result the summary accepts).
PASSING_GATE = [
    "python",
    "-c",
    "from ci_helper import results; results.write_result(results.passed('verify', "
    "{'files': 1, 'findings': 0, 'errors': 0}))",
]


@pytest.mark.parametrize(
    "expect, setup_code, got",
    [
        # A good fixture whose setup failed is broken: its gate passing proves nothing.
        ("pass", 1, "error"),
        ("pass", 0, "pass"),
    ],
)
def test_a_good_fixture_whose_setup_fails_is_an_error(tmp_path, expect, setup_code, got):
    from ci_helper.canary import run as canary_run

    folder = tmp_path / "toy" / "good"
    folder.mkdir(parents=True)
    (folder / "canary.json").write_text(
        json.dumps(
            {
                "expect": expect,
                "check": "verify",
                "command": PASSING_GATE,
                "setup": [["python", "-c", f"import sys; print('setup broke'); sys.exit({setup_code})"]],
            }
        )
    )
    outcome = canary_run.run_case(cases.load_case(folder, "toy"))
    assert (outcome.got, outcome.ok) == (got, got == "pass")
    if got == "error":
        assert outcome.detail == "setup python -c import sys; print('setup broke'); sys.exit(1) exited 1: setup broke"


def test_a_case_whose_command_cannot_start_is_an_error_not_a_crash(tmp_path):
    from ci_helper.canary import run as canary_run

    folder = tmp_path / "toy" / "bad"
    folder.mkdir(parents=True)
    (folder / "canary.json").write_text(
        json.dumps({"expect": "fail", "check": "toy", "command": ["no-such-gate-binary", "--flag"]})
    )
    outcome = canary_run.run_case(cases.load_case(folder, "toy"))
    assert (outcome.got, outcome.ok) == ("error", False)
    assert outcome.detail == "cannot start no-such-gate-binary: No such file or directory"


@pytest.mark.parametrize(
    ("fixture", "rule"), [("stale-data", "coverage-stale-data"), ("foreign-data", "coverage-foreign-data")]
)
def test_the_stale_and_foreign_data_fixtures_fail_for_their_own_reason(fixture, rule):
    from ci_helper.canary.run import run_case

    [case] = [c for c in cases.discover() if c.gate == "coverage" and c.fixture == fixture]
    outcome = run_case(case)
    assert (outcome.expected, outcome.got, outcome.rules) == ("fail", "fail", [rule]), outcome.detail
    assert case.exit == 2
    if fixture == "stale-data":
        assert outcome.detail.startswith(".coverage: coverage data written before this run started (written ")
    else:
        assert re.fullmatch(
            r"/\S+/elsewhere/shapes\.py: coverage data measured a file that is not this project's: "
            r"measured outside this project \(\S+\); map it to this checkout with "
            r'\[tool\.coverage\.paths\] source = \["\./", "/\S+/elsewhere/"\]',
            outcome.detail,
        )


def test_a_gate_whose_result_the_summary_would_refuse_does_not_bite(tmp_path):
    from ci_helper.canary import run as canary_run

    folder = tmp_path / "toy" / "good"
    folder.mkdir(parents=True)
    (folder / "canary.json").write_text(
        json.dumps(
            {
                "expect": "pass",
                "check": "verify",
                "command": [
                    "python",
                    "-c",
                    "from ci_helper import results; results.write_result(results.passed('verify'))",
                ],
            }
        )
    )
    outcome = canary_run.run_case(cases.load_case(folder, "toy"))
    assert (outcome.got, outcome.detail) == (
        "error",
        "invalid verify result: required figure 'files' is missing (ci_helper/schemas/verify.json)",
    )
