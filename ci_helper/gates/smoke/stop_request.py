"""The stop request: one POST to the server's stop URL. Its failure is a stop problem, nothing more."""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

from ci_helper.gates.smoke.probes import describe_error


def post(url: str, timeout: float) -> tuple[bool, str, bool]:
    """POST ``url`` with an empty body: (ok, what happened, connection refused).

    A server that exits while answering (``os._exit`` in the handler) ends the
    connection without a response; that is reported, and the caller still
    waits for the server to go.
    """
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("POST", path, body=b"", headers={"User-Agent": "ci-helper-smoke", "Content-Length": "0"})
        status = conn.getresponse().status
    except ConnectionRefusedError as exc:
        return False, describe_error(exc), True
    except (OSError, http.client.HTTPException) as exc:
        return False, describe_error(exc), False
    finally:
        conn.close()
    return 200 <= status < 400, f"HTTP {status}", False
