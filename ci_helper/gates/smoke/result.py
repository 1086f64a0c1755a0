"""The ``smoke`` check result: figures and findings from one :class:`SmokeRun`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ci_helper import junit, results
from ci_helper.gates.smoke import pytest_run
from ci_helper.gates.smoke.lifecycle import SmokeRun
from ci_helper.gates.smoke.process import SIGKILL, SIGTERM, STOP_URL
from ci_helper.gates.smoke.readiness import EXITED, TIMED_OUT

CHECK = "smoke"


def _display_path(path: Path) -> str:
    """Relative to where ci-helper runs when inside it (for annotations), else as is."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative


def _tail_text(lines: list[str]) -> str:
    return "\n".join(lines)


def _test_file(run: SmokeRun, name: str | None) -> str | None:
    """pytest writes files relative to its rootdir (normally the cwd): make them relative to ours."""
    if not name:
        return None
    candidate = run.config.cwd / name
    return _display_path(candidate) if candidate.exists() else name


def build(run: SmokeRun) -> results.CheckResult:
    cfg = run.config
    findings: list[results.Finding] = []
    figures: dict[str, Any] = {
        "tests": None,
        "passed": None,
        "failed": None,
        "skipped": None,
        "errors": None,
        "pytest_exit_code": None,
        "ready_seconds": None,
        "server_exit_code": None,
        "stop": None,
        "log": _display_path(cfg.log),
        "junit": _display_path(cfg.junit),
        "base_url": run.base_url,
        "server_pid": run.server_pid,
    }
    if cfg.coverage_data_file is not None:
        figures["coverage_data_file"] = _display_path(cfg.coverage_data_file)
    log_name = _display_path(cfg.log)

    if run.port_holder is not None:
        holder = run.port_holder
        findings.append(
            results.Finding(
                "smoke-port-in-use",
                holder.message(),
                data={"port": holder.port, "host": holder.host, "pid": holder.pid},
            )
        )
        return results.failed(CHECK, figures, findings)

    r = run.readiness
    if r is not None:
        figures["ready_seconds"] = round(r.seconds, 3) if r.ready else None
        if r.outcome == EXITED:
            findings.append(
                results.Finding(
                    "smoke-server-exited",
                    f"server exited with code {r.exit_code} before it was ready ({r.seconds:.2f} s after start); "
                    f"last {len(run.log_tail)} lines of {log_name} follow",
                    file=log_name,
                    data={"exit_code": r.exit_code, "log_tail": _tail_text(run.log_tail)},
                )
            )
        elif r.outcome == TIMED_OUT:
            findings.append(
                results.Finding(
                    "smoke-not-ready",
                    f"server not ready after {cfg.timeout:g} s: GET {run.ready_url} last answered "
                    f"{r.last_answer} (want HTTP {cfg.ready_status}); last {len(run.log_tail)} lines of {log_name} follow"
                    if run.ready_url.startswith("http")
                    else f"server not ready after {cfg.timeout:g} s: {run.ready_url} last answered {r.last_answer}; "
                    f"last {len(run.log_tail)} lines of {log_name} follow",
                    file=log_name,
                    data={"log_tail": _tail_text(run.log_tail)},
                )
            )

    if run.pytest is not None:
        figures["pytest_exit_code"] = run.pytest.exit_code
        findings.extend(_test_findings(run, figures))

    if run.died_during_tests is not None:
        findings.append(
            results.Finding(
                "smoke-server-died",
                f"server exited with code {run.died_during_tests} while the tests ran; "
                f"last {len(run.log_tail)} lines of {log_name} follow",
                file=log_name,
                data={"exit_code": run.died_during_tests, "log_tail": _tail_text(run.log_tail)},
            )
        )

    stop = run.stop
    if stop is not None:
        figures["stop"] = stop.method
        figures["server_exit_code"] = stop.exit_code
        figures["stop_seconds"] = stop.seconds
        if run.stop_url is not None and stop.stop_request is not None:
            figures["stop_request"] = stop.stop_request
        findings.extend(_stop_findings(run))

    if cfg.coverage_data_file is not None and r is not None:
        figures["coverage_data_written"] = bool(run.coverage_data_written)
        if not run.coverage_data_written:
            reason = (
                "the server was killed with SIGKILL, which coverage cannot survive"
                if stop is not None and stop.method == SIGKILL
                else "the server did not exit normally or through SIGTERM"
            )
            findings.append(
                results.Finding(
                    "smoke-coverage-data",
                    f"no coverage data was written to {_display_path(cfg.coverage_data_file)}: {reason}",
                    severity="warning",
                )
            )

    if any(f.severity == "error" for f in findings):
        return results.failed(CHECK, figures, findings)
    return results.passed(CHECK, figures, findings)


