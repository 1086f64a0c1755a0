"""`ci-helper shard`: one balanced, deterministic slice of the collected tests.

Every shard collects the whole suite, splits it the same way and runs its own
group, so N matrix jobs need no coordination. The split is longest-first greedy
(LPT) on the durations of earlier JUnit files, with tests of unknown duration
counted at the mean of the known ones (all equal when nothing is known: a split by
counts). Ties break on the node id and the shard index, so the same inputs give the
same groups on every machine.

The ``shard`` result records the whole collected list's digest, the group's node
ids and the balance, so ``ci-helper combine`` can prove that every collected test
ran in exactly one shard.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ci_helper import junit, results
from ci_helper.errors import BadInput

CHECK = "shard"
SITE_DIR = Path(__file__).resolve().parent.parent / "shard_site"
PLUGIN = "ci_helper_shard"
COLLECT_OUT_ENV = "CI_HELPER_SHARD_COLLECT_OUT"
SELECT_ENV = "CI_HELPER_SHARD_SELECT"
RAN_OUT_ENV = "CI_HELPER_SHARD_RAN_OUT"
# pytest's exit codes: 5 means it collected nothing.
_NO_TESTS = 5


@dataclass(frozen=True)
class Plan:
    """The split of one collection into ``total`` groups."""

    groups: tuple[tuple[str, ...], ...]
    loads: tuple[float, ...]
    strategy: str  # "durations" or "counts"
    known: int  # tests whose duration an earlier JUnit file gave


def junit_key(node_id: str) -> tuple[str, str]:
    """pytest's JUnit ``(classname, name)`` for a node id (``tests/test_x.py::TestC::test_y[p]``)."""
    bracket = node_id.find("[")
    head, params = (node_id[:bracket], node_id[bracket:]) if bracket >= 0 else (node_id, "")
    parts = head.split("::")
    path = parts[0]
    module = path[:-3] if path.endswith(".py") else path
    classname = ".".join([module.replace("/", ".").replace("\\", "."), *parts[1:-1]])
    return classname, parts[-1] + params


def durations(files: list[str]) -> dict[tuple[str, str], float]:
    """Seconds per JUnit ``(classname, name)``, the last file winning for a test in several."""
    times: dict[tuple[str, str], float] = {}
    for file in files:
        times.update(junit.case_times(file))
    return times


def split(node_ids: list[str], total: int, times: dict[tuple[str, str], float] | None = None) -> Plan:
    """Deterministic LPT split of ``node_ids`` (in collection order) into ``total`` groups."""
    if total < 1:
        raise BadInput(f"--total must be at least 1, got {total}")
    times = times or {}
    known = {n: times[junit_key(n)] for n in node_ids if junit_key(n) in times}
    fallback = (sum(known.values()) / len(known)) if known else 1.0
    # A zero-length test still costs start-up; keep every weight positive so counts balance too.
    weight = {n: max(known.get(n, fallback), 1e-6) for n in node_ids}
    order = sorted(node_ids, key=lambda n: (-weight[n], n))
    heap = [(0.0, index) for index in range(total)]
    assigned: dict[str, int] = {}
    for node in order:
        load, index = heapq.heappop(heap)
        assigned[node] = index
        heapq.heappush(heap, (load + weight[node], index))
    groups = tuple(tuple(n for n in node_ids if assigned[n] == i) for i in range(total))
    loads = tuple(round(sum(weight[n] for n in g), 6) for g in groups)
    return Plan(groups, loads, "durations" if known else "counts", len(known))


def digest(node_ids: list[str]) -> str:
    """The collection's identity: every shard of one run must agree on it."""
    return hashlib.sha256("\n".join(node_ids).encode("utf-8")).hexdigest()


def _plugin_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    existing = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(SITE_DIR) + (os.pathsep + existing if existing else "")
    plugins = [p for p in env.get("PYTEST_PLUGINS", "").split(",") if p.strip()]
    env["PYTEST_PLUGINS"] = ",".join([*plugins, PLUGIN])
    env.update(extra)
    return env


