"""Render a manifest to the exact files of the stub root, and write them.

:func:`render` is pure (manifest in, ``{relative path: bytes}`` out) so that
``stubs create`` and ``stubs check`` compare against the same thing, and so
that creating twice is byte-identical. Paths in generated files are relative
(the manifest is named by its file name), so a checkout in another folder
renders the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ci_helper import __version__
from ci_helper.errors import BadInput
from ci_helper.gates.stubs import fake_copy
from ci_helper.gates.stubs.manifest import (
    CallableValue,
    ClassSpec,
    DecoratorValue,
    FunctionSpec,
    InstanceValue,
    Manifest,
    ModuleSpec,
    ObjectValue,
    Repository,
    TupleValue,
    module_values,
    walk_values,
)

STAMP_FILE = ".ci-helper-stubs.json"
FABRICATION_LOG = ".fabricated.jsonl"
LOG_ENV = "CI_HELPER_STUBS_LOG"
# Not generated, never drift: Python's bytecode caches and the dynamic hook's log.
IGNORED_DIRS = frozenset({"__pycache__"})
IGNORED_FILES = frozenset({FABRICATION_LOG})

_TEMPLATE = Path(__file__).with_name("dynamic_package.py.tmpl")


def stamp(manifest: Manifest) -> str:
    """Cache key of the generated tree: the manifest's bytes and the generator version."""
    return hashlib.sha256(f"ci-helper {__version__}\n{manifest.sha256}\n".encode()).hexdigest()


def render(manifest: Manifest) -> dict[str, bytes]:
    """Every file of the stub root, keyed by POSIX path relative to the root, in sorted order."""
    files: dict[str, str] = {}
    for repo in manifest.repositories:
        files.update(_render_repository(manifest, repo))
    files.update(fake_copy.files(manifest))  # ci_helper.fake for the project's interpreter
    files[STAMP_FILE] = (
        json.dumps(
            {
                "generator": f"ci-helper {__version__}",
                "manifest": manifest.display_name,
                "manifest_sha256": manifest.sha256,
                "stamp": stamp(manifest),
                "repositories": [r.name for r in manifest.repositories],
            },
            indent=2,
        )
        + "\n"
    )
    return {path: files[path].encode("utf-8") for path in sorted(files)}


def _render_repository(manifest: Manifest, repo: Repository) -> dict[str, str]:
    declared = {m.name: m for m in repo.modules}
    # Every module that must exist as a file: declared ones, the packages above them
    # and above dynamic prefixes, and importable .py markers.
    implicit: set[str] = set()
    for name in [*declared, *repo.dynamic]:
        parts = name.split(".")
        implicit.update(".".join(parts[:i]) for i in range(1, len(parts)))
    marker_modules = {}
    for marker in repo.markers:
        dotted = _marker_module(marker)
        if dotted:
            marker_modules[dotted] = marker
            parts = dotted.split(".")
            implicit.update(".".join(parts[:i]) for i in range(1, len(parts)))
    everything = set(declared) | implicit | set(repo.dynamic) | set(marker_modules)
    packages = {n for n in everything if any(o.startswith(n + ".") for o in everything)} | set(repo.dynamic)

    files: dict[str, str] = {}
    for name in sorted(everything):
        parts = name.split(".")
        path = "/".join(parts) + ("/__init__.py" if name in packages else ".py")
        # A package exposes its submodules as attributes (`import ldm; ldm.util`), as a real one
        # does once they are imported: they are imported on first access.
        submodules = sorted(o.rpartition(".")[2] for o in everything if o.rpartition(".")[0] == name)
        if name in repo.dynamic:
            files[path] = _render_dynamic(manifest, repo, name)
            if name in declared:
                # The declared names of a dynamic package are real; the rest is still fabricated.
                body, imports = _module_body(manifest, declared[name])
                helpers = [_VALUE_HELPERS] if _needs_helpers(declared[name]) else []
                files[path] += "".join(
                    [
                        "\n\n# Declared in the manifest: these names are real, not fabricated.\n",
                        *imports,
                        *helpers,
                        *body,
                    ]
                )
        else:
            module = declared.get(name)
            if module is None:
                module = ModuleSpec(name, repo.name, f"repositories.{repo.name}.modules.{name}")
                files[path] = _render_module(
                    manifest, module, implied_by=f"repositories.{repo.name}", submodules=submodules
                )
            else:
                files[path] = _render_module(manifest, module, submodules=submodules)
    for marker in repo.markers:
        path = str(PurePosixPath(marker))
        if path in files:
            continue
        if any(p.startswith(path + "/") for p in files):
            raise BadInput(
                f"{manifest.path}: repositories.{repo.name}.markers: {marker} is also a package "
                "folder of a declared module; name a file instead"
            )
        files[path] = ""
    return {f"{repo.name}/{path}": text for path, text in files.items()}


