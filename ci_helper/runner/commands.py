"""Workflow commands a step prints (``::add-mask::``, ``::set-output``, ...), read exactly as the runner reads them.

A port of the runner's ``ActionCommand.TryParseV2``/``TryParse`` and
``ActionCommandManager.TryProcessCommand`` (actions/runner), so that tests of
what we print are tests against the same parser GitHub uses:

- a line is a command when, after its leading whitespace is trimmed, it starts
  with ``::NAME`` up to the next ``::`` (the data follows), or when it holds
  ``##[NAME]`` anywhere (the legacy form, data after the ``]``); ``NAME`` is
  matched without regard to case and must be a registered command;
- output is split into lines at ``\\r\\n``, ``\\r`` and ``\\n``, as .NET's
  ``ReadLine`` does: a ``\\r`` hidden in a test name starts a new line;
- ``::add-mask::value`` hides ``value`` as ``***`` in all later output and summaries;
- ``::set-output name=x::v`` and ``::save-state name=x::v`` still work (with the runner's
  deprecation warning);
- ``::set-env`` and ``::add-path`` are disabled on GitHub: an error that fails the step;
- ``::stop-commands::TOKEN`` ignores every command until ``::TOKEN::`` (or ``##[TOKEN]``);
- other commands (``::error``, ``::warning``, ``::group::`` ...) are shown as printed.

Every command obeyed is kept in :attr:`StepCommands.obeyed`, so a test can say
exactly which commands a piece of output gave the runner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

STOP_COMMANDS = "stop-commands"
# The runner's registered command extensions (internal-set-repo-path is never registered for steps).
REGISTERED_COMMANDS = frozenset(
    {
        STOP_COMMANDS,
        "add-mask",
        "add-matcher",
        "remove-matcher",
        "add-path",
        "set-env",
        "set-output",
        "save-state",
        "error",
        "warning",
        "notice",
        "debug",
        "group",
        "endgroup",
        "echo",
    }
)
ANNOTATIONS = ("error", "warning", "notice")

V2_KEY = "::"
V1_PREFIX = "##["
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

# The runner's unescape tables, applied in this order (it matters: "%253A" stays "%3A").
_DATA_MAPPINGS = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_PROPERTY_MAPPINGS = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
_V1_MAPPINGS = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))


def _unescape(value: str, mappings: tuple[tuple[str, str], ...]) -> str:
    for escaped, token in mappings:
        value = value.replace(escaped, token)
    return value


@dataclass(frozen=True)
class ActionCommand:
    """One parsed command: ``name`` lower-cased, property names lower-cased (the runner ignores case)."""

    name: str
    properties: dict[str, str]
    data: str


def _properties(text: str, separator: str, mappings: tuple[tuple[str, str], ...]) -> dict[str, str]:
    props: dict[str, str] = {}
    for item in (part for part in text.split(separator) if part):
        pair = [piece for piece in item.split("=", 1) if piece]
        if len(pair) == 2:
            props[pair[0].lower()] = _unescape(pair[1], mappings)
    return props


def parse_v2(line: str, registered: frozenset[str] | set[str] = REGISTERED_COMMANDS) -> ActionCommand | None:
    """``::name k=v,k=v::data`` after leading whitespace (``TryParseV2``)."""
    message = line.lstrip()
    if not message.startswith(V2_KEY):
        return None
    end = message.find(V2_KEY, len(V2_KEY))
    if end < 0:
        return None
    info = message[len(V2_KEY) : end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    props = _properties(info[space + 1 :].strip(), ",", _PROPERTY_MAPPINGS) if space > 0 else {}
    return ActionCommand(name.lower(), props, _unescape(message[end + len(V2_KEY) :], _DATA_MAPPINGS))


def parse_v1(line: str, registered: frozenset[str] | set[str] = REGISTERED_COMMANDS) -> ActionCommand | None:
    """``##[name k=v;k=v]data`` anywhere in the line (``TryParse``, the legacy form)."""
    start = line.find(V1_PREFIX)
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + len(V1_PREFIX) : close]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    props = _properties(info[space + 1 :], ";", _V1_MAPPINGS) if space > 0 else {}
    return ActionCommand(name.lower(), props, _unescape(line[close + 1 :], _V1_MAPPINGS))


