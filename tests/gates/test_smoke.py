"""`ci-helper smoke` against real server processes (small HTTP servers in fixtures/smoke/)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import sys
import time
from pathlib import Path

import pytest

from ci_helper.gates.smoke.process import group_members
from tests.conftest import run_ci_helper

FIXTURES = Path(__file__).parent / "fixtures" / "smoke"
PY = sys.executable
# Test files are collected by explicit path; no cache folder in the fixture copy.
QUIET = ["-q", "-p", "no:cacheprovider"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    """Running (a zombie is dead: our PID 1 may never reap orphans)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def project(tmp_path):
    """A copy of the fixture servers and tests: the run writes .ci-helper/ into its folder."""
    dest = tmp_path / "project"
    shutil.copytree(FIXTURES, dest)
    return dest


def smoke(project: Path, *args: str, env: dict[str, str] | None = None):
    """Run `ci-helper smoke` in ``project``; returns (process, result JSON or None)."""
    proc = run_ci_helper("smoke", *args, cwd=project, env={"CI_HELPER_RESULTS_DIR": "results", **(env or {})})
    path = project / "results" / "smoke.json"
    return proc, (json.loads(path.read_text()) if path.exists() else None)


def urls(port: int, stop: str | None = "/server-stop") -> list[str]:
    out = ["--ready-url", f"http://127.0.0.1:{port}/health"]
    if stop:
        out += ["--stop-url", f"http://127.0.0.1:{port}{stop}"]
    return out


def test_good_server_passes_stops_through_the_stop_url_and_leaves_no_process(project):
    port = free_port()
    proc, result = smoke(project, "--server", f"{PY} good_server.py {port}", *urls(port), "--", "smoke_pass.py", *QUIET)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = result["figures"]
    pid = figures.pop("server_pid")
    ready = figures.pop("ready_seconds")
    stop_seconds = figures.pop("stop_seconds")
    assert isinstance(ready, float) and 0 < ready < 30
    assert isinstance(stop_seconds, float)
    assert result == {
        "check": "smoke",
        "status": "pass",
        "reason": None,
        "required": True,
        "findings": [],
        "figures": {
            "tests": 2,
            "passed": 2,
            "failed": 0,
            "skipped": 0,
            "errors": 0,
            "pytest_exit_code": 0,
            "server_exit_code": 0,
            "stop": "stop-url",
            "stop_request": "HTTP 200",
            "log": ".ci-helper/smoke/server.log",
            "junit": ".ci-helper/smoke/junit.xml",
            "base_url": f"http://127.0.0.1:{port}",
        },
    }
    # The whole process group is gone, not just the process we started.
    assert group_members(pid) == []
    assert not alive(pid)
    log = (project / ".ci-helper/smoke/server.log").read_text().splitlines()
    assert log[0] == f"listening on 127.0.0.1:{port}"
    assert log[-2:] == ["stop requested", "bye"]
    assert (project / ".ci-helper/smoke/junit.xml").is_file()
    # Without --stream the server's output goes to the log only.
    assert f"listening on 127.0.0.1:{port}" not in proc.stdout
    assert proc.stdout.splitlines()[-1] == (
        f"smoke: pass: 2 passed, 0 failed, 0 skipped, 0 errors; ready in {ready:.2f} s; stop: stop-url; server exit code 0"
    )


