"""What `ci-helper verify --run` and `ci-helper canary` cost, against running the same tiers by hand.

    python benchmarks/dry_run.py [--repeat 3]

The anchor runs the example's gates directly, in the order its two workflows run
them (guard, stubs create, smoke, coverage run + pytest, coverage gate, audit
offline); the difference is what the dry run adds: workflow discovery, the
runner's step machinery for every step of both jobs and their nested actions,
the static rules, and the summary. Medians of wall time, in seconds.
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
EXAMPLE = ROOT / "examples" / "diffusion-api"
CLI = [sys.executable, "-m", "ci_helper"]
OFFLINE = {"CI_HELPER_OSV_URL": "http://127.0.0.1:9/v1/query"}


def fresh_copy(tmp: Path) -> Path:
    copy = tmp / f"example-{time.monotonic_ns()}"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns(".ci-helper", "repositories", "__pycache__", ".coverage*", ".pytest_cache"),
    )
    # The same unreachable OSV endpoint for both (the quality action takes it from settings).
    with (copy / "pyproject.toml").open("a") as pyproject:
        pyproject.write('\n[tool.ci-helper.audit]\nosv-url = "http://127.0.0.1:9/v1/query"\n')
    return copy


def environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_"))}
    env.update(OFFLINE)
    return env


def timed(argv: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return seconds


def by_hand(project: Path) -> float:
    env = environ()
    guard_env = {
        **env,
        "GITHUB_REPOSITORY": "example-org/diffusion-api",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/1/merge",
        "GITHUB_BASE_REF": "main",
        "GITHUB_HEAD_REF": "x",
    }
    total = timed(CLI + ["guard"], project, guard_env)
    total += timed(CLI + ["stubs", "create"], project, env)
    roots = [project / "repositories"] + sorted(p for p in (project / "repositories").iterdir() if p.is_dir())
    stubbed = {**env, "PYTHONPATH": os.pathsep.join(map(str, roots)), "CI": "true"}
    total += timed(CLI + ["smoke"], project, stubbed)
    total += timed([sys.executable, "-m", "coverage", "run", "--parallel-mode", "-m", "pytest", "-q"], project, stubbed)
    total += timed(CLI + ["coverage", "gate"], project, stubbed)
    total += timed(CLI + ["audit", "--python", sys.executable, "--allow-offline"], project, env)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        dry = [timed(CLI + ["verify", "--run", str(fresh_copy(base))], ROOT, environ()) for _ in range(args.repeat)]
        hand = [by_hand(fresh_copy(base)) for _ in range(args.repeat)]
        canary = [
            timed(CLI + ["canary", "--results-dir", str(base / "canary")], ROOT, environ()) for _ in range(args.repeat)
        ]
    print(f"load average: {os.getloadavg()[0]:.1f}, repeats: {args.repeat}")
    print(f"gates by hand (anchor):               {statistics.median(hand):6.2f} s")
    print(
        f"verify --run examples/diffusion-api:  {statistics.median(dry):6.2f} s "
        f"(+{statistics.median(dry) - statistics.median(hand):.2f} s)"
    )
    print(f"canary (22 cases):                    {statistics.median(canary):6.2f} s")


if __name__ == "__main__":
    main()
