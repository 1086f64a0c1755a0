"""GitHub Actions I/O: workflow commands, step outputs, the step summary, masks.

Everything that talks to the runner through stdout or its files lives here,
so the escaping rules are written once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # results imports click; gha must stay importable without it (setup action)
    from ci_helper.results import Finding

ANNOTATION_LEVELS = ("error", "warning", "notice")


def in_actions() -> bool:
    """True when running inside GitHub Actions (``GITHUB_ACTIONS=true``)."""
    return os.environ.get("GITHUB_ACTIONS") == "true"


def escape_data(value: str) -> str:
    """Escape a workflow-command message the way the runner unescapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow-command property value (``file=``, ``title=``...)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    column: int | None = None,
    end_line: int | None = None,
    title: str | None = None,
) -> str:
    """Format ``::error file=F,line=L,col=C,title=T::message`` (no trailing newline)."""
    if level not in ANNOTATION_LEVELS:
        raise ValueError(f"annotation level must be one of {ANNOTATION_LEVELS}")
    props: list[str] = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line is not None:
        props.append(f"line={int(line)}")
    if end_line is not None:
        props.append(f"endLine={int(end_line)}")
    if column is not None:
        props.append(f"col={int(column)}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level}" + (" " + ",".join(props) if props else "")
    return f"{head}::{escape_data(message)}"


def emit_annotation(level: str, message: str, stream: IO[str] | None = None, **props: object) -> None:
    print(annotation(level, message, **props), file=stream or sys.stdout)  # type: ignore[arg-type]


def annotate_finding(finding: "Finding", title: str, stream: IO[str] | None = None) -> None:
    """Print one annotation for a check-result finding, at its file and line when it has them."""
    from ci_helper.severity import level

    emit_annotation(level(finding.severity).annotation, finding.message, stream,
                    file=finding.file, line=finding.line, title=title)


def add_mask(value: str, stream: IO[str] | None = None) -> None:
    """Ask the runner to mask ``value`` in all later log output."""
    if value:
        print(f"::add-mask::{escape_data(value)}", file=stream or sys.stdout)


def _heredoc(name: str, value: str) -> str:
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    # Imported here: `secrets` pulls in random, hashlib and hmac, and most commands never write
    # a multi-line output.
    import secrets

    # A random delimiter cannot collide with the value (the runner's own advice).
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def _append(env_var: str, text: str) -> bool:
    path = os.environ.get(env_var)
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        # Imported here: the setup action imports this module with a bare Python (no click).
        from ci_helper.errors import BadInput

        # The runner always gives a writable file; anything else was set by hand.
        raise BadInput(f"cannot append to ${env_var} ({path}): {exc.strerror or exc}") from None
    return True


def set_output(name: str, value: str) -> bool:
    """Append a step output to ``$GITHUB_OUTPUT``; False when not in a step."""
    return _append("GITHUB_OUTPUT", _heredoc(name, str(value)))


def set_env(name: str, value: str) -> bool:
    """Export a variable to later steps through ``$GITHUB_ENV``."""
    return _append("GITHUB_ENV", _heredoc(name, str(value)))


def add_path(directory: str | os.PathLike[str]) -> bool:
    """Prepend a folder to PATH for later steps through ``$GITHUB_PATH``."""
    return _append("GITHUB_PATH", f"{os.fspath(directory)}\n")


def append_step_summary(markdown: str) -> Path | None:
    """Append markdown to ``$GITHUB_STEP_SUMMARY``; returns the file, or None outside a step."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n"):
        return None
    return Path(path)
