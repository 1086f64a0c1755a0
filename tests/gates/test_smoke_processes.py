"""Issue 14.7: `ci-helper smoke` runs pytest in a process group of its own and nothing the tests started
outlives the run: not a grandchild that ignores SIGTERM, not a setsid daemon, not on a cancel."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.runner.test_orphans import DAEMON, alive, wait_for

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="orphans are found through /proc")
FIXTURES = Path(__file__).parent / "fixtures" / "smoke"
PY = sys.executable

# A child of a test, in pytest's process group, that ignores SIGTERM (and SIGINT).
STUBBORN = textwrap.dedent("""\
    import signal, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    open(sys.argv[1], "w").write("started")
    time.sleep(300)
""")


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _project(tmp_path: Path, test_body: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "good_server.py").write_text((FIXTURES / "good_server.py").read_text())
    (project / "daemon.py").write_text(DAEMON)
    (project / "stubborn.py").write_text(STUBBORN)
    (project / "smoke_leaves.py").write_text(
        textwrap.dedent(f"""\
        import subprocess, sys, time
        from pathlib import Path

        HERE = Path(__file__).parent


        def test_leaves_processes_behind():
            stubborn = subprocess.Popen([sys.executable, str(HERE / "stubborn.py"), str(HERE / "stubborn.ready")])
            (HERE / "stubborn.pid").write_text(str(stubborn.pid))
            subprocess.run([sys.executable, str(HERE / "daemon.py"), str(HERE / "daemon.pid")], check=True)
            while not (HERE / "stubborn.ready").exists():
                time.sleep(0.01)
        {textwrap.indent(test_body, "    ")}
        """)
    )
    return project


def _smoke(project: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_"))}
    env["CI_HELPER_RESULTS_DIR"] = "results"
    return subprocess.Popen(
        [
            PY,
            "-m",
            "ci_helper",
            "smoke",
            "--server",
            f"{PY} good_server.py {port}",
            "--ready-url",
            f"http://127.0.0.1:{port}/health",
            "--stop-url",
            f"http://127.0.0.1:{port}/server-stop",
            "--",
            "smoke_leaves.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Our own session: a survivor cannot hide in the test runner's process group.
        start_new_session=True,
    )


def test_processes_a_finished_test_run_left_behind_are_stopped(tmp_path):
    project = _project(tmp_path, "")
    proc = _smoke(project, _port())
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    stubborn, daemon = int((project / "stubborn.pid").read_text()), wait_for(project / "daemon.pid")
    assert not alive(stubborn), "a child that ignores SIGTERM outlived pytest"
    assert not alive(daemon), "a setsid daemon outlived pytest"


def test_a_cancel_stops_the_whole_test_tree(tmp_path):
    project = _project(tmp_path, "time.sleep(300)")
    proc = _smoke(project, _port())
    stubborn = wait_for(project / "stubborn.pid", 60)
    daemon = wait_for(project / "daemon.pid", 60)
    deadline = time.monotonic() + 30
    while not (project / "stubborn.ready").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0, output
    assert not alive(stubborn), output
    assert not alive(daemon), output
    # pytest itself went with its group.
    assert not [pid for pid in os.listdir("/proc") if pid.isdigit() and _is_pytest_of(int(pid), project)]


def _is_pytest_of(pid: int, project: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    return b"pytest" in cmdline and cwd == str(project) and alive(pid)
