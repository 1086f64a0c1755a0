"""A local OSV-compatible vulnerability service on 127.0.0.1.

Package code because the canary's audit cases need it offline; the audit,
deps and action tests use the same server.

It answers the two OSV endpoints pip-audit and other clients use,
``POST /v1/query`` and ``POST /v1/querybatch``, from a list of OSV records
(the JSON schema at https://ossf.github.io/osv-schema/) held in memory. A
record affects a version when the version is listed in ``affected[].versions``
or falls in an ``ECOSYSTEM`` range (``introduced`` <= version < ``fixed``,
or <= ``last_affected``).

``mode="error"`` answers every request with HTTP 500, to prove that a failing
service makes the audit ``not-run`` instead of green. ``OsvServer.queries``
records every ``(name, version)`` asked for.

``serve()`` / ``serve_records()`` are the canary's context managers: they
yield the single-query URL (``http://127.0.0.1:PORT/v1/query``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

MODES = ("ok", "error")


def _in_ranges(version: Version, ranges: Iterable[dict[str, Any]]) -> bool:
    for rng in ranges:
        if rng.get("type") != "ECOSYSTEM":
            continue
        # Events are ordered per the OSV schema: walk them keeping "inside or not".
        inside = False
        for event in rng.get("events", []):
            try:
                if "introduced" in event:
                    intro = event["introduced"]
                    if intro == "0" or version >= Version(intro):
                        inside = True
                elif "fixed" in event and version >= Version(event["fixed"]):
                    inside = False
                elif "last_affected" in event and version > Version(event["last_affected"]):
                    inside = False
            except InvalidVersion:
                continue
        if inside:
            return True
    return False


def affects(record: dict[str, Any], name: str, version: str) -> bool:
    """True when the OSV ``record`` lists PyPI package ``name`` at ``version`` as affected."""
    wanted = canonicalize_name(name)
    try:
        parsed = Version(version)
    except InvalidVersion:
        parsed = None
    for affected in record.get("affected", []):
        package = affected.get("package", {})
        if package.get("ecosystem") != "PyPI" or canonicalize_name(package.get("name", "")) != wanted:
            continue
        if version in affected.get("versions", []):
            return True
        if parsed is not None and _in_ranges(parsed, affected.get("ranges", [])):
            return True
    return False


class OsvServer:
    """Serve ``records`` on ``http://127.0.0.1:<port>`` (port chosen by the OS); a context manager.

    ``queries`` records every ``(name, version)`` asked for, so a caller can
    prove which packages were audited.
    """

    def __init__(self, records: list[dict[str, Any]], mode: str = "ok") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.records = records
        self.mode = mode
        self.queries: list[tuple[str, str]] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_file(cls, path: str | Path, mode: str = "ok") -> OsvServer:
        """Records from a JSON file holding a list of OSV records."""
        records = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(records, list):
            raise ValueError(f"{path}: expected a JSON list of OSV records")
        return cls(records, mode)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        if self._httpd is None:
            raise RuntimeError("server is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def query_url(self) -> str:
        """The single-query endpoint, the value pip-audit's ``--osv-url`` takes."""
        return f"{self.url}/v1/query"

    def vulns_for(self, name: str, version: str) -> list[dict[str, Any]]:
        return [r for r in self.records if affects(r, name, version)]

    def start(self) -> OsvServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                pass  # keep test output clean

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 - stdlib name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if server.mode == "error":
                    self._send(500, {"code": 13, "message": "internal error (test OSV server in error mode)"})
                    return
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    self._send(400, {"code": 3, "message": "invalid JSON"})
                    return
                if self.path == "/v1/query":
                    vulns = self._answer(body)
                    self._send(200, {"vulns": vulns} if vulns else {})
                elif self.path == "/v1/querybatch":
                    results = []
                    for query in body.get("queries", []):
                        vulns = self._answer(query)
                        # The batch endpoint returns ids and modification times only.
                        results.append(
                            {"vulns": [{"id": v["id"], "modified": v.get("modified", "")} for v in vulns]}
                            if vulns
                            else {}
                        )
                    self._send(200, {"results": results})
                else:
                    self._send(404, {"code": 5, "message": f"no endpoint {self.path}"})

            def _answer(self, query: dict[str, Any]) -> list[dict[str, Any]]:
                package = query.get("package", {})
                name = package.get("name", "")
                version = str(query.get("version", ""))
                server.queries.append((name, version))
                if package.get("ecosystem", "PyPI") != "PyPI":
                    return []
                return server.vulns_for(name, version)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="osv-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> OsvServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def serve(records: list[dict[str, Any]]) -> Iterator[str]:
    """Serve records; yields the query URL (``http://127.0.0.1:PORT/v1/query``)."""
    with OsvServer(records) as server:
        yield server.query_url


@contextlib.contextmanager
def serve_records(path: Path) -> Iterator[str]:
    """Serve the records in ``path`` (none when the file is absent); yields the query URL."""
    records = OsvServer.from_file(path).records if Path(path).is_file() else []
    with serve(records) as url:
        yield url
