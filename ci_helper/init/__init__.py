"""``ci-helper init``: a project's workflows and ``[tool.ci-helper]`` block, pinned, from template files.

:func:`plan` reads the project (its settings, its imports, its git remote) and
renders every file it would write; :func:`write` writes them. Nothing is
overwritten unless ``force``; the pyproject block is appended to the text only
when the file has no ``[tool.ci-helper]`` table, so every other byte stays.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from ci_helper import pin_self, release, settings as settings_module
from ci_helper.errors import BadInput
from ci_helper.init import detect

TEMPLATES = Path(__file__).parent / "templates"
# The third-party actions the templates use, pinned to the commits ci-helper's examples use.
THIRD_PARTY = {
    "actions/checkout": ("11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "actions/setup-python": ("0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
}
DEFAULT_INSTALL = "python -m pip install -e . pytest coverage"
DEFAULT_SMOKE_INSTALL = "python -m pip install -e . pytest"
# A project's own list of its test tools, when it keeps one: installed instead of the default.
REQUIREMENTS_FILES = ("requirements-dev.txt", "requirements-test.txt", "requirements/dev.txt", "requirements/test.txt")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_GITHUB_REMOTE = re.compile(r"github\.com[:/]([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class Options:
    force: bool = False
    shards: int = 0  # 0 or 1: one quality job; N >= 2: the reusable sharded workflow
    repository: str | None = None  # owner/name (default: settings, then the git remote)
    python_version: str = "3.12"
    install: str | None = None  # default: a requirements file of test tools, else DEFAULT_INSTALL
    self_ref: str | None = None  # the commit of ours to pin (default: tag v<version>, else HEAD)
    repo_dir: str | None = None  # ci-helper's git repository (default: the checkout it runs from)


@dataclass
class Output:
    path: Path
    rel: str
    data: bytes
    action: str  # "wrote", "overwrote" or "appended ... to"
    what: str = ""


@dataclass
class Plan:
    outputs: list[Output]
    notes: list[str] = field(default_factory=list)
    sha: str = ""
    tag: str = ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        # GitHub's ${{ }} stays literal: our own markers are [[ ]] and [% %].
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        keep_trailing_newline=True,
    )
    # A JSON string is a YAML double-quoted scalar and a TOML basic string: no value can break out.
    env.filters["yaml"] = lambda value: json.dumps(value if isinstance(value, str) else ", ".join(value))
    env.filters["toml"] = lambda value: json.dumps(value)
    return env


def _repository(project: Path, config: settings_module.Settings, given: str | None) -> str:
    for candidate, source in ((given, "--repository"), (config.repository, "[tool.ci-helper] repository")):
        if candidate:
            if not _REPOSITORY.fullmatch(candidate):
                raise BadInput(f"{source}: {candidate!r} is not owner/name; pass --repository my-org/my-app")
            return candidate
    if config.guard.repositories:
        return config.guard.repositories[0]
    try:
        proc = subprocess.run(
            ["git", "-C", str(project), "remote", "get-url", "origin"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    match = _GITHUB_REMOTE.search(proc.stdout.strip()) if proc is not None and proc.returncode == 0 else None
    if match:
        return match.group(1)
    raise BadInput(
        f"{project}: cannot tell the GitHub repository (no [tool.ci-helper] repository, no github.com "
        "origin remote); pass --repository my-org/my-app"
    )


def _self_pin(options: Options) -> tuple[str, str]:
    """The commit of ours to pin and its version comment."""
    if (
        options.self_ref
        and re.fullmatch(r"[0-9a-f]{40}", options.self_ref)
        and options.repo_dir is None
        and release.self_repository(required=False) is None
    ):
        # A full SHA needs no repository (ci-helper installed from a wheel).
        return options.self_ref, f"v{release.current_version()}"
    repo = release.self_repository(options.repo_dir)
    ref = options.self_ref
    if ref is None:
        tag = f"v{release.current_version()}"
        try:
            release.resolve(repo, tag, "--self-ref")
            ref = tag
        except BadInput:
            ref = "HEAD"
    sha = release.resolve(repo, ref, "--self-ref")
    return sha, pin_self.tag_for(repo, ref, sha)


def _has_tool_table(pyproject: Path) -> bool:
    tomllib = settings_module.toml_parser(pyproject)
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{pyproject}: malformed TOML ({exc}); fix the file") from None
    tool = data.get("tool")
    return isinstance(tool, dict) and "ci-helper" in tool


def plan(project: Path, options: Options) -> Plan:
    """Every file init would write for ``project``, rendered and checked; nothing is written."""
    if not project.is_dir():
        raise BadInput(f"{project}: no such folder; pass the project folder (default: .)")
    pyproject = project / "pyproject.toml"
    if not pyproject.is_file():
        raise BadInput(
            f"{pyproject}: not found; init scaffolds a Python project with a pyproject.toml "
            "(create one, then run ci-helper init again)"
        )
    if options.shards < 0:
        raise BadInput(f"--shards {options.shards}: expected a whole number from 1")
    config = settings_module.load(project)
    repository = _repository(project, config, options.repository)
    base_branch = config.default_branch or "main"
    sha, tag = _self_pin(options)
    result = Plan(outputs=[], sha=sha, tag=tag)

    manifest = config.stubs.manifest or ("stubs.yml" if (project / "stubs.yml").is_file() else None)
    heavy = detect.heavy_imports(project, manifest)
    if heavy and not manifest:
        result.notes.append(
            f"heavy imports found ({', '.join(heavy)}) but no stub manifest: declare them "
            "(docs/stubs.md), set [tool.ci-helper.stubs] manifest, then run ci-helper init --force"
        )
    stubs = manifest if heavy and manifest else None
    if manifest and not heavy:
        result.notes.append(
            f"{manifest}: no import of a stubbed or heavy module found; the workflows do not create the stubs"
        )
    guard = config.guard
    install, smoke_install = options.install, options.install
    if install is None:
        found = next((name for name in REQUIREMENTS_FILES if (project / name).is_file()), None)
        install = f"python -m pip install -r {found}" if found else DEFAULT_INSTALL
        smoke_install = install if found else DEFAULT_SMOKE_INSTALL
    values = {
        "branches": f"[{base_branch}]" if re.fullmatch(r"[\w./*-]+", base_branch) else json.dumps([base_branch]),
        "repositories": guard.repositories or [repository],
        "base_branches": guard.base_branches or [base_branch],
        "events": guard.events,
        "forks": guard.forks if guard.forks != "allow" else "",
        "python_version": options.python_version,
        "install": install,
        "smoke_install": smoke_install,
        "manifest": stubs,
        "heavy": ", ".join(heavy),
        "shards": options.shards if options.shards >= 2 else 0,
    }
    env = _environment()
    env.globals["ours"] = lambda path: f"{release.OUR_REPOSITORY}/{path}@{sha} # {tag}"
    env.globals["third"] = lambda name: f"{name}@{THIRD_PARTY[name][0]} # {THIRD_PARTY[name][1]}"
    workflows = [
        ("quality.yml", "quality" + (f", {values['shards']} shards and one verdict" if values["shards"] else ""))
    ]
    if config.smoke.server:
        workflows.append(("smoke.yml", "smoke"))
    else:
        result.notes.append("no [tool.ci-helper.smoke] server declared: no smoke workflow (docs/smoke.md)")
    for name, what in workflows:
        text = env.get_template(f"{name}.j2").render(**values)
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:  # a template bug, never the user's input (values are quoted)
            raise BadInput(f"init: the {name} template rendered invalid YAML ({exc}); report this bug") from None
        rel = f".github/workflows/{name}"
        result.outputs.append(Output(project / rel, rel, text.encode("utf-8"), "wrote", what))
    if not _has_tool_table(pyproject):
        block = env.get_template("pyproject.toml.j2").render(repository=repository, base_branch=base_branch)
        data = pyproject.read_bytes()
        newline = b"\r\n" if b"\r\n" in data else b"\n"
        if data and not data.endswith((b"\n", b"\r")):
            data += newline
        addition = block.encode("utf-8").replace(b"\n", newline)
        result.outputs.append(Output(pyproject, "pyproject.toml", data + addition, "appended [tool.ci-helper] to"))
    clashes = [o.rel for o in result.outputs if o.action == "wrote" and o.path.exists()]
    if clashes and not options.force:
        raise BadInput(f"{', '.join(clashes)} already exist; nothing was written (pass --force to overwrite them)")
    for output in result.outputs:
        if output.action == "wrote" and output.path.exists():
            output.action = "overwrote"
    return result


def write(the_plan: Plan) -> None:
    """Write every output, each in one step (a temporary file, then a rename)."""
    for output in the_plan.outputs:
        output.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.path.with_name(f".{output.path.name}.ci-helper-init.tmp")
        tmp.write_bytes(output.data)
        if output.path.exists():
            os.chmod(tmp, output.path.stat().st_mode & 0o7777)
        os.replace(tmp, output.path)