def collect(python: str, pytest_args: list[str], cwd: Path) -> tuple[list[str] | None, str]:
    """(node ids, pytest's output tail); ids are None when collection failed."""
    with tempfile.TemporaryDirectory(prefix="ci-helper-shard-") as tmp:
        out = Path(tmp) / "collected.json"
        try:
            proc = subprocess.run(
                [python, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", *pytest_args],
                cwd=cwd,
                env=_plugin_env({COLLECT_OUT_ENV: str(out)}),
                capture_output=True,
                text=True,
            )
        except OSError as exc:
            raise BadInput(f"--python {python}: cannot run ({exc.strerror or exc})") from None
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        if proc.returncode == _NO_TESTS:
            return [], tail
        if proc.returncode != 0 or not out.exists():
            return None, tail
        return json.loads(out.read_text(encoding="utf-8")), tail


def run(
    python: str, pytest_args: list[str], cwd: Path, group: tuple[str, ...], coverage: bool = False
) -> tuple[int, list[str]]:
    """Run pytest on the group only (under ``coverage run --parallel-mode`` when asked); (exit code, node ids kept)."""
    with tempfile.TemporaryDirectory(prefix="ci-helper-shard-") as tmp:
        select = Path(tmp) / "select.json"
        ran = Path(tmp) / "ran.json"
        select.write_text(json.dumps(list(group)), encoding="utf-8")
        runner = (
            [python, "-m", "coverage", "run", "--parallel-mode", "-m", "pytest"]
            if coverage
            else [python, "-m", "pytest"]
        )
        proc = subprocess.run(
            [*runner, *pytest_args],
            cwd=cwd,
            env=_plugin_env({SELECT_ENV: str(select), RAN_OUT_ENV: str(ran)}),
        )
        kept = json.loads(ran.read_text(encoding="utf-8")) if ran.exists() else []
        return proc.returncode, kept


def execute(
    *,
    total: int,
    index: int,
    python: str,
    pytest_args: list[str],
    cwd: Path,
    duration_files: list[str],
    coverage: bool = False,
    required: bool = True,
) -> results.CheckResult:
    """Collect, split, run group ``index`` (1-based) and return the ``shard`` result."""
    if total < 1:
        raise BadInput(f"--total must be at least 1, got {total}")
    if not 1 <= index <= total:
        raise BadInput(f"--index must be from 1 to --total ({total}), got {index}")
    times = durations(duration_files)
    node_ids, tail = collect(python, pytest_args, cwd)
    base = {"total": total, "index": index}
    if node_ids is None:
        return results.failed(
            CHECK,
            {**base, "collected": 0, "selected": 0},
            [
                results.Finding(
                    "shard-collection",
                    f"pytest could not collect the tests: {tail.splitlines()[-1] if tail else 'no output'}",
                )
            ],
            required=required,
        )
    if not node_ids:
        return results.failed(
            CHECK,
            {**base, "collected": 0, "selected": 0},
            [results.Finding("shard-empty", "pytest collected no tests: a tier that runs zero tests failed")],
            required=required,
        )
    plan = split(node_ids, total, times)
    group = plan.groups[index - 1]
    figures = {
        **base,
        "collected": len(node_ids),
        "selected": len(group),
        "strategy": plan.strategy,
        "known_durations": plan.known,
        "expected_seconds": plan.loads[index - 1],
        "loads": list(plan.loads),
        "collected_digest": digest(node_ids),
        "tests": list(group),
    }
    if not group:
        return results.failed(
            CHECK,
            figures,
            [
                results.Finding(
                    "shard-empty",
                    f"shard {index} of {total} has no tests: {len(node_ids)} collected tests cannot fill {total} shards; lower --total",
                )
            ],
            required=required,
        )
    code, kept = run(python, pytest_args, cwd, group, coverage)
    figures["pytest_exit"] = code
    if sorted(kept) != sorted(group):
        missing = sorted(set(group) - set(kept))
        return results.failed(
            CHECK,
            figures,
            [
                results.Finding(
                    "shard-drift",
                    f"the run kept {len(kept)} of the {len(group)} tests of this shard"
                    + (f"; first missing: {missing[0]}" if missing else "")
                    + " (the collection changed between the two pytest runs)",
                )
            ],
            required=required,
        )
    if code != 0:
        return results.failed(
            CHECK,
            figures,
            [results.Finding("shard-tests", f"pytest exited {code} in shard {index} of {total}")],
            required=required,
        )
    return results.passed(CHECK, figures, required=required)
