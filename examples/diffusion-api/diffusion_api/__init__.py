"""diffusion-api: a small txt2img-style HTTP API (the ci-helper example project)."""

__version__ = "0.1.0"
