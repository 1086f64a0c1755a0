"""The summary as a markdown engine sees it: hostile text yields no tags, no broken tables."""

from html.parser import HTMLParser

import pytest

from ci_helper.summary import model, render

from .conftest import HOSTILE_NAME, TEN_KB, write_junit, write_result

markdown_it = pytest.importorskip("markdown_it")

# What our templates may produce; anything else came from untrusted text.
ALLOWED = {
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "pre",
    "code",
    "blockquote",
    "em",
    "strong",
}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.rows, self._row = [], [], None

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag == "tr":
            self._row = 0
        elif tag in ("td", "th") and self._row is not None:
            self._row += 1

    def handle_endtag(self, tag):
        if tag == "tr":
            self.rows.append(self._row)
            self._row = None


def html_of(markdown: str) -> Tags:
    # CommonMark with GFM tables and raw HTML on, as GitHub renders (before its sanitiser).
    engine = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser = Tags()
    parser.feed(engine.render(markdown))
    return parser


@pytest.fixture
def hostile(tmp_path):
    junit_file = write_junit(
        tmp_path / "junit-q|a.xml",
        [
            {"name": HOSTILE_NAME, "outcome": "failed", "message": TEN_KB, "details": TEN_KB},
            {"name": "test_<script>alert(1)</script>", "outcome": "error", "message": "<a href='http://x'>click</a>"},
            {"name": "test_ok"},
        ],
    )
    write_result(
        tmp_path / "results",
        "verify",
        "fail",
        {"files": 3, "findings": 2},
        [
            {
                "rule": "unpinned-uses|x",
                "file": "a|b`c`.yml",
                "line": 7,
                "message": "uses: evil/act@main | <img src=x> @octocat ![p](http://x/p.png) [link](http://x) <!-- x -->",
            },
            {"rule": "r", "message": "```\n</details>\n# heading", "file": None, "line": None},
        ],
    )
    # Hostile text in typed string figures (unknown figure names are refused before rendering).
    write_result(
        tmp_path / "results",
        "deps",
        "not-run",
        reason="<b>bold</b> | `x` @octocat",
        figures={"python": "<img src=y> | k|1", "files": ["a|b", "<i>"]},
    )
    return model.load(tmp_path / "results", [str(junit_file)])


@pytest.mark.parametrize("render_it", [render.render_markdown, render.render_comment])
def test_only_our_own_tags_and_whole_table_rows(hostile, render_it):
    parsed = html_of(render_it(hostile).text)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED
    # The only attribute anywhere is our code blocks' language.
    assert {(tag, tuple(attrs)) for tag, attrs in parsed.tags if attrs} == {("code", (("class", "language-text"),))}
    # Every row of every table has as many cells as its header (5 for checks, 2 for figures, 4 for determinism).
    assert parsed.rows and set(parsed.rows) <= {2, 4, 5}


def test_a_budgeted_cut_leaves_well_formed_markdown(hostile):
    full = render.render_markdown(hostile).text
    for budget in (len(full.encode()) // 2, len(full.encode()) // 3):
        parsed = html_of(render.render_markdown(hostile, budget=budget).text)
        assert {tag for tag, _ in parsed.tags} <= ALLOWED and set(parsed.rows) <= {2, 4, 5}
