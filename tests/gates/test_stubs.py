"""`ci-helper stubs`: the manifest from issue #5 written to real files, imported by real processes."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ci_helper import __version__
from ci_helper.canary import cases as canary_cases, run as canary_run
from ci_helper.gates.stubs import generator, manifest
from tests.conftest import run_ci_helper, without_fence

ISSUE_MANIFEST = """\
root: repositories            # where stub repositories are written, relative to the project
repositories:
  stable-diffusion-stability-ai:
    markers: [ldm/models/diffusion/ddpm.py]   # files the application checks exist
    modules:
      ldm.models.diffusion.ddpm:
        classes: {LatentDiffusion: {}, LatentDepth2ImageDiffusion: {bases: [LatentDiffusion]}}
      ldm.util:
        functions: {default: {returns: null}, instantiate_from_config: {raises: NotImplementedError}}
        constants: {SCALE: 0.18215}
  generative-models:
    dynamic: [sgm]            # opt-in import hook for these prefixes only
fake_inference: {env: CI, width: 1, height: 1, color: [0, 0, 0, 0]}
"""

ISSUE_FILES = [
    ".ci-helper-stubs.json",
    # The manifest declares fake inference: ci_helper.fake for the project's interpreter.
    "ci_helper/__init__.py",
    "ci_helper/fake.py",
    "ci_helper/fake_inference.py",
    "generative-models/sgm/__init__.py",
    "stable-diffusion-stability-ai/ldm/__init__.py",
    "stable-diffusion-stability-ai/ldm/models/__init__.py",
    "stable-diffusion-stability-ai/ldm/models/diffusion/__init__.py",
    "stable-diffusion-stability-ai/ldm/models/diffusion/ddpm.py",
    "stable-diffusion-stability-ai/ldm/util.py",
]

SD = "repositories/stable-diffusion-stability-ai"
GM = "repositories/generative-models"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder holding the issue's manifest, as the working folder."""
    (tmp_path / "stubs.yml").write_text(ISSUE_MANIFEST, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def python(code: str, cwd: Path, *path: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter with ``path`` (relative to cwd) as PYTHONPATH."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "PYTHONPATH"))}
    if path:
        full_env["PYTHONPATH"] = os.pathsep.join(str(cwd / p) for p in path)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60
    )


def result_json(project: Path) -> dict:
    return json.loads((project / ".ci-helper/results/stubs.json").read_text(encoding="utf-8"))


# --- create ---------------------------------------------------------------


def test_create_writes_the_declared_tree_and_a_stamp(project, cli):
    out = cli("stubs", "create", "--manifest", "stubs.yml")
    assert out.exit_code == 0, out.output
    root = project / "repositories"
    assert files_under(root) == ISSUE_FILES
    sha = hashlib.sha256(ISSUE_MANIFEST.encode()).hexdigest()
    stamp = hashlib.sha256(f"ci-helper {__version__}\n{sha}\n".encode()).hexdigest()
    assert json.loads((root / ".ci-helper-stubs.json").read_text()) == {
        "generator": f"ci-helper {__version__}",
        "manifest": "stubs.yml",
        "manifest_sha256": sha,
        "stamp": stamp,
        "repositories": ["stable-diffusion-stability-ai", "generative-models"],
    }
    pythonpath = os.pathsep.join(str((project / p).resolve()) for p in ("repositories", SD, GM))
    assert out.output.splitlines() == [
        "stubs: wrote 10 files, 0 unchanged, 0 removed under repositories (from stubs.yml)",
        f"stamp: {stamp}",
        f"PYTHONPATH: {pythonpath}",
        'local pytest: PYTHONPATH="$(ci-helper stubs path)" pytest, or pytest -p ci_helper.stubs',
        "stubs: pass (2 repositories, 2 modules, 5 names, dynamic prefixes: sgm, fabricated: 0, "
        "drifted files: 0, fake inference: off)",
    ]
    assert result_json(project)["figures"] == {
        "manifest": "stubs.yml",
        "root": "repositories",
        "stamp": stamp,
        "repositories": 2,
        "modules": 2,
        "names": 5,
        "dynamic_prefixes": ["sgm"],
        "fabricated": 0,
        "dynamic_budget": None,
        "drifted_files": 0,
        "fake_inference": False,
        "fake_inference_env": "CI",
    }


def test_every_generated_file_is_valid_python_with_the_manifest_named(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    for rel in ISSUE_FILES[1:]:
        text = (project / "repositories" / rel).read_text()
        ast.parse(text)
        assert text.startswith("# Generated by `ci-helper stubs create` from stubs.yml: do not edit.\n")


def test_create_twice_is_byte_identical_and_touches_nothing(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    root = project / "repositories"
    before = {rel: ((root / rel).read_bytes(), (root / rel).stat().st_mtime_ns) for rel in ISSUE_FILES}
    out = cli("stubs", "create", "--manifest", "stubs.yml")
    assert (
        out.output.splitlines()[0]
        == "stubs: wrote 0 files, 10 unchanged, 0 removed under repositories (from stubs.yml)"
    )
    assert {rel: ((root / rel).read_bytes(), (root / rel).stat().st_mtime_ns) for rel in ISSUE_FILES} == before


def test_render_does_not_depend_on_where_the_project_is(tmp_path):
    for name in ("a", "b/c"):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / "stubs.yml").write_text(ISSUE_MANIFEST)
    assert generator.render(manifest.load(tmp_path / "a/stubs.yml")) == generator.render(
        manifest.load(tmp_path / "b/c/stubs.yml")
    )


def test_root_flag_and_setting(project, cli):
    (project / "pyproject.toml").write_text('[tool.ci-helper.stubs]\nmanifest = "stubs.yml"\nroot = "vendor/stubs"\n')
    assert cli("stubs", "create").exit_code == 0
    assert files_under(project / "vendor/stubs") == ISSUE_FILES
    assert cli("stubs", "create", "--root", "elsewhere").exit_code == 0
    assert files_under(project / "elsewhere") == ISSUE_FILES


def test_no_manifest_is_bad_input(project, cli):
    out = cli("stubs", "create")
    assert out.exit_code == 2
    assert out.output == "Error: no stub manifest: pass --manifest F or set manifest in [tool.ci-helper.stubs]\n"


def test_create_refuses_a_root_it_did_not_write(project, cli):
    (project / "repositories").mkdir()
    (project / "repositories" / "real-clone.txt").write_text("keep me")
    out = cli("stubs", "create", "--manifest", "stubs.yml")
    assert out.exit_code == 2
    assert out.output == (
        "Error: stub root repositories already holds files that `ci-helper stubs create` did not write "
        "(no .ci-helper-stubs.json); choose an empty folder or delete it\n"
    )
    assert (project / "repositories" / "real-clone.txt").read_text() == "keep me"


def test_create_prunes_what_the_manifest_no_longer_declares(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    (project / "stubs.yml").write_text(
        ISSUE_MANIFEST.replace(
            "  generative-models:\n    dynamic: [sgm]            # opt-in import hook for these prefixes only\n", ""
        )
    )
    out = cli("stubs", "create", "--manifest", "stubs.yml")
    assert (
        out.output.splitlines()[0] == "stubs: wrote 1 files, 8 unchanged, 1 removed under repositories (from stubs.yml)"
    )
    assert "generative-models/sgm/__init__.py" not in files_under(project / "repositories")
    assert not (project / GM).exists()


# --- importing the stubs ----------------------------------------------------


def test_declared_symbols_import_and_subclass(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python(
        """
        import json
        from ldm.models.diffusion.ddpm import LatentDiffusion, LatentDepth2ImageDiffusion
        from ldm.util import SCALE, default, instantiate_from_config
        import ldm.models.diffusion.ddpm as ddpm

        class Mine(LatentDepth2ImageDiffusion):
            def __init__(self, steps):
                super().__init__(steps, device="cpu")
                self.steps = steps

        try:
            instantiate_from_config({"target": "x"})
        except NotImplementedError as exc:
            raised = str(exc)
        print(json.dumps({
            "subclass": issubclass(Mine, LatentDiffusion) and isinstance(Mine(3), LatentDepth2ImageDiffusion),
            "steps": Mine(3).steps,
            "root_accepts_anything": type(LatentDiffusion(1, 2, key="v")).__name__,
            "scale": SCALE,
            "default": default(1, 2),
            "raised": raised,
            "all": ddpm.__all__,
            "file": ddpm.__file__.replace("\\\\", "/").split("repositories/")[1],
        }))
    """,
        project,
        SD,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "subclass": True,
        "steps": 3,
        "root_accepts_anything": "LatentDiffusion",
        "scale": 0.18215,
        "default": None,
        "raised": "ldm.util.instantiate_from_config is a stub that raises NotImplementedError (stubs.yml: "
        "repositories.stable-diffusion-stability-ai.modules.ldm.util.functions.instantiate_from_config)",
        "all": ["LatentDiffusion", "LatentDepth2ImageDiffusion"],
        "file": "stable-diffusion-stability-ai/ldm/models/diffusion/ddpm.py",
    }


def test_bases_from_another_module_and_builtin_exceptions(project, cli):
    (project / "stubs.yml").write_text(
        ISSUE_MANIFEST.replace(
            "        constants: {SCALE: 0.18215}\n",
            "        constants: {SCALE: 0.18215}\n"
            "        classes:\n"
            "          Wrapped: {bases: [ldm.models.diffusion.ddpm.LatentDepth2ImageDiffusion], attributes: {kind: depth},\n"
            "                    methods: {sample: {returns: [1, 2]}, decode: {raises: RuntimeError}}}\n"
            "          StubError: {bases: [ValueError]}\n",
        )
    )
    assert cli("stubs", "create", "--manifest", "stubs.yml").exit_code == 0
    proc = python(
        """
        from ldm.util import Wrapped, StubError
        from ldm.models.diffusion.ddpm import LatentDiffusion
        w = Wrapped(1, 2)
        print(isinstance(w, LatentDiffusion), w.kind, w.sample(3), issubclass(StubError, ValueError))
        try:
            w.decode()
        except RuntimeError as exc:
            print(exc)
    """,
        project,
        SD,
    )
    assert proc.stdout.splitlines() == [
        "True depth [1, 2] True",
        "ldm.util.Wrapped.decode is a stub that raises RuntimeError (stubs.yml: repositories.stable-diffusion-"
        "stability-ai.modules.ldm.util.classes.Wrapped.methods.decode)",
    ], proc.stderr


MISSING = (
    "ldm.util.missing is not declared in the stub manifest stubs.yml: add it under "
    "repositories.stable-diffusion-stability-ai.modules.ldm.util (constants, functions or classes), "
    "then run `ci-helper stubs create`"
)


def test_undeclared_name_raises_import_error_naming_the_manifest(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python("from ldm.util import missing", project, SD)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == f"ImportError: {MISSING}"
    # The traceback points at the real generated file.
    assert f'{SD}/ldm/util.py", line' in proc.stderr.replace("\\", "/")


def test_undeclared_attribute_is_attribute_error_so_probing_still_works(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python(
        """
        import ldm.util
        print(hasattr(ldm.util, "missing"), getattr(ldm.util, "missing", "fallback"))
        try:
            ldm.util.missing
        except AttributeError as exc:
            print(exc)
        from ldm import models
        try:
            from ldm.models import unet
        except ImportError as exc:
            print(type(exc).__name__, exc)
    """,
        project,
        SD,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "False fallback",
        MISSING,
        "ImportError ldm.models.unet is not declared in the stub manifest stubs.yml: add it under "
        "repositories.stable-diffusion-stability-ai.modules.ldm.models (constants, functions or classes), "
        "then run `ci-helper stubs create`",
    ]


def test_the_applications_own_sys_path_logic_finds_the_stubs(project, cli):
    # stable-diffusion-webui's modules/paths.py inserts repositories/<name> itself: no PYTHONPATH needed.
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python(
        """
        import os, sys
        for name in ("stable-diffusion-stability-ai", "generative-models"):
            sys.path.insert(0, os.path.join("repositories", name))
        assert os.path.exists("repositories/stable-diffusion-stability-ai/ldm/models/diffusion/ddpm.py")
        from ldm.models.diffusion.ddpm import LatentDiffusion
        from sgm.models.diffusion import DiffusionEngine
        print(LatentDiffusion.__module__, DiffusionEngine.__module__)
    """,
        project,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ldm.models.diffusion.ddpm", "sgm.models.diffusion"]


def test_pythonpath_printed_by_create_makes_everything_importable(project, cli):
    out = cli("stubs", "create", "--manifest", "stubs.yml")
    pythonpath = out.output.splitlines()[2].removeprefix("PYTHONPATH: ")
    proc = python("import ldm.util, sgm; print(ldm.util.SCALE)", project, env={"PYTHONPATH": pythonpath})
    assert (proc.returncode, proc.stdout) == (0, "0.18215\n"), proc.stderr


# --- the dynamic prefix -----------------------------------------------------


def test_dynamic_prefix_fabricates_logs_and_reports(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python(
        """
        from sgm.modules.diffusionmodules.openaimodel import UNetModel
        import sgm.util
        class Mine(UNetModel):
            pass
        model = sgm.util.instantiate_from_config({"target": "x"})
        print(Mine.__mro__[1].__qualname__, type(model).__qualname__, isinstance(Mine(1, x=2), UNetModel))
        print(hasattr(UNetModel, "__wrapped__"))
    """,
        project,
        GM,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["UNetModel instantiate_from_config True", "False"]

    out = cli("stubs", "report", "--manifest", "stubs.yml")
    assert out.exit_code == 0
    assert out.output.splitlines() == [
        "fabricated names: 6 (budget: none)",
        "  sgm.modules  [module, prefix sgm]",
        "  sgm.modules.diffusionmodules  [module, prefix sgm]",
        "  sgm.modules.diffusionmodules.openaimodel  [module, prefix sgm]",
        "  sgm.modules.diffusionmodules.openaimodel.UNetModel  [attribute, prefix sgm]",
        "  sgm.util  [module, prefix sgm]",
        "  sgm.util.instantiate_from_config  [attribute, prefix sgm]",
        "declare them in the manifest (then drop the dynamic prefix when nothing is fabricated):",
        "  modules:",
        "    sgm.modules: {}",
        "    sgm.modules.diffusionmodules: {}",
        "    sgm.modules.diffusionmodules.openaimodel:",
        "      classes:",
        "        UNetModel: {}",
        "    sgm.util:",
        "      functions:",
        "        instantiate_from_config:",
        "          returns: null",
        "stubs: pass (2 repositories, 2 modules, 5 names, dynamic prefixes: sgm, fabricated: 6, "
        "drifted files: 0, fake inference: off)",
    ]
    result = result_json(project)
    assert result["status"] == "pass"
    assert result["figures"]["fabricated"] == 6
    assert [f["message"] for f in result["findings"]][:1] == [
        "sgm.modules (module) was fabricated by the dynamic prefix sgm; declare it in stubs.yml"
    ]
    assert {f["severity"] for f in result["findings"]} == {"warning"}


def test_the_report_suggestion_is_a_valid_manifest_that_stops_the_fabrication(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    python("from sgm.util import instantiate_from_config, Config", project, GM)
    out = cli("stubs", "report", "--manifest", "stubs.yml")
    lines = out.output.splitlines()
    snippet = "\n".join(lines[lines.index("  modules:") + 1 : -1])
    text = ISSUE_MANIFEST.replace(
        "    dynamic: [sgm]            # opt-in import hook for these prefixes only\n",
        "    dynamic: [sgm]\n    modules:\n" + textwrap.indent(textwrap.dedent(snippet), "      ") + "\n",
    )
    (project / "stubs.yml").write_text(text)
    assert cli("stubs", "create", "--manifest", "stubs.yml").exit_code == 0
    proc = python(
        "from sgm.util import instantiate_from_config, Config; print(Config(), instantiate_from_config())", project, GM
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<sgm.util.Config object at ")
    assert proc.stdout.rstrip().endswith(" None")
    assert (
        cli("stubs", "report", "--manifest", "stubs.yml").output.splitlines()[0] == "fabricated names: 0 (budget: none)"
    )


BUDGET_MANIFEST = ISSUE_MANIFEST.replace("fake_inference:", "dynamic_budget: 2\nfake_inference:")


def test_the_budget_refuses_names_and_turns_the_run_red(project, cli):
    (project / "stubs.yml").write_text(BUDGET_MANIFEST)
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python("import sgm.a.b.c", project, GM)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "ImportError: sgm.a.b.c would exceed the dynamic budget of 2 fabricated names set in stubs.yml "
        "(dynamic_budget); declare it under repositories.*.modules instead of relying on "
        "repositories.generative-models.dynamic"
    )
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert out.exit_code == 1
    assert out.output.splitlines() == [
        "error: stubs.yml: 3 names were fabricated by the dynamic prefixes, over the budget of 2 (dynamic_budget "
        "in stubs.yml); 1 were refused. Declare them under repositories.*.modules (see `ci-helper stubs report`) "
        "[stubs-budget]",
        "error: sgm.a.b.c (module) was fabricated by the dynamic prefix sgm and refused by the budget; declare it "
        "in stubs.yml [stubs-fabricated]",
        "stubs: fail (2 repositories, 2 modules, 5 names, dynamic prefixes: sgm, fabricated: 3/2, drifted files: 0, "
        "fake inference: off)",
    ]
    assert result_json(project)["status"] == "fail"


def test_the_budget_counts_names_across_processes(project, cli):
    (project / "stubs.yml").write_text(BUDGET_MANIFEST)
    cli("stubs", "create", "--manifest", "stubs.yml")
    assert python("import sgm.first, sgm.first", project, GM).returncode == 0
    assert python("from sgm import Second", project, GM).returncode == 0
    third = python("from sgm import Third", project, GM)
    assert third.stderr.strip().splitlines()[-1] == (
        "ImportError: sgm.Third would exceed the dynamic budget of 2 fabricated names set in stubs.yml "
        "(dynamic_budget); declare it under repositories.*.modules instead of relying on "
        "repositories.generative-models.dynamic"
    )
    # A name fabricated before stays usable: the budget limits new names only.
    assert python("import sgm.first", project, GM).returncode == 0
    assert cli("stubs", "check", "--manifest", "stubs.yml").exit_code == 1


def test_concurrent_processes_share_one_intact_log(project, cli):
    (project / "stubs.yml").write_text(
        ISSUE_MANIFEST.replace("fake_inference:", "dynamic_budget: 100\nfake_inference:")
    )
    cli("stubs", "create", "--manifest", "stubs.yml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CI_HELPER_")}
    env["PYTHONPATH"] = str(project / GM)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "; ".join(f"import sgm.p{p}.m{i}" for i in range(5))], cwd=project, env=env
        )
        for p in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert out.exit_code == 0
    assert out.output.splitlines()[-1] == (
        "stubs: pass (2 repositories, 2 modules, 5 names, dynamic prefixes: sgm, fabricated: 24/100, "
        "drifted files: 0, fake inference: off)"
    )


def test_within_budget_is_green(project, cli):
    (project / "stubs.yml").write_text(BUDGET_MANIFEST)
    cli("stubs", "create", "--manifest", "stubs.yml")
    assert python("import sgm.one.two", project, GM).returncode == 0
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert out.exit_code == 0
    assert out.output.splitlines()[-1] == (
        "stubs: pass (2 repositories, 2 modules, 5 names, dynamic prefixes: sgm, fabricated: 2/2, drifted files: 0, "
        "fake inference: off)"
    )


def test_test_runners_probing_names_fabricate_nothing_extra(project, cli):
    # pytest looks for fixtures by reading e.g. `_pytestfixturefunction` and `_mock_name` on every
    # name in a test module: private names are never fabricated, so the log holds only what the test used.
    cli("stubs", "create", "--manifest", "stubs.yml")
    (project / "test_app.py").write_text(
        "from sgm.modules.encoders import FrozenCLIPEmbedder\n"
        "import sgm.util as util\n\n"
        "def test_it():\n    assert isinstance(FrozenCLIPEmbedder(), FrozenCLIPEmbedder)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / GM)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert cli("stubs", "report", "--manifest", "stubs.yml").output.splitlines()[:5] == [
        "fabricated names: 4 (budget: none)",
        "  sgm.modules  [module, prefix sgm]",
        "  sgm.modules.encoders  [module, prefix sgm]",
        "  sgm.modules.encoders.FrozenCLIPEmbedder  [attribute, prefix sgm]",
        "  sgm.util  [module, prefix sgm]",
    ]


def test_private_names_are_not_fabricated(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    proc = python(
        """
        import sgm.x as x
        print(hasattr(x, "_y"), hasattr(x.Thing, "_z"))
        try:
            from sgm.x import _y
        except ImportError as exc:
            print(exc)
        try:
            import sgm._version
        except ModuleNotFoundError as exc:
            print(exc)
    """,
        project,
        GM,
    )
    assert proc.stdout.splitlines() == [
        "False False",
        "sgm.x._y is private and private names are not fabricated by the dynamic prefix sgm; declare it in "
        "stubs.yml under repositories.*.modules",
        "No module named 'sgm._version'",
    ], proc.stderr


def test_the_log_can_live_elsewhere(project, cli, tmp_path_factory):
    log = tmp_path_factory.mktemp("logs") / "fabricated.jsonl"
    cli("stubs", "create", "--manifest", "stubs.yml")
    python("import sgm.elsewhere", project, GM, env={"CI_HELPER_STUBS_LOG": str(log)})
    assert not (project / "repositories/.fabricated.jsonl").exists()
    out = cli("stubs", "report", "--manifest", "stubs.yml", env={"CI_HELPER_STUBS_LOG": str(log)})
    assert out.output.splitlines()[:2] == [
        "fabricated names: 1 (budget: none)",
        "  sgm.elsewhere  [module, prefix sgm]",
    ]


def test_a_dotted_prefix_fabricates_below_it_only(project, cli):
    (project / "stubs.yml").write_text(ISSUE_MANIFEST.replace("dynamic: [sgm]", "dynamic: [sgm.modules]"))
    cli("stubs", "create", "--manifest", "stubs.yml")
    assert "generative-models/sgm/modules/__init__.py" in files_under(project / "repositories")
    proc = python(
        """
        from sgm.modules.encoders.modules import FrozenOpenCLIPEmbedder
        try:
            import sgm.util
        except ModuleNotFoundError as exc:
            print(exc)
    """,
        project,
        GM,
    )
    assert proc.stdout == "No module named 'sgm.util'\n", proc.stderr
    assert cli("stubs", "report", "--manifest", "stubs.yml").output.splitlines()[:4] == [
        "fabricated names: 3 (budget: none)",
        "  sgm.modules.encoders  [module, prefix sgm.modules]",
        "  sgm.modules.encoders.modules  [module, prefix sgm.modules]",
        "  sgm.modules.encoders.modules.FrozenOpenCLIPEmbedder  [attribute, prefix sgm.modules]",
    ]


def test_create_starts_a_fresh_fabrication_log(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    python("import sgm.x", project, GM)
    assert (project / "repositories/.fabricated.jsonl").is_file()
    cli("stubs", "create", "--manifest", "stubs.yml")
    assert not (project / "repositories/.fabricated.jsonl").exists()


# --- check ------------------------------------------------------------------


def test_check_catches_a_hand_edited_stub(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    util = project / SD / "ldm/util.py"
    util.write_text(
        util.read_text().replace(
            "def default(*args, **kwargs):\n    return None",
            "def default(val, d):\n    return val if val is not None else d",
        )
    )
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert out.exit_code == 1
    message = (
        f"{SD}/ldm/util.py differs from what stubs.yml declares (first difference at line 10); "
        "edit the manifest instead and run `ci-helper stubs create`"
    )
    assert out.output.splitlines()[0] == f"error: {SD}/ldm/util.py:10: {message} [stubs-modified]"
    result = result_json(project)
    assert (result["status"], result["figures"]["drifted_files"]) == ("fail", 1)
    assert result["findings"] == [
        {
            "rule": "stubs-modified",
            "message": message,
            "file": f"{SD}/ldm/util.py",
            "line": 10,
            "column": None,
            "severity": "error",
        }
    ]
    # create restores the declared content, and check is green again.
    cli("stubs", "create", "--manifest", "stubs.yml")
    assert cli("stubs", "check", "--manifest", "stubs.yml").exit_code == 0


def test_check_catches_missing_and_extra_files(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    (project / SD / "ldm/models/diffusion/ddpm.py").unlink()
    (project / SD / "ldm/extra.py").write_text("X = 1\n")
    (project / SD / "ldm/__pycache__").mkdir()
    (project / SD / "ldm/__pycache__/util.cpython-311.pyc").write_bytes(b"cache")
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert out.exit_code == 1
    assert [f["rule"] + " " + f["file"] for f in result_json(project)["findings"]] == [
        f"stubs-extra {SD}/ldm/extra.py",
        f"stubs-missing {SD}/ldm/models/diffusion/ddpm.py",
    ]


def test_check_before_create_is_red(project, cli):
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert out.exit_code == 1
    assert result_json(project)["figures"]["drifted_files"] == len(ISSUE_FILES)


# --- manifest errors ----------------------------------------------------------

UTIL = "repositories.stable-diffusion-stability-ai.modules.ldm.util"


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "default: {returns: null}",
            "default: {return: null}",
            f"stubs.yml:9: {UTIL}.functions.default: unknown key 'return'; expected one of: raises, returns",
        ),
        (
            "default: {returns: null}",
            "default: {returns: null, raises: KeyError}",
            f"stubs.yml:9: {UTIL}.functions.default: declare either 'returns' or 'raises', not both",
        ),
        (
            "raises: NotImplementedError",
            "raises: NotAnError",
            f"stubs.yml:9: {UTIL}.functions.instantiate_from_config.raises: NotAnError is not a builtin exception "
            "(e.g. NotImplementedError, RuntimeError)",
        ),
        (
            "bases: [LatentDiffusion]",
            "bases: [LatentDifusion]",
            "stubs.yml:7: repositories.stable-diffusion-stability-ai.modules.ldm.models.diffusion.ddpm.classes."
            "LatentDepth2ImageDiffusion.bases.0: base LatentDifusion is not a class declared in the manifest "
            "(use Name for the same module or package.module.Name) nor a builtin exception",
        ),
        (
            "constants: {SCALE: 0.18215}",
            "constants: {class: 1}",
            f"stubs.yml:10: {UTIL}.constants.class: 'class' is a Python keyword and cannot be a name",
        ),
        (
            "{LatentDiffusion: {}",
            "{LatentDiffusion: {bases: [LatentDepth2ImageDiffusion]}",
            "stubs.yml:7: repositories.stable-diffusion-stability-ai.modules.ldm.models.diffusion.ddpm.classes."
            "LatentDiffusion.bases: class LatentDiffusion inherits from itself",
        ),
        (
            "constants: {SCALE: 0.18215}",
            "constants: {_sys: 1}",
            f"stubs.yml:10: {UTIL}.constants._sys: _sys is reserved for the generated module; choose another name",
        ),
        (
            "constants: {SCALE: 0.18215}",
            "constants: {SCALE: 1, default: 2}",
            f"stubs.yml:9: {UTIL}.functions.default: default is also declared under constants",
        ),
        (
            "{LatentDiffusion: {}, LatentDepth2ImageDiffusion",
            "{LatentDiffusion: {attributes: {x: 1}, methods: {x: {}}}, LatentDepth2ImageDiffusion",
            "stubs.yml:7: repositories.stable-diffusion-stability-ai.modules.ldm.models.diffusion.ddpm.classes."
            "LatentDiffusion.methods.x: x is also declared under attributes",
        ),
        (
            "constants: {SCALE: 0.18215}",
            "constants: {SCALE: 0.18215}\n      ldm.util.default: {}",
            f"stubs.yml:9: {UTIL}.functions.default: default is also a submodule (ldm.util.default); importing it "
            "would replace the name: rename one of them",
        ),
        (
            "constants: {SCALE: 0.18215}",
            "constants: {SCALE: .nan}",
            f"stubs.yml:10: {UTIL}.constants.SCALE: nan is not a finite number",
        ),
        (
            "constants: {SCALE: 0.18215}",
            "constants: {SCALE: 2024-01-01}",
            f"stubs.yml:10: {UTIL}.constants.SCALE: expected null or boolean or number or string or array or object, "
            "got date datetime.date(2024, 1, 1)",
        ),
        (
            "      ldm.util:",
            "      ldm.util-x:",
            "stubs.yml:8: repositories.stable-diffusion-stability-ai.modules.ldm.util-x: 'ldm.util-x' is not a valid name here",
        ),
        (
            "dynamic: [sgm]",
            "dynamic: [ldm]",
            "stubs.yml:12: repositories.generative-models.dynamic.0: package ldm is already provided by repository "
            "stable-diffusion-stability-ai; one of the two would shadow the other on the search path: declare it in one "
            "repository only",
        ),
        (
            "color: [0, 0, 0, 0]",
            "color: [0, 0, 0, 256]",
            "stubs.yml:13: fake_inference.color.3: 256 is greater than the maximum of 255",
        ),
        (
            "root: repositories",
            "roots: repositories",
            "stubs.yml: (top level): unknown key 'roots'; expected one of: dynamic_budget, fake_inference, repositories, root",
        ),
        (
            "markers: [ldm/models/diffusion/ddpm.py]",
            "markers: [../escape.py]",
            "stubs.yml:4: repositories.stable-diffusion-stability-ai.markers.0: '../escape.py' is not a valid name here",
        ),
    ],
)
def test_manifest_errors_name_the_path_inside_the_manifest(project, cli, old, new, message):
    assert old in ISSUE_MANIFEST
    (project / "stubs.yml").write_text(ISSUE_MANIFEST.replace(old, new))
    out = cli("stubs", "create", "--manifest", "stubs.yml")
    assert out.exit_code == 2
    assert out.output == f"Error: {message}; see docs/stubs.md\n"
    assert not (project / "repositories").exists()


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "repositories: [\n",
            "Error: stubs.yml:2: malformed YAML in the stub manifest ("
            + (
                "did not find expected node content"
                if __import__("yaml").__with_libyaml__
                else "expected the node content, but found '<stream end>'"
            )
            + ")\n",
        ),
        ("root: x\n", "Error: stubs.yml: (top level): 'repositories' is a required property; see docs/stubs.md\n"),
        ("- a\n", "Error: stubs.yml: (top level): expected object, got a list; see docs/stubs.md\n"),
    ],
)
def test_unreadable_manifests_exit_2(project, cli, text, message):
    (project / "stubs.yml").write_text(text)
    out = cli("stubs", "check", "--manifest", "stubs.yml")
    assert (out.exit_code, out.output) == (2, message)


def test_missing_manifest_exits_2(project, cli):
    out = cli("stubs", "create", "--manifest", "nope.yml")
    assert (out.exit_code, out.output) == (
        2,
        "Error: nope.yml: stub manifest not found; pass --manifest F or set [tool.ci-helper.stubs] manifest\n",
    )


# --- GitHub Actions I/O ------------------------------------------------------


def test_export_writes_outputs_and_the_environment_for_later_steps(project, cli):
    output, env_file = project / "gh_output", project / "gh_env"
    out = cli(
        "stubs",
        "create",
        "--export",
        env={
            "CI_HELPER_STUBS_MANIFEST": "stubs.yml",
            "CI_HELPER_STUBS_ROOT": "",
            "GITHUB_OUTPUT": str(output),
            "GITHUB_ENV": str(env_file),
            "PYTHONPATH": "/opt/existing",
            "CI": "true",
        },
    )
    assert out.exit_code == 0, out.output
    root = (project / "repositories").resolve()
    search = os.pathsep.join([str(root), str(root / "stable-diffusion-stability-ai"), str(root / "generative-models")])
    stamp = generator.stamp(manifest.load(project / "stubs.yml"))
    assert output.read_text() == f"stamp={stamp}\nroot={root}\npythonpath={search}\n"
    assert env_file.read_text() == (
        f"PYTHONPATH={search}{os.pathsep}/opt/existing\n"
        f"CI_HELPER_STUBS_MANIFEST={(project / 'stubs.yml').resolve()}\n"
        f"CI_HELPER_STUBS_ROOT={root}\n"
    )
    assert result_json(project)["figures"]["fake_inference"] is True


def test_annotations_in_actions(project, cli):
    cli("stubs", "create", "--manifest", "stubs.yml")
    (project / SD / "ldm/util.py").write_text("# edited\n")
    out = cli("stubs", "check", "--manifest", "stubs.yml", env={"GITHUB_ACTIONS": "true"})
    assert without_fence(out.output).splitlines()[1] == (
        f"::error file={SD}/ldm/util.py,line=1,title=stubs%3A stubs-modified::{SD}/ldm/util.py differs from what "
        "stubs.yml declares (first difference at line 1); edit the manifest instead and run `ci-helper stubs create`"
    )


def test_the_cli_module_stays_light():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ci_helper.cli.stubs; print(sorted(m for m in ('yaml', 'jsonschema') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout == "[]\n", proc.stderr


def test_real_subprocess_exit_codes(project):
    assert run_ci_helper("stubs", "create", "--manifest", "stubs.yml", cwd=project).returncode == 0
    (project / SD / "ldm/util.py").write_text("")
    assert run_ci_helper("stubs", "check", "--manifest", "stubs.yml", cwd=project).returncode == 1
    (project / "stubs.yml").write_text("{")
    proc = run_ci_helper("stubs", "check", "--manifest", "stubs.yml", cwd=project)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


# --- canary fixtures -----------------------------------------------------------


@pytest.mark.parametrize(
    "fixture, expected, detail",
    [
        ("good", "pass", "sgm.util (module) was fabricated by the dynamic prefix sgm; declare it in stubs.yml"),
        (
            "bad",
            "fail",
            "repositories/stable-diffusion-stability-ai/ldm/util.py differs from what stubs.yml declares "
            "(first difference at line 38); edit the manifest instead and run `ci-helper stubs create`",
        ),
    ],
)
def test_canary_fixtures_bite(fixture, expected, detail):
    case = next(c for c in canary_cases.discover() if c.gate == "stubs" and c.fixture == fixture)
    outcome = canary_run.run_case(case)
    assert (outcome.expected, outcome.got, outcome.detail) == (expected, expected, detail)


def test_bad_fixture_fails_for_both_reasons(tmp_path):
    case = next(c for c in canary_cases.discover() if c.gate == "stubs" and c.fixture == "bad")
    work = tmp_path / "bad"
    work.mkdir()
    (work / "stubs.yml").write_bytes((case.folder / "stubs.yml").read_bytes())
    for step in case.setup:
        argv = canary_run._argv(step, {"fixture": str(work)})
        subprocess.run(argv, cwd=work, capture_output=True, timeout=60)
    proc = run_ci_helper("stubs", "check", "--manifest", "stubs.yml", cwd=work)
    rules = [f["rule"] for f in json.loads((work / ".ci-helper/results/stubs.json").read_text())["findings"]]
    assert (proc.returncode, rules) == (
        1,
        ["stubs-modified", "stubs-budget", "stubs-fabricated", "stubs-fabricated", "stubs-fabricated"],
    )


# --- properties ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(json_values)
def test_literal_round_trips_through_python(value):
    assert ast.literal_eval(generator.literal(value)) == value


identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: not __import__("keyword").iskeyword(s)
)
classes = st.from_regex(r"[A-Z][a-zA-Z0-9]{0,6}", fullmatch=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    modules=st.lists(st.lists(identifiers, min_size=1, max_size=3).map(".".join), min_size=1, max_size=4, unique=True),
    names=st.lists(classes, min_size=1, max_size=3, unique=True),
    consts=st.dictionaries(identifiers.map(str.upper), json_values, max_size=3),
    doc=st.text(min_size=1, max_size=20),
)
def test_any_valid_manifest_renders_valid_python_and_checks_clean(modules, names, consts, doc):
    tops = {m.split(".")[0] for m in modules}
    body = {
        "repositories": {
            "r": {"modules": {m: {"doc": doc, "classes": {n: {} for n in names}, "constants": consts} for m in modules}}
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stubs.yml"
        path.write_text(json.dumps(body))  # JSON is YAML
        try:
            loaded = manifest.load(path)
        except Exception as exc:  # a name that is both a module and a constant, etc.: must be BadInput
            assert type(exc).__name__ == "BadInput", exc
            return
        first = generator.render(loaded)
        assert generator.render(manifest.load(path)) == first
        for rel, data in first.items():
            if rel.endswith(".py"):
                tree = ast.parse(data.decode())
                declared = (
                    rel.removeprefix("r/").removesuffix(".py").removesuffix("/__init__").replace("/", ".") in modules
                )
                assert not declared or ast.get_docstring(tree, clean=False) == doc
        generator.write(loaded, Path(tmp) / "root")
        from ci_helper.gates.stubs import gate

        result, _ = gate.evaluate(loaded, Path(tmp) / "root", environ={})
        assert result.status == "pass", [f.message for f in result.findings]
        assert {rel.split("/")[1].removesuffix(".py") for rel in first if rel.startswith("r/")} == tops
