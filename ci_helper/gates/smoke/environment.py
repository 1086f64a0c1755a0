"""The environment the server and the tests run in: the project's, not ci-helper's.

The setup action installs ci-helper into a virtualenv of its own, marked with
``ci-helper-install.json`` (actions/setup/install.py). When we run from it, our
``sys.executable`` has none of the project's dependencies, so the project's
``python`` is the one found on PATH instead. setup now puts only a folder
holding ``ci-helper`` on PATH, so that lookup finds the project's interpreter
by itself; the virtualenv's ``bin`` is still taken off PATH (and out of
``VIRTUAL_ENV``) for the server and pytest because older setup steps put the
whole ``bin`` there, and a job may mix pins.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

# Written by actions/setup/install.py into the dedicated virtualenv.
SETUP_MARKER = "ci-helper-install.json"


def isolated_bin() -> Path | None:
    """ci-helper's own bin folder when it runs from the setup action's dedicated virtualenv."""
    prefix = Path(sys.prefix)
    if sys.prefix == sys.base_prefix or not (prefix / SETUP_MARKER).is_file():
        return None
    return prefix / ("Scripts" if os.name == "nt" else "bin")


def project_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment whose PATH no longer leads to ci-helper's isolated virtualenv."""
    env = dict(os.environ if environ is None else environ)
    own = isolated_bin()
    if own is not None and "PATH" in env:
        kept = [p for p in env["PATH"].split(os.pathsep) if p and Path(p).resolve() != own.resolve()]
        env["PATH"] = os.pathsep.join(kept)
    # A virtualenv "activation" of ci-helper's own environment must not leak either.
    if own is not None and env.get("VIRTUAL_ENV") and Path(env["VIRTUAL_ENV"]).resolve() == own.parent.resolve():
        del env["VIRTUAL_ENV"]
    return env


def default_python(environ: Mapping[str, str] | None = None) -> str:
    """The interpreter for pytest and ``{python}``: the active virtualenv's when it is not ours (the project's,
    as ``verify --run`` sets it), else ours, unless we run from the isolated virtualenv."""
    env = os.environ if environ is None else environ
    active = env.get("VIRTUAL_ENV")
    if active and Path(active).resolve() != Path(sys.prefix).resolve():
        candidate = Path(active) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if candidate.is_file():
            return str(candidate)
    if isolated_bin() is None:
        return sys.executable
    path = project_environ(environ).get("PATH", "")
    return shutil.which("python", path=path) or shutil.which("python3", path=path) or "python3"
