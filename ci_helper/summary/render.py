"""Render a :class:`~ci_helper.summary.model.Run` from template files, within budgets.

Templates live in ``templates/`` (``*.md.j2`` for GitHub, ``*.txt.j2`` for a
terminal). Jinja's HTML autoescape is off (this is markdown), and instead
every ``{{ value }}`` passes through the markdown (or terminal) escaper unless
it is already :class:`~ci_helper.summary.escape.Markdown`: forgetting a filter
cannot let untrusted text through.

Budgets: GitHub rejects a job summary above 1 MiB whole, and an issue comment
above 65,536 characters. Each section is rendered with a cut marker before
every entry (a failed test, a finding, a table row); when the whole is over
budget, the longest sections are cut first, at entry boundaries so the
markdown stays well formed, and the header says what was trimmed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from ci_helper import severity
from ci_helper.results import FAIL, NOT_RUN, PASS
from ci_helper.summary import determinism, escape, presenters
from ci_helper.summary.escape import Markdown
from ci_helper.summary.model import Run

JOB_SUMMARY_LIMIT_BYTES = 1_048_576
COMMENT_LIMIT_CHARS = 65_536
# "under 1 MiB": strictly below GitHub's limit.
JOB_SUMMARY_BUDGET = JOB_SUMMARY_LIMIT_BYTES - 1
COMMENT_BUDGET = COMMENT_LIMIT_CHARS

MARKER_PREFIX = "ci-helper:summary"

# Marks the start of one entry inside a rendered section. clean() strips NUL
# from every untrusted value, so only the templates can produce it.
CUT = Markdown("\x00")

TEMPLATES = Path(__file__).parent / "templates"

STATUS_WORDS = {PASS: "pass", FAIL: "fail", NOT_RUN: "not run"}
STATUS_ICONS = {PASS: "✅", FAIL: "❌", NOT_RUN: "⚠️"}
# Only characters of the Basic Multilingual Plane: one astral emoji in a 1 MB
# section makes CPython store the whole string at 4 bytes per character.
OUTCOME_ICONS = {"failed": "❌", "error": "❗", "flaky": "♻️"}
SEVERITY_ICONS = {name: lvl.icon for name, lvl in severity.LEVELS.items()}


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def characters(text: str) -> int:
    """Characters as GitHub may count them: UTF-16 code units, never fewer than code points."""
    return len(text.encode("utf-16-le")) // 2


def comment_marker(comment_id: str | None = None) -> str:
    """The hidden line that identifies our sticky comment (one per subproject id)."""
    suffix = f":{comment_id}" if comment_id else ""
    return f"<!-- {MARKER_PREFIX}{suffix} -->"


@dataclass
class Rendered:
    text: str
    # One line per trimmed section, e.g. "tests: quality (980 of 1,000 entries not shown)".
    trimmed: list[str] = field(default_factory=list)


def _finalize_markdown(value: object) -> object:
    return value if isinstance(value, Markdown) else escape.inline(value)


def _finalize_terminal(value: object) -> object:
    return value if isinstance(value, Markdown) else escape.terminal(value)


@functools.cache
def environment(kind: str) -> jinja2.Environment:
    """The Jinja environment for ``markdown`` or ``text`` output."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # markdown, not HTML: our own escaper runs in finalize
        finalize=_finalize_markdown if kind == "markdown" else _finalize_terminal,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    if kind == "markdown":
        env.filters.update(md=escape.inline, html=escape.html, code=escape.code_block)
    else:
        env.filters.update(
            md=lambda v, limit=escape.INLINE_LIMIT: Markdown(escape.terminal(v, limit)),
            block=lambda v, limit=2000, indent="      ": Markdown(escape.terminal_block(v, limit, indent)),
        )
    env.globals.update(
        status_words=STATUS_WORDS,
        status_icons=STATUS_ICONS,
        outcome_icons=OUTCOME_ICONS,
        severity_icons=SEVERITY_ICONS,
        cut=CUT,
        number=presenters.number,
        text_of=_text_of,
    )
    return env


def _text_of(value: object) -> str:
    """A log tail or similar: a list of lines or one string, as text (still untrusted)."""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return "" if value is None else str(value)


def _verdict(run: Run) -> dict[str, object]:
    blockers = run.blockers()
    tests = sum(t.report.total for t in run.tiers)
    return {"green": not blockers, "blockers": blockers, "required": run.required_count, "tests": tests}


# --- markdown with a budget -------------------------------------------------


def _cut_section(
    name: str, text: str, cap: int, measure: Callable[[str], int], budget_name: str
) -> tuple[str, str | None]:
    """``text`` cut at an entry boundary so that it (with its note) fits in ``cap``."""
    pieces = text.split(CUT)
    total = len(pieces) - 1
    size = measure(pieces[0])
    keep = 0

    def note(dropped: int) -> str:
        return f"\n\n_✂️ {dropped:,} of {total:,} entries not shown: trimmed to fit {budget_name}._\n\n"

    worst_note = measure(note(total))
    for piece in pieces[1:]:
        piece_size = measure(piece)
        if size + piece_size + worst_note > cap:
            break
        size += piece_size
        keep += 1
    kept = "".join(pieces[: keep + 1])
    if keep == total:
        return kept, None
    dropped = total - keep
    return kept.rstrip("\n") + note(dropped), f"{name} ({dropped:,} of {total:,} entries not shown)"


