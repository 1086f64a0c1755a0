"""Escaping of untrusted text (test names, messages, file names) for each output.

Everything a test, a gate or a dependency wrote is untrusted: a test named
``test_a|b`` must not break a table, ``<img src=x>`` must not become HTML,
``@octocat`` must not notify anyone, ``#12``, ``GH-12``, ``owner/repo#12`` or
``https://github.com/o/r/issues/12`` must not cross-reference (and so notify) an
issue, ``![x](http://...)`` must not load an image, ``$x$`` must not become
math, a right-to-left override must not reorder what the reader sees, and a
10 KB message must not eat the budget. The templates never see raw values: the renderer applies
:func:`inline` to every ``{{ value }}`` that is not already :class:`Markdown`.
"""

from __future__ import annotations

import re

# A zero-width joiner after "@" (or "#" before digits) breaks GitHub's mention
# and issue-reference detection, which runs on the rendered text, while the
# reader still sees "@octocat".
ZWJ = "\u200d"

# Terminal escape sequences (colours, cursor moves, OSC titles) from pytest output.
# pytest's JUnit writer cannot put ESC in XML and writes it as the text "#x1B".
_ANSI = re.compile(r"(?:\x1b|#x1B)(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# C0/C1 controls except tab and newline: they corrupt terminals and XML-free outputs alike.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MENTION = re.compile(r"@(?=[A-Za-z0-9_])")
_ISSUE_REF = re.compile(r"#(?=\d)")
# GitHub's other issue-reference form: GH-123 (any case).
_GH_REF = re.compile(r"(?<![A-Za-z0-9])(gh)(?=-\d)", re.IGNORECASE)
# A URL of an issue, pull request or discussion (on any host: GitHub Enterprise has its own) that GitHub
# would autolink and turn into a cross-reference on the target's timeline. A ZWJ after the scheme (or
# "www") stops the autolink; other URLs stay links.
_ISSUE_URL = re.compile(r"(?i)\b(https?:|www)(?=(?://|\.)[^\s/]+/[^\s/]+/[^\s/]+/(?:issues|pull|pulls|discussions)/\d)")
# Bidirectional embeddings, overrides, isolates and marks (Trojan Source): shown as \uXXXX instead.
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters with inline meaning in GitHub-flavoured markdown (links, images,
# emphasis, code, tables, strikethrough, math, escapes).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~!$])")
_WHITESPACE = re.compile(r"\s+")

INLINE_LIMIT = 300


class Markdown(str):
    """Text that is already safe markdown: the renderer does not escape it again."""

    __slots__ = ()


def clean(value: object) -> str:
    """``str(value)`` without terminal escapes, control characters or lone surrogates."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROL.sub("", text)
    text = _BIDI.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    # A lone surrogate (possible from JSON "\ud800") cannot be written as UTF-8.
    return text.encode("utf-8", "replace").decode("utf-8")


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters of ``text``, saying how many were cut."""
    if limit <= 0 or len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def one_line(value: object, limit: int = INLINE_LIMIT) -> str:
    """Cleaned, whitespace collapsed to single spaces, shortened: the plain-text form."""
    return shorten(_WHITESPACE.sub(" ", clean(value)).strip(), limit)


def _neutralise_references(text: str) -> str:
    text = _ISSUE_REF.sub("#" + ZWJ, _MENTION.sub("@" + ZWJ, text))
    text = _GH_REF.sub(lambda match: match.group(1) + ZWJ, text)
    return _ISSUE_URL.sub(lambda match: match.group(1) + ZWJ, text)


def inline(value: object, limit: int = INLINE_LIMIT) -> Markdown:
    """Untrusted text as one line of markdown: safe in a paragraph, a list item or a table cell."""
    if isinstance(value, Markdown):
        return value
    text = _neutralise_references(one_line(value, limit))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return Markdown(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def html(value: object, limit: int = INLINE_LIMIT) -> Markdown:
    """Untrusted text inside an HTML element (``<summary>``), where markdown is not parsed."""
    text = _neutralise_references(one_line(value, limit))
    return Markdown(
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def code_block(value: object, limit: int = 4000) -> Markdown:
    """Untrusted multi-line text as a fenced code block nothing inside can close."""
    text = shorten(clean(value).strip("\n"), limit)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return Markdown(f"{fence}text\n{text}\n{fence}")


def terminal(value: object, limit: int = INLINE_LIMIT) -> str:
    """Untrusted text for a terminal: one line, no escape sequences that could drive it."""
    return one_line(value, limit)


def terminal_block(value: object, limit: int = 2000, indent: str = "      ") -> str:
    """Untrusted multi-line text for a terminal, indented under its heading."""
    text = shorten(clean(value).strip("\n"), limit)
    return "\n".join(indent + line for line in text.split("\n"))
