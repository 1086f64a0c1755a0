"""`ci-helper summary` end to end: outputs, files, exit codes, settings."""

import subprocess
import sys

import pytest

from ci_helper.summary import model, render
from tests.conftest import run_ci_helper

from .conftest import write_junit


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def args(folder):
    return [
        "--results",
        str(folder / "results"),
        "--junit",
        str(folder / "junit" / "smoke.xml"),
        "--junit",
        str(folder / "junit" / "quality.xml"),
    ]


def test_green_exits_0_and_prints_the_terminal_rendering(cli, good):
    result = cli("summary", *args(good))
    assert result.exit_code == 0
    assert result.output.split("\n")[:2] == [
        "ci-helper run summary: GREEN",
        "Every required check passed (8 required, 30 tests).",
    ]


def test_red_exits_1(cli, bad):
    result = cli("summary", *args(bad))
    assert result.exit_code == 1
    assert result.output.split("\n")[0] == "ci-helper run summary: RED"


def test_out_writes_the_markdown_and_comment_out_the_body(cli, bad, tmp_path):
    result = cli(
        "summary",
        *args(bad),
        "--out",
        "out/summary.md",
        "--comment-out",
        "out/comment.md",
        "--comment-id",
        "api",
        "--title",
        "Quality tier",
    )
    assert result.exit_code == 1
    run = model.load(bad / "results", args(bad)[3::2], "Quality tier")
    assert (tmp_path / "out/summary.md").read_text(encoding="utf-8") == render.render_markdown(run).text
    body = (tmp_path / "out/comment.md").read_text(encoding="utf-8")
    assert body == render.render_comment(run, "api").text
    assert body.split("\n")[:2] == ["<!-- ci-helper:summary:api -->", "## ❌ Red: Quality tier"]


def test_out_defaults_to_the_step_summary_and_appends(cli, good, tmp_path):
    step_summary = tmp_path / "step_summary.md"
    step_summary.write_text("earlier step output\n", encoding="utf-8")
    outputs = tmp_path / "outputs"
    result = cli("summary", *args(good), env={"GITHUB_STEP_SUMMARY": str(step_summary), "GITHUB_OUTPUT": str(outputs)})
    assert result.exit_code == 0
    text = step_summary.read_text(encoding="utf-8")
    assert text.split("\n")[:2] == ["earlier step output", "## ✅ Green: ci-helper run summary"]
    assert outputs.read_text() == "verdict=green\n"


def test_format_markdown_prints_markdown(cli, good):
    result = cli("summary", *args(good), "--format", "markdown")
    assert result.output.split("\n")[0] == "## ✅ Green: ci-helper run summary"


def test_settings_supply_title_and_junit(cli, good, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.ci-helper]\nresults-dir = "{(good / "results").as_posix()}"\n'
        f'[tool.ci-helper.summary]\ntitle = "From settings"\njunit = ["{(good / "junit" / "smoke.xml").as_posix()}"]\n'
    )
    result = cli("summary")
    assert result.exit_code == 0
    assert result.output.split("\n")[0] == "From settings: GREEN"


def test_zero_tests_exit_1(cli, tmp_path):
    junit_file = write_junit(tmp_path / "junit-smoke.xml", [])
    result = cli("summary", "--results", str(tmp_path / "none"), "--junit", str(junit_file))
    assert result.exit_code == 1
    assert result.output.split("\n")[:5] == [
        "ci-helper run summary: RED",
        "Not green because:",
        "  - tests: smoke: no tests ran",
        f"  - no gate ran: results folder {tmp_path / 'none'} not found",
        f"Note: results folder {tmp_path / 'none'} not found: no gate wrote a result",
    ]


def test_malformed_junit_exits_2_naming_the_file(tmp_path):
    (tmp_path / "junit.xml").write_text("<testsuite><testcase name='a'>")
    proc = run_ci_helper("summary", "--results", str(tmp_path), "--junit", str(tmp_path / "junit.xml"), cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"Error: {tmp_path / 'junit.xml'}:1:30: malformed JUnit XML (no element found: line 1, column 30)\n"
    )


