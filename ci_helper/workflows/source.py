"""One YAML file read once: its text, its node tree, and positions of every value.

The tree comes from PyYAML's *composer* (not its constructor), so every value
keeps the line and column where it starts. An alias is the very node its
anchor names, so a value reached through ``*ref`` reports the anchor's
position. Merge keys (``<<: *base``) are applied by :func:`mapping`.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ci_helper.errors import BadInput

_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


class _Tags:
    """Just the tags the model reads (null and the merge key): every other scalar stays a string.

    PyYAML's resolver tries a dozen regular expressions per scalar; workflows
    never need ints, floats or timestamps, and YAML 1.1 booleans like ``on``
    must stay text anyway. This is a third of the parse time on big trees.
    """

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                if value in _NULLS:
                    return _NULL_TAG
                if value == "<<":
                    return _MERGE_TAG
            return _STR_TAG
        return "tag:yaml.org,2002:seq" if kind is SequenceNode else "tag:yaml.org,2002:map"


try:
    # libyaml's composer is ~10x faster than the pure-Python one and keeps the same marks.
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)


class _Loader(_Tags, _Parser):
    pass


# libyaml's composer recurses in C once per nesting level: a file nesting tens of thousands of levels
# overflows the C stack (a segfault with no message) unless libyaml refuses it first, which only some
# builds do (PyYAML 6.0.4's wheels do, 6.0.3's do not). Its parser keeps explicit stacks, so counting
# levels over the event stream is safe at any depth; composing is safe well past MAX_DEPTH (10,000
# levels were seen to compose), so that count only runs when the text could nest this deep.
_COMPOSE_SAFE_LEVELS = 4000


def _nesting_bound(text: str) -> int:
    """An upper bound on how deep ``text`` nests: every level opens with one of these characters."""
    return text.count("[") + text.count("{") + text.count("-") + text.count(":") + text.count("?") + 1


def deep_nesting_line(text: str) -> int | None:
    """The 1-based line where the text nests past MAX_DEPTH levels (without aliases), None when it does not.

    Cheap for every real file: the event count only runs when :func:`_nesting_bound` allows deep nesting.
    Call before composing with libyaml; YAML errors propagate as from composing.
    """
    if _nesting_bound(text) <= _COMPOSE_SAFE_LEVELS:
        return None
    from yaml.events import CollectionEndEvent, CollectionStartEvent

    parser = _Parser(text)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark.line + 1 if event.start_mark is not None else 1
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    finally:
        parser.dispose()
    return None


def _compose(text: str) -> Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


# Limits on a file written by whoever opened the pull request (docs/security.md, "Hostile input limits").
# Real workflows are a few hundred KiB at most, nest under 20 levels and expand to tens of thousands of nodes.
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 128
# Nodes counted with every alias and merge key expanded: what a reader walking the tree may have to visit.
MAX_EXPANDED_NODES = 1_000_000


def _fits(root: Node, budget: int) -> bool:
    """True when the tree, aliases expanded, is within both limits and has at most ``budget`` values.

    Level by level, a shared node counted each time it is reached: the number
    of levels is the root's height and the count its expanded size, the largest
    of any node, so a True here is exactly :func:`shape_problem` finding nothing,
    at a fifth of its cost. False (over a limit, over the budget, or an alias
    cycle, which never runs out of levels) hands the tree to :func:`shape_problem`.
    """
    count = 0
    depth = 0
    level = [root]
    while level:
        depth += 1
        count += len(level)
        if depth > MAX_DEPTH or count > budget:
            return False
        below: list[Node] = []
        for node in level:
            value = node.value
            if value.__class__ is list:
                if node.__class__ is MappingNode:
                    for pair in value:
                        below += pair
                else:
                    below += value
        level = below
    return True


def shape_problem(root: Node | None) -> tuple[Node, str] | None:
    """Where and why the tree is unsafe to walk (an alias cycle, too deep or too big once aliases expand).

    One pass over the distinct nodes: expanded sizes and heights are computed
    bottom-up and remembered per node, so a bomb of aliases costs no more to
    refuse than its text costs to read.
    """
    if root is None:
        return None
    cycle = "an alias refers to a value that contains it (a recursive alias or merge key)"
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    open_nodes: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if isinstance(node, ScalarNode):
            done[key] = (1, 1)
            continue
        children = [n for pair in node.value for n in pair] if isinstance(node, MappingNode) else node.value
        if children_done:
            open_nodes.discard(key)
            size = 1 + sum(done[id(child)][0] for child in children)
            height = 1 + max((done[id(child)][1] for child in children), default=0)
            if size > MAX_EXPANDED_NODES:
                return node, (
                    f"expands to more than {MAX_EXPANDED_NODES:,} values through aliases and merge keys "
                    "(limit, see docs/security.md)"
                )
            if height > MAX_DEPTH:
                return node, f"nests deeper than {MAX_DEPTH} levels, aliases expanded (limit, see docs/security.md)"
            done[key] = (size, height)
            continue
        if key in done:
            continue
        if key in open_nodes:
            return node, cycle
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                return child, cycle
            if id(child) not in done:
                stack.append((child, False))
    return None


_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})

__all__ = ["Source", "Scalar", "MappingNode", "Node", "ScalarNode", "SequenceNode", "read_source", "source_from_text"]


class Scalar:
    """A scalar value and where it starts (1-based line and column)."""

    __slots__ = ("value", "line", "column", "plain", "node")

    def __init__(self, value: str, line: int, column: int, plain: bool, node: ScalarNode) -> None:
        self.value = value
        self.line = line
        self.column = column
        # True when written without quotes.
        self.plain = plain
        # The node, for scripts whose inner lines need locating.
        self.node = node

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}, {self.line}, {self.column})"

    @property
    def is_expression(self) -> bool:
        return "${{" in self.value

    def as_bool(self) -> bool | None:
        """True/False for a boolean literal (quoted or not), None for anything else."""
        text = self.value.strip()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        return None


class Source:
    """A parsed YAML file: ``rel`` (posix path from the scanned root), ``root`` node, text lines."""

    __slots__ = ("path", "rel", "root", "lines", "text")

    def __init__(self, path: Path, rel: str, root: Node | None, lines: list[str], text: str | None = None) -> None:
        self.path = path
        self.rel = rel
        self.root = root
        self.lines = lines
        # The decoded text (None when not kept): cheap text tests that spare walking the tree (workflows/facts.py).
        self.text = text

    def may_contain(self, word: str) -> bool:
        """False only when no scalar of the file can contain ``word`` (letters, digits, ``.`` or ``_``).

        A scalar's value is its text, except that folded line breaks become spaces and quoted
        scalars have escapes: ``''`` in single quotes (a quote, not one of these characters) and
        backslash escapes in double quotes (which can spell anything, so a backslash anywhere
        answers True).
        """
        text = self.text
        return text is None or word in text or "\\" in text

    # -- typed access, each raising BadInput that names the file and line --

    def where(self, node: Node) -> str:
        return f"{self.rel}:{node.start_mark.line + 1}"

    def bad(self, node: Node, what: str) -> BadInput:
        return BadInput(f"{self.where(node)}: {what}; fix the file")

    def mapping(self, node: Node, what: str) -> dict[str, tuple[ScalarNode, Node]]:
        """Keys to (key node, value node), merge keys applied; duplicate keys are bad input."""
        if not isinstance(node, MappingNode):
            raise self.bad(node, f"{what} must be a mapping, got {_kind(node)}")
        out: dict[str, tuple[ScalarNode, Node]] = {}
        merged: dict[str, tuple[ScalarNode, Node]] = {}
        for key, value in node.value:
            if key.tag == _MERGE_TAG:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for src in sources:
                    for k, pair in self.mapping(src, "a merged value (<<)").items():
                        merged.setdefault(k, pair)
                continue
            if not isinstance(key, ScalarNode):
                raise self.bad(key, f"{what} has a key that is not a string")
            name = key.value
            if name in out:
                # GitHub rejects duplicate keys; PyYAML would silently keep the last one.
                raise self.bad(key, f"duplicate key '{name}' in {what}")
            out[name] = (key, value)
        for k, pair in merged.items():
            out.setdefault(k, pair)
        return out

    def sequence(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.bad(node, f"{what} must be a list, got {_kind(node)}")
        items: list[Node] = node.value
        return items

    def scalar(self, node: Node, what: str) -> Scalar:
        if not isinstance(node, ScalarNode):
            raise self.bad(node, f"{what} must be a single value, got {_kind(node)}")
        return scalar(node)

    def locate(self, value: Scalar, needle: str, occurrence: int = 0) -> tuple[int, int]:
        """1-based line and column of ``needle`` inside a (multi-line) scalar; the scalar's start if absent."""
        node = value.node
        first, last = node.start_mark.line, node.end_mark.line
        seen = 0
        for index in range(first, min(last, len(self.lines) - 1) + 1):
            text = self.lines[index]
            start = node.start_mark.column if index == first else 0
            col = text.find(needle, start)
            while col >= 0:
                if seen == occurrence:
                    return index + 1, col + 1
                seen += 1
                col = text.find(needle, col + 1)
        return value.line, value.column


