"""Benchmark: `ci-helper coverage gate` against coverage report / coverage json / coverage xml + diff-cover.

Generates, under a temporary folder, a project of MODULES modules (default
2,000 modules x 25 functions x 10 statements = 500,000 statements) in a git
repository, a feature branch that changes CHANGED files (default 40), and
SHARDS coverage data files (default 8) measured with branch coverage by
really running the code under `coverage run`. Then it times, in one run:

  coverage combine --keep      (the step every coverage-CLI pipeline needs first)
  coverage report --fail-under (the anchor: ratios are against this)
  coverage json
  coverage xml                 (diff-cover needs it)
  diff-cover                   (changed lines against the compare branch)
  ci-helper coverage gate      (combine + total + per-file + changed lines + markdown + JSON)

For each: wall time, the peak RSS of the largest single process (wait4), and
the peak RSS of the whole process tree (sampled from /proc every 10 ms; the
gate runs worker processes). It prints a markdown table and the changed-lines
percentages of diff-cover and ci-helper, with the lines on which they disagree.

    python benchmarks/coverage_bench.py                 # full size, ~10 min on 2 cores
    python benchmarks/coverage_bench.py --modules 100   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FUNC = """
def f{i}(x):
    total = {k}
    if x > {k}:
        total += x * 2
    else:
        total -= 1
    for j in range(3):
        if j == x:
            break
        total += j
    return total
"""

# Added on the feature branch: one new function per changed file, and one edited line.
NEW_FUNC = """
def changed_{i}(x, y):
    result = []
    if x:
        result.append(x)
    if y > x:
        result.append(y)
    else:
        result.append(-y)
    while y > 0:
        y -= 1
        result.append(y)
    return result
"""

SHARD = """
import importlib
import sys

shard, shards, modules, functions = (int(a) for a in sys.argv[1:5])
changed = set(int(a) for a in sys.argv[5].split(",") if a)
for m in range(modules):
    mod = importlib.import_module(f"proj.pkg{m // 100}.mod{m % 100}")
    if m % shards != shard:
        continue
    for i in range(functions):
        if (m + i) % 3:
            getattr(mod, f"f{i}")((m + i) % 5)
    if m in changed and m % 2:
        getattr(mod, f"changed_{m}")(m % 3, 2)
