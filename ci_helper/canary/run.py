"""Run canary cases: each fixture in a fresh temporary folder, the gate as a real subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper import schemas
from ci_helper.canary.cases import Case, required_gates
from ci_helper.results import CheckResult

# A gate case must not hang the self-test: the smoke fixtures start servers.
CASE_TIMEOUT = 180.0
KILL_GRACE_SECONDS = 10.0


@dataclass
class Outcome:
    gate: str
    fixture: str
    expected: str
    got: str
    detail: str = ""
    seconds: float = 0.0
    rules: list[str] = field(default_factory=list)  # the finding rules the result carried

    @property
    def ok(self) -> bool:
        return self.expected == self.got


def _expand(value: str, values: dict[str, str]) -> str:
    for key, replacement in values.items():
        value = value.replace("{" + key + "}", replacement)
    return value


def _argv(command: list[str], values: dict[str, str]) -> list[str]:
    argv = [_expand(part, values) for part in command]
    if argv[0] == "python":
        return [sys.executable, *argv[1:]]
    if argv[0] == "ci-helper":
        return [sys.executable, "-m", "ci_helper", *argv[1:]]
    return argv


@contextlib.contextmanager
def _services(case: Case, folder: Path) -> Iterator[dict[str, str]]:
    values: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if "osv" in case.services:
            from ci_helper.canary.osv_server import serve_records

            records_file = folder / "osv.json"
            url = stack.enter_context(serve_records(records_file))
            values["osv_url"] = url
        yield values


def _clean_env() -> dict[str, str]:
    # The canary must see what the fixture declares, not the CI run it lives in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_", "COVERAGE_"))}
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """subprocess.run in a session of its own: on timeout the whole group goes, not only the direct child.

    SIGTERM first, so a gate that started a server (smoke) stops it; then SIGKILL for what is left.
    """
    proc = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=CASE_TIMEOUT)
    except BaseException:
        _stop_group(proc)
        raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _stop_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    try:
        # Whatever is left in the group (the leader, or helpers that outlived it).
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def run_case(case: Case, results_out: Path | None = None) -> Outcome:
    """Run one case in a fresh temporary folder; ``results_out`` keeps a copy of the result it wrote."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"ci-helper-canary-{case.gate.replace('/', '-')}-") as tmp:
        work = Path(tmp) / "project"
        shutil.copytree(case.folder, work)
        results_dir = Path(tmp) / "results"
        with _services(case, work) as values:
            values = {"fixture": str(work), **values}
            env = _clean_env()
            env.update({k: _expand(v, values) for k, v in case.env.items()})
            env["CI_HELPER_RESULTS_DIR"] = str(results_dir)
            try:
                for step in case.setup:
                    proc = _run(_argv(step, values), work, env)
                    # A bad fixture's setup may fail on purpose; a good fixture's must not, or its pass proves nothing.
                    if proc.returncode not in ((0, 1) if case.expect == "fail" else (0,)):
                        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
                        return Outcome(
                            case.gate,
                            case.fixture,
                            case.expect,
                            "error",
                            f"setup {' '.join(step)} exited {proc.returncode}: {tail[0]}",
                            time.monotonic() - start,
                        )
                proc = _run(_argv(case.command, values), work, env)
            except subprocess.TimeoutExpired as exc:
                return Outcome(
                    case.gate,
                    case.fixture,
                    case.expect,
                    "error",
                    f"timed out after {exc.timeout:.0f}s",
                    time.monotonic() - start,
                )
            except OSError as exc:  # a program that cannot start is a broken case, reported, not a crash
                return Outcome(
                    case.gate,
                    case.fixture,
                    case.expect,
                    "error",
                    f"cannot start {exc.filename or '?'}: {exc.strerror}",
                    time.monotonic() - start,
                )
        seconds = time.monotonic() - start
        result_file = results_dir / f"{case.check}.json"
        if not result_file.is_file():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
            return Outcome(
                case.gate,
                case.fixture,
                case.expect,
                "error",
                f"exit {proc.returncode}, no {case.check} result written: {tail[0]}",
                seconds,
            )
        try:
            result = CheckResult.from_dict(json.loads(result_file.read_text(encoding="utf-8")), str(result_file))
        except Exception as exc:  # a corrupt result is a canary failure, reported, not a crash
            return Outcome(case.gate, case.fixture, case.expect, "error", f"corrupt result: {exc}", seconds)
        invalid = schemas.problems(result)
        if invalid:
            # The summary would refuse it: a gate whose output no reader accepts proves nothing.
            return Outcome(
                case.gate,
                case.fixture,
                case.expect,
                "error",
                f"invalid {result.check} result: {invalid[0]} (ci_helper/schemas/{result.check}.json)",
                seconds,
            )
        if results_out is not None:
            results_out.mkdir(parents=True, exist_ok=True)
            shutil.copy2(result_file, results_out / result_file.name)
        got = result.status
        # Exit code and result must agree; a gate that writes fail but exits 0 is lying. A refusal of
        # bad input (stale or foreign data) is exit 2 with its fail result, when the case says so.
        expected_exit = 0 if got == "pass" else (case.exit or 1)
        if proc.returncode != expected_exit:
            return Outcome(
                case.gate,
                case.fixture,
                case.expect,
                "error",
                f"result says {got} but the command exited {proc.returncode}",
                seconds,
            )
        detail = result.reason or (result.findings[0].message if result.findings else "")
        fired = sorted({f.rule for f in result.findings})
        if got == "fail" and case.findings:
            absent = [rule for rule in case.findings if rule not in fired]
            if absent:
                # It failed, but not for the reason the fixture was written for: no proof of teeth.
                return Outcome(
                    case.gate,
                    case.fixture,
                    case.expect,
                    "wrong-reason",
                    f"no {', '.join(absent)} finding (got: {', '.join(fired) or 'none'})",
                    seconds,
                    fired,
                )
        return Outcome(case.gate, case.fixture, case.expect, got, detail, seconds, fired)


def missing_teeth(cases: list[Case], gates: tuple[str, ...] | None = None) -> list[Outcome]:
    """An outcome per required gate that has no bad (or no good) fixture."""
    gates = required_gates() if gates is None else gates
    problems = []
    for gate in gates:
        expects = {c.expect for c in cases if c.gate == gate}
        for wanted in ("fail", "pass"):
            if wanted not in expects:
                kind = "bad" if wanted == "fail" else "good"
                problems.append(
                    Outcome(gate, f"(no {kind} fixture)", wanted, "missing", f"gate {gate} registers no {kind} fixture")
                )
    return problems
