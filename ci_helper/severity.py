"""A finding's severity, and what it becomes in every output: the one table.

zizmor decides this once (``impl From<Severity> for ResultLevel``); so do we.
Every renderer (GitHub annotations, SARIF, text, the run summary) reads it here.
"""

from __future__ import annotations

from ci_helper.record import FrozenRecord

ERROR = "error"
WARNING = "warning"
NOTE = "note"


class Level(FrozenRecord):
    """One severity as each output shows it."""

    __slots__ = ("annotation", "sarif", "text", "icon", "rank")
    _fields = __slots__

    def __init__(self, annotation: str, sarif: str, text: str, icon: str, rank: int) -> None:
        # GitHub workflow command: ::error / ::warning / ::notice (notes stay visible but never look like problems).
        self.annotation = annotation
        # SARIF result.level: "error", "warning" or "note".
        self.sarif = sarif
        # The word in text output.
        self.text = text
        self.icon = icon
        # Sort order: the most severe first.
        self.rank = rank


LEVELS: dict[str, Level] = {
    ERROR: Level(annotation="error", sarif="error", text="error", icon="❌", rank=0),
    WARNING: Level(annotation="warning", sarif="warning", text="warning", icon="⚠️", rank=1),
    NOTE: Level(annotation="notice", sarif="note", text="note", icon="ℹ️", rank=2),
}

SEVERITIES: tuple[str, ...] = tuple(LEVELS)


def level(severity: str) -> Level:
    """How ``severity`` is shown; KeyError for a severity that is not one of :data:`SEVERITIES`."""
    return LEVELS[severity]
