"""ci-helper: truthful CI for GitHub Actions, runnable locally."""

__version__ = "0.1.0"