def test_server_dying_before_ready_fails_fast_with_exit_code_and_log_tail(project):
    port = free_port()
    started = time.monotonic()
    proc, result = smoke(
        project, "--server", f"{PY} dying_server.py", *urls(port), "--timeout", "60", "--", "smoke_pass.py", *QUIET
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 1
    # Not the 60 s timeout: the death is noticed at once (the server dies after 0.5 s).
    assert elapsed < 10
    assert result["status"] == "fail"
    f = result["figures"]
    assert (f["server_exit_code"], f["stop"], f["tests"], f["pytest_exit_code"], f["ready_seconds"]) == (
        3,
        None,
        None,
        None,
        None,
    )
    [finding] = result["findings"]
    message = finding.pop("message")
    assert re.fullmatch(
        r"server exited with code 3 before it was ready \(\d+\.\d\d s after start\); "
        r"last 2 lines of \.ci-helper/smoke/server\.log follow",
        message,
    ), message
    assert finding == {
        "rule": "smoke-server-exited",
        "file": ".ci-helper/smoke/server.log",
        "line": None,
        "column": None,
        "severity": "error",
        "data": {"exit_code": 3, "log_tail": "loading model weights\nRuntimeError: CUDA is not available"},
    }
    # The tests never ran against a dead server.
    assert not (project / ".ci-helper/smoke/junit.xml").exists()
    assert "    | RuntimeError: CUDA is not available" in proc.stdout.splitlines()


def test_server_never_ready_fails_at_the_timeout_with_the_log_tail(project):
    port = free_port()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} never_ready_server.py {port}",
        *urls(port, stop=None),
        "--timeout",
        "3",
        "--stop-timeout",
        "2",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    assert proc.returncode == 1
    f = result["figures"]
    assert (f["stop"], f["server_exit_code"], f["tests"], f["ready_seconds"]) == ("SIGTERM", -15, None, None)
    [finding] = result["findings"]
    tail = finding["data"]["log_tail"].splitlines()
    assert finding["rule"] == "smoke-not-ready"
    assert finding["message"] == (
        f"server not ready after 3 s: GET http://127.0.0.1:{port}/health last answered HTTP 503 (want HTTP 200); "
        f"last {len(tail)} lines of .ci-helper/smoke/server.log follow"
    )
    assert tail[0] == "warming up"
    assert tail[1] == 'still warming up: "GET /health HTTP/1.1" 503 -'
    assert group_members(f["server_pid"]) == []


def test_server_ignoring_sigterm_and_the_stop_url_is_killed_and_the_tests_still_count(project):
    port = free_port()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} stubborn_server.py {port}",
        *urls(port),
        "--stop-timeout",
        "0.5",
        "--coverage-data-file",
        "server.coverage",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    # The stop problem is reported, but the tests passed, so the tier passes.
    assert proc.returncode == 0, proc.stdout
    f = result["figures"]
    assert (result["status"], f["stop"], f["server_exit_code"], f["passed"]) == ("pass", "SIGKILL", -9, 2)
    assert [(x["rule"], x["severity"], x["message"]) for x in result["findings"]] == [
        (
            "smoke-stop",
            "warning",
            f"stop problem: POST http://127.0.0.1:{port}/server-stop answered HTTP 200 and the server was still running "
            "0.5 s later; sent SIGTERM to its process group",
        ),
        (
            "smoke-stop",
            "warning",
            "stop problem: the server ignored SIGTERM for 0.5 s; killed its process group with SIGKILL",
        ),
        (
            "smoke-coverage-data",
            "warning",
            "no coverage data was written to server.coverage: the server was killed with SIGKILL, "
            "which coverage cannot survive",
        ),
    ]
    assert f["coverage_data_written"] is False
    child = int((project / "child.pid").read_text())
    assert group_members(f["server_pid"]) == []
    assert not alive(f["server_pid"])
    assert not alive(child)


