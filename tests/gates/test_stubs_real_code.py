"""Stubs that describe real ML code (issue 17.4): nested objects, tuples, callables, re-exported real
modules, packages that expose their submodules, dynamic names that are containers, suggestions that
`stubs create` accepts, and a local pytest that finds the stubs. Real files, real interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from ci_helper.errors import BadInput
from ci_helper.gates.stubs import fabrication, generator, manifest
from tests.conftest import run_ci_helper

COMFY_MANIFEST = """\
repositories:
  comfyui:
    modules:
      server:
        classes:
          PromptServer:
            attributes:
              instance:
                $instance:
                  class: PromptServer
                  attributes:
                    app: {$object: {middlewares: [], on_startup: []}}
                    routes: {$object: {get: {$callable: {$decorator: null}}, post: {$callable: {$decorator: null}}}}
                    send_sync: {$callable: null}
                    client_id: null
      folder_paths:
        constants:
          supported_pt_extensions: {$tuple: [".ckpt", ".pt", ".safetensors"]}
          folder_names_and_paths: {checkpoints: {$tuple: [["models/checkpoints"], {$tuple: [".safetensors"]}]}}
        functions:
          get_filename_list: {returns: []}
          get_output_directory: {returns: output}
      comfy.model_management:
        functions: {get_torch_device: {returns: cpu}}
        constants: {VRAMState: {$object: {DISABLED: 0, NORMAL_VRAM: 3}}}
      k_diffusion.sampling:
        imports: {json: json, torch: torch_is_not_installed_here}
        functions: {sample_euler: {returns: null}}
  generative-models:
    dynamic: [sgm]
