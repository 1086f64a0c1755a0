"""GitHub Actions I/O: workflow commands, step outputs, the step summary, masks.

Everything that talks to the runner through stdout or its files lives here,
so the escaping rules are written once.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import sys
from collections.abc import Iterator
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
    """Print an annotation the runner obeys (outside the fence around untrusted output)."""
    emit_command(annotation(level, message, **props), stream)  # type: ignore[arg-type]


def annotate_finding(finding: Finding, title: str, stream: IO[str] | None = None) -> None:
    """Print one annotation for a check-result finding, at its file and line when it has them."""
    from ci_helper.severity import level

    emit_annotation(
        level(finding.severity).annotation, finding.message, stream, file=finding.file, line=finding.line, title=title
    )


def add_mask(value: str, stream: IO[str] | None = None) -> None:
    """Ask the runner to mask ``value`` in all later log output."""
    if value:
        emit_command(f"::add-mask::{escape_data(value)}", stream)


def emit_command(line: str, stream: IO[str] | None = None) -> None:
    """Print workflow command lines of ours (already escaped) so that the runner obeys them.

    Inside :func:`fenced_output` the command is written between the resume
    token and a new stop, so it is the one thing the runner reads as a command.
    """
    if isinstance(stream, FencedStream):
        stream.fence.command(line)
    elif stream is None and _active_fence is not None:
        # To the stream the runner reads, even when stdout was redirected to a file.
        _active_fence.command(line)
    else:
        print(line.rstrip("\n"), file=stream if stream is not None else sys.stdout)


# ---------------------------------------------------------------------------------------------------
# The fence: untrusted text never reaches the runner as a command.
#
# The runner reads a command in any line of a step's output (stdout and stderr alike) whose first
# non-blank characters are "::name" or that holds "##[name]" anywhere, so a test name, a traceback or
# a server log line could mask a value, set an output or forge an annotation. Under GitHub Actions a
# command of ours therefore runs fenced: the first thing it prints is ``::add-mask::TOKEN`` (a fresh
# random token) and ``::stop-commands::TOKEN``; the runner then ignores every command until it reads
# ``::TOKEN::``, which only :meth:`Fence.command` prints, right before one of our own commands and a
# new ``::stop-commands::TOKEN``. stdout and stderr are written in order through one stream, because
# the runner reads the two pipes on separate threads and a line on stderr could otherwise be read
# after the resume token printed on stdout. A stream redirected to a regular file
# (``ci-helper stubs report >> "$GITHUB_STEP_SUMMARY"``) never reaches the runner: it is left as
# printed, and the fence (and our commands) go to the other stream.


def neutralise(text: str) -> str:
    """``text`` with nothing the runner reads as a command (for output outside any fence).

    A zero-width space after a line's leading ``::`` and inside every ``##[``
    keeps the text readable and ends both command forms.
    """
    lines = _LINE_SPLIT.split(text)
    out = []
    for index, piece in enumerate(lines):
        if index % 2 == 0:
            piece = piece.replace("##[", "##\u200b[")
            stripped = piece.lstrip()
            if stripped.startswith("::"):
                lead = len(piece) - len(stripped)
                piece = piece[:lead] + ":\u200b" + stripped[1:]
        out.append(piece)
    return "".join(out)


_LINE_SPLIT = re.compile(r"(\r\n|\r|\n)")


class Fence:
    """The stop-commands fence around one process's output (see the comment above)."""

    def __init__(self, stream: IO[str]) -> None:
        import secrets
        import threading

        self.stream = stream
        # Random per process: text cannot guess it. Never a registered command name (hex, prefixed).
        self.token = f"ci-helper-{secrets.token_hex(16)}"
        self.lock = threading.RLock()
        self.at_line_start = True
        self.open = False

    def start(self) -> None:
        with self.lock:
            # The mask first: the token is then shown as *** wherever the runner echoes it.
            self._raw(f"::add-mask::{self.token}\n::stop-commands::{self.token}\n")
            self.open = True

    def write(self, text: str) -> None:
        with self.lock:
            if not self.open:
                text = neutralise(text)
            self._raw(text)

    def command(self, line: str) -> None:
        with self.lock:
            if not self.open:
                self._raw(line.rstrip("\n") + "\n")
                return
            # The resume token must start a line of its own to be read as a command.
            self._raw(f"{self._line_break()}::{self.token}::\n{line.rstrip()}\n::stop-commands::{self.token}\n")

    def end(self) -> None:
        with self.lock:
            if self.open:
                self._raw(f"{self._line_break()}::{self.token}::\n")
                self.open = False

    def _line_break(self) -> str:
        return "" if self.at_line_start else "\n"

    def flush(self) -> None:
        with self.lock:
            try:
                self.stream.flush()
            except (OSError, ValueError):
                pass

    def _raw(self, text: str) -> None:
        if not text:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            return  # our console went away: nothing more can reach the runner either
        self.at_line_start = text.endswith(("\n", "\r"))


class FencedStream(io.TextIOBase):
    """``sys.stdout``/``sys.stderr`` while fenced: every write goes through the fence, in order.

    It has no ``buffer`` on purpose: nothing may write around the fence.
    """

    def __init__(self, fence: Fence, name: str) -> None:
        super().__init__()
        self.fence = fence
        self.name = name

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.fence.stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.fence.stream, "errors", None)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.fence.write(text)
        return len(text)

    def flush(self) -> None:
        self.fence.flush()


_active_fence: Fence | None = None


def fence_active() -> bool:
    """True while this process's output is fenced (untrusted text cannot be a command)."""
    return _active_fence is not None and _active_fence.open


def reaches_runner(stream: IO[str]) -> bool:
    """False when ``stream`` is a regular file (``>> $GITHUB_STEP_SUMMARY``): the runner never reads it.

    A pipe, a terminal or anything unknown may be the runner's: treated as read by it.
    """
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return True
    return not stat.S_ISREG(mode)


@contextlib.contextmanager
def fenced_output(enabled: bool | None = None) -> Iterator[Fence | None]:
    """Fence everything printed inside the block when running under GitHub Actions.

    Re-entrant: an inner block inside an active fence changes nothing. An
    exception other than an exit is printed inside the fence and becomes exit 1,
    so not even a traceback is read outside it.
    """
    global _active_fence
    if enabled is None:
        enabled = in_actions()
    saved = sys.stdout, sys.stderr
    # Only what the runner reads is fenced: output redirected to a file stays exactly as printed.
    to_runner = [reaches_runner(stream) for stream in saved] if enabled and _active_fence is None else [False, False]
    if not any(to_runner):
        yield None
        return
    try:
        saved[0].flush()
        saved[1].flush()
    except (OSError, ValueError, AttributeError):
        pass
    fence = Fence(saved[0] if to_runner[0] else saved[1])
    fence.start()
    _active_fence = fence
    # Both to the runner: stderr is written into stdout, in order.
    sys.stdout = FencedStream(fence, "<stdout>") if to_runner[0] else saved[0]
    sys.stderr = FencedStream(fence, "<stderr>") if to_runner[1] else saved[1]
    try:
        try:
            yield fence
        except (SystemExit, KeyboardInterrupt, GeneratorExit):
            raise
        except Exception:
            import traceback

            traceback.print_exc()
            raise SystemExit(1) from None
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        sys.stdout, sys.stderr = saved
        _active_fence = None
        fence.end()


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
    if not path or not _append("GITHUB_STEP_SUMMARY", markdown if markdown.endswith("\n") else markdown + "\n"):
        return None
    return Path(path)
