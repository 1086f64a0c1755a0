"""Escaping of untrusted text: each hostile input, exactly, plus properties over any text."""

import re

import pytest
from hypothesis import given, settings, strategies as st

from ci_helper.summary import escape
from ci_helper.summary.escape import ZWJ, Markdown


def test_pipe_cannot_break_a_table():
    assert escape.inline("test_a|b") == "test\\_a\\|b"


def test_backticks_are_escaped():
    assert escape.inline("assert `x` == 1") == "assert \\`x\\` == 1"


def test_raw_html_is_shown_as_text():
    assert escape.inline("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"


def test_mentions_and_issue_references_notify_nobody():
    assert escape.inline("ping @octocat about #12") == f"ping @{ZWJ}octocat about #{ZWJ}12"
    assert escape.inline("mail me: a@b.c") == f"mail me: a@{ZWJ}b.c"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("fixes GH-12 and gh-3", f"fixes GH{ZWJ}-12 and gh{ZWJ}-3"),
        ("see octo-org/octo-repo#1", f"see octo-org/octo-repo#{ZWJ}1"),
        ("https://github.com/o/r/issues/1", f"https:{ZWJ}//github.com/o/r/issues/1"),
        (
            "HTTP://github.com/o/r/pull/2 or www.github.com/o/r/issues/3 or https://ghe.corp/o/r/discussions/4",
            f"HTTP:{ZWJ}//github.com/o/r/pull/2 or www{ZWJ}.github.com/o/r/issues/3 or "
            f"https:{ZWJ}//ghe.corp/o/r/discussions/4",
        ),
        ("@org/team", f"@{ZWJ}org/team"),
        # Not references: left as they are.
        (
            "BUGGH-12 gh- x#a https://api.osv.dev/v1/query https://github.com/o/r/blob/main/a.py",
            "BUGGH-12 gh- x#a https://api.osv.dev/v1/query https://github.com/o/r/blob/main/a.py",
        ),
    ],
)
def test_cross_references_and_links_are_broken(text, expected):
    assert escape.inline(text) == expected
    assert escape.html(text) == expected


@pytest.mark.parametrize(
    "char",
    [
        "\u202e",
        "\u202d",
        "\u202a",
        "\u202b",
        "\u202c",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_bidirectional_controls_are_shown_escaped(char):
    text = f"test_{char}gpj.exe"
    shown = f"\\u{ord(char):04x}"
    assert escape.inline(text) == f"test\\_\\{shown}gpj.exe"
    assert escape.html(text) == escape.terminal(text) == f"test_{shown}gpj.exe"
    assert escape.code_block(text) == f"```text\ntest_{shown}gpj.exe\n```"


def test_image_link_is_not_an_image():
    assert escape.inline("![pixel](https://evil.example/p.png)") == "\\!\\[pixel\\](https://evil.example/p.png)"


def test_math_and_emphasis_are_literal():
    assert escape.inline("$x$ *y* ~z~ _w_") == "\\$x\\$ \\*y\\* \\~z\\~ \\_w\\_"


def test_newlines_terminal_escapes_and_nul_are_removed():
    assert escape.inline("line one\n\x1b[31mred\x1b[0m\x00 two\r\nthree") == "line one red two three"


def test_long_text_is_shortened_saying_how_much():
    assert escape.inline("x" * 10_240, limit=100) == "x" * 100 + "… (10,140 more characters)"


def test_markdown_values_are_not_escaped_twice():
    once = escape.inline("a|b")
    assert escape.inline(once) == "a\\|b"
    assert isinstance(once, Markdown)


def test_html_context_uses_entities_not_backslashes():
    assert escape.html("a|b <img src=x> @octocat 'q' & \"d\"") == (
        f"a|b &lt;img src=x&gt; @{ZWJ}octocat &#39;q&#39; &amp; &quot;d&quot;"
    )


def test_code_block_fence_is_longer_than_any_backtick_run_inside():
    block = escape.code_block("before\n````\nescape attempt\n````\nafter")
    assert block.split("\n")[0] == "`````text"
    assert block.split("\n")[-1] == "`````"


def test_code_block_is_shortened():
    block = escape.code_block("y" * 10_240, limit=1000)
    assert block == "```text\n" + "y" * 1000 + "… (9,240 more characters)\n```"


def test_terminal_text_has_no_escape_sequences():
    assert escape.terminal("\x1b]0;pwned\x07title \x1b[2Jclear") == "title clear"


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_inline_is_always_one_safe_line(text):
    out = escape.inline(text)
    assert "\n" not in out and "<" not in out and ">" not in out
    assert re.search(r"(?<!\\)(?:\\\\)*\|", out) is None  # every pipe is escaped
    assert re.search(r"(?<!\\)(?:\\\\)*[`\[\]!$]", out) is None
    assert re.search(r"@[A-Za-z0-9_]", out) is None
    reference = r"#\d|(?i:gh)-\d|(?i:https?://|www\.)[^\s/]+/[^\s/]+/[^\s/]+/(?i:issues|pulls?|discussions)/\d"
    assert re.search(reference, out) is None
    assert re.search("[\u202a-\u202e\u2066-\u2069]", out) is None
    assert "\x00" not in out


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_code_block_content_cannot_close_the_fence(text):
    lines = escape.code_block(text).split("\n")
    fence = lines[0][: -len("text")]
    assert all(fence not in line for line in lines[1:-1]) and lines[-1] == fence
