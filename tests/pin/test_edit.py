"""The surgical edit: only the ref span and the trailing comment of each uses: line change."""

from __future__ import annotations

import codecs
import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from ci_helper import pin
from ci_helper.errors import BadInput

SHA = {"v4": "1" * 40, "v5.0.1": "2" * 40, "main": "3" * 40, "release/v1": "4" * 40}


def parse(data: bytes, kind: str = "workflow") -> pin.PinFile:
    return pin.parse_bytes(data, Path("ci.yml"), "ci.yml", kind)


def pinned(data: bytes, kind: str = "workflow", shas: dict[str, str] = SHA, update: bool = False) -> bytes:
    pin_file = parse(data, kind)
    changes = pin.plan(pin.wanted([pin_file], update), lambda repo, ref: shas[ref])
    return pin_file.encode(pin.rewrite(pin_file.text, changes)) if changes else data


def test_crlf_bom_quotes_comments_and_flow_style_keep_every_other_byte():
    before = (
        codecs.BOM_UTF8 + b"# top comment: uses: actions/checkout@v4\r\n"
        b"on: push\r\n"
        b"jobs:\r\n"
        b"  build:\r\n"
        b"    runs-on: ubuntu-latest\r\n"
        b"    steps:\r\n"
        b"      - uses: actions/checkout@v4\r\n"
        b"      - uses: 'actions/setup-python@v5.0.1'    # v5\r\n"
        b'      - uses: "o/r/sub/dir@main"  # keep: the tool we need\r\n'
        b"      - {uses: o/r@v4, with: {args: 'a # not a comment', n: \"#\"}}\r\n"
        b"      -   name: spaced\r\n"
        b"          uses:    o/r@release/v1\t# v0 old note\r\n"
        b"      - uses: ./local\r\n"
        b"      - uses: docker://alpine:3\r\n"
        b"      - uses: actions/cache@" + b"a" * 40 + b" # v4.1.0\r\n"
        b"  call:\r\n"
        b"    uses: o/r/.github/workflows/ci.yml@v4\r\n"
    )
    after = (
        codecs.BOM_UTF8 + b"# top comment: uses: actions/checkout@v4\r\n"
        b"on: push\r\n"
        b"jobs:\r\n"
        b"  build:\r\n"
        b"    runs-on: ubuntu-latest\r\n"
        b"    steps:\r\n"
        b"      - uses: actions/checkout@" + b"1" * 40 + b" # v4\r\n"
        b"      - uses: 'actions/setup-python@" + b"2" * 40 + b"'    # v5.0.1\r\n"
        b'      - uses: "o/r/sub/dir@' + b"3" * 40 + b'"  # main keep: the tool we need\r\n'
        b"      - {uses: o/r@" + b"1" * 40 + b", with: {args: 'a # not a comment', n: \"#\"}} # v4\r\n"
        b"      -   name: spaced\r\n"
        b"          uses:    o/r@" + b"4" * 40 + b"\t# release/v1 old note\r\n"
        b"      - uses: ./local\r\n"
        b"      - uses: docker://alpine:3\r\n"
        b"      - uses: actions/cache@" + b"a" * 40 + b" # v4.1.0\r\n"
        b"  call:\r\n"
        b"    uses: o/r/.github/workflows/" + b"ci.yml@" + b"1" * 40 + b" # v4\r\n"
    )
    assert pinned(before) == after
    assert pinned(after) == after  # already pinned: left alone


def test_utf16_and_lone_cr_files_are_written_back_in_their_encoding():
    text = "on: push\rjobs:\r  a:\r    steps:\r      - uses: actions/checkout@v4\r"
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        out = pinned(bom + text.encode(codec))
        assert out == bom + text.replace("@v4", "@" + "1" * 40 + " # v4").encode(codec)


def test_composite_action_steps_are_pinned():
    before = b"runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@v4 # pin me\n"
    assert (
        pinned(before, "action")
        == b"runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@" + b"1" * 40 + b" # v4 pin me\n"
    )


def test_a_trailing_space_after_the_value_stays_after_the_new_comment():
    assert (
        pinned(b"jobs:\n  a:\n    steps:\n      - uses: o/r@v4   \n")
        == b"jobs:\n  a:\n    steps:\n      - uses: o/r@" + b"1" * 40 + b" # v4   \n"
    )


