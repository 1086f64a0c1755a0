"""The workflow-command parser reads step output exactly as GitHub's runner does (ActionCommand.cs)."""

from __future__ import annotations

import pytest

from ci_helper.runner.commands import ActionCommand, Masker, StepCommands, obeyed_commands, parse


@pytest.mark.parametrize(
    "line, expected",
    [
        # Leading whitespace is trimmed before "::" is looked for (TrimStart).
        ("   ::set-output name=x::y", ActionCommand("set-output", {"name": "x"}, "y")),
        ("\t::error::tabbed", ActionCommand("error", {}, "tabbed")),
        # Command and property names ignore case.
        ("::ADD-MASK::s3cret", ActionCommand("add-mask", {}, "s3cret")),
        ("::Error File=a.py,LINE=3::m", ActionCommand("error", {"file": "a.py", "line": "3"}, "m")),
        # The data starts after the first "::" that follows the name; a single ':' in a property stays.
        ("::error file=C:x.py::a::b", ActionCommand("error", {"file": "C:x.py"}, "a::b")),
        # The legacy form is read anywhere in the line, properties split on ';'.
        ("test_x PASSED ##[error]forged", ActionCommand("error", {}, "forged")),
        ("##[set-output name=v;x=1]green", ActionCommand("set-output", {"name": "v", "x": "1"}, "green")),
        # The runner's unescape order: "%253A" is "%3A" in a property, not ":".
        ("::warning title=%253A::d%250A", ActionCommand("warning", {"title": "%3A"}, "d%0A")),
        ("::error::a%0Ab%25", ActionCommand("error", {}, "a\nb%")),
    ],
)
def test_lines_the_runner_reads_as_commands(line, expected):
    assert parse(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "::unknown::not registered",
        "text ::error::not at the start",
        "::error without a separator",
        "##[unknown]x",
        "##[error no closing bracket",
        ":\u200b:error::broken by a zero-width space",
        "##\u200b[error]broken too",
    ],
)
def test_lines_that_are_not_commands(line):
    assert parse(line) is None


def test_a_carriage_return_starts_a_new_line():
    # .NET's ReadLine ends a line at \r: what a terminal overwrites, the runner obeys.
    commands = StepCommands(Masker())
    shown = commands.filter("test ok\r::add-mask::hidden-by-cr\nvalue hidden-by-cr\n")
    assert [c.name for c in commands.obeyed] == ["add-mask"]
    assert shown == "test ok\nvalue ***\n"


def test_stop_commands_until_the_token_in_either_form():
    commands = StepCommands(Masker())
    shown = commands.filter(
        "::stop-commands::Tok3n\n::add-mask::a\n  ::set-output name=o::1\n##[error]x\n"
        "still ##[TOK3N] resumed\n::add-mask::b\nb\n"
    )
    assert [(c.name, c.data) for c in commands.obeyed] == [
        ("stop-commands", "Tok3n"),
        ("tok3n", " resumed"),
        ("add-mask", "b"),
    ]
    assert commands.outputs == {}
    assert shown.splitlines() == [
        "::stop-commands::Tok3n",
        "::add-mask::a",
        "  ::set-output name=o::1",
        "##[error]x",
        "still ##[TOK3N] resumed",
        "***",
    ]


def test_stop_state_belongs_to_the_job():
    first = StepCommands(Masker())
    first.filter("::stop-commands::t1\n")
    second = StepCommands(Masker(), command_state=first.command_state)
    second.filter("::error::ignored\n::t1::\n::error::obeyed\n")
    assert [(c.name, c.data) for c in second.obeyed] == [("t1", ""), ("error", "obeyed")]
    assert [c.data for c in second.annotations] == ["obeyed"]


def test_obeyed_commands_of_plain_output():
    assert obeyed_commands("hello\n  ::notice::n\nx ##[debug]d\n") == [
        ActionCommand("notice", {}, "n"),
        ActionCommand("debug", {}, "d"),
    ]
