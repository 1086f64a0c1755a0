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
    for variable, write in (
        ("GITHUB_OUTPUT", lambda: gha.set_output("a", "b")),
        ("GITHUB_ENV", lambda: gha.set_env("a", "b")),
        ("GITHUB_PATH", lambda: gha.add_path("/x")),
        ("GITHUB_STEP_SUMMARY", lambda: gha.append_step_summary("# x")),
    ):
        monkeypatch.setenv(variable, str(missing))
        with pytest.raises(BadInput) as exc:
            write()
        assert exc.value.message == f"cannot append to ${variable} ({missing}): No such file or directory"


def test_a_bad_step_summary_path_is_exit_2_without_traceback(tmp_path):
    from tests.conftest import run_ci_helper

    (tmp_path / "q.xml").write_text('<testsuite><testcase classname="a" name="b"/></testsuite>')
    proc = run_ci_helper(
        "summary",
        "--results",
        str(tmp_path),
        "--junit",
        str(tmp_path / "q.xml"),
        cwd=tmp_path,
        env={"GITHUB_STEP_SUMMARY": str(tmp_path)},
    )
    assert (proc.returncode, proc.stderr) == (
        2,
        f"Error: cannot append to $GITHUB_STEP_SUMMARY ({tmp_path}): Is a directory\n",
    )


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


# --- the fence around untrusted output (issue 14.4) -------------------------------------------------

import io  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from ci_helper.runner.commands import obeyed_commands  # noqa: E402

HOSTILE = [
    "::add-mask::pwned",
    "::stop-commands::pwn",
    "::error::forged",
    "  ::set-output name=verdict::green",
    "##[error]forged-v1",
    "text ##[add-mask]pwned-v1",
    "ok\r::warning::after-cr",
    "::ci-helper-x::",
]


def _fenced(body, enabled=True):
    out = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        with gha.fenced_output(enabled) as fence:
            body()
    finally:
        sys.stdout, sys.stderr = saved
    return out.getvalue(), fence


def test_fence_masks_its_token_first_and_lets_through_only_our_commands():
    def body():
        for text in HOSTILE:
            print(text)
            print(text, file=sys.stderr)
        sys.stdout.write("partial line without newline")
        gha.emit_annotation("error", "ours\n" + HOSTILE[0], file="a,b.py", line=2)
        print(HOSTILE[2])
        gha.add_mask("real-secret")

    text, fence = _fenced(body)
    token = fence.token
    lines = text.splitlines()
    assert lines[:2] == [f"::add-mask::{token}", f"::stop-commands::{token}"]
    assert lines[-1] == f"::{token}::"
    assert [(c.name, c.properties, c.data) for c in obeyed_commands(text)] == [
        ("add-mask", {}, token),
        ("stop-commands", {}, token),
        (token, {}, ""),
        ("error", {"file": "a,b.py", "line": "2"}, "ours\n::add-mask::pwned"),
        ("stop-commands", {}, token),
        (token, {}, ""),
        ("add-mask", {}, "real-secret"),
        ("stop-commands", {}, token),
        (token, {}, ""),
    ]
    # The untrusted text itself is printed unchanged.
    assert "  ::set-output name=verdict::green" in lines
    assert "partial line without newline" in lines


def test_fence_is_off_outside_actions_and_reentrant(monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    text, fence = _fenced(lambda: print("::error::plain"), enabled=None)
    assert (text, fence) == ("::error::plain\n", None)

    def nested():
        with gha.fenced_output(True) as inner:
            assert inner is None
            assert gha.fence_active()
            print("::error::inner")

    text, fence = _fenced(nested)
    assert [c.name for c in obeyed_commands(text)] == ["add-mask", "stop-commands", fence.token]


def test_a_crash_prints_its_traceback_inside_the_fence_and_exits_1():
    out = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = out
    try:
        with pytest.raises(SystemExit) as exc:
            with gha.fenced_output(True) as fence:
                raise RuntimeError("\n::add-mask::from-a-traceback")
    finally:
        sys.stdout, sys.stderr = saved
    text = out.getvalue()
    assert exc.value.code == 1
    assert "::add-mask::from-a-traceback" in text.splitlines()
    assert [(c.name, c.data) for c in obeyed_commands(text)] == [
        ("add-mask", fence.token),
        ("stop-commands", fence.token),
        (fence.token, ""),
    ]


def test_writes_after_the_fence_closed_are_neutralised():
    out = io.StringIO()
    fence = gha.Fence(out)
    fence.start()
    fence.end()
    for text in HOSTILE:
        fence.write(text + "\n")
    late = out.getvalue().split(f"::{fence.token}::\n", 1)[1]
    assert obeyed_commands(late) == []
    assert gha.neutralise("  ::error::x\r::warning::y ##[error]z") == (
        "  :\u200b:error::x\r:\u200b:warning::y ##\u200b[error]z"
    )


def test_annotation_data_cannot_end_the_command_or_start_another():
    for text in HOSTILE:
        line = gha.annotation("error", f"msg\n{text}\r{text}", file=f"f{text}.py", title=text)
        assert "\n" not in line and "\r" not in line
        [command] = obeyed_commands(line + "\n")
        assert (command.name, command.data, command.properties["file"], command.properties["title"]) == (
            "error",
            f"msg\n{text}\r{text}",
            f"f{text}.py",
            text,
        )


def test_output_redirected_to_a_file_is_left_as_printed_and_commands_go_to_the_runner(tmp_path):
    runner_reads = io.StringIO()
    saved = sys.stdout, sys.stderr
    with open(tmp_path / "summary.md", "w") as summary:
        sys.stdout, sys.stderr = summary, runner_reads
        try:
            with gha.fenced_output(True) as fence:
                print("fabricated names: 1 ::error::x")
                print("::add-mask::pwned", file=sys.stderr)
                gha.emit_annotation("warning", "ours")
        finally:
            sys.stdout, sys.stderr = saved
    assert (tmp_path / "summary.md").read_text() == "fabricated names: 1 ::error::x\n"
    assert [(c.name, c.data) for c in obeyed_commands(runner_reads.getvalue())] == [
        ("add-mask", fence.token),
        ("stop-commands", fence.token),
        (fence.token, ""),
        ("warning", "ours"),
        ("stop-commands", fence.token),
        (fence.token, ""),
    ]


def test_no_fence_when_nothing_reaches_the_runner(tmp_path):
    saved = sys.stdout, sys.stderr
    with open(tmp_path / "out", "w") as out, open(tmp_path / "err", "w") as err:
        sys.stdout, sys.stderr = out, err
        try:
            with gha.fenced_output(True) as fence:
                print("::error::x")
        finally:
            sys.stdout, sys.stderr = saved
    assert fence is None
    assert (tmp_path / "out").read_text() == "::error::x\n"
