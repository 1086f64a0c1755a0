"""The running server answers like the real API, with fake inference on."""

from __future__ import annotations

import base64
import json
import struct


def test_health_reports_fake_inference(api):
    status, body = api.request("GET", "/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["fake_inference"] is True


def test_samplers_lists_the_k_diffusion_samplers(api):
    status, body = api.request("GET", "/sdapi/v1/samplers")
    assert (status, body) == (200, [{"name": "Euler"}, {"name": "Euler a"}, {"name": "DPM++ 2M"}])


def test_txt2img_returns_the_declared_fake_png(api):
    status, body = api.request("POST", "/sdapi/v1/txt2img", {"prompt": "a lighthouse at dusk", "seed": 42, "batch_size": 2})
    assert status == 200
    assert len(body["images"]) == 2
    png = base64.b64decode(body["images"][0])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (8, 8)  # stubs.yml: fake_inference width/height
    assert json.loads(body["info"]) == {"prompt": "a lighthouse at dusk", "seed": 42, "sampler_name": "Euler",
                                        "steps": 20, "fake_inference": True}


def test_txt2img_rejects_a_bad_request(api):
    status, body = api.request("POST", "/sdapi/v1/txt2img", {"prompt": "x", "steps": 0})
    assert (status, body) == (400, {"error": "steps must be between 1 and 150, got 0"})


def test_unknown_route_is_404(api):
    status, body = api.request("GET", "/sdapi/v1/nope")
    assert (status, body) == (404, {"error": "no route /sdapi/v1/nope"})
