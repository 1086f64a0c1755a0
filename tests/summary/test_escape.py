"""Escaping of untrusted text: each hostile input, exactly, plus properties over any text."""

import re

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
        f"a|b &lt;img src=x&gt; @{ZWJ}octocat &#39;q&#39; &amp; &quot;d&quot;")


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
    assert "\x00" not in out


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_code_block_content_cannot_close_the_fence(text):
    lines = escape.code_block(text).split("\n")
    fence = lines[0][: -len("text")]
    assert all(fence not in line for line in lines[1:-1]) and lines[-1] == fence
