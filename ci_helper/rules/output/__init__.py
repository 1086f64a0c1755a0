"""Renderers of a verify report, one module per format; each exposes ``render(report, base) -> str``.

``base`` is the scanned folder relative to the repository root (:func:`base_of`;
'' for the root itself), used where a consumer needs paths from that root (GitHub
annotations, SARIF's ``%SRCROOT%``); text and JSON keep paths relative to the
scanned folder.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from ci_helper.rules import Report

FORMATS = ("text", "json", "sarif", "github")


def repository_root(path: Path, cwd: Path | None = None) -> Path:
    """The git work tree that holds ``path`` (the nearest folder with ``.git``), else the current folder.

    In a workflow step the current folder is the workspace, where the repository is checked out.
    """
    start = path.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return (cwd or Path.cwd()).resolve()


def base_of(path: Path, cwd: Path | None = None) -> str:
    """The scanned folder as a path from the repository root ('' for the root, absolute when outside it)."""
    root = repository_root(path, cwd)
    rel = os.path.relpath(path.resolve(), root)
    if rel == ".":
        return ""
    return str(path.resolve()) if rel.startswith("..") else rel.replace(os.sep, "/")


def render(fmt: str, report: Report, base: str = "") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"{__name__}.{fmt}")
    return cast(str, module.render(report, base))
