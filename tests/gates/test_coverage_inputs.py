"""The coverage gate reads only this run's data about this project (issue 13, items 1-3).

Real coverage data from real `coverage run` processes, real git repositories, the
real CLI: stale and committed data files, foreign and installed measured files,
generated stubs, changed files no data mentions, and git configuration that
would change what `git diff` prints.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from ci_helper import run_start
from ci_helper.gates.coverage import diff as diff_mod
from tests.gates.test_coverage_gate import (
    LIB,
    Outcome,
    check_result,
    coverage,
    git,
    project,
    write,
)


@pytest.fixture
def gate(cli, monkeypatch):
    """Run `ci-helper coverage gate` in-process in a folder (as in test_coverage_gate)."""

    def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> Outcome:
        monkeypatch.chdir(cwd)
        result = cli("coverage", "gate", "--results-dir", "results", *args, env=env)
        return Outcome(result.exit_code, result.stdout, result.stderr)

    return run


def marker_env(tmp_path: Path, started: float | None = None) -> dict[str, str]:
    """A RUNNER_TEMP whose run-start marker says the run began at ``started`` (now by default)."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    os.environ["RUNNER_TEMP"] = str(runner_temp)
    try:
        run_start.mark(fresh=True, at=started)
    finally:
        del os.environ["RUNNER_TEMP"]
    return {"RUNNER_TEMP": str(runner_temp)}


