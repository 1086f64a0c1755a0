"""One results folder for every job of a dry run: a later job's result never hides an earlier one's verdict.

On CI each job has its own results folder and its own summary. A dry run's jobs
(those that run in the project folder) share one folder, and a check that two jobs
run (``network``, ``stubs``, ``guardrails`` in both the smoke and the quality job)
is written twice: the later file replaced the earlier, so a quality job's red
network result gave way to the smoke job's clean one, and the summary said
"0 attempts" beside the test that reached huggingface.co. The worst result of
each check across the run's jobs stands: fail, then not-run, then pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from ci_helper import results


def snapshot(folder: Path, since: float) -> dict[str, bytes]:
    """The check result files written in ``folder`` at or after ``since`` (one job's), by file name."""
    found: dict[str, bytes] = {}
    if not folder.is_dir():
        return found
    for path in folder.glob("*.json"):
        try:
            if path.stat().st_mtime >= since:
                found[path.name] = path.read_bytes()
        except OSError:
            continue
    return found


def _status(data: bytes) -> str | None:
    try:
        status = json.loads(data).get("status")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, str) and status in results.STATUS_ORDER else None


def _rank(data: bytes) -> int:
    """Higher is worse (results.STATUS_ORDER reversed). A file that is not a result outranks every verdict:
    it stays, and the summary reports it, rather than an earlier job's pass standing in for it."""
    status = _status(data)
    if status is None:
        return len(results.STATUS_ORDER)
    return len(results.STATUS_ORDER) - 1 - results.STATUS_ORDER[status]


def keep_the_worst(folder: Path, written: list[tuple[str, dict[str, bytes]]]) -> list[str]:
    """Put back, for each check, the worst result any job wrote; lines saying what was put back.

    ``written`` is (job label, its snapshot) in the order the jobs ran.
    """
    lines = []
    names = {name for _, files in written for name in files}
    for name in sorted(names):
        path = folder / name
        try:
            current = path.read_bytes()
        except OSError:
            continue
        worst_label, worst = None, current
        for label, files in written:
            data = files.get(name)
            if data is not None and _rank(data) > _rank(worst):
                worst_label, worst = label, data
        if worst_label is not None:
            path.write_bytes(worst)
            status = _status(worst) or "not a check result"
            lines.append(
                f"results: {name} is job {worst_label}'s ({status}); a later job's result would have replaced it"
            )
    return lines
