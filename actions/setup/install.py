"""Install the ci-helper CLI of this action's own commit for later steps of the job.

Run by ``actions/setup/action.yml`` with the action's folder in
``CI_HELPER_ACTION_PATH``; the repository root (the source to install) is two
levels up. Three outcomes, cheapest first:

1. the dedicated virtualenv under ``$RUNNER_TEMP`` already holds this source
   with the extras (an earlier action of ours in the same job): reuse it;
2. a ``ci-helper`` on PATH already imports this very source (an editable
   install of this checkout, as in local runs and our own tests) and has the
   requested extras: nothing to do;
3. otherwise create that virtualenv and ``pip install <root>[extras]`` into
   it. pip talks only to the configured package index; nothing else is fetched.

The virtualenv keeps ci-helper and its dependencies out of the user's own
environment (installing pip-audit into an audited environment upgrades shared
packages). Only a folder holding a ``ci-helper`` launcher goes to
``$GITHUB_PATH``, never its ``bin``: that also holds ``python``, ``pip``,
``pytest``..., which would shadow the project's own in the later steps.

Isolation (docs/security.md): the job's working folder is a checkout of the
code being judged, and its environment may carry ``PYTHONPATH`` or ``.pth``
files of the project. So this script runs as ``python -I -S`` (no current
folder, no ``PYTHON*`` variables, no site-packages: nothing of the project's
environment runs, not even a ``.pth`` line); every process it starts runs with
``-I`` from an empty folder with the ``PYTHON*`` variables removed; pip is the
virtualenv's own (seeded by ``venv``/``ensurepip``), never the project
interpreter's; and the launcher on PATH runs the virtualenv's python with ``-I``.

Before anything else it records the run's start (``ci_helper.run_start``), once
per job: gates refuse coverage data and JUnit files written before it.

With ``CI_HELPER_PROJECT_PYTHON`` (the ``project-python`` input), ci-helper from
the same source is also installed into that interpreter, for applications that
import ``ci_helper.fake``; a no-op when it already imports ci_helper from there.
It is installed with ``--no-deps``: the project's own pins (pytest 7.4, an old
click) are never upgraded under it (``ci_helper.fake`` needs only the standard
library; the stub-repos action also places a copy of it with the stubs).
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
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

MARKER = "ci-helper-install.json"
# Set by `ci-helper verify --run`: reuse the ci-helper on PATH (built from this source), never install.
REUSE_ONLY_ENV = "CI_HELPER_SETUP_REUSE_ONLY"
# Inside the virtualenv: the folder put on PATH, holding nothing but ci-helper.
SHIM_DIR = "ci-helper-path"
_EXTRA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# Run inside the candidate interpreter: where its ci_helper comes from, which
# extras its distribution declares, and which requested extras lack packages.
# Standard library only: the interpreter may hold nothing but ci-helper. The
# requirement lines are the ones setuptools writes for our own pyproject
# (``name[extras]>=x; extra == "audit"``), so a name and a marker are all we read.
_PROBE = r"""
import json, re, sys
from importlib import metadata
import ci_helper

dist = metadata.distribution("ci-helper")
provided = sorted(dist.metadata.get_all("Provides-Extra") or [])
missing = []

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

def check(extra, seen):
    if extra in seen:
        return
    seen.add(extra)
    for raw in dist.requires or []:
        spec, _, marker = raw.partition(";")
        if not re.search(r"extra\s*==\s*['\"]" + re.escape(extra) + r"['\"]", marker):
            continue
        found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", spec)
        name, inner = found.group(1), found.group(2) or ""
        if norm(name) == "ci-helper":
            for sub in inner.split(","):
                if sub.strip():
                    check(sub.strip(), seen)
            continue
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)

for extra in sys.argv[1:]:
    check(extra, set())
try:
    direct_url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
except ValueError:
    direct_url = ""
