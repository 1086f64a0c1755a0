"""Run one ``run:`` step: GitHub's shell templates, its own process group, streamed output.

Each step runs in a new session (its own process group) so that Ctrl-C or a
timeout stops the step and everything it started, and the run can clean up
processes a step left behind (the runner's "orphan process" cleanup at the
end of a job).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ci_helper.workflows.shell import SHELL_TEMPLATES, resolve_shell as shell_model

# Seconds to wait after SIGINT, then after SIGTERM, before SIGKILL.
INTERRUPT_GRACE = 1.0
TERMINATE_GRACE = 2.5


class ShellError(Exception):
    """The step's shell cannot be used (unknown, or not installed): the step fails."""


def resolve_shell(shell: str, path_value: str) -> tuple[list[str], str]:
    """The argv template and script suffix for ``shell`` (``bash`` or a command with ``{0}``), from the model's table."""
    model = shell_model(shell)
    if shell.strip() not in SHELL_TEMPLATES and "{0}" not in shell:
        raise ShellError(f"Invalid shell option '{shell}': use bash, sh, python, pwsh or a command with {{0}}")
    program = model.program
    resolved = shutil.which(program, path=path_value)
    if resolved is None and program == "python":
        resolved = shutil.which("python3", path=path_value)
    if resolved is None:
        raise ShellError(f"{program}: command not found (shell '{shell}')")
    argv = shlex.split(model.command)
    argv[0] = resolved
    return argv, model.suffix


@dataclass
class Process:
    """A finished (or abandoned) step process: its exit code and process group."""

    returncode: int
    pgid: int
    timed_out: bool = False


def run_script(
    script: str,
    shell: str,
    *,
    cwd: Path,
    env: dict[str, str],
    temp: Path,
    write: Callable[[str], None],
    timeout: float | None = None,
    started: Callable[[int], None] | None = None,
) -> Process:
    """Run ``script`` with ``shell`` and stream its merged stdout/stderr through ``write``.

    On KeyboardInterrupt the whole process group gets SIGINT, then SIGKILL after
    a grace period, and the interrupt propagates.
    """
    argv, suffix = resolve_shell(shell, env.get("PATH", ""))
    script_path = temp / f"{uuid.uuid4()}{suffix}"
    if os.path.basename(argv[0]).startswith("pwsh"):
        # As the runner does: stop on errors, and exit with the last native command's code.
        script = (
            "$ErrorActionPreference = 'stop'\n"
            + script
            + "\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }"
        )
    # The runner writes the script as UTF-8 without a BOM.
    script_path.write_text(script, encoding="utf-8")
    argv = [arg.replace("{0}", str(script_path)) for arg in argv]
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    if started is not None:
        started(proc.pid)

    ended_line = [True]

    def pump() -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            write(raw.decode("utf-8", errors="replace"))
            ended_line[0] = raw.endswith(b"\n")
        proc.stdout.close()

    reader = threading.Thread(target=pump, name=f"step-output-{proc.pid}", daemon=True)
    reader.start()
    timed_out = False
    try:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(proc.pid, proc)
    except BaseException:
        stop_group(proc.pid, proc)
        reader.join(timeout=1)
        raise
    # A background process that still holds the pipe must not hang the run:
    # give the reader a moment, then move on (the group is cleaned up at the end).
    reader.join(timeout=0.5)
    if not ended_line[0]:
        write("\n")  # keep the outcome line on a line of its own
    return Process(proc.returncode if proc.returncode is not None else -1, proc.pid, timed_out)


def stop_group(pgid: int, proc: subprocess.Popen[bytes] | None = None, grace: float = INTERRUPT_GRACE) -> None:
    """Stop a process group: SIGINT, then SIGTERM after ``grace`` seconds, then SIGKILL.

    SIGTERM matters: background jobs of a non-interactive shell ignore SIGINT.
    """
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, TERMINATE_GRACE), (signal.SIGKILL, 1.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if (proc is None or proc.poll() is not None) and not group_alive(pgid):
                break
            time.sleep(0.02)
        else:
            continue
        break
    if proc is not None:
        proc.wait()


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process is in the group.

    Zombies count as gone: an orphan reparented to a PID 1 that never reaps
    (a bare container) would otherwise look alive forever.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path("/proc")
    if not proc.is_dir():
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the ")" that closes the command name: state, ppid, pgrp, ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False
