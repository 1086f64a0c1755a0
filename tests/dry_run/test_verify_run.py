"""`ci-helper verify --run` on the bundled example project, green and broken three ways.

Each test runs the real CLI in a subprocess on a copy of examples/diffusion-api:
the real workflows, our real action.yml files (mapped from
truthful-ci/ci-helper/...@sha to this checkout), real stubs, a real server, real
pytest and coverage. The broken copies run only the job they break (--job) so
the suite starts as few servers as it can.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_ci_helper
from tests.dry_run.project_env import build_wheel, install_wheel, make_venv, pip_freeze

EXAMPLE = REPO_ROOT / "examples" / "diffusion-api"
TITLE = "ci-helper dry run (pull_request #1 from ci-helper-dry-run into main of {repo})"
# A run must not depend on reaching the internet: the copies point the audit at a closed
# local port (the quality action passes its own osv-url input, so settings are the way in).
UNREACHABLE_OSV = '\n[tool.ci-helper.audit]\nosv-url = "http://127.0.0.1:9/v1/query"\n'


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A clean copy of the example project (no generated stubs or results from an earlier run)."""
    copy = tmp_path / "diffusion-api"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns(".ci-helper", "repositories", "__pycache__", ".coverage*", ".pytest_cache"),
    )
    with (copy / "pyproject.toml").open("a") as pyproject:
        pyproject.write(UNREACHABLE_OSV)
    # The project's own environment (a developer's .venv): the steps run there, never in ci-helper's.
    python = make_venv(copy)
    wheel = build_wheel(tmp_path / "wheels", "diffusion_extras", "1.0")
    install_wheel(python, wheel)
    return copy


def dry_run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ci_helper("verify", "--run", str(project), *args, timeout=240)


def summary_of(stdout: str, repo: str = "example-org/diffusion-api") -> str:
    """The rendered summary: everything from its title line on."""
    title = TITLE.format(repo=repo)
    start = stdout.index(title)
    return stdout[start:]


def table(summary: str) -> dict[str, tuple[str, str, str, str]]:
    """check -> (status, required, key figure, why) from the summary's table."""
    lines = summary.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("STATUS "))
    rows = {}
    for line in lines[head + 1 :]:
        if not line.strip():
            break
        cells = re.split(r" {2,}", line)
        status, check, required, key = cells[:4]
        rows[check] = (status, required, key, cells[4] if len(cells) > 4 else "")
    return rows


def blockers(summary: str) -> list[str]:
    lines = summary.splitlines()
    if lines[1] != "Not green because:":
        return []
    out = []
    for line in lines[2:]:
        if not line.startswith("  - "):
            break
        out.append(line[4:])
    return out


