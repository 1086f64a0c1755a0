"""Request bodies: parse and validate JSON into typed requests (errors say which field)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


class PayloadError(ValueError):
    """A request body the API refuses (HTTP 400)."""


@dataclass(frozen=True)
class Txt2ImgRequest:
    prompt: str
    negative_prompt: str = ""
    steps: int = 20
    width: int = 512
    height: int = 512
    cfg_scale: float = 7.0
    sampler_name: str = "Euler"
    batch_size: int = 1
    seed: int = -1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_LIMITS = {"steps": (1, 150), "width": (64, 2048), "height": (64, 2048), "batch_size": (1, 8)}


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return data


def txt2img(data: dict[str, Any], samplers: list[str]) -> Txt2ImgRequest:
    """Validate a /sdapi/v1/txt2img body."""
    known = set(Txt2ImgRequest.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise PayloadError(f"unknown field(s): {', '.join(unknown)}")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise PayloadError("prompt must be a non-empty string")
    values: dict[str, Any] = {"prompt": prompt}
    for name in ("negative_prompt", "sampler_name"):
        if name in data:
            if not isinstance(data[name], str):
                raise PayloadError(f"{name} must be a string")
            values[name] = data[name]
    for name in ("steps", "width", "height", "batch_size", "seed"):
        if name in data:
            value = data[name]
            if not isinstance(value, int) or isinstance(value, bool):
                raise PayloadError(f"{name} must be an integer")
            low, high = _LIMITS.get(name, (None, None))
            if low is not None and not low <= value <= high:
                raise PayloadError(f"{name} must be between {low} and {high}, got {value}")
            values[name] = value
    if "cfg_scale" in data:
        value = data["cfg_scale"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 1 <= value <= 30:
            raise PayloadError("cfg_scale must be a number between 1 and 30")
        values["cfg_scale"] = float(value)
    request = Txt2ImgRequest(**values)
    if request.sampler_name not in samplers:
        raise PayloadError(f"unknown sampler {request.sampler_name!r}; one of: {', '.join(samplers)}")
    return request
