"""Workflow commands a step prints on stdout (``::add-mask::``, ``::set-output``, ...), as the runner reads them.

- ``::add-mask::value`` hides ``value`` as ``***`` in all later output and summaries;
- ``::set-output name=x::v`` and ``::save-state name=x::v`` still work (with the runner's
  deprecation warning);
- ``::set-env`` and ``::add-path`` are disabled on GitHub: an error that fails the step;
- ``::stop-commands::TOKEN`` ignores commands until ``::TOKEN::``;
- other commands (``::error``, ``::warning``, ``::group::`` ...) are shown as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMAND = re.compile(r"^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$")


def _unescape_data(value: str) -> str:
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(value: str) -> str:
    return _unescape_data(value).replace("%3A", ":").replace("%2C", ",")


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
class StepCommands:
    """Reads one step's output line by line; ``filter`` returns what to print."""

    masker: Masker
    outputs: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop_token: str | None = None

    def filter(self, text: str) -> str:
        line = text.rstrip("\r\n")
        if self.stop_token is not None:
            if line == f"::{self.stop_token}::":
                self.stop_token = None
                return ""
            return self.masker.mask(text)
        match = _COMMAND.match(line)
        if match is None:
            return self.masker.mask(text)
        name, raw_props, data = match.group(1).lower(), match.group(2) or "", match.group(3)
        props = {}
        for item in raw_props.split(","):
            key, sep, value = item.partition("=")
            if sep:
                props[key.strip()] = _unescape_property(value)
        if name == "add-mask":
            self.masker.add(_unescape_data(data))
            return ""
        if name == "stop-commands":
            self.stop_token = data
            return ""
        if name in ("set-output", "save-state"):
            target = self.outputs if name == "set-output" else self.state
            if "name" in props:
                target[props["name"]] = _unescape_data(data)
            return (f"Warning: The `{name}` command is deprecated and will be disabled soon. Please upgrade to "
                    "using Environment Files.\n")
        if name in ("set-env", "add-path"):
            message = (f"Unable to process command '{self.masker.mask(line)}' successfully. The `{name}` command "
                       "is disabled. Please upgrade to using Environment Files.")
            self.errors.append(message)
            return f"Error: {message}\n"
        return self.masker.mask(text)