def scalar(node: ScalarNode) -> Scalar:
    # libyaml marks a plain scalar with the style "", the pure-Python parser with None.
    return Scalar(node.value, node.start_mark.line + 1, node.start_mark.column + 1, not node.style, node)


def position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"'{node.value}'" if node.value else "an empty value"


def decode(data: bytes, rel: str) -> str:
    """Text of a YAML file: UTF-8 (BOM or not) or UTF-16 with a BOM."""
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        # What the utf-8-sig codec does (drop one BOM, decode the rest), without its Python-level wrapper.
        return data[3:].decode("utf-8") if data.startswith(codecs.BOM_UTF8) else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadInput(f"{rel}:{line}: not valid UTF-8 text; save the file as UTF-8") from None


def _read_at_most(fd: int, limit: int, size: int) -> bytes:
    """Up to ``limit`` bytes to the end of the file; ``size`` (its size when opened) sizes the first read.

    Plain ``os.read`` calls: a buffered ``read(limit)`` allocates ``limit`` bytes (4 MiB) for every file.
    """
    data = os.read(fd, min(size + 1, limit))
    if len(data) <= size:
        return data  # a short read of a regular file is its end
    while len(data) < limit:
        more = os.read(fd, min(65536, limit - len(data)))
        if not more:
            break
        data += more
    return data


