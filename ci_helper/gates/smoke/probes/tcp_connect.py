"""TCP readiness: the port accepts a connection (for servers without a health route)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from ci_helper.errors import BadInput
from ci_helper.gates.smoke.probes import Answer, describe_error


class TcpConnectProbe:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname or parts.port is None:
            raise BadInput(
                f"--ready-url {url!r}: a tcp:// ready URL needs a host and a port, e.g. tcp://127.0.0.1:7860"
            )
        self.url = url
        self._address = (parts.hostname, parts.port)

    def check(self, timeout: float) -> Answer:
        try:
            with socket.create_connection(self._address, timeout=timeout):
                return Answer(True, "connected")
        except OSError as exc:
            return Answer(False, describe_error(exc))