@pytest.mark.parametrize("kind", ["404", "refused"])
def test_failing_stop_request_is_a_stop_problem_not_a_test_failure(project, kind):
    port = free_port()
    if kind == "404":
        stop_url = f"http://127.0.0.1:{port}/no-such-route"
        expected = (
            f"stop problem: POST {stop_url} answered HTTP 404 and the server was still running 0.5 s later; "
            "sent SIGTERM to its process group"
        )
    else:
        # Nobody listens there: the request never arrived, so SIGTERM follows at once.
        stop_url = f"http://127.0.0.1:{free_port()}/server-stop"
        expected = f"stop problem: POST {stop_url} answered connection refused; sent SIGTERM to its process group"
    proc, result = smoke(
        project,
        "--server",
        f"{PY} good_server.py {port}",
        "--ready-url",
        f"http://127.0.0.1:{port}/health",
        "--stop-url",
        stop_url,
        "--stop-timeout",
        "0.5",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stdout
    assert (result["status"], result["figures"]["stop"], result["figures"]["passed"]) == ("pass", "SIGTERM", 2)
    assert [(x["rule"], x["severity"], x["message"]) for x in result["findings"]] == [
        ("smoke-stop", "warning", expected)
    ]


def test_port_already_in_use_is_a_clear_error_naming_the_port(project):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        proc, result = smoke(project, "--server", f"{PY} good_server.py {port}", *urls(port), "--", "smoke_pass.py")
    assert proc.returncode == 1
    me = Path("/proc/self/comm").read_text().strip()
    assert result["status"] == "fail"
    assert result["findings"] == [
        {
            "rule": "smoke-port-in-use",
            "message": f"port {port} is already in use on 127.0.0.1 by pid {os.getpid()} ({me}) before the server started; "
            "stop that process or give the server another port",
            "file": None,
            "line": None,
            "column": None,
            "severity": "error",
            "data": {"port": port, "host": "127.0.0.1", "pid": os.getpid()},
        }
    ]
    # The server was never started, so nothing answered for it.
    assert result["figures"]["server_pid"] is None
    assert not (project / ".ci-helper/smoke/server.log").exists()


def test_zero_tests_collected_is_red(project):
    port = free_port()
    proc, result = smoke(
        project, "--server", f"{PY} good_server.py {port}", *urls(port), "--", "smoke_empty.py", *QUIET
    )
    assert proc.returncode == 1
    assert (result["figures"]["tests"], result["figures"]["pytest_exit_code"]) == (0, 5)
    assert result["findings"] == [
        {
            "rule": "smoke-no-tests",
            "message": "no test ran (pytest exit code 5, 0 collected, 0 skipped): an empty smoke tier proves nothing; "
            "check the pytest arguments",
            "file": ".ci-helper/smoke/junit.xml",
            "line": None,
            "column": None,
            "severity": "error",
        }
    ]


def test_failing_test_is_red_and_named_with_file_and_line_and_annotated_in_actions(project):
    port = free_port()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} good_server.py {port}",
        *urls(port),
        "--",
        "smoke_fail.py",
        *QUIET,
        env={"GITHUB_ACTIONS": "true"},
    )
    assert proc.returncode == 1
    f = result["figures"]
    assert (f["tests"], f["passed"], f["failed"], f["pytest_exit_code"], f["stop"]) == (2, 1, 1, 1, "stop-url")
    assert result["findings"] == [
        {
            "rule": "smoke-test-failed",
            "message": "smoke_fail.py::test_hello_is_a_teapot failed: assert 200 == 418",
            "file": "smoke_fail.py",
            "line": 12,
            "column": None,
            "severity": "error",
            "data": {"test": "smoke_fail.py::test_hello_is_a_teapot", "outcome": "failed"},
        }
    ]
    assert (
        "  error smoke-test-failed smoke_fail.py:12: smoke_fail.py::test_hello_is_a_teapot failed: assert 200 == 418"
        in proc.stdout.splitlines()
    )
    assert (
        "::error file=smoke_fail.py,line=12,title=smoke%3A smoke-test-failed::"
        "smoke_fail.py::test_hello_is_a_teapot failed: assert 200 == 418"
    ) in proc.stdout.splitlines()


