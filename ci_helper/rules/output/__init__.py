"""Renderers of a verify report, one module per format; each exposes ``render(report, base) -> str``.

``base`` is the scanned folder as the reader should see it ('' for the current
folder), used where a consumer needs paths from the repository root (GitHub
annotations); the other formats keep paths relative to the scanned folder.
"""

from __future__ import annotations

import importlib

FORMATS = ("text", "json", "sarif", "github")


def render(fmt: str, report, base: str = "") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    module = importlib.import_module(f"{__name__}.{fmt}")
    return module.render(report, base)
