"""Quality tests import the app; the stubs must be on the path (stub-repos action, or paths.install)."""

from __future__ import annotations

from diffusion_api import paths

paths.install()
