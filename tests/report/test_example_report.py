"""The run report of `ci-helper verify --run` on the bundled example project (issue 20, done when).

One full dry run of a real git copy of examples/diffusion-api (a feature branch with one
change) gives the report whose inventory and invariants must match the example's workflows
exactly. The same report is then rendered again after one real change each: a gate muted
in the workflow, a required gate that did not run; and one more dry run (the smoke job
only) with a failing smoke test gives a red tier. Each must say "not merge-ready".
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ci_helper.canary.osv_server import OsvServer
from tests.conftest import REPO_ROOT, run_ci_helper
from tests.dry_run.project_env import build_wheel, make_venv

EXAMPLE = REPO_ROOT / "examples" / "diffusion-api"
QUALITY, SMOKE = ".github/workflows/quality.yml", ".github/workflows/smoke.yml"
CHANGE = "\n\ndef unused_helper(value):\n    return value * 2\n"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def osv():
    with OsvServer([]) as server:  # no vulnerability known: the audit runs offline and passes
        yield server


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory, osv: OsvServer) -> Path:
    """A git copy of the example on a feature branch that adds one function no test calls."""
    root = tmp_path_factory.mktemp("example")
    copy = root / "diffusion-api"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns(".ci-helper", "repositories", "__pycache__", ".coverage*", ".pytest_cache"),
    )
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    assert "fail-under = 85\n" in text
    # The coverage gate diffs against main, so its result carries each changed file's coverage.
    text = text.replace("fail-under = 85\n", 'fail-under = 85\ncompare-branch = "main"\n')
    pyproject.write_text(text + f'\n[tool.ci-helper.audit]\nosv-url = "{osv.query_url}"\n')
    python = make_venv(copy)
    wheel = build_wheel(root / "wheels", "diffusion_extras", "1.0")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-index", "--no-deps", str(wheel)], check=True)
    _git(copy, "init", "-q", "-b", "main")
    (copy / ".git" / "info" / "exclude").write_text("/.venv/\n")
    _git(copy, "add", ".")
    _git(copy, "commit", "-qm", "base")
    _git(copy, "checkout", "-qb", "feature")
    with (copy / "diffusion_api" / "payload.py").open("a") as handle:
        handle.write(CHANGE)
    _git(copy, "commit", "-qam", "feature: a helper")
    return copy


@pytest.fixture(scope="module")
def ran(example: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    """The one full dry run: both jobs, every gate."""
    proc = run_ci_helper("verify", "--run", str(example), timeout=300)
    saved = example / ".ci-helper" / "results" / "report" / "report.json"
    return proc, json.loads(saved.read_text()) if saved.is_file() else {}


def _inventory(report: dict) -> list[tuple]:
    return [
        (
            w["rel"],
            j["id"],
            j["required"],
            j["outcome"],
            [(s["label"], s["gate"], s["required"], s["outcome"]) for s in j["steps"]],
        )
        for w in report["workflows"]
        for j in w["jobs"]
    ]


def _steps(last: str, outcome: str | None) -> list[tuple]:
    # Remote actions (checkout, setup-python) cannot run on a laptop: skipped, never passed; not gates.
    return [
        ("Check out", False, False, "skipped"),
        ("Set up Python", False, False, "skipped"),
        ("Guardrails", True, True, "success"),
        ("Install test tools", False, False, "success"),
        ("Stub repositories", True, True, "success"),
        (last, True, True, outcome),
    ]


def _rerender(example: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the project (without its virtualenv) and of the full run's results, to change one thing."""
    copy = tmp_path / "diffusion-api"
    shutil.copytree(example, copy, ignore=shutil.ignore_patterns(".venv", ".git", "repositories"))
    return copy, copy / ".ci-helper" / "results"


