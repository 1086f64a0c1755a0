"""Pinning remote ``uses:`` refs to commit SHAs by a surgical edit of each file's text.

:func:`scan` finds every remote ``uses: owner/repo[/path]@ref`` (steps and
reusable-workflow jobs) with the exact character span of its ref; :func:`plan`
asks a resolver (:func:`resolve`, through the GitHub API; any mapping in
tests) for the commits; :func:`rewrite` replaces exactly the ref characters
and the trailing comment on those lines. The YAML is never re-serialised:
every other byte (BOM, CRLF, indentation, quotes, other comments) stays as it
was, and the edited text is parsed again to prove that only the ``uses:``
values changed before anything is written.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.workflows.discovery import discover
from ci_helper.workflows.model import build_action, build_workflow
from ci_helper.workflows.source import (
    MappingNode,
    Node,
    Scalar,
    ScalarNode,
    SequenceNode,
    Source,
    decode,
    source_from_text,
)
from ci_helper.workflows.uses import REMOTE, Uses, parse_uses

# The line breaks libyaml counts, so that its line numbers index our lines.
_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
# A comment's first word that is a version (v4, 4.2.2, v1.0.0-rc.1) is the old version note, replaced by the new tag.
_VERSION_WORD = re.compile(r"v?\d+(\.\d+)*([-+][0-9A-Za-z.\-+]*)?")


@dataclass(frozen=True)
class Site:
    """One remote ``uses:`` in one file, with offsets into the file's decoded text."""

    rel: str
    line: int  # 1-based
    column: int  # 1-based, the value's first character (its quote when quoted)
    uses: Uses
    ref_start: int  # the ref's characters: text[ref_start:ref_end]
    ref_end: int
    content_end: int  # end of the line's YAML content (before trailing blanks and the comment)
    comment_start: int | None  # the '#' of the trailing comment
    comment_end: int  # end of the comment (trailing blanks excluded); == content_end when none
    node: ScalarNode

    @property
    def pinned(self) -> bool:
        return self.uses.pinned

    def comment(self, text: str) -> str | None:
        return text[self.comment_start : self.comment_end] if self.comment_start is not None else None


@dataclass
class PinFile:
    """A workflow or action file as read: its bytes' encoding, text, model source and remote uses."""

    path: Path
    rel: str
    bom: bytes
    codec: str
    text: str
    source: Source
    sites: list[Site] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why a uses could not be edited in place

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.codec)


@dataclass(frozen=True)
class Change:
    site: Site
    sha: str
    comment: str  # the new trailing comment, e.g. "# v4"

    @property
    def old(self) -> str:
        """The uses value as written, e.g. ``actions/checkout@v4``."""
        return self.site.uses.raw

    @property
    def new(self) -> str:
        """Its replacement with the comment, e.g. ``actions/checkout@<sha> # v4``."""
        return f"{self.site.uses.raw.partition('@')[0]}@{self.sha} {self.comment}"

    @property
    def value(self) -> str:
        """The scalar's new value (what YAML reads back)."""
        old: str = self.site.node.value
        body = old.rstrip()
        return body[: len(body) - len(self.site.uses.ref)] + self.sha + old[len(body) :]


