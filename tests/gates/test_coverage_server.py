"""measure = "tests+server" must be proven: data from the server process, or the gate is red.

Real processes throughout: a small HTTP server over an ``app`` module, the smoke tier
that measures it, pytest under ``coverage run``, and tests that start the server themselves.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ci_helper.gates.coverage import server
from tests.conftest import run_ci_helper

PY = sys.executable

APP = """\
def startup():
    return "started"


def handle(path):
    if path == "/hello":
        return "hello"
    return "not found"
"""

SERVER = """\
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import app

app.startup()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = app.handle(self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        threading.Thread(target=self.server.shutdown).start()

    def log_message(self, *args):
        pass


httpd = HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
httpd.serve_forever()
httpd.server_close()
"""

UNIT_TESTS = """\
import app


def test_unknown_path():
    assert app.handle("/nope") == "not found"
"""

SMOKE_TESTS = """\
import os
import urllib.request


def test_hello():
    with urllib.request.urlopen(os.environ["CI_HELPER_BASE_URL"] + "/hello", timeout=10) as response:
        assert response.read() == b"hello"
"""

# The tests start the server themselves, as many projects' fixtures do.
SPAWNING_TESTS = """\
import os
import socket
import subprocess
import sys
import time
import urllib.request

import app

SERVER = os.environ["SERVER_COMMAND"].split()


def test_unknown_path():
    assert app.handle("/nope") == "not found"


def test_hello_through_a_server_the_test_starts():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable if w == "python" else w for w in SERVER] + [str(port)])
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/hello", timeout=5) as response:
                    assert response.read() == b"hello"
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise AssertionError("server never answered")
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/stop", method="POST"), timeout=5)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
"""

COVERAGERC = "[run]\nbranch = True\nomit = test_*.py\n"

MISSING = (
    "measure = tests+server, but no coverage data came from the server process (none of the {n} records the "
    'context "server" or is named .coverage.server*): run the server with `ci-helper smoke --coverage-data-file F` '
    "(or under `python -m coverage run --context=server`) and pass its data to the gate, or declare measure = tests"
)
UNPATCHED = (
    '[run] patch has no "subprocess": a server the tests start themselves is not measured (pytest-cov 7 no '
    "longer measures subprocesses); start it under `python -m coverage run --context=server`, or add patch = "
    '["subprocess"] to [run] (coverage 7.10+) to measure every subprocess'
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "GITHUB_", "CI_HELPER_", "RUNNER_"))}
    env.update(extra)
    return env


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        list(args), cwd=cwd, env=clean_env(**(env or {})), capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api(tmp_path: Path) -> Path:
    root = tmp_path / "api"
    root.mkdir()
    for name, text in {
        "app.py": APP,
        "server.py": SERVER,
        "test_units.py": UNIT_TESTS,
        "smoke_hello.py": SMOKE_TESTS,
        "test_spawning.py": SPAWNING_TESTS,
        ".coveragerc": COVERAGERC,
    }.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def gate(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run_ci_helper(
        "coverage", "gate", "--results-dir", "results", "--markdown-out", "cov.md", *args, cwd=cwd, env=env
    )
    return proc, json.loads((cwd / "results" / "coverage.json").read_text(encoding="utf-8"))


def findings(result: dict) -> list[tuple[str, str, str | None, str]]:
    return [(f["rule"], f["severity"], f["file"], f["message"]) for f in result["findings"]]


def test_declared_server_measurement_without_server_data_is_red(api: Path) -> None:
    run(
        api,
        PY,
        "-m",
        "coverage",
        "run",
        "--parallel-mode",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_units.py",
    )
    proc, result = gate(api, "--measure", "tests+server")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert result["status"] == "fail"
    assert result["figures"]["server_data_files"] == []
    assert findings(result) == [
        ("coverage-server-missing", "error", None, MISSING.format(n="1 data file")),
        ("coverage-subprocess-unpatched", "warning", ".coveragerc", UNPATCHED),
    ]
    assert f"coverage: error: {MISSING.format(n='1 data file')}" in proc.stdout.splitlines()
    markdown = (api / "cov.md").read_text(encoding="utf-8")
    assert "Measured: tests only: the server process was declared, but no data came from it;" in markdown
    assert "| Server data (declared) | 0 data file(s) | at least 1 | FAIL |" in markdown
    # Declared as what it is, the same data passes.
    proc, result = gate(api, "--measure", "tests")
    assert (proc.returncode, result["findings"], result["figures"]["server_data_files"]) == (0, [], [])


def test_the_measure_declared_through_the_environment_is_checked_too(api: Path) -> None:
    run(api, PY, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_units.py")
    proc, result = gate(api, env={"CI_HELPER_MEASURE": "tests+server"})
    assert proc.returncode == 1
    assert [f["rule"] for f in result["findings"]] == ["coverage-server-missing", "coverage-subprocess-unpatched"]


def test_the_smoke_tiers_server_data_is_proof_by_its_context(api: Path) -> None:
    run(
        api,
        PY,
        "-m",
        "coverage",
        "run",
        "--parallel-mode",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_units.py",
    )
    port = free_port()
    smoke = run_ci_helper(
        "smoke",
        "--server",
        f"{PY} server.py {port}",
        "--ready-url",
        f"http://127.0.0.1:{port}/hello",
        "--stop-url",
        f"http://127.0.0.1:{port}/stop",
        "--coverage-data-file",
        "smoke-data/.coverage",
        "--results-dir",
        "results",
        "--",
        "smoke_hello.py",
        "-q",
        "-p",
        "no:cacheprovider",
        cwd=api,
    )
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    # Named like any data file: only its context says it came from the server.
    proc, result = gate(api, "--data-file", ".", "--data-file", "smoke-data", "--measure", "tests+server")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["figures"]["server_data_files"] == ["smoke-data/.coverage"]
    assert result["figures"]["total"] == 100.0
    assert result["findings"] == []
    assert "| Server data (declared) | 1 data file(s) | at least 1 | pass |" in (api / "cov.md").read_text()


@pytest.mark.parametrize(
    ("server_command", "proven"),
    [
        ("python server.py", False),
        ("python -m coverage run --context=server --data-file=.coverage.api server.py", True),
    ],
)
def test_a_server_the_tests_start_counts_only_when_it_was_measured_as_the_server(
    api: Path, server_command: str, proven: bool
) -> None:
    run(
        api,
        PY,
        "-m",
        "coverage",
        "run",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "test_spawning.py",
        env={"SERVER_COMMAND": server_command},
    )
    proc, result = gate(api, "--measure", "tests+server")
    if proven:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (result["figures"]["server_data_files"], result["figures"]["total"]) == ([".coverage.api"], 100.0)
    else:
        # Plain coverage (like pytest-cov 7) does not follow the subprocess: the server's lines are lost.
        assert proc.returncode == 1
        assert findings(result) == [
            ("coverage-server-missing", "error", None, MISSING.format(n="1 data file")),
            ("coverage-subprocess-unpatched", "warning", ".coveragerc", UNPATCHED),
        ]


def test_subprocess_patch_configured_leaves_only_the_missing_server_data(api: Path) -> None:
    run(api, PY, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_units.py")
    (api / ".coveragerc").write_text(COVERAGERC + "patch = subprocess\n", encoding="utf-8")
    proc, result = gate(api, "--measure", "tests+server")
    assert proc.returncode == 1
    assert [f["rule"] for f in result["findings"]] == ["coverage-server-missing"]


def test_a_data_file_named_server_counts_but_a_host_named_server_does_not(api: Path) -> None:
    run(api, PY, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_units.py")
    tests_data = api / ".coverage"
    # The parallel suffix coverage adds holds the host name: a runner called build-server-3 proves nothing.
    shutil.move(tests_data, api / ".coverage.build-server-3.4242.Xabcdefx")
    proc, result = gate(api, "--measure", "tests+server")
    assert proc.returncode == 1
    assert result["figures"]["server_data_files"] == []
    (api / "start.py").write_text("import app\napp.startup()\napp.handle('/hello')\n", encoding="utf-8")
    run(api, PY, "-m", "coverage", "run", "--data-file=.coverage.server", "--omit=start.py,test_*.py", "start.py")
    proc, result = gate(api, "--measure", "tests+server")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["figures"]["server_data_files"] == [".coverage.server"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (".coverage.server", True),
        (".coverage.server.host.12.Xabcx", True),
        (".coverage.servers", False),
        (".coverage.build-server-3.12.Xabcx", False),
        ("server.coverage", False),
        (".coverage", False),
    ],
)
def test_server_file_names(name: str, expected: bool) -> None:
    assert server.is_server_file_name(name, ".coverage") is expected


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ("server", True),
        ("server|test_app.test_x", True),
        ("", False),
        ("servers", False),
        ("api|server", False),
    ],
)
def test_server_contexts(context: str, expected: bool) -> None:
    assert server.is_server_context(context) is expected


def test_dynamic_contexts_configured_but_not_recorded_are_a_warning_with_the_fix(api: Path) -> None:
    # Data measured with no dynamic context at all, then gated under a config that asks for them: what the
    # sys.monitoring core leaves behind where coverage does not fall back to the C tracer.
    run(api, PY, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_units.py")
    (api / ".coveragerc").write_text(COVERAGERC + "dynamic_context = test_function\n", encoding="utf-8")
    proc, result = gate(api)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert findings(result) == [
        (
            "coverage-contexts-dropped",
            "warning",
            ".coveragerc",
            (
                "[run] dynamic_context = test_function, but no data file records a dynamic context: the sys.monitoring "
                "core (COVERAGE_CORE=sysmon, the default from Python 3.14) drops them where coverage does not fall back; "
                'run the tests with COVERAGE_CORE=ctrace (or [run] core = "ctrace")'
            ),
        )
    ]
    # Measured with the contexts it asks for: no warning.
    (api / ".coverage").unlink()
    run(api, PY, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_units.py")
    proc, result = gate(api)
    assert (proc.returncode, result["findings"]) == (0, [])
