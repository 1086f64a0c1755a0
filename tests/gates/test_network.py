"""The offline plugin and the network gate, with real pytest and server subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ci_helper import offline, results
from ci_helper.gates import network
from ci_helper.settings import NetworkAllow, NetworkSettings

CLI = [sys.executable, "-m", "ci_helper"]


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    full_env.pop("RUNNER_TEMP", None)
    full_env.pop("GITHUB_ACTIONS", None)
    return subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)


def _project(tmp_path: Path, tests: str, pyproject: str = "") -> Path:
    (tmp_path / "test_suite.py").write_text(textwrap.dedent(tests), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return tmp_path


def _tier(
    project: Path, *pytest_args: str
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], dict]:
    log = project / "net.jsonl"
    tests = _run(
        [
            *CLI,
            "network",
            "run",
            "--log",
            str(log),
            "--",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *pytest_args,
        ],
        project,
    )
    gate = _run([*CLI, "network", "gate", "--log", str(log), "--results-dir", str(project / "results")], project)
    result = json.loads((project / "results" / "network.json").read_text(encoding="utf-8"))
    return tests, gate, result


HF_TEST = """
    import urllib.request

    def test_model_card():
        urllib.request.urlopen("https://huggingface.co", timeout=60)

    def test_fine():
        assert 1 + 1 == 2
