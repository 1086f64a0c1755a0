"""A hostile checkout: modules that would stand in for ours, each leaving a mark when imported or run.

Used by the isolation tests (issue 14): the checked-out repository is the code
being judged, so everything here is what a pull request can put at the root of
the job's working folder or on its ``PYTHONPATH``.
"""

from __future__ import annotations

import os
from pathlib import Path

# Modules our processes import or run: ci-helper itself, its dependencies, pip and the stdlib
# modules `python -m` reaches for while installing. sitecustomize/usercustomize run at startup.
ROOT_MODULES = ("click", "yaml", "jinja2", "jsonschema", "pip", "venv", "ensurepip", "sitecustomize", "usercustomize")
ROOT_PACKAGES = ("ci_helper", "pip_audit")


def _body(marks: Path, name: str) -> str:
    # Leaves a mark, then pretends all went well (an exit 0 is what a forged gate wants).
    return (
        f"import pathlib\npathlib.Path({str(marks)!r}).mkdir(parents=True, exist_ok=True)\n"
        f"pathlib.Path({str(marks)!r}, {name!r}).write_text('imported')\n"
    )


def plant(
    folder: Path, marks: Path, modules: tuple[str, ...] = ROOT_MODULES, packages: tuple[str, ...] = ROOT_PACKAGES
) -> list[str]:
    """Write the hostile modules into ``folder``; returns the file names written (for coverage omits)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in modules:
        (folder / f"{name}.py").write_text(
            _body(marks, name) + "raise SystemExit(0)\n"
            if name not in ("sitecustomize", "usercustomize")
            else _body(marks, name)
        )
        written.append(f"{name}.py")
    for name in packages:
        package = folder / name
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text(_body(marks, name))
        (package / "__main__.py").write_text(_body(marks, f"{name}.__main__") + "raise SystemExit(0)\n")
        written.append(f"{name}/*")
    return written


def planted_pth(site_packages: Path, marks: Path) -> None:
    """A ``.pth`` in an interpreter's site-packages whose import line runs at every start of it."""
    (site_packages / "zz_hostile.pth").write_text(
        f"import pathlib; pathlib.Path({str(marks)!r}).mkdir(parents=True, exist_ok=True); "
        f"pathlib.Path({str(marks)!r}, 'pth').write_text('imported')\n"
    )


def fake_command(folder: Path, marks: Path, name: str = "ci-helper") -> Path:
    """An executable ``name`` that leaves a mark and exits 0 (a step putting it on PATH forges a green gate)."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\nmkdir -p '{marks}'\ntouch '{marks}/fake-{name}'\nexit 0\n")
    script.chmod(0o755)
    return script


def marks_left(marks: Path) -> list[str]:
    return sorted(os.listdir(marks)) if marks.is_dir() else []
