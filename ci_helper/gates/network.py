"""The ``network`` check: every way out of the machine the offline plugin saw, as one result.

The plugin (``ci_helper/offline.py``) appends one JSON line per attempt to a log; this
gate reads that log after the tier and fails on any attempt outside the allow-list,
naming the test (or ``server``) that made it. No log, or a log without the plugin's
start line, is ``not-run``: an absent recorder proves nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ci_helper import results, run_start
from ci_helper.errors import BadInput
from ci_helper.offline import ALLOW_ENV, LOG_ENV, POLICIES, POLICY_ENV, WHO_ENV

if TYPE_CHECKING:
    from ci_helper.settings import NetworkSettings

CHECK = "network"
SITE_DIR = Path(__file__).resolve().parent.parent / "offline_site"
PLUGIN_MODULE = "ci_helper_offline"
# A log is read whole; a test suite that writes more than this is itself a finding to look at.
MAX_LOG_BYTES = 64 * 1024 * 1024
# Distinct (who, kind, target) listed in the figures, in the order first seen; the rest are counted.
MAX_LISTED = 50
_VERBS = {
    ("network", "resolve"): "resolved",
    ("network", "connect"): "connected to",
    ("clone", "subprocess"): "ran",
    ("download", "subprocess"): "ran",
    ("download", "model cache"): "opened",
}
_KINDS = {"network": "network-attempt", "clone": "network-clone", "download": "network-download"}


@dataclass(frozen=True)
class Attempt:
    kind: str
    target: str
    detail: str
    who: str
    stack: tuple[str, ...]


def validate(config: NetworkSettings) -> None:
    """Bad settings are bad input: an unknown policy, or an allow entry without a host or reason."""
    if config.policy not in POLICIES:
        raise BadInput(
            f"[tool.ci-helper.network] policy: unknown policy {config.policy!r}; use one of {', '.join(POLICIES)}"
        )
    for i, entry in enumerate(config.allow):
        if not entry.host.strip():
            raise BadInput(f"[tool.ci-helper.network] allow[{i}].host: give the host name the tests may reach")
        if not entry.reason.strip():
            raise BadInput(f"[tool.ci-helper.network] allow[{i}].reason: say why {entry.host} may be reached")


def environment(config: NetworkSettings, log: Path, who: str | None = None) -> dict[str, str]:
    """The variables that switch the offline hook on for a test or server process.

    ``PYTHONPATH`` puts our stdlib-only ``sitecustomize`` first (it chains to the
    project's own); ``PYTEST_PLUGINS`` attributes attempts to test node ids.
    """
    validate(config)
    env = {
        POLICY_ENV: config.policy,
        LOG_ENV: str(log.resolve()),
        ALLOW_ENV: ",".join(e.host.strip().lower() for e in config.allow),
        "PYTEST_PLUGINS": PLUGIN_MODULE,
    }
    existing = os.environ.get("PYTHONPATH", "")
    env["PYTHONPATH"] = str(SITE_DIR) + (os.pathsep + existing if existing else "")
    if who:
        env[WHO_ENV] = who
    return env


def run_hooked(argv: list[str], log: Path, who: str | None = None, project_dir: str = ".") -> int:
    """Run ``argv`` with the offline hook in every Python process it starts; its exit code.

    ``ci-helper network run`` (both the click command and the launcher's click-free path).
    Under Actions the command's stderr joins its stdout, so the runner reads both inside our
    fence (docs/security.md), in order, and no test name or traceback can be a workflow command.
    """
    import subprocess

    from ci_helper import gha, settings

    config = settings.load(project_dir)
    prepare_log(log)
    env = {**os.environ, **environment(config.network, log, who)}
    stderr = subprocess.STDOUT if gha.in_actions() else None
    try:
        completed = subprocess.run(list(argv), env=env, check=False, stderr=stderr)
    except OSError as exc:
        raise BadInput(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    return completed.returncode


def prepare_log(log: Path) -> None:
    """Erase a log an earlier run wrote; keep one this run already appends to (a tier earlier in the job).

    The smoke and quality tiers of one job share one log and the last network gate judges them all.
    Without a run start marker (a bare local call) any existing log is erased.
    """
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        if log.exists() and (run_start.started_at() is None or run_start.written_before_run(log)):
            log.unlink()
    except OSError as exc:
        raise BadInput(f"{log}: cannot prepare the network log ({exc.strerror or exc})") from None


def read_log(log: Path) -> tuple[bool, list[Attempt]]:
    """(whether the plugin started, the attempts) from a log; corrupt lines are bad input."""
    try:
        size = log.stat().st_size
    except FileNotFoundError:
        return False, []
    if size > MAX_LOG_BYTES:
        raise BadInput(
            f"{log}: network log is over {MAX_LOG_BYTES // (1024 * 1024)} MiB; something is looping on the network"
        )
    started = False
    attempts: list[Attempt] = []
    with log.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except ValueError:
                raise BadInput(
                    f"{log}:{number}: corrupt network log line; delete the log and run the tier again"
                ) from None
            if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
                raise BadInput(f"{log}:{number}: a network log line must be an object with a 'kind'")
            if raw["kind"] == "start":
                started = True
                continue
            stack: list[Any] = raw["stack"] if isinstance(raw.get("stack"), list) else []
            attempts.append(
                Attempt(
                    kind=raw["kind"],
                    target=str(raw.get("target", "")),
                    detail=str(raw.get("detail", "")),
                    who=str(raw.get("who") or "unknown"),
                    stack=tuple(str(s) for s in stack),
                )
            )
    return started, attempts


def _location(attempt: Attempt) -> tuple[str | None, int | None]:
    # The test's own file when the node id names one; else the innermost recorded frame.
    frames = []
    for frame in attempt.stack:
        where, _, _ = frame.partition(" in ")
        file, _, line = where.rpartition(":")
        if file and line.isdigit():
            frames.append((file, int(line)))
    if "::" in attempt.who:
        test_file = attempt.who.split("::", 1)[0]
        lines = [
            line for file, line in frames if file.replace(os.sep, "/").endswith("/" + test_file) or file == test_file
        ]
        return test_file, (lines[-1] if lines else None)
    if frames:
        innermost, at = frames[-1]
        # The server's own file, relative to the project (where the gate runs) as annotations need it.
        try:
            relative = os.path.relpath(innermost) if os.path.isabs(innermost) else innermost
        except ValueError:  # another drive on Windows
            relative = ".." + innermost
        return (innermost if relative.startswith("..") else Path(relative).as_posix()), at
    return None, None


def _listed(attempts: list[Attempt]) -> dict[str, object]:
    """The ``attempted`` figures: who made which attempt, and how often (what the summary lists)."""
    seen: dict[tuple[str, str, str], int] = {}
    for attempt in attempts:
        key = (attempt.who, attempt.kind, attempt.target)
        seen[key] = seen.get(key, 0) + 1
    listed = [
        {"who": who, "kind": kind, "target": target, "count": count}
        for (who, kind, target), count in list(seen.items())[:MAX_LISTED]
    ]
    return {"attempted": listed, "attempted_left_out": max(0, len(seen) - MAX_LISTED)}


def evaluate(log: Path, config: NetworkSettings, required: bool = True) -> results.CheckResult:
    """The ``network`` result for one tier's log."""
    validate(config)
    if not log.exists():
        return results.not_run(CHECK, f"no network log at {log}: the offline plugin did not run", required=required)
    if run_start.written_before_run(log):
        return results.failed(
            CHECK,
            {"policy": config.policy, "attempts": 0, "network": 0, "clones": 0, "downloads": 0, **_listed([])},
            [results.Finding("network-stale", f"stale: {log} was written before this run started")],
            required=required,
            reason="stale: written before this run started",
        )
    started, attempts = read_log(log)
    if not started:
        return results.not_run(CHECK, f"{log} has no start record: the offline plugin did not run", required=required)
    allowed = {e.host.strip().lower().rstrip(".") for e in config.allow}
    counted = [a for a in attempts if a.target.lower().rstrip(".") not in allowed]
    figures = {
        "policy": config.policy,
        "attempts": len(counted),
        "network": sum(a.kind == "network" for a in counted),
        "clones": sum(a.kind == "clone" for a in counted),
        "downloads": sum(a.kind == "download" for a in counted),
        **_listed(counted),
    }
    findings = []
    for attempt in counted:
        file, line = _location(attempt)
        verb = _VERBS.get((attempt.kind, attempt.detail), "reached")
        message = f"{attempt.who} {verb} {attempt.target} ({config.policy}ed)"
        findings.append(
            results.Finding(
                _KINDS.get(attempt.kind, "network-attempt"),
                message,
                file=file,
                line=line,
                data={"who": attempt.who, "kind": attempt.kind, "target": attempt.target, "stack": list(attempt.stack)},
            )
        )
    if counted:
        return results.failed(CHECK, figures, findings, required=required)
    return results.passed(CHECK, figures, required=required)
