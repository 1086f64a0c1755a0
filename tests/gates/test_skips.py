"""The skip budget: real pytest runs write JUnit, `ci-helper skips` groups and counts the skips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ci_helper import junit, results, run_start, settings
from ci_helper.errors import BadInput
from ci_helper.gates import skips
from ci_helper.settings import SkipsSettings

CLI = [sys.executable, "-m", "ci_helper"]

# A CPU lane: torch is not installed, so importorskip skips; two marked skips and a slow one.
CPU_LANE = """
    import pytest

    def test_tokenizer():
        assert "a b".split() == ["a", "b"]

    def test_txt2img():
        pytest.importorskip("torch_not_installed_here")

    @pytest.mark.parametrize("size", [256, 512])
    def test_img2img(size):
        pytest.importorskip("torch_not_installed_here")

    @pytest.mark.skip(reason="torch not installed")
    def test_upscale():
        pass

    @pytest.mark.skipif(True, reason="needs CUDA")
    def test_half_precision():
        pass
"""

GPU_SKIP = """
    import pytest


    @pytest.mark.skip(reason="torch not installed")
    def test_txt2img_on_the_gpu():
        pass
"""

MODULE_SKIP = """
    import pytest

    torch = pytest.importorskip("torch_not_installed_here")

    def test_whole_module():
        assert torch
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    for name in ("RUNNER_TEMP", "GITHUB_ACTIONS", "CI_HELPER_SKIPS_JUNIT", "CI_HELPER_RESULTS_DIR"):
        if name not in (env or {}):
            full_env.pop(name, None)
    return subprocess.run(args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120, check=False)


def _project(tmp_path: Path, pyproject: str, **tests: str) -> Path:
    for name, text in (tests or {"test_lane": CPU_LANE}).items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(pyproject), encoding="utf-8")
    return tmp_path


def _tier(project: Path, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], dict]:
    tests = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=junit.xml"], project, env)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    gate = _run([*CLI, "skips", "--junit", "junit.xml", "--results-dir", "results"], project, env)
    return gate, json.loads((project / "results" / "skips.json").read_text(encoding="utf-8"))


def test_importorskip_of_a_missing_module_over_its_budget_is_red_naming_reason_and_count(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        """
        [tool.ci-helper.skips]
        "torch" = 0
        total = 10
    """,
    )
    gate, result = _tier(project)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    assert result["status"] == "fail"
    assert result["figures"] == {
        "junit_files": ["junit.xml"],
        "tests": 6,
        "skipped": 5,
        "xfailed": 0,
        "total_budget": 10,
        "reasons": [
            {"reason": "could not import 'torch_not_installed_here'", "count": 3},
            {"reason": "needs CUDA", "count": 1},
            {"reason": "torch not installed", "count": 1},
        ],
        "reasons_left_out": 0,
        "budgets": [{"pattern": "torch", "budget": 0, "count": 4, "over": True}],
        "over_budget": 1,
        "total_over": False,
    }
    [finding] = result["findings"]
    assert finding["rule"] == "skips-over-budget"
    assert finding["message"] == (
        "4 tests skipped for \"torch\" (budget 0): could not import 'torch_not_installed_here' (3), "
        "torch not installed (1)"
    )
    assert (finding["file"], finding["line"]) == ("test_lane.py", 8)
    assert finding["data"]["tests"] == [
        "test_lane.py::test_txt2img",
        "test_lane.py::test_img2img[256]",
        "test_lane.py::test_img2img[512]",
        "test_lane.py::test_upscale",
    ]
    assert "skips: fail - 5 of 6 tests skipped (total budget 10); budgets: 'torch' 4/0" in gate.stdout


def test_within_budget_is_green_and_still_shows_every_reason(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        """
        [tool.ci-helper.skips]
        "could not import *" = 3
        "torch not installed" = 1
        total = 5
    """,
    )
    gate, result = _tier(project)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert result["status"] == "pass"
    assert result["findings"] == []
    assert result["figures"]["budgets"] == [
        {"pattern": "could not import *", "budget": 3, "count": 3, "over": False},
        {"pattern": "torch not installed", "budget": 1, "count": 1, "over": False},
    ]
    assert (result["figures"]["skipped"], result["figures"]["over_budget"], result["figures"]["total_over"]) == (
        5,
        0,
        False,
    )


