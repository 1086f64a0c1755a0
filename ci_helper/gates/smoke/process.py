"""The server process: its own process group, a log file, and a stop that leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ci_helper.errors import BadInput
from ci_helper.gates.smoke.command import ServerCommand

STOP_URL = "stop-url"
SIGTERM = "SIGTERM"
SIGKILL = "SIGKILL"

# After SIGKILL the kernel needs a moment; longer than this means a process we cannot kill.
KILL_GRACE_SECONDS = 5.0
TAIL_BYTES = 256 * 1024


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``.

    Zombies are dead already: an orphan reparented to a PID 1 that does not
    reap (common in containers) would otherwise look like a survivor.
    """
    proc = Path("/proc")
    if not proc.is_dir():  # pragma: no cover - no /proc (macOS): ask the kernel about the group
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [pgid]
    members = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            stat = (proc / entry / "stat").read_text()
        except OSError:
            continue  # gone while we looked
        # Fields after the command name, which may itself contain spaces or ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            members.append(int(entry))
    return sorted(members)


@dataclass
class StopOutcome:
    method: str | None  # stop-url, SIGTERM, SIGKILL, or None when it had exited on its own
    exit_code: int | None
    survivors: list[int]
    stop_request: str | None  # what the stop URL answered ("HTTP 200", "connection refused")
    stop_request_ok: bool
    seconds: float


class ServerProcess:
    """A started server. Use :meth:`start`; always call :meth:`stop`."""

    def __init__(
        self, popen: subprocess.Popen[bytes], log_path: Path, pump: threading.Thread | None, log_handle: IO[bytes]
    ) -> None:
        self.popen = popen
        self.pid = popen.pid
        # start_new_session made the server the leader of a new group.
        self.pgid = popen.pid
        self.log_path = log_path
        self.started = time.monotonic()
        self._pump = pump
        self._log_handle = log_handle

    @classmethod
    def start(
        cls, command: ServerCommand, cwd: Path, log_path: Path, stream: IO[str] | None = None, prefix: str = "server | "
    ) -> ServerProcess:
        """Start the server with stdout+stderr to ``log_path`` (and to ``stream``, prefixed, if given).

        Call it inside :func:`cancellation.deferred` and keep the result where
        the code that stops the server can see it before the block ends.
        """
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_handle = open(log_path, "wb")
        from ci_helper.gates.smoke.environment import project_environ

        env = project_environ()
        env.update(command.env)
        try:
            popen = subprocess.Popen(
                command.argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if stream is not None else log_handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except FileNotFoundError:
            log_handle.close()
            raise BadInput(
                f"--server: command not found: {command.argv[0]!r} (in {cwd}); check the command and PATH"
            ) from None
        except PermissionError:
            log_handle.close()
            raise BadInput(f"--server: {command.argv[0]!r} is not executable") from None
        server = cls(popen, log_path, None, log_handle)
        if stream is not None:
            server._pump = threading.Thread(target=_pump, args=(popen.stdout, log_handle, stream, prefix), daemon=True)
            server._pump.start()
        return server

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait_exit(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` for the server to exit; returns its exit code or None. Wakes at once on exit."""
        try:
            return self.popen.wait(timeout=max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None

    def members(self) -> list[int]:
        return group_members(self.pgid)

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def _wait_group_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self.popen.poll()  # reap the leader so it does not linger as our zombie
            if not self.members():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            # Sleeping in wait() wakes at once when the leader exits.
            if self.popen.returncode is None:
                self.wait_exit(min(0.05, remaining))
            else:
                time.sleep(min(0.05, remaining))

    def stop(self, stop_url: str | None, stop_timeout: float) -> StopOutcome:
        """POST the stop URL (if any) and wait, then SIGTERM the group and wait, then SIGKILL it."""
        start = time.monotonic()
        method: str | None = None
        stop_request: str | None = None
        stop_request_ok = True
        if self._wait_group_gone(0):
            method = None
        else:
            gone = False
            if stop_url:
                from ci_helper.gates.smoke.stop_request import post

                stop_request_ok, stop_request, refused = post(stop_url, timeout=min(stop_timeout, 10.0) or 1.0)
                # A refused connection means nobody got the request: do not wait for it to work.
                if not refused:
                    gone = self._wait_group_gone(stop_timeout)
                method = STOP_URL
            if not gone:
                method = SIGTERM
                self._signal_group(signal.SIGTERM)
                gone = self._wait_group_gone(stop_timeout)
            if not gone:
                method = SIGKILL
                self._signal_group(signal.SIGKILL)
                self._wait_group_gone(KILL_GRACE_SECONDS)
        survivors = self.members()
        exit_code = self.wait_exit(1.0) if not survivors else self.popen.poll()
        self._close_log()
        return StopOutcome(
            method, exit_code, survivors, stop_request, stop_request_ok, round(time.monotonic() - start, 3)
        )

    def _close_log(self) -> None:
        if self._pump is not None:
            # Grandchildren that escaped the group could hold the pipe open: do not hang on them.
            self._pump.join(timeout=1.0)
        self._log_handle.close()

    def log_tail(self, lines: int = 50) -> list[str]:
        """The last ``lines`` lines of the log (as text, undecodable bytes replaced)."""
        if self._pump is not None and self.popen.poll() is not None:
            self._pump.join(timeout=1.0)
        try:
            self._log_handle.flush()
        except ValueError:
            pass  # already closed
        return read_tail(self.log_path, lines)


def read_tail(path: Path, lines: int = 50) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    return text.splitlines()[-lines:] if lines > 0 else []


def _pump(pipe: IO[bytes], log: IO[bytes], stream: IO[str], prefix: str) -> None:
    """Copy the server's output to the log file and, prefixed, to ``stream``."""
    for line in iter(pipe.readline, b""):
        try:
            log.write(line)
            log.flush()
        except ValueError:
            break  # the log was closed after the stop: whatever still writes is outside the group
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            stream.write(f"{prefix}{text}\n")
            stream.flush()
        except (OSError, ValueError):
            pass  # our console went away; the log file still gets everything
    pipe.close()