def _encoding(data: bytes) -> tuple[bytes, str]:
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return bom, codec
    return b"", "utf-8"


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end-before-the-break) of every line, split as libyaml splits them."""
    spans = []
    start = 0
    for match in _BREAK.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _comment_start(text: str, start: int, end: int) -> tuple[int | None, bool]:
    """The '#' opening a comment in text[start:end] (outside quotes, after a blank), and whether a quote is left open."""
    quote = None
    i = start
    while i < end:
        ch = text[i]
        if quote == "'":
            if ch == "'":
                if i + 1 < end and text[i + 1] == "'":
                    i += 1
                else:
                    quote = None
        elif quote == '"':
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = None
        elif ch in "'\"" and (i == start or text[i - 1] in " \t{[,:"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return i, False
        i += 1
    return None, quote is not None


def _locate(text: str, spans: list[tuple[int, int]], rel: str, value: Scalar) -> Site | str:
    """The site of one uses value, or why it cannot be edited in place."""
    node = value.node
    where = f"{rel}:{value.line}"
    if node.style and node.style not in ("'", '"'):  # plain is None from PyYAML's Python composer, "" from libyaml's
        return f"{where}: {value.value.strip()} is a block scalar; write it on one line to pin it"
    if node.start_mark.line != node.end_mark.line or node.start_mark.line >= len(spans):
        return f"{where}: {value.value.strip()} spans several lines; pin it by hand"
    line_start, line_end = spans[node.start_mark.line]
    start = line_start + node.start_mark.column
    end = line_start + node.end_mark.column
    quote = node.style if node.style in ("'", '"') else ""
    written = f"{quote}{node.value}{quote}"
    raw = text[start:end]
    # A node's start includes its anchor or tag (&co, !!str ...): the value itself ends the span.
    prefix = raw[: len(raw) - len(written)]
    if not raw.endswith(written) or (prefix and not (prefix[0] in "&!" and prefix[-1] in " \t")):
        # Escapes (\u0040, '') or a folded value: the characters differ from the value.
        return f"{where}: {value.value.strip()} is written with escapes; write it plainly to pin it"
    inner_start = end - len(written) + len(quote)
    body = node.value.rstrip()
    at = body.find("@")
    # Without an @ the span is empty, at the end (wanted() refuses such a uses before anything is resolved).
    ref_start = inner_start + (at + 1 if at >= 0 else len(body))
    ref_end = inner_start + len(body)
    comment, open_quote = _comment_start(text, end, line_end)
    if open_quote:
        return f"{where}: the line of {value.value.strip()} ends inside a quoted value; pin it by hand"
    content_end = comment if comment is not None else line_end
    while content_end > end and text[content_end - 1] in " \t":
        content_end -= 1
    comment_end = line_end
    while comment is not None and comment_end > comment and text[comment_end - 1] in " \t":
        comment_end -= 1
    return Site(
        rel=rel,
        line=value.line,
        column=value.column,
        uses=parse_uses(node.value),
        ref_start=ref_start,
        ref_end=ref_end,
        content_end=content_end,
        comment_start=comment,
        comment_end=comment_end if comment is not None else content_end,
        node=node,
    )


def _uses_values(source: Source, kind: str) -> Iterator[Scalar]:
    if kind == "workflow":
        workflow = build_workflow(source, strict=False)
        for job in workflow.jobs:
            if job.uses is not None:
                yield job.uses
            for step in job.steps:
                if step.uses is not None:
                    yield step.uses
    else:
        for step in build_action(source, strict=False).steps:
            if step.uses is not None:
                yield step.uses


def read_file(path: Path, rel: str, kind: str) -> PinFile:
    """Read one workflow (``kind`` "workflow") or action file and find its remote uses."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{rel}: cannot read ({exc.strerror or exc}); check the file's permissions") from None
    return parse_bytes(data, path, rel, kind)


def parse_bytes(data: bytes, path: Path, rel: str, kind: str) -> PinFile:
    """A file's bytes as :func:`read_file` sees them (the bytes are read once: what is edited is what was parsed)."""
    bom, codec = _encoding(data)
    text = decode(data, rel)
    source = source_from_text(path, rel, text)
    pin_file = PinFile(path=path, rel=rel, bom=bom, codec=codec, text=text, source=source)
    spans = _line_spans(text)
    seen: set[int] = set()
    for value in _uses_values(source, kind):
        if id(value.node) in seen:  # one node reached twice through an alias or merge key
            continue
        seen.add(id(value.node))
        if parse_uses(value.value).kind != REMOTE:
            continue
        located = _locate(text, spans, rel, value)
        if isinstance(located, str):
            pin_file.skipped.append(located)
        else:
            pin_file.sites.append(located)
    return pin_file


