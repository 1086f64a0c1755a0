"""Fake inference: a deterministic PNG for applications whose CI has no model weights or GPU.

An application calls :func:`fake_inference_enabled` and, when it is true,
answers with :func:`image_base64` instead of running the real pipeline. The
image's size and colour and the env var that turns fake inference on are
declared in the stub manifest's ``fake_inference`` block; the ``stubs`` check
result records whether it was on, so the run summary can say that a green
txt2img test did not exercise the real pipeline.

This module is dependency-free (the standard library only): ``ci-helper stubs
create`` copies it into the stub root as ``ci_helper/fake.py``, with the
manifest's block beside it (``fake_inference.py``, a literal), so the project's own
interpreter imports ``ci_helper.fake`` without ci-helper installed there.

The PNG is pure Python: the deflate stream is written here (fixed Huffman
codes, runs as distance-1 matches) rather than by ``zlib.compress``, whose
output differs between zlib builds (zlib vs zlib-ng); only ``zlib.crc32`` and
``zlib.adler32`` are used. Same size and colour, same bytes, on every machine.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MANIFEST_ENV = "CI_HELPER_STUBS_MANIFEST"
# Beside the copy in a stub root: the manifest's block as a literal, so the copy needs no YAML reader.
BLOCK_FILE = "fake_inference.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 4096

__all__ = [
    "FakeInference",
    "png",
    "png_base64",
    "config",
    "fake_inference_enabled",
    "image",
    "image_base64",
]


@dataclass(frozen=True)
class FakeInference:
    """The manifest's ``fake_inference`` block: which env var turns it on, and the image to return."""

    env: str = "CI"
    width: int = 1
    height: int = 1
    color: tuple[int, ...] = (0, 0, 0, 0)

    def literal(self) -> str:
        """``BLOCK = {...}``: the block as the copy in a stub root reads it."""
        return (
            "BLOCK = "
            + json.dumps(
                {"env": self.env, "width": self.width, "height": self.height, "color": list(self.color)}, sort_keys=True
            )
            + "\n"
        )