def age(path: Path, seconds: float) -> None:
    """Make ``path`` look written ``seconds`` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


# --- stale data: written before the run started -----------------------------------------


def test_data_written_before_the_run_started_is_refused(tmp_path, gate):
    root = project(tmp_path / "p", branch=False)
    coverage(root, "run", "--parallel-mode", "run_tests.py")
    (old,) = root.glob(".coverage.*")
    age(old, 3600)  # an earlier run's leftover: its tests have been deleted since
    env = marker_env(tmp_path)
    started = run_start.iso(json.loads((tmp_path / "runner-temp/ci-helper/run-start.json").read_text())["started_at"])

    proc = gate(root, "--fail-under", "50", env=env)

    assert proc.returncode == 2
    written = run_start.iso(old.stat().st_mtime)
    message = (
        f"{old.name}: coverage data written before this run started (written {written}, run started "
        f"{started}): a leftover of an earlier run; erase it before the tests run (`ci-helper coverage "
        "erase`) or delete it"
    )
    assert proc.stderr == f"Error: {message}\n"
    result = check_result(root)
    assert (result["status"], result["reason"]) == ("fail", message)
    assert [(f["rule"], f["file"]) for f in result["findings"]] == [("coverage-stale-data", old.name)]

    # Data this run wrote passes, and the result records every file it combined and the run's start.
    coverage(root, "run", "--parallel-mode", "run_tests.py")
    old.unlink()
    (fresh,) = root.glob(".coverage.*")
    assert gate(root, "--fail-under", "50", env=env).returncode == 0
    figures = check_result(root)["figures"]
    stat = fresh.stat()
    assert figures["data_files"] == [{"path": fresh.name, "size": stat.st_size, "mtime": stat.st_mtime}]
    assert (
        figures["run_started_at"]
        == json.loads((tmp_path / "runner-temp/ci-helper/run-start.json").read_text())["started_at"]
    )


def test_data_tracked_by_git_is_refused(tmp_path, gate):
    root = project(tmp_path / "p", branch=False)
    coverage(root, "run", "run_tests.py")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-f", ".coverage", "lib.py")
    git(root, "commit", "-qm", "data committed by mistake")

    proc = gate(root)

    assert proc.returncode == 2
    assert proc.stderr == (
        "Error: .coverage: coverage data tracked by git: committed data measured an old commit, "
        "not this run; remove it (`git rm --cached .coverage`) and add .coverage* to .gitignore\n"
    )
    assert [(f["rule"], f["file"]) for f in check_result(root)["findings"]] == [("coverage-tracked-data", ".coverage")]


def test_erase_removes_only_data_written_before_the_run(tmp_path, cli, monkeypatch):
    root = project(tmp_path / "p", branch=False)
    coverage(root, "run", "--parallel-mode", "run_tests.py")
    coverage(root, "run", "run_tests.py")
    stale = sorted(root.glob(".coverage*"))
    stale = [p for p in stale if p.name != ".coveragerc"]
    assert len(stale) == 2
    for path in stale:
        age(path, 600)
    env = marker_env(tmp_path)
    coverage(root, "run", "--parallel-mode", "run_tests.py")  # this run's server data, say
    (kept,) = set(root.glob(".coverage.*")) - set(stale)
    monkeypatch.chdir(root)

    result = cli("coverage", "erase", env=env)

    assert result.exit_code == 0, result.output
    assert result.output.startswith("coverage erase: 2 data file(s) written before this run started (")
    assert result.output.endswith(f" removed: {stale[0].name}, {stale[1].name}\n")
    assert sorted(p.name for p in root.glob(".coverage*")) == sorted([".coveragerc", kept.name])

    # Without a marker (a bare local call) every data file goes.
    result = cli("coverage", "erase")
    assert result.output == f"coverage erase: 1 data file(s) removed: {kept.name}\n"
    assert sorted(p.name for p in root.glob(".coverage*")) == [".coveragerc"]


# --- foreign data: files that are not this project's -------------------------------------


def test_an_installed_copy_in_site_packages_is_refused(tmp_path, gate):
    # The tests imported the installed package, not the checkout: the data measures the copy.
    root = write(
        tmp_path / "p",
        {"pkg/__init__.py": "", "pkg/lib.py": LIB, "pyproject.toml": '[tool.coverage.run]\nsource_pkgs = ["pkg"]\n'},
    )
    site = root / ".venv" / "lib" / "python3.11" / "site-packages"
    shutil.copytree(root / "pkg", site / "pkg")
    write(root, {"t.py": "import sys\nsys.path.insert(0, sys.argv[1])\nimport pkg.lib\npkg.lib.classify(1)\n"})
    proc = coverage(root, "run", "t.py", str(site), check=False)
    assert proc.returncode == 0, proc.stderr

    proc = gate(root)

    assert proc.returncode == 2
    measured = site / "pkg" / "__init__.py"
    assert proc.stderr == (
        f"Error: {measured}: coverage data measured a file that is not this project's: an installed copy "
        "(site-packages), not this checkout's source; map it to this checkout with [tool.coverage.paths] "
        f'source = ["pkg/", "{site}/pkg/"]\n'
    )
    result = check_result(root)
    assert [(f["rule"], f["file"]) for f in result["findings"]] == [("coverage-foreign-data", str(measured))]


def test_data_of_another_project_is_refused(tmp_path, gate):
    elsewhere = project(tmp_path / "elsewhere", branch=False)
    coverage(elsewhere, "run", "run_tests.py")
    here = write(tmp_path / "here", {"app.py": "x = 1\n"})
    shutil.copy(elsewhere / ".coverage", here / ".coverage")

    proc = gate(here)

    assert proc.returncode == 2
    assert proc.stderr == (
        f"Error: {elsewhere / 'lib.py'}: coverage data measured a file that is not this project's: measured "
        f"outside this project ({here}); no file of this checkout matches it: measure this project's code "
        "([run] source) or leave it out with [report] omit\n"
    )


def test_generated_stubs_are_never_counted(tmp_path, gate):
    root = write(
        tmp_path / "p",
        {
            "app.py": "import ldm.util\n\n\ndef run():\n    return ldm.util.default()\n\n\ndef unused():\n    return 0\n",
            "repositories/sd/ldm/__init__.py": "",
            "repositories/sd/ldm/util.py": "def default():\n    return None\n",
            "t.py": "import sys\nsys.path.insert(0, 'repositories/sd')\nimport app\napp.run()\n",
            "pyproject.toml": '[tool.coverage.run]\nomit = ["t.py"]\n\n[tool.ci-helper.stubs]\nroot = "repositories"\n',
        },
    )
    coverage(root, "run", "t.py")

    proc = gate(root, "--json-out", "c.json")

    assert proc.returncode == 0, proc.stderr
    report = json.loads((root / "c.json").read_text())
    assert sorted(report["files"]) == ["app.py"]
    figures = check_result(root)["figures"]
    assert (figures["files"], figures["statements"], figures["missing"], figures["stub_files_left_out"]) == (1, 5, 1, 2)
    assert figures["total"] == 80.0

    # Data that measured nothing but stubs never passes.
    root_only_stubs = write(
        tmp_path / "q",
        {
            "repositories/sd/ldm/__init__.py": "",
            "repositories/sd/ldm/util.py": "def default():\n    return None\n",
            "t.py": "import sys\nsys.path.insert(0, 'repositories/sd')\nimport ldm.util\n",
            "pyproject.toml": '[tool.coverage.run]\nomit = ["t.py"]\n\n[tool.ci-helper.stubs]\nroot = "repositories"\n',
        },
    )
    coverage(root_only_stubs, "run", "t.py")
    proc = gate(root_only_stubs)
    assert proc.returncode == 2
    assert proc.stderr == (
        "Error: .coverage: every measured file is a generated stub; no measured file of this "
        "project, and nothing measured is never a pass\n"
    )


# --- changed files that no data mentions ---------------------------------------------------


@pytest.fixture
def package_repo(tmp_path):
    """A repository whose tests import pkg.lib only; the feature branch adds pkg/new.py, never imported."""
    root = write(
        tmp_path / "repo",
        {
            "pkg/__init__.py": "",
            "pkg/lib.py": LIB,
            "tests_run.py": "import pkg.lib\npkg.lib.classify(1)\n",
            "notes/tool.py": "print('not measured source')\n",
            ".gitignore": ".coverage*\nresults/\n*.json\n",
        },
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write(root, {"pkg/new.py": "def added(x):\n    if x:\n        return 1\n    return 2\n"})
    git(root, "add", ".")
    git(root, "commit", "-qm", "feature")
    return root


@pytest.mark.parametrize(
    "config",
    [
        '[tool.coverage.run]\nsource = ["pkg"]\nomit = ["tests_run.py"]\n',  # source set: coverage reports it at 0 %
        '[tool.coverage.run]\nomit = ["tests_run.py"]\n',  # unset: the measured packages are the source
    ],
)
def test_a_changed_file_no_data_mentions_is_uncovered_changed_code(package_repo, gate, config):
    (package_repo / "pyproject.toml").write_text(config)
    coverage(package_repo, "run", "tests_run.py")

    proc = gate(package_repo, "--compare-branch", "main", "--diff-fail-under", "50")

    assert proc.returncode == 1, proc.stdout + proc.stderr
    figures = check_result(package_repo)["figures"]
    assert (figures["diff"], figures["diff_statements"], figures["diff_missing"]) == (0.0, 4, 4)
    assert "coverage: changed lines vs main: 0% of 4 changed statements (floor 50%): FAIL\n" in proc.stdout
    changed = [
        (f["file"], f["line"], f["data"]["end_line"])
        for f in check_result(package_repo)["findings"]
        if f["rule"] == "coverage-changed-lines"
    ]
    assert changed == [("pkg/new.py", 1, 4)]
    # Every statement of it is uncovered, in its own figures too; with `source` set coverage itself
    # reports the file (at 0 %), without it only the gate's look at the measured source finds it.
    assert figures["changed_files"] == [
        {
            "file": "pkg/new.py",
            "statements": 4,
            "missing": 4,
            "changed_statements": 4,
            "changed_missing": 4,
            "measured": "source" in config,
        }
    ]


def test_an_omitted_changed_file_is_not_counted_and_not_called_unchanged(package_repo, gate):
    (package_repo / "pyproject.toml").write_text('[tool.coverage.run]\nomit = ["tests_run.py", "pkg/new.py"]\n')
    coverage(package_repo, "run", "tests_run.py")

    proc = gate(package_repo, "--compare-branch", "main", "--diff-fail-under", "50")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "coverage: changed lines vs main: no changed executable lines counted (1 changed Python file omitted "
        "by the coverage configuration or outside the measured source) (floor 50%): pass\n"
    ) in proc.stdout
    assert "no changed executable lines (" not in proc.stdout
    figures = check_result(package_repo)["figures"]
    assert (figures["diff_statements"], figures["diff_files_left_out"]) == (0, 1)


# --- git reads the same on every machine ---------------------------------------------------

# Each key a user's, the system's or the repository's config may set that changes `git diff` output.
DIFF_CONFIG = [
    [("diff.suppressBlankEmpty", "true")],
    [("diff.interHunkContext", "10")],
    # Together: the unchanged blank line git keeps between merged hunks is printed as "", not " ".
    [("diff.interHunkContext", "10"), ("diff.suppressBlankEmpty", "true")],
    [("diff.noprefix", "true")],
    [("diff.mnemonicPrefix", "true")],
    [("diff.relative", "true")],
    [("diff.external", "sh -c 'echo +++ b/fake.py; echo @@ -0,0 +1,500 @@'")],
    [("color.ui", "always")],
    [("color.diff", "always")],
    [("diff.renames", "copies")],
    [("diff.renames", "false")],
    [("diff.algorithm", "patience")],
    [("diff.context", "7")],
]


def _config_id(pairs: list[tuple[str, str]]) -> str:
    return "+".join(f"{key}={value.split()[0]}" for key, value in pairs)


@pytest.fixture
def config_repo(tmp_path):
    """main: sub/a.py (30 lines, blank lines among them); feature: copy to sub/b.py, rename, edits."""
    top = tmp_path / "repo"
    lines = [f"x{i} = {i}\n" if i % 5 else "\n" for i in range(1, 31)]
    write(top, {"sub/a.py": "".join(lines), "sub/moved.py": "".join(f"m{i} = {i}\n" for i in range(20))})
    git(top, "init", "-q", "-b", "main")
    git(top, "add", ".")
    git(top, "commit", "-qm", "base")
    git(top, "checkout", "-qb", "feature")
    edited = list(lines)
    edited[2] = "x3 = 300\n"
    edited[11] = "x12 = 1200\n"
    (top / "sub" / "a.py").write_text("".join(edited))
    shutil.copy(top / "sub" / "a.py", top / "sub" / "b.py")  # a copy is new code, line by line
    git(top, "mv", "sub/moved.py", "sub/renamed.py")
    renamed = (top / "sub" / "renamed.py").read_text().replace("m7 = 7", "m7 = 70")
    (top / "sub" / "renamed.py").write_text(renamed)
    git(top, "add", ".")
    git(top, "commit", "-qm", "feature")
    return top


EXPECTED = {"sub/a.py": {3, 12}, "sub/b.py": set(range(1, 31)), "sub/renamed.py": {8}}


@pytest.mark.parametrize("pairs", DIFF_CONFIG, ids=[_config_id(p) for p in DIFF_CONFIG])
@pytest.mark.parametrize("where", ["repository", "global"])
def test_git_config_never_changes_the_changed_lines(config_repo, tmp_path, monkeypatch, pairs, where):
    if where == "repository":
        for key, value in pairs:
            git(config_repo, "config", key, value)
    else:
        home = tmp_path / "home"
        home.mkdir()
        (home / ".gitconfig").write_text(
            "".join(f"[{key.split('.')[0]}]\n\t{key.split('.')[1]} = {value}\n" for key, value in pairs)
        )
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
        monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)

    changes = diff_mod.changed_lines("main", config_repo / "sub")

    assert changes.files == EXPECTED


def test_git_config_from_the_environment_never_changes_the_changed_lines(config_repo, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "diff.noprefix")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "true")
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "false")
    assert diff_mod.changed_lines("main", config_repo).files == EXPECTED


# --- what the user reads ------------------------------------------------------------------


def test_uncovered_ranges_name_only_changed_lines(tmp_path, gate):
    # Ten statements; the change touches 2, 3 and 9; none of the function body runs. The
    # unchanged uncovered statements 4-8 lie between: "2-3, 9", never "2-9".
    body = "".join(f"    v{i} = {i}\n" for i in range(2, 11))
    root = write(
        tmp_path / "repo",
        {
            "m.py": "def f():\n" + body,
            "t.py": "import m\n",
            ".coveragerc": "[run]\nomit = t.py\n",
            ".gitignore": ".coverage*\nresults/\n",
        },
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    text = (root / "m.py").read_text()
    for i in (2, 3, 9):
        text = text.replace(f"v{i} = {i}\n", f"v{i} = {i * 10}\n")
    (root / "m.py").write_text(text)
    coverage(root, "run", "t.py")

    proc = gate(root, "--compare-branch", "HEAD", "--markdown-out", "c.md")

    assert proc.returncode == 0, proc.stderr
    findings = [(f["message"], f["line"], f["data"]["end_line"]) for f in check_result(root)["findings"]]
    assert findings == [
        ("changed lines 2-3 not covered by the tests", 2, 3),
        ("changed line 9 not covered by the tests", 9, 9),
    ]
    assert "| m.py | 2-3, 9 |\n" in (root / "c.md").read_text()


def test_a_floor_message_shows_the_digits_of_the_comparison(tmp_path, gate):
    # 767 of 1000 statements run: 76.7 %, which precision 0 shows as 77 %.
    module = (
        "".join(f"a{i} = {i}\n" for i in range(766)) + "def f():\n" + "".join(f"    b{i} = {i}\n" for i in range(233))
    )
    root = write(tmp_path / "p", {"m.py": module, "t.py": "import m\n", ".coveragerc": "[run]\nomit = t.py\n"})
    coverage(root, "run", "t.py")
    assert coverage(root, "report", "--format=total").stdout.strip() == "77"

    proc = gate(root, "--fail-under", "76.9", "--per-file-fail-under", "76.75", "--markdown-out", "c.md")

    assert proc.returncode == 1
    assert [f["message"] for f in check_result(root)["findings"]] == [
        "total coverage 76.7% is under the floor 76.9%",
        "m.py: 76.70% covered, under the per-file floor 76.75%",
    ]
    assert check_result(root)["figures"]["total"] == 76.7
    assert "coverage: total 76.7% (floor 76.9%): FAIL\n" in proc.stdout
    assert "| Total | 76.7% | 76.9% | **fail** |\n" in (root / "c.md").read_text()