def _fake_python(tmp_path: Path, body: str) -> Path:
    """An 'interpreter' that stands in for `python -m pytest`: it gets pytest's arguments."""
    script = tmp_path / "fake-python"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_missing_junit_is_red_even_when_pytest_says_0_and_an_old_file_is_ignored(project, tmp_path):
    old = project / ".ci-helper/smoke/junit.xml"
    old.parent.mkdir(parents=True)
    old.write_text('<testsuite><testcase classname="old" name="passed_yesterday"/></testsuite>')
    fake = _fake_python(tmp_path, "exit 0\n")
    port = free_port()
    proc, result = smoke(
        project, "--server", f"{PY} good_server.py {port}", *urls(port), "--python", str(fake), "--", "smoke_pass.py"
    )
    assert proc.returncode == 1
    assert result["figures"]["pytest_exit_code"] == 0
    assert result["figures"]["tests"] is None
    assert result["findings"] == [
        {
            "rule": "smoke-junit",
            "message": "no usable JUnit report from pytest (exit code 0, all tests passed): "
            ".ci-helper/smoke/junit.xml: JUnit file not found; "
            "did the test step run with --junitxml=.ci-helper/smoke/junit.xml?",
            "file": ".ci-helper/smoke/junit.xml",
            "line": None,
            "column": None,
            "severity": "error",
        }
    ]


def test_unreadable_junit_is_red(project, tmp_path):
    fake = _fake_python(
        tmp_path,
        'for a; do case "$a" in --junitxml=*) printf "<testsuite><testcase" > "${a#--junitxml=}";; esac; done\nexit 0\n',
    )
    port = free_port()
    proc, result = smoke(project, "--server", f"{PY} good_server.py {port}", *urls(port), "--python", str(fake))
    assert proc.returncode == 1
    [finding] = result["findings"]
    assert finding["rule"] == "smoke-junit"
    assert finding["message"] == (
        "no usable JUnit report from pytest (exit code 0, all tests passed): "
        ".ci-helper/smoke/junit.xml:1:11: malformed JUnit XML (unclosed token: line 1, column 11)"
    )


def test_stream_prefixes_server_output_and_the_log_keeps_it_all_with_a_tcp_ready_url(project):
    port = free_port()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} good_server.py {port}",
        "--ready-url",
        f"tcp://127.0.0.1:{port}",
        "--stop-url",
        f"http://127.0.0.1:{port}/server-stop",
        "--stream",
        "--log",
        "logs/server.txt",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stdout
    # A tcp:// ready URL gives the tests an http:// base URL on the same host and port.
    assert (result["figures"]["base_url"], result["figures"]["passed"]) == (f"http://127.0.0.1:{port}", 2)
    # pytest's progress dots share the console, so a prefixed line may start after one.
    streamed = re.findall(r"server \| (.*)", proc.stdout)
    log = (project / "logs/server.txt").read_text().splitlines()
    assert streamed == log
    assert f"server | listening on 127.0.0.1:{port}" in proc.stdout.splitlines()
    assert result["figures"]["log"] == "logs/server.txt"


# --- coverage of the server process ------------------------------------------


def _measured(data_file: Path):
    import coverage

    data = coverage.CoverageData(str(data_file))
    data.read()
    return data