def _marker_module(marker: str) -> str | None:
    """The dotted module a ``.py`` marker would be imported as, or None when it cannot be imported."""
    path = PurePosixPath(marker)
    if path.suffix != ".py":
        return None
    parts = [*path.parent.parts, path.stem]
    if path.stem == "__init__":
        parts = list(path.parent.parts)
    if parts and all(p.isidentifier() for p in parts):
        return ".".join(parts)
    return None


def _header(manifest: Manifest, where: str, verb: str = "Declared at") -> str:
    return (
        f"# Generated by `ci-helper stubs create` from {manifest.display_name}: do not edit.\n"
        f"# {verb} {where}; change the manifest, then run `ci-helper stubs create` again.\n"
    )


_VALUE_HELPERS = '''

class _StubObject:
    """An object declared in the stub manifest: its declared attributes, nothing else."""

    def __init__(self, where, attributes):
        self.__dict__.update(attributes)
        self.__dict__["_stub_where"] = where

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(
            f"{name} is not declared on this stub object in the stub manifest {_MANIFEST}: add it under "
            f"{self._stub_where}, then run `ci-helper stubs create`"
        )

    def __repr__(self):
        return f"<stub object {self._stub_where}>"


def _stub_instance(cls, attributes):
    """An instance of a declared class, without calling its __init__, with these attributes."""
    instance = cls.__new__(cls)
    instance.__dict__.update(attributes)
    return instance
'''


def _needs_helpers(module: ModuleSpec) -> bool:
    return any(isinstance(v, (ObjectValue, InstanceValue)) for top in module_values(module) for v in walk_values(top))


def _has_instance(value: Any) -> bool:
    return any(isinstance(v, InstanceValue) for v in walk_values(value))


def _module_body(manifest: Manifest, module: ModuleSpec) -> tuple[list[str], list[str]]:
    """The module's declarations (constants, functions, classes) and the imports they need."""
    imports: list[str] = []
    body: list[str] = []
    aliases: dict[str, str] = {}

    def alias_of(dotted: str) -> str:
        alias = aliases.get(dotted)
        if alias is None:
            alias = aliases[dotted] = f"_base_{len(aliases) + 1}"
            owner, _, cname = dotted.rpartition(".")
            imports.append(f"from {owner} import {cname} as {alias}\n")
        return alias

    def value(v: Any) -> str:
        return literal(v, lambda cls: alias_of(cls) if "." in cls else cls)

    late: list[str] = []  # values holding instances of declared classes: after the classes
    for name, constant in module.constants.items():
        (late if _has_instance(constant) else body).append(f"\n{name} = {value(constant)}\n")
    for fn in module.functions:
        body.append("\n\n" + _render_function(manifest, module.name, fn, method=False, render=value))
    for cls in _ordered_classes(module):
        bases = [alias_of(base) if "." in base else base for base in cls.bases]
        body.append("\n\n" + _render_class(manifest, module.name, cls, bases, render=value))
        late.extend(f"\n{cls.name}.{attr} = {value(v)}\n" for attr, v in cls.attributes.items() if _has_instance(v))
    if late:
        body.append("\n")
        body.extend(late)
    return body, imports


