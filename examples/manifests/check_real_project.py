"""Check a real project against a stub manifest: does everything it imports from the stubs resolve?

    python examples/manifests/check_real_project.py --project /work/realprojects/sd-webui \
        --manifest examples/manifests/sd-webui.yml
    python examples/manifests/check_real_project.py --project /work/realprojects/rgthree-comfy \
        --manifest examples/manifests/comfyui-node.yml --extra-manifest examples/manifests/absent-torch.yml \
        --comfyui-node rgthree_comfy --python /path/to/venv/bin/python

The project is a checkout outside this repository (nothing of it is committed here). Two checks:

1. **uses**: every import statement, attribute chain and dotted string path (webui's
   ``CondFunc('ldm.models...')``) in the project's code that starts with a package the manifest
   declares is resolved in a fresh interpreter that sees only the stubs: ``import a.b``,
   ``from a.b import c``, ``a.b.C.method``. Assignments (``ldm.modules.attention.print = ...``) are
   the project's own and are not checked.
2. **modules** (``--comfyui-node NAME``): the node package is loaded the way ComfyUI loads custom
   nodes (``spec_from_file_location`` with the folder as package), then each of its modules is
   imported, each in its own interpreter, with the stubs on the path.

Prints one line per use or module and a summary; exits 1 when anything fails to resolve or import.
``--extra-manifest`` adds stubs for third-party packages that cannot be installed here (torch):
their names are fabricated and listed, so the report says what was not real.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[2]))  # this checkout's ci_helper, when not installed

from ci_helper.gates.stubs import fabrication, generator, manifest  # noqa: E402

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def declared_tops(loaded: manifest.Manifest) -> set[str]:
    return {m.name.split(".")[0] for m in loaded.modules()} | {p.split(".")[0] for p in loaded.dynamic_prefixes()}


def uses(project: Path, tops: set[str]) -> list[tuple[str, str, str]]:
    """(kind, target, first place) for every use of a declared package in the project's code."""
    found: dict[tuple[str, str], str] = {}
    stored: set[str] = set()
    for path in sorted(project.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        where = lambda node: f"{path.relative_to(project).as_posix()}:{node.lineno}"  # noqa: E731
        alias: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    if name.name.split(".")[0] in tops:
                        found.setdefault(("import", name.name), where(node))
                        alias[name.asname or name.name.split(".")[0]] = name.name if name.asname else name.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.split(".")[0] in tops:
                for name in node.names:
                    found.setdefault(("from", f"{node.module}:{name.name}"), where(node))
                    alias[name.asname or name.name] = f"{node.module}.{name.name}"
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and _DOTTED.match(node.args[0].value) \
                    and node.args[0].value.split(".")[0] in tops:
                # A dotted path handed to a function, like webui's CondFunc('ldm.models...', ...).
                found.setdefault(("path", node.args[0].value), where(node))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain, inner = [], node
                while isinstance(inner, ast.Attribute):
                    chain.append(inner.attr)
                    inner = inner.value
                if isinstance(inner, ast.Name) and inner.id in alias:
                    dotted = ".".join([alias[inner.id], *reversed(chain)])
                    if isinstance(node.ctx, ast.Load):
                        found.setdefault(("chain", dotted), where(node))
                    else:
                        stored.add(dotted)
    # What the project assigns itself (`ldm.modules.attention.print = ...`) is its own, not the stubs'.
    return [(kind, target, place) for (kind, target), place in sorted(found.items())
            if not any(target == s or target.startswith(s + ".") for s in stored)]


_RESOLVER = r"""
import importlib, json, sys

def resolve(kind, target):
    if kind == "import":
        importlib.import_module(target)
        return
    if kind == "from":
        module, name = target.split(":")
        owner = importlib.import_module(module)
        if not hasattr(owner, name):
            importlib.import_module(f"{module}.{name}")  # `from pkg import submodule`
        return
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
            break
        except ModuleNotFoundError as exc:
            tried = ".".join(parts[:cut])
            if not (exc.name == tried or tried.startswith(f"{exc.name}.")):
                raise
    for part in parts[cut:]:
        obj = getattr(obj, part)

out = []
for kind, target in json.load(sys.stdin):
    try:
        resolve(kind, target)
        out.append(None)
    except Exception as exc:
        out.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(out))
"""

_NODE_LOADER = r"""
import importlib, importlib.util, os, sys
folder, package, module = sys.argv[1], sys.argv[2], sys.argv[3]
spec = importlib.util.spec_from_file_location(package, os.path.join(folder, "__init__.py"),
                                              submodule_search_locations=[folder])
node = importlib.util.module_from_spec(spec)
sys.modules[package] = node
spec.loader.exec_module(node)
if module != "-":
    importlib.import_module(f"{package}.{module}")
print()
print(len(getattr(node, "NODE_CLASS_MAPPINGS", {})))
"""


def environment(search: list[Path], log: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "PYTHONPATH"))}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in search)
    env["CI_HELPER_STUBS_LOG"] = str(log)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="a checkout of the real project (outside this repository)")
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--extra-manifest", type=Path, action="append", default=[],
                        help="stubs for packages that cannot be installed here (reported as such)")
    parser.add_argument("--comfyui-node", metavar="PACKAGE", help="also load the project as a ComfyUI custom node package")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the checks (with the project's installable requirements)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="stub-check-") as tmp:
        search: list[Path] = []
        loaded = manifest.load(args.manifest)
        for i, path in enumerate([args.manifest, *args.extra_manifest]):
            stubs = loaded if i == 0 else manifest.load(path)
            root = Path(tmp, f"stubs{i}")
            generator.write(stubs, root)
            search += generator.search_path(stubs, root)
        log = Path(tmp, "fabricated.jsonl")
        env = environment(search, log)

        targets = uses(args.project, declared_tops(loaded))
        proc = subprocess.run([args.python, "-c", _RESOLVER], input=json.dumps([[k, t] for k, t, _ in targets]),
                              capture_output=True, text=True, env=env, cwd=tmp, timeout=600)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 2
        errors = json.loads(proc.stdout)
        failed = 0
        print(f"## uses of {', '.join(sorted(declared_tops(loaded)))} in {args.project.name}")
        for (kind, target, place), error in zip(targets, errors):
            failed += error is not None
            print(f"{'ok  ' if error is None else 'FAIL'} {kind:6} {target}  ({place}){'' if error is None else '  ' + error}")
        print(f"uses: {len(targets) - failed} of {len(targets)} resolve against {args.manifest.name}")

        module_failures = 0
        if args.comfyui_node:
            folder = args.project.resolve()
            names = ["-"] + sorted(
                p.relative_to(folder).with_suffix("").as_posix().replace("/", ".")
                # __build__.py and the like are the project's scripts, run as __main__, not modules of the node.
                for p in folder.rglob("*.py") if not p.name.startswith("__") and "test" not in p.parts
                and all(part.isidentifier() for part in p.relative_to(folder).with_suffix("").parts))
            print(f"## modules of {args.comfyui_node} loaded as a ComfyUI custom node")
            for name in names:
                run = subprocess.run([args.python, "-c", _NODE_LOADER, str(folder), args.comfyui_node, name],
                                     capture_output=True, text=True, env=env, cwd=tmp, timeout=120)
                label = args.comfyui_node if name == "-" else f"{args.comfyui_node}.{name}"
                if run.returncode == 0:
                    extra = f" ({run.stdout.strip().splitlines()[-1]} nodes registered)" if name == "-" else ""
                    print(f"ok   {label}{extra}")
                else:
                    module_failures += 1
                    last = (run.stderr.strip().splitlines() or ["?"])[-1]
                    print(f"FAIL {label}: {last}")
            print(f"modules: {len(names) - module_failures} of {len(names)} import")

        fabricated = fabrication.read_log(log)
        print(f"fabricated by the extra manifests' dynamic prefixes: {len(fabricated)}"
              + (f" ({', '.join(f.name for f in fabricated[:12])}{', ...' if len(fabricated) > 12 else ''})" if fabricated else ""))
    return 1 if failed or module_failures else 0


if __name__ == "__main__":
    sys.exit(main())
