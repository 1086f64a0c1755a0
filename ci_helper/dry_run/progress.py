"""Progress of a dry run: a job header, and a step counter on the job's own steps."""

from __future__ import annotations

from typing import TextIO

from ci_helper.runner import Reporter


class DryRunReporter(Reporter):
    """The runner's step lines, with ``[i/N]`` before each of the job's top-level steps."""

    def __init__(self, stream: TextIO | None = None, *, colour: bool | None = None) -> None:
        super().__init__(stream, colour=colour)
        self.total = 0
        self.index = 0

    def start_job(self, number: int, jobs: int, title: str, steps: int) -> None:
        self.total, self.index = steps, 0
        bar = "=" * 8
        self.line(f"{bar} job {number}/{jobs}: {title} {bar}")

    def step_started(self, depth: int, name: str) -> None:
        if depth == 0:
            self.index += 1
            name = f"[{self.index}/{self.total}] {name}"
        super().step_started(depth, name)