def _test_findings(run: SmokeRun, figures: dict[str, Any]) -> list[results.Finding]:
    cfg = run.config
    assert run.pytest is not None
    code = run.pytest.exit_code
    junit_name = _display_path(cfg.junit)
    try:
        report = junit.parse(cfg.junit)
    except junit.JUnitError as exc:
        meaning = pytest_run.EXIT_MEANINGS.get(code, "unknown exit code")
        return [
            results.Finding(
                "smoke-junit",
                f"no usable JUnit report from pytest (exit code {code}, {meaning}): {exc.message}",
                file=junit_name,
            )
        ]
    for key in ("tests", "passed", "failed", "skipped", "errors"):
        figures[key] = report.figures()[key]
    if report.flaky:
        figures["flaky"] = report.flaky
    findings: list[results.Finding] = []
    for case in report.problems:
        if case.outcome not in (junit.FAILED, junit.ERROR):
            continue
        verb = "failed" if case.outcome == junit.FAILED else "errored"
        first = case.message.strip().splitlines()[0] if case.message.strip() else ""
        # pytest's xunit1 line is 0-based (its item.location); annotations want 1-based.
        line = case.line + 1 if case.line is not None else None
        findings.append(
            results.Finding(
                "smoke-test-failed",
                f"{case.id} {verb}" + (f": {first}" if first else ""),
                file=_test_file(run, case.file),
                line=line,
                data={"test": case.id, "outcome": case.outcome},
            )
        )
    if report.problems_dropped:
        findings.append(
            results.Finding(
                "smoke-test-failed",
                f"{report.problems_dropped} more failed tests are not listed; see {junit_name}",
                file=junit_name,
            )
        )
    if report.ran == 0 or code == 5:
        findings.append(
            results.Finding(
                "smoke-no-tests",
                f"no test ran (pytest exit code {code}, {report.total} collected, {report.skipped} skipped): "
                "an empty smoke tier proves nothing; check the pytest arguments",
                file=junit_name,
            )
        )
    elif (
        code not in (0, 1)
        or (code == 1 and not (report.failed or report.errors))
        or (code == 0 and (report.failed or report.errors))
    ):
        meaning = pytest_run.EXIT_MEANINGS.get(code, "unknown exit code")
        findings.append(results.Finding("smoke-pytest", f"pytest exited with code {code} ({meaning})"))
    return findings


def _stop_findings(run: SmokeRun) -> list[results.Finding]:
    stop = run.stop
    assert stop is not None
    cfg = run.config
    findings: list[results.Finding] = []
    if run.stop_url is not None and stop.method in (SIGTERM, SIGKILL):
        request = stop.stop_request or "no answer"
        # Refused: nobody got the request, so there was no waiting for it.
        waited = (
            "" if request == "connection refused" else f" and the server was still running {cfg.stop_timeout:g} s later"
        )
        findings.append(
            results.Finding(
                "smoke-stop",
                f"stop problem: POST {run.stop_url} answered {request}{waited}; sent SIGTERM to its process group",
                severity="warning",
                data={"stop_request": stop.stop_request},
            )
        )
    elif run.stop_url is not None and stop.method == STOP_URL and not stop.stop_request_ok:
        findings.append(
            results.Finding(
                "smoke-stop",
                f"stop problem: POST {run.stop_url} answered {stop.stop_request}, but the server stopped",
                severity="note",
                data={"stop_request": stop.stop_request},
            )
        )
    if stop.method == SIGKILL:
        findings.append(
            results.Finding(
                "smoke-stop",
                f"stop problem: the server ignored SIGTERM for {cfg.stop_timeout:g} s; killed its process group with SIGKILL",
                severity="warning",
            )
        )
    if stop.survivors:
        findings.append(
            results.Finding(
                "smoke-stop-survivors",
                f"processes of the server's group survived SIGKILL: {', '.join(map(str, stop.survivors))}",
                data={"pids": stop.survivors},
            )
        )
    return findings
