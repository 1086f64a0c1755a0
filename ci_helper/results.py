"""The check result: the one record every gate writes and the summary reads.

Schema (DESIGN.md "Check result")::

    {"check": "coverage", "status": "fail", "reason": null,
     "figures": {"total": 38.2, "fail_under": 40.0},
     "findings": [{"rule": "coverage-total", "message": "...", "file": null, "line": null}],
     "required": true}

``status`` is ``pass``, ``fail`` or ``not-run``; ``not-run`` always carries a
``reason``. Findings may also carry ``column`` and ``severity`` (``error``,
``warning``, ``note``); readers must accept their absence.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ci_helper import limits, severity
from ci_helper.errors import BadInput as BadInput  # re-exported: callers raise results.BadInput
from ci_helper.record import Record

PASS = "pass"
FAIL = "fail"
NOT_RUN = "not-run"
STATUSES = (PASS, FAIL, NOT_RUN)
# Worst first: what the summary lists first, and what stands when two results of one check disagree.
STATUS_ORDER = {FAIL: 0, NOT_RUN: 1, PASS: 2}
SEVERITIES = severity.SEVERITIES

DEFAULT_RESULTS_DIR = ".ci-helper/results"
RESULTS_DIR_ENV = "CI_HELPER_RESULTS_DIR"

# Up to this many findings a result file is indented throughout (json.dumps(indent=2)).
_INDENTED_FINDINGS = 100

_CHECK_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

# The reason of the placeholder a gate writes before it does any work (see in_progress()).
STARTED_REASON = "started, no verdict yet"
# The reason of the result a gate leaves when SIGINT or SIGTERM stops it.
INTERRUPTED_REASON = "interrupted"


class Finding(Record):
    """One thing a gate found, with a location when it has one."""

    __slots__ = ("rule", "message", "file", "line", "column", "severity", "data")
    _fields = __slots__

    def __init__(
        self,
        rule: str,
        message: str,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        severity: str = "error",
        data: dict[str, Any] | None = None,
    ) -> None:
        self.rule = rule
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        # Free-form, machine-readable details for renderers (e.g. fix versions).
        self.data: dict[str, Any] = {} if data is None else data

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
        }
        if self.data:
            out["data"] = self.data
        return out

    @classmethod
    def from_dict(cls, raw: Any, where: str) -> Finding:
        if not isinstance(raw, dict):
            raise BadInput(f"{where}: a finding must be an object, got {type(raw).__name__}")
        for key in ("rule", "message"):
            if not isinstance(raw.get(key), str):
                raise BadInput(f"{where}: finding field '{key}' must be a string")
        line = raw.get("line")
        column = raw.get("column")
        for name, value in (("line", line), ("column", column)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise BadInput(f"{where}: finding field '{name}' must be an integer or null")
        file = raw.get("file")
        if file is not None and not isinstance(file, str):
            raise BadInput(f"{where}: finding field 'file' must be a string or null")
        severity = raw.get("severity", "error")
        if severity not in SEVERITIES:
            raise BadInput(f"{where}: finding severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
        data = raw.get("data", {})
        if not isinstance(data, dict):
            raise BadInput(f"{where}: finding field 'data' must be an object")
        return cls(
            rule=raw["rule"],
            message=raw["message"],
            file=file,
            line=line,
            column=column,
            severity=severity,
            data=data,
        )

    def location(self) -> str:
        """``file:line`` (or ``file``, or empty) for messages."""
        if not self.file:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file


class CheckResult(Record):
    """Outcome of one gate. Build it with :func:`passed`, :func:`failed` or :func:`not_run`."""

    __slots__ = ("check", "status", "reason", "figures", "findings", "required")
    _fields = __slots__

    def __init__(
        self,
        check: str,
        status: str,
        reason: str | None = None,
        figures: dict[str, Any] | None = None,
        findings: list[Finding] | None = None,
        required: bool = True,
    ) -> None:
        self.check = check
        self.status = status
        self.reason = reason
        self.figures: dict[str, Any] = {} if figures is None else figures
        self.findings: list[Finding] = [] if findings is None else findings
        self.required = required
        self._validate()

    def _validate(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.status == NOT_RUN and not self.reason:
            raise ValueError("a not-run result must carry a reason")
        if not _CHECK_NAME.match(self.check):
            raise ValueError(f"check name {self.check!r} must match {_CHECK_NAME.pattern}")

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def exit_code(self) -> int:
        """0 when the gate passed, 1 otherwise (not-run is never a pass)."""
        return 0 if self.status == PASS else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "reason": self.reason,
            "figures": self.figures,
            "findings": [f.to_dict() for f in self.findings],
            "required": self.required,
        }

    def to_json(self) -> str:
        data = self.to_dict()
        if len(self.findings) <= _INDENTED_FINDINGS:
            return json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"
        # Many findings: one per line, still readable and diffable, but written by json's C
        # encoder (`indent=` falls back to the pure-Python one: 3x slower, ~15 ms for 1,600 findings).
        # One encoder for every row: json.dumps(allow_nan=False) would build a new one per call.
        encode = json.JSONEncoder(allow_nan=False).encode
        fields = []
        for key, value in data.items():
            if key == "findings":
                rows = ",\n    ".join(map(encode, value))
                fields.append(f'  "findings": [\n    {rows}\n  ]')
            else:
                fields.append(f"  {encode(key)}: {encode(value)}")
        return "{\n" + ",\n".join(fields) + "\n}\n"

    @classmethod
    def from_dict(cls, raw: Any, where: str = "check result") -> CheckResult:
        if not isinstance(raw, dict):
            raise BadInput(f"{where}: a check result must be a JSON object")
        check = raw.get("check")
        status = raw.get("status")
        if not isinstance(check, str) or not _CHECK_NAME.match(check):
            raise BadInput(f"{where}: field 'check' must be a lowercase name, got {check!r}")
        if status not in STATUSES:
            raise BadInput(f"{where}: field 'status' must be one of {', '.join(STATUSES)}, got {status!r}")
        reason = raw.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise BadInput(f"{where}: field 'reason' must be a string or null")
        if status == NOT_RUN and not reason:
            raise BadInput(f"{where}: a not-run result must carry a 'reason'")
        figures = raw.get("figures", {})
        if not isinstance(figures, dict):
            raise BadInput(f"{where}: field 'figures' must be an object")
        findings_raw = raw.get("findings", [])
        if not isinstance(findings_raw, list):
            raise BadInput(f"{where}: field 'findings' must be a list")
        required = raw.get("required", True)
        if not isinstance(required, bool):
            raise BadInput(f"{where}: field 'required' must be true or false")
        findings = [Finding.from_dict(f, f"{where}: findings[{i}]") for i, f in enumerate(findings_raw)]
        return cls(check=check, status=status, reason=reason, figures=figures, findings=findings, required=required)


def passed(
    check: str, figures: dict[str, Any] | None = None, findings: Iterable[Finding] = (), required: bool = True
) -> CheckResult:
    return CheckResult(check, PASS, None, dict(figures or {}), list(findings), required)


def failed(
    check: str,
    figures: dict[str, Any] | None = None,
    findings: Iterable[Finding] = (),
    required: bool = True,
    reason: str | None = None,
) -> CheckResult:
    return CheckResult(check, FAIL, reason, dict(figures or {}), list(findings), required)


def not_run(
    check: str,
    reason: str,
    figures: dict[str, Any] | None = None,
    findings: Iterable[Finding] = (),
    required: bool = True,
) -> CheckResult:
    return CheckResult(check, NOT_RUN, reason, dict(figures or {}), list(findings), required)


def results_dir(explicit: str | os.PathLike[str] | None = None, configured: str | None = None) -> Path:
    """Where results go: an explicit flag, else ``$CI_HELPER_RESULTS_DIR``, else settings, else the default."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(RESULTS_DIR_ENV)
    if env:
        return Path(env)
    return Path(configured or DEFAULT_RESULTS_DIR)


