"""A local OSV-compatible vulnerability service for the canary's audit cases.

Answers ``POST /v1/query`` (and any path ending in ``/query``) and
``POST /v1/querybatch`` from a JSON list of OSV records, on 127.0.0.1 only, so
the audit canary runs the real pip-audit offline.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def matching(records: list[dict[str, Any]], name: str, version: str) -> list[dict[str, Any]]:
    """Records whose ``affected`` lists this PyPI package at this exact version."""
    found = []
    for record in records:
        for affected in record.get("affected", []):
            package = affected.get("package", {})
            if package.get("ecosystem", "PyPI") != "PyPI" or _normalize(package.get("name", "")) != _normalize(name):
                continue
            if version in affected.get("versions", []):
                found.append(record)
                break
    return found


def _handler(records: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep the canary's output clean
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 (http.server naming)
            length = int(self.headers.get("Content-Length") or 0)
            try:
                query = json.loads(self.rfile.read(length) or b"{}")
            except json.JSONDecodeError:
                self._reply(400, {"message": "invalid JSON"})
                return
            if self.path.endswith("/querybatch"):
                out = []
                for q in query.get("queries", []):
                    vulns = matching(records, q.get("package", {}).get("name", ""), q.get("version", ""))
                    out.append({"vulns": [{"id": v["id"], "modified": v.get("modified", "")} for v in vulns]})
                self._reply(200, {"results": out})
            elif self.path.endswith("/query"):
                vulns = matching(records, query.get("package", {}).get("name", ""), query.get("version", ""))
                self._reply(200, {"vulns": vulns} if vulns else {})
            else:
                self._reply(404, {"message": f"no route {self.path}"})

    return Handler


@contextlib.contextmanager
def serve(records: list[dict[str, Any]]) -> Iterator[str]:
    """Serve records; yields the query URL (``http://127.0.0.1:PORT/v1/query``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(records))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serve_records(path: Path) -> Iterator[str]:
    records = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []
    with serve(records) as url:
        yield url
