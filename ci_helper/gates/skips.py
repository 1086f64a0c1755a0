"""The ``skips`` check: skipped tests grouped by reason, held to the budgets the project set.

A CPU lane where ``importorskip("torch")`` skips half the suite is green unless something
counts the skips. This gate reads the tier's JUnit files, groups every skipped test by
its reason (pytest's ``Skipped: `` prefix, its "collection skipped" records and the
``could not import 'x': No module named 'x'`` of ``importorskip`` normalised, so one
cause is one reason), and fails when a reason pattern or the total is over its budget
(``[tool.ci-helper.skips]``, docs/skips.md).

Patterns are globs (``*``, ``?``, ``[...]``) matched case-insensitively anywhere in the
reason: ``"torch"`` matches ``could not import 'torch'`` and ``torch not installed``.
"""

from __future__ import annotations

import ast
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper import junit, results, run_start
from ci_helper.errors import BadInput
from ci_helper.settings import SkipsSettings

CHECK = "skips"
SECTION = "[tool.ci-helper.skips]"
NO_REASON = "(no reason given)"
SKIPPED_PREFIX = "Skipped: "
# pytest records a module skipped while collecting (a module-level importorskip) this way.
COLLECTION_SKIPPED = "collection skipped"
XFAIL = "pytest.xfail"
NOT_RUN_MARK = "[NOTRUN]"
MAX_REASON_CHARS = 200
# Reasons listed in the figures (most skipped first); the rest are counted in reasons_left_out.
MAX_REASONS = 50
# Test ids and reasons a finding names.
MAX_IDS = 10
MAX_REASONS_IN_MESSAGE = 5

_LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+): (?P<reason>.*)$", re.DOTALL)
_IMPORT = re.compile(r"^(could not import (?:'[^']*'|\"[^\"]*\"))(?::.*)?$", re.DOTALL)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Budget:
    pattern: str
    budget: int
    regex: re.Pattern[str]

    def matches(self, reason: str) -> bool:
        return self.regex.search(reason) is not None


@dataclass
class Reason:
    """Every skipped test that gave one reason."""

    reason: str
    count: int = 0
    file: str | None = None
    line: int | None = None
    ids: list[str] = field(default_factory=list)