# What this process last wrote per result file: in_progress() must not overwrite a verdict
# the gate wrote itself (coverage and guard write their own red result before they refuse).
_last_written: dict[str, CheckResult] = {}


def write_result(result: CheckResult, directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``<directory>/<check>.json`` atomically and return its path."""
    folder = Path(directory) if directory is not None else results_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{result.check}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(result.to_json(), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise BadInput(f"cannot write check result to {folder}: {exc.strerror or exc}") from None
    _last_written[os.path.abspath(path)] = result
    return path


# Gates started in this process and not settled yet: result path -> their placeholder.
_started: dict[str, tuple[CheckResult, Path]] = {}


def start(check: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """Replace ``<check>.json`` with ``not-run`` ("started, no verdict yet") before the gate does any work.

    A crash, a kill or a cancel then leaves that, never the previous run's ``pass``.
    The CLI calls :func:`settle` when a command ends with an exception, so an
    interrupt, a refused input or a crash leaves a ``not-run`` that says which.
    Returns the result's path.
    """
    folder = Path(directory) if directory is not None else results_dir()
    placeholder = not_run(check, STARTED_REASON)
    path = write_result(placeholder, folder)
    _started[os.path.abspath(path)] = (placeholder, folder)
    return path


def settle(error: BaseException | None) -> None:
    """Leave every gate this process started with an honest result, then forget them.

    ``KeyboardInterrupt`` (SIGINT, or SIGTERM as the CLI maps it) makes each result
    ``not-run`` with reason ``interrupted``, whatever the gate wrote. A refused input
    or a crash replaces only a placeholder the gate did not get to replace itself
    (coverage and guard write their own red result before they refuse). None or
    ``SystemExit``: the command ended on purpose after writing its verdict. The
    command line maps its own exceptions (click's) to these before it calls.
    """
    started = list(_started.items())
    _started.clear()
    if error is None or isinstance(error, SystemExit) or not started:
        return  # the command ended on purpose (sys.exit, ctx.exit) after writing its verdict; or it started no gate
    for key, (placeholder, folder) in started:
        check = placeholder.check
        if isinstance(error, KeyboardInterrupt):
            reason = INTERRUPTED_REASON
        elif _last_written.get(key) is not placeholder:
            continue
        elif isinstance(error, BadInput):
            reason = f"bad input: {error.message}"
        else:
            reason = f"crashed: {type(error).__name__}: {error}"
        try:
            write_result(not_run(check, reason), folder)
        except BadInput:
            pass  # the folder went away; the placeholder (or nothing) is all that can be left


@contextlib.contextmanager
def in_progress(check: str, directory: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """:func:`start` and :func:`settle` around a block (for callers outside the CLI)."""
    path = start(check, directory)
    try:
        yield path
    except BaseException as exc:
        settle(exc)
        raise
    settle(None)


class _NonFinite(ValueError):
    pass


class _Overflow(_NonFinite):
    pass


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity; write_result never writes them and no renderer can count them.
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    # 1e999 is valid JSON, but Python reads it as inf: a figure no gate can have measured.
    value = float(text)
    if not math.isfinite(value):
        raise _Overflow(text)
    return value


def read_result(path: str | os.PathLike[str]) -> CheckResult:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{p}: check result file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{p}: cannot read check result: {exc}") from None
    try:
        raw = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{p}:{exc.lineno}: corrupt check result ({exc.msg}); delete it and re-run the gate") from None
    except _Overflow as exc:
        raise BadInput(
            f"{p}: corrupt check result ({exc} is not a finite number); delete it and re-run the gate"
        ) from None
    except _NonFinite as exc:
        raise BadInput(
            f"{p}: corrupt check result ({exc} is not a JSON number); delete it and re-run the gate"
        ) from None
    except limits.PARSE_ERRORS as exc:  # an integer of 5,000 digits, nesting past the recursion limit
        raise BadInput(f"{p}: corrupt check result ({limits.why(exc)}); delete it and re-run the gate") from None
    return CheckResult.from_dict(raw, str(p))


def read_results(directory: str | os.PathLike[str]) -> list[CheckResult]:
    """Every ``*.json`` result in a folder, sorted by check name. A missing folder is bad input."""
    folder = Path(directory)
    if not folder.is_dir():
        raise BadInput(f"{folder}: results folder not found; run a gate first or pass --results DIR")
    results = [read_result(p) for p in sorted(folder.glob("*.json"))]
    return sorted(results, key=lambda r: r.check)