def read_source(path: Path, rel: str) -> Source:
    """Read and compose one YAML file; any problem is bad input naming the file and line."""
    try:
        # Non-blocking: a FIFO named action.yml must not hang the reader; anything but a regular file is refused.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise BadInput(f"{rel}: not a regular file; replace it with a YAML file")
            data = _read_at_most(fd, MAX_FILE_BYTES + 1, info.st_size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise BadInput(f"{rel}: cannot read ({exc.strerror or exc}); check the file's permissions") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(
            f"{rel}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB (limit, see docs/security.md); split the file"
        )
    return source_from_text(path, rel, decode(data, rel))


def source_from_text(path: Path, rel: str, text: str) -> Source:
    """Compose already decoded text (``ci-helper pin`` keeps the bytes it read); problems as in :func:`read_source`."""
    try:
        deep = deep_nesting_line(text)
        if deep is not None:
            raise BadInput(
                f"{rel}:{deep}: nests deeper than {MAX_DEPTH} levels (limit, see docs/security.md); fix the file"
            )
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "malformed YAML"
        raise BadInput(f"{rel}:{line}: malformed YAML ({problem}); fix the file") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{rel}: malformed YAML ({exc}); fix the file") from None
    except RecursionError:  # the pure-Python composer recurses per nesting level
        raise BadInput(
            f"{rel}: nests too deeply (limit {MAX_DEPTH} levels, see docs/security.md); fix the file"
        ) from None
    # The cheap walk first, with a budget in proportion to the text so that an alias bomb or cycle costs no
    # more than reading the file before the full check names the node at fault.
    budget = min(MAX_EXPANDED_NODES, 4 * len(text) + 1024)
    shape = None if root is None or _fits(root, budget) else shape_problem(root)
    if shape is not None:
        node, why = shape
        raise BadInput(f"{rel}:{node.start_mark.line + 1}: {why}; fix the file")
    return Source(path, rel, root, text.splitlines(), text)
