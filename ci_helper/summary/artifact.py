"""The fork-PR poster's input: another run's artifact, written by code from the fork, checked before use.

The ``workflow_run`` poster (workflows/summary-comment.yml) renders the comment
of a pull request's run from that run's ``ci-helper-summary`` artifact. Code
from the fork wrote every byte of it, so nothing is read until the folder has
only the expected entries: ``results/<check>.json``, ``junit/<name>.xml`` and
``summary/pr-number`` (plus the ``summary/comment.md`` the PR run rendered and
the run report's ``results/report/report.{md,json}``, which are never read: the
poster renders again). No link, no other name, no
path outside the folder, each file and the whole within a size limit. The
results are then validated against their schema when the summary loads them;
the verdict is red unless the run itself concluded ``success``
(``github.event.workflow_run.conclusion``), whatever the files say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ci_helper.errors import BadInput

RESULT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\.json$")
JUNIT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.xml$")
SUMMARY_FILES = frozenset({"pr-number", "comment.md"})
REPORT_FOLDER, REPORT_FILES = "report", frozenset({"report.md", "report.json"})
MAX_RESULT_BYTES = 256 * 1024
MAX_JUNIT_BYTES = 20 * 1024 * 1024
MAX_SUMMARY_BYTES = 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
MAX_FILES = 200


@dataclass
class Artifact:
    results_dir: Path
    junit: list[Path]
    pr_number: int


def _refuse(path: Path, why: str) -> BadInput:
    return BadInput(
        f"{path}: {why}; the pull request's artifact is refused (only results/*.json, junit/*.xml "
        f"and summary/pr-number, no links, within the size limits of docs/security.md)"
    )


def load(folder: str | Path) -> Artifact:
    """The checked contents of a downloaded artifact, or BadInput naming the first offending entry."""
    root = Path(folder)
    if root.is_symlink() or not root.is_dir():
        raise _refuse(root, "not a folder")
    limits = {"results": (RESULT_NAME, MAX_RESULT_BYTES), "junit": (JUNIT_NAME, MAX_JUNIT_BYTES)}
    junit: list[Path] = []
    total = files = 0
    for top in sorted(root.iterdir()):
        if top.is_symlink() or not top.is_dir() or top.name not in ("results", "junit", "summary"):
            raise _refuse(top, "unexpected entry")
        entries = sorted(top.iterdir())
        report = top / REPORT_FOLDER
        if top.name == "results" and report in entries and not report.is_symlink() and report.is_dir():
            # The run report (actions/quality `report: true`) beside the results: allowed, never read.
            entries.remove(report)
            entries += sorted(report.iterdir())
        for entry in entries:
            files += 1
            if files > MAX_FILES:
                raise _refuse(entry, f"more than {MAX_FILES} files")
            if entry.is_symlink() or not entry.is_file():
                raise _refuse(entry, "not a regular file")
            if entry.parent == report:
                pattern, limit = None, MAX_SUMMARY_BYTES
                if entry.name not in REPORT_FILES:
                    raise _refuse(entry, "unexpected file")
            elif top.name == "summary":
                pattern, limit = None, MAX_SUMMARY_BYTES
                if entry.name not in SUMMARY_FILES:
                    raise _refuse(entry, "unexpected file")
            else:
                pattern, limit = limits[top.name]
                if not pattern.match(entry.name):
                    raise _refuse(entry, "unexpected file name")
            size = entry.stat().st_size
            total += size
            if size > limit:
                raise _refuse(entry, f"{size} bytes, over the limit of {limit}")
            if total > MAX_TOTAL_BYTES:
                raise _refuse(entry, f"the artifact is over {MAX_TOTAL_BYTES} bytes")
            if top.name == "junit":
                junit.append(entry)
    number_file = root / "summary" / "pr-number"
    if not number_file.is_file():
        raise _refuse(number_file, "missing")
    text = number_file.read_bytes().decode("ascii", "replace").strip()
    if not re.fullmatch(r"[1-9][0-9]{0,9}", text):
        raise _refuse(number_file, "not a pull request number")
    results_dir = root / "results"
    if not results_dir.is_dir():
        raise _refuse(results_dir, "missing")
    return Artifact(results_dir, junit, int(text))