def test_values_that_cannot_be_edited_in_place_are_skipped_with_the_reason():
    pin_file = parse(
        b"jobs:\n  a:\n    steps:\n"
        b"      - uses: >-\n          o/r@v4\n"
        b'      - uses: "o/r@v4\n          "\n'
        b'      - uses: "o/r\\u0040v4"\n'
        b'      - {uses: o/r@v4, with: {a: "b\n          c"}}\n'
        b"      - uses: o/r@main\n"
    )
    assert pin_file.skipped == [
        "ci.yml:4: o/r@v4 is a block scalar; write it on one line to pin it",
        "ci.yml:6: o/r@v4 spans several lines; pin it by hand",
        "ci.yml:8: o/r@v4 is written with escapes; write it plainly to pin it",
        "ci.yml:9: the line of o/r@v4 ends inside a quoted value; pin it by hand",
    ]
    assert [(s.line, s.uses.raw) for s in pin_file.sites] == [(11, "o/r@main")]


def test_a_flow_mapping_over_two_lines_gets_its_comment_after_the_first():
    assert (
        pinned(b"jobs:\n  a:\n    steps:\n      - {uses: o/r@v4,\n         with: {a: b}}\n")
        == b"jobs:\n  a:\n    steps:\n      - {uses: o/r@" + b"1" * 40 + b", # v4\n         with: {a: b}}\n"
    )


def test_the_same_node_reached_through_an_anchor_is_one_site():
    pin_file = parse(b"x: &co actions/checkout@v4\njobs:\n  a:\n    steps:\n      - uses: *co\n      - uses: *co\n")
    assert [(s.line, s.uses.raw) for s in pin_file.sites] == [(1, "actions/checkout@v4")]


def test_an_edit_that_would_change_more_than_the_uses_values_is_refused():
    pin_file = parse(b"jobs:\n  a:\n    steps:\n      - uses: o/r@v4\n        with: {a: b}\n")
    (change,) = pin.plan(pin.wanted([pin_file]), lambda repo, ref: SHA[ref])
    # A span that ends one character short keeps the old ref's last character: the safety net must catch it.
    broken = dataclasses.replace(change, site=dataclasses.replace(change.site, ref_end=change.site.ref_end - 1))
    with pytest.raises(BadInput) as err:
        pin.apply(pin_file, [broken])
    assert err.value.message == (
        "ci.yml: pinning lines 4 in place would change more than the uses: values; "
        "nothing was written; pin them by hand"
    )
    assert (
        pin.apply(pin_file, [change])
        == b"jobs:\n  a:\n    steps:\n      - uses: o/r@" + b"1" * 40 + b" # v4\n        with: {a: b}\n"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "actions/checkout",
            "ci.yml:4: actions/checkout has no @ref; write the tag you want (e.g. @v4) and run pin again",
        ),
        (
            "actions/checkout@",
            "ci.yml:4: actions/checkout@ has no @ref; write the tag you want (e.g. @v4) and run pin again",
        ),
        ("checkout@v4", "ci.yml:4: checkout@v4 is not owner/repo[/path]@ref; fix the uses: value"),
        ("o/r@${{ matrix.v }}", "ci.yml:4: o/r@${{ matrix.v }} is not owner/repo[/path]@ref; fix the uses: value"),
    ],
)
def test_refs_that_cannot_be_resolved_are_bad_input(value, message):
    pin_file = parse(f"jobs:\n  a:\n    steps:\n      - uses: '{value}'\n".encode())
    with pytest.raises(BadInput) as err:
        pin.wanted([pin_file])
    assert err.value.message == message


def test_wanted_lists_unpinned_sites_and_with_update_pinned_ones_whose_comment_names_a_version():
    pin_file = parse(
        b"jobs:\n  a:\n    steps:\n      - uses: o/r@v4\n      - uses: o/r/x@v4\n      - uses: a/b@main\n"
        b"      - uses: o/r@" + b"1" * 40 + b" # v5.0.1 note\n"
        b"      - uses: o/r@" + b"2" * 40 + b" # a note, not a version\n"
        b"      - uses: o/r@" + b"3" * 40 + b"\n"
    )
    assert [(w.where, w.key) for w in pin.wanted([pin_file])] == [
        ("ci.yml:4", ("o/r", "v4")),
        ("ci.yml:5", ("o/r", "v4")),
        ("ci.yml:6", ("a/b", "main")),
    ]
    assert [(w.where, w.key) for w in pin.wanted([pin_file], update=True)][3:] == [("ci.yml:7", ("o/r", "v5.0.1"))]


