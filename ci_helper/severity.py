"""A finding's severity, and what it becomes in every output: the one table.

zizmor decides this once (``impl From<Severity> for ResultLevel``); so do we.
Every renderer (GitHub annotations, SARIF, text, the run summary) reads it here.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Level:
    """One severity as each output shows it."""

    # GitHub workflow command: ::error / ::warning / ::notice (notes stay visible but never look like problems).
    annotation: str
    # SARIF result.level: "error", "warning" or "note".
    sarif: str
    # The word in text output.
    text: str
    icon: str
    # Sort order: the most severe first.
    rank: int


LEVELS: dict[str, Level] = {
    ERROR: Level(annotation="error", sarif="error", text="error", icon="❌", rank=0),
    WARNING: Level(annotation="warning", sarif="warning", text="warning", icon="⚠️", rank=1),
    NOTE: Level(annotation="notice", sarif="note", text="note", icon="ℹ️", rank=2),
}

SEVERITIES: tuple[str, ...] = tuple(LEVELS)


def level(severity: str) -> Level:
    """How ``severity`` is shown; KeyError for a severity that is not one of :data:`SEVERITIES`."""
    return LEVELS[severity]
