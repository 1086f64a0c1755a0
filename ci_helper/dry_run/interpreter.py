"""The project's interpreter for a dry run's steps, never ci-helper's own.

A workflow's ``pip install -r requirements-dev.txt`` and ``python -m pytest``
run with the first of: ``--python``, ``[tool.ci-helper] python``, an active
virtualenv (``VIRTUAL_ENV``, unless it is ci-helper's own), the project's
``.venv``; otherwise with a throwaway virtualenv per job, kept under
``.ci-helper/venvs/<hash>`` and reused while the files the job installs from
(its ``pip install`` lines, the requirement and constraint files they name, the
project's ``pyproject.toml``/``setup.py``/``setup.cfg``) and the Python version
stay the same. The job's own install steps then fill it, as they fill a fresh
runner's Python in CI.

The steps see the interpreter's scripts folder first on ``PATH`` and
``VIRTUAL_ENV`` set; ci-helper's own scripts folder is taken off ``PATH`` and
only a folder holding a link to its ``ci-helper`` is added, so ``python`` and
``pip`` can never reach ci-helper's environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ci_helper.errors import BadInput

VENVS_DIR = Path(".ci-helper") / "venvs"
MARKER = "ci-helper-venv.json"
# Files a bare `pip install .` / `-e .` installs from.
PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
_REQUIREMENT_FLAG = re.compile(r"^(-r|--requirement|-c|--constraint)(=(?P<inline>.+))?$")


@dataclass(frozen=True)
class Interpreter:
    python: Path  # the interpreter the steps' `python` is
    bin_dir: Path  # its scripts folder, first on PATH
    origin: str  # where it came from: "--python", ".venv", "throwaway virtualenv"...
    venv: Path | None  # the virtualenv's folder (VIRTUAL_ENV), None for a plain interpreter

    def describe(self) -> str:
        return f"{self.python} ({self.origin})"


def own_prefixes() -> set[Path]:
    """ci-helper's own environment: never the project's."""
    return {Path(sys.prefix).resolve()}


def own_scripts_dirs() -> set[str]:
    folders = {sysconfig.get_path("scripts"), os.path.dirname(sys.executable)}
    return {os.path.realpath(f) for f in folders if f}


def _venv_of(python: Path) -> Path | None:
    folder = python.parent.parent
    return folder if (folder / "pyvenv.cfg").is_file() else None


def _interpreter(value: str, project: Path, origin: str) -> Interpreter:
    candidate = Path(value).expanduser()
    if not candidate.is_absolute() and ("/" in value or os.sep in value):
        candidate = project / candidate
    found = str(candidate) if candidate.is_file() else shutil.which(value)
    if not found or not os.access(found, os.X_OK):
        raise BadInput(
            f"{origin} {value}: not an interpreter (no such file, or not on PATH); give the path of the "
            "project's python, e.g. .venv/bin/python"
        )
    python = Path(os.path.abspath(found))  # not resolved: a venv's python is a link to its base
    return Interpreter(python, python.parent, origin, _venv_of(python))


def find(
    project: Path, given: str | None, configured: str | None, environ: Mapping[str, str] | None = None
) -> Interpreter | None:
    """The project's own interpreter, or None when it has none (then a throwaway virtualenv is built)."""
    environ = os.environ if environ is None else environ
    if given:
        return _interpreter(given, project, "--python")
    if configured:
        return _interpreter(configured, project, "[tool.ci-helper] python")
    active = environ.get("VIRTUAL_ENV")
    if active and Path(active).resolve() not in own_prefixes():
        python = Path(active) / "bin" / "python"
        if python.is_file():
            return Interpreter(python, python.parent, "active virtualenv", Path(active))
    for name in (".venv", "venv"):
        python = project / name / "bin" / "python"
        if python.is_file() and (project / name).resolve() not in own_prefixes():
            return Interpreter(python, python.parent, name, project / name)
    return None


def install_sources(project: Path, scripts: list[str]) -> list[Path]:
    """The files a job's ``pip install`` lines install from (requirement and constraint files, the project)."""
    files: list[Path] = []
    for script in scripts:
        for line in script.splitlines():
            if "pip" not in line or "install" not in line:
                continue
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                words = line.split()
            for index, word in enumerate(words):
                match = _REQUIREMENT_FLAG.match(word)
                if match:
                    name = match["inline"] or (words[index + 1] if index + 1 < len(words) else "")
                    if name:
                        files.append(project / name)
                elif word in (".", "-e.", "./") or word.startswith((".[", "-e.[")):
                    files.extend(project / f for f in PROJECT_FILES)
    return [f for f in dict.fromkeys(files) if f.is_file()]


def cache_key(project: Path, scripts: list[str]) -> str:
    """The hash a throwaway virtualenv is kept under: Python version, install lines and the files they name."""
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    for script in scripts:
        for line in script.splitlines():
            if "pip" in line and "install" in line:
                digest.update(line.strip().encode() + b"\n")
    for path in install_sources(project, scripts):
        digest.update(str(path.relative_to(project) if path.is_relative_to(project) else path).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def base_python() -> str:
    """The interpreter a throwaway virtualenv is made from: the base of ci-helper's (not its environment)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def throwaway(project: Path, scripts: list[str], report: Callable[[str], object] | None = None) -> Interpreter:
    """A virtualenv for one job under ``.ci-helper/venvs/<hash>``, made once per hash."""
    key = cache_key(project, scripts)
    folder = project / VENVS_DIR / key
    python = folder / "bin" / "python"
    marker = folder / MARKER
    if not (python.is_file() and marker.is_file()):
        if folder.exists():
            shutil.rmtree(folder)
        if report is not None:
            report(f"creating a throwaway virtualenv for the job's installs: {folder}")
        done = subprocess.run([base_python(), "-m", "venv", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            raise BadInput(
                f"cannot create a virtualenv in {folder}: {done.stderr.strip().splitlines()[-1:] or ''}; "
                "pass the project's interpreter with --python"
            )
        marker.write_text(json.dumps({"key": key, "python": sys.version}) + "\n", encoding="utf-8")
    return Interpreter(python, python.parent, f"throwaway virtualenv {VENVS_DIR / key}", folder)


def environment(base: dict[str, str], interpreter: Interpreter, ci_helper_link: Path | None) -> dict[str, str]:
    """``base`` with the interpreter's scripts first on PATH and ci-helper's own scripts folder removed."""
    environ = dict(base)
    own = own_scripts_dirs()
    entries = [e for e in environ.get("PATH", "").split(os.pathsep) if e and os.path.realpath(e) not in own]
    first = [str(ci_helper_link)] if ci_helper_link is not None else []
    environ["PATH"] = os.pathsep.join(first + [str(interpreter.bin_dir)] + entries)
    environ.pop("PYTHONHOME", None)
    if interpreter.venv is not None:
        environ["VIRTUAL_ENV"] = str(interpreter.venv)
    else:
        environ.pop("VIRTUAL_ENV", None)
    return environ


def ci_helper_link(folder: Path, scripts: str | None) -> Path | None:
    """A folder holding only a link to ci-helper's console script (so ``ci-helper`` runs this one)."""
    if scripts is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "ci-helper"
    if not link.exists():
        try:
            link.symlink_to(Path(scripts) / "ci-helper")
        except FileExistsError:  # a job running beside this one made it first
            pass
    return folder
