"""What declared stubs cost: `stubs create`/`check`, importing stubs, the dynamic hook, the fake PNG.

Anchors: `python -c pass` (the floor of any process), `ci-helper --version` (the floor of
any ci-helper call), and for the PNG the usual pure-Python encoder built on
`zlib.compress(level=9)`. Prints a markdown table of medians over --repeat runs.

    python benchmarks/stubs.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "diffusion-api"
sys.path.insert(0, str(ROOT))

from ci_helper import fake  # noqa: E402


def timed(argv: list[str], cwd: Path, repeat: int, env: dict[str, str] | None = None, before=None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timed_call(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def big_manifest(modules: int, names: int) -> dict:
    mods = {}
    for i in range(modules):
        mods[f"big.pkg{i // 20}.mod{i}"] = {
            "classes": {f"Class{j}": {"methods": {"forward": {}}} for j in range(names // 2)},
            "functions": {f"func{j}": {"returns": j} for j in range(names - names // 2)},
        }
    return {"repositories": {"big-repo": {"modules": mods}}}


def zlib_png(width: int, height: int, color: tuple[int, ...]) -> bytes:
    """The common pure-Python encoder: filter 0 rows, zlib.compress level 9."""
    raw = (b"\x00" + bytes(color) * width) * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    r = args.repeat
    cli = [sys.executable, "-m", "ci_helper"]
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "example"
        shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("repositories", ".ci-helper", "__pycache__"))
        rows.append(("`python -c pass` (anchor)", f"{timed([sys.executable, '-c', 'pass'], work, r):.3f} s"))
        rows.append(("`ci-helper --version` (anchor)", f"{timed([*cli, '--version'], work, r):.3f} s"))
        wipe = lambda: shutil.rmtree(work / "repositories", ignore_errors=True)  # noqa: E731
        rows.append(
            (
                "`stubs create`, example manifest (10 files), fresh",
                f"{timed([*cli, 'stubs', 'create'], work, r, before=wipe):.3f} s",
            )
        )
        rows.append(
            ("`stubs create` again (idempotent, nothing written)", f"{timed([*cli, 'stubs', 'create'], work, r):.3f} s")
        )
        rows.append(("`stubs check`, example manifest", f"{timed([*cli, 'stubs', 'check'], work, r):.3f} s"))

        big = Path(tmp) / "big"
        big.mkdir()
        (big / "stubs.yml").write_text(json.dumps(big_manifest(400, 12)))
        wipe_big = lambda: shutil.rmtree(big / "repositories", ignore_errors=True)  # noqa: E731
        rows.append(
            (
                "`stubs create`, 400 modules x 12 names (442 files), fresh",
                f"{timed([*cli, 'stubs', 'create', '--manifest', 'stubs.yml'], big, r, before=wipe_big):.3f} s",
            )
        )
        rows.append(
            (
                "`stubs check`, 400 modules x 12 names",
                f"{timed([*cli, 'stubs', 'check', '--manifest', 'stubs.yml'], big, r):.3f} s",
            )
        )

        repos = work / "repositories"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                str(repos / n) for n in ("stable-diffusion-stability-ai", "k-diffusion", "generative-models")
            ),
        }
        rows.append(
            (
                "import `ldm.models.diffusion.ddpm`, `ldm.util`, `k_diffusion.sampling` (process)",
                f"{timed([sys.executable, '-c', 'import ldm.models.diffusion.ddpm, ldm.util, k_diffusion.sampling'], work, r, env):.3f} s",
            )
        )
        fifty = "; ".join(f"import sgm.m{i}" for i in range(50))
        clear_log = lambda: (repos / ".fabricated.jsonl").unlink(missing_ok=True)  # noqa: E731
        rows.append(
            (
                "fabricate 50 `sgm.*` modules, no budget (process)",
                f"{timed([sys.executable, '-c', fifty], work, r, env, before=clear_log):.3f} s",
            )
        )
        budget_env = dict(env, CI_HELPER_STUBS_LOG=str(Path(tmp) / "budget.jsonl"))
        (work / "stubs.yml").write_text(
            (work / "stubs.yml").read_text().replace("dynamic_budget: 8", "dynamic_budget: 1000")
        )
        subprocess.run([*cli, "stubs", "create"], cwd=work, stdout=subprocess.DEVNULL, check=True)
        clear_budget_log = lambda: Path(budget_env["CI_HELPER_STUBS_LOG"]).unlink(missing_ok=True)  # noqa: E731
        rows.append(
            (
                "fabricate 50 `sgm.*` modules, budget 1000 (reads the log per new name)",
                f"{timed([sys.executable, '-c', fifty], work, r, budget_env, before=clear_budget_log):.3f} s",
            )
        )

    color = (255, 128, 0, 255)
    ours, theirs = fake.png(512, 512, color), zlib_png(512, 512, color)
    rows.append(
        (
            "fake PNG 512x512: `ci_helper.fake.png` (own deflate, same bytes everywhere)",
            f"{timed_call(lambda: fake.png(512, 512, color), r) * 1000:.1f} ms, {len(ours)} bytes",
        )
    )
    rows.append(
        (
            "fake PNG 512x512: `zlib.compress(level=9)` encoder (anchor; bytes vary by zlib build)",
            f"{timed_call(lambda: zlib_png(512, 512, color), r) * 1000:.1f} ms, {len(theirs)} bytes",
        )
    )
    rows.append(
        (
            "fake PNG 1x1: `ci_helper.fake.png`",
            f"{timed_call(lambda: fake.png(), r) * 1e6:.0f} µs, {len(fake.png())} bytes",
        )
    )

    print("| measure | median |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