def png(width: int = 1, height: int = 1, color: Sequence[int] = (0, 0, 0, 0)) -> bytes:
    """A ``width`` x ``height`` PNG of one colour: RGB for 3 components, RGBA for 4."""
    if not (isinstance(width, int) and isinstance(height, int) and 1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ValueError(f"width and height must be integers from 1 to {MAX_SIDE}, got {width}x{height}")
    pixel = bytes(color)  # raises ValueError outside 0..255
    if len(pixel) not in (3, 4):
        raise ValueError(f"color must have 3 (RGB) or 4 (RGBA) components, got {len(pixel)}")
    color_type = 6 if len(pixel) == 4 else 2
    # Row 0 uses the Sub filter (first pixel, then zero deltas) and every later row the Up
    # filter (all zero): the image data is one pixel and runs of zeros, which deflate well.
    row_zeros = bytes(len(pixel) * width)
    raw = b"\x01" + pixel + row_zeros[len(pixel) :] + (b"\x02" + row_zeros) * (height - 1)
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", _zlib_stream(raw)) + _chunk(b"IEND", b"")


def png_base64(width: int = 1, height: int = 1, color: Sequence[int] = (0, 0, 0, 0)) -> str:
    """:func:`png` as base64 text, the form txt2img-style APIs return."""
    return base64.b64encode(png(width, height, color)).decode("ascii")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- deflate (RFC 1951) with fixed Huffman codes ---------------------------

# (base length, extra bits) for length codes 257..285.
_LENGTHS = [
    (3, 0),
    (4, 0),
    (5, 0),
    (6, 0),
    (7, 0),
    (8, 0),
    (9, 0),
    (10, 0),
    (11, 1),
    (13, 1),
    (15, 1),
    (17, 1),
    (19, 2),
    (23, 2),
    (27, 2),
    (31, 2),
    (35, 3),
    (43, 3),
    (51, 3),
    (59, 3),
    (67, 4),
    (83, 4),
    (99, 4),
    (115, 4),
    (131, 5),
    (163, 5),
    (195, 5),
    (227, 5),
    (258, 0),
]


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.count = 0

    def bits(self, value: int, n: int) -> None:
        """Write ``n`` bits of ``value``, least significant first (header fields, extra bits)."""
        self.acc |= value << self.count
        self.count += n
        while self.count >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.count -= 8

    def code(self, value: int, n: int) -> None:
        """Write a Huffman code, most significant bit first."""
        self.bits(int(format(value, f"0{n}b")[::-1], 2), n)

    def flush(self) -> bytes:
        if self.count:
            self.out.append(self.acc & 0xFF)
            self.acc = self.count = 0
        return bytes(self.out)


def _symbol(writer: _BitWriter, symbol: int) -> None:
    if symbol < 144:
        writer.code(0x30 + symbol, 8)
    elif symbol < 256:
        writer.code(0x190 + symbol - 144, 9)
    elif symbol < 280:
        writer.code(symbol - 256, 7)
    else:
        writer.code(0xC0 + symbol - 280, 8)


def _match(writer: _BitWriter, length: int) -> None:
    """A back-reference of ``length`` (3..258) at distance 1: repeat the previous byte."""
    for index in range(len(_LENGTHS) - 1, -1, -1):
        base, extra = _LENGTHS[index]
        if length >= base:
            _symbol(writer, 257 + index)
            if extra:
                writer.bits(length - base, extra)
            break
    writer.code(0, 5)  # distance code 0 = distance 1, no extra bits


def _deflate(data: bytes) -> bytes:
    writer = _BitWriter()
    writer.bits(1, 1)  # BFINAL: the only block
    writer.bits(1, 2)  # BTYPE 01: fixed Huffman codes
    i, n = 0, len(data)
    while i < n:
        if i:
            previous = data[i - 1 : i]
            window = data[i : i + 258]
            run = len(window) - len(window.lstrip(previous))
            if run >= 3:
                _match(writer, run)
                i += run
                continue
        _symbol(writer, data[i])
        i += 1
    _symbol(writer, 256)  # end of block
    return writer.flush()


def _zlib_stream(data: bytes) -> bytes:
    # 0x78 0x01: deflate, 32 KiB window, no preset dictionary, check bits valid (0x7801 % 31 == 0).
    return b"\x78\x01" + _deflate(data) + struct.pack(">I", zlib.adler32(data))


# --- configuration ----------------------------------------------------------


def config(
    manifest: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    project_dir: str | os.PathLike[str] = ".",
) -> FakeInference | None:
    """The manifest's ``fake_inference`` block, or None when nothing declares one.

    The manifest is ``manifest``, else ``$CI_HELPER_STUBS_MANIFEST`` (the stub-repos action
    exports it), else ``[tool.ci-helper.stubs] manifest`` of ``project_dir``'s pyproject.toml.
    """
    env = os.environ if environ is None else environ
    path: Path | None = Path(manifest) if manifest else None
    beside = Path(__file__).with_name(BLOCK_FILE)
    if path is None and beside.is_file():  # the copy in a stub root
        return _read_block(str(beside))
    if path is None and env.get(MANIFEST_ENV):
        path = Path(env[MANIFEST_ENV])
    if path is None:
        from ci_helper import settings as settings_module

        settings = settings_module.load(project_dir)
        if settings.stubs.manifest:
            path = (settings.project_root or Path(project_dir)) / settings.stubs.manifest
    if path is None:
        return None
    return _load_block(str(path.resolve()))


@lru_cache(maxsize=8)
def _read_block(path: str) -> FakeInference:
    line = next(text for text in Path(path).read_text(encoding="utf-8").splitlines() if text.startswith("BLOCK = "))
    data = json.loads(line[len("BLOCK = ") :])
    return FakeInference(str(data["env"]), int(data["width"]), int(data["height"]), tuple(data["color"]))


@lru_cache(maxsize=8)
def _load_block(path: str) -> FakeInference | None:
    from ci_helper.gates.stubs import manifest as manifest_module

    return manifest_module.load(path).fake_inference


def env_enabled(value: str | None) -> bool:
    """How the declared env var turns fake inference on: set, non-empty, and not 0/false/no/off."""
    return value is not None and value.strip().lower() not in ("", "0", "false", "no", "off")


def fake_inference_enabled(
    environ: Mapping[str, str] | None = None, manifest: str | os.PathLike[str] | None = None
) -> bool:
    """True when the manifest declares fake inference and its env var is set to a true value."""
    env = os.environ if environ is None else environ
    block = config(manifest, env)
    return block is not None and env_enabled(env.get(block.env))


def image(environ: Mapping[str, str] | None = None, manifest: str | os.PathLike[str] | None = None) -> bytes:
    """The declared fake image (1x1 transparent when no size or colour is declared)."""
    block = config(manifest, environ) or FakeInference()
    return png(block.width, block.height, block.color)


def image_base64(environ: Mapping[str, str] | None = None, manifest: str | os.PathLike[str] | None = None) -> str:
    return base64.b64encode(image(environ, manifest)).decode("ascii")