def test_total_over_budget_is_red_with_the_reasons_most_first(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        """
        [tool.ci-helper.skips]
        total = 4
    """,
    )
    gate, result = _tier(project)
    assert gate.returncode == 1
    [finding] = result["findings"]
    assert finding["rule"] == "skips-total"
    assert finding["message"] == (
        "5 tests skipped in all (total budget 4): could not import 'torch_not_installed_here' (3), "
        "needs CUDA (1), torch not installed (1)"
    )


def test_a_module_skipped_at_collection_counts_under_its_import_reason(tmp_path: Path) -> None:
    # pytest records it as <skipped message="collection skipped">('path', line, "Skipped: could not import ...")
    project = _project(
        tmp_path,
        """
        [tool.ci-helper.skips]
        "could not import 'torch*'" = 0
    """,
        test_model=MODULE_SKIP,
        test_other="def test_ok():\n    pass\n",
    )
    gate, result = _tier(project)
    assert gate.returncode == 1
    assert result["figures"]["reasons"] == [{"reason": "could not import 'torch_not_installed_here'", "count": 1}]
    [finding] = result["findings"]
    assert (
        finding["message"]
        == "1 test skipped for \"could not import 'torch*'\" (budget 0): could not import 'torch_not_installed_here' (1)"
    )
    assert (finding["file"], finding["line"]) == ("test_model.py", 4)


def test_no_budget_set_passes_and_reports_the_skips(tmp_path: Path) -> None:
    gate, result = _tier(_project(tmp_path, ""))
    assert gate.returncode == 0
    assert (result["status"], result["figures"]["skipped"], result["figures"]["budgets"]) == ("pass", 5, [])


def test_junit_files_default_to_the_summary_setting(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        """
        [tool.ci-helper.summary]
        junit = ["junit.xml"]
        [tool.ci-helper.skips]
        torch = 0
    """,
    )
    assert (
        _run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=junit.xml"], project
        ).returncode
        == 0
    )
    gate = _run([*CLI, "skips", "--results-dir", "results"], project)
    assert gate.returncode == 1
    assert json.loads((project / "results" / "skips.json").read_text())["figures"]["budgets"][0]["count"] == 4


# --- reasons ---------------------------------------------------------------------------------


def _skip(message: str, details: str = "", kind: str = "pytest.skip") -> junit.Skip:
    return junit.Skip(id="t::x", kind=kind, message=message, details=details)


@pytest.mark.parametrize(
    ("skip", "reason"),
    [
        (_skip("Skipped: torch not installed"), "torch not installed"),
        (_skip("could not import 'torch': No module named 'torch'"), "could not import 'torch'"),
        (_skip('could not import "k_diffusion": cannot import name x'), 'could not import "k_diffusion"'),
        (
            _skip(
                "collection skipped",
                "('/w/tests/test_m.py', 3, \"Skipped: could not import 'torch': No module named 'torch'\")",
            ),
            "could not import 'torch'",
        ),
        (_skip("", "/w/tests/test_m.py:9: needs\n  CUDA"), "needs CUDA"),
        (_skip(""), skips.NO_REASON),
        (_skip("x" * 500), "x" * 199 + "…"),
        (_skip("[NOTRUN] crashes the interpreter", kind="pytest.xfail"), "xfail, not run: crashes the interpreter"),
    ],
)
def test_reasons_are_normalised_so_one_cause_is_one_reason(skip: junit.Skip, reason: str) -> None:
    found = skips.reason_of(skip)
    assert found is not None
    assert found[0] == reason


def test_an_xfail_that_ran_is_not_a_skip() -> None:
    assert skips.reason_of(_skip("known bug", kind="pytest.xfail")) is None