def _render_module(
    manifest: Manifest, module: ModuleSpec, implied_by: str | None = None, submodules: list[str] | None = None
) -> str:
    doc = module.doc or f"Stub of {module.name} from {module.repository}: declared names only, no real code."
    header = _header(manifest, implied_by, "Implied by") if implied_by else _header(manifest, module.where)
    out = [header, f"{_docstring(doc)}\n", "\nimport sys as _sys\n"]
    lazy = bool(submodules) or bool(module.imports)
    if lazy:
        out.append("import importlib as _importlib\n")
    body, imports = _module_body(manifest, module)
    out.extend(imports)
    if _needs_helpers(module):
        out.append(_VALUE_HELPERS)
    out.extend(body)
    names = module.names()
    out.append(f"\n\n__all__ = {literal(names)}\n")
    out.append(
        "\n_MANIFEST = " + literal(manifest.display_name) + "\n"
        "_DECLARED_AT = " + literal(module.where) + "\n"
        '_IMPORT_FROM = bytes([__import__("opcode").opmap["IMPORT_FROM"]])\n'
    )
    if submodules:
        out.append(f"_SUBMODULES = frozenset({literal(submodules)})\n")
    if module.imports:
        out.append(f"_IMPORTS = {literal(module.imports)}\n")
    out.append(
        "\n\n"
        "def __getattr__(name):\n"
        '    if name.startswith("__") and name.endswith("__"):\n'
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")\n'
    )
    if submodules:
        out.append(
            "    if name in _SUBMODULES:\n"
            "        # A declared submodule, as a real package exposes it: imported on first access.\n"
            '        return _importlib.import_module(f"{__name__}.{name}")\n'
        )
    if module.imports:
        out.append(
            "    if name in _IMPORTS:\n"
            "        try:\n"
            "            real = _importlib.import_module(_IMPORTS[name])\n"
            "        except ImportError as exc:\n"
            "            raise ImportError(\n"
            '                f"{__name__}.{name} re-exports the real module {_IMPORTS[name]} (stub manifest {_MANIFEST}: "\n'
            '                f"{_DECLARED_AT}.imports), which cannot be imported here: {exc}", name=__name__\n'
            "            ) from exc\n"
            "        globals()[name] = real\n"
            "        return real\n"
        )
    out.append(
        "    message = (\n"
        '        f"{__name__}.{name} is not declared in the stub manifest {_MANIFEST}: add it under "\n'
        '        f"{_DECLARED_AT} (constants, functions or classes), then run `ci-helper stubs create`"\n'
        "    )\n"
        "    # `from m import x` turns an AttributeError into a generic ImportError that drops this\n"
        "    # message, so raise ImportError ourselves when the caller is executing IMPORT_FROM.\n"
        "    frame = _sys._getframe(1)\n"
        "    if frame.f_code.co_code[frame.f_lasti:frame.f_lasti + 1] == _IMPORT_FROM:\n"
        "        raise ImportError(message, name=__name__)\n"
        "    raise AttributeError(message)\n"
    )
    return "".join(out)


def _render_function(manifest: Manifest, owner: str, fn: FunctionSpec, method: bool, render: Any = None) -> str:
    render = render or literal
    indent = "    " if method else ""
    params = "self, *args, **kwargs" if method else "*args, **kwargs"
    lines = [f"{indent}def {fn.name}({params}):\n"]
    if fn.raises:
        message = f"{owner}.{fn.name} is a stub that raises {fn.raises} ({manifest.display_name}: {fn.where})"
        lines.append(f"{indent}    raise {fn.raises}({literal(message)})\n")
    else:
        lines.append(f"{indent}    return {render(fn.returns)}\n")
    return "".join(lines)


def _render_class(manifest: Manifest, module: str, cls: ClassSpec, bases: list[str], render: Any = None) -> str:
    render = render or literal
    head = f"class {cls.name}({', '.join(bases)}):\n" if bases else f"class {cls.name}:\n"
    members: list[str] = []
    for attr, value in cls.attributes.items():
        # An instance of a declared class (maybe this one) is set after the classes exist.
        members.append(
            f"    {attr} = None  # set below\n" if _has_instance(value) else f"    {attr} = {render(value)}\n"
        )
    if not bases:
        # Root classes accept any constructor arguments, as the real ones would.
        members.append("    def __init__(self, *args, **kwargs):\n        pass\n")
    for method in cls.methods:
        members.append(_render_function(manifest, f"{module}.{cls.name}", method, method=True, render=render))
    if not members:
        members.append("    pass\n")
    return head + "\n".join(members)


def _ordered_classes(module: ModuleSpec) -> list[ClassSpec]:
    """Classes with their same-module bases first (manifest order otherwise)."""
    by_name = {c.name: c for c in module.classes}
    done: list[ClassSpec] = []
    placed: set[str] = set()

    def place(cls: ClassSpec) -> None:
        if cls.name in placed:
            return
        placed.add(cls.name)
        for base in cls.bases:
            if base in by_name:
                place(by_name[base])
        done.append(cls)

    for cls in module.classes:
        place(cls)
    return done


