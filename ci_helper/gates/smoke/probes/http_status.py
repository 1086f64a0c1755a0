"""HTTP readiness: GET the URL and compare the status with the expected one."""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

from ci_helper.errors import BadInput
from ci_helper.gates.smoke.probes import Answer, describe_error


class HttpStatusProbe:
    """Ready when ``GET url`` answers exactly ``ready_status``.

    http.client rather than urllib: no proxy from the environment between us
    and a local server, and no redirect followed behind our back (a 302 to a
    login page is not "ready").
    """

    def __init__(self, url: str, ready_status: int = 200) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise BadInput(f"--ready-url {url!r}: the URL has no host")
        if not 100 <= ready_status <= 599:
            # No server ever answers it: the run would wait out the whole timeout, then blame the server.
            raise BadInput(f"--ready-status {ready_status}: give an HTTP status from 100 to 599")
        self.url = url
        self.ready_status = ready_status
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def check(self, timeout: float) -> Answer:
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        try:
            conn.request("GET", self._path, headers={"User-Agent": "ci-helper-smoke"})
            status = conn.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            return Answer(False, describe_error(exc))
        finally:
            conn.close()
        return Answer(status == self.ready_status, f"HTTP {status}")