"""


def python(code: str, cwd: Path, *path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "PYTHONPATH"))}
    if path:
        env["PYTHONPATH"] = os.pathsep.join(str(cwd / p) for p in path)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def comfy(tmp_path):
    (tmp_path / "stubs.yml").write_text(COMFY_MANIFEST, encoding="utf-8")
    generator.write(manifest.load(tmp_path / "stubs.yml"), tmp_path / "repositories")
    return tmp_path


CY, GM = "repositories/comfyui", "repositories/generative-models"


def test_nested_objects_instances_tuples_callables_and_decorators(comfy):
    proc = python(
        """
        from server import PromptServer
        import folder_paths
        server = PromptServer.instance
        print(type(server).__name__, server.app.middlewares, server.app.on_startup, server.client_id)
        server.app.middlewares.append("mw")
        print(server.app.middlewares, server.send_sync("event", {}), PromptServer.instance is server)

        @server.routes.get("/custom/path")
        async def handler(request):
            return "answered"

        print(handler.__name__, server.routes.post("/x")(len)("abc"))
        print(folder_paths.supported_pt_extensions, folder_paths.folder_names_and_paths)
        print(folder_paths.get_filename_list("checkpoints"), folder_paths.get_output_directory())
        import comfy.model_management as mm
        print(mm.get_torch_device(), mm.VRAMState.NORMAL_VRAM)
        try:
            server.app.router
        except AttributeError as exc:
            print(exc)
    """,
        comfy,
        CY,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "PromptServer [] [] None",
        "['mw'] None True",
        "handler 3",
        "('.ckpt', '.pt', '.safetensors') {'checkpoints': (['models/checkpoints'], ('.safetensors',))}",
        "[] output",
        "cpu 3",
        "router is not declared on this stub object in the stub manifest stubs.yml: add it under "
        "repositories.comfyui.modules.server.classes.PromptServer.attributes.instance.$instance.attributes.app."
        "$object, then run `ci-helper stubs create`",
    ]


def test_a_parent_package_exposes_its_declared_submodules(comfy):
    proc = python(
        """
        import comfy, k_diffusion
        print(comfy.model_management.get_torch_device(), k_diffusion.sampling.sample_euler())
        try:
            comfy.not_declared
        except AttributeError as exc:
            print(exc)
    """,
        comfy,
        CY,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "cpu None",
        "comfy.not_declared is not declared in the stub manifest stubs.yml: add it under repositories.comfyui.modules.comfy "
        "(constants, functions or classes), then run `ci-helper stubs create`",
    ]


def test_imports_re_export_the_real_module_and_name_the_manifest_when_it_is_missing(comfy):
    proc = python(
        """
        import json
        from k_diffusion.sampling import json as reexported
        import k_diffusion.sampling as sampling
        print(reexported is json, sampling.json is json, "json" in sampling.__all__)
        try:
            sampling.torch
        except ImportError as exc:
            print(type(exc).__name__, exc)
    """,
        comfy,
        CY,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "True True True",
        "ImportError k_diffusion.sampling.torch re-exports the real module torch_is_not_installed_here (stub "
        "manifest stubs.yml: repositories.comfyui.modules.k_diffusion.sampling.imports), which cannot be "
        "imported here: No module named 'torch_is_not_installed_here'",
    ]


def test_fabricated_names_are_empty_containers_as_well_as_classes(comfy):
    proc = python(
        """
        import sgm.modules.attention as attention
        attention.ATTENTION_MODES["softmax-xformers"] = "xformers"
        print(attention.ATTENTION_MODES["softmax-xformers"], "softmax-xformers" in attention.ATTENTION_MODES,
              len(attention.ATTENTION_MODES), list(attention.ATTENTION_MODES))
        from sgm.util import ISL_PATHS
        print(list(ISL_PATHS.items()), [k for k in ISL_PATHS], "x" in ISL_PATHS, ISL_PATHS.get("x", "dflt"))
        instance = ISL_PATHS("any", arg=1)
        instance["k"] = 2
        print(dict(instance.items()), len(instance), bool(instance), bool(ISL_PATHS))
        class Mine(attention.CrossAttention):
            pass
        print(isinstance(Mine(), attention.CrossAttention))
        try:
            ISL_PATHS["missing"]
        except KeyError as exc:
            print(exc.args[0])
    """,
        comfy,
        GM,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "xformers True 1 ['softmax-xformers']",
        "[] [] False dflt",
        "{'k': 2} 1 True True",
        "True",
        "'missing': the fabricated ISL_PATHS is an empty container (dynamic prefix sgm); declare it with its "
        "items in stubs.yml under repositories.*.modules",
    ]


def test_the_dynamic_hook_fabricates_only_python_names(comfy):
    proc = python(
        """
        import importlib, sgm.util
        for name in ("class", "not a name"):
            try:
                getattr(sgm.util, name)
            except AttributeError as exc:
                print(exc)
        try:
            importlib.import_module("sgm.class")
        except ModuleNotFoundError as exc:
            print(exc)
    """,
        comfy,
        GM,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "sgm.util.class: not a Python name, so not fabricated",
        "sgm.util.not a name: not a Python name, so not fabricated",
        "No module named 'sgm.class'",
    ]


@pytest.mark.parametrize(
    "snippet, message",
    [
        (
            "constants: {X: {$objekt: {}}}",
            "repositories.r.modules.m.constants.X.$objekt: '$objekt': a value form is a mapping with one key, one of "
            "$object, $instance, $tuple, $callable, $decorator (plain mappings cannot have keys starting with $)",
        ),
        ("constants: {X: {$tuple: 1}}", "repositories.r.modules.m.constants.X.$tuple: $tuple takes a list, got int 1"),
        (
            "constants: {X: {$instance: Nope}}",
            "repositories.r.modules.m.constants.X.$instance.class: Nope is not a class declared in the manifest (use "
            "Name for the same module or package.module.Name)",
        ),
        (
            "constants: {X: {$object: {class: 1}}}",
            "repositories.r.modules.m.constants.X.$object.class: 'class' is not a valid attribute name",
        ),
        (
            "constants: {X: {$decorator: 1}}",
            "repositories.r.modules.m.constants.X.$decorator: $decorator takes null: it returns what it decorates",
        ),
        (
            "imports: {torch: m.inner}",
            "repositories.r.modules.m.imports.torch: m.inner is this stub module or inside it; imports re-export real "
            "modules",
        ),
        (
            "imports: {x: torch}\n        constants: {x: 1}",
            "repositories.r.modules.m.imports.x: x is also declared under constants",
        ),
    ],
)
def test_bad_value_forms_name_the_path(tmp_path, snippet, message):
    path = tmp_path / "stubs.yml"
    path.write_text(f"repositories:\n  r:\n    modules:\n      m:\n        {snippet}\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        manifest.load(path)
    assert str(caught.value).split(": ", 1)[1] == f"{message}; see docs/stubs.md"


# --- what `stubs report` suggests, `stubs create` accepts (property) ---

_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: (
        n
        not in {
            "False",
            "None",
            "True",
            "and",
            "as",
            "if",
            "in",
            "is",
            "or",
            "def",
            "del",
            "for",
            "not",
            "try",
            "else",
            "elif",
            "from",
            "pass",
            "with",
            "class",
            "while",
            "async",
            "await",
            "break",
            "raise",
            "yield",
            "assert",
            "global",
            "import",
            "lambda",
            "return",
            "except",
            "finally",
            "continue",
            "nonlocal",
        }
    )
)


@st.composite
def fabrication_logs(draw):
    """What the hook can log: modules (with every parent), attributes of modules and of fabricated names."""
    prefix = "sgm"
    entries: dict[str, str] = {}
    modules = [prefix]
    for _ in range(draw(st.integers(0, 4))):
        parent = draw(st.sampled_from(modules))
        name = f"{parent}.{draw(_names)}"
        if name not in entries:
            entries[name] = "module"
            modules.append(name)
    owners = list(modules)
    for _ in range(draw(st.integers(0, 8))):
        owner = draw(st.sampled_from(owners))
        name = f"{owner}.{draw(_names)}"
        entries.setdefault(name, "attribute")
        owners.append(name)
    return [fabrication.Fabricated(name, kind, prefix, False) for name, kind in sorted(entries.items())]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log=fabrication_logs(), keep_prefix=st.booleans())
def test_what_report_suggests_create_accepts(tmp_path_factory, log, keep_prefix):
    folder = tmp_path_factory.mktemp("suggest")
    suggested = fabrication.suggestion(log)
    repo = {"modules": suggested} if suggested else {}
    if keep_prefix or not suggested:
        repo["dynamic"] = ["sgm"]
    # Through YAML, as the user pastes it.
    (folder / "stubs.yml").write_text(yaml.safe_dump({"repositories": {"generative-models": repo}}, sort_keys=False))
    loaded = manifest.load(folder / "stubs.yml")
    files = generator.render(loaded)
    for rel, data in files.items():
        if rel.endswith(".py"):
            compile(data, rel, "exec")


def test_every_suggested_name_imports_after_create(tmp_path):
    log = [
        fabrication.Fabricated(n, k, "sgm", False)
        for n, k in [
            ("sgm.X", "attribute"),
            ("sgm.modules", "module"),
            ("sgm.modules.attention", "module"),
            ("sgm.modules.attention.ATTENTION_MODES", "attribute"),
            ("sgm.modules.attention.CrossAttention", "attribute"),
            ("sgm.modules.attention.CrossAttention.forward", "attribute"),
            ("sgm.modules.attention.CrossAttention.config", "attribute"),
            ("sgm.modules.attention.CrossAttention.config.heads", "attribute"),
            ("sgm.modules.attention.CrossAttention.config.heads.count", "attribute"),
            ("sgm.modules.attention", "attribute"),
            ("sgm.util", "attribute"),
            ("sgm.util.helper", "attribute"),
        ]
    ]
    suggested = fabrication.suggestion(log)
    assert suggested == {
        "sgm": {"classes": {"X": {}, "util": {"methods": {"helper": {"returns": None}}}}},
        "sgm.modules": {},
        "sgm.modules.attention": {
            "classes": {
                "CrossAttention": {
                    "attributes": {"config": {"$object": {"heads": {"$object": {"count": {"$callable": None}}}}}},
                    "methods": {"forward": {"returns": None}},
                }
            },
            "constants": {"ATTENTION_MODES": {}},
        },
    }
    (tmp_path / "stubs.yml").write_text(
        yaml.safe_dump(
            {"repositories": {"generative-models": {"modules": suggested, "dynamic": ["sgm"]}}}, sort_keys=False
        )
    )
    generator.write(manifest.load(tmp_path / "stubs.yml"), tmp_path / "repositories")
    proc = python(
        """
        import sgm, sgm.modules.attention as a
        a.ATTENTION_MODES["x"] = 1
        print(sgm.X(), sgm.util().helper(), a.CrossAttention().forward(), a.CrossAttention.config.heads.count())
        print(a.ATTENTION_MODES, sgm.modules.attention is a)
    """,
        tmp_path,
        GM,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].endswith(" None None None")
    assert proc.stdout.splitlines()[1] == "{'x': 1} True"
    assert not (tmp_path / "repositories" / generator.FABRICATION_LOG).exists()


# --- a plain local pytest finds the stubs ---


def _project(tmp_path: Path, *, create: bool = True) -> Path:
    (tmp_path / "stubs.yml").write_text(COMFY_MANIFEST, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text('[tool.ci-helper.stubs]\nmanifest = "stubs.yml"\n', encoding="utf-8")
    (tmp_path / "test_node.py").write_text(
        textwrap.dedent("""
        import os, subprocess, sys
        from server import PromptServer
        import folder_paths

        def test_the_stubs_are_importable():
            assert PromptServer.instance.app.middlewares == []
            assert folder_paths.get_output_directory() == "output"

        def test_a_server_the_tests_start_finds_them_too():
            code = "import server; print(type(server.PromptServer.instance).__name__)"
            assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout == "PromptServer\\n"
    """),
        encoding="utf-8",
    )
    if create:
        generator.write(manifest.load(tmp_path / "stubs.yml"), tmp_path / "repositories")
    return tmp_path


def _pytest(project: Path, *args: str, env_path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "PYTHONPATH"))}
    if env_path is not None:
        env["PYTHONPATH"] = env_path
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plain_pytest_fails_without_the_stubs_on_the_path(tmp_path):
    proc = _pytest(_project(tmp_path), "test_node.py")
    assert proc.returncode == 2
    assert "ModuleNotFoundError: No module named 'server'" in proc.stdout


def test_pytest_with_the_plugin_finds_the_stubs(tmp_path):
    proc = _pytest(_project(tmp_path), "-p", "ci_helper.stubs", "test_node.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_stubs_path_is_what_a_plain_pytest_needs(tmp_path):
    project = _project(tmp_path)
    out = run_ci_helper("stubs", "path", cwd=project, env={"CI_HELPER_STUBS_MANIFEST": ""})
    assert out.returncode == 0, out.stderr
    expected = os.pathsep.join(str((project / p).resolve()) for p in ("repositories", CY, GM))
    assert out.stdout == expected + "\n"
    proc = _pytest(project, "test_node.py", env_path=out.stdout.strip())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_plugin_and_stubs_path_name_the_manifest_when_the_stubs_were_never_created(tmp_path):
    project = _project(tmp_path, create=False)
    proc = _pytest(project, "-p", "ci_helper.stubs", "test_node.py")
    assert proc.returncode == 4
    assert (
        f"ERROR: ci_helper.stubs: {project / 'stubs.yml'}: its stubs are not created under "
        f"{project / 'repositories'}: run `ci-helper stubs create --manifest {project / 'stubs.yml'}` first"
    ) in proc.stderr
    out = run_ci_helper("stubs", "path", cwd=project, env={"CI_HELPER_STUBS_MANIFEST": ""})
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == (
        "Error: stubs.yml: its stubs are not created under repositories: run "
        "`ci-helper stubs create --manifest stubs.yml` first"
    )


def test_with_the_plugin_a_missing_stub_module_names_the_manifest(tmp_path):
    project = _project(tmp_path)
    (project / "test_node.py").write_text("import comfy.samplers\n\ndef test_x():\n    pass\n", encoding="utf-8")
    proc = _pytest(project, "-p", "ci_helper.stubs", "test_node.py")
    assert proc.returncode == 2
    assert (
        "ModuleNotFoundError: No module named 'comfy.samplers': comfy is a stub package declared in the stub "
        "manifest stubs.yml, and comfy.samplers is not declared there; add it under "
        "repositories.comfyui.modules, then run `ci-helper stubs create`"
    ) in proc.stdout


def test_stubs_path_warns_when_the_stubs_are_stale(tmp_path):
    project = _project(tmp_path)
    (project / "stubs.yml").write_text(COMFY_MANIFEST + "dynamic_budget: 3\n", encoding="utf-8")
    out = run_ci_helper("stubs", "path", cwd=project, env={"CI_HELPER_STUBS_MANIFEST": ""})
    assert out.returncode == 0
    assert out.stderr.strip() == (
        "warning: the stubs under repositories were created from another version of "
        "stubs.yml: run `ci-helper stubs create` again"
    )
    assert json.loads((project / "repositories" / generator.STAMP_FILE).read_text())["manifest"] == "stubs.yml"


# --- the shipped real-project manifests and their check script ---

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "manifests"


@pytest.mark.parametrize("name", ["sd-webui.yml", "comfyui-node.yml", "absent-torch.yml"])
def test_every_module_of_the_example_manifests_imports(tmp_path, name):
    loaded = manifest.load(EXAMPLES / name)
    root = tmp_path / "stubs"
    generator.write(loaded, root)
    modules = [m.name for m in loaded.modules()]
    code = (
        "import importlib\n"
        f"for name in {modules!r}:\n"
        "    module = importlib.import_module(name)\n"
        "    for attr in module.__all__:\n"
        "        if attr not in ('th', 'torch'):\n"  # real-module re-exports: torch is not installed here
        "            getattr(module, attr)\n"
        f"print({len(modules)})\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "PYTHONPATH"))}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in generator.search_path(loaded, root))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(len(modules))


def test_the_check_script_resolves_a_node_and_names_what_is_missing(tmp_path):
    node = tmp_path / "my-node"
    (node / "py").mkdir(parents=True)
    (node / "__init__.py").write_text(
        "import comfy\nfrom .py.routes import NODE_CLASS_MAPPINGS\n"
        "DEVICE = comfy.model_management.get_torch_device()\n",
        encoding="utf-8",
    )
    (node / "py" / "__init__.py").write_text("", encoding="utf-8")
    (node / "py" / "routes.py").write_text(
        textwrap.dedent("""
        from server import PromptServer
        import folder_paths, nodes
        import comfy.samplers

        @PromptServer.instance.routes.get("/my-node/models")
        async def models(request):
            return folder_paths.get_filename_list("checkpoints")

        class MyLoader(nodes.LoraLoader):
            SAMPLERS = comfy.samplers.KSampler.SAMPLERS
            RETURN_TYPES = nodes.LoraLoader.RETURN_TYPES

        NODE_CLASS_MAPPINGS = {"MyLoader": MyLoader}
        MISSING = nodes.NotInComfyUI
    """),
        encoding="utf-8",
    )
    script = EXAMPLES / "check_real_project.py"
    args = [
        sys.executable,
        str(script),
        "--project",
        str(node),
        "--manifest",
        str(EXAMPLES / "comfyui-node.yml"),
        "--comfyui-node",
        "my_node",
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "uses: 16 of 17 resolve against comfyui-node.yml" in lines
    assert (
        "FAIL chain  nodes.NotInComfyUI  (py/routes.py:15)  AttributeError: nodes.NotInComfyUI is not declared in "
        "the stub manifest comfyui-node.yml: add it under repositories.comfyui.modules.nodes (constants, functions "
        "or classes), then run `ci-helper stubs create`"
    ) in lines
    assert lines[-2] == "modules: 0 of 2 import"
    (node / "py" / "routes.py").write_text(
        (node / "py" / "routes.py").read_text().replace("MISSING = nodes.NotInComfyUI\n", ""), encoding="utf-8"
    )
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines()[-4:] == [
        "ok   my_node (1 nodes registered)",
        "ok   my_node.py.routes",
        "modules: 2 of 2 import",
        "fabricated by the extra manifests' dynamic prefixes: 0",
    ]


def test_a_dynamic_prefix_declared_as_a_module_keeps_its_declared_names_real(tmp_path):
    (tmp_path / "stubs.yml").write_text(
        textwrap.dedent("""
        repositories:
          gm:
            dynamic: [sgm]
            modules:
              sgm:
                classes: {Engine: {bases: [sgm.base.Base]}}
                constants: {CONF: {$object: {a: 1}}, ENGINE: {$instance: Engine}}
              sgm.base:
                classes: {Base: {}}
    """),
        encoding="utf-8",
    )
    generator.write(manifest.load(tmp_path / "stubs.yml"), tmp_path / "repositories")
    proc = python(
        "import sgm; print(sgm.CONF.a, type(sgm.ENGINE).__name__, sgm.Engine.__mro__[1].__qualname__, "
        "sgm.Other.__qualname__)",
        tmp_path,
        "repositories/gm",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", "Engine", "Base", "Other"]
    log = [
        json.loads(line) for line in (tmp_path / "repositories" / generator.FABRICATION_LOG).read_text().splitlines()
    ]
    assert [entry["name"] for entry in log] == ["sgm.Other"]
