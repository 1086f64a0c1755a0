"""What a run prints: one line when a step starts, its output, one line with outcome and duration."""

from __future__ import annotations

import sys
import threading
from typing import TextIO

_MARKS = {"success": "✓", "failure": "✗", "skipped": "-", "cancelled": "!"}
_COLOURS = {"success": "32", "failure": "31", "skipped": "33", "cancelled": "35"}


class Reporter:
    """Writes progress to a stream; plain text unless the stream is a terminal."""

    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None, quiet: bool = False) -> None:
        self.stream = stream
        self.colour = colour
        self.quiet = quiet
        self.lock = threading.Lock()

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stdout

    def _tty(self) -> bool:
        if self.colour is not None:
            return self.colour
        isatty = getattr(self._out(), "isatty", None)
        return bool(isatty and isatty())

    def write(self, text: str) -> None:
        if self.quiet:
            return
        with self.lock:
            out = self._out()
            out.write(text)
            out.flush()

    def line(self, text: str) -> None:
        self.write(text + "\n")

    def step_started(self, depth: int, name: str) -> None:
        self.line(f"{'  ' * depth}▶ {name}" if self._tty() else f"{'  ' * depth}--- step: {name}")

    def step_finished(
        self, depth: int, name: str, outcome: str, conclusion: str, seconds: float, reason: str = ""
    ) -> None:
        shown = outcome if outcome == conclusion else f"{outcome} (continue-on-error: {conclusion})"
        detail = f" ({seconds:.2f}s)" + (f": {reason}" if reason else "")
        if self._tty():
            mark = f"\x1b[{_COLOURS.get(outcome, '0')}m{_MARKS.get(outcome, '?')} {shown}\x1b[0m"
            self.line(f"{'  ' * depth}{mark} {name}{detail}")
        else:
            self.line(f"{'  ' * depth}--- {shown}: {name}{detail}")