def test_server_coverage_saved_on_stop_url_honouring_pyproject_config(project):
    (project / "pyproject.toml").write_text('[tool.coverage.run]\nbranch = true\nomit = ["smoke_*.py"]\n')
    port = free_port()
    # A bare interpreter name found on PATH, as users write it (`python`, `python3`).
    proc, result = smoke(
        project,
        "--server",
        f"{Path(PY).name} good_server.py {port}",
        *urls(port),
        "--coverage-data-file",
        "cov/server.coverage",
        "--",
        "smoke_pass.py",
        *QUIET,
        env={"PATH": f"{Path(PY).parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert proc.returncode == 0, proc.stdout
    assert (result["figures"]["stop"], result["figures"]["coverage_data_written"]) == ("stop-url", True)
    assert result["figures"]["coverage_data_file"] == "cov/server.coverage"
    data = _measured(project / "cov/server.coverage")
    server = str((project / "good_server.py").resolve())
    assert data.measured_files() == {server}
    # branch = true came through from the project's own config.
    assert data.has_arcs()
    assert (project / ".ci-helper/smoke/coverage-server.toml").read_text() == (
        '[tool.coverage.run]\nbranch = true\nomit = ["smoke_*.py"]\nsigterm = true\ncontext = "server"\n'
    )
    # The static context "server" is what proves to the coverage gate that this data came from the server.
    assert data.measured_contexts() == {"server"}


def test_server_coverage_saved_on_sigterm_honouring_coveragerc(project):
    (project / ".coveragerc").write_text("[run]\nbranch = True\n\n[report]\nexclude_lines =\n    pragma: no cover\n")
    port = free_port()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} good_server.py {port}",
        *urls(port, stop=None),
        "--coverage-data-file",
        "server.coverage",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stdout
    assert (result["figures"]["stop"], result["figures"]["coverage_data_written"]) == ("SIGTERM", True)
    data = _measured(project / "server.coverage")
    server = str((project / "good_server.py").resolve())
    assert data.has_arcs()
    # The request handler ran: coverage saved what happened after start-up, on SIGTERM.
    handler_line = (project / "good_server.py").read_text().splitlines().index(
        '        if self.path in ("/health", "/hello"):'
    ) + 1
    assert handler_line in data.lines(server)


# --- settings, env vars, bad input -------------------------------------------


def test_settings_drive_the_run_and_flags_win(project):
    port = free_port()
    (project / "pyproject.toml").write_text(
        "[tool.ci-helper.smoke]\n"
        f'server = "{PY} good_server.py {{port}}"\n'
        'ready-url = "http://127.0.0.1:{port}/health"\n'
        'stop-url = "http://127.0.0.1:{port}/server-stop"\n'
        'log = "from-settings.log"\n'
        'pytest-args = ["smoke_fail.py", "-q", "-p", "no:cacheprovider"]\n'
    )
    proc, result = smoke(project)
    assert proc.returncode == 1
    assert result["figures"]["failed"] == 1
    assert result["figures"]["log"] == "from-settings.log"
    # Flags (here the pytest arguments and the log) win over the settings.
    proc, result = smoke(project, "--log", "from-flag.log", "--", "smoke_pass.py", *QUIET)
    assert proc.returncode == 0, proc.stdout
    assert (result["figures"]["log"], result["figures"]["passed"]) == ("from-flag.log", 2)
    assert (project / "from-flag.log").is_file()
    del port


def test_action_env_vars_feed_the_flags(project, tmp_path):
    port = free_port()
    outputs = tmp_path / "github_output"
    proc, result = smoke(
        project,
        env={
            "CI_HELPER_SMOKE_SERVER": f"{PY} good_server.py {port}",
            "CI_HELPER_SMOKE_READY_URL": f"http://127.0.0.1:{port}/health",
            "CI_HELPER_SMOKE_STOP_URL": f"http://127.0.0.1:{port}/server-stop",
            "CI_HELPER_SMOKE_TIMEOUT": "20",
            "CI_HELPER_SMOKE_JUNIT": "out/smoke.xml",
            "CI_HELPER_SMOKE_PYTEST_ARGS": "smoke_pass.py -q -p no:cacheprovider",
            "CI_HELPER_SMOKE_COVERAGE_DATA_FILE": "",  # an empty action input means "not given"
            "CI_HELPER_SMOKE_STREAM": "true",
            "GITHUB_OUTPUT": str(outputs),
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"server | listening on 127.0.0.1:{port}" in proc.stdout.splitlines()
    assert "coverage_data_file" not in result["figures"]
    assert (result["figures"]["junit"], result["figures"]["passed"]) == ("out/smoke.xml", 2)
    assert outputs.read_text() == (
        f"log={project}/.ci-helper/smoke/server.log\n"
        f"junit={project}/out/smoke.xml\n"
        f"result={project}/results/smoke.json\n"
        "status=pass\n"
    )


def test_cwd_runs_the_server_and_tests_in_the_project_folder(project, tmp_path):
    port = free_port()
    proc = run_ci_helper(
        "smoke",
        "--cwd",
        str(project),
        "--server",
        f"{PY} good_server.py {port}",
        *urls(port),
        "--",
        "smoke_pass.py",
        *QUIET,
        cwd=tmp_path,
        env={"CI_HELPER_RESULTS_DIR": str(tmp_path / "r")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads((tmp_path / "r/smoke.json").read_text())
    assert result["figures"]["log"] == "project/.ci-helper/smoke/server.log"
    assert (project / ".ci-helper/smoke/server.log").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "Error: no server command: pass --server 'CMD' or set server in [tool.ci-helper.smoke]"),
        (["--server", "x"], "Error: no ready URL: pass --ready-url URL or set ready-url in [tool.ci-helper.smoke]"),
        (
            ["--server", "x", "--ready-url", "ftp://h/x"],
            "Error: --ready-url 'ftp://h/x': use an http://, https:// or tcp://host:port URL",
        ),
        (
            ["--server", "'unclosed", "--ready-url", "http://127.0.0.1:1/"],
            'Error: --server "\'unclosed": cannot split the command (No closing quotation); check its quotes',
        ),
        (
            ["--server", "no-such-server-binary", "--ready-url", "http://127.0.0.1:1/"],
            "Error: --server: command not found: 'no-such-server-binary' (in .); check the command and PATH",
        ),
        (
            ["--server", "uvicorn app:app", "--ready-url", "http://127.0.0.1:1/", "--coverage-data-file", "c"],
            "Error: --coverage-data-file needs a server command that starts with python or a .py file, got 'uvicorn'; "
            "write it as 'python -m uvicorn ...'",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--", "--junitxml=mine.xml"],
            "Error: pytest argument '--junitxml=mine.xml': ci-helper smoke writes the JUnit file itself; use --junit F instead",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:notaport/"],
            "Error: --ready-url 'http://127.0.0.1:notaport/': bad port (Port could not be cast to integer value as 'notaport'); "
            "give a number from 1 to 65535",
        ),
        (
            ["--server", "x", "--ready-url", "tcp://127.0.0.1:99999"],
            "Error: --ready-url 'tcp://127.0.0.1:99999': bad port (Port out of range 0-65535); give a number from 1 to 65535",
        ),
        # Checked before the server starts: failing inside the stop would leave the server running.
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--stop-url", "http://127.0.0.1:x/stop"],
            "Error: --stop-url 'http://127.0.0.1:x/stop': bad port (Port could not be cast to integer value as 'x'); "
            "give a number from 1 to 65535",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--stop-url", "/server-stop"],
            "Error: --stop-url '/server-stop': use an http:// or https:// URL with a host",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--log", "."],
            "Error: --log .: is a directory; give a file path",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--junit", "."],
            "Error: --junit .: is a directory; give a file path",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--junit", "smoke_pass.py/junit.xml"],
            "Error: --junit smoke_pass.py/junit.xml: cannot create its folder (File exists); give a file path",
        ),
        # nan compares false with everything: the readiness wait never ended.
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--timeout", "nan"],
            "Error: --timeout and --stop-timeout must be finite numbers of seconds",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--stop-timeout", "inf"],
            "Error: --timeout and --stop-timeout must be finite numbers of seconds",
        ),
        # No server ever answers 0: the run waited the whole timeout and failed as "not ready".
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--ready-status", "0"],
            "Error: --ready-status 0: give an HTTP status from 100 to 599",
        ),
        (
            ["--server", "x", "--ready-url", "http://127.0.0.1:1/", "--timeout", "0"],
            "Error: --timeout must be above 0 and --stop-timeout at least 0 seconds",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, project, monkeypatch, args, message):
    monkeypatch.chdir(project)
    result = cli("smoke", *args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message
    assert "Traceback" not in result.stderr
    # Refused, yet never no result: not-run, saying why (docs/results.md).
    written = json.loads((project / ".ci-helper/results/smoke.json").read_text())
    assert (written["status"], written["reason"]) == ("not-run", "bad input: " + message.removeprefix("Error: "))


# --- canary fixtures (package data) ------------------------------------------


def test_canary_registers_a_bad_and_a_good_smoke_fixture_and_both_behave():
    from ci_helper.canary.cases import discover
    from ci_helper.canary.run import run_case

    cases = [c for c in discover() if c.gate == "smoke"]
    assert sorted((c.fixture, c.expect) for c in cases) == [("bad", "fail"), ("good", "pass")]
    outcomes = {case.fixture: run_case(case) for case in cases}
    assert {name: o.got for name, o in outcomes.items()} == {"bad": "fail", "good": "pass"}
    # The bad one fails for the right reason: the server died, not a test.
    assert re.fullmatch(
        r"server exited with code 1 before it was ready \([0-9.]+ s after start\); "
        r"last \d+ lines of \.ci-helper/smoke/server\.log follow",
        outcomes["bad"].detail,
    )


def test_server_dying_during_the_tests_is_reported_with_its_exit_code(project):
    port = free_port()
    proc, result = smoke(
        project, "--server", f"{PY} crashing_server.py {port}", *urls(port), "--", "smoke_pass.py", *QUIET
    )
    assert proc.returncode == 1
    f = result["figures"]
    assert (f["server_exit_code"], f["stop"], f["failed"] + f["errors"]) == (4, None, 2)
    died = [x for x in result["findings"] if x["rule"] == "smoke-server-died"]
    assert [x["message"] for x in died] == [
        "server exited with code 4 while the tests ran; last 2 lines of .ci-helper/smoke/server.log follow"
    ]
    assert died[0]["data"]["log_tail"] == "crashing server up\nsegmentation fault (simulated)"


def test_cancelling_ci_helper_stops_the_server_group(project):
    import signal
    import subprocess

    from ci_helper import results

    # The previous run's pass must not survive a cancelled run.
    results.write_result(results.passed("smoke", {"tests": 3, "passed": 3}), project / ".ci-helper" / "results")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_"))}
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "ci_helper",
            "smoke",
            "--server",
            f"{PY} stubborn_server.py {port}",
            *urls(port, stop=None),
            "--stop-timeout",
            "0.3",
            "--",
            "smoke_slow.py",
            *QUIET,
        ],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # Wait until the tests are running (the server is up and pytest started).
        for line in proc.stdout:
            if line.startswith("smoke: running pytest"):
                break
        proc.send_signal(signal.SIGTERM)
        rest = proc.communicate(timeout=30)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    # One exit for SIGINT and SIGTERM (docs/results.md), and the result says the run was interrupted.
    assert proc.returncode == 130
    assert rest.splitlines()[-1] == "ci-helper: interrupted"
    result = json.loads((project / ".ci-helper" / "results" / "smoke.json").read_text())
    assert (result["status"], result["reason"]) == ("not-run", "interrupted")
    child = int((project / "child.pid").read_text())
    assert not alive(child)
    # Every process started from the fixture folder is gone: the server, its child, pytest.
    leftovers = [
        pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if alive(pid) and _cwd(pid) == str(project)
    ]
    assert leftovers == []


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def test_a_junit_file_from_an_earlier_run_is_gone_when_the_server_never_got_ready(project):
    # The junit output is set before the run: a summary or dry run reading it must not find
    # the earlier run's passing tests when this run never reached pytest.
    stale = project / ".ci-helper/smoke/junit.xml"
    stale.parent.mkdir(parents=True)
    stale.write_text('<testsuite tests="1"><testcase classname="t" name="test_old"/></testsuite>')
    port = free_port()
    proc, result = smoke(project, "--server", f"{PY} dying_server.py", *urls(port), "--", "smoke_pass.py", *QUIET)
    assert proc.returncode == 1
    assert [f["rule"] for f in result["findings"]] == ["smoke-server-exited"]
    assert not stale.exists()


# --- readiness that does not hurt the server, placeholders in pytest args (issue 17.5) ---


def test_a_probe_from_time_zero_kills_a_fragile_server(project):
    port = free_port()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} fragile_server.py {port} 1.5",
        "--ready-url",
        f"http://127.0.0.1:{port}/",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert [f["rule"] for f in result["findings"]] == ["smoke-server-exited"]
    assert result["figures"]["server_exit_code"] == 3
    assert "Cannot add middleware after an application has started" in result["findings"][0]["data"]["log_tail"]