def scan(path: Path, exclude: Sequence[str] = ()) -> list[PinFile]:
    """Every workflow and action file under a folder (or the one file given), with its remote uses."""
    if not path.exists():
        raise BadInput(f"{path}: no such file or folder; pass the repository folder (default: .) or one workflow file")
    if path.is_file():
        kind = "action" if path.name in ("action.yml", "action.yaml") else "workflow"
        return [read_file(path, str(path), kind)]
    # Files are named from PATH as typed, so every message points at a file the user can open.
    base = str(path).replace(os.sep, "/").rstrip("/")
    prefix = "" if base in ("", ".") else base + "/"
    workflows, actions = discover(path, list(exclude))
    files = [read_file(p, prefix + rel, "workflow") for p, rel in workflows]
    files += [read_file(p, prefix + rel, "action") for p, rel in actions]
    if not files:
        raise BadInput(
            f"no workflow or action files under {path} (looked for .github/workflows/*.yml, *.yaml and "
            "action.yml/action.yaml in every folder); pass the repository folder"
        )
    return files


@dataclass(frozen=True)
class Wanted:
    """A site and the ref to resolve for it: the uses' own ref, or (``--update``) the tag in a pinned one's comment."""

    file: PinFile = field(hash=False, compare=False)
    site: Site
    ref: str

    @property
    def key(self) -> tuple[str, str]:
        return self.site.uses.repo, self.ref

    @property
    def where(self) -> str:
        return f"{self.file.rel}:{self.site.line}"


def comment_tag(comment: str | None) -> str | None:
    """The version a pinned uses' comment names (``# v4.2.2 note`` -> ``v4.2.2``), or None."""
    words = comment[1:].split(None, 1) if comment else []
    return words[0] if words and _VERSION_WORD.fullmatch(words[0]) else None


def wanted(files: list[PinFile], update: bool = False) -> list[Wanted]:
    """What to resolve, in file order: every unpinned site, and with ``update`` every pinned one whose comment names a version.

    Refs that cannot be resolved (none, an expression, not owner/repo) are bad input.
    """
    items: list[Wanted] = []
    for pin_file in files:
        for site in pin_file.sites:
            where = f"{pin_file.rel}:{site.line}"
            if site.pinned:
                tag = comment_tag(site.comment(pin_file.text)) if update else None
                if tag is not None:
                    items.append(Wanted(pin_file, site, tag))
                continue
            if not site.uses.has_ref or not site.uses.ref:
                raise BadInput(
                    f"{where}: {site.uses.raw} has no @ref; write the tag you want (e.g. @v4) and run pin again"
                )
            if "${{" in site.uses.ref or site.uses.repo.count("/") != 1 or not all(site.uses.repo.split("/")):
                raise BadInput(f"{where}: {site.uses.raw} is not owner/repo[/path]@ref; fix the uses: value")
            items.append(Wanted(pin_file, site, site.uses.ref))
    return items


def _new_comment(old_comment: str | None, old_ref: str, tag: str) -> str:
    rest = ""
    if old_comment is not None:
        words = old_comment[1:].strip().split(None, 1)
        if words and (words[0] == old_ref or _VERSION_WORD.fullmatch(words[0])):
            rest = words[1] if len(words) > 1 else ""
        else:
            rest = old_comment[1:].strip()
    return f"# {tag}" + (f" {rest}" if rest else "")


def plan(items: list[Wanted], resolve: Callable[[str, str], str]) -> list[Change]:
    """The change for each wanted site, ``resolve(repo, ref)`` giving the 40-hex commit; a pin already right is none."""
    changes = []
    for item in items:
        sha = resolve(*item.key)
        comment = item.site.comment(item.file.text)
        if item.site.pinned:
            if sha != item.site.uses.ref:
                # --update: the comment already names the tag; only the SHA moves.
                changes.append(Change(item.site, sha, comment or f"# {item.ref}"))
            continue
        changes.append(Change(item.site, sha, _new_comment(comment, item.site.uses.ref, item.site.uses.ref)))
    return changes


def rewrite(text: str, changes: list[Change]) -> str:
    """The text with each change's ref span and trailing comment replaced; every other character kept."""
    out = []
    pos = 0
    for change in sorted(changes, key=lambda c: c.site.ref_start):
        site = change.site
        out.append(text[pos : site.ref_start])
        out.append(change.sha)
        out.append(text[site.ref_end : site.content_end])
        if site.comment_start is not None:
            out.append(text[site.content_end : site.comment_start])
        else:
            out.append(" ")
        out.append(change.comment)
        pos = site.comment_end
    out.append(text[pos:])
    return "".join(out)


