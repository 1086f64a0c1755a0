"""``hashFiles()``: the runner's glob-and-hash, offline.

Patterns are globs relative to the workspace (``**``, ``*``, ``?``, ``[...]``,
dot files included, ``!`` excludes, a later pattern wins, a matched folder
includes everything under it). Only regular files inside the workspace
count. The result is the SHA-256 of the concatenated SHA-256 digests of the
files, walked depth-first in byte order as the runner's globber does;
``''`` when nothing matches.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path


def _segment_regex(segment: str) -> str:
    out = []
    i = 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = segment.find("]", i + 2)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = segment[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _pattern_regex(absolute: str) -> re.Pattern[str]:
    segments = [s for s in absolute.split("/") if s]
    parts = []
    for segment in segments:
        if segment == "**":
            parts.append("(?:/[^/]+)*")
        else:
            parts.append("/" + _segment_regex(segment))
    # A matched folder includes its descendants (the globber's implicitDescendants).
    return re.compile("".join(parts) + "(?:/.*)?", re.DOTALL)


def _literal_root(absolute: str) -> str:
    root = []
    for segment in absolute.split("/"):
        if any(c in segment for c in "*?["):
            break
        root.append(segment)
    return "/".join(root) or "/"


def _walk(root: Path) -> Iterator[Path]:
    """Depth-first, entries in byte order (libuv's sorted scandir)."""
    if root.is_file():
        yield root
        return
    try:
        entries = sorted(os.scandir(root), key=lambda e: os.fsencode(e.name))
    except (NotADirectoryError, FileNotFoundError, PermissionError):
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file():
            yield path


def matching_files(workspace: str, patterns: list[str]) -> list[Path]:
    base = os.path.realpath(workspace)
    rules: list[tuple[bool, re.Pattern[str]]] = []
    roots: list[str] = []
    for text in "\n".join(patterns).split("\n"):
        line = text.strip()
        if not line or line.startswith("#"):
            continue
        negate = False
        while line.startswith("!"):
            negate = not negate
            line = line[1:]
        absolute = os.path.normpath(os.path.join(base, line)).replace(os.sep, "/")
        if line.endswith("/") and not absolute.endswith("/"):
            absolute += "/"
        rules.append((negate, _pattern_regex(absolute)))
        if not negate:
            roots.append(_literal_root(absolute))
    # Search each root once; a root inside another is already covered.
    unique: list[str] = []
    for root in roots:
        if not any(root == other or root.startswith(other.rstrip("/") + "/") for other in unique):
            unique = [u for u in unique if not u.startswith(root.rstrip("/") + "/")] + [root]
    found: list[Path] = []
    seen: set[str] = set()
    for root in unique:
        for path in _walk(Path(root)):
            text = str(path).replace(os.sep, "/")
            if text in seen or not text.startswith(base.rstrip("/") + "/"):
                continue
            included = False
            for negate, regex in rules:
                if regex.fullmatch(text):
                    included = not negate
            if included:
                seen.add(text)
                found.append(path)
    return found


def hash_files(workspace: str, patterns: list[str]) -> str:
    files = matching_files(workspace, patterns)
    if not files:
        return ""
    outer = hashlib.sha256()
    for path in files:
        inner = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                inner.update(chunk)
        outer.update(inner.digest())
    return outer.hexdigest()
