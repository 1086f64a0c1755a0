"""Benchmark: the local runner's cost per expression and per step (docs/performance.md, "Local composite action runner").

Compares (1) parsing and evaluating typical `${{ }}` expressions, and (2) a
20-step composite action run through ``run_action`` against the same 20 bash
processes started directly: the difference is the runner's own overhead
(file commands, contexts, reporting). Run: ``python benchmarks/run_action_overhead.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ci_helper.runner import Reporter, run_action  # noqa: E402
from ci_helper.runner.expressions import Scope, compile_condition, compile_template  # noqa: E402

EXPRESSIONS = [
    "${{ github.event_name == 'pull_request' && github.base_ref || github.ref_name }}",
    "${{ contains(github.event.pull_request.labels.*.name, 'skip-ci') }}",
    "v${{ inputs.major }}.${{ inputs.minor }}-${{ runner.os }}",
    "${{ format('{0}/{1}', github.repository, hashFiles('nothing-matches-*')) }}",
    "${{ toJSON(fromJSON(inputs.matrix)) }}",
]
STEPS = 20


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    workspace = Path(tempfile.mkdtemp())
    contexts = {
        "github": {
            "event_name": "pull_request",
            "base_ref": "main",
            "ref_name": "7/merge",
            "repository": "o/r",
            "workspace": str(workspace),
            "event": {"pull_request": {"labels": [{"name": "bug"}, {"name": "skip-ci"}]}},
        },
        "inputs": {"major": "1", "minor": "2", "matrix": '{"os": ["ubuntu", "macos"], "py": [3.11, 3.12]}'},
        "runner": {"os": "Linux"},
    }
    scope = Scope.of(contexts)
    n = 2000
    parse = _best(lambda: [compile_template(e) for _ in range(n // len(EXPRESSIONS)) for e in EXPRESSIONS])
    compiled = [compile_template(e) for e in EXPRESSIONS]
    evaluate = _best(lambda: [t.evaluate(scope) for _ in range(n // len(EXPRESSIONS)) for t in compiled])
    condition = compile_condition("github.event_name == 'push' || failure()")
    cond = _best(lambda: [condition.evaluate(scope) for _ in range(n)])
    print(f"parse:     {parse / n * 1e6:8.1f} us per expression")
    print(f"evaluate:  {evaluate / n * 1e6:8.1f} us per expression (hashFiles included)")
    print(f"condition: {cond / n * 1e6:8.1f} us per if:")

    action = workspace / "bench"
    action.mkdir()
    steps = "".join(f'    - shell: bash\n      run: echo "n={i}" >> "$GITHUB_OUTPUT"\n' for i in range(STEPS))
    (action / "action.yml").write_text(f"runs:\n  using: composite\n  steps:\n{steps}")
    through_runner = []
    direct = []
    for _ in range(5):
        start = time.perf_counter()
        result = run_action(action, workspace=workspace, reporter=Reporter(quiet=True))
        through_runner.append(time.perf_counter() - start)
        assert result.outcome == "success"
        start = time.perf_counter()
        for i in range(STEPS):
            subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", f"echo n={i} > /dev/null"], check=True
            )
        direct.append(time.perf_counter() - start)
    runner_ms = statistics.median(through_runner) / STEPS * 1000
    direct_ms = statistics.median(direct) / STEPS * 1000
    print(f"step via run_action: {runner_ms:6.1f} ms per step (median of 5 runs of {STEPS} steps)")
    print(f"bare bash process:   {direct_ms:6.1f} ms per step")
    print(f"runner overhead:     {runner_ms - direct_ms:6.1f} ms per step")


if __name__ == "__main__":
    main()