print(json.dumps({"file": ci_helper.__file__, "version": ci_helper.__version__,
                  "provided": provided, "missing": sorted(set(missing)), "direct_url": direct_url}))
"""


def isolated_env() -> dict[str, str]:
    """This process's environment without the ``PYTHON*`` variables (``PYTHONPATH``, ``PYTHONHOME``,
    ``PYTHONSTARTUP``...), which would put the project's files into the processes we start."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PYTHON")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


_NEUTRAL: list[str] = []


def neutral_dir() -> str:
    """An empty folder to start processes in: ``python -m`` puts its current folder first on sys.path."""
    if not _NEUTRAL:
        _NEUTRAL.append(tempfile.mkdtemp(prefix="ci-helper-setup-"))
    return _NEUTRAL[0]


class SetupError(Exception):
    """A problem the user must fix; printed as one ::error line, exit 2."""


def parse_extras(raw: str) -> list[str]:
    """``"audit, github"`` or one per line -> ``["audit", "github"]``, each name checked."""
    extras: list[str] = []
    for part in raw.replace(",", " ").split():
        if not _EXTRA.match(part):
            raise SetupError(f"extras: {part!r} is not an extra name (letters, digits, '.', '_', '-')")
        if part not in extras:
            extras.append(part)
    return sorted(extras)


def interpreter_of(script: Path) -> Path | None:
    """The Python that runs a console script: its shebang, else a ``python`` beside it."""
    try:
        with open(script, "rb") as handle:
            head = handle.read(512).decode("utf-8", "replace").splitlines()
    except OSError:
        head = []
    if head and head[0].startswith("#!"):
        parts = shlex.split(head[0][2:].strip()) or [""]
        name = os.path.basename(parts[0])
        if name == "env" and len(parts) > 1:
            found = shutil.which(parts[-1])
            if found:
                return Path(found)
        elif name.startswith("python"):
            return Path(parts[0])
        elif name == "sh" and len(head) > 1:
            # pip's wrapper for interpreter paths too long for a shebang:
            # '''exec' /long/path/python "$0" "$@"
            match = re.match(r"^'''exec' (.+?) \"\$0\" \"\$@\"", head[1])
            if match:
                return Path(shlex.split(match.group(1))[0])
    for sibling in ("python", "python3"):
        candidate = script.parent / sibling
        if candidate.exists():
            return candidate
    return None


def probe(python: Path, extras: list[str]) -> dict | None:
    """What ``python`` imports as ci_helper, or None when it cannot import it."""
    # -I: only the interpreter's own site-packages count, not the current folder
    # (a checkout of this repository would shadow the install) nor PYTHONPATH.
    proc = subprocess.run(
        [str(python), "-I", "-c", _PROBE, *extras],
        capture_output=True,
        text=True,
        cwd=neutral_dir(),
        env=isolated_env(),
    )
    if proc.returncode != 0:
        return None
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def source_root(info: dict) -> Path:
    """The folder that holds the imported ``ci_helper`` package."""
    return Path(info["file"]).resolve().parent.parent


def installed_from(info: dict) -> Path | None:
    """The local folder pip installed the probed ci-helper from (its ``direct_url.json``), else None."""
    url = urllib.parse.urlsplit(info.get("direct_url", ""))
    if url.scheme != "file":
        return None
    return Path(urllib.request.url2pathname(url.path)).resolve()


def check_extras(info: dict, extras: list[str]) -> None:
    unknown = [e for e in extras if e not in info["provided"]]
    if unknown:
        raise SetupError(
            f"extras: ci-helper has no extra {', '.join(unknown)}; known extras: {', '.join(info['provided'])}"
        )