"""


def module_source(m: int, functions: int) -> str:
    return "".join(FUNC.format(i=i, k=(m + i) % 4) for i in range(functions))


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def generate(root: Path, modules: int, functions: int, shards: int, changed: int) -> list[int]:
    """Write the project, commit it on main, change files on a feature branch, measure the shards."""
    proj = root / "proj"
    for m in range(modules):
        pkg = proj / f"pkg{m // 100}"
        if not pkg.exists():
            pkg.mkdir(parents=True)
            (pkg / "__init__.py").write_text("")
        (pkg / f"mod{m % 100}.py").write_text(module_source(m, functions))
    (proj / "__init__.py").write_text("")
    (root / "run_shard.py").write_text(SHARD)
    (root / ".coveragerc").write_text(
        "[run]\nbranch = True\nsource = proj\nparallel = True\n\n[report]\nprecision = 2\n"
    )
    (root / ".gitignore").write_text(".coverage*\ncoverage.*\n*.json\n*.md\n__pycache__/\n")
    git("init", "-q", "-b", "main", cwd=root)
    git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "add", ".", cwd=root)
    git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-qm", "base", cwd=root)
    git("checkout", "-qb", "feature", cwd=root)
    chosen = sorted(random.Random(7).sample(range(modules), min(changed, modules)))
    for m in chosen:
        path = proj / f"pkg{m // 100}" / f"mod{m % 100}.py"
        text = path.read_text().replace("total += x * 2", "total += x * 3", 1)
        path.write_text(text + NEW_FUNC.format(i=m))
    git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-qam", "change", cwd=root)
    procs = []
    for s in range(shards):
        env = dict(os.environ, COVERAGE_FILE=str(root / "shards" / ".coverage"))
        (root / "shards").mkdir(exist_ok=True)
        args = [
            sys.executable,
            "-m",
            "coverage",
            "run",
            "--rcfile",
            str(root / ".coveragerc"),
            "run_shard.py",
            str(s),
            str(shards),
            str(modules),
            str(functions),
            ",".join(map(str, chosen)),
        ]
        procs.append(subprocess.Popen(args, cwd=root, env=env))
        if len(procs) >= 2:  # two at a time: the machine is shared
            procs.pop(0).wait()
    for p in procs:
        p.wait()
    return chosen


_PARENTS: dict[int, int] = {}


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and its descendants (Linux /proc; each process's parent read once)."""
    live = {int(e) for e in os.listdir("/proc") if e.isdigit()}
    for gone in set(_PARENTS) - live:
        del _PARENTS[gone]
    for p in live - set(_PARENTS):
        try:
            with open(f"/proc/{p}/stat", "rb") as handle:
                _PARENTS[p] = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            _PARENTS[p] = -1
    members = {pid}
    changed = True
    while changed:
        extra = {p for p, parent in _PARENTS.items() if parent in members and p not in members}
        members |= extra
        changed = bool(extra)
    total = 0
    page = os.sysconf("SC_PAGE_SIZE")
    for p in members:
        try:
            with open(f"/proc/{p}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            continue
    return total


def measure(name: str, args: list[str], cwd: Path) -> dict:
    """Run one command: wall time, CPU time, largest-process peak RSS, process-tree peak RSS."""
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    # wait4 counts the child and the descendants it waited for (the gate's workers).
    return {
        "name": name,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss": usage.ru_maxrss * 1024,
        "tree": peak[0],
        "rc": proc.returncode,
        "output": output,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", type=int, default=2000)
    parser.add_argument("--functions", type=int, default=25, help="functions per module (10 statements each)")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--changed", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=None, help="ci-helper --jobs (default: its own default)")
    parser.add_argument("--keep", action="store_true", help="keep the generated folder")
    parser.add_argument("--workdir", type=Path, help="generate here instead of a temporary folder")
    parser.add_argument("--reuse", action="store_true", help="reuse a project already generated in --workdir")
    args = parser.parse_args()

    root = args.workdir or Path(tempfile.mkdtemp(prefix="ci-helper-coverage-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        if not (args.reuse and (root / "shards").is_dir()):
            generate(root, args.modules, args.functions, args.shards, args.changed)
        print(
            f"generated {args.modules} modules, {args.shards} shards in {time.perf_counter() - t0:.1f} s under {root}",
            file=sys.stderr,
        )
        py = sys.executable
        cov = [py, "-m", "coverage"]
        helper = [py, "-m", "ci_helper"]
        runs = [
            measure("coverage combine --keep", [*cov, "combine", "--keep", "shards"], root),
            measure("coverage report --fail-under=40", [*cov, "report", "--fail-under=40"], root),
            measure("coverage json", [*cov, "json", "-o", "coverage.json"], root),
            measure("coverage xml", [*cov, "xml", "-o", "coverage.xml"], root),
            measure(
                "diff-cover",
                [
                    py,
                    "-m",
                    "diff_cover.diff_cover_tool",
                    "coverage.xml",
                    "--compare-branch=main",
                    "--fail-under=80",
                    "--json-report",
                    "diff-cover.json",
                ],
                root,
            ),
        ]
        gate = [
            *helper,
            "coverage",
            "gate",
            "--data-file",
            "shards",
            "--fail-under",
            "40",
            "--per-file-fail-under",
            "20",
            "--diff-fail-under",
            "80",
            "--compare-branch",
            "main",
            "--json-out",
            "ci-helper.json",
            "--markdown-out",
            "ci-helper.md",
            "--results-dir",
            "results",
        ]
        if args.jobs:
            gate += ["--jobs", str(args.jobs)]
        runs.append(measure("ci-helper coverage gate", gate, root))
        runs.append(measure("ci-helper coverage gate --jobs 1", [*gate, "--jobs", "1"], root))
        report(runs, root)
    finally:
        if not args.keep and not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def report(runs: list[dict], root: Path) -> None:
    by_name = {r["name"]: r for r in runs}
    anchor = by_name["coverage report --fail-under=40"]
    mib = 1024 * 1024
    print(f"load average before the runs: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPUs: {os.cpu_count()}")
    print(
        "| command | exit | wall (s) | wall x report | CPU (s) | CPU x report | peak RSS, largest process (MiB) "
        "| peak RSS, process tree (MiB) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(
            f"| `{r['name']}` | {r['rc']} | {r['wall']:.2f} | {r['wall'] / anchor['wall']:.2f} | {r['cpu']:.2f} | "
            f"{r['cpu'] / anchor['cpu']:.2f} | {r['maxrss'] / mib:.0f} | {r['tree'] / mib:.0f} |"
        )
    xml_diff = by_name["coverage xml"]["wall"] + by_name["diff-cover"]["wall"]
    print(
        f"\ncoverage xml + diff-cover: {xml_diff:.2f} s; "
        f"coverage combine + report: {by_name['coverage combine --keep']['wall'] + anchor['wall']:.2f} s"
    )
    report_total = next((line.split()[-1] for line in anchor["output"].splitlines() if line.startswith("TOTAL")), "?")
    print(f"coverage report TOTAL: {report_total}")
    for r in runs:
        if r["name"].startswith("ci-helper"):
            print(f"\n{r['name']} output:\n{r['output']}")
    compare_changed_lines(root)


def compare_changed_lines(root: Path) -> None:
    """diff-cover's changed-lines figure against ci-helper's, and the lines where they differ."""
    try:
        theirs = json.loads((root / "diff-cover.json").read_text())
        ours = json.loads((root / "ci-helper.json").read_text())["changed_lines"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot compare changed lines: {exc}")
        return
    print(
        f"diff-cover: {theirs.get('total_percent_covered')}% of {theirs.get('total_num_lines')} lines, "
        f"{theirs.get('total_num_violations')} uncovered"
    )
    print(
        f"ci-helper:  {ours['percent_covered_display']}% of {ours['num_statements']} lines, "
        f"{ours['missing_lines']} uncovered"
    )
    differences = 0
    their_files = theirs.get("src_stats", {})
    for name in sorted(set(their_files) | set(ours["files"])):
        t = their_files.get(name, {})
        o = ours["files"].get(name, {"statements": [], "missing_lines": []})
        t_missing = set(t.get("violation_lines", []))
        t_all = set(t.get("covered_lines", [])) | t_missing
        if t_all != set(o["statements"]) or t_missing != set(o["missing_lines"]):
            differences += 1
            print(
                f"  {name}: diff-cover lines {sorted(t_all)} missing {sorted(t_missing)}; "
                f"ci-helper lines {o['statements']} missing {o['missing_lines']}"
            )
    print(f"files where the two disagree: {differences}")


if __name__ == "__main__":
    raise SystemExit(main())
