"""Wall time of the guardrails step and of the shared setup action.

Anchor: the hand-written bash guard it replaces (`[ "$GITHUB_REPOSITORY" = ... ]`),
and `ci-helper --version` (the floor of any ci-helper call). Prints a markdown
table of medians over --repeat runs. `--full-install` also times a fresh
install into a virtualenv (it needs the package index, so it is opt-in).

    python benchmarks/guard_setup.py [--repeat 7] [--full-install]
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
HOME = "truthful-ci/ci-helper"


def timed(argv: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--full-install", action="store_true")
    args = parser.parse_args()
    ci_helper = shutil.which("ci-helper")
    if not ci_helper:
        sys.exit("ci-helper is not on PATH: pip install -e . first")
    with tempfile.TemporaryDirectory() as tmp:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_"))}
        env = {
            **base,
            "GITHUB_REPOSITORY": HOME,
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/main",
            "CI_HELPER_RESULTS_DIR": tmp,
            "GITHUB_OUTPUT": os.path.join(tmp, "out"),
        }
        setup = {**env, "CI_HELPER_ACTION_PATH": str(ROOT / "actions" / "setup")}
        rows = [
            (
                'bash guard (anchor): `[ "$GITHUB_REPOSITORY" = ... ]`',
                ["bash", "-c", f'[ "$GITHUB_REPOSITORY" = "{HOME}" ] || exit 1'],
                env,
            ),
            ("`ci-helper --version`", [ci_helper, "--version"], env),
            (
                "`ci-helper guard` (repository, ref, event)",
                [ci_helper, "guard", "--repository", HOME, "--ref", "main", "--event", "push"],
                env,
            ),
            ("`ci-helper guard --pins` (this repository)", [ci_helper, "guard", "--repository", HOME, "--pins"], env),
            ("setup, no-op (this checkout on PATH)", [sys.executable, str(ROOT / "actions/setup/install.py")], setup),
        ]
        print("| step | median wall time (s) |")
        print("|---|---|")
        for name, argv, run_env in rows:
            print(f"| {name} | {timed(argv, run_env, args.repeat):.3f} |")
        if args.full_install:
            bare = {
                **setup,
                "PATH": os.pathsep.join(
                    p for p in os.environ["PATH"].split(os.pathsep) if not (Path(p) / "ci-helper").exists()
                ),
                "RUNNER_TEMP": os.path.join(tmp, "runner-temp"),
                "GITHUB_PATH": os.path.join(tmp, "path"),
                "CI_HELPER_PIP_CACHE_DIR": os.path.join(tmp, "pip-cache"),
            }
            argv = [sys.executable, str(ROOT / "actions/setup/install.py")]
            print(f"| setup, fresh virtualenv + core install | {timed(argv, bare, 1):.3f} |")
            print(f"| setup, same job again (virtualenv reused) | {timed(argv, bare, args.repeat):.3f} |")


if __name__ == "__main__":
    main()