def test_corrupt_result_exits_2(cli, tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "audit.json").write_text('{"check": "audit", "status": "maybe"}')
    result = cli("summary", "--results", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert (
        result.output
        == f"Error: {tmp_path / 'r' / 'audit.json'}: field 'status' must be one of pass, fail, not-run, got 'maybe'\n"
    )


def test_comment_id_cannot_break_out_of_the_marker(cli, good):
    result = cli("summary", *args(good), "--comment-id", "x --> @octocat")
    assert result.exit_code == 2
    assert (
        result.output
        == "Error: --comment-id 'x --> @octocat': use letters, digits, '.', '_', '-' or '/' (it goes in an HTML comment)\n"
    )


def test_real_process_exit_codes(good, bad, tmp_path):
    assert run_ci_helper("summary", *args(good), cwd=tmp_path).returncode == 0
    assert run_ci_helper("summary", *args(bad), cwd=tmp_path).returncode == 1


def test_the_command_module_imports_nothing_heavy():
    code = (
        "import sys, ci_helper.cli.summary; "
        "print(sorted(m for m in ('jinja2', 'github', 'requests', 'ci_helper.summary') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out == "[]\n"


def _expat_version():
    import pyexpat

    return tuple(int(n) for n in pyexpat.EXPAT_VERSION.removeprefix("expat_").split("."))


# expat < 2.4 has no amplification limit: the bomb would really explode.
@pytest.mark.skipif(_expat_version() < (2, 4, 0), reason="expat without billion-laughs protection")
def test_an_entity_expansion_bomb_is_refused_as_bad_input(cli, tmp_path):
    levels = ['<!ENTITY l0 "lollollollollollollollollollol">'] + [
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    ]
    bomb = tmp_path / "junit.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE t [\n' + "\n".join(levels) + "\n]>\n"
        '<testsuite><testcase name="a"><failure message="&l9;">x</failure></testcase></testsuite>\n'
    )
    result = cli("summary", "--junit", str(bomb))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {bomb}:14:30: malformed JUnit XML (limit on input amplification factor "
        "(from DTD and entities) breached: line 14, column 30)\n"
    )


def test_a_missing_junit_file_still_renders_red(cli, good, tmp_path):
    result = cli(
        "summary",
        "--results",
        str(good / "results"),
        "--junit",
        "quality=.ci-helper/junit/quality.xml",
        "--out",
        "summary.md",
    )
    assert result.exit_code == 1
    lines = (tmp_path / "summary.md").read_text(encoding="utf-8").split("\n")
    assert lines[:5] == [
        "## ❌ Red: ci-helper run summary",
        "",
        "Not green because:",
        "",
        "- tests: quality did not run (no JUnit report)",
    ]
    assert (
        "| ⚠️ not run | tests: quality | required | no report | no JUnit report at .ci-helper/junit/quality.xml: "
        "the test step did not run or did not write it |"
    ) in lines
    assert (
        "> Not run: no JUnit report at .ci-helper/junit/quality.xml: the test step did not run or did not write it."
    ) in lines


def test_results_dir_from_the_environment_and_out_wins_over_the_step_summary(cli, bad, tmp_path):
    step_summary = tmp_path / "step_summary.md"
    result = cli(
        "summary",
        "--out",
        "mine.md",
        env={"CI_HELPER_RESULTS_DIR": str(bad / "results"), "GITHUB_STEP_SUMMARY": str(step_summary)},
    )
    assert result.exit_code == 1
    assert not step_summary.exists()
    assert (tmp_path / "mine.md").read_text(encoding="utf-8").split("\n")[4:8] == [
        "- audit did not run",
        "- coverage failed",
        "- smoke failed",
        "",
    ]