@pytest.mark.parametrize(
    ("pattern", "reason", "hit"),
    [
        ("torch", "could not import 'torch'", True),
        ("TORCH not installed", "torch not installed", True),
        ("could not import '*'", "could not import 'k_diffusion'", True),
        ("could not import '*'", "needs CUDA", False),
        ("needs ?UDA", "needs CUDA", True),
        ("python 3.[01]*", "requires python 3.1x", True),
        ("python 3.[!01]", "requires python 3.1x", False),
        ("a.b", "axb", False),  # regular-expression characters are literal
        ("[[]slow]", "marked [slow] by conftest", True),
    ],
)
def test_patterns_are_case_insensitive_globs_matched_anywhere(pattern: str, reason: str, hit: bool) -> None:
    assert (skips.compile_pattern(pattern).search(reason) is not None) is hit


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('"torch" = -1', '[tool.ci-helper.skips] "torch": a budget is a whole number of tests, 0 or more; got -1'),
        ('"torch" = 1.5', '[tool.ci-helper] skips."torch": expected an integer, got float 1.5'),
        ('"torch" = "0"', "[tool.ci-helper] skips.\"torch\": expected an integer, got str '0'"),
        ('"torch" = true', '[tool.ci-helper] skips."torch": expected an integer, got boolean true'),
        ("total = -3", "[tool.ci-helper.skips] total: a budget is a whole number of tests, 0 or more; got -3"),
        ("total = 2.5", "[tool.ci-helper] skips.total: expected an integer, got float 2.5"),
        (
            '"needs [CUDA" = 0',
            (
                "[tool.ci-helper.skips] \"needs [CUDA\": bad pattern: '[' at position 7 is never closed; "
                "write [[] for a literal '['"
            ),
        ),
        (
            '"[z-a]" = 0',
            (
                '[tool.ci-helper.skips] "[z-a]": bad pattern (bad character range z-a at position 1); '
                "patterns are globs: * any text, ? one character, [abc] one of them"
            ),
        ),
        (
            '" " = 0',
            (
                '[tool.ci-helper.skips] " ": an empty pattern matches every reason; '
                "write the reason (or part of it), or use `total` for a cap on all skips"
            ),
        ),
    ],
)
def test_a_malformed_budget_is_bad_input_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.ci-helper.skips]\n{table}\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        skips.validate(settings.load(tmp_path).skips)
    assert caught.value.message == message


def test_a_malformed_budget_is_exit_2_in_one_line_and_writes_no_result(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ci-helper.skips]\n"torch" = -1\n', encoding="utf-8")
    (tmp_path / "junit.xml").write_text('<testsuite><testcase classname="t" name="a"/></testsuite>', encoding="utf-8")
    proc = _run([*CLI, "skips", "--junit", "junit.xml", "--results-dir", "results"], tmp_path)
    assert (proc.returncode, proc.stderr) == (
        2,
        'Error: [tool.ci-helper.skips] "torch": a budget is a whole number of tests, 0 or more; got -1\n',
    )
    assert not (tmp_path / "results" / "skips.json").exists()


