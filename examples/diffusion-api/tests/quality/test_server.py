"""The server in-process on 127.0.0.1, port 0."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from diffusion_api import __main__ as entry
from diffusion_api import server


@pytest.fixture
def running():
    httpd = server.make_server("127.0.0.1", 0, fake_inference=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def call(httpd, method, path, body=None, raw=None):
    conn = http.client.HTTPConnection(*httpd.server_address[:2], timeout=5)
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    result = response.status, json.loads(response.read()), dict(response.getheaders())
    conn.close()
    return result


def test_health(running):
    status, body, headers = call(running, "GET", "/health")
    assert status == 200
    assert (body["status"], body["fake_inference"], headers["Content-Type"]) == ("ok", True, "application/json")


def test_samplers(running):
    assert call(running, "GET", "/sdapi/v1/samplers")[:2] == (200, [{"name": "Euler"}, {"name": "Euler a"}, {"name": "DPM++ 2M"}])


def test_txt2img(running):
    status, body, _ = call(running, "POST", "/sdapi/v1/txt2img", {"prompt": "x", "seed": 1})
    assert status == 200
    assert body["parameters"]["seed"] == 1
    assert len(body["images"]) == 1


def test_errors(running):
    assert call(running, "GET", "/missing")[:2] == (404, {"error": "no route /missing"})
    status, body, headers = call(running, "GET", "/sdapi/v1/txt2img")
    assert (status, body, headers["Allow"]) == (405, {"error": "GET is not allowed on /sdapi/v1/txt2img"}, "POST")
    assert call(running, "POST", "/sdapi/v1/txt2img", raw=b"nope")[0] == 400
    assert call(running, "POST", "/sdapi/v1/txt2img", raw=b"x" * (server.MAX_BODY + 1))[:2] == (
        400, {"error": f"body is larger than {server.MAX_BODY} bytes"})


def test_real_inference_unavailable_is_503():
    httpd = server.make_server("127.0.0.1", 0, fake_inference=False)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        status, body, _ = call(httpd, "POST", "/sdapi/v1/txt2img", {"prompt": "x"})
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert status == 503
    assert body["error"].startswith("the model cannot be loaded:")


def test_server_stop_ends_serve_forever():
    httpd = server.make_server("127.0.0.1", 0, fake_inference=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    assert call(httpd, "POST", "/sdapi/v1/server-stop")[:2] == (200, {"status": "stopping"})
    thread.join(5)
    httpd.server_close()
    assert not thread.is_alive()


def test_args_from_env(monkeypatch):
    monkeypatch.setenv("DIFFUSION_API_HOST", "0.0.0.0")
    monkeypatch.setenv("DIFFUSION_API_PORT", "9000")
    args = entry.parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 9000)
    assert entry.parse_args(["--port", "0"]).port == 0
