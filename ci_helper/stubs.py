"""The declared stubs for a plain local ``pytest``: ``pytest -p ci_helper.stubs``.

Without it, a local ``pytest`` after ``ci-helper stubs create`` fails with
``No module named 'server'``: CI put the stubs on ``PYTHONPATH``, the laptop did not.
This plugin does what CI does, before any conftest is imported:

- finds the manifest (``CI_HELPER_STUBS_MANIFEST``, else ``[tool.ci-helper.stubs]`` of the
  rootdir's ``pyproject.toml``) and the stub root, and refuses to start (naming the
  manifest and the command) when the stubs were never created;
- puts the root and each repository folder first on ``sys.path`` and on ``PYTHONPATH``
  (for servers the tests start);
- turns ``No module named 'ldm.x'`` under a declared stub package into an error that names
  the manifest and where to declare the module.

Make it permanent with ``addopts = ["-p", "ci_helper.stubs"]`` in ``[tool.pytest.ini_options]``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest


def search_path(project: Path) -> tuple[Any, list[Path]]:
    """The loaded manifest and the folders its stubs need on the search path (``BadInput`` when unusable)."""
    from ci_helper import settings as settings_module
    from ci_helper.errors import BadInput
    from ci_helper.gates.stubs import generator, locate, manifest

    settings = settings_module.load(project)
    flag = os.environ.get("CI_HELPER_STUBS_MANIFEST") or None
    if flag is None and settings.stubs.manifest is None:
        raise BadInput(
            f"{project / 'pyproject.toml'}: no stub manifest for -p ci_helper.stubs: set manifest in "
            "[tool.ci-helper.stubs] or CI_HELPER_STUBS_MANIFEST"
        )
    if settings.project_root is None:
        settings.project_root = project
    loaded = manifest.load(locate.manifest_path(flag, settings))
    root = locate.root_path(os.environ.get("CI_HELPER_STUBS_ROOT") or None, settings, loaded)
    if not (root / generator.STAMP_FILE).is_file():
        raise BadInput(
            f"{loaded.path}: its stubs are not created under {root}: run "
            f"`ci-helper stubs create --manifest {loaded.path}` first"
        )
    return loaded, [p.resolve() for p in generator.search_path(loaded, root)]


class MissingStubFinder:
    """Last on ``sys.meta_path``: reached only when no finder found a module under a declared stub package."""

    def __init__(self, loaded: Any) -> None:
        self.manifest = loaded.display_name
        self.owner: dict[str, str] = {}
        self.dynamic = set(loaded.dynamic_prefixes())
        for repo in loaded.repositories:
            for name in [m.name for m in repo.modules] + list(repo.dynamic):
                self.owner.setdefault(name.split(".")[0], repo.name)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        top = fullname.split(".")[0]
        repo = self.owner.get(top)
        if repo is None or any(fullname == p or fullname.startswith(p + ".") for p in self.dynamic):
            return None  # not ours, or the dynamic hook's to fabricate
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: {top} is a stub package declared in the stub manifest {self.manifest}, "
            f"and {fullname} is not declared there; add it under repositories.{repo}.modules, then run "
            "`ci-helper stubs create`",
            name=fullname,
        )

    def invalidate_caches(self) -> None:
        pass


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: Any, args: list[str]) -> None:
    from ci_helper.errors import BadInput

    try:
        loaded, paths = search_path(Path(early_config.rootpath))
    except BadInput as exc:
        raise pytest.UsageError(f"ci_helper.stubs: {exc}") from None
    entries = [str(p) for p in paths]
    sys.path[:0] = [e for e in entries if e not in sys.path]
    existing = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([*entries, existing] if existing else entries)
    os.environ.setdefault("CI_HELPER_STUBS_MANIFEST", str(loaded.path.resolve()))
    if not any(isinstance(f, MissingStubFinder) for f in sys.meta_path):
        sys.meta_path.append(MissingStubFinder(loaded))


def pytest_report_header(config: pytest.Config) -> str:
    return f"ci-helper stubs: {os.environ.get('CI_HELPER_STUBS_MANIFEST', '?')}"