@pytest.mark.parametrize("scheme", ["tcp", "http"])
def test_a_ready_delay_lets_a_fragile_server_finish_its_setup(project, scheme):
    port = free_port()
    ready = f"tcp://127.0.0.1:{port}" if scheme == "tcp" else f"http://127.0.0.1:{port}/"
    # The delay counts from the start of the process, the setup from the server's own start: a wide margin
    # keeps a slow interpreter start on a busy machine from eating the delay.
    proc, result = smoke(
        project,
        "--server",
        f"{PY} fragile_server.py {port} 0.3",
        "--ready-url",
        ready,
        "--ready-delay",
        "2.5",
        "--",
        "smoke_base_url.py",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["figures"]["tests"] == 1 and result["figures"]["passed"] == 1
    assert result["figures"]["ready_seconds"] >= 2.5
    assert "Cannot add middleware" not in (project / ".ci-helper/smoke/server.log").read_text()


def test_a_server_dying_during_the_ready_delay_is_noticed_at_once(project):
    start = time.monotonic()
    proc, result = smoke(
        project,
        "--server",
        f"{PY} -c 'import sys; sys.exit(4)'",
        "--ready-url",
        f"tcp://127.0.0.1:{free_port()}",
        "--ready-delay",
        "30",
        "--timeout",
        "60",
        "--",
        "smoke_pass.py",
        *QUIET,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert result["figures"]["server_exit_code"] == 4
    assert [f["rule"] for f in result["findings"]] == ["smoke-server-exited"]
    assert time.monotonic() - start < 20


@pytest.mark.parametrize("delay", ["-1", "60", "nan"])
def test_a_ready_delay_outside_the_timeout_is_bad_input(project, delay):
    proc, result = smoke(
        project,
        "--server",
        f"{PY} good_server.py 1",
        "--ready-url",
        "tcp://127.0.0.1:1",
        "--timeout",
        "60",
        "--ready-delay",
        delay,
        "--",
        "smoke_pass.py",
    )
    assert proc.returncode == 2
    # Refused before any work: the started result says why, never an earlier verdict (issue 13).
    assert (result["status"], result["reason"].startswith("bad input: --ready-delay")) == ("not-run", True)
    message = proc.stderr.strip().splitlines()[-1]
    if delay == "nan":
        assert message == "Error: --ready-delay must be a finite number of seconds"
    else:
        assert message == f"Error: --ready-delay {delay}: give seconds from 0 to below --timeout (60)"


def test_port_and_base_url_placeholders_reach_pytest_args(project):
    (project / "placeholders").mkdir()
    (project / "placeholders" / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--server-port')\n    parser.addoption('--server-url')\n"
    )
    (project / "placeholders" / "test_placeholders.py").write_text(
        "import os\n\n"
        "def test_placeholders(pytestconfig):\n"
        "    base = os.environ['CI_HELPER_BASE_URL']\n"
        "    assert pytestconfig.getoption('server_url') == base + '/api'\n"
        "    assert base == 'http://127.0.0.1:' + pytestconfig.getoption('server_port')\n"
    )
    proc, result = smoke(
        project,
        "--server",
        "{python} good_server.py {port}",
        "--ready-url",
        "http://127.0.0.1:{port}/health",
        "--",
        "placeholders",
        "--server-port={port}",
        "--server-url",
        "{base_url}/api",
        *QUIET,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["figures"]["passed"] == 1