def _key(pattern: str) -> str:
    return json.dumps(pattern, ensure_ascii=False)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A glob as a case-insensitive regular expression that matches anywhere; BadInput names the pattern."""
    if not pattern.strip():
        raise BadInput(
            f"{SECTION} {_key(pattern)}: an empty pattern matches every reason; "
            "write the reason (or part of it), or use `total` for a cap on all skips"
        )
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            start = i + 1
            if pattern[start : start + 1] == "!":
                start += 1
            # A "]" right after "[" (or "[!") is a member, as in fnmatch.
            end = pattern.find("]", start + 1 if pattern[start : start + 1] == "]" else start)
            if end < 0:
                raise BadInput(
                    f"{SECTION} {_key(pattern)}: bad pattern: '[' at position {i + 1} is never closed; "
                    "write [[] for a literal '['"
                )
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            # Only "-" keeps its meaning inside a class; the rest are members (no nested sets).
            body = "".join("\\" + c if c in "\\[]^&~|" else c for c in body)
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out), re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise BadInput(
            f"{SECTION} {_key(pattern)}: bad pattern ({exc}); "
            "patterns are globs: * any text, ? one character, [abc] one of them"
        ) from None


def validate(config: SkipsSettings) -> list[Budget]:
    """The budgets, checked: whole numbers >= 0 and valid patterns; BadInput (exit 2) names the key."""
    if config.total is not None and config.total < 0:
        raise BadInput(f"{SECTION} total: a budget is a whole number of tests, 0 or more; got {config.total}")
    budgets = []
    for pattern, budget in config.budgets.items():
        # The loader converts to int; a bool is an int to Python but never a budget.
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
            raise BadInput(f"{SECTION} {_key(pattern)}: a budget is a whole number of tests, 0 or more; got {budget!r}")
        budgets.append(Budget(pattern, budget, compile_pattern(pattern)))
    return budgets


def _display_path(file: str) -> str:
    try:
        relative = os.path.relpath(file)
    except ValueError:  # another drive on Windows
        return file
    return file if relative.startswith("..") else Path(relative).as_posix()


def _from_details(details: str) -> tuple[str | None, int | None, str | None]:
    """(file, line, reason) from the text of a <skipped> element, when pytest wrote one."""
    text = details.strip()
    if text.startswith("(") and text.endswith(")"):
        # A skipped module: pytest writes the repr of (path, line, "Skipped: reason").
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            value = None
        if (
            isinstance(value, tuple)
            and len(value) == 3
            and isinstance(value[0], str)
            and isinstance(value[1], int)
            and isinstance(value[2], str)
        ):
            return value[0], value[1], value[2]
    match = _LOCATED.match(text)
    if match:
        return match["file"], int(match["line"]), match["reason"]
    return None, None, None


def normalise(reason: str) -> str:
    """One cause, one reason: no ``Skipped:`` prefix, no ``importorskip`` detail, one line, bounded."""
    text = _SPACE.sub(" ", reason).strip()
    if text.startswith(SKIPPED_PREFIX):
        text = text[len(SKIPPED_PREFIX) :].strip()
    imported = _IMPORT.match(text)
    if imported:
        text = imported.group(1)
    if not text:
        return NO_REASON
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def reason_of(skip: junit.Skip) -> tuple[str, str | None, int | None] | None:
    """(reason, file, line) of a skipped case; None for an xfail that ran (it is not a skip)."""
    file, line, from_text = _from_details(skip.details)
    message = skip.message.strip()
    if not message or message == COLLECTION_SKIPPED:
        message = from_text or message
    if skip.kind == XFAIL:
        if not message.startswith(NOT_RUN_MARK):
            return None
        message = "xfail, not run: " + message[len(NOT_RUN_MARK) :].strip()
    if skip.file:
        # pytest's xunit1 ``line`` attribute is 0-based (its item.location); findings are 1-based.
        file, line = skip.file, (skip.line + 1 if skip.line is not None else None)
    return normalise(message), (_display_path(file) if file else None), line


def _plural(count: int) -> str:
    return f"{count} test{'' if count == 1 else 's'}"


def _listed(reasons: list[Reason]) -> str:
    shown = ", ".join(f"{r.reason} ({r.count})" for r in reasons[:MAX_REASONS_IN_MESSAGE])
    more = len(reasons) - MAX_REASONS_IN_MESSAGE
    return shown + (f" and {more} more reason{'' if more == 1 else 's'}" if more > 0 else "")


def _ids(reasons: list[Reason]) -> list[str]:
    ids: list[str] = []
    for r in reasons:
        ids.extend(r.ids[: MAX_IDS - len(ids)])
    return ids


def _figures(
    paths: list[Path],
    tests: int | None,
    skipped: int | None,
    xfailed: int | None,
    config: SkipsSettings,
    reasons: list[Reason],
    counts: dict[str, int] | None,
    over: int,
) -> dict[str, object]:
    # The first figures are the summary's key figure: what was skipped, and what broke a budget.
    # Each verdict is decided here, once: the summary shows "over" without comparing numbers itself.
    def verdict(count: int | None, budget: int | None) -> bool | None:
        return None if count is None or budget is None else count > budget

    budgets = []
    for pattern, budget in config.budgets.items():
        count = (counts or {}).get(pattern)
        budgets.append({"pattern": pattern, "budget": budget, "count": count, "over": verdict(count, budget)})
    return {
        "skipped": skipped,
        "tests": tests,
        "over_budget": over,
        "total_budget": config.total,
        "total_over": verdict(skipped, config.total),
        "budgets": budgets,
        "reasons": [{"reason": r.reason, "count": r.count} for r in reasons[:MAX_REASONS]],
        "reasons_left_out": max(0, len(reasons) - MAX_REASONS),
        "xfailed": xfailed,
        "junit_files": [str(p) for p in paths],
    }


def evaluate(paths: list[Path], config: SkipsSettings, required: bool = True) -> results.CheckResult:
    """The ``skips`` result for a tier's JUnit files; BadInput for a malformed file or budget."""
    budgets = validate(config)
    if not paths:
        raise BadInput("no JUnit file given: pass --junit FILE (the file pytest wrote with --junitxml)")
    for path in paths:
        if not path.exists():
            return results.not_run(CHECK, f"no JUnit file at {path}: the tests did not run", required=required)
    stale = [p for p in paths if run_start.written_before_run(p)]
    if stale:
        return results.failed(
            CHECK,
            _figures(paths, None, None, None, config, [], None, 0),
            [
                results.Finding("skips-stale", f"stale: {p} was written before this run started", file=str(p))
                for p in stale
            ],
            required=required,
            reason="stale: written before this run started",
        )
    tests = 0
    xfailed = 0
    by_reason: dict[str, Reason] = {}
    for path in paths:
        cases, skips = junit.skipped(path)
        tests += cases
        for skip in skips:
            found = reason_of(skip)
            if found is None:
                xfailed += 1
                continue
            text, file, line = found
            entry = by_reason.get(text)
            if entry is None:
                entry = by_reason[text] = Reason(text, file=file, line=line)
            entry.count += 1
            if len(entry.ids) < MAX_IDS:
                entry.ids.append(skip.id)
    if tests == 0:
        named = ", ".join(str(p) for p in paths)
        return results.not_run(CHECK, f"{named}: no test case recorded, nothing to hold to a budget", required=required)
    reasons = sorted(by_reason.values(), key=lambda r: (-r.count, r.reason))
    skipped = sum(r.count for r in reasons)
    findings: list[results.Finding] = []
    counts: dict[str, int] = {}
    for budget in budgets:
        matched = [r for r in reasons if budget.matches(r.reason)]
        count = counts[budget.pattern] = sum(r.count for r in matched)
        if count > budget.budget:
            first = matched[0]
            findings.append(
                results.Finding(
                    "skips-over-budget",
                    f"{_plural(count)} skipped for {_key(budget.pattern)} (budget {budget.budget}): {_listed(matched)}",
                    file=first.file,
                    line=first.line,
                    data={
                        "pattern": budget.pattern,
                        "budget": budget.budget,
                        "count": count,
                        "reasons": [{"reason": r.reason, "count": r.count} for r in matched[:MAX_REASONS]],
                        "tests": _ids(matched),
                    },
                )
            )
    if config.total is not None and skipped > config.total:
        findings.append(
            results.Finding(
                "skips-total",
                f"{_plural(skipped)} skipped in all (total budget {config.total}): {_listed(reasons)}",
                data={
                    "budget": config.total,
                    "count": skipped,
                    "reasons": [{"reason": r.reason, "count": r.count} for r in reasons[:MAX_REASONS]],
                    "tests": _ids(reasons),
                },
            )
        )
    figures = _figures(paths, tests, skipped, xfailed, config, reasons, counts, len(findings))
    if findings:
        return results.failed(CHECK, figures, findings, required=required)
    return results.passed(CHECK, figures, required=required)