def test_the_example_is_green_with_smoke_and_quality_passed_and_stale_results_gone(example):
    stale = example / ".ci-helper" / "results"
    stale.mkdir(parents=True)
    # Results of an earlier, failed run: a dry run must start from nothing, as CI does.
    for name in ("coverage", "old-gate"):
        (stale / f"{name}.json").write_text(
            json.dumps(
                {"check": name, "status": "fail", "reason": None, "figures": {}, "findings": [], "required": True}
            )
        )

    before = pip_freeze()
    proc = dry_run(example)

    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    # The workflow's `pip install -r requirements-dev.txt` went to the project's .venv, not ci-helper's env.
    assert pip_freeze() == before
    out = proc.stdout
    assert out.count(f"python: {example}/.venv/bin/python (.venv)") == 2
    assert f"results: {stale} (2 stale result(s) removed)" in out.splitlines()
    summary = summary_of(out)
    assert summary.splitlines()[0] == TITLE.format(repo="example-org/diffusion-api") + ": GREEN"
    rows = table(summary)
    assert "old-gate" not in rows
    assert rows["smoke"][:2] == ("PASS", "required")
    assert re.fullmatch(r"5/5 passed, ready in [0-9.]+ s", rows["smoke"][2])
    assert rows["coverage"][:2] == ("PASS", "required")
    assert re.fullmatch(r"total \d+(\.\d+)?% \(floor 85%\)", rows["coverage"][2])
    assert rows["tests: smoke"] == ("PASS", "required", "5 tests, 5 passed", "")
    assert rows["tests: quality"][:2] == ("PASS", "required")
    for check in ("guardrails", "stubs", "verify", "job-smoke", "job-quality"):
        assert rows[check][:2] == ("PASS", "required"), (check, rows[check])
    assert rows["job-smoke"][2] == "steps: 6, failed: 0, skipped: 2"
    # Offline, the audit is shown as not run, optional for a laptop run, and says why.
    assert rows["audit"][:2] == ("NOT RUN", "optional")
    assert rows["audit"][3].startswith(
        "[local dry run: this machine cannot audit, optional here, required in CI] "
        "vulnerability service (osv) unreachable or failing: "
    )
    # Actions that cannot run locally are listed, never passed.
    skipped = [line for line in out.splitlines() if line.startswith("skipped: ")]
    assert skipped == [
        "skipped: remote action actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 (.github/workflows/quality.yml:25)",
        "skipped: remote action actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b (.github/workflows/quality.yml:30)",
        "skipped: remote action actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 (.github/workflows/smoke.yml:25)",
        "skipped: remote action actions/setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b (.github/workflows/smoke.yml:29)",
    ]
    # Progress: a header per job and a counter per step.
    assert "======== job 1/2: .github/workflows/quality.yml / Quality (unit tests, coverage gate) ========" in out
    assert "--- step: [6/6] Smoke tests" in out
    # The results folder holds exactly what this run's gates wrote.
    assert sorted(p.name for p in stale.glob("*.json")) == [
        "audit.json",
        "coverage.json",
        "guardrails.json",
        "network.json",
        "skips.json",
        "smoke.json",
        "stubs.json",
        "verify.json",
    ]
    # Both tiers held to the skip budget in one result (issue 19): the smoke job (second) judged the
    # quality job's JUnit file with its own, so neither tier's skips replaced the other's.
    skips = json.loads((stale / "skips.json").read_text())
    assert skips["status"] == "pass"
    assert [Path(p).parts[-2:] for p in skips["figures"]["junit_files"]] == [
        ("ci-helper-quality", "junit.xml"),
        ("smoke", "junit.xml"),
    ]


def test_a_failing_smoke_test_makes_the_run_red_for_that_test(example):
    (example / "tests" / "smoke" / "test_teapot.py").write_text(
        'def test_health_is_a_teapot(api):\n    status, _ = api.request("GET", "/health")\n    assert status == 418\n'
    )

    proc = dry_run(example, "--job", "smoke")

    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    summary = summary_of(proc.stdout)
    assert summary.splitlines()[0].endswith(": RED")
    assert blockers(summary) == ["tests: smoke: 1 failed", "job-smoke failed", "smoke failed"]
    rows = table(summary)
    assert rows["smoke"][0] == "FAIL"
    assert re.fullmatch(r"5/6 passed, 1 failed, ready in [0-9.]+ s", rows["smoke"][2])
    assert rows["smoke"][3] == "tests/smoke/test_teapot.py::test_health_is_a_teapot failed: assert 200 == 418"
    assert rows["job-smoke"][3] == "step failed: Smoke tests"
    assert "coverage" not in rows  # --job smoke: the quality job did not run


def test_coverage_under_the_floor_makes_the_run_red_for_the_total(example):
    pyproject = example / "pyproject.toml"
    text = pyproject.read_text()
    assert "fail-under = 85\n" in text
    pyproject.write_text(text.replace("fail-under = 85\n", "fail-under = 99\n"))

    proc = dry_run(example, "--job", "quality")

    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    summary = summary_of(proc.stdout)
    assert blockers(summary) == ["coverage failed", "job-quality failed"]
    rows = table(summary)
    status, required, key, why = rows["coverage"]
    total = re.fullmatch(r"total (\d+(?:\.\d+)?)% \(floor 99%\)", key).group(1)
    assert float(total) < 99
    assert (status, required, why) == ("FAIL", "required", f"total coverage {total}% is under the floor 99%")
    assert rows["tests: quality"][0] == "PASS"  # the tests passed: red for the coverage alone


def test_a_foreign_repository_is_stopped_by_the_guardrails(example):
    proc = dry_run(example, "--repository", "someone/diffusion-api-fork")

    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    summary = summary_of(proc.stdout, "someone/diffusion-api-fork")
    # The test steps were skipped: their tiers did not run (red), never absent or passed.
    assert blockers(summary) == [
        "tests: quality: its step 'Quality tests and coverage gate' (skipped) was skipped: no tests ran",
        "tests: smoke: its step 'Smoke tests' (skipped) was skipped: no tests ran",
        "guardrails failed",
        "job-quality failed",
        "job-smoke failed",
    ]
    rows = table(summary)
    assert rows["guardrails"] == (
        "FAIL",
        "required",
        "someone/diffusion-api-fork · pull_request · into main",
        "must run only in example-org/diffusion-api, not in someone/diffusion-api-fork (GITHUB_REPOSITORY)",
    )
    # Nothing after the guardrails ran: no smoke or coverage result, and the jobs say so.
    assert "smoke" not in rows and "coverage" not in rows
    assert rows["job-smoke"][2] == "steps: 6, failed: 1, skipped: 5"


