"""File commands parsed as the runner does (GITHUB_OUTPUT/ENV/PATH), and hashFiles()."""

from __future__ import annotations

import hashlib

import pytest

from ci_helper.runner.expressions import evaluate_expression
from ci_helper.runner.expressions.hash_files import hash_files, matching_files
from ci_helper.runner.files import FileCommandError, parse_key_values, parse_paths, read_text

KEY_VALUES = [
    ("a=1\n", {"a": "1"}),
    ("a=1", {"a": "1"}),
    ("a=1\nb=2\na=3\n", {"a": "3", "b": "2"}),
    ("a=x=y\n", {"a": "x=y"}),
    ("a=\n", {"a": ""}),
    ("\n\na=1\n\n", {"a": "1"}),
    ("a=has<<inside\n", {"a": "has<<inside"}),
    ("a<<EOF\nline1\nline2\nEOF\n", {"a": "line1\nline2"}),
    ("a<<EOF\nEOF\n", {"a": ""}),
    ("a<<EOF\n\nEOF\n", {"a": ""}),
    ("a<<EOF\nx\n\nEOF\n", {"a": "x\n"}),
    ("a<<EOF\nx=1\nb<<no\nEOF\nb=2\n", {"a": "x=1\nb<<no", "b": "2"}),
    ("a<<E=F\nv\nE=F\n", {"a": "v"}),
    ("a<<EOF\r\nv\r\nEOF\r\n", {"a": "v\r"}),  # LF only: the delimiter is "EOF\r", as on a Linux runner
    ("a=win\r\n", {"a": "win\r"}),
    ("a<<EOF\nx\n EOF\nEOF", {"a": "x\n EOF"}),
]


@pytest.mark.parametrize("text, expected", KEY_VALUES)
def test_key_values(text, expected):
    assert parse_key_values(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("a<<EOF\nline\n", "Invalid value. Matching delimiter not found 'EOF'"),
        ("a<<EOF\nline\nEOFX\n", "Invalid value. Matching delimiter not found 'EOF'"),
        ("justtext\n", "Invalid format 'justtext'"),
        ("=value\n", "Invalid format '=value'. Name must not be empty"),
        ("<<EOF\nx\nEOF\n", "Invalid format '<<EOF'. Name must not be empty and delimiter must not be empty"),
        ("a<<\nx\n", "Invalid format 'a<<'. Name must not be empty and delimiter must not be empty"),
    ],
)
def test_key_value_errors(text, message):
    with pytest.raises(FileCommandError) as caught:
        parse_key_values(text)
    assert str(caught.value) == message


def test_bom_is_skipped(tmp_path):
    path = tmp_path / "out"
    path.write_bytes(b"\xef\xbb\xbfname=value\n")
    assert parse_key_values(read_text(path)) == {"name": "value"}


def test_paths():
    assert parse_paths("/a\n\n/b\r\n/c\r/d") == ["/a", "/b", "/c", "/d"]


def _tree(root, files):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _expected(*contents: bytes) -> str:
    outer = hashlib.sha256()
    for content in contents:
        outer.update(hashlib.sha256(content).digest())
    return outer.hexdigest()


def test_hash_files(tmp_path):
    _tree(
        tmp_path,
        {
            "a/x.txt": b"x",
            "a/b/y.txt": b"y",
            "a.txt": b"top",
            ".hidden/z.txt": b"z",
            "lock.json": b"{}",
            "sub/lock.json": b"[]",
        },
    )
    ws = str(tmp_path)
    assert hash_files(ws, ["**/lock.json"]) == _expected(b"{}", b"[]")
    # depth-first in byte order: "a" (its files, "b" before "x.txt") before "a.txt"
    assert [p.relative_to(tmp_path).as_posix() for p in matching_files(ws, ["a*"])] == ["a/b/y.txt", "a/x.txt", "a.txt"]
    assert hash_files(ws, ["a/**", "!a/b"]) == _expected(b"x")
    assert hash_files(ws, ["**/*.txt", "!**/y.txt"]) == _expected(b"z", b"x", b"top")
    assert hash_files(ws, ["nothing-*"]) == ""
    (tmp_path.parent / f"{tmp_path.name}-outside.txt").write_bytes(b"o")
    assert hash_files(ws, [f"../{tmp_path.name}-outside.txt"]) == ""  # outside the workspace never counts
    assert hash_files(ws, ["a/?.txt"]) == _expected(b"x")
    assert hash_files(ws, ["lock.json\nsub/lock.json"]) == _expected(b"{}", b"[]")
    context = {"github": {"workspace": ws}}
    assert evaluate_expression("hashFiles('**/lock.json')", context) == _expected(b"{}", b"[]")
    assert evaluate_expression("hashFiles('lock.json', 'sub/*.json')", context) == _expected(b"{}", b"[]")
    assert evaluate_expression("hashFiles('none')", context) == ""
