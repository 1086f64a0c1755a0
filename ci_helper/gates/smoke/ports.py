"""Is the ready URL's port already taken? Checked before the server starts.

Without this check a leftover server from an earlier step would answer the
readiness probe, and the tests would run against the wrong process.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass
class PortHolder:
    host: str
    port: int
    # Who holds it, when /proc tells us (Linux, same user).
    pid: int | None = None
    name: str | None = None

    def message(self) -> str:
        who = f" by pid {self.pid} ({self.name})" if self.pid is not None else " by another process"
        return (
            f"port {self.port} is already in use on {self.host}{who} before the server started; "
            f"stop that process or give the server another port"
        )


def named_port(url: str) -> tuple[str, int] | None:
    """(host, port) when the URL names a port explicitly, else None."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if port is None or not parts.hostname:
        return None
    host = parts.hostname
    # A server bound to every interface is reached on loopback.
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if host == "0.0.0.0" else "::1"
    return host, port


def port_in_use(url: str) -> PortHolder | None:
    """Who holds the ready URL's port before we start, or None when it is free (or unnamed)."""
    named = named_port(url)
    if named is None:
        return None
    host, port = named
    try:
        with socket.create_connection((host, port), timeout=1.0):
            pass
    except OSError:
        return None
    pid, name = _listener(port)
    return PortHolder(host, port, pid, name)


def _listener(port: int) -> tuple[int | None, str | None]:
    """The process listening on ``port`` (best effort, Linux only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            # local_address is HEX_IP:HEX_PORT; state 0A is LISTEN.
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    if not inodes:
        return None, None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") in targets:
                    name = Path(f"/proc/{entry}/comm").read_text().strip()
                    return int(entry), name
            except OSError:
                continue
    return None, None