def earlier_files(folder: Path, paths: list[Path]) -> list[Path]:
    """JUnit files an earlier ``skips`` of this run judged in the same results folder, not in ``paths``.

    The smoke and quality tiers of one job (and every job of ``verify --run``) share one
    results folder and so one ``skips.json``: the later call judges the earlier tier's
    files again with its own, so that one tier's skips never replace the other's. Only
    with a run start marker (CI, ``verify --run``), and only files of this run that still exist.
    """
    earlier = folder / f"{CHECK}.json"
    if run_start.started_at() is None or not earlier.is_file() or run_start.written_before_run(earlier):
        return []
    try:
        result = results.read_result(earlier)
    except BadInput:
        return []  # a corrupt result is replaced by this call's, which is what a gate does
    files = result.figures.get("junit_files") if result.check == CHECK else None
    if not isinstance(files, list):
        return []
    seen = {p.resolve() for p in paths}
    found = []
    for name in files:
        path = Path(str(name))
        if path.resolve() in seen or not path.is_file() or run_start.written_before_run(path):
            continue
        seen.add(path.resolve())
        found.append(path)
    return found


def input_failure(error: BadInput, paths: list[Path], config: SkipsSettings) -> results.CheckResult:
    """The ``fail`` result for an unreadable JUnit file: no verdict is never a pass."""
    return results.failed(
        CHECK,
        _figures(paths, None, None, None, config, [], None, 0),
        [results.Finding("skips-input", error.message)],
        reason=error.message,
    )