def test_update_moves_the_sha_of_a_pinned_uses_to_what_its_comment_names():
    before = (
        b"jobs:\n  a:\n    steps:\n      - uses: 'o/r@" + b"1" * 40 + b"'  #v5.0.1 the build tool\r\n"
        b"      - uses: o/r@" + b"3" * 40 + b" # main\n"
    )
    after = (
        b"jobs:\n  a:\n    steps:\n      - uses: 'o/r@" + b"2" * 40 + b"'  #v5.0.1 the build tool\r\n"
        b"      - uses: o/r@" + b"3" * 40 + b" # main\n"
    )
    assert pinned(before, update=True) == after
    assert pinned(before) == before
    assert pinned(after, update=True) == after


# --- property: only the ref span and the comment of uses: lines change -------------------------

_REFS = st.sampled_from(sorted(SHA))
_NOTE = st.one_of(st.none(), st.sampled_from(["v1", "v1.2.3 note", "keep me", "# double", "pinned@v0 'q'"]))
_STYLE = st.sampled_from(["plain", "single", "double", "flow"])
_OTHER = st.sampled_from(
    [
        "        with:\n          key: 'x # y'\n",
        "        run: 'echo \"uses: a/b@v1\"' # not a uses\n",
        "      # a comment line with uses: actions/checkout@v4\n",
        "        if: ${{ always() }}\n",
        "",
    ]
)


@st.composite
def workflows(draw):
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        repo = draw(st.sampled_from(["actions/checkout", "o/r/sub/path", "my-org/my.repo"]))
        ref = draw(_REFS)
        value = f"{repo}@{ref}"
        style = draw(_STYLE)
        gap = draw(st.sampled_from([" ", "  ", "\t"]))
        note = draw(_NOTE)
        comment = f"{gap}# {note}" if note is not None else ""
        if style == "flow":
            steps.append(f"      - {{uses: {value}, with: {{a: '#b'}}}}{comment}\n")
        else:
            quoted = {"plain": value, "single": f"'{value}'", "double": f'"{value}"'}[style]
            steps.append(f"      - uses: {quoted}{comment}\n" + draw(_OTHER))
    text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n" + "".join(steps)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.sampled_from([b"", codecs.BOM_UTF8]))
    return bom + text.replace("\n", newline).encode()


_USES_LINE = re.compile(
    r"^(?P<head>.*?uses: ['\"]?)(?P<name>[\w./-]+)@(?P<ref>[\w./-]+)(?P<mid>.*?)(?P<comment>\s#.*)?$"
)


@settings(max_examples=60, deadline=None)
@given(workflows())
def test_rewrite_changes_only_the_ref_span_and_comment_of_uses_lines(data):
    out = pinned(data)
    assert out.startswith(codecs.BOM_UTF8) == data.startswith(codecs.BOM_UTF8)
    newline = "\r\n" if b"\r\n" in data else "\n"
    old_lines = data.decode("utf-8-sig").split(newline)
    new_lines = out.decode("utf-8-sig").split(newline)
    assert len(old_lines) == len(new_lines)
    for old, new in zip(old_lines, new_lines, strict=True):
        if not old.lstrip().startswith(("- uses:", "- {uses:")):
            assert new == old
            continue
        before, after = _USES_LINE.match(old), _USES_LINE.match(new)
        assert after["head"] == before["head"] and after["name"] == before["name"] and after["mid"] == before["mid"]
        assert after["ref"] == SHA[before["ref"]]
        gap = (
            before["comment"][: len(before["comment"]) - len(before["comment"].lstrip())] if before["comment"] else " "
        )
        assert after["comment"].startswith(f"{gap}# {before['ref']}")

    # What YAML reads back differs exactly in the uses values.
    def uses_of(doc):
        return [s.get("uses") for s in doc["jobs"]["a"]["steps"]]

    old_doc = yaml.load(data.decode("utf-8-sig"), Loader=yaml.CSafeLoader)
    new_doc = yaml.load(out.decode("utf-8-sig"), Loader=yaml.CSafeLoader)
    assert uses_of(new_doc) == [u.split("@")[0] + "@" + SHA[u.split("@")[1]] for u in uses_of(old_doc)]
    for old_step, new_step in zip(old_doc["jobs"]["a"]["steps"], new_doc["jobs"]["a"]["steps"], strict=True):
        assert {k: v for k, v in old_step.items() if k != "uses"} == {k: v for k, v in new_step.items() if k != "uses"}
