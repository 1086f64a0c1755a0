"""Put the cloned repositories on sys.path, as stable-diffusion-webui's modules/paths.py does.

The stubs that `ci-helper stubs create` writes under the same folder are found
the same way, so CI needs no PYTHONPATH when this runs first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPOSITORIES = ("stable-diffusion-stability-ai", "k-diffusion", "generative-models")


def repositories_dir() -> Path:
    return Path(os.environ.get("DIFFUSION_API_REPOSITORIES", Path(__file__).resolve().parent.parent / "repositories"))


def install(base: Path | None = None) -> list[str]:
    """Insert each existing repository folder at the front of sys.path; returns what was added."""
    base = base or repositories_dir()
    added = []
    for name in REPOSITORIES:
        folder = str(base / name)
        if os.path.isdir(folder) and folder not in sys.path:
            sys.path.insert(0, folder)
            added.append(folder)
    return added
