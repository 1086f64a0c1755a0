"""Readiness probes: how we ask "is the server ready?" One module per kind of URL.

A probe answers one question once; polling, backoff and noticing a dead
server belong to :mod:`ci_helper.gates.smoke.readiness`.
"""

from __future__ import annotations

import http.client  # a sibling module is http_status, never http: it would shadow this
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import SplitResult, urlsplit

from ci_helper.errors import BadInput


@dataclass(frozen=True)
class Answer:
    ready: bool
    # What the server said, for messages: "HTTP 503", "connection refused".
    detail: str


class Probe(Protocol):
    url: str

    def check(self, timeout: float) -> Answer:
        """Ask once; never raises for a server that is not (yet) there."""
        ...


def probe_for(url: str, ready_status: int = 200) -> Probe:
    """The probe for a ready URL: ``http(s)://`` checks the status, ``tcp://host:port`` connects."""
    scheme = split_url("--ready-url", url).scheme
    if scheme in ("http", "https", "tcp"):
        check_port("--ready-url", url)
    if scheme in ("http", "https"):
        from ci_helper.gates.smoke.probes.http_status import HttpStatusProbe

        return HttpStatusProbe(url, ready_status)
    if scheme == "tcp":
        from ci_helper.gates.smoke.probes.tcp_connect import TcpConnectProbe

        return TcpConnectProbe(url)
    raise BadInput(f"--ready-url {url!r}: use an http://, https:// or tcp://host:port URL")


def split_url(flag: str, url: str) -> SplitResult:
    """``urlsplit``, with its ValueError (``http://[::1/``: unbalanced brackets) turned into bad input."""
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise BadInput(f"{flag} {url!r}: not a valid URL ({exc}); write it as http://host:port/path") from None


def check_port(flag: str, url: str) -> None:
    """urlsplit only parses the port when asked, and then raises ValueError: turn that into bad input."""
    try:
        _ = urlsplit(url).port
    except ValueError as exc:
        raise BadInput(f"{flag} {url!r}: bad port ({exc}); give a number from 1 to 65535") from None


def check_stop_url(url: str) -> None:
    """Checked before the server starts: failing inside the stop would leave the server running."""
    parts = split_url("--stop-url", url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"--stop-url {url!r}: use an http:// or https:// URL with a host")
    check_port("--stop-url", url)


def describe_error(exc: BaseException) -> str:
    """A short, stable description of why a connection attempt failed."""
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed the connection without a response"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = str(exc) or type(exc).__name__
    return text
