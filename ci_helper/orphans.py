"""Processes left behind: found by a marker in their environment, stopped when their owner ends.

GitHub's runner puts ``RUNNER_TRACKING_ID=github_<uuid>`` in the environment
of every step process and, when the job ends, stops every process whose
environment still carries it ("Cleaning up orphan processes"). A marker in the
environment survives what a process group does not: ``setsid``, ``nohup`` and
double forks. Only a process that clears the marker on purpose escapes, as on
GitHub.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

RUNNER_TRACKING_ID = "RUNNER_TRACKING_ID"
# Seconds between SIGTERM and SIGKILL for a left-behind process.
TERMINATE_GRACE = 2.0


def new_tracking_id(prefix: str = "github") -> str:
    """A fresh marker value, ``<prefix>_<uuid>`` like the runner's."""
    return f"{prefix}_{uuid.uuid4()}"


@dataclass(frozen=True)
class Orphan:
    pid: int
    name: str


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "?"


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie is dead; an unreaping PID 1 keeps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return False
    fields = stat[stat.rfind(")") + 2 :].split()
    return bool(fields) and fields[0] not in ("Z", "X")


def tracked(name: str, value: str) -> list[Orphan]:
    """Live processes (other than this one) whose environment holds ``name=value``."""
    proc = Path("/proc")
    if not value or not proc.is_dir():  # pragma: no cover - no /proc (macOS): process groups only
        return []
    needle = f"{name}={value}".encode()
    found = []
    me = os.getpid()
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            environ = (proc / entry / "environ").read_bytes()
        except OSError:
            continue  # gone, or not ours to read (another user's process cannot be our orphan)
        if needle in environ.split(b"\0") and _alive(int(entry)):
            found.append(Orphan(int(entry), _name(int(entry))))
    return sorted(found, key=lambda orphan: orphan.pid)


def stop_tracked(name: str, value: str, grace: float = TERMINATE_GRACE) -> list[Orphan]:
    """SIGTERM every process marked ``name=value``, then SIGKILL what is left after ``grace``; returns them."""
    orphans = tracked(name, value)
    if not orphans:
        return []
    for orphan in orphans:
        _signal(orphan.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(o.pid) for o in orphans):
        time.sleep(0.05)
    # Whatever ignored SIGTERM, and whatever the dying ones started meanwhile.
    for _ in range(3):
        left = [o for o in orphans if _alive(o.pid)] + [o for o in tracked(name, value) if o not in orphans]
        if not left:
            break
        orphans += [o for o in left if o not in orphans]
        for orphan in left:
            _signal(orphan.pid, signal.SIGKILL)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and any(_alive(o.pid) for o in left):
            time.sleep(0.02)
    return orphans


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
