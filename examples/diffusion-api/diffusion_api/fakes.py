"""Fake inference through ci-helper when it is installed (CI); off everywhere else."""

from __future__ import annotations

try:
    from ci_helper import fake as _fake
except ImportError:  # production installs do not have ci-helper
    _fake = None


def enabled() -> bool:
    return _fake is not None and _fake.fake_inference_enabled()


def image_base64() -> str:
    if _fake is None:
        raise RuntimeError("fake inference needs ci-helper installed")
    return _fake.image_base64()
