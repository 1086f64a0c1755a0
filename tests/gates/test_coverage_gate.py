"""The coverage gate against real `coverage run` data and real git repositories.

Every data file here is written by a `python -m coverage run` subprocess in a
temporary folder, so the figures are compared with what coverage itself
reports on the same data (and the suite may itself run under coverage).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ci_helper.gates.coverage import diff as diff_mod
from ci_helper.gates.coverage.gate import format_ranges, line_ranges
from tests.conftest import run_ci_helper, without_fence

FIXTURES = Path(__file__).resolve().parents[2] / "ci_helper" / "fixtures" / "coverage"

# A module with statements, branches, a partial branch and an excluded line.
LIB = """\
def classify(n):
    if n < 0:
        return "negative"
    elif n == 0:
        return "zero"
    for i in range(n):
        if i > 100:
            break
    return "positive"


def never_called(x):
    if x:
        return 1
    return 2


def excluded():  # pragma: no cover
    return 3
"""

OTHER = """\
def double(x):
    return x * 2


def unused(y):
    while y:
        y -= 1
    return y
"""

TESTS = """\
import lib
import other

assert lib.classify(-1) == "negative"
assert lib.classify(3) == "positive"
assert other.double(2) == 4
"""


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a child process, free of any coverage the suite itself runs under."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "GITHUB_", "CI_HELPER_"))}
    env.update(extra)
    return env


def coverage(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "coverage", *args], cwd=cwd, env=clean_env(), capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"coverage {args} failed: {proc.stdout}{proc.stderr}")
    return proc


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def project(root: Path, branch: bool, precision: int = 0, extra_config: str = "") -> Path:
    return write(
        root,
        {
            "lib.py": LIB,
            "other.py": OTHER,
            "run_tests.py": TESTS,
            ".coveragerc": f"[run]\nbranch = {branch}\nomit = run_tests.py\n\n[report]\nprecision = {precision}\n{extra_config}",
        },
    )


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gate(cli, monkeypatch):
    """Run `ci-helper coverage gate` in-process (fast) in a folder; `gate_subprocess` for a real process."""

    def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
        monkeypatch.chdir(cwd)
        result = cli("coverage", "gate", "--results-dir", "results", *args, env=env)
        return Outcome(result.exit_code, result.stdout, result.stderr)

    return run


def gate_subprocess(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_ci_helper("coverage", "gate", "--results-dir", "results", *args, cwd=cwd, env=env)


def check_result(cwd: Path) -> dict:
    return json.loads((cwd / "results" / "coverage.json").read_text())


# --- totals and per-file figures equal coverage's own ----------------------------


@pytest.mark.parametrize("branch", [True, False])
@pytest.mark.parametrize("precision", [0, 2])
def test_total_and_per_file_equal_coverage_reports(tmp_path, branch, precision, gate):
    root = project(tmp_path, branch, precision)
    coverage(root, "run", "run_tests.py")
    expected_total = coverage(root, "report", "--format=total").stdout.strip()
    coverage(root, "json", "-o", "coverage-json.json")
    theirs = json.loads((root / "coverage-json.json").read_text())

    proc = gate(root, "--json-out", "ours.json", "--markdown-out", "ours.md")
    assert proc.returncode == 0, proc.stderr
    ours = json.loads((root / "ours.json").read_text())
    result = check_result(root)

    assert ours["totals"]["percent_covered_display"] == expected_total
    assert result["figures"]["total"] == float(expected_total)
    assert result["status"] == "pass"
    assert result["figures"]["branch"] is branch
    assert result["figures"]["precision"] == precision
    assert ours["totals"] == {k: theirs["totals"][k] for k in ours["totals"]}
    assert sorted(ours["files"]) == sorted(theirs["files"]) == ["lib.py", "other.py"]
    for name, entry in ours["files"].items():
        assert entry["summary"] == {k: theirs["files"][name]["summary"][k] for k in entry["summary"]}
        assert entry["missing_lines"] == theirs["files"][name]["missing_lines"]
        assert entry["excluded_lines"] == theirs["files"][name]["excluded_lines"]
        if branch:
            assert entry["missing_branches"] == theirs["files"][name]["missing_branches"]
    assert f"coverage: total {expected_total}% (no floor)\n" in proc.stdout


def test_parallel_analysis_equals_coverage_report(tmp_path, gate):
    # Enough modules for the worker pool; a different mix of executed lines in each.
    files = {}
    calls = []
    for i in range(24):
        files[f"pkg/m{i}.py"] = LIB.replace("classify", f"classify{i}")
        calls.append(f"import pkg.m{i}\npkg.m{i}.classify{i}({i % 3 - 1})\n")
    files["pkg/__init__.py"] = ""
    files["run_tests.py"] = "".join(calls)
    files[".coveragerc"] = "[run]\nbranch = True\nomit = run_tests.py\n[report]\nprecision = 3\n"
    root = write(tmp_path, files)
    coverage(root, "run", "run_tests.py")
    expected = coverage(root, "report", "--format=total").stdout.strip()
    proc = gate(root, "--jobs", "2", "--json-out", "ours.json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((root / "ours.json").read_text())["totals"]["percent_covered_display"] == expected
    one = gate(root, "--jobs", "1", "--json-out", "one.json")
    assert json.loads((root / "one.json").read_text()) == json.loads((root / "ours.json").read_text())
    assert one.stdout == proc.stdout


@pytest.mark.parametrize(
    ("executed", "precision", "shown"),
    [
        ("all_but_one", 0, "99"),
        ("all_but_one", 1, "99.9"),
        ("one", 0, "1"),
        ("one", 1, "0.1"),
    ],
)
def test_total_never_rounds_to_100_or_0(tmp_path, executed, precision, shown, gate):
    body = "\n".join(f"    v{i} = {i}" for i in range(2000))
    if executed == "all_but_one":
        # 2,001 statements, one of them not run: 99.95%.
        source = f"x = 1\nif x == 1:\n{body}\nelse:\n    y = 2\n"
    else:
        # 2,002 statements, two of them run: 0.0999%.
        source = f"x = 1\nif x == 2:\n{body}\n"
    root = write(tmp_path, {"big.py": source, ".coveragerc": f"[report]\nprecision = {precision}\n"})
    coverage(root, "run", "big.py")
    assert coverage(root, "report", "--format=total").stdout.strip() == shown
    proc = gate(root, "--fail-under", "100" if executed == "all_but_one" else "0")
    assert check_result(root)["figures"]["total"] == float(shown)
    # 99.95% is not 100%: a floor of 100 fails, exactly as coverage report --fail-under=100 does.
    assert proc.returncode == (1 if executed == "all_but_one" else 0)


# --- combining ------------------------------------------------------------------------


def test_combines_server_and_test_data_files(tmp_path, gate):
    root = write(
        tmp_path,
        {
            "app.py": """\
            def handle(path):
                if path == "/health":
                    return "ok"
                return "not found"


            def startup():
                return "started"
            """,
            "server_main.py": "import app\napp.startup()\napp.handle('/health')\n",
            "run_tests.py": "import app\nassert app.handle('/nope') == 'not found'\n",
            ".coveragerc": "[run]\nbranch = True\nparallel = True\nomit = server_main.py, run_tests.py\n",
        },
    )
    # As the smoke tier runs it: the static context "server" is the proof the data came from the server.
    coverage(root, "run", "--context=server", "server_main.py")
    (server_data,) = root.glob(".coverage.*")
    coverage(root, "run", "run_tests.py")
    data_files = sorted(p.name for p in root.glob(".coverage.*"))
    assert len(data_files) == 2
    (tests_data,) = set(data_files) - {server_data.name}

    # The tests alone measure less (the server's startup never ran in them).
    proc = gate(root, "--data-file", tests_data)
    assert proc.returncode == 0, proc.stderr
    assert check_result(root)["figures"]["measure"] == "tests"
    tests_total = coverage(root, "report", f"--data-file={tests_data}", "--format=total").stdout.strip()
    assert tests_total == "62"
    assert check_result(root)["figures"]["total"] == 62.0

    proc = gate(root, "--measure", "tests+server", "--markdown-out", "cov.md")
    assert proc.returncode == 0, proc.stderr
    # The inputs are never deleted (coverage combine would delete them without --keep).
    assert sorted(p.name for p in root.glob(".coverage.*")) == data_files
    found = sorted((p.name, p.stat().st_size, p.stat().st_mtime) for p in root.glob(".coverage.*"))
    coverage(root, "combine", "--keep")
    expected = coverage(root, "report", "--format=total").stdout.strip()
    assert expected == "100"
    figures = check_result(root)["figures"]
    assert figures["total"] == 100.0
    assert figures["measure"] == "tests+server"
    assert figures["data_files_combined"] == 2
    assert figures["server_data_files"] == [server_data.name]
    # Every data file combined is recorded as found: path, size and modification time.
    assert sorted(f["path"] for f in figures["data_files"]) == data_files
    assert sorted((f["path"], f["size"], f["mtime"]) for f in figures["data_files"]) == found
    markdown = (root / "cov.md").read_text()
    assert "Measured: tests and the server process; 2 data file(s) combined; branch coverage on.\n" in markdown


def test_shards_with_different_absolute_paths_are_remapped_by_paths(tmp_path, gate):
    sources = {
        "src/calc.py": """\
            def add(a, b):
                return a + b


            def sub(a, b):
                if a > b:
                    return a - b
                return b - a
            """,
    }
    shards = {"one": "from src import calc\ncalc.add(1, 2)\n", "two": "from src import calc\ncalc.sub(3, 1)\n"}
    checkout = write(tmp_path / "checkout", {**sources, "src/__init__.py": ""})
    for name, script in shards.items():
        runner = write(
            tmp_path / f"runner-{name}",
            {**sources, "src/__init__.py": "", "t.py": script, ".coveragerc": "[run]\nbranch = True\nomit = t.py\n"},
        )
        coverage(runner, "run", "t.py")
        (checkout / "artifacts" / name).mkdir(parents=True)
        shutil.copy(runner / ".coverage", checkout / "artifacts" / name / ".coverage")
        shutil.rmtree(runner)  # the shard's machine is gone, as in CI

    # Without [paths] the recorded absolute paths do not exist here: bad input naming the file.
    (checkout / ".coveragerc").write_text("[run]\nbranch = True\n")
    proc = gate(checkout, "--data-file", "artifacts/one", "--data-file", "artifacts/two")
    assert proc.returncode == 2
    # Without [paths] the files measured on the runners are not this checkout's: refused, naming the
    # first one and the [paths] entry that maps it here.
    missing = tmp_path / "runner-one" / "src" / "__init__.py"
    assert proc.stderr == (
        f"Error: {missing}: coverage data measured a file that is not this project's: measured outside this "
        f"project ({checkout}); map it to this checkout with [paths] source = src/ {tmp_path}/runner-one/src/ "
        "(one entry per line)\n"
    )
    assert check_result(checkout)["status"] == "fail"

    (checkout / ".coveragerc").write_text(
        "[run]\nbranch = True\n\n[paths]\nsource =\n    src/\n"
        f"    {tmp_path}/runner-one/src/\n    {tmp_path}/runner-two/src/\n"
    )
    proc = gate(checkout, "--data-file", "artifacts/one", "--data-file", "artifacts/two", "--json-out", "c.json")
    assert proc.returncode == 0, proc.stderr
    ours = json.loads((checkout / "c.json").read_text())
    assert sorted(ours["files"]) == ["src/__init__.py", "src/calc.py"]
    coverage(checkout, "combine", "--keep", "artifacts/one/.coverage", "artifacts/two/.coverage")
    assert ours["totals"]["percent_covered_display"] == coverage(checkout, "report", "--format=total").stdout.strip()
    assert ours["files"]["src/calc.py"]["missing_lines"] == [8]


# --- bad input: exit 2, a red result, the path named ---------------------------


def _assert_input_failure(
    root: Path, proc: Outcome | subprocess.CompletedProcess[str], message: str, path: str | None
) -> None:
    assert proc.returncode == 2
    assert proc.stderr == f"Error: {message}\n"
    result = check_result(root)
    assert result["status"] == "fail"
    assert result["reason"] == message
    assert result["findings"] == [
        {"rule": "coverage-input", "message": message, "file": path, "line": None, "column": None, "severity": "error"}
    ]


def test_no_data_file_is_exit_2_and_a_fail_result(tmp_path, gate):
    proc = gate(tmp_path)
    _assert_input_failure(
        tmp_path,
        proc,
        ".coverage: no coverage data file or .coverage.* parallel files; "
        "run the tests under `coverage run` first, or pass --data-file",
        ".coverage",
    )


def test_missing_explicit_data_file(tmp_path, gate):
    proc = gate(tmp_path, "--data-file", "cov/.coverage.shard1")
    _assert_input_failure(
        tmp_path,
        proc,
        "cov/.coverage.shard1: coverage data file not found; run the tests "
        "under `coverage run` (or download the shards' data) first",
        "cov/.coverage.shard1",
    )


def test_zero_byte_data_file(tmp_path, gate):
    (tmp_path / ".coverage").write_bytes(b"")
    proc = gate(tmp_path)
    _assert_input_failure(
        tmp_path,
        proc,
        ".coverage: coverage data file is empty (0 bytes); the test run that writes it failed or was killed",
        ".coverage",
    )


def test_data_file_with_no_measured_files(tmp_path, gate):
    write(tmp_path, {"script.py": "x = 1\n"})
    coverage(tmp_path, "run", "--include=nothing/*", "script.py")
    assert (tmp_path / ".coverage").stat().st_size > 0
    proc = gate(tmp_path)
    _assert_input_failure(
        tmp_path,
        proc,
        ".coverage: coverage data holds no measured files; the tests ran no "
        "code of the project (check [run] source/omit and that the tests ran)",
        ".coverage",
    )


def test_no_file_analysed_is_not_a_pass(tmp_path, gate):
    # The sources are gone and [report] ignore_errors skips every file: 0 files analysed is no
    # total at all (coverage report says "No data to report." and exits 1), never 100 %.
    here = project(tmp_path / "here", branch=False)
    coverage(here, "run", "run_tests.py")
    for name in ("lib.py", "other.py"):
        (here / name).unlink()
    (here / ".coveragerc").write_text("[run]\nomit = run_tests.py\n\n[report]\nignore_errors = True\n")
    assert coverage(here, "report", "--fail-under=90", check=False).returncode == 1
    proc = gate(here, "--fail-under", "90")
    _assert_input_failure(
        here,
        proc,
        ".coverage: no measured file could be analysed (sources not found or not "
        "Python, skipped by [report] ignore_errors); nothing measured is never a pass",
        ".coverage",
    )


def test_undecodable_coverage_config_is_bad_input(tmp_path, gate):
    root = project(tmp_path, branch=False)
    coverage(root, "run", "run_tests.py")
    (root / ".coveragerc").write_bytes(b"\x93\xff[run]\n")
    proc = gate(root)
    assert proc.returncode == 2
    assert proc.stderr == (
        "Error: coverage configuration (.coveragerc, setup.cfg or tox.ini): not UTF-8 text "
        "('utf-8' codec can't decode byte 0x93 in position 0: invalid start byte); "
        "save it as UTF-8\n"
    )
    assert check_result(root)["status"] == "fail"


def test_corrupt_data_file(tmp_path, gate):
    root = project(tmp_path / "p", branch=False)
    coverage(root, "run", "run_tests.py")
    (root / ".coverage.corrupt").write_bytes(b"this is not an SQLite database, it was cut short" * 10)
    proc = gate(root)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: .coverage.corrupt: corrupt or unreadable coverage data (")
    assert proc.stderr.endswith("); re-run the tests that write it\n")
    result = check_result(root)
    assert result["status"] == "fail"
    assert result["findings"][0]["file"] == ".coverage.corrupt"


def test_branch_and_line_data_do_not_combine(tmp_path, gate):
    root = project(tmp_path, branch=True)
    coverage(root, "run", "--data-file=.coverage.branch", "run_tests.py")
    coverage(root, "run", "--data-file=.coverage.lines", "--timid", "--rcfile=/dev/null", "run_tests.py")
    proc = gate(root)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: .coverage.lines: cannot combine with the other data files (")


# --- floors -----------------------------------------------------------------------


@pytest.fixture
def half_covered(tmp_path):
    """full.py 3 of 3 statements run, half.py 1 of 2: total exactly 80%, half.py exactly 50%."""
    return write(
        tmp_path,
        {
            "full.py": "def f():\n    return 1\n\n\nf()\n",
            "half.py": "def g():\n    return 2\n",
            "run_tests.py": "import full\nimport half\n",
            ".coveragerc": "[run]\nomit = run_tests.py\n[report]\nprecision = 2\n",
        },
    )


def test_total_exactly_at_the_floor_passes(half_covered, gate):
    coverage(half_covered, "run", "run_tests.py")
    assert coverage(half_covered, "report", "--format=total").stdout.strip() == "80.00"
    proc = gate(half_covered, "--fail-under", "80")
    assert proc.returncode == 0
    assert "coverage: total 80.00% (floor 80%): pass\n" in proc.stdout
    assert check_result(half_covered)["status"] == "pass"
    proc = gate(half_covered, "--fail-under", "80.01")
    assert proc.returncode == 1
    result = check_result(half_covered)
    assert result["figures"]["total"] == 80.0
    assert result["figures"]["fail_under"] == 80.01
    assert [f["message"] for f in result["findings"]] == ["total coverage 80.00% is under the floor 80.01%"]
    assert "coverage: total 80.00% (floor 80.01%): FAIL\n" in proc.stdout


def test_total_floor_from_settings_and_flags_win(half_covered, gate):
    coverage(half_covered, "run", "run_tests.py")
    (half_covered / "pyproject.toml").write_text("[tool.ci-helper.coverage]\nfail-under = 90\n")
    assert gate(half_covered).returncode == 1
    assert check_result(half_covered)["figures"]["fail_under"] == 90.0
    assert gate(half_covered, "--fail-under", "50").returncode == 0
    assert gate(half_covered, env={"CI_HELPER_FAIL_UNDER": "50"}).returncode == 0
    # An action passes an empty input as an empty variable: that means "not set".
    assert gate(half_covered, env={"CI_HELPER_FAIL_UNDER": ""}).returncode == 1


def test_coverage_config_fail_under_is_honoured(half_covered, gate):
    coverage(half_covered, "run", "run_tests.py")
    with (half_covered / ".coveragerc").open("a") as handle:
        handle.write("fail_under = 90\n")
    assert gate(half_covered).returncode == 1
    assert check_result(half_covered)["figures"]["fail_under"] == 90.0


def test_per_file_floor_names_the_files(half_covered, gate):
    coverage(half_covered, "run", "run_tests.py")
    proc = gate(half_covered, "--per-file-fail-under", "50.01")
    assert proc.returncode == 1
    result = check_result(half_covered)
    assert result["figures"]["files_under_per_file_floor"] == 1
    assert [(f["rule"], f["message"], f["file"]) for f in result["findings"]] == [
        ("coverage-per-file", "half.py: 50.00% covered, under the per-file floor 50.01%", "half.py"),
    ]
    assert "coverage: 1 file(s) under the per-file floor 50.01%: FAIL\n  half.py: 50.00%\n" in proc.stdout
    # A file exactly at the per-file floor passes, as the total does.
    assert gate(half_covered, "--per-file-fail-under", "50").returncode == 0


# --- changed lines -------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path):
    """A git repository: main has lib.py; feature adds a function (half of it run) and edits a line."""
    root = project(tmp_path / "repo", branch=True, precision=1)
    (root / ".gitignore").write_text(".coverage*\nresults/\n*.json\n*.md\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    with (root / "lib.py").open("a") as handle:
        handle.write(
            textwrap.dedent("""

            def added(flag):
                if flag:
                    return "yes"
                value = "no"
                return value
            """)
        )
    (root / "other.py").write_text(OTHER.replace("return x * 2", "return x + x"))
    (root / "run_tests.py").write_text(TESTS + "assert lib.added(True) == 'yes'\n")
    git(root, "commit", "-qam", "feature")
    coverage(root, "run", "run_tests.py")
    return root


def test_changed_lines_gate(repo, gate):
    proc = gate(repo, "--compare-branch", "main", "--diff-fail-under", "70", "--json-out", "c.json")
    assert proc.returncode == 1, proc.stderr
    changed = json.loads((repo / "c.json").read_text())["changed_lines"]
    # lib.py 22-26 (def, if, return "yes", value =, return value) and other.py 2: 6 statements, 4 ran.
    assert changed["files"] == {
        "lib.py": {"statements": [22, 23, 24, 25, 26], "missing_lines": [25, 26], "measured": True},
        "other.py": {"statements": [2], "missing_lines": [], "measured": True},
    }
    assert (changed["num_statements"], changed["covered_lines"], changed["percent_covered_display"]) == (6, 4, "66.7")
    result = check_result(repo)
    assert result["figures"]["diff"] == 66.7
    assert result["figures"]["diff_fail_under"] == 70.0
    assert [(f["rule"], f["message"], f["file"], f["line"]) for f in result["findings"]] == [
        (
            "coverage-diff",
            "changed lines 66.7% covered (4 of 6 statements changed since main), under the floor 70%",
            None,
            None,
        ),
        ("coverage-changed-lines", "changed lines 25-26 not covered by the tests", "lib.py", 25),
    ]
    assert gate(repo, "--compare-branch", "main", "--diff-fail-under", "66.7").returncode == 0


@pytest.mark.parametrize("relative", ["false", "true"])
def test_changed_lines_of_a_project_in_a_subfolder(tmp_path, gate, relative):
    # git's diff.relative=true would print paths relative to the subfolder; they must still meet coverage's.
    top = tmp_path / "repo"
    root = project(top / "sub", branch=False)
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "diff.relative", relative)
    git(top, "add", ".")
    git(top, "commit", "-qm", "base")
    git(top, "checkout", "-qb", "feature")
    (root / "other.py").write_text(OTHER + "\n\ndef unused():\n    return 0\n")
    git(top, "commit", "-qam", "feature")
    coverage(root, "run", "run_tests.py")
    proc = gate(root, "--compare-branch", "main", "--diff-fail-under", "100")
    assert proc.returncode == 1, proc.stdout
    result = check_result(root)
    assert (result["figures"]["diff_statements"], result["figures"]["diff_missing"]) == (2, 1)
    assert [(f["file"], f["line"]) for f in result["findings"] if f["rule"] == "coverage-changed-lines"] == [
        ("sub/other.py", 12)
    ]


def test_a_change_without_executable_lines_passes_the_diff_floor(repo, gate):
    (repo / "lib.py").write_text((repo / "lib.py").read_text() + "# a comment only\n")
    proc = gate(repo, "--compare-branch", "HEAD", "--diff-fail-under", "100")
    assert proc.returncode == 0, proc.stderr
    figures = check_result(repo)["figures"]
    assert (figures["diff"], figures["diff_statements"], figures["diff_missing"]) == (None, 0, 0)
    assert "coverage: changed lines vs HEAD: no changed executable lines (floor 100%): pass\n" in proc.stdout


def test_uncovered_changed_lines_are_annotated_in_actions(repo, tmp_path, gate):
    output = tmp_path / "github_output"
    output.write_text("")
    proc = gate(
        repo,
        env={
            "GITHUB_ACTIONS": "true",
            "GITHUB_BASE_REF": "main",
            "GITHUB_OUTPUT": str(output),
            "CI_HELPER_DIFF_FAIL_UNDER": "50",
        },
    )
    # GITHUB_BASE_REF=main means origin/main, which this clone does not have.
    assert proc.returncode == 2
    assert output.read_text() == "verdict=fail\n"
    output.write_text("")
    # Under Actions stderr is written into stdout, inside the fence around untrusted output.
    assert (proc.stderr, without_fence(proc.stdout)) == (
        "",
        (
            "Error: compare branch 'origin/main' is not in this clone (a shallow clone, or a branch "
            "that was not fetched); fetch it first: `git fetch origin main`, or check out with "
            "fetch-depth: 0\n"
        ),
    )
    proc = gate_subprocess(
        repo,
        "--compare-branch",
        "main",
        env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "CI_HELPER_DIFF_FAIL_UNDER": "50"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "::warning file=lib.py,line=25,endLine=26,title=Uncovered changed lines::"
        "Lines 25-26 are changed but not covered by the tests.\n"
    ) in proc.stdout
    total = coverage(repo, "report", "--format=total").stdout.strip()
    assert total == "55.3"
    assert output.read_text() == f"total={total}\ndiff=66.7\nverdict=pass\n"


def test_missing_compare_ref_is_exit_2_saying_to_fetch(repo, gate):
    proc = gate(repo, "--compare-branch", "origin/develop")
    _assert_input_failure(
        repo,
        proc,
        "compare branch 'origin/develop' is not in this clone (a shallow clone, or a "
        "branch that was not fetched); fetch it first: `git fetch origin develop`, or check out "
        "with fetch-depth: 0",
        None,
    )


def test_diff_floor_without_compare_branch_is_bad_usage(repo, gate):
    proc = gate(repo, "--diff-fail-under", "80")
    assert proc.returncode == 2
    assert (
        proc.stderr == "Error: --diff-fail-under needs --compare-branch REF (the branch the change will merge into)\n"
    )


# --- canary fixtures -------------------------------------------------------------------


@pytest.mark.parametrize(("fixture", "code"), [("good", 0), ("bad", 1)])
def test_canary_fixtures_bite(tmp_path, fixture, code):
    root = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, root)
    coverage(root, "run", "test_shapes.py")
    proc = gate_subprocess(root)
    assert proc.returncode == code, proc.stdout + proc.stderr
    figures = check_result(root)["figures"]
    assert (figures["fail_under"], figures["per_file_fail_under"]) == (90.0, 80.0)
    assert figures["total"] == (100.0 if fixture == "good" else 29.0)


# --- the diff parser and line ranges ----------------------------------------------------


def test_changed_lines_skip_context_git_merged_into_a_hunk(tmp_path):
    # diff.interHunkContext in a user's config merges nearby -U0 hunks, keeping the unchanged lines
    # between them as context: those were not changed.
    git(tmp_path, "init", "-q")
    (tmp_path / "f.py").write_text("".join(f"x{i} = {i}\n" for i in range(1, 21)))
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "config", "diff.interHunkContext", "5")
    text = (tmp_path / "f.py").read_text().replace("x5 = 5", "x5 = 50").replace("x8 = 8", "x8 = 80")
    (tmp_path / "f.py").write_text(text)
    assert diff_mod.changed_lines("HEAD", tmp_path).files == {"f.py": {5, 8}}


def test_parse_unified_diff_real_shapes():
    text = textwrap.dedent("""\
        diff --git a/a.py b/a.py
        index 1..2 100644
        --- a/a.py
        +++ b/a.py
        @@ -3 +3 @@ def f():
        -    return 1
        +    return 2
        @@ -10,0 +11,2 @@
        ++++ not a header, an added line starting with ++
        +x = 1
        diff --git a/gone.py b/gone.py
        deleted file mode 100644
        --- a/gone.py
        +++ /dev/null
        @@ -1,2 +0,0 @@
        -a
        -b
        diff --git "a/sp\\303\\251cial \\"q\\".py" "b/sp\\303\\251cial \\"q\\".py"
        --- "a/sp\\303\\251cial \\"q\\".py"
        +++ "b/sp\\303\\251cial \\"q\\".py"
        @@ -5,2 +5 @@
        -a
        -b
        +c
        """)
    assert diff_mod.parse_unified_diff(text) == {"a.py": {3, 11, 12}, 'spécial "q".py': {5}}


@hsettings(max_examples=40, deadline=None)
@given(old=st.lists(st.sampled_from("abcde"), max_size=15), new=st.lists(st.sampled_from("abcde"), max_size=15))
def test_parse_unified_diff_finds_every_added_line(old, new):
    import difflib

    body = "".join(difflib.unified_diff([f"{x}\n" for x in old], [f"{x}\n" for x in new], "a/f.py", "b/f.py", n=0))
    expected: set[int] = set()
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes():
        if tag in ("replace", "insert"):
            expected.update(range(j1 + 1, j2 + 1))
    assert diff_mod.parse_unified_diff(body).get("f.py", set()) == expected


def test_line_ranges_run_over_statements():
    assert line_ranges([1, 2, 4, 7, 8, 9], [2, 4, 8, 9]) == [(2, 4), (8, 9)]
    assert format_ranges([(2, 4), (8, 8)]) == "2-4, 8"


# --- the markdown section stays within its budget -------------------------------------


def _big_analysis(n_files: int):
    from coverage.results import Numbers

    from ci_helper.gates.coverage.analysis import FileCoverage
    from ci_helper.gates.coverage.gate import ChangedFile, CoverageAnalysis, DiffCoverage

    files = [
        FileCoverage(
            name=f"src/package_{i:05d}/module|{'x' * 60}.py",
            real_path=f"/r/{i}.py",
            numbers=Numbers(
                precision=1,
                n_files=1,
                n_statements=100,
                n_missing=i % 100,
                n_branches=10,
                n_partial_branches=1,
                n_missing_branches=2,
            ),
            missing_lines=[],
            excluded_lines=[],
        )
        for i in range(n_files)
    ]
    diff = DiffCoverage(
        "origin/main",
        "0" * 40,
        Path("/r"),
        statements=3 * n_files,
        missing=n_files,
        precision=1,
        files={f.name: ChangedFile([1, 2, 3], [3], [(3, 3)]) for f in files},
    )
    totals = sum((f.numbers for f in files), Numbers(precision=1))
    return CoverageAnalysis(
        files=files,
        totals=totals,
        branch=True,
        precision=1,
        data_files=["a", "b"],
        data_file_records=[],
        run_started_at=None,
        combined=True,
        measure="tests",
        config_fail_under=0.0,
        diff=diff,
    )


def test_markdown_is_capped_and_worst_files_come_first():
    from ci_helper.gates.coverage import gate as gate_mod, markdown

    report = _big_analysis(5000)
    options = gate_mod.GateOptions(
        fail_under=50, per_file_fail_under=10, diff_fail_under=90, compare_branch="origin/main"
    )
    verdict = gate_mod.evaluate(report, options)
    text = markdown.render(report, verdict)
    assert len(text.encode("utf-8")) <= markdown.MAX_BYTES
    assert text.startswith(
        "### Coverage: 53.2% (FAIL)\n\n"
        "Measured: tests only; 2 data file(s) combined; branch coverage on.\n\n"
        "| Gate | Value | Floor | Verdict |\n|---|---|---|---|\n"
        "| Total | 53.2% | 50% | pass |\n"
        "| Changed lines vs `origin/main` | 66.7% (10000/15000 lines) | 90% | **fail** |\n"
        "| Files under the per-file floor | 100 of 5000 | 10% | **fail** |\n"
    )
    assert "\n4970 more not shown (see `changed_lines` in the JSON report).\n" in text
    assert "\n4970 more not shown (see `files` in the JSON report).\n" in text
    file_rows = text.split("#### Files, worst first")[1].splitlines()[4:34]
    # Worst first: 99 of 100 statements missing, 8 of 10 branches taken: 9 of 110 = 8.2%.
    assert file_rows[0] == ("| src/package\\_00099/module\\|" + "x" * 60 + ".py | 100 | 99 | 10 | 1 | 8.2% |")
    # The check result caps findings per rule, and counts them all in its figures.
    assert verdict.result.figures["files_under_per_file_floor"] == 100
    assert len([f for f in verdict.result.findings if f.rule == "coverage-per-file"]) == 100
    assert len([f for f in verdict.result.findings if f.rule == "coverage-changed-lines"]) == 100


def test_markdown_with_a_tiny_budget_still_fits():
    from ci_helper.gates.coverage import gate as gate_mod, markdown

    report = _big_analysis(40)
    verdict = gate_mod.evaluate(report, gate_mod.GateOptions())
    text = markdown.render(report, verdict, max_bytes=2048)
    assert len(text.encode("utf-8")) <= 2048
    assert "more not shown" in text


def test_no_combine_reads_exactly_one_data_file(tmp_path, gate):
    root = project(tmp_path, branch=False)
    coverage(root, "run", "--parallel-mode", "run_tests.py")
    coverage(root, "run", "--parallel-mode", "run_tests.py")
    names = sorted(p.name for p in root.glob(".coverage.*"))
    proc = gate(root, "--no-combine", "--data-file", names[0], "--data-file", names[1])
    assert proc.returncode == 2
    assert proc.stderr == (
        f"Error: --no-combine reads exactly one data file, got 2 ({names[0]}, {names[1]}); pass one or use --combine\n"
    )
    proc = gate(root, "--no-combine", "--data-file", names[0])
    assert proc.returncode == 0, proc.stderr
    stat = (root / names[0]).stat()
    assert check_result(root)["figures"]["data_files"] == [
        {"path": names[0], "size": stat.st_size, "mtime": stat.st_mtime}
    ]


def test_jobs_must_be_positive(tmp_path, gate):
    root = project(tmp_path, branch=False)
    coverage(root, "run", "run_tests.py")
    proc = gate(root, "--jobs", "0")
    assert (proc.returncode, proc.stderr) == (2, "Error: --jobs must be at least 1, got 0\n")


def test_the_result_carries_each_changed_files_own_coverage_and_its_changed_lines(repo, gate):
    # The run report's changed-files table reads these typed figures; it never recomputes coverage.
    (repo / "notes.md").write_text("not Python\n")
    proc = gate(repo, "--compare-branch", "main", "--json-out", "c.json")
    assert proc.returncode == 0, proc.stderr
    figures = check_result(repo)["figures"]
    report = json.loads((repo / "c.json").read_text())["files"]
    assert figures["changed_files"] == [
        {
            "file": "lib.py",
            "statements": report["lib.py"]["summary"]["num_statements"],
            "missing": report["lib.py"]["summary"]["missing_lines"],
            "changed_statements": 5,
            "changed_missing": 2,
            "measured": True,
        },
        {
            "file": "other.py",
            "statements": report["other.py"]["summary"]["num_statements"],
            "missing": report["other.py"]["summary"]["missing_lines"],
            "changed_statements": 1,
            "changed_missing": 0,
            "measured": True,
        },
    ]
    assert [(c["statements"], c["missing"]) for c in figures["changed_files"]] == [(18, 7), (6, 3)]
    assert figures["changed_files_counted"] == 2
    # Without a diff there is no changed file to show: null, never an empty "nothing changed".
    gate(repo)
    assert check_result(repo)["figures"]["changed_files"] is None
