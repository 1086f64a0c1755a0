"""Smoke tier: `ci-helper smoke` against the hand-written shell pattern it replaces.

The pattern (m-cahill/serena's smoke job): start the server in the background,
wait with a TCP connect loop (what wait-for-it does: it never looks at the
server process), run pytest, then `curl -X POST .../server-stop && sleep 10`.

Two scenarios, each timed as a real subprocess, interleaved, median of N runs:

- red: the server dies 0.5 s after start (exit code 3) with a readiness budget
  of --budget seconds. The loop waits out the whole budget; ci-helper is red
  as soon as the process is gone.
- green: a server that gets ready, two passing tests, a graceful stop; once
  as written (with `sleep 10`), once without the sleep (the lifecycle's own cost).

Usage: python benchmarks/smoke_lifecycle.py [--runs 3] [--budget 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "gates" / "fixtures" / "smoke"

SHELL_PATTERN = r"""
set -u
"$PY" "$SERVER" $PORT > output.txt 2>&1 &
deadline=$((SECONDS + BUDGET))
# wait-for-it: connect until the port answers or the budget is spent.
until (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do
  if [ $SECONDS -ge $deadline ]; then echo "timeout after $BUDGET s"; exit 1; fi
  sleep 1
done
CI_HELPER_BASE_URL=http://127.0.0.1:$PORT "$PY" -m pytest -q -p no:cacheprovider smoke_pass.py; status=$?
curl -s -X POST http://127.0.0.1:$PORT/server-stop && sleep $STOP_SLEEP
exit $status
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, proc.returncode


def scenario(
    server: str, budget: int, work: Path, stop_sleep: int
) -> tuple[list[float], list[float], set[int], set[int]]:
    ours, theirs, our_codes, their_codes = [], [], set(), set()
    env = dict(os.environ)
    for _ in range(ARGS.runs):
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "ci_helper",
            "smoke",
            "--server",
            f"{sys.executable} {server} {port}",
            "--ready-url",
            f"http://127.0.0.1:{port}/health",
            "--stop-url",
            f"http://127.0.0.1:{port}/server-stop",
            "--timeout",
            str(budget),
            "--results-dir",
            str(work / "results"),
            "--",
            "smoke_pass.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        seconds, code = timed(argv, work, env)
        ours.append(seconds)
        our_codes.add(code)
        port = free_port()
        shell_env = {
            **env,
            "PY": sys.executable,
            "SERVER": server,
            "PORT": str(port),
            "BUDGET": str(budget),
            "STOP_SLEEP": str(stop_sleep),
        }
        seconds, code = timed(["bash", "-c", SHELL_PATTERN], work, shell_env)
        theirs.append(seconds)
        their_codes.add(code)
    return ours, theirs, our_codes, their_codes


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(FIXTURES, work)
        load = os.getloadavg()[0]
        print(
            f"median of {ARGS.runs} interleaved runs; Python {sys.version.split()[0]}; "
            f"{os.cpu_count()} CPUs, load average {load:.1f}; readiness budget {ARGS.budget} s\n"
        )
        print("| scenario | ci-helper smoke | shell pattern | ratio | exit codes (ours / pattern) |")
        print("|---|---|---|---|---|")
        for name, server, stop_sleep in (
            ("red: server dies after 0.5 s", "dying_server.py", 10),
            ("green: ready, 2 tests pass, graceful stop", "good_server.py", 10),
            # The same without the pattern's fixed `sleep 10`: what the lifecycle itself costs.
            ("green, pattern without `sleep 10`", "good_server.py", 0),
        ):
            ours, theirs, oc, tc = scenario(server, ARGS.budget, work, stop_sleep)
            a, b = statistics.median(ours), statistics.median(theirs)
            print(f"| {name} | {a:.2f} s | {b:.2f} s | {a / b:.2f}x | {sorted(oc)} / {sorted(tc)} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=int, default=20, help="readiness budget in seconds for both")
    ARGS = parser.parse_args()
    main()