def _same_tree(old: Node | None, new: Node | None, replaced: dict[int, str]) -> bool:
    """True when ``new`` is ``old`` with exactly the replaced scalars' values changed."""
    seen: set[tuple[int, int]] = set()
    stack = [(old, new)]
    while stack:
        a, b = stack.pop()
        if a is None or b is None:
            if a is not b:
                return False
            continue
        if (id(a), id(b)) in seen:
            continue
        seen.add((id(a), id(b)))
        if type(a) is not type(b) or a.tag != b.tag:
            return False
        if isinstance(a, ScalarNode):
            if b.value != replaced.get(id(a), a.value) or a.style != b.style:  # type: ignore[attr-defined]  # b is a ScalarNode too
                return False
        elif isinstance(a, SequenceNode):
            if len(a.value) != len(b.value):
                return False
            stack.extend(zip(a.value, b.value, strict=True))
        elif isinstance(a, MappingNode):
            if len(a.value) != len(b.value):
                return False
            for (ka, va), (kb, vb) in zip(a.value, b.value, strict=True):
                stack.append((ka, kb))
                stack.append((va, vb))
    return True


def apply(pin_file: PinFile, changes: list[Change]) -> bytes:
    """The file's new bytes; bad input if the edit would change anything but the uses values."""
    text = rewrite(pin_file.text, changes)
    try:
        new_source = source_from_text(pin_file.path, pin_file.rel, text)
    except BadInput:
        new_source = None
    replaced = {id(c.site.node): c.value for c in changes}
    if new_source is None or not _same_tree(pin_file.source.root, new_source.root, replaced):
        lines = ", ".join(str(c.site.line) for c in changes)
        raise BadInput(
            f"{pin_file.rel}: pinning lines {lines} in place would change more than the uses: values; "
            "nothing was written; pin them by hand"
        )
    return pin_file.encode(text)


def resolve(items: list[Wanted]) -> dict[tuple[str, str], str]:
    """``(repo, ref) -> 40-hex commit`` for every wanted ref, through the GitHub API; BadInput names every ref that failed."""
    from ci_helper import github

    token = github.optional_token_from_env()
    api_url = github.api_url_from_env()
    try:
        found = github.resolve_refs(list(dict.fromkeys(item.key for item in items)), token=token, api_url=api_url)
        unknown = sorted({repo for (repo, _), commit in found.items() if commit is None})
        missing = github.missing_repositories(unknown, token=token, api_url=api_url) if unknown else set()
    except github.ApiFailure as exc:
        raise BadInput(f"{exc}; nothing was written") from None
    problems = []
    for item in items:
        repo, ref = item.key
        if found[item.key] is not None:
            continue
        if repo in missing:
            problems.append(
                f"{item.where}: repository {repo} not found (or private: set GITHUB_TOKEN with read access to it)"
            )
        else:
            problems.append(
                f"{item.where}: {repo} has no tag, branch or commit '{ref}'; fix the "
                + ("comment" if item.site.pinned else "ref")
            )
    if problems:
        raise BadInput("; ".join(problems) + "; nothing was written")
    return {key: commit.sha for key, commit in found.items() if commit is not None}


@dataclass
class FileEdit:
    """One file's changes and its new bytes, made (and checked) before any file is written."""

    file: PinFile
    data: bytes
    changes: list[Change]


def edits(files: list[PinFile], changes: list[Change]) -> list[FileEdit]:
    """The changes grouped by file, in file order, each file's new bytes checked by :func:`apply`."""
    out = []
    for pin_file in files:
        mine = [c for c in changes if c.site.rel == pin_file.rel]
        if mine:
            out.append(FileEdit(pin_file, apply(pin_file, mine), mine))
    return out


def write(edit: FileEdit) -> None:
    """Replace the file in one step, keeping its permissions, so a crash never leaves half a workflow."""
    path = edit.file.path
    tmp = path.with_name(f".{path.name}.ci-helper-pin.tmp")
    try:
        tmp.write_bytes(edit.data)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except OSError as exc:
        raise BadInput(f"{edit.file.rel}: cannot write ({exc.strerror or exc})") from None
