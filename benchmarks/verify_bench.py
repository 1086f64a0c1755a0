"""Benchmark: `ci-helper verify` against `zizmor --offline`, and `ci-helper --version` against a bare import.

Generates a synthetic but realistic corpus (workflows with matrices, multi-line
scripts, anchors, reusable-workflow calls, local composite actions; pinned and
unpinned refs mixed) into a temporary folder, then times each command as a real
subprocess and prints a markdown table with the ratios.

    pip install -e '.[bench]'
    python benchmarks/verify_bench.py [--runs 5] [--workflows 200] [--actions 60] [--keep DIR] [--no-compile]
    python benchmarks/verify_bench.py --real CORPUS_DIR [--runs 5]

``--real`` times the real corpus instead (benchmarks/corpus.txt, each repository's ``.github/``
extracted into ``CORPUS_DIR/owner+name`` as benchmarks/verify_corpus.py describes): one process per
repository for each tool, as a user runs it, repositories and tools interleaved in one process tree;
a run's time is the sum over the repositories, and the table gives the median run.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHAS = [f"{i:02x}" * 20 for i in range(16, 40)]
REMOTE = [
    "actions/checkout",
    "actions/setup-python",
    "actions/cache",
    "actions/upload-artifact",
    "actions/download-artifact",
    "docker/build-push-action",
    "codecov/codecov-action",
    "github/codeql-action/init",
]
TAGS = ["v4", "v5", "v3.2.1", "main", "release/v2"]
SCRIPTS = [
    "python -m pip install --upgrade pip\npython -m pip install -e '.[test]'",
    "python -m pytest -q --junitxml=junit.xml tests/",
    "coverage run -m pytest -q\ncoverage report --fail-under=80",
    "ruff check .\nruff format --check .",
    "mypy src/ --strict",
    "pip-audit -r requirements.txt",
    "set -o pipefail\npytest -q | tee pytest.log",
    "pytest tests/smoke || true",
    'echo "sha=$GITHUB_SHA" >> "$GITHUB_OUTPUT"',
    'if [ "$GITHUB_REPOSITORY" != "acme/app" ]; then\n  echo "::error::wrong repository"\n  exit 1\nfi',
    "cat <<EOF > config.ini\n[app]\nmode = ci\nEOF",
    "set +e\npytest -q tests/integration\nstatus=$?\nexit $status",
]


def ref(rng: random.Random, name: str) -> str:
    if rng.random() < 0.6:
        return f"{name}@{rng.choice(SHAS)} # {rng.choice(TAGS)}"
    return f"{name}@{rng.choice(TAGS)}"


def script_block(rng: random.Random, indent: str) -> str:
    lines = []
    for _ in range(rng.randint(1, 3)):
        lines.extend(rng.choice(SCRIPTS).splitlines())
    return "|\n" + "".join(f"{indent}  {line}\n" for line in lines)


def workflow(rng: random.Random, index: int, actions: int) -> str:
    out = [f"name: pipeline-{index}", "on:"]
    out += [
        "  push:",
        "    branches: [main]",
        "  pull_request:",
        "    types: [opened, synchronize]",
        "  workflow_dispatch:",
    ]
    if rng.random() < 0.7:
        out += ["permissions:", "  contents: read"]
    out += [
        "env:",
        "  PYTHONUNBUFFERED: '1'",
        "  PIP_DISABLE_PIP_VERSION_CHECK: '1'",
        "defaults:",
        "  run:",
        "    shell: bash",
        "jobs:",
    ]
    for job in range(rng.randint(2, 4)):
        if job == 0 and rng.random() < 0.3:
            out += [
                f"  call-{job}:",
                f"    uses: ./.github/workflows/reusable-{rng.randrange(10)}.yml",
                "    with:",
                "      python-version: '3.12'",
                "    secrets: inherit",
            ]
            continue
        out += [f"  job-{job}:", "    runs-on: ${{ matrix.os }}", "    timeout-minutes: 30"]
        if rng.random() < 0.2:
            out += ["    continue-on-error: ${{ matrix.experimental }}"]
        out += [
            "    strategy:",
            "      fail-fast: false",
            "      matrix:",
            "        os: [ubuntu-latest, windows-latest]",
            "        python: ['3.10', '3.11', '3.12']",
            "    steps:",
        ]
        out += [
            f"      - uses: {ref(rng, 'actions/checkout')}",
            "        with:",
            "          persist-credentials: false",
        ]
        out += [
            f"      - uses: {ref(rng, 'actions/setup-python')}",
            "        with:",
            "          python-version: ${{ matrix.python }}",
            "          cache: pip",
        ]
        for step in range(rng.randint(3, 6)):
            kind = rng.random()
            if kind < 0.55:
                out += [f"      - name: step {step}", "        run: " + script_block(rng, "          ").rstrip("\n")]
                if rng.random() < 0.1:
                    out += ["        continue-on-error: true"]
            elif kind < 0.8:
                out += [
                    f"      - uses: {ref(rng, rng.choice(REMOTE))}",
                    "        with:",
                    f"          key: k-{step}",
                    "          path: |",
                    "            ~/.cache/pip",
                    "            .venv",
                ]
            else:
                out += [
                    f"      - uses: ./.github/actions/act-{rng.randrange(actions)}",
                    "        with:",
                    f"          mode: m{step}",
                ]
    return "\n".join(out) + "\n"


def reusable(rng: random.Random, index: int) -> str:
    text = workflow(rng, 1000 + index, 10)
    return text.replace(
        "on:\n  push:\n    branches: [main]\n  pull_request:\n    types: [opened, synchronize]\n  workflow_dispatch:\n",
        "on:\n  workflow_call:\n    inputs:\n      python-version:\n        type: string\n        required: true\n",
    )


def action(rng: random.Random, index: int, actions: int) -> str:
    out = [
        f"name: act-{index}",
        "description: a composite action of the corpus",
        "inputs:",
        "  mode:",
        "    description: what to do",
        "    default: fast",
        "outputs:",
        "  result:",
        "    description: the result",
        "    value: ${{ steps.main.outputs.result }}",
        "runs:",
        "  using: composite",
        "  steps:",
    ]
    for step in range(rng.randint(5, 10)):
        kind = rng.random()
        if kind < 0.6:
            out += [
                f"    - name: step {step}",
                "      shell: bash",
                "      env:",
                "        MODE: ${{ inputs.mode }}",
                "      run: " + script_block(rng, "        ").rstrip("\n"),
            ]
        elif kind < 0.85:
            out += [f"    - uses: {ref(rng, rng.choice(REMOTE))}", "      with:", f"        key: a-{step}"]
        else:
            out += [f"    - uses: $/.github/actions/act-{rng.randrange(actions)}"]
    out += ["    - id: main", "      shell: bash", '      run: echo "result=ok" >> "$GITHUB_OUTPUT"']
    return "\n".join(out) + "\n"


def generate(root: Path, workflows: int, actions: int, seed: int = 7) -> tuple[int, int]:
    rng = random.Random(seed)
    wf_dir = root / ".github" / "workflows"
    wf_dir.mkdir(parents=True)
    files = lines = 0
    for i in range(workflows):
        text = workflow(rng, i, actions)
        (wf_dir / f"pipeline-{i}.yml").write_text(text)
        files, lines = files + 1, lines + text.count("\n")
    for i in range(10):
        text = reusable(rng, i)
        (wf_dir / f"reusable-{i}.yml").write_text(text)
        files, lines = files + 1, lines + text.count("\n")
    for i in range(actions):
        folder = root / ".github" / "actions" / f"act-{i}"
        folder.mkdir(parents=True)
        text = action(rng, i, actions)
        (folder / "action.yml").write_text(text)
        files, lines = files + 1, lines + text.count("\n")
    return files, lines


def run_once(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system of the child) seconds of one run; the exit status is ignored (findings are expected)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed_pair(
    first: list[str], second: list[str], runs: int, cwd: Path
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median (wall, cpu) of each command, runs interleaved so both see the same machine load; one warm-up each."""
    run_once(first, cwd)
    run_once(second, cwd)
    a, b = [], []
    for _ in range(runs):
        a.append(run_once(first, cwd))
        b.append(run_once(second, cwd))

    def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)

    return median(a), median(b)