def parse(line: str, registered: frozenset[str] | set[str] = REGISTERED_COMMANDS) -> ActionCommand | None:
    """The command the runner reads in ``line`` (one line, no line break), or None."""
    return parse_v2(line, registered) or parse_v1(line, registered)


@dataclass
class Masker:
    """Job-wide secrets to hide in output (longest first, so a prefix never leaves a tail visible)."""

    values: list[str] = field(default_factory=list)

    def add(self, value: str) -> None:
        for part in [value, *value.splitlines()]:
            if part.strip() and part not in self.values:
                self.values.append(part)
        self.values.sort(key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "***")
        return text


@dataclass
class CommandState:
    """The runner's job-wide command state: stopped or not, and the token that resumes."""

    stopped: bool = False
    token: str | None = None


@dataclass
class StepCommands:
    """Reads one step's output line by line; ``filter`` returns what to print."""

    masker: Masker
    outputs: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # Every command obeyed, in order (stop-commands and the resume token included).
    obeyed: list[ActionCommand] = field(default_factory=list)
    # On the runner the stop state belongs to the job, not the step: pass one object to every step.
    command_state: CommandState = field(default_factory=CommandState)

    @property
    def stop_token(self) -> str | None:
        return self.command_state.token if self.command_state.stopped else None

    @property
    def annotations(self) -> list[ActionCommand]:
        return [command for command in self.obeyed if command.name in ANNOTATIONS]

    def filter(self, text: str) -> str:
        """Process ``text`` (one or more lines); return what the log shows, masked."""
        shown: list[str] = []
        pieces = _LINE_BREAK.split(text)
        ends_with_break = pieces[-1] == ""
        if ends_with_break:
            pieces.pop()
        for index, line in enumerate(pieces):
            out = self._line(line)
            if out is not None:
                last = index == len(pieces) - 1
                shown.append(out + ("\n" if ends_with_break or not last else ""))
        return "".join(shown)

    def _line(self, line: str) -> str | None:
        """What one line shows (None: nothing), after obeying the command in it."""
        state = self.command_state
        command = None
        if V1_PREFIX in line or V2_KEY in line:
            registered = REGISTERED_COMMANDS
            if state.stopped and state.token:
                registered = REGISTERED_COMMANDS | {state.token.lower()}
            command = parse(line, registered)
        if command is None:
            return self.masker.mask(line)
        if state.stopped:
            if state.token and command.name == state.token.lower():
                state.stopped, state.token = False, None
                self.obeyed.append(command)
            return self.masker.mask(line)
        self.obeyed.append(command)
        name, props, data = command.name, command.properties, command.data
        if name == STOP_COMMANDS:
            state.stopped, state.token = True, data
            return self.masker.mask(line)
        if name == "add-mask":
            if not data.strip():
                return "Warning: Can't add secret mask for empty string in ##[add-mask] command."
            self.masker.add(data)
            return None
        if name in ("set-output", "save-state"):
            target = self.outputs if name == "set-output" else self.state
            if "name" in props:
                target[props["name"]] = data
            return (
                f"Warning: The `{name}` command is deprecated and will be disabled soon. Please upgrade to "
                "using Environment Files."
            )
        if name in ("set-env", "add-path"):
            message = (
                f"Unable to process command '{self.masker.mask(line)}' successfully. The `{name}` command "
                "is disabled. Please upgrade to using Environment Files."
            )
            self.errors.append(message)
            return f"Error: {message}"
        return self.masker.mask(line)


def obeyed_commands(text: str, masker: Masker | None = None) -> list[ActionCommand]:
    """Every command the runner obeys in ``text``, read from a fresh job state (a test's view)."""
    commands = StepCommands(masker or Masker())
    commands.filter(text)
    return commands.obeyed
