"""The run's start marker: inputs written before it are stale (DESIGN "Check result").

Our setup action (and ``verify --run``) records when the run started; every gate
that reads an input produced by an earlier step (coverage data, JUnit files,
check results) compares the input's modification time with this marker and
refuses what was written before the run began.

Where it lives and why a later step cannot move it back silently:

- under ``$RUNNER_TEMP/ci-helper/`` in CI, outside the checkout, so nothing in the
  repository can ship one (``.ci-helper/`` of the current folder elsewhere);
- written once per run: a later ``mark()`` (setup called again by the next action
  of the job) leaves it alone; a marker left by another run (``GITHUB_RUN_ID``,
  ``GITHUB_RUN_ATTEMPT`` and ``GITHUB_JOB`` differ) is replaced by ``mark()`` and
  refused by ``started_at()``;
- read-only, and its modification time is set to the recorded start: a marker
  rewritten later (by an editor, ``echo >``, a copy) carries a newer mtime than the
  start it claims and is refused (exit 2) instead of trusted;
- a start in the future is refused too (it would make every input look stale).
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

try:
    from ci_helper.errors import BadInput as _Refusal
except ImportError:  # the setup action imports this module with a bare interpreter (no click)
    _Refusal = Exception  # type: ignore[assignment,misc]


class MarkerError(_Refusal):
    """A marker that cannot be trusted: bad input (exit 2) naming the marker file."""


MARKER_NAME = "run-start.json"
# Filesystems with coarse timestamps (FAT: 2 s, some network mounts: 1 s) may
# round an input's mtime below the marker's time; this much slack is allowed.
MTIME_SLACK_SECONDS = 2.0
# The variables that tell one run (and job) from another; empty outside GitHub Actions.
IDENTITY_ENV = ("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB")


def marker_path(runner_temp: str | os.PathLike[str] | None = None) -> Path:
    """Where this run's marker lives (``runner_temp`` defaults to ``$RUNNER_TEMP``)."""
    folder = os.fspath(runner_temp) if runner_temp is not None else os.environ.get("RUNNER_TEMP")
    if folder:
        return Path(folder) / "ci-helper" / MARKER_NAME
    return Path(".ci-helper") / MARKER_NAME


def _identity() -> dict[str, str]:
    return {name: os.environ.get(name, "") for name in IDENTITY_ENV}


def _other_run(recorded: object) -> bool:
    """True when the marker names a run other than this one.

    Never outside GitHub Actions, and never for a marker that names no run (``verify --run``
    writes those, before its local runner gives the steps their simulated run id).
    """
    current = _identity()
    if not current["GITHUB_RUN_ID"] or not isinstance(recorded, dict) or not recorded.get("GITHUB_RUN_ID"):
        return False
    return any(str(recorded.get(name, "")) != value for name, value in current.items())


def iso(timestamp: float) -> str:
    """A timestamp as the UTC time users read in messages (``2026-12-01T10:00:00Z``)."""
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def mark(*, fresh: bool = False, at: float | None = None, runner_temp: str | os.PathLike[str] | None = None) -> float:
    """Record the run's start (once); return the recorded time.

    ``fresh`` replaces an existing marker: only ``verify --run`` uses it, for a new
    local run, with ``at`` (the dry run's own start) and the job's ``runner_temp``.
    """
    path = marker_path(runner_temp)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not fresh and path.exists():
        recorded = _read(path)
        if not _other_run(recorded.get("run")):
            return _validated(path, recorded)
    now = time.time() if at is None else at
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"started_at": now, "started": iso(now), "run": _identity()}), encoding="utf-8")
    os.utime(tmp, (now, now))
    os.chmod(tmp, 0o444)
    os.replace(tmp, path)
    return now


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MarkerError(
            f"{path}: the run's start marker is unreadable ({exc}); delete it and run setup again"
        ) from None
    if not isinstance(raw, dict):
        raise MarkerError(f"{path}: the run's start marker is not a JSON object; delete it and run setup again")
    return raw


def _validated(path: Path, raw: dict[str, Any]) -> float:
    value = raw.get("started_at")
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or value != value
        or value in (float("inf"), float("-inf"))
    ):
        raise MarkerError(f"{path}: the run's start marker has no valid started_at; delete it and run setup again")
    value = float(value)
    if value > time.time() + 60:
        raise MarkerError(
            f"{path}: the run's start marker lies in the future ({iso(value)}); "
            "check the machine's clock, delete the marker and run setup again"
        )
    written = path.stat().st_mtime
    if abs(written - value) > MTIME_SLACK_SECONDS:
        raise MarkerError(
            f"{path}: the run's start marker was rewritten after setup wrote it (it says {iso(value)}, "
            f"the file was written {iso(written)}); a step may not move the run's start: "
            "delete it and run setup again"
        )
    return value


def started_at() -> float | None:
    """The run's start time, or None when no marker was written (a bare local call)."""
    path = marker_path()
    if not path.exists():
        return None
    raw = _read(path)
    if _other_run(raw.get("run")):
        other = raw.get("run") or {}
        raise MarkerError(
            f"{path}: the run's start marker was left by another run "
            f"(run {other.get('GITHUB_RUN_ID', '?')} attempt {other.get('GITHUB_RUN_ATTEMPT', '?')}, "
            f"job {other.get('GITHUB_JOB', '?')}); run ci-helper's setup action first in this job"
        )
    return _validated(path, raw)


def written_before_run(path: Path, start: float | None = None) -> bool:
    """True when ``path`` was last written before the run started (False without a marker)."""
    start = started_at() if start is None else start
    if start is None:
        return False
    return path.stat().st_mtime + MTIME_SLACK_SECONDS < start