def timed_real(
    first: list[str], second: list[str], folders: list[Path], runs: int, cwd: Path
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Median over runs of the summed (wall, cpu) of one process per folder for each command (folder appended)."""
    for folder in folders:  # warm-up: file cache and bytecode
        run_once([*first, str(folder)], cwd)
        run_once([*second, str(folder)], cwd)
    a, b = [], []
    for _ in range(runs):
        sums = [[0.0, 0.0], [0.0, 0.0]]
        for folder in folders:
            for index, cmd in enumerate((first, second)):
                wall, cpu = run_once([*cmd, str(folder)], cwd)
                sums[index][0] += wall
                sums[index][1] += cpu
        a.append(tuple(sums[0]))
        b.append(tuple(sums[1]))

    def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)

    return median(a), median(b)


def real_folders(corpus: Path) -> list[Path] | None:
    listed = Path(__file__).with_name("corpus.txt")
    folders = []
    for line in listed.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            folder = corpus / line.split()[0].replace("/", "+")
            if not (folder / ".github").is_dir():
                print(
                    f"{folder}: missing; extract the repository's .github/ there first "
                    "(see benchmarks/verify_corpus.py)",
                    file=sys.stderr,
                )
                return None
            folders.append(folder)
    return folders


def count_files(folders: list[Path]) -> tuple[int, int]:
    """Workflow and action files (as verify discovers them) and their lines."""
    from ci_helper.workflows.discovery import discover

    files = lines = 0
    for folder in folders:
        workflows, actions = discover(folder, [])
        for path, _rel in workflows + actions:
            files += 1
            lines += path.read_bytes().count(b"\n")
    return files, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workflows", type=int, default=180)
    parser.add_argument("--actions", type=int, default=100)
    parser.add_argument("--keep", type=Path, help="generate the corpus here and keep it")
    parser.add_argument(
        "--ci-helper",
        dest="ci_helper",
        type=Path,
        metavar="EXE",
        help="the ci-helper executable to time (default: the one beside this Python); a regular "
        "(not editable) install measures what users run",
    )
    parser.add_argument(
        "--real",
        type=Path,
        metavar="CORPUS_DIR",
        help="time the real corpus (benchmarks/corpus.txt) extracted under CORPUS_DIR, one process per repository",
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="do not byte-compile ci_helper first; with its __pycache__ folders deleted this measures "
        "an editable install that never caches bytecode (PYTHONDONTWRITEBYTECODE=1)",
    )
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    ci_helper = (
        str(args.ci_helper)
        if args.ci_helper
        else (shutil.which("ci-helper", path=str(bin_dir)) or shutil.which("ci-helper"))
    )
    zizmor = shutil.which("zizmor", path=str(bin_dir)) or shutil.which("zizmor")
    if not ci_helper or not zizmor:
        print("needs ci-helper and zizmor on PATH: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    if not args.no_compile:
        # pip byte-compiles a package when it installs it, so users never pay for compiling our
        # modules; an editable install run with PYTHONDONTWRITEBYTECODE=1 would recompile all of
        # them on every run (about 0.03 s here).
        import ci_helper as package

        compileall.compile_dir(Path(package.__file__).parent, quiet=1)

    zizmor_version = subprocess.run([zizmor, "--version"], capture_output=True, text=True).stdout.strip()
    if args.real:
        folders = real_folders(args.real)
        if folders is None:
            return 2
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["CI_HELPER_RESULTS_DIR"] = str(Path(tmp) / "results")
            verify, ziz = timed_real(
                [ci_helper, "verify", "--format", "json"],
                [zizmor, "--offline", "--format", "plain"],
                folders,
                args.runs,
                Path(tmp),
            )
        files, lines = count_files(folders)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(
            f"real corpus: {len(folders)} repositories, {files} workflow and action files, {lines} lines; one "
            f"process per repository, summed; median of {args.runs} interleaved runs after a warm-up; "
            f"{zizmor_version}; {ci_helper}; Python {sys.version.split()[0]}; "
            f"bytecode {'not compiled by the benchmark' if args.no_compile else 'precompiled'}; "
            f"{os.cpu_count()} CPUs, load average {load:.1f}"
        )
        print()
        print(
            "| comparison | ci-helper wall | reference wall | wall ratio | ci-helper CPU | reference CPU | CPU ratio "
            "| goal |"
        )
        print("|---|---|---|---|---|---|---|---|")
        (wall, cpu), (ref_wall, ref_cpu) = verify, ziz
        print(
            f"| `ci-helper verify` vs `zizmor --offline`, per repository | {wall:.3f} s | {ref_wall:.3f} s | "
            f"{wall / ref_wall:.2f}x | {cpu:.3f} s | {ref_cpu:.3f} s | {cpu / ref_cpu:.2f}x | <= 0.5x (wall) |"
        )
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.keep or Path(tmp) / "corpus"
        if corpus.exists():
            shutil.rmtree(corpus)
        files, lines = generate(corpus, args.workflows, args.actions)
        env_cwd = Path(tmp)
        results_dir = Path(tmp) / "results"
        os.environ["CI_HELPER_RESULTS_DIR"] = str(results_dir)
        verify, ziz = timed_pair(
            [ci_helper, "verify", str(corpus), "--format", "json"],
            [zizmor, "--offline", "--format", "plain", str(corpus)],
            args.runs,
            env_cwd,
        )
        version, bare = timed_pair(
            [ci_helper, "--version"], [sys.executable, "-c", "import click, yaml"], args.runs * 2, env_cwd
        )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"corpus: {files} files ({args.workflows + 10} workflows, {args.actions} composite actions), {lines} lines; "
        f"median of {args.runs} interleaved runs (version rows: {args.runs * 2}) after a warm-up; {zizmor_version}; "
        f"{ci_helper}; "
        f"Python {sys.version.split()[0]}; bytecode {'not compiled by the benchmark' if args.no_compile else 'precompiled'}; "
        f"{os.cpu_count()} CPUs, load average {load:.1f}"
    )
    print()
    print(
        "| comparison | ci-helper wall | reference wall | wall ratio | ci-helper CPU | reference CPU | CPU ratio | goal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rows = [
        ("`ci-helper verify` vs `zizmor --offline`", verify, ziz, "<= 0.5x"),
        ('`ci-helper --version` vs `python -c "import click, yaml"`', version, bare, "<= 1.5x"),
    ]
    for name, (wall, cpu), (ref_wall, ref_cpu), goal in rows:
        print(
            f"| {name} | {wall:.3f} s | {ref_wall:.3f} s | {wall / ref_wall:.2f}x | {cpu:.3f} s | {ref_cpu:.3f} s | "
            f"{cpu / ref_cpu:.2f}x | {goal} (wall) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
