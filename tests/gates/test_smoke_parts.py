"""The smoke tier's parts on their own: the server command, the coverage rcfile, probes and ports."""

from __future__ import annotations

import configparser
import socket
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ci_helper.errors import BadInput
from ci_helper.gates.smoke import command, coverage_rc, ports
from ci_helper.gates.smoke.probes import probe_for

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def test_parse_takes_leading_assignments_as_environment():
    parsed = command.parse("CI=1 FAKE='on off' python launch.py --port 7860 --api")
    assert parsed.argv == ["python", "launch.py", "--port", "7860", "--api"]
    assert parsed.env == {"CI": "1", "FAKE": "on off"}
    assert parsed.display() == "CI=1 FAKE='on off' python launch.py --port 7860 --api"


def test_placeholders():
    assert command.substitute("{python} s.py --port {port}", 8123) == f"{sys.executable} s.py --port 8123"
    assert command.substitute("s --port {port}", None) == "s --port {port}"


@pytest.mark.parametrize(
    "server, expected",
    [
        (
            "python launch.py --api",
            ["python", "-m", "coverage", "run", "--data-file=/d/f", "--rcfile=/r/rc", "launch.py", "--api"],
        ),
        (
            "python3.11 -u -X dev -m app.main --port 1",
            [
                "python3.11",
                "-u",
                "-X",
                "dev",
                "-m",
                "coverage",
                "run",
                "--data-file=/d/f",
                "--rcfile=/r/rc",
                "-m",
                "app.main",
                "--port",
                "1",
            ],
        ),
        (
            "server.py 80",
            [sys.executable, "-m", "coverage", "run", "--data-file=/d/f", "--rcfile=/r/rc", "server.py", "80"],
        ),
    ],
)
def test_under_coverage_rewrites_the_interpreter_call(server, expected):
    wrapped = command.under_coverage(command.parse(server), Path("/d/f"), Path("/r/rc"))
    assert wrapped.argv == expected


def test_under_coverage_refuses_python_c():
    with pytest.raises(BadInput) as exc:
        command.under_coverage(command.parse("python -c 'import app'"), Path("f"), Path("rc"))
    assert (
        exc.value.message
        == "--coverage-data-file cannot measure 'python -c ...'; put the server code in a file or module"
    )


def test_rcfile_from_setup_cfg_keeps_coverage_sections_only(tmp_path):
    (tmp_path / "setup.cfg").write_text(
        "[metadata]\nname = x\n\n[coverage:run]\nsource = app\nbranch = True\n\n[coverage:paths]\nSource =\n    app/\n    */site-packages/app/\n"
    )
    out, source = coverage_rc.write_rcfile(tmp_path, tmp_path / "gen")
    assert source == tmp_path / "setup.cfg"
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(out)
    assert parser.sections() == ["run", "paths"]
    assert dict(parser["run"]) == {"source": "app", "branch": "True", "sigterm": "true", "context": "server"}
    assert parser["paths"]["Source"].split() == ["app/", "*/site-packages/app/"]


def test_rcfile_without_project_config_only_sets_sigterm_and_the_server_context(tmp_path):
    out, source = coverage_rc.write_rcfile(tmp_path, tmp_path / "gen")
    assert (source, out.read_text()) == (None, "[run]\nsigterm = true\ncontext = server\n\n")


def test_coveragerc_wins_over_pyproject_as_in_coverage(tmp_path):
    (tmp_path / ".coveragerc").write_text("[run]\nbranch = True\n")
    (tmp_path / "pyproject.toml").write_text("[tool.coverage.run]\nbranch = false\n")
    assert coverage_rc.find_project_config(tmp_path) == (tmp_path / ".coveragerc", "ini")


def test_rcfile_really_configures_coverage(tmp_path):
    import coverage

    (tmp_path / "pyproject.toml").write_text(
        '[tool.coverage.run]\nbranch = true\nomit = ["x/*"]\n[tool.coverage.report]\nprecision = 2\n'
    )
    out, _ = coverage_rc.write_rcfile(tmp_path, tmp_path / "gen")
    cov = coverage.Coverage(config_file=str(out))
    assert (
        cov.get_option("run:sigterm"),
        cov.get_option("run:branch"),
        cov.get_option("run:omit"),
        cov.get_option("report:precision"),
        cov.get_option("run:context"),
    ) == (True, True, ["x/*"], 2, "server")


_scalars = st.one_of(
    st.text(max_size=12),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)
_values = st.one_of(_scalars, st.lists(_scalars, max_size=4))
_tables = st.recursive(
    st.dictionaries(st.text(max_size=8), _values, max_size=4),
    lambda inner: st.dictionaries(st.text(max_size=8), st.one_of(_values, inner), max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(_tables)
def test_toml_writer_round_trips(table):
    assert tomllib.loads(coverage_rc.dump_toml(table)) == table


def test_probe_kinds_and_bad_urls():
    assert type(probe_for("http://127.0.0.1:1/health")).__name__ == "HttpStatusProbe"
    assert type(probe_for("tcp://127.0.0.1:1")).__name__ == "TcpConnectProbe"
    with pytest.raises(BadInput) as exc:
        probe_for("tcp://127.0.0.1")
    assert (
        exc.value.message
        == "--ready-url 'tcp://127.0.0.1': a tcp:// ready URL needs a host and a port, e.g. tcp://127.0.0.1:7860"
    )


def test_http_probe_answers_without_raising_when_nobody_listens():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answer = probe_for(f"http://127.0.0.1:{port}/").check(timeout=1)
    assert (answer.ready, answer.detail) == (False, "connection refused")


def test_named_port_only_when_the_url_names_one():
    assert ports.named_port("http://127.0.0.1:7860/health") == ("127.0.0.1", 7860)
    assert ports.named_port("http://0.0.0.0:8000/") == ("127.0.0.1", 8000)
    assert ports.named_port("http://localhost/health") is None
    assert ports.port_in_use("http://localhost/health") is None


def test_isolated_setup_virtualenv_is_taken_off_path_for_the_project(tmp_path, monkeypatch):
    from ci_helper.gates.smoke import environment

    venv = tmp_path / "ci-helper-venv"
    (venv / "bin").mkdir(parents=True)
    project_bin = tmp_path / "project-bin"
    project_bin.mkdir()
    (project_bin / "python").write_text("#!/bin/sh\n")
    (project_bin / "python").chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(venv))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    environ = {"PATH": f"{venv}/bin:{project_bin}", "VIRTUAL_ENV": str(venv)}
    # Without the setup action's marker, it is the user's own environment: untouched.
    assert environment.project_environ(environ) == environ
    assert environment.default_python(environ) == sys.executable
    (venv / environment.SETUP_MARKER).write_text("{}")
    assert environment.project_environ(environ) == {"PATH": str(project_bin)}
    assert environment.default_python(environ) == str(project_bin / "python")
    # Today's setup puts only its shim folder on PATH: kept (it holds ci-helper alone),
    # and the project's python is found without any filtering.
    shim_path = {"PATH": f"{venv}/ci-helper-path:{project_bin}"}
    assert environment.project_environ(shim_path) == shim_path
    assert environment.default_python(shim_path) == str(project_bin / "python")
