"""The HTTP API: routes, JSON in and out, graceful stop. Standard library only."""

from __future__ import annotations

import json
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from diffusion_api import __version__, paths, payload

MAX_BODY = 1 << 20


class App:
    """What the routes share: the pipeline (imported late, after the repositories are on sys.path)."""

    def __init__(self, fake_inference: bool | None = None) -> None:
        paths.install()
        from diffusion_api import pipeline

        self.pipeline_module = pipeline
        self.pipeline = pipeline.Pipeline(fake_inference)
        self.started = time.monotonic()

    @property
    def fake_inference(self) -> bool:
        return self.pipeline.fake_inference

    def samplers(self) -> list[str]:
        return list(self.pipeline_module.SAMPLERS)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self.stopping = threading.Event()
        super().__init__(address, Handler)

    def stop_soon(self) -> None:
        """Stop after the current response is sent (shutdown() blocks, so not on a handler thread)."""
        if not self.stopping.is_set():
            self.stopping.set()
            threading.Thread(target=self.shutdown, daemon=True).start()


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = f"diffusion-api/{__version__}"
    protocol_version = "HTTP/1.1"
    stop_after_response = False

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        routes = ROUTES.get(path)
        if routes is None:
            self._drain()
            return self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})
        handler = routes.get(method)
        if handler is None:
            self._drain()
            return self._json(HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"{method} is not allowed on {path}"},
                              {"Allow": ", ".join(sorted(routes))})
        try:
            status, body = handler(self)
        except payload.PayloadError as exc:
            status, body = HTTPStatus.BAD_REQUEST, {"error": str(exc)}
        except self.server.app.pipeline_module.InferenceUnavailable as exc:
            status, body = HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc)}
        self._json(status, body)
        if self.stop_after_response:
            # Only now: the process may exit as soon as serve_forever() returns.
            self.wfile.flush()
            self.server.stop_soon()

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise payload.PayloadError(f"body is larger than {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    def _drain(self) -> None:
        try:
            self.body()
        except payload.PayloadError:
            self.close_connection = True

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def health(handler: Handler) -> tuple[int, Any]:
    app = handler.server.app
    return HTTPStatus.OK, {"status": "ok", "version": __version__, "fake_inference": app.fake_inference,
                           "uptime": round(time.monotonic() - app.started, 3)}


def samplers(handler: Handler) -> tuple[int, Any]:
    return HTTPStatus.OK, [{"name": name} for name in handler.server.app.samplers()]


def txt2img(handler: Handler) -> tuple[int, Any]:
    app = handler.server.app
    request = payload.txt2img(payload.parse_json(handler.body()), app.samplers())
    result = app.pipeline.txt2img(request)
    return HTTPStatus.OK, {"images": result["images"], "parameters": request.to_dict(), "info": json.dumps(result["info"])}


def server_stop(handler: Handler) -> tuple[int, Any]:
    handler.body()
    handler.close_connection = True
    handler.stop_after_response = True
    return HTTPStatus.OK, {"status": "stopping"}


ROUTES: dict[str, dict[str, Callable[[Handler], tuple[int, Any]]]] = {
    "/health": {"GET": health},
    "/sdapi/v1/samplers": {"GET": samplers},
    "/sdapi/v1/txt2img": {"POST": txt2img},
    "/sdapi/v1/server-stop": {"POST": server_stop},
}


def make_server(host: str = "127.0.0.1", port: int = 7861, fake_inference: bool | None = None) -> Server:
    """Bind (port 0 lets the OS choose) and return the server; call serve_forever() to run it."""
    return Server((host, port), App(fake_inference))
