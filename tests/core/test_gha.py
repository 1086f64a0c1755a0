import os

from ci_helper import gha


def test_annotation_escapes_data_and_properties():
    line = gha.annotation("error", "50% done\r\nnext", file="a,b:c.yml", line=3, column=7, title="t: x, y")
    assert line == "::error file=a%2Cb%3Ac.yml,line=3,col=7,title=t%3A x%2C y::50%25 done%0D%0Anext"


def test_annotation_without_properties():
    assert gha.annotation("warning", "plain") == "::warning::plain"


def test_set_output_single_and_multiline(tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    assert gha.set_output("total", "41.5")
    assert gha.set_output("body", "line1\nline2")
    lines = out.read_text().split("\n")
    assert lines[0] == "total=41.5"
    assert lines[1].startswith("body<<ghadelimiter_")
    delimiter = lines[1].split("<<", 1)[1]
    assert lines[2:5] == ["line1", "line2", delimiter]


def test_outside_actions_nothing_is_written(monkeypatch):
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert gha.set_output("x", "y") is False
    assert gha.append_step_summary("# hi") is None


def test_step_summary_appends(tmp_path, monkeypatch):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    gha.append_step_summary("# one")
    gha.append_step_summary("two\n")
    assert summary.read_text() == "# one\ntwo\n"


def test_add_mask(capsys):
    gha.add_mask("s3cr%t")
    assert capsys.readouterr().out == "::add-mask::s3cr%25t\n"


def test_a_runner_file_that_cannot_be_written_is_bad_input(tmp_path, monkeypatch):
    import pytest

    from ci_helper.errors import BadInput

    missing = tmp_path / "gone" / "file"
    for variable, write in (("GITHUB_OUTPUT", lambda: gha.set_output("a", "b")),
                            ("GITHUB_ENV", lambda: gha.set_env("a", "b")),
                            ("GITHUB_PATH", lambda: gha.add_path("/x")),
                            ("GITHUB_STEP_SUMMARY", lambda: gha.append_step_summary("# x"))):
        monkeypatch.setenv(variable, str(missing))
        with pytest.raises(BadInput) as exc:
            write()
        assert exc.value.message == f"cannot append to ${variable} ({missing}): No such file or directory"


def test_a_bad_step_summary_path_is_exit_2_without_traceback(tmp_path):
    from tests.conftest import run_ci_helper

    (tmp_path / "q.xml").write_text('<testsuite><testcase classname="a" name="b"/></testsuite>')
    proc = run_ci_helper("summary", "--results", str(tmp_path), "--junit", str(tmp_path / "q.xml"), cwd=tmp_path,
                         env={"GITHUB_STEP_SUMMARY": str(tmp_path)})
    assert (proc.returncode, proc.stderr) == (2, f"Error: cannot append to $GITHUB_STEP_SUMMARY ({tmp_path}): Is a directory\n")


def test_annotate_finding_maps_severity_and_location(capsys):
    from ci_helper.results import Finding

    gha.annotate_finding(Finding("r", "bad thing", file="a.py", line=3), "gate: r")
    gha.annotate_finding(Finding("r", "heads up", severity="warning"), "gate")
    gha.annotate_finding(Finding("r", "ignored, with reason", severity="note"), "gate")
    assert capsys.readouterr().out.splitlines() == [
        "::error file=a.py,line=3,title=gate%3A r::bad thing",
        "::warning title=gate::heads up",
        "::notice title=gate::ignored, with reason",
    ]
