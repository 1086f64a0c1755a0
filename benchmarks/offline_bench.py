"""Benchmark: the offline plugin's overhead on a test tier (goal: at most 5% wall time).

Runs, in this process tree, the same pytest suite with and without the offline hook
(`ci-helper network run`), alternating the two for RUNS rounds and keeping the median:

  - the example project's quality tier (examples/diffusion-api, tests/quality, fake inference on);
  - a generated suite of TESTS tests (default 2,000) that open files, start subprocesses and
    talk to a loopback socket now and then, the events the audit hook inspects.

    python benchmarks/offline_bench.py            # ~1 minute on 2 cores
    python benchmarks/offline_bench.py --runs 3 --tests 500
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ci_helper.gates import network  # noqa: E402
from ci_helper.settings import NetworkSettings  # noqa: E402

GENERATED = """
import socket, subprocess, sys, tempfile, os
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_generated(i, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text(str(i))
    assert path.read_text() == str(i)
    if i % 100 == 0:
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    if i % 10 == 0:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.create_connection(server.getsockname())
        client.close()
        server.close()
"""


def _time(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed in {cwd}: {proc.stderr[-500:]}")
    return elapsed


def measure(name: str, cwd: Path, pytest_args: list[str], runs: int, env: dict[str, str]) -> tuple[str, float, float]:
    plain = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *pytest_args]
    # The hook's environment is set directly: the `network run` wrapper's own start-up is not the plugin's cost.
    log = cwd / ".ci-helper-bench-net.jsonl"
    hooked_env = {**env, **network.environment(NetworkSettings(), log)}
    without, with_hook = [], []
    for _ in range(runs):
        without.append(_time(plain, cwd, env))
        log.unlink(missing_ok=True)
        with_hook.append(_time(plain, cwd, hooked_env))
    (cwd / ".ci-helper-bench-net.jsonl").unlink(missing_ok=True)
    return name, statistics.median(without), statistics.median(with_hook)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tests", type=int, default=2000)
    args = parser.parse_args()
    env = {**os.environ, "CI": "true"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        example = Path(tmp) / "diffusion-api"
        shutil.copytree(ROOT / "examples" / "diffusion-api", example)
        subprocess.run(
            [sys.executable, "-m", "ci_helper", "stubs", "create"], cwd=example, check=True, stdout=subprocess.DEVNULL
        )
        rows.append(measure("example quality tier", example, ["tests/quality"], args.runs, env))
        suite = Path(tmp) / "generated"
        suite.mkdir()
        (suite / "test_generated.py").write_text(GENERATED.replace("{n}", str(args.tests)), encoding="utf-8")
        rows.append(measure(f"generated suite ({args.tests} tests)", suite, [], args.runs, env))
    print("| suite | without plugin (s) | with plugin (s) | overhead |")
    print("|---|---:|---:|---:|")
    for name, without, with_hook in rows:
        print(f"| {name} | {without:.2f} | {with_hook:.2f} | {100 * (with_hook / without - 1):+.1f}% |")


if __name__ == "__main__":
    main()
