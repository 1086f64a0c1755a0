"""Issue 14.4: under GitHub Actions no test name, message, traceback or server log line we print is obeyed
as a workflow command; only the annotations we build from findings are, with their text intact.

The output of the real CLI is read with ci_helper.runner.commands, the port of the runner's parser.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from ci_helper.runner.commands import obeyed_commands
from tests.conftest import run_ci_helper

PY = sys.executable
HOSTILE = [
    "::add-mask::pwned",
    "::stop-commands::pwn",
    "::error::forged",
    "  ::set-output name=verdict::green",
    "##[error]forged-v1",
    "text ##[add-mask]pwned-v1",
    "ok\r::warning::after-cr",
    "::pwn::",
    "::notice file=x.py::forged-notice",
]

HOSTILE_TESTS = f"""
import os, sys
import pytest

HOSTILE = {HOSTILE!r}


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile(text):
    print(text)
    print(text, file=sys.stderr)
    assert False, text


def test_{"ok"}():
    print("::add-mask::from-a-passing-test")
"""

HOSTILE_SERVER = f"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

for text in {HOSTILE!r}:
    print(text, flush=True)
if sys.argv[2] == "die":
    sys.exit(3)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, fmt, *args):
        print("::error::from-a-request-log " + fmt % args, flush=True)


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever(poll_interval=0.05)
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_only_our_commands(stdout: str, findings: list[dict]) -> list:
    """Every obeyed command is the fence or an annotation built from a finding; returns the annotations."""
    commands = obeyed_commands(stdout)
    assert commands[0].name == "add-mask" and commands[1].name == "stop-commands", stdout[:300]
    token = commands[0].data
    assert token.startswith("ci-helper-") and commands[1].data == token
    messages = {f["message"] for f in findings}
    annotations = []
    for command in commands[2:]:
        if command.name in (token, "stop-commands"):
            assert command.data in ("", token)
            continue
        assert command.name in ("error", "warning", "notice"), command
        assert command.data in messages, command
        annotations.append(command)
    assert [c.name for c in commands].count("add-mask") == 1
    return annotations


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "hostile_tests.py").write_text(HOSTILE_TESTS)
    (project / "hostile_server.py").write_text(HOSTILE_SERVER)
    return project


def test_hostile_test_names_messages_and_server_log_through_smoke_and_summary(tmp_path):
    project = _project(tmp_path)
    port = _port()
    env = {"GITHUB_ACTIONS": "true", "CI_HELPER_RESULTS_DIR": "results"}
    smoke = run_ci_helper(
        "smoke",
        "--server",
        f"{PY} hostile_server.py {port} serve",
        "--ready-url",
        f"http://127.0.0.1:{port}/",
        "--stream",
        "--",
        "hostile_tests.py",
        "-p",
        "no:cacheprovider",
        "-rA",
        cwd=project,
        env=env,
    )
    assert smoke.returncode == 1, smoke.stdout + smoke.stderr
    result = json.loads((project / "results" / "smoke.json").read_text())
    # The hostile text really was printed: by the server (streamed), by pytest, and in our findings.
    lines = smoke.stdout.splitlines()
    assert "server | ::add-mask::pwned" in lines
    assert "::add-mask::pwned" in lines
    assert "  ::set-output name=verdict::green" in lines
    assert "::add-mask::from-a-passing-test" in lines
    assert smoke.stderr == ""  # stderr goes through the fence too, in order
    annotations = _assert_only_our_commands(smoke.stdout, result["findings"])
    assert len(annotations) == len(HOSTILE) == len(result["findings"])
    assert sorted(a.data for a in annotations) == sorted(f["message"] for f in result["findings"])

    summary = run_ci_helper(
        "summary",
        "--results",
        "results",
        "--junit",
        "smoke=.ci-helper/smoke/junit.xml",
        cwd=project,
        env={"GITHUB_ACTIONS": "true"},
    )
    assert summary.returncode == 1, summary.stdout + summary.stderr
    assert "forged" in summary.stdout and "pwned" in summary.stdout
    _assert_only_our_commands(summary.stdout, [])


def test_a_server_that_dies_with_a_hostile_log(tmp_path):
    project = _project(tmp_path)
    port = _port()
    proc = run_ci_helper(
        "smoke",
        "--server",
        f"{PY} hostile_server.py {port} die",
        "--ready-url",
        f"http://127.0.0.1:{port}/",
        "--",
        "hostile_tests.py",
        cwd=project,
        env={"GITHUB_ACTIONS": "true", "CI_HELPER_RESULTS_DIR": "results"},
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads((project / "results" / "smoke.json").read_text())
    assert [f["rule"] for f in result["findings"]] == ["smoke-server-exited"]
    # The log tail is printed under the finding, line by line.
    assert "    | ::add-mask::pwned" in proc.stdout.splitlines()
    [annotation] = _assert_only_our_commands(proc.stdout, result["findings"])
    assert annotation.name == "error"
