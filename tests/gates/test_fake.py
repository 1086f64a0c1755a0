"""Fake inference: the PNG decodes with a real decoder and is the same bytes on every run."""

from __future__ import annotations

import base64
import struct
import subprocess
import sys
import zlib

import pytest
from hypothesis import given, settings, strategies as st

from ci_helper import fake

# The 1x1 transparent image of the issue's manifest, as the bytes we ship (a change here
# changes every user's golden file: do it only on purpose).
ONE_BY_ONE = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4AWNkAAIAAAoAAlgUsBsAAAAASUVORK5CYII="


class PngError(ValueError):
    pass


def decode_png(data: bytes) -> tuple[int, int, int, list[list[tuple[int, ...]]]]:
    """A small but real PNG decoder: signature, chunk CRCs, IHDR, zlib IDAT, the five filters.

    Returns (width, height, color type, rows of pixels).
    """
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise PngError("bad signature")
    pos, chunks = 8, []
    while pos < len(data):
        if pos + 12 > len(data):
            raise PngError("truncated chunk")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise PngError(f"CRC mismatch in {kind!r}")
        chunks.append((kind, body))
        pos += 12 + length
    kinds = [k for k, _ in chunks]
    if kinds[0] != b"IHDR" or kinds[-1] != b"IEND" or b"IDAT" not in kinds:
        raise PngError(f"bad chunk order {kinds}")
    width, height, depth, color_type, compression, filter_method, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if (depth, compression, filter_method, interlace) != (8, 0, 0, 0) or color_type not in (2, 6):
        raise PngError("unsupported format")
    bpp = 4 if color_type == 6 else 3
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))  # checks adler32 too
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise PngError(f"image data is {len(raw)} bytes, expected {height * (stride + 1)}")
    rows, previous = [], bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for x in range(stride):
            a = row[x - bpp] if x >= bpp else 0
            b = previous[x]
            c = previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                row[x] = (row[x] + a) & 0xFF
            elif kind == 2:
                row[x] = (row[x] + b) & 0xFF
            elif kind == 3:
                row[x] = (row[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[x] = (row[x] + predictor) & 0xFF
            elif kind != 0:
                raise PngError(f"unknown filter {kind}")
        rows.append([tuple(row[i : i + bpp]) for i in range(0, stride, bpp)])
        previous = row
    return width, height, color_type, rows


def test_decoder_rejects_a_corrupted_crc():
    data = bytearray(fake.png(2, 2, (1, 2, 3)))
    data[20] ^= 0xFF  # inside IHDR
    with pytest.raises(PngError, match="CRC mismatch in b'IHDR'"):
        decode_png(bytes(data))


def test_the_issue_image_decodes_to_one_transparent_pixel():
    assert decode_png(fake.png(1, 1, (0, 0, 0, 0))) == (1, 1, 6, [[(0, 0, 0, 0)]])


def test_byte_identical_to_the_shipped_bytes():
    assert fake.png_base64(1, 1, (0, 0, 0, 0)) == ONE_BY_ONE
    assert base64.b64decode(ONE_BY_ONE) == fake.png()


def test_byte_identical_across_processes():
    code = "import sys, hashlib; from ci_helper import fake; sys.stdout.write(hashlib.sha256(fake.png(64, 48, (255, 128, 0, 200))).hexdigest())"
    digests = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
        for _ in range(2)
    }
    assert len(digests) == 1
    assert digests == {__import__("hashlib").sha256(fake.png(64, 48, (255, 128, 0, 200))).hexdigest()}


def test_rgb_and_larger_images():
    width, height, color_type, rows = decode_png(fake.png(300, 4, (10, 20, 30)))
    assert (width, height, color_type) == (300, 4, 2)
    assert rows == [[(10, 20, 30)] * 300] * 4


def test_a_large_image_stays_small():
    data = fake.png(256, 256, (1, 2, 3, 4))
    assert len(data) < 4_000  # runs become back-references: a handful of symbols per 1 KiB row
    assert decode_png(data)[3] == [[(1, 2, 3, 4)] * 256] * 256
    assert len(zlib.decompress(fake.png(4096, 4096, (1, 2, 3, 4))[41:-16])) == 4096 * (4096 * 4 + 1)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(1, 12), st.lists(st.integers(0, 255), min_size=3, max_size=4))
def test_any_size_and_colour_decodes_exactly(width, height, color):
    w, h, color_type, rows = decode_png(fake.png(width, height, color))
    assert (w, h, color_type) == (width, height, 6 if len(color) == 4 else 2)
    assert rows == [[tuple(color)] * width] * height


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2000))
def test_the_deflate_encoder_round_trips_any_bytes(data):
    assert zlib.decompress(fake._zlib_stream(data)) == data


@pytest.mark.parametrize(
    "args, message",
    [
        ((0, 1, (0, 0, 0)), "width and height must be integers from 1 to 4096, got 0x1"),
        ((1, 4097, (0, 0, 0)), "width and height must be integers from 1 to 4096, got 1x4097"),
        ((1, 1, (0, 0)), "color must have 3 (RGB) or 4 (RGBA) components, got 2"),
        ((1, 1, (0, 0, 256)), "bytes must be in range(0, 256)"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(ValueError) as info:
        fake.png(*args)
    assert str(info.value) == message


MANIFEST = """\
repositories:
  r: {modules: {m: {}}}
fake_inference: {env: FAKE_IT, width: 3, height: 2, color: [9, 8, 7]}
"""


@pytest.mark.parametrize(
    "value, enabled",
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("1", True),
        ("true", True),
        ("yes", True),
    ],
)
def test_enabled_reads_the_declared_env_var(tmp_path, value, enabled):
    path = tmp_path / "stubs.yml"
    path.write_text(MANIFEST)
    env = {"CI": "true"} if value is None else {"FAKE_IT": value, "CI": "true"}
    assert fake.fake_inference_enabled(env, manifest=path) is enabled


def test_image_uses_the_declared_size_and_colour(tmp_path, monkeypatch):
    (tmp_path / "stubs.yml").write_text(MANIFEST)
    monkeypatch.setenv(fake.MANIFEST_ENV, str(tmp_path / "stubs.yml"))
    assert decode_png(fake.image()) == (3, 2, 2, [[(9, 8, 7)] * 3] * 2)
    assert fake.image_base64() == base64.b64encode(fake.image()).decode()
    assert fake.fake_inference_enabled({"FAKE_IT": "1", fake.MANIFEST_ENV: str(tmp_path / "stubs.yml")}) is True


def test_config_from_the_project_settings(tmp_path, monkeypatch):
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "stubs.yml").write_text(MANIFEST)
    (tmp_path / "pyproject.toml").write_text('[tool.ci-helper.stubs]\nmanifest = "ci/stubs.yml"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(fake.MANIFEST_ENV, raising=False)
    assert fake.config() == fake.FakeInference(env="FAKE_IT", width=3, height=2, color=(9, 8, 7))


def test_nothing_declared_means_off(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(fake.MANIFEST_ENV, raising=False)
    assert fake.config() is None
    assert fake.fake_inference_enabled({"CI": "true"}) is False
    assert fake.image() == fake.png()
