"""Where the manifest and the stub root are: flags, then ``[tool.ci-helper.stubs]``, then the manifest."""

from __future__ import annotations

from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.gates.stubs.manifest import Manifest
from ci_helper.settings import Settings


def manifest_path(flag: str | None, settings: Settings) -> Path:
    """``--manifest`` (relative to the working folder), else the setting (relative to the project)."""
    if flag:
        return Path(flag)
    if settings.stubs.manifest:
        return (settings.project_root or Path(".")) / settings.stubs.manifest
    raise BadInput("no stub manifest: pass --manifest F or set manifest in [tool.ci-helper.stubs]")


def root_path(flag: str | None, settings: Settings, manifest: Manifest) -> Path:
    """``--root``, else the setting (relative to the project), else the manifest's ``root`` (relative to it)."""
    if flag:
        return Path(flag)
    if settings.stubs.root:
        return (settings.project_root or Path(".")) / settings.stubs.root
    return manifest.path.parent / manifest.root