def _render_dynamic(manifest: Manifest, repo: Repository, prefix: str) -> str:
    where = f"repositories.{repo.name}.dynamic"
    depth = len(prefix.split(".")) + 1  # __init__.py's folder -> repository folder -> root
    text = _TEMPLATE.read_text(encoding="utf-8")
    replacements = {
        "@PREFIX_LITERAL@": literal(prefix),
        "@MANIFEST_LITERAL@": literal(manifest.display_name),
        "@DECLARED_AT_LITERAL@": literal(where),
        "@BUDGET_LITERAL@": literal(manifest.dynamic_budget),
        "@DEPTH@": str(depth),
        "@PREFIX@": prefix,
        "@REPOSITORY@": repo.name,
    }
    for token, value in replacements.items():
        text = text.replace(token, value)
    return _header(manifest, where) + text


def _docstring(text: str) -> str:
    """A docstring literal for any text (quotes, backslashes, control characters)."""
    if '"""' in text or "\\" in text or text.endswith('"') or not text.isprintable():
        return literal(text)
    return f'"""{text}"""'


def literal(value: Any, class_ref: Any = None) -> str:
    """Python source for a manifest value (deterministic: manifest order, repr of scalars).

    ``class_ref`` turns the class name of an ``$instance`` into the expression naming it.
    """

    def again(v: Any) -> str:
        return literal(v, class_ref)

    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(again(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{again(k)}: {again(v)}" for k, v in value.items()) + "}"
    if isinstance(value, TupleValue):
        return "(" + "".join(again(v) + ", " for v in value.items).rstrip(" ") + ")"
    if isinstance(value, CallableValue):
        return f"(lambda *args, **kwargs: {again(value.returns)})"
    if isinstance(value, DecoratorValue):
        return "(lambda decorated=None, *args, **kwargs: decorated)"
    if isinstance(value, ObjectValue):
        return f"_StubObject({again(value.where)}, {again(value.attributes)})"
    if isinstance(value, InstanceValue):
        ref = class_ref(value.cls) if class_ref else value.cls
        return f"_stub_instance({ref}, {again(value.attributes)})"
    raise TypeError(f"cannot render {type(value).__name__} as a literal")


# --- writing --------------------------------------------------------------


@dataclass
class WriteReport:
    root: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def on_disk(root: Path) -> dict[str, bytes]:
    """The files under ``root`` that drift is judged on (caches and the fabrication log excluded)."""
    found: dict[str, bytes] = {}
    if not root.is_dir():
        return found
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        for name in sorted(names):
            full = Path(folder, name)
            rel = full.relative_to(root).as_posix()
            if rel in IGNORED_FILES:
                continue
            found[rel] = full.read_bytes()
    return found


def write(manifest: Manifest, root: Path) -> WriteReport:
    """Make ``root`` hold exactly :func:`render`'s files; unchanged files are not touched."""
    expected = render(manifest)
    report = WriteReport(root)
    if root.exists() and not root.is_dir():
        raise BadInput(f"stub root {root} is a file; choose a folder (root in the manifest or --root)")
    if root.is_dir() and any(root.iterdir()) and not (root / STAMP_FILE).is_file():
        raise BadInput(
            f"stub root {root} already holds files that `ci-helper stubs create` did not write (no {STAMP_FILE}); "
            "choose an empty folder or delete it"
        )
    try:
        current = on_disk(root)
        for rel in sorted(set(current) - set(expected)):
            (root / rel).unlink()
            report.removed.append(rel)
        for rel, data in expected.items():
            if current.get(rel) == data:
                report.unchanged.append(rel)
                continue
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            report.written.append(rel)
        if report.written or report.removed:
            # A rewrite within the same second and size could leave a stale .pyc behind.
            for cache in sorted(root.rglob("__pycache__"), reverse=True):
                shutil.rmtree(cache, ignore_errors=True)
            _remove_empty_dirs(root)
        log_path(root).unlink(missing_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot write stubs under {root}: {exc.strerror or exc}") from None
    return report


def _remove_empty_dirs(root: Path) -> None:
    for folder, _dirs, _names in os.walk(root, topdown=False):
        path = Path(folder)
        if path != root and not any(path.iterdir()):
            path.rmdir()


def log_path(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The fabrication log: ``$CI_HELPER_STUBS_LOG`` (as the dynamic packages read it), else in the root."""
    env = os.environ if environ is None else environ
    return Path(env[LOG_ENV]) if env.get(LOG_ENV) else root / FABRICATION_LOG


def search_path(manifest: Manifest, root: Path) -> list[Path]:
    """What PYTHONPATH needs: the stub root, then each repository folder."""
    return [root, *(root / repo.name for repo in manifest.repositories)]
