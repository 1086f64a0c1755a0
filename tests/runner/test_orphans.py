"""Issue 14.7: no process outlives its run. Every step process carries RUNNER_TRACKING_ID, as on GitHub's
runner, and whatever still carries it when the run ends is stopped: setsid daemons that ignore SIGTERM too.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from ci_helper import orphans
from ci_helper.runner import Reporter, run_action, run_steps
from tests.conftest import run_ci_helper

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="orphans are found through /proc")

# A daemon the way a test or a step makes one: double fork, new session, SIGTERM ignored, no pipe held.
DAEMON = textwrap.dedent("""\
    import os, signal, sys, time
    if os.fork():
        sys.exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(300)
""")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_for(path: Path, seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return int(path.read_text())


def _action(tmp_path: Path, steps: str) -> Path:
    action = tmp_path / "a"
    action.mkdir()
    (action / "action.yml").write_text("runs:\n  using: composite\n  steps:\n" + textwrap.indent(steps, "    "))
    return action


def test_a_setsid_daemon_left_by_a_step_is_stopped_when_the_run_ends(tmp_path):
    (tmp_path / "daemon.py").write_text(DAEMON)
    pidfile = tmp_path / "daemon.pid"
    action = _action(
        tmp_path,
        f"""\
- id: leave
  shell: bash
  run: |
    echo "tracking=$RUNNER_TRACKING_ID" >> "$GITHUB_OUTPUT"
    {sys.executable} {tmp_path / "daemon.py"} {pidfile}
""",
    )
    lines: list[str] = []

    class Collect:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    result = run_action(action, workspace=tmp_path, reporter=Reporter(Collect(), colour=False))
    assert result.outcome == "success"
    tracking = result.steps["leave"].outputs["tracking"]
    assert tracking.startswith("github_") and len(tracking) == len("github_") + 36
    daemon = wait_for(pidfile)
    assert not alive(daemon), "the setsid daemon outlived the run"
    assert orphans.tracked(orphans.RUNNER_TRACKING_ID, tracking) == []
    text = "".join(lines)
    assert "Cleaning up orphan processes\n" in text
    assert f"Terminate orphan process: pid ({daemon}) (python" in text


def test_every_step_of_a_run_shares_one_tracking_id_and_runs_differ(tmp_path):
    action = _action(
        tmp_path,
        """\
- id: one
  shell: bash
  run: echo "id=$RUNNER_TRACKING_ID" >> "$GITHUB_OUTPUT"
- id: two
  shell: bash
  run: echo "id=$RUNNER_TRACKING_ID" >> "$GITHUB_OUTPUT"
""",
    )
    first = run_action(
        action,
        workspace=tmp_path,
        reporter=Reporter(quiet=True),
        base_environ={"PATH": "/usr/bin:/bin", "RUNNER_TRACKING_ID": "github_outer"},
    )
    second = run_action(action, workspace=tmp_path, reporter=Reporter(quiet=True))
    ids = [first.steps["one"].outputs["id"], first.steps["two"].outputs["id"], second.steps["one"].outputs["id"]]
    assert ids[0] == ids[1] != ids[2]
    assert "github_outer" not in ids


@pytest.mark.parametrize("minutes, outcome", [("0", "success"), ("0.002", "failure")])
def test_timeout_minutes_zero_means_no_timeout(tmp_path, minutes, outcome):
    from ci_helper.workflows import read_workflow

    (tmp_path / "wf.yml").write_text(
        "on: push\njobs:\n  j:\n    steps:\n      - id: s\n        shell: bash\n"
        f"        timeout-minutes: {minutes}\n        run: sleep 0.5; echo done\n"
    )
    steps = read_workflow(tmp_path / "wf.yml").job("j").steps
    result = run_steps(steps, tmp_path / "wf.yml", workspace=tmp_path, reporter=Reporter(quiet=True))
    assert result.steps["s"].outcome == outcome
    if outcome == "failure":
        assert result.steps["s"].reason == "the step timed out after 0.002 minutes"


def test_verify_run_stops_a_daemon_a_workflow_step_left(tmp_path):
    (tmp_path / "daemon.py").write_text(DAEMON)
    pidfile = tmp_path / "daemon.pid"
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(
        textwrap.dedent(f"""\
        on: pull_request
        permissions: {{}}
        jobs:
          leave:
            runs-on: ubuntu-latest
            steps:
              - run: {sys.executable} {tmp_path / "daemon.py"} {pidfile}
              # verify --run runs the jobs that use our actions; this one never runs.
              - if: false
                uses: truthful-ci/ci-helper/actions/guardrails@{"0" * 40}
        """)
    )
    proc = run_ci_helper("verify", "--run", str(tmp_path), "--repository", "o/r", timeout=120)
    daemon = wait_for(pidfile)
    assert not alive(daemon), proc.stdout + proc.stderr
    assert f"Terminate orphan process: pid ({daemon})" in proc.stdout