def test_ctrl_c_stops_the_server_it_started(example):
    (example / "tests" / "smoke" / "test_slow.py").write_text(
        "import time\n\n\ndef test_slow(api):\n    time.sleep(60)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ci_helper", "verify", "--run", str(example), "--job", "smoke"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    port = None
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        found = re.match(r"smoke: running pytest with CI_HELPER_BASE_URL=http://127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
        assert time.monotonic() < deadline, "".join(lines)
    assert port is not None, "".join(lines)
    time.sleep(0.5)  # pytest is inside test_slow now
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(lines) + rest
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


FABRICATING_TEST = """import importlib


def test_sgm_names_are_fabricated_on_demand():
    made = 0
    for i in range(10):
        try:
            importlib.import_module(f"sgm.fabricated_{i}")
            made += 1
        except ImportError:
            pass  # refused by the budget: only the stubs result can say so
    assert made >= 1
"""


def test_names_fabricated_during_the_tests_reach_the_verdict(example):
    # The stubs result is written before the tests; the tests then fabricate more than the budget (8).
    (example / "tests" / "quality" / "test_fabricated.py").write_text(FABRICATING_TEST)
    proc = dry_run(example, "--job", "quality")
    summary = summary_of(proc.stdout)
    rows = table(summary)
    assert rows["stubs"][:2] == ("FAIL", "required"), rows["stubs"]
    # The example's own quality tests fabricate 4 names, this one 10 more (6 refused by the budget).
    assert rows["stubs"][2].startswith("fake inference on, 14 fabricated (budget 8), 3 modules")
    assert rows["stubs"][3].startswith("14 names were fabricated by the dynamic prefixes, over the budget of 8")
    assert "stubs failed" in blockers(summary)
    assert proc.returncode == 1


HUGGING_FACE_TEST = """\
import urllib.request


def test_downloads_the_model_card():
    urllib.request.urlopen("https://huggingface.co", timeout=120)
"""


def test_a_test_that_reaches_hugging_face_makes_the_tier_red_naming_it(example):
    # Issue 19: the offline hook blocks the attempt at once (no 120 s network timeout) and the
    # network check names the test; the tests themselves fail too, with the policy's message.
    (example / "tests" / "quality" / "test_hub.py").write_text(HUGGING_FACE_TEST)
    started = time.monotonic()
    proc = dry_run(example, "--job", "quality")
    assert time.monotonic() - started < 110
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    summary = summary_of(proc.stdout)
    rows = table(summary)
    assert rows["network"][:2] == ("FAIL", "required"), rows["network"]
    assert rows["network"][3].startswith(
        "tests/quality/test_hub.py::test_downloads_the_model_card resolved huggingface.co (blocked)"
    )
    assert "network failed" in blockers(summary)
    assert "ci-helper network policy 'block'" in proc.stdout


SWALLOWED_HUGGING_FACE_TEST = """\
import urllib.request


def test_tries_the_hub_and_carries_on():
    try:
        urllib.request.urlopen("https://huggingface.co", timeout=120)
    except OSError:
        pass
"""


def test_a_later_jobs_results_never_replace_an_earlier_jobs_red_check(example):
    # Every job of a dry run writes into one results folder: the smoke job's clean network result used to
    # replace the quality job's red one, so the summary showed "network: pass, 0 attempts" beside the test
    # that reached huggingface.co. The worst result of each check across the run's jobs stands.
    (example / "tests" / "quality" / "test_hub.py").write_text(SWALLOWED_HUGGING_FACE_TEST)
    proc = dry_run(example)
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr
    summary = summary_of(proc.stdout)
    rows = table(summary)
    assert rows["network"][:2] == ("FAIL", "required"), rows["network"]
    assert rows["network"][3].startswith(
        "tests/quality/test_hub.py::test_tries_the_hub_and_carries_on resolved huggingface.co (blocked)"
    )
    assert rows["job-smoke"][0] == "PASS"
    assert "Network attempts: 1 (expected 0) [network: fail]" in summary
