"""What a verify rule is: an id, a one-line summary, and a check over the parsed tree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ci_helper.record import FrozenRecord
from ci_helper.results import Finding
from ci_helper.settings import GuardSettings, VerifySettings
from ci_helper.workflows import Tree


class Context(FrozenRecord):
    """What every rule reads: the parsed files and the verify settings."""

    __slots__ = ("tree", "settings", "guard", "repository")
    _fields = __slots__

    def __init__(
        self,
        tree: Tree,
        settings: VerifySettings,
        guard: GuardSettings | None = None,
        repository: str | None = None,
    ) -> None:
        self.tree = tree
        self.settings = settings
        # `[tool.ci-helper.guard]` and the top-level `repository`: what `ci-helper guard` checks without flags.
        self.guard = GuardSettings() if guard is None else guard
        self.repository = repository


class Rule(Protocol):
    id: str
    # One line: what the rule finds, for `--format sarif` rule metadata and docs.
    summary: str

    def check(self, ctx: Context) -> Iterator[Finding]: ...


def finding(
    rule: str, message: str, rel: str, line: int, column: int, severity: str = "error", **data: object
) -> Finding:
    return Finding(
        rule=rule,
        message=message,
        file=rel,
        line=line,
        column=column,
        severity=severity,
        data={k: v for k, v in data.items() if v is not None},
    )
