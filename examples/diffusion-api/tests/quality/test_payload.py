from __future__ import annotations

import pytest

from diffusion_api import payload

SAMPLERS = ["Euler", "Euler a"]


def test_defaults():
    request = payload.txt2img({"prompt": "cat"}, SAMPLERS)
    assert request.to_dict() == {"prompt": "cat", "negative_prompt": "", "steps": 20, "width": 512, "height": 512,
                                 "cfg_scale": 7.0, "sampler_name": "Euler", "batch_size": 1, "seed": -1}


def test_all_fields():
    request = payload.txt2img({"prompt": "cat", "negative_prompt": "dog", "steps": 30, "width": 768, "height": 640,
                               "cfg_scale": 5, "sampler_name": "Euler a", "batch_size": 2, "seed": 7}, SAMPLERS)
    assert (request.steps, request.cfg_scale, request.sampler_name, request.seed) == (30, 5.0, "Euler a", 7)


@pytest.mark.parametrize("data, message", [
    ({}, "prompt must be a non-empty string"),
    ({"prompt": "  "}, "prompt must be a non-empty string"),
    ({"prompt": "x", "color": 1}, "unknown field(s): color"),
    ({"prompt": "x", "negative_prompt": 3}, "negative_prompt must be a string"),
    ({"prompt": "x", "steps": "20"}, "steps must be an integer"),
    ({"prompt": "x", "steps": True}, "steps must be an integer"),
    ({"prompt": "x", "width": 4096}, "width must be between 64 and 2048, got 4096"),
    ({"prompt": "x", "cfg_scale": 0}, "cfg_scale must be a number between 1 and 30"),
    ({"prompt": "x", "sampler_name": "LMS"}, "unknown sampler 'LMS'; one of: Euler, Euler a"),
])
def test_rejections(data, message):
    with pytest.raises(payload.PayloadError) as info:
        payload.txt2img(data, SAMPLERS)
    assert str(info.value) == message


@pytest.mark.parametrize("body, message", [
    (b"{", "body is not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b"[1]", "body must be a JSON object"),
    (b"\xff", "body is not valid JSON: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
])
def test_parse_json_errors(body, message):
    with pytest.raises(payload.PayloadError) as info:
        payload.parse_json(body)
    assert str(info.value) == message


def test_parse_json_empty_body_is_an_empty_object():
    assert payload.parse_json(b"") == {}