def reuse_path_install(root: Path, extras: list[str], reuse_only: bool = False) -> tuple[Path, Path] | None:
    """(python, bin) of a ``ci-helper`` on PATH built from ``root`` with ``extras``, else None."""
    found = shutil.which("ci-helper")
    if not found:
        return None
    script = Path(found)
    python = interpreter_of(script)
    info = probe(python, extras) if python else None
    if info is None:
        print(f"ci-helper on PATH ({script}) is not importable by its interpreter: not reusing it")
        return None
    if source_root(info) != root:
        print(
            f"ci-helper on PATH ({script}) comes from {source_root(info)}, not from this action's "
            f"source {root}: not reusing it"
        )
        return None
    check_extras(info, extras)
    if info["missing"]:
        if reuse_only:
            # A local dry run runs the ci-helper it was started from; a gate needing a missing
            # extra reports itself not-run (never a pass) instead of this step fetching it.
            print(
                f"ci-helper on PATH ({script}) lacks {', '.join(info['missing'])} for the extras "
                f"{', '.join(extras)}: reusing it anyway ({REUSE_ONLY_ENV}); installing nothing"
            )
            return python, script.parent
        print(
            f"ci-helper on PATH ({script}) lacks {', '.join(info['missing'])} for the extras "
            f"{', '.join(extras)}: not reusing it"
        )
        return None
    return python, script.parent


def venv_dir(root: Path, runner_temp: str) -> Path:
    # One virtualenv per source folder: the runner keeps each commit of an
    # action in its own folder, so the path names the commit.
    key = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:16]
    return Path(runner_temp) / "ci-helper" / key


