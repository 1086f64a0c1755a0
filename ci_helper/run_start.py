"""The run's start marker: inputs written before it are stale (DESIGN "Check result").

Our setup action (and ``verify --run``) records when the run started; every gate
that reads an input produced by an earlier step (coverage data, JUnit files,
check results) compares the input's modification time with this marker and
refuses what was written before the run began.

The marker lives under ``$RUNNER_TEMP/ci-helper/`` in CI (outside the checkout, so
nothing in the repository can ship one) and under ``.ci-helper/`` elsewhere. It is
written once per run: a later ``mark()`` leaves an existing marker alone, so a
step cannot silently move the start back by calling setup again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ci_helper.errors import BadInput

MARKER_NAME = "run-start.json"
# Filesystems with coarse timestamps (FAT: 2 s, some network mounts: 1 s) may
# round an input's mtime below the marker's time; this much slack is allowed.
MTIME_SLACK_SECONDS = 2.0


def marker_path() -> Path:
    """Where this run's marker lives."""
    runner_temp = os.environ.get("RUNNER_TEMP")
    if runner_temp:
        return Path(runner_temp) / "ci-helper" / MARKER_NAME
    return Path(".ci-helper") / MARKER_NAME


def mark(*, fresh: bool = False) -> float:
    """Record the run's start (once); return the recorded time.

    ``fresh`` replaces an existing marker: only ``verify --run`` uses it, for a new local run.
    """
    path = marker_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not fresh:
        existing = started_at()
        if existing is not None:
            return existing
    now = time.time()
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"started_at": now}), encoding="utf-8")
    os.replace(tmp, path)
    return now


def started_at() -> float | None:
    """The run's start time, or None when no marker was written (a bare local call)."""
    path = marker_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: the run's start marker is unreadable ({exc}); delete it and run setup again") from None
    value = raw.get("started_at") if isinstance(raw, dict) else None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value != value:
        raise BadInput(f"{path}: the run's start marker has no valid started_at; delete it and run setup again")
    return float(value)


def written_before_run(path: Path, start: float | None = None) -> bool:
    """True when ``path`` was last written before the run started (False without a marker)."""
    start = started_at() if start is None else start
    if start is None:
        return False
    return path.stat().st_mtime + MTIME_SLACK_SECONDS < start
