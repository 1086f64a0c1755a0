"""Benchmark: the example's quality tier, grown to TESTS tests, unsharded and in 1, 2 and 4 shards.

For each layout it runs every shard as a parallel process (`ci-helper shard --coverage`,
as `verify --run` does with a matrix, bounded by the CPU count), then combines the
coverage data of all shards and compares the combined total with the unsharded
`coverage report` in the same process tree (they must be equal), and checks with
`ci-helper combine` that every collected test ran exactly once.

    python benchmarks/shard_bench.py               # 2,000 generated tests, ~3 min on 2 cores
    python benchmarks/shard_bench.py --tests 500   # quick look
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

GENERATED = """
import pytest

from diffusion_api import payload, pipeline


@pytest.mark.parametrize("seed", range({n}))
def test_generated_txt2img(seed):
    result = pipeline.Pipeline(fake_inference=True).txt2img(payload.Txt2ImgRequest(prompt=f"cat {{seed}}", seed=seed))
    assert result["info"]["seed"] == seed
"""


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0,):
        sys.exit(f"{' '.join(argv)} exited {proc.returncode} in {cwd}:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return proc


def _total(cwd: Path, env: dict[str, str]) -> str:
    _run([sys.executable, "-m", "coverage", "combine", "-q"], cwd, env)
    report = _run([sys.executable, "-m", "coverage", "report", "--format=total", "--precision=4"], cwd, env)
    return report.stdout.strip()


def _project(base: Path, tests: int, env: dict[str, str]) -> Path:
    project = base / "diffusion-api"
    shutil.copytree(
        ROOT / "examples" / "diffusion-api", project, ignore=shutil.ignore_patterns(".ci-helper", "repositories")
    )
    _run([sys.executable, "-m", "ci_helper", "stubs", "create"], project, env)
    (project / "tests" / "quality" / "test_generated.py").write_text(GENERATED.format(n=tests), encoding="utf-8")
    return project


def unsharded(project: Path, env: dict[str, str]) -> tuple[float, str]:
    for stale in project.glob(".coverage*"):
        stale.unlink()
    started = time.perf_counter()
    _run(
        [
            sys.executable,
            "-m",
            "coverage",
            "run",
            "--parallel-mode",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/quality",
        ],
        project,
        env,
    )
    elapsed = time.perf_counter() - started
    return elapsed, _total(project, env)


def sharded(project: Path, shards: int, env: dict[str, str], workers: int) -> tuple[float, str, str]:
    for stale in project.glob(".coverage*"):
        stale.unlink()
    artifacts = project.parent / f"artifacts-{shards}"
    shutil.rmtree(artifacts, ignore_errors=True)

    def one(index: int) -> None:
        folder = artifacts / f"shard-{index}"
        _run(
            [
                sys.executable,
                "-m",
                "ci_helper",
                "shard",
                "--total",
                str(shards),
                "--index",
                str(index),
                "--coverage",
                "--results-dir",
                str(folder / "results"),
                "--",
                "-q",
                "-p",
                "no:cacheprovider",
                f"--junitxml={folder / 'junit.xml'}",
                "tests/quality",
            ],
            project,
            env,
        )

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, range(1, shards + 1)))
    elapsed = time.perf_counter() - started
    verdict = subprocess.run(
        [sys.executable, "-m", "ci_helper", "combine", str(artifacts), "--results-dir", str(artifacts / "out")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    combined = json.loads((artifacts / "out" / "combine.json").read_text(encoding="utf-8"))
    ledger = f"{combined['status']} ({combined['figures']['ran']}/{combined['figures']['collected']} once)"
    return elapsed, _total(project, env), ledger if verdict.returncode in (0, 1) else "error"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--shards", type=int, nargs="*", default=[1, 2, 4])
    args = parser.parse_args()
    workers = os.cpu_count() or 1
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env["CI"] = "true"
    with tempfile.TemporaryDirectory() as tmp:
        project = _project(Path(tmp), args.tests, env)
        base_time, base_total = unsharded(project, env)
        rows = [("unsharded (coverage run -m pytest)", base_time, base_total, "-")]
        for shards in args.shards:
            elapsed, total, ledger = sharded(project, shards, env, workers)
            rows.append(
                (
                    f"{shards} shard{'s' if shards > 1 else ''} ({min(shards, workers)} at a time)",
                    elapsed,
                    total,
                    ledger,
                )
            )
    print(f"quality tier of examples/diffusion-api + {args.tests} generated tests, {workers} CPUs")
    print()
    print("| layout | wall (s) | vs unsharded | combined total % | equal to unsharded | combine ledger |")
    print("|---|---:|---:|---:|---|---|")
    for name, elapsed, total, ledger in rows:
        print(
            f"| {name} | {elapsed:.2f} | {elapsed / base_time:.2f}x | {total} | {'yes' if total == base_total else 'NO'} | {ledger} |"
        )


if __name__ == "__main__":
    main()