def venv_bin(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin")


def venv_python(venv: Path) -> Path:
    return venv_bin(venv) / ("python.exe" if os.name == "nt" else "python")


def shim_text(python: Path, script: Path) -> str:
    """The ``ci-helper`` launcher: the virtualenv's python, isolated (``-I``), runs the console script.

    A console script run directly would honour ``PYTHONPATH`` and import a
    ``sitecustomize`` from it; ``-I`` ignores every ``PYTHON*`` variable and
    keeps the current folder and the user's site-packages off ``sys.path``.
    """
    return (
        "#!/bin/sh\n# ci-helper, isolated from the checkout and its environment (docs/security.md)\n"
        f'exec {shlex.quote(str(python))} -I {shlex.quote(str(script))} "$@"\n'
    )


def make_shim(venv: Path) -> Path:
    """The folder for ``$GITHUB_PATH``: an isolated ``ci-helper`` launcher, nothing else."""
    name = "ci-helper.exe" if os.name == "nt" else "ci-helper"
    folder = venv / SHIM_DIR
    folder.mkdir(exist_ok=True)
    link, target = folder / name, venv_bin(venv) / name
    if link.is_symlink() or link.exists():
        link.unlink()
    if os.name == "nt":
        # pip's launcher carries its interpreter's absolute path, so a copy runs the same.
        shutil.copy2(target, link)
    else:
        link.write_text(shim_text(venv_python(venv), target), encoding="utf-8")
        link.chmod(0o755)
    return folder


def recorded_install(venv: Path) -> dict:
    """What an earlier setup step of this job installed into ``venv`` (empty when nothing)."""
    try:
        recorded = json.loads((venv / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def reuse_venv(root: Path, extras: list[str], runner_temp: str) -> tuple[Path, Path] | None:
    """(python, bin) of this job's virtualenv when it already holds ``root`` with ``extras``."""
    from ci_helper import __version__ as version  # the source being installed (on sys.path)

    venv = venv_dir(root, runner_temp)
    recorded = recorded_install(venv)
    if (
        recorded.get("source") == str(root)
        and recorded.get("version") == version
        and set(extras) <= set(recorded.get("extras", []))
        and venv_python(venv).exists()
    ):
        print(f"ci-helper {version} from {root} already installed in {venv}")
        return venv_python(venv), make_shim(venv)
    return None


def install(root: Path, extras: list[str], runner_temp: str, cache_dir: str | None) -> tuple[Path, Path]:
    """(python, bin) of the dedicated virtualenv after installing ``root[extras]`` into it."""
    from ci_helper import __version__ as version

    venv = venv_dir(root, runner_temp)
    recorded = recorded_install(venv)
    pip = pip_for(venv)
    # Keep what an earlier action of the job installed: its later steps may still need it.
    previous = recorded.get("extras", []) if recorded.get("source") == str(root) else []
    extras = sorted(set(extras) | set(previous))
    target = f"{root}[{','.join(extras)}]" if extras else str(root)
    command = [*pip, "install", "--disable-pip-version-check", "--progress-bar", "off"]
    if cache_dir:
        command += ["--cache-dir", cache_dir]
    run(command + [target])
    info = probe(venv_python(venv), extras)
    if info is None:
        raise SetupError(f"ci-helper was installed into {venv} but cannot be imported there")
    check_extras(info, extras)
    (venv / MARKER).write_text(
        json.dumps({"source": str(root), "version": version, "extras": extras}) + "\n", encoding="utf-8"
    )
    return venv_python(venv), make_shim(venv)


def install_into_project(
    root: Path, project_python: str, cache_dir: str | None, ci_python: Path, reuse_only: bool = False
) -> bool:
    """Install ``root`` into the project's interpreter unless it already imports ci_helper from there.

    True when something was installed. Only ci-helper's own dependencies come
    from the package index; ci-helper itself is this source, never a download.
    """
    from ci_helper import __version__ as version

    found = shutil.which(project_python)
    if not found:
        raise SetupError(
            f"project-python: {project_python!r} is not an interpreter on PATH; "
            "run actions/setup-python first or give the interpreter's path"
        )
    python = Path(found)
    info = probe(python, [])
    # Same source: imported straight from it (editable), or pip installed it from it (an earlier step).
    if info is not None and (
        source_root(info) == root or (installed_from(info) == root and info["version"] == version)
    ):
        print(f"{python} already imports ci_helper from {root}: nothing to install into it")
        return False
    if reuse_only:
        # A local dry run never installs, least of all into the user's own interpreter.
        print(
            f"{python} does not import ci_helper from {root}: not installing into it ({REUSE_ONLY_ENV}); "
            f"for fake inference run: {python} -m pip install -e {root}"
        )
        return False
    # ci-helper's own pip (isolated) targets the project's interpreter; the project's pip only when it cannot.
    outer = [str(ci_python), "-I", "-m", "pip"]
    pip = [*outer, "--python", str(python)] if pip_can_target(outer) else [str(python), "-I", "-m", "pip"]
    # --no-deps: never change a package the project pinned (ci_helper.fake needs none of ours).
    command = [*pip, "install", "--disable-pip-version-check", "--progress-bar", "off", "--no-deps"]
    if cache_dir:
        command += ["--cache-dir", cache_dir]
    run(command + [str(root)])
    info = probe(python, [])
    if info is None or installed_from(info) != root:
        raise SetupError(f"ci-helper was installed into {python} but it does not import it from {root}")
    return True


def pip_for(venv: Path) -> list[str]:
    """Create the virtualenv if needed; return the pip command that installs into it.

    The virtualenv's own pip (``venv`` seeds it with ``ensurepip``, from the
    standard library): the interpreter that made it may be the project's, whose
    site-packages (and ``.pth`` files) must not run while ci-helper is installed.
    """
    inner = [str(venv_python(venv)), "-I", "-m", "pip"]
    if not venv_python(venv).exists():
        run([sys.executable, "-I", "-S", "-m", "venv", str(venv)])
    elif (
        subprocess.run([*inner, "--version"], capture_output=True, cwd=neutral_dir(), env=isolated_env()).returncode
        != 0
    ):
        # Made without pip by an earlier version of this step.
        run([str(venv_python(venv)), "-I", "-m", "ensurepip", "--default-pip"])
    return inner


def pip_can_target(pip: list[str]) -> bool:
    proc = subprocess.run([*pip, "--version"], capture_output=True, text=True, cwd=neutral_dir(), env=isolated_env())
    match = re.match(r"pip (\d+)\.(\d+)", proc.stdout) if proc.returncode == 0 else None
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (22, 3)


def run(command: list[str]) -> None:
    print("+ " + " ".join(shlex.quote(c) for c in command), flush=True)
    proc = subprocess.run(command, cwd=neutral_dir(), env=isolated_env())
    if proc.returncode != 0:
        raise SetupError(f"{' '.join(command[:4])} ... exited with {proc.returncode}; see the log above")


def mark_run_start() -> None:
    """Record the run's start once per job (the first setup step wins; see ci_helper.run_start)."""
    from ci_helper import run_start

    try:
        started = run_start.mark()
    except run_start.MarkerError as exc:
        raise SetupError(str(exc)) from None
    except OSError as exc:
        raise SetupError(f"{run_start.marker_path()}: cannot write the run's start marker ({exc})") from None
    print(
        f"run started {run_start.iso(started)} (marker {run_start.marker_path()}): "
        "gates refuse inputs written before it",
        file=sys.stderr,
    )


def main() -> int:
    action_path = os.environ.get("CI_HELPER_ACTION_PATH", "")
    if not action_path:
        print(
            "::error title=ci-helper setup::CI_HELPER_ACTION_PATH is not set; "
            "run this through actions/setup/action.yml (it passes github.action_path)"
        )
        return 2
    root = Path(action_path).resolve().parent.parent
    # GitHub Actions I/O goes through ci_helper.gha, read from the source being installed.
    sys.path.insert(0, str(root))
    from ci_helper import gha

    try:
        if sys.version_info < (3, 10):  # noqa: UP036 - any python3 on PATH runs this, to say it is too old
            raise SetupError(
                f"ci-helper needs Python >= 3.10, {sys.executable} is "
                f"{sys.version.split()[0]}; run actions/setup-python first or set the python input"
            )
        mark_run_start()
        extras = parse_extras(os.environ.get("CI_HELPER_EXTRAS", ""))
        runner_temp = os.environ.get("RUNNER_TEMP", "")
        reuse_only = os.environ.get(REUSE_ONLY_ENV, "").lower() == "true"
        # Cheapest first: this job's virtualenv (a file read), then a ci-helper
        # already on PATH (one probe of its interpreter), then a fresh install.
        installed = False
        reused = reuse_venv(root, extras, runner_temp) if runner_temp else None
        if reused is not None:
            python, bin_dir = reused
            gha.add_path(bin_dir)
        elif (on_path := reuse_path_install(root, extras, reuse_only)) is not None:
            python, bin_dir = on_path
            print(f"ci-helper from this source is already on PATH ({bin_dir}): nothing to install")
        elif reuse_only:
            raise SetupError(
                f"{REUSE_ONLY_ENV} is set (a local dry run) but no ci-helper built from {root} "
                "is on PATH; install this checkout: python3 -m pip install -e ."
            )
        else:
            if not runner_temp:
                raise SetupError("RUNNER_TEMP is not set; the virtualenv for ci-helper lives there")
            cache_dir = os.environ.get("CI_HELPER_PIP_CACHE_DIR") or None
            python, bin_dir = install(root, extras, runner_temp, cache_dir)
            installed = True
            gha.add_path(bin_dir)
        project_python = os.environ.get("CI_HELPER_PROJECT_PYTHON", "").strip()
        if project_python:
            install_into_project(
                root, project_python, os.environ.get("CI_HELPER_PIP_CACHE_DIR") or None, python, reuse_only
            )
    except SetupError as exc:
        gha.emit_annotation("error", str(exc), title="ci-helper setup")
        return 2
    gha.set_output("python", str(python))
    gha.set_output("bin", str(bin_dir))
    gha.set_output("installed", "true" if installed else "false")
    return 0


if __name__ == "__main__":
    sys.exit(main())
