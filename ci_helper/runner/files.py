"""The per-step file commands: ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``GITHUB_PATH``, ``GITHUB_STATE``, ``GITHUB_STEP_SUMMARY``.

Parsed as the runner's ``FileCommandManager`` does: UTF-8 with a BOM skipped,
lines split on LF only, empty lines ignored, ``NAME=VALUE`` or ``NAME<<DELIM``
followed by lines up to a line that is exactly ``DELIM`` (the value is the
text in between, without its last newline). An unterminated heredoc or a line
of neither form is an error that fails the step.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

# name -> (environment variable, file prefix as the runner names them)
FILE_COMMANDS = {
    "output": ("GITHUB_OUTPUT", "set_output_"),
    "env": ("GITHUB_ENV", "set_env_"),
    "path": ("GITHUB_PATH", "add_path_"),
    "state": ("GITHUB_STATE", "save_state_"),
    "step_summary": ("GITHUB_STEP_SUMMARY", "step_summary_"),
}

SUMMARY_LIMIT = 128 * 1024  # the runner refuses a bigger step summary


class FileCommandError(Exception):
    """A file command the runner would reject; the step fails."""


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ""
    return data.decode("utf-8-sig", errors="replace")


def parse_key_values(text: str, command: str = "output") -> dict[str, str]:
    """Parse ``NAME=VALUE`` / ``NAME<<DELIM`` lines; later names overwrite earlier ones."""
    result: dict[str, str] = {}
    lines = text.split("\n")
    # A trailing "\n" does not start another line.
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            continue
        equals = line.find("=")
        heredoc = line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            if not name:
                raise FileCommandError(f"Invalid format '{line}'. Name must not be empty")
            result[name] = value
        elif heredoc >= 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line.split("<<", 1)
            if not name or not delimiter:
                raise FileCommandError(
                    f"Invalid format '{line}'. Name must not be empty and delimiter must not be empty"
                )
            body: list[str] = []
            while True:
                if i >= len(lines):
                    raise FileCommandError(f"Invalid value. Matching delimiter not found '{delimiter}'")
                candidate = lines[i]
                i += 1
                if candidate == delimiter:
                    break
                body.append(candidate)
            result[name] = "\n".join(body)
        else:
            raise FileCommandError(f"Invalid format '{line}'")
    return result


def parse_paths(text: str) -> list[str]:
    """``GITHUB_PATH``: one folder per line, empty lines skipped."""
    # File.ReadAllLines splits on CR, LF and CRLF.
    return [line for line in re.split(r"\r\n|\r|\n", text) if line != ""]


@dataclass
class StepFiles:
    """A fresh, empty set of file-command files for one step."""

    directory: Path
    paths: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def create(cls, runner_temp: Path) -> StepFiles:
        folder = runner_temp / "_runner_file_commands"
        folder.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="step_", dir=folder))
        files = cls(directory)
        for name, (_, prefix) in FILE_COMMANDS.items():
            path = directory / f"{prefix}{os.getpid()}"
            path.write_bytes(b"")
            files.paths[name] = path
        return files

    def environment(self) -> dict[str, str]:
        return {env_name: str(self.paths[name]) for name, (env_name, _) in FILE_COMMANDS.items()}

    def read(self) -> FileCommands:
        """Parse every file; the first malformed one is reported as ``errors``."""
        commands = FileCommands()
        for name, key in (("output", "outputs"), ("env", "env"), ("state", "state")):
            try:
                setattr(commands, key, parse_key_values(read_text(self.paths[name]), name))
            except FileCommandError as exc:
                commands.errors.append(f"Unable to process file command '{name}' successfully. {exc}")
        commands.paths = parse_paths(read_text(self.paths["path"]))
        summary = self.paths["step_summary"]
        size = summary.stat().st_size if summary.exists() else 0
        if size > SUMMARY_LIMIT:
            commands.warnings.append(
                f"$GITHUB_STEP_SUMMARY supports content up a size of {SUMMARY_LIMIT // 1024}k got {size // 1024}k"
            )
        elif size:
            commands.summary = read_text(summary)
        return commands


@dataclass
class FileCommands:
    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    summary: str = ""
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