def _report(project: Path, results: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run_ci_helper("report", str(project), "--results", str(results), "--base", "main", "--format", "json")
    return proc, json.loads(proc.stdout) if proc.stdout.startswith("{") else {}


def test_verify_run_reports_an_inventory_and_invariants_that_match_the_example(ran, example):
    proc, report = ran
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    saved = example / ".ci-helper" / "results" / "report"
    # One line says where the report is and what it concluded.
    assert proc.stdout.splitlines()[-1] == f"report: {saved / 'report.md'} (merge-ready)"
    assert sorted(p.name for p in saved.iterdir()) == ["report.json", "report.md"]
    assert report["verdict"] == "merge-ready"
    assert [(w["rel"], w["triggers"]) for w in report["workflows"]] == [
        (QUALITY, ["pull_request", "push", "workflow_dispatch"]),
        (SMOKE, ["pull_request", "push", "workflow_dispatch"]),
    ]
    assert _inventory(report) == [
        (QUALITY, "quality", True, "success", _steps("Quality tests and coverage gate", "success")),
        (SMOKE, "smoke", True, "success", _steps("Smoke tests", "success")),
    ]
    assert [(i["name"], i["holds"], i["evidence"]) for i in report["invariants"]] == [
        ("Every required check passed", True, "12 of 12 required checks, tiers and jobs passed"),
        (
            "No skips, continues or muted gates",
            True,
            "no check was not run; verify found no muted or skipped gate",
        ),
        ("Every tier ran tests", True, "quality: 28 tests, smoke: 5 tests"),
        ("Every action pinned to a commit", True, "0 unpinned references"),
        (
            "Determinism preserved (no network, clones, downloads)",
            True,
            "network pass: 0 network attempts, 0 clones, 0 downloads",
        ),
    ]
    assert [(c["check"], c["status"], c["required"]) for c in report["checks"]] == [
        (name, "pass", True)
        for name in ("audit", "coverage", "guardrails", "network", "skips", "smoke", "stubs", "verify")
    ]
    assert [(t["name"], t["total"], t["failed"], t["errors"]) for t in report["tiers"]] == [
        ("quality", 28, 0, 0),
        ("smoke", 5, 0, 0),
    ]
    # The changed file with its coverage, exactly as the coverage gate's result counted it.
    coverage = json.loads((example / ".ci-helper" / "results" / "coverage.json").read_text())["figures"]
    assert coverage["changed_files"] == [
        {
            "file": "diffusion_api/payload.py",
            "statements": coverage["changed_files"][0]["statements"],
            "missing": coverage["changed_files"][0]["missing"],
            "changed_statements": 2,
            "changed_missing": 1,
            "measured": True,
        }
    ]
    assert report["base"] == "main"
    assert report["changed_files"] == coverage["changed_files"]
    row = next(line for line in (saved / "report.md").read_text().splitlines() if "diffusion\\_api/payload.py" in line)
    [(file, covered, statements)] = [
        (f["file"], f["statements"] - f["missing"], f["statements"]) for f in coverage["changed_files"]
    ]
    assert row == f"| diffusion\\_api/payload.py | {covered}/{statements} | 1/2 |"


def test_a_muted_gate_makes_the_same_report_not_merge_ready(ran, example, tmp_path):
    assert ran[1]["verdict"] == "merge-ready"
    project, results = _rerender(example, tmp_path)
    workflow = project / QUALITY
    text = workflow.read_text()
    step = "      - name: Quality tests and coverage gate\n"
    assert text.count(step) == 1
    workflow.write_text(text.replace(step, step + "        continue-on-error: true\n"))
    line = workflow.read_text().splitlines().index(step.rstrip("\n")) + 1

    proc, report = _report(project, results)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert report["verdict"] == "not merge-ready"
    muted = next(i for i in report["invariants"] if i["name"] == "No skips, continues or muted gates")
    assert (muted["holds"], muted["evidence"]) == (False, f"muted-gate at {QUALITY}:{line + 1}")
    gate = report["workflows"][0]["jobs"][0]["steps"][-1]
    assert (gate["label"], gate["gate"], gate["required"], gate["continue_on_error"]) == (
        "Quality tests and coverage gate",
        True,
        False,
        "true",
    )


def test_a_required_check_not_run_makes_the_same_report_not_merge_ready(ran, example, tmp_path):
    assert ran[1]["verdict"] == "merge-ready"
    project, results = _rerender(example, tmp_path)
    # The network gate for real, with no log of the offline plugin: it cannot tell, so it is not run.
    gate = run_ci_helper(
        "network", "gate", "--log", str(tmp_path / "missing.jsonl"), "--results-dir", str(results), cwd=project
    )
    assert gate.returncode == 1, gate.stdout + gate.stderr

    proc, report = _report(project, results)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert report["verdict"] == "not merge-ready"
    by_name = {i["name"]: i for i in report["invariants"]}
    network = next(c for c in report["checks"] if c["check"] == "network")
    assert (network["status"], network["required"]) == ("not-run", True)
    assert by_name["Every required check passed"] == {
        "name": "Every required check passed",
        "holds": False,
        "evidence": "7 of 8 required checks and tiers passed: network not-run",
    }
    assert by_name["No skips, continues or muted gates"]["evidence"] == f"network not run ({network['reason']})"
    assert by_name["Determinism preserved (no network, clones, downloads)"] == {
        "name": "Determinism preserved (no network, clones, downloads)",
        "holds": False,
        "evidence": f"network not run ({network['reason']})",
    }


def test_a_red_tier_makes_the_report_not_merge_ready(ran, example):
    assert ran[1]["verdict"] == "merge-ready"  # after the full run: this run replaces its results
    (example / "tests" / "smoke" / "test_teapot.py").write_text(
        'def test_health_is_a_teapot(api):\n    status, _ = api.request("GET", "/health")\n    assert status == 418\n'
    )
    try:
        proc = run_ci_helper("verify", "--run", str(example), "--job", "smoke", timeout=300)
    finally:
        (example / "tests" / "smoke" / "test_teapot.py").unlink()

    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    saved = example / ".ci-helper" / "results" / "report"
    assert proc.stdout.splitlines()[-1] == f"report: {saved / 'report.md'} (not merge-ready)"
    report = json.loads((saved / "report.json").read_text())
    assert report["verdict"] == "not merge-ready"
    [tier] = report["tiers"]
    assert (tier["name"], tier["total"], tier["failed"]) == ("smoke", 6, 1)
    assert tier["first_failure"].startswith("tests/smoke/test_teapot.py::test_health_is_a_teapot: ")
    passed = report["invariants"][0]
    assert passed["holds"] is False
    assert re.fullmatch(
        r"\d+ of \d+ required checks, tiers and jobs passed: smoke fail, smoke 1 failed, job smoke failure",
        passed["evidence"],
    ), passed["evidence"]
    # The job the run did not plan (--job smoke) has no outcome; the smoke job failed at its test step.
    assert _inventory(report) == [
        (
            QUALITY,
            "quality",
            True,
            None,
            [(s[0], s[1], s[2], None) for s in _steps("Quality tests and coverage gate", None)],
        ),
        (SMOKE, "smoke", True, "failure", _steps("Smoke tests", "failure")),
    ]