"""


def test_huggingface_request_is_blocked_at_once_and_names_the_test(tmp_path: Path) -> None:
    project = _project(tmp_path, HF_TEST)
    started = time.monotonic()
    tests, gate, result = _tier(project)
    elapsed = time.monotonic() - started
    assert tests.returncode == 1, tests.stdout
    assert "1 failed, 1 passed" in tests.stdout
    assert "ci-helper network policy 'block'" in tests.stdout
    # Blocked before resolution: nowhere near the test's 60 s network timeout.
    assert elapsed < 45
    assert gate.returncode == 1
    assert result["status"] == "fail"
    assert result["figures"] == {
        "policy": "block",
        "attempts": 1,
        "network": 1,
        "clones": 0,
        "downloads": 0,
        "attempted": [
            {"who": "test_suite.py::test_model_card", "kind": "network", "target": "huggingface.co", "count": 1}
        ],
        "attempted_left_out": 0,
    }
    [finding] = result["findings"]
    assert finding["rule"] == "network-attempt"
    assert finding["message"] == "test_suite.py::test_model_card resolved huggingface.co (blocked)"
    assert finding["file"] == "test_suite.py"
    assert finding["line"] == 5
    assert "network: fail - 1 network attempts, 0 clones, 0 downloads (policy block)" in gate.stdout


def test_loopback_servers_are_never_flagged(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        """
        import http.server, socket, threading, urllib.request

        def test_loopback_names():
            for host in ("127.0.0.1", "localhost", "::1"):
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                server = http.server.HTTPServer(("::1" if host == "::1" else "127.0.0.1", 0), http.server.BaseHTTPRequestHandler) if family == socket.AF_INET else None
                if server is None:
                    continue
                worker = threading.Thread(target=server.handle_request)
                worker.start()
                try:
                    urllib.request.urlopen(f"http://{host}:{server.server_port}/", timeout=10)
                except urllib.error.HTTPError as exc:
                    assert exc.code == 501
                worker.join(10)
                server.server_close()
            socket.getaddrinfo(None, 80)
            socket.getaddrinfo("localhost", 80)
    """,
    )
    tests, gate, result = _tier(project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert gate.returncode == 0, gate.stdout
    assert result["status"] == "pass"
    assert result["figures"] == {
        "policy": "block",
        "attempts": 0,
        "network": 0,
        "clones": 0,
        "downloads": 0,
        "attempted": [],
        "attempted_left_out": 0,
    }


def test_clone_under_record_policy_goes_ahead_and_is_reported(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    subprocess.run(["git", "init", "-q", str(origin)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    _project(
        project,
        f"""
        import subprocess

        def test_clones_a_repository(tmp_path):
            subprocess.run(["git", "clone", "-q", {str(origin)!r}, str(tmp_path / "copy")], check=True)
            assert (tmp_path / "copy" / ".git").is_dir()
    """,
        '[tool.ci-helper.network]\npolicy = "record"\n',
    )
    tests, gate, result = _tier(project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert result["status"] == "fail"
    assert result["figures"]["clones"] == 1
    [finding] = result["findings"]
    assert finding["rule"] == "network-clone"
    assert finding["message"] == "test_suite.py::test_clones_a_repository ran git clone -q (recorded)"


def test_opening_the_hugging_face_cache_counts_as_a_download(tmp_path: Path) -> None:
    cache = tmp_path / "hf-home"
    (cache / "hub").mkdir(parents=True)
    (cache / "hub" / "model.safetensors").write_bytes(b"weights")
    project = tmp_path / "project"
    project.mkdir()
    _project(
        project,
        f"""
        def test_loads_cached_weights():
            with open({str(cache / "hub" / "model.safetensors")!r}, "rb") as handle:
                handle.read()
    """,
    )
    log = project / "net.jsonl"
    _run(
        [
            *CLI,
            "network",
            "run",
            "--log",
            str(log),
            "--",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        project,
        env={"HF_HOME": str(cache)},
    )
    result = network.evaluate(log, NetworkSettings())
    assert result.status == "fail"
    assert result.figures["downloads"] == 1
    assert result.findings[0].rule == "network-download"
    assert result.findings[0].message.startswith("test_suite.py::test_loads_cached_weights opened ")


def test_server_process_attempts_are_named_server(tmp_path: Path) -> None:
    # A server that fetches a URL at start-up, started with the environment the smoke tier gives it.
    server = tmp_path / "server.py"
    server.write_text(
        "import urllib.request\n"
        "try:\n    urllib.request.urlopen('https://civitai.com/api', timeout=60)\n"
        "except OSError as exc:\n    print('refused:', exc)\n",
        encoding="utf-8",
    )
    log = tmp_path / "net.jsonl"
    env = network.environment(NetworkSettings(), log, who="server")
    proc = _run([sys.executable, str(server)], tmp_path, env=env)
    assert "refused: <urlopen error ci-helper network policy 'block'" in proc.stdout
    result = network.evaluate(log, NetworkSettings())
    assert [f.message for f in result.findings] == ["server resolved civitai.com (blocked)"]


def test_projects_own_sitecustomize_still_runs(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text("import os\nos.environ['PROJECT_SITE'] = 'ran'\n", encoding="utf-8")
    env = network.environment(NetworkSettings(), tmp_path / "net.jsonl")
    env["PYTHONPATH"] = env["PYTHONPATH"] + os.pathsep + str(own)
    proc = _run(
        [sys.executable, "-c", "import os, sys; print(os.environ.get('PROJECT_SITE'), sys._ci_helper_offline_hook)"],
        tmp_path,
        env=env,
    )
    assert proc.stdout.strip() == "ran True"
    assert proc.stderr == ""


def test_code_under_test_cannot_switch_block_to_record(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        """
        import os, socket

        def test_relaxes_policy():
            os.environ["CI_HELPER_NETWORK_POLICY"] = "record"
            socket.getaddrinfo("pypi.org", 443)
    """,
    )
    tests, _gate, result = _tier(project)
    assert "ci-helper network policy 'block'" in tests.stdout
    assert result["findings"][0]["message"] == "test_suite.py::test_relaxes_policy resolved pypi.org (blocked)"


def test_no_log_is_not_run_and_a_log_without_start_is_not_run(tmp_path: Path) -> None:
    missing = network.evaluate(tmp_path / "absent.jsonl", NetworkSettings())
    assert missing.status == "not-run"
    assert missing.reason == f"no network log at {tmp_path / 'absent.jsonl'}: the offline plugin did not run"
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert network.evaluate(empty, NetworkSettings()).status == "not-run"


def test_a_log_written_before_the_run_started_is_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "net.jsonl"
    log.write_text(json.dumps({"kind": "start", "detail": "policy=block"}) + "\n", encoding="utf-8")
    old = time.time() - 3600
    os.utime(log, (old, old))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path / "runner"))
    from ci_helper import run_start

    run_start.mark()
    result = network.evaluate(log, NetworkSettings())
    assert result.status == "fail"
    assert result.reason == "stale: written before this run started"


def test_allowed_hosts_are_not_counted(tmp_path: Path) -> None:
    log = tmp_path / "net.jsonl"
    lines = [{"kind": "start"}, {"kind": "network", "target": "Mirror.Example.", "detail": "resolve", "who": "t.py::a"}]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    config = NetworkSettings(policy="record", allow=[NetworkAllow(host="mirror.example", reason="internal mirror")])
    assert network.evaluate(log, config).status == "pass"
    assert network.environment(config, log)[offline.ALLOW_ENV] == "mirror.example"


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ('[tool.ci-helper.network]\npolicy = "warn"\n', "policy: unknown policy 'warn'; use one of block, record"),
        (
            '[tool.ci-helper.network]\nallow = [{host = "hf.co", reason = " "}]\n',
            "allow[0].reason: say why hf.co may be reached",
        ),
        ('[tool.ci-helper.network]\nallow = [{host = "hf.co"}]\n', "reason"),
    ],
)
def test_bad_settings_are_exit_2_in_one_line(tmp_path: Path, pyproject: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    proc = _run([*CLI, "network", "gate", "--log", str(tmp_path / "x.jsonl")], tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_corrupt_log_line_is_exit_2(tmp_path: Path) -> None:
    log = tmp_path / "net.jsonl"
    log.write_text('{"kind": "start"}\n{not json\n', encoding="utf-8")
    proc = _run([*CLI, "network", "gate", "--log", str(log), "--results-dir", str(tmp_path / "r")], tmp_path)
    assert proc.returncode == 2
    assert f"{log}:2: corrupt network log line" in proc.stderr
    # The gate replaced its result with not-run before reading: no earlier verdict survives.
    assert results.read_result(tmp_path / "r" / "network.json").status == "not-run"


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["git", "clone", "https://github.com/a/b"], "clone"),
        (["/usr/bin/git", "-C", "x", "fetch"], "clone"),
        (["git", "status"], None),
        (["pip", "install", "torch"], "download"),
        (["python3", "-m", "pip", "download", "x"], "download"),
        (["python3", "-m", "pip", "list"], None),
        (["curl", "-L", "https://x"], "download"),
        (["wget", "https://x"], "download"),
        (["huggingface-cli", "download", "m"], "download"),
        (["ls"], None),
        ([], None),
    ],
)
def test_classify_command(argv: list[str], kind: str | None) -> None:
    assert offline.classify_command(argv) == kind


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("api.localhost", True),
        ("0.0.0.0", True),
        ("::ffff:127.0.0.1", True),
        (None, True),
        (b"localhost", True),
        ("huggingface.co", False),
        ("10.0.0.1", False),
        ("8.8.8.8", False),
        ("::ffff:8.8.8.8", False),
        ("", True),
    ],
)
def test_is_loopback(host: object, loopback: bool) -> None:
    assert offline.is_loopback(host) is loopback
