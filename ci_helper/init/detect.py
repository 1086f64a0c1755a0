"""What ``init`` reads from a project's code: the heavy packages it imports."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.workflows.discovery import SKIPPED_DIRS

# Packages CI cannot afford to install or load (weights, GPUs, cloned research repositories).
HEAVY = frozenset(
    {
        "torch",
        "torchvision",
        "torchaudio",
        "tensorflow",
        "jax",
        "xformers",
        "transformers",
        "diffusers",
        "accelerate",
        "open_clip",
        "clip",
        "safetensors",
        "onnxruntime",
        "cv2",
        "ldm",
        "sgm",
        "k_diffusion",
        "comfy",
        "modules",
    }
)
# Generated stub trees and tests are not the application's imports.
_SKIP = {"repositories", "tests", "test"}


def _manifest_modules(project: Path, manifest: str | None) -> set[str]:
    """Top-level names the stub manifest declares (modules and dynamic prefixes)."""
    if not manifest:
        return set()
    # The manifest's own loader: its limits (depth, aliases, size) hold here too; an unreadable manifest
    # declares nothing, and the stubs action names its problem.
    from ci_helper.gates.stubs.manifest import load

    try:
        loaded = load(project / manifest)
    except BadInput:
        return set()
    names = {module.name.split(".")[0] for module in loaded.modules()}
    names.update(prefix.split(".")[0] for prefix in loaded.dynamic_prefixes())
    return names


def heavy_imports(project: Path, manifest: str | None = None) -> list[str]:
    """Sorted top-level names of heavy or stubbed packages the project's own code imports."""
    wanted = HEAVY | _manifest_modules(project, manifest)
    found: set[str] = set()
    for folder, dirs, files in os.walk(project):
        dirs[:] = [
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and d not in _SKIP
            and not d.startswith(".")
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        ]
        for name in files:
            if not name.endswith(".py"):
                continue
            try:
                tree = ast.parse(Path(folder, name).read_bytes())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    tops = [alias.name.split(".")[0] for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    tops = [node.module.split(".")[0]]
                else:
                    continue
                found.update(top for top in tops if top in wanted)
    return sorted(found)
