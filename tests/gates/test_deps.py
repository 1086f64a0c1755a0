"""`ci-helper deps verify` against real virtual environments built in tmp dirs (no network)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ci_helper.gates import deps
from ci_helper.results import read_result

FIXTURES = Path(deps.__file__).resolve().parent.parent / "fixtures" / "deps"


# --- a real environment, made by hand ------------------------------------


def make_venv(root: Path) -> tuple[Path, Path]:
    """``python -m venv --without-pip``: returns (interpreter, site-packages)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, capture_output=True)
    python = root / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return python, Path(site)


def install_dist(site: Path, name: str, version: str, direct_url: dict | None = None) -> Path:
    """What an installer leaves behind that importlib.metadata reads: a .dist-info with METADATA."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    (info / "INSTALLER").write_text("ci-helper-tests\n", encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")
    if direct_url is not None:
        (info / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")
    return info


@pytest.fixture
def venv(tmp_path):
    python, site = make_venv(tmp_path / "venv")
    return python, site


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def verify(cli, tmp_path, *args):
    result = cli("deps", "verify", *args, "--results-dir", str(tmp_path / "results"))
    return result, (tmp_path / "results" / "deps.json")


# --- the command on a real venv ------------------------------------------


def test_match_passes(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "alpha", "1.0.0")
    install_dist(site, "Beta_Pkg", "2.1")
    req = write(tmp_path / "requirements.txt", "alpha==1.0.0\nbeta-pkg==2.1  # normalised name\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"deps: pass - 2 matched, 0 mismatched, 0 missing, 0 not for this environment (markers), in {python}\n"
    )
    check = read_result(out)
    assert check.status == "pass"
    assert check.findings == []
    assert {k: check.figures[k] for k in ("requirements", "matched", "mismatched", "missing", "installed")} == {
        "requirements": 2,
        "matched": 2,
        "mismatched": 0,
        "missing": 0,
        "installed": 2,
    }
    assert req.is_file()


def test_version_mismatch_names_package_expected_and_found(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "alpha", "1.1.0")
    write(tmp_path / "requirements.txt", "# pinned\nalpha==1.0.0\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "requirements.txt:2: alpha: expected ==1.0.0, found 1.1.0"
    check = read_result(out)
    assert check.status == "fail"
    assert [f.to_dict() for f in check.findings] == [
        {
            "rule": "deps-mismatch",
            "message": "alpha: expected ==1.0.0, found 1.1.0",
            "file": "requirements.txt",
            "line": 2,
            "column": None,
            "severity": "error",
            "data": {"package": "alpha", "expected": "==1.0.0", "found": "1.1.0"},
        }
    ]


def test_missing_package_fails(cli, tmp_path, venv, monkeypatch):
    python, _ = venv
    write(tmp_path / "requirements.txt", "gamma==3.0\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "requirements.txt:1: gamma: expected ==3.0, found not installed"
    assert read_result(out).figures["missing"] == 1


def test_missing_direct_reference_fails(cli, tmp_path, venv, monkeypatch):
    python, _ = venv
    write(tmp_path / "requirements.txt", "vendored @ https://example.invalid/vendored-0.1-py3-none-any.whl\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "requirements.txt:1: vendored: expected @ https://example.invalid/vendored-0.1-py3-none-any.whl, "
        "found not installed"
    )
    assert read_result(out).findings[0].rule == "deps-missing"


def test_direct_reference_compared_with_direct_url_json(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(
        site, "vendored", "0.1", {"url": "https://example.invalid/vendored-0.1-py3-none-any.whl", "archive_info": {}}
    )
    install_dist(
        site,
        "fromgit",
        "0.2",
        {
            "url": "https://example.invalid/org/fromgit.git",
            "vcs_info": {"vcs": "git", "commit_id": "a" * 40, "requested_revision": "v0.2"},
        },
    )
    install_dist(site, "moved", "1.0", {"url": "https://example.invalid/moved-1.0.tar.gz", "archive_info": {}})
    write(
        tmp_path / "requirements.txt",
        "vendored @ https://example.invalid/vendored-0.1-py3-none-any.whl#sha256=00\n"
        "fromgit @ git+https://example.invalid/org/fromgit.git@v0.2\n"
        "moved @ https://example.invalid/moved-2.0.tar.gz\n",
    )
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "requirements.txt:3: moved: expected @ https://example.invalid/moved-2.0.tar.gz, "
        "found @ https://example.invalid/moved-1.0.tar.gz"
    )
    check = read_result(out)
    assert (check.figures["matched"], check.figures["mismatched"]) == (2, 1)


def test_direct_reference_installed_from_the_index_fails(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    # pip leaves no direct_url.json for an index install: same name, other source.
    install_dist(site, "vendored", "0.1")
    write(tmp_path / "requirements.txt", "vendored @ https://example.invalid/vendored-0.1-py3-none-any.whl\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    check = read_result(out)
    assert (check.status, check.figures["matched"], check.figures["mismatched"]) == ("fail", 0, 1)
    (finding,) = check.findings
    assert (finding.rule, finding.severity, finding.line) == ("deps-direct-url-mismatch", "error", 1)
    assert finding.message == (
        "vendored: expected @ https://example.invalid/vendored-0.1-py3-none-any.whl, found 0.1 installed from a "
        "package index (no direct_url.json); reinstall it from the URL: "
        "pip install 'vendored @ https://example.invalid/vendored-0.1-py3-none-any.whl'"
    )
    assert finding.data == {
        "package": "vendored",
        "expected": "@ https://example.invalid/vendored-0.1-py3-none-any.whl",
        "found": "0.1",
        "source": "index",
    }


def test_git_reference_satisfied_only_by_its_commit(cli, tmp_path, monkeypatch):
    sha = "0123456789abcdef0123456789abcdef01234567"
    write(tmp_path / "requirements.txt", f"tool @ git+https://github.com/o/tool@{sha}\n")
    monkeypatch.chdir(tmp_path)
    for site_name, direct_url, code in [
        ("index", None, 1),
        ("git", {"url": "https://github.com/o/tool", "vcs_info": {"vcs": "git", "commit_id": sha}}, 0),
        ("other", {"url": "https://github.com/o/tool", "vcs_info": {"vcs": "git", "commit_id": "f" * 40}}, 1),
    ]:
        python, site = make_venv(tmp_path / site_name)
        install_dist(site, "tool", "1.0", direct_url)
        result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
        assert result.exit_code == code, (site_name, result.output)


def test_file_included_from_two_files_counts_once(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "shared", "1.0")
    install_dist(site, "alpha", "1.0")
    write(tmp_path / "common.txt", "shared==1.0\n")
    write(tmp_path / "a.txt", "-r common.txt\nalpha==1.0\n")
    write(tmp_path / "b.txt", "-r ./common.txt\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "a.txt", "b.txt", "a.txt", "--python", str(python))
    assert result.exit_code == 0, result.output
    figures = read_result(out).figures
    assert (figures["requirements"], figures["matched"]) == (2, 2)
    # Missing once is reported once.
    write(tmp_path / "common.txt", "shared==1.0\nabsent==2\n")
    result, out = verify(cli, tmp_path, "a.txt", "b.txt", "--python", str(python))
    assert [f.message for f in read_result(out).findings] == ["absent: expected ==2, found not installed"]
    assert read_result(out).figures["missing"] == 1


def test_file_used_as_requirements_and_as_constraints_is_read_as_both(tmp_path):
    write(tmp_path / "pins.txt", "shared==1.0\n")
    write(tmp_path / "a.txt", "-r pins.txt\n-c pins.txt\n-r pins.txt\n")
    lines = deps.read_requirements([str(tmp_path / "a.txt")])
    assert [(line.kind, line.name) for line in lines] == [("requirement", "shared"), ("constraint", "shared")]


def test_missing_requirements_file_is_bad_input(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "nope.txt")
    assert result.exit_code == 2
    assert result.output == "Error: requirements file not found: nope.txt\n"
    raw = json.loads(out.read_text())
    assert (raw["status"], raw["reason"]) == ("not-run", "bad input: requirements file not found: nope.txt")


def test_missing_included_file_is_bad_input(cli, tmp_path, monkeypatch):
    write(tmp_path / "reqs" / "main.txt", "-r base.txt\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "reqs/main.txt")
    assert result.exit_code == 2
    assert result.output == "Error: requirements file not found: reqs/base.txt\n"


def test_unparsable_line_is_bad_input_with_location(cli, tmp_path, monkeypatch):
    write(tmp_path / "requirements.txt", "alpha==1.0\nbeta = 1.0\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt")
    assert result.exit_code == 2
    assert result.output.startswith("Error: requirements.txt:2: invalid requirement 'beta = 1.0' (")
    assert result.output.endswith("); write 'name==version' or 'name @ url'\n")


def test_include_cycle_is_bad_input(cli, tmp_path, monkeypatch):
    write(tmp_path / "a.txt", "-r b.txt\n")
    write(tmp_path / "b.txt", "--requirement=a.txt\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "a.txt")
    assert result.exit_code == 2
    a, b = (tmp_path / "a.txt").resolve(), (tmp_path / "b.txt").resolve()
    assert result.output == f"Error: requirements include cycle: {a} -> {b} -> {a}; remove one of the -r/-c lines\n"


def test_markers_are_evaluated_for_the_target(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "alpha", "1.0")
    version = ".".join(map(str, sys.version_info[:2]))
    write(
        tmp_path / "requirements.txt",
        'alpha==1.0 ; python_version >= "3"\n'
        'legacy==0.1 ; python_version < "3"\n'
        f'current==0.1 ; python_version == "{version}"\n',
    )
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "requirements.txt:3: current: expected ==0.1, found not installed",
        f"deps: fail - 1 matched, 0 mismatched, 1 missing, 1 not for this environment (markers), in {python}",
    ]
    assert read_result(out).figures["not_applicable"] == 1


def test_includes_constraints_hashes_continuations(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "alpha", "1.0")
    install_dist(site, "beta", "2.0")
    write(
        tmp_path / "reqs" / "main.txt",
        "--index-url https://example.invalid/simple\n"
        "-r sub/base.txt\n"
        "-c constraints.txt\n"
        "alpha==1.0 \\\n"
        "    --hash=sha256:1111 \\\n"
        "    --hash sha256:2222\n",
    )
    write(tmp_path / "reqs" / "sub" / "base.txt", "beta==2.0 # comment\n")
    write(tmp_path / "reqs" / "constraints.txt", "beta<3\nnotinstalled==9\n")
    monkeypatch.chdir(tmp_path)
    lines = deps.parse_requirements("reqs/main.txt")
    assert [(r.kind, r.file, r.line, r.text, r.hashes) for r in lines] == [
        ("requirement", "reqs/sub/base.txt", 1, "beta==2.0", []),
        ("constraint", "reqs/constraints.txt", 1, "beta<3", []),
        ("constraint", "reqs/constraints.txt", 2, "notinstalled==9", []),
        ("requirement", "reqs/main.txt", 4, "alpha==1.0", ["sha256:1111", "sha256:2222"]),
    ]
    result, out = verify(cli, tmp_path, "reqs/main.txt", "--python", str(python))
    assert result.exit_code == 0, result.output
    assert read_result(out).figures["constraints"] == 2


def test_constraint_mismatch_fails(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "beta", "3.1")
    write(tmp_path / "requirements.txt", "-c constraints.txt\n")
    write(tmp_path / "constraints.txt", "beta<3\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt", "--python", str(python))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == "constraints.txt:1: beta: expected <3 (constraint), found 3.1"


def test_snapshot_out_is_pip_freeze_style(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "Zeta", "1.0")
    install_dist(site, "alpha", "2.0")
    install_dist(
        site,
        "fromgit",
        "0.2",
        {"url": "https://example.invalid/fromgit.git", "vcs_info": {"vcs": "git", "commit_id": "b" * 40}},
    )
    install_dist(site, "mine", "0.0.1", {"url": "file:///src/mine", "dir_info": {"editable": True}})
    write(tmp_path / "requirements.txt", "alpha==2.0\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt", "--python", str(python), "--snapshot-out", "out/snap.txt")
    assert result.exit_code == 0
    assert (tmp_path / "out" / "snap.txt").read_text() == (
        "alpha==2.0\n"
        f"fromgit @ git+https://example.invalid/fromgit.git@{'b' * 40}\n"
        "mine @ file:///src/mine  # editable\n"
        "Zeta==1.0\n"
    )
    # The snapshot reads back: the environment it describes satisfies itself.
    result, out = verify(cli, tmp_path, "out/snap.txt", "--installed-from", "out/snap.txt")
    assert result.exit_code == 0, result.output
    assert read_result(out).figures["matched"] == 4


def test_default_target_is_the_running_interpreter(cli, tmp_path, monkeypatch):
    from importlib import metadata

    write(tmp_path / "requirements.txt", f"click=={metadata.version('click')}\npackaging==0.0.1\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt")
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"requirements.txt:2: packaging: expected ==0.0.1, found {metadata.version('packaging')}"
    )


def test_requirements_from_settings(cli, tmp_path, venv, monkeypatch):
    python, site = venv
    install_dist(site, "alpha", "1.0")
    write(tmp_path / "pyproject.toml", '[tool.ci-helper.deps]\nrequirements = ["requirements/ci.txt"]\n')
    write(tmp_path / "requirements" / "ci.txt", "alpha==1.0\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "--python", str(python))
    assert result.exit_code == 0, result.output
    assert read_result(out).figures["files"] == ["requirements/ci.txt"]


def test_bad_python_is_bad_input(cli, tmp_path, monkeypatch):
    write(tmp_path / "requirements.txt", "alpha==1.0\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt", "--python", str(tmp_path / "no-python"))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: --python {tmp_path / 'no-python'}: no such interpreter; pass the path of the environment's python\n"
    )


def test_python_that_is_not_python_is_bad_input(cli, tmp_path, monkeypatch):
    # Runs and exits 0, but prints no environment report (e.g. a wrapper or a wrong path).
    fake = write(tmp_path / "fake-python", "#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    write(tmp_path / "requirements.txt", "alpha==1.0\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt", "--python", str(fake))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: --python {fake}: printed no environment report (not a Python 3 interpreter?); "
        "pass the path of the environment's python\n"
    )


# --- canary fixtures -------------------------------------------------------


@pytest.mark.parametrize("case, code", [("good", 0), ("bad", 1)])
def test_canary_fixtures_against_snapshot(cli, tmp_path, case, code):
    folder = FIXTURES / case
    result, out = verify(
        cli, tmp_path, str(folder / "requirements.txt"), "--installed-from", str(folder / "installed.txt")
    )
    assert result.exit_code == code, result.output
    messages = [f.message for f in read_result(out).findings]
    if case == "bad":
        assert messages == [
            "canary-http: expected ==2.20.0, found 2.19.0",
            "canary-missing: expected ==1.0.0, found not installed",
            "canary-from-git: expected @ git+https://example.invalid/canary-from-git.git@"
            "0123456789abcdef0123456789abcdef01234567, found 1.0.0 installed from a package index "
            "(no direct_url.json); reinstall it from the URL: pip install 'canary-from-git @ "
            "git+https://example.invalid/canary-from-git.git@0123456789abcdef0123456789abcdef01234567'",
        ]
    else:
        assert messages == []


@pytest.mark.parametrize("case, code", [("good", 0), ("bad", 1)])
def test_canary_fixtures_against_real_venv(cli, tmp_path, venv, case, code):
    python, site = venv
    folder = FIXTURES / case
    for line in deps.parse_requirements(folder / "installed.txt"):
        req = line.requirement
        if req.url:
            install_dist(site, req.name, "0.1.0", {"url": req.url, "archive_info": {}})
        else:
            install_dist(site, req.name, next(iter(req.specifier)).version)
    result, out = verify(cli, tmp_path, str(folder / "requirements.txt"), "--python", str(python))
    assert result.exit_code == code, result.output
    assert read_result(out).status == ("pass" if code == 0 else "fail")


# --- units -------------------------------------------------------------------


def test_direct_url_matches():
    git = {
        "url": "https://h/o/r.git",
        "vcs_info": {"vcs": "git", "commit_id": "c0ffee" + "0" * 34, "requested_revision": "main"},
    }
    assert deps.direct_url_matches("git+https://h/o/r.git@main", git)
    assert deps.direct_url_matches("git+https://h/o/r.git@c0ffee0", git)
    assert deps.direct_url_matches("git+https://h/o/r.git", git)
    assert not deps.direct_url_matches("git+https://h/o/r.git@v2", git)
    assert not deps.direct_url_matches("hg+https://h/o/r.git@main", git)
    assert not deps.direct_url_matches("https://h/o/r.git", git)
    archive = {"url": "https://h/p-1.0.tar.gz", "archive_info": {"hashes": {}}}
    assert deps.direct_url_matches("https://h/p-1.0.tar.gz#sha256=ab", archive)
    assert not deps.direct_url_matches("https://h/p-1.1.tar.gz", archive)


names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}([-_.][A-Za-z0-9]{1,4})?", fullmatch=True)
versions = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(
    name=names,
    version=versions,
    hashes=st.lists(st.from_regex(r"[0-9a-f]{4,8}", fullmatch=True), max_size=3),
    comment=st.booleans(),
    marker=st.booleans(),
    continued=st.booleans(),
)
def test_parser_reads_what_pip_would(tmp_path_factory, name, version, hashes, comment, marker, continued):
    parts = [f"{name}=={version}"]
    if marker:
        parts[0] += ' ; python_version >= "3"'
    parts += [f"--hash=sha256:{h}" for h in hashes]
    joiner = " \\\n    " if continued else " "
    text = "# header comment\n\n" + joiner.join(parts) + ("  # trailing" if comment else "") + "\n"
    path = tmp_path_factory.mktemp("req") / "requirements.txt"
    path.write_text(text)
    (line,) = deps.parse_requirements(path)
    assert line.line == 3
    assert line.requirement.name == name
    assert str(line.requirement.specifier) == f"=={version}"
    assert line.hashes == [f"sha256:{h}" for h in hashes]
    assert (line.requirement.marker is not None) == marker
    assert line.pinned


@pytest.mark.parametrize("fixture, expected", [("good", "pass"), ("bad", "fail")])
def test_canary_runner_cases(fixture, expected):
    from ci_helper.canary.cases import load_case
    from ci_helper.canary.run import run_case

    outcome = run_case(load_case(FIXTURES / fixture, "deps"))
    assert (outcome.expected, outcome.got) == (expected, expected), outcome.detail


def test_nothing_to_verify_is_not_run(cli, tmp_path, monkeypatch):
    write(tmp_path / "requirements.txt", "# only constraints here\n-c constraints.txt\n")
    write(tmp_path / "constraints.txt", "alpha<2\n")
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt")
    assert result.exit_code == 1
    assert result.output == "deps: not-run - no requirements to verify in requirements.txt\n"
    assert read_result(out).status == "not-run"


@pytest.mark.parametrize(
    "text, output",
    [
        (
            "-e ./src/mine\n",
            "requirements.txt:1: -e ./src/mine: editable requirement not verified (no pinned version to compare)\n",
        ),
        ('alpha==1.0 ; python_version < "3"\n', ""),
    ],
)
def test_nothing_compared_with_the_environment_is_not_run(cli, tmp_path, monkeypatch, text, output):
    # Only editables or only lines for other environments: no line was checked, so nothing passed.
    write(tmp_path / "requirements.txt", text)
    monkeypatch.chdir(tmp_path)
    result, out = verify(cli, tmp_path, "requirements.txt")
    assert result.exit_code == 1
    assert result.output == output + (
        "deps: not-run - no requirement in requirements.txt was compared with the environment "
        "(editable, or not for this environment by markers)\n"
    )
    assert read_result(out).status == "not-run"


@pytest.mark.parametrize("line, option", [("-e", "-e"), ("--editable ", "--editable")])
def test_editable_without_a_target_is_bad_input(cli, tmp_path, monkeypatch, line, option):
    write(tmp_path / "requirements.txt", f"click==1.0\n{line}\n")
    monkeypatch.chdir(tmp_path)
    result, _ = verify(cli, tmp_path, "requirements.txt")
    assert result.exit_code == 2
    assert result.output == f"Error: requirements.txt:2: '{option}' needs a path or URL\n"