def _fit(
    sections: list[tuple[str, str]],
    plain: list[str],
    sizes: list[int],
    available: int,
    measure: Callable[[str], int],
    budget_name: str,
) -> tuple[list[str], list[str]]:
    """Cut the longest sections first until all of them fit in ``available``.

    ``sections`` carry the cut markers; ``plain`` are the same texts without them, ``sizes`` their sizes.
    """
    if sum(sizes) <= available:
        return plain, []
    # Water-filling: the largest cap with sum(min(size, cap)) <= available, so
    # only sections longer than the cap lose entries, the longest the most.
    low, high = 0, max(sizes)
    while low < high:
        mid = (low + high + 1) // 2
        if sum(min(s, mid) for s in sizes) <= available:
            low = mid
        else:
            high = mid - 1
    out = list(plain)
    trimmed: dict[int, str] = {}
    for i, ((name, text), size) in enumerate(zip(sections, sizes, strict=True)):
        if size > low:
            out[i], note = _cut_section(name, text, low, measure, budget_name)
            if note:
                trimmed[i] = note
    # A section whose heading alone exceeds the cap overshoots: drop whole
    # sections, the longest first, until the rest fits.
    stubbed: set[int] = set()
    out_sizes = [measure(t) for t in out]
    while sum(out_sizes) > available and len(stubbed) < len(out):
        i = max((k for k in range(len(out)) if k not in stubbed), key=lambda k: out_sizes[k])
        name = sections[i][0]
        out[i] = f"### {escape.inline(name)}\n\n_✂️ section not shown: trimmed to fit {budget_name}._\n\n"
        out_sizes[i] = measure(out[i])
        trimmed[i] = f"{name} (whole section not shown)"
        stubbed.add(i)
    return out, [trimmed[i] for i in sorted(trimmed)]


def render_markdown(
    run: Run,
    *,
    budget: int = JOB_SUMMARY_BUDGET,
    measure: Callable[[str], int] = utf8_bytes,
    budget_name: str = "the 1 MiB job summary limit",
    marker: str | None = None,
    message_limit: int = 4000,
) -> Rendered:
    """The run as GitHub markdown, no larger than ``budget`` (as counted by ``measure``)."""
    env = environment("markdown")
    entries = presenters.entries(run)
    section_template = env.get_template("section.md.j2")
    sections = [(e.name, section_template.render(e=e, message_limit=message_limit)) for e in entries]
    proofs = determinism.build(run)
    if proofs is not None:
        # Right under the checks table: what the tiers proved about network, downloads and skips.
        text = env.get_template("determinism.md.j2").render(d=proofs, title=determinism.TITLE)
        sections.insert(0, (determinism.TITLE, text))
    header_template = env.get_template("summary.md.j2")

    def header(trimmed: list[str]) -> str:
        return header_template.render(
            run=run,
            verdict=_verdict(run),
            entries=entries,
            trimmed=trimmed,
            budget_name=budget_name,
            marker=Markdown(marker) if marker else None,
        )

    plain = [text.replace(CUT, "") for _, text in sections]
    sizes = [measure(text) for text in plain]
    head = header([])
    if measure(head) + sum(sizes) <= budget:
        return Rendered(head + "".join(plain), [])
    # Reserve room for the longest possible "trimmed" note so the header never pushes us over.
    worst = header([f"{name} (9,999,999 of 9,999,999 entries not shown)" for name, _ in sections])
    body, trimmed = _fit(sections, plain, sizes, budget - measure(worst), measure, budget_name)
    text = header(trimmed) + "".join(body)
    if measure(text) > budget:  # only a header larger than the budget gets here
        text = _hard_cut(text, budget, measure, budget_name)
        trimmed.append("everything after the cut")
    return Rendered(text, trimmed)


def _hard_cut(text: str, budget: int, measure: Callable[[str], int], budget_name: str) -> str:
    note = f"\n\n_✂️ cut here to fit {budget_name}._\n"
    room = budget - measure(note)
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if measure(text[:mid]) <= room:
            low = mid
        else:
            high = mid - 1
    cut = text[:low]
    return cut + note


def render_comment(run: Run, comment_id: str | None = None, *, budget: int = COMMENT_BUDGET) -> Rendered:
    """The sticky PR comment: the marker line, then the summary within 65,536 characters."""
    return render_markdown(
        run,
        budget=budget,
        measure=characters,
        budget_name="the 65,536-character comment limit",
        marker=comment_marker(comment_id),
        message_limit=1500,
    )


# --- terminal -------------------------------------------------------------------


def render_text(run: Run, *, detail_limit: int = 20) -> str:
    """Plain text for a laptop terminal (``ci-helper summary --format text``, ``verify --run``)."""
    env = environment("text")
    entries = presenters.entries(run)
    rows = [
        [
            STATUS_WORDS[e.status].upper(),
            escape.terminal(e.name, 40),
            "required" if e.required else "optional",
            escape.terminal(e.key_figure, 60),
            escape.terminal(e.why, presenters.WHY_LIMIT),
        ]
        for e in entries
    ]
    widths = [
        max([len(r[i]) for r in rows] + [len(h)]) for i, h in enumerate(["STATUS", "CHECK", "REQUIRED", "KEY FIGURE"])
    ]
    lines = []
    for row in [["STATUS", "CHECK", "REQUIRED", "KEY FIGURE", "WHY"]] + rows:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:4])] + [row[4]]
        lines.append("  ".join(cells).rstrip())
    return env.get_template("summary.txt.j2").render(
        run=run,
        verdict=_verdict(run),
        entries=entries,
        table=[Markdown(line) for line in lines],
        limit=detail_limit,
        determinism=determinism.build(run),
    )