def test_a_malformed_junit_file_is_exit_2_and_leaves_a_red_result(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuite><testcase", encoding="utf-8")
    proc = _run([*CLI, "skips", "--junit", "junit.xml", "--results-dir", "results"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: junit.xml:1:")
    assert "Traceback" not in proc.stderr
    result = results.read_result(tmp_path / "results" / "skips.json")
    assert (result.status, [f.rule for f in result.findings]) == ("fail", ["skips-input"])


def test_no_junit_file_is_not_run_never_green(tmp_path: Path) -> None:
    proc = _run([*CLI, "skips", "--junit", "junit.xml", "--results-dir", "results"], tmp_path)
    assert proc.returncode == 1
    result = results.read_result(tmp_path / "results" / "skips.json")
    assert (result.status, result.reason) == ("not-run", "no JUnit file at junit.xml: the tests did not run")


def test_no_junit_file_given_is_bad_usage(tmp_path: Path) -> None:
    proc = _run([*CLI, "skips", "--results-dir", "results"], tmp_path)
    assert (proc.returncode, proc.stderr) == (
        2,
        "Error: no JUnit file given: pass --junit FILE (the file pytest wrote with --junitxml)\n",
    )


def test_a_junit_file_without_test_cases_is_not_run(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuites><testsuite/></testsuites>", encoding="utf-8")
    result = skips.evaluate([tmp_path / "junit.xml"], SkipsSettings(total=0))
    assert (result.status, result.reason) == (
        "not-run",
        f"{tmp_path / 'junit.xml'}: no test case recorded, nothing to hold to a budget",
    )


def test_a_junit_file_written_before_the_run_started_is_stale_and_red(tmp_path: Path) -> None:
    project = _project(tmp_path, "[tool.ci-helper.skips]\ntotal = 100\n")
    env = {"RUNNER_TEMP": str(tmp_path / "runner-temp")}
    assert (
        _run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=junit.xml"], project
        ).returncode
        == 0
    )
    then = time.time() - 3600
    os.utime(project / "junit.xml", (then, then))
    run_start.mark(runner_temp=env["RUNNER_TEMP"])
    proc = _run([*CLI, "skips", "--junit", "junit.xml", "--results-dir", "results"], project, env)
    assert proc.returncode == 1
    result = results.read_result(project / "results" / "skips.json")
    assert (result.status, result.reason) == ("fail", "stale: written before this run started")
    assert [(f.rule, f.message) for f in result.findings] == [
        ("skips-stale", "stale: junit.xml was written before this run started")
    ]


def test_skips_settings_keep_every_pattern_as_written(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent("""
        [tool.ci-helper.skips]
        total = 3
        "torch not installed" = 0
        needs-cuda = 2
        budgets = 1
    """),
        encoding="utf-8",
    )
    loaded = settings.load(tmp_path).skips
    assert loaded == SkipsSettings(total=3, budgets={"torch not installed": 0, "needs-cuda": 2, "budgets": 1})
    assert settings.load(tmp_path / "nowhere").skips == SkipsSettings()


def test_other_sections_still_refuse_unknown_keys(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ci-helper.network]\npolicie = 'block'\n", encoding="utf-8")
    with pytest.raises(BadInput, match="unknown key 'network.policie'"):
        settings.load(tmp_path)


def test_an_xunit1_report_points_at_the_same_line_as_pytest(tmp_path: Path) -> None:
    # The smoke tier writes xunit1 (file and 0-based line attributes); the finding is 1-based, as pytest -rs says.
    project = _project(tmp_path, '[tool.ci-helper.skips]\n"torch" = 0\n', test_gpu=GPU_SKIP)
    run = _run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--junitxml=junit.xml"]
        + ["-o", "junit_family=xunit1"],
        project,
    )
    assert "SKIPPED [1] test_gpu.py:5: torch not installed" in run.stdout
    gate = _run([*CLI, "skips", "--junit", "junit.xml", "--results-dir", "results"], project)
    assert gate.returncode == 1
    [finding] = json.loads((project / "results" / "skips.json").read_text(encoding="utf-8"))["findings"]
    assert (finding["file"], finding["line"]) == ("test_gpu.py", 5)


def test_a_later_call_of_the_same_run_judges_the_earlier_tiers_files_too(tmp_path: Path) -> None:
    # The smoke and quality tiers of one job share one results folder: the second call must not hide the first's skips.
    project = _project(tmp_path, '[tool.ci-helper.skips]\n"torch" = 0\n', test_gpu=GPU_SKIP)
    smoke = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=smoke.xml"], project)
    assert smoke.returncode == 0, smoke.stdout
    (project / "test_gpu.py").unlink()
    (project / "test_ok.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    quality = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=quality.xml"], project)
    assert quality.returncode == 0, quality.stdout
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    env = {"RUNNER_TEMP": str(runner_temp)}
    run_start.mark(fresh=True, at=time.time() - 60, runner_temp=runner_temp)
    first = _run([*CLI, "skips", "--junit", "smoke.xml", "--results-dir", "results"], project, env)
    assert first.returncode == 1
    second = _run([*CLI, "skips", "--junit", "quality.xml", "--results-dir", "results"], project, env)
    assert second.returncode == 1, second.stdout
    assert "skips: also judging the JUnit files an earlier tier of this run wrote: smoke.xml" in second.stdout
    result = json.loads((project / "results" / "skips.json").read_text(encoding="utf-8"))
    f = result["figures"]
    assert (result["status"], f["junit_files"], f["tests"], f["skipped"]) == (
        "fail",
        ["smoke.xml", "quality.xml"],
        2,
        1,
    )
    # Without a run start marker (a bare local call) each call judges only its own files.
    alone = _run([*CLI, "skips", "--junit", "quality.xml", "--results-dir", "results"], project)
    assert alone.returncode == 0, alone.stdout
