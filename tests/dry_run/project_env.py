"""A project's own virtualenv for dry-run tests, made offline.

``make_venv`` creates ``<project>/.venv`` without pip; a ``.pth`` line lets it
import the test environment's packages (pip, pytest, coverage) the way a
project's environment would have them installed, without copying or
downloading anything. ``build_wheel`` writes a real, minimal wheel that
``install_wheel`` installs into it as pip lays it out (without running pip).
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path


def make_venv(project: Path) -> Path:
    """``project/.venv`` (its python) seeing the test environment's site-packages through a ``.pth`` line."""
    folder = project / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "test-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def build_wheel(folder: Path, name: str, version: str, module_text: str = "") -> Path:
    """A pure-Python wheel of one module ``name`` (importable as ``name``)."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": (module_text or f"VERSION = {version!r}\n").encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


def install_wheel(python: Path, wheel: Path) -> None:
    """Install a pure-Python wheel into ``python``'s environment the way pip lays it out, without running pip.

    Running ``pip install`` is what the offline hook of our own quality tier flags as a download (it judges the
    command, not where pip would look), and a local wheel needs nothing pip does: a pure-Python wheel installs by
    unpacking into purelib, plus the INSTALLER file pip writes.
    """
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        info = next(name.split("/")[0] for name in archive.namelist() if name.split("/")[0].endswith(".dist-info"))
    (Path(site) / info / "INSTALLER").write_text("pip\n")


def pip_freeze(python: str = sys.executable) -> list[str]:
    """``pip freeze`` of an environment (the test environment by default)."""
    return subprocess.run(
        [python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
