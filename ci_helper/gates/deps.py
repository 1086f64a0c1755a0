"""`deps verify`: pinned requirements files match an installed environment.

Requirements files are read the way pip reads them (line continuations,
comments, ``-r``/``-c`` includes relative to the including file, per-line
``--hash`` options) and each requirement is parsed by ``packaging`` alone.
The target environment is inspected in a subprocess of its own interpreter
through ``importlib.metadata``, so any virtual environment can be checked
without importing anything into it or installing anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ci_helper import results
from ci_helper.errors import BadInput

CHECK = "deps"

# pip options that take a value in the next token when not written as --opt=value.
_INCLUDE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
}
_EDITABLE_OPTIONS = ("-e", "--editable")


@dataclass
class RequirementLine:
    """One logical line of a requirements file that names something to install."""

    kind: str  # "requirement", "constraint" or "editable"
    file: str
    line: int
    text: str
    requirement: Requirement | None = None
    hashes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        return canonicalize_name(self.requirement.name) if self.requirement else None

    @property
    def pinned(self) -> bool:
        """True for ``name==version`` (or ``===``) without a URL: auditable without resolving."""
        req = self.requirement
        if req is None or req.url:
            return False
        specs = list(req.specifier)
        return len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version


# --- reading requirements files ------------------------------------------


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations the way pip does; keep the first physical line number."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        is_comment = raw.lstrip().startswith("#")
        if raw.endswith("\\") and not is_comment:
            if not pending:
                start = number
            pending.append(raw[:-1])
            continue
        if pending:
            pending.append("" if is_comment else raw)
            out.append((start, "".join(pending)))
            pending = []
        else:
            out.append((number, raw))
    if pending:
        out.append((start, "".join(pending)))
    return out


def _strip_comment(line: str) -> str:
    # A '#' starts a comment at the line start or after whitespace; inside a
    # URL (``#egg=``, ``#sha256=``) it is a fragment and stays.
    for index, char in enumerate(line):
        if char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def _split_args_options(line: str) -> tuple[str, list[str]]:
    """pip's rule: the requirement runs up to the first token that starts with '-'."""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), [t for t in tokens[index:] if t]
    return line, []


def _option_value(tokens: list[str], names: tuple[str, ...] | set[str] | dict[str, str]) -> tuple[str, str] | None:
    """``(option, value)`` for ``-r x``, ``-rx``, ``--requirement x`` or ``--requirement=x``."""
    first = tokens[0]
    for name in names:
        if first == name:
            if len(tokens) < 2:
                return name, ""
            return name, " ".join(tokens[1:])
        if name.startswith("--") and first.startswith(name + "="):
            return name, " ".join([first[len(name) + 1 :], *tokens[1:]])
        if not name.startswith("--") and first.startswith(name) and len(first) > len(name):
            return name, " ".join([first[len(name) :], *tokens[1:]])
    return None


def read_requirements(paths: list[str] | tuple[str, ...]) -> list[RequirementLine]:
    """Every requirement of ``paths`` and their includes, each file read once.

    A file included from two places (``-r common.txt`` in two files, or a
    file named twice) contributes its lines once, so nothing is counted twice.
    """
    seen: set[tuple[Path, str]] = set()
    return [line for path in paths for line in parse_requirements(path, _seen=seen)]


def parse_requirements(
    path: str | Path,
    kind: str = "requirement",
    _stack: tuple[Path, ...] = (),
    _seen: set[tuple[Path, str]] | None = None,
) -> list[RequirementLine]:
    """Every requirement in ``path`` and the files it includes, in file order.

    Raises :class:`BadInput` for a missing file, an include cycle or a line
    ``packaging`` cannot parse, naming the file and line.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"requirements file not found: {file}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read requirements file {file}: {exc}") from None
    resolved = file.resolve()
    if resolved in _stack:
        chain = " -> ".join(str(p) for p in (*_stack, resolved))
        raise BadInput(f"requirements include cycle: {chain}; remove one of the -r/-c lines")
    stack = (*_stack, resolved)
    if _seen is not None:
        if (resolved, kind) in _seen:
            return []
        _seen.add((resolved, kind))

    lines: list[RequirementLine] = []
    for number, logical in _logical_lines(text):
        content = _strip_comment(logical).strip()
        if not content:
            continue
        where = f"{file}:{number}"
        if content.startswith("-"):
            tokens = content.split()
            include = _option_value(tokens, _INCLUDE_OPTIONS)
            if include is not None:
                option, value = include
                if not value:
                    raise BadInput(f"{where}: '{option}' needs a file name")
                if "://" in value:
                    raise BadInput(
                        f"{where}: remote include '{value}' is not supported; vendor the file and include it by path"
                    )
                # An include inside a constraints file is itself a constraints file.
                include_kind = "constraint" if kind == "constraint" else _INCLUDE_OPTIONS[option]
                lines.extend(parse_requirements(file.parent / value, include_kind, stack, _seen))
                continue
            editable = _option_value(tokens, _EDITABLE_OPTIONS)
            if editable is not None:
                if not editable[1]:
                    raise BadInput(f"{where}: '{editable[0]}' needs a path or URL")
                lines.append(RequirementLine("editable", str(file), number, editable[1]))
            # Any other option (--index-url, --find-links, --pre, ...) shapes
            # how pip installs, not what must be installed: nothing to verify.
            continue
        requirement_text, options = _split_args_options(content)
        hashes = _hashes(options)
        try:
            requirement = Requirement(requirement_text.strip())
        except InvalidRequirement as exc:
            raise BadInput(
                f"{where}: invalid requirement '{requirement_text.strip()}' ({exc}); "
                "write 'name==version' or 'name @ url'"
            ) from None
        lines.append(RequirementLine(kind, str(file), number, requirement_text.strip(), requirement, hashes))
    return lines


def _hashes(options: list[str]) -> list[str]:
    hashes = []
    for index, token in enumerate(options):
        if token.startswith("--hash="):
            hashes.append(token[len("--hash=") :])
        elif token == "--hash" and index + 1 < len(options):
            hashes.append(options[index + 1])
    return hashes


# --- the target environment ----------------------------------------------


@dataclass
class Installed:
    name: str
    version: str
    direct_url: dict[str, Any] | None = None


@dataclass
class Environment:
    """What one interpreter sees: its marker values and installed distributions."""

    python: str
    markers: dict[str, str]
    distributions: dict[str, Installed]

    def get(self, name: str) -> Installed | None:
        return self.distributions.get(canonicalize_name(name))


# Runs inside the target interpreter, which may lack `packaging`: the marker
# environment is computed the way PEP 508 defines it, with the stdlib only.
_INSPECT = r"""
import json, os, platform, sys
from importlib import metadata

def fmt(info):
    version = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version

# The working directory is not part of the installed environment.
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]
markers = {
    "implementation_name": sys.implementation.name,
    "implementation_version": fmt(sys.implementation.version),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
dists = []
for dist in metadata.distributions():
    name = dist.metadata["Name"]
    if not name:
        continue
    try:
        direct_url = dist.read_text("direct_url.json")
    except Exception:
        direct_url = None
    dists.append({"name": name, "version": dist.version, "direct_url": direct_url})
print(json.dumps({"python": sys.executable, "markers": markers, "distributions": dists}))
"""


def inspect_environment(python: str | None = None) -> Environment:
    """The environment of ``python`` (default: the running interpreter), read in a subprocess."""
    executable = python or sys.executable
    try:
        proc = subprocess.run([executable, "-c", _INSPECT], capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise BadInput(
            f"--python {executable}: no such interpreter; pass the path of the environment's python"
        ) from None
    except PermissionError:
        raise BadInput(f"--python {executable}: not executable; pass the path of the environment's python") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise BadInput(f"--python {executable}: cannot inspect the environment ({last})")
    try:
        raw = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise BadInput(
            f"--python {executable}: printed no environment report (not a Python 3 interpreter?); "
            "pass the path of the environment's python"
        ) from None
    distributions: dict[str, Installed] = {}
    for dist in raw["distributions"]:
        key = canonicalize_name(dist["name"])
        if key in distributions:
            continue  # the first on sys.path is the one that imports
        direct_url = None
        if dist["direct_url"]:
            try:
                direct_url = json.loads(dist["direct_url"])
            except (ValueError, RecursionError):  # malformed, or hostile: nested too deeply, huge integers
                direct_url = None
        distributions[key] = Installed(dist["name"], dist["version"], direct_url)
    return Environment(raw["python"], raw["markers"], distributions)


def environment_from_snapshot(path: str | Path, markers_from: str | None = None) -> Environment:
    """An environment described by a ``pip freeze``-style snapshot (``--snapshot-out`` writes one).

    Lets a job compare requirements with what another job installed, and the
    canary check its fixtures without building an environment. Markers are
    evaluated for ``markers_from`` (default: the running interpreter).
    """
    live = inspect_environment(markers_from) if markers_from else None
    distributions: dict[str, Installed] = {}
    for line in parse_requirements(path):
        req = line.requirement
        if req is None:
            raise BadInput(
                f"{line.file}:{line.line}: a snapshot lists installed distributions; '-e' lines are not supported"
            )
        version = next((s.version for s in req.specifier if s.operator in ("==", "===")), "")
        direct_url: dict[str, Any] | None = None
        if req.url:
            direct_url = {"url": req.url}
            parts = urlsplit(req.url)
            vcs, plus, scheme = parts.scheme.partition("+")
            if plus and "@" in parts.path:
                path_part, commit = parts.path.rsplit("@", 1)
                direct_url = {
                    "url": urlunsplit((scheme, parts.netloc, path_part, parts.query, "")),
                    "vcs_info": {"vcs": vcs, "commit_id": commit},
                }
        elif not version:
            raise BadInput(f"{line.file}:{line.line}: snapshot lines must be 'name==version' or 'name @ url'")
        distributions.setdefault(canonicalize_name(req.name), Installed(req.name, version, direct_url))
    if live is not None:
        return Environment(f"{path} (markers: {live.python})", live.markers, distributions)
    from packaging.markers import default_environment

    return Environment(f"{path} (markers: {sys.executable})", dict(default_environment()), distributions)  # type: ignore[arg-type]  # a TypedDict of str values


# --- verification ---------------------------------------------------------


def _applies(line: RequirementLine, env: Environment) -> bool:
    marker: Marker | None = line.requirement.marker if line.requirement else None
    if marker is None:
        return True
    return marker.evaluate({**env.markers, "extra": ""})


def _strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))


def direct_url_matches(expected: str, recorded: dict[str, Any]) -> bool:
    """Does the ``name @ expected`` URL describe what ``direct_url.json`` recorded (PEP 610)?"""
    recorded_url = recorded.get("url", "")
    vcs_info = recorded.get("vcs_info")
    if vcs_info:
        parts = urlsplit(expected)
        vcs, _, scheme = parts.scheme.partition("+")
        if not scheme or vcs != vcs_info.get("vcs"):
            return False
        path, revision = parts.path, None
        if "@" in path:
            path, revision = path.rsplit("@", 1)
        url = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
        if _strip_fragment(url) != _strip_fragment(recorded_url):
            return False
        if revision is None:
            return True
        commit = vcs_info.get("commit_id", "")
        return revision in (vcs_info.get("requested_revision"), commit) or (
            len(revision) >= 7 and commit.startswith(revision)
        )
    return _strip_fragment(expected) == _strip_fragment(recorded_url)


def _expected(line: RequirementLine) -> str:
    req = line.requirement
    assert req is not None
    if req.url:
        return f"@ {req.url}"
    spec = str(req.specifier)
    return spec or "any version"


def verify(lines: list[RequirementLine], env: Environment, sources: list[str]) -> results.CheckResult:
    """Compare every requirement line with ``env``; a ``deps`` check result."""
    findings: list[results.Finding] = []
    counts = {
        "requirements": 0,
        "matched": 0,
        "mismatched": 0,
        "missing": 0,
        "not_applicable": 0,
        "constraints": 0,
        "unverified": 0,
    }

    for line in lines:
        if line.kind == "editable":
            counts["unverified"] += 1
            findings.append(
                results.Finding(
                    "deps-editable",
                    f"-e {line.text}: editable requirement not verified (no pinned version to compare)",
                    line.file,
                    line.line,
                    severity="note",
                )
            )
            continue
        req = line.requirement
        assert req is not None
        constraint = line.kind == "constraint"
        counts["constraints" if constraint else "requirements"] += 1
        if not _applies(line, env):
            counts["not_applicable"] += 1
            continue
        installed = env.get(req.name)
        expected = _expected(line) + (" (constraint)" if constraint else "")
        data = {"package": req.name, "expected": _expected(line)}
        if installed is None:
            if constraint:
                continue  # a constraint limits versions; it does not require an install
            counts["missing"] += 1
            findings.append(
                results.Finding(
                    "deps-missing",
                    f"{req.name}: expected {expected}, found not installed",
                    line.file,
                    line.line,
                    data={**data, "found": None},
                )
            )
            continue
        data["found"] = installed.version
        if req.url:
            recorded = installed.direct_url
            if recorded is None:
                # No direct_url.json (PEP 610): installers write one for every URL install, so this
                # distribution came from a package index. Same name, other source: other code.
                counts["mismatched"] += 1
                findings.append(
                    results.Finding(
                        "deps-direct-url-mismatch",
                        f"{req.name}: expected {expected}, found {installed.version} installed from a package index "
                        f"(no direct_url.json); reinstall it from the URL: pip install '{req.name} @ {req.url}'",
                        line.file,
                        line.line,
                        data={**data, "source": "index"},
                    )
                )
            elif direct_url_matches(req.url, recorded):
                counts["matched"] += 1
            else:
                counts["mismatched"] += 1
                found = recorded.get("url", "")
                commit = (recorded.get("vcs_info") or {}).get("commit_id")
                if commit:
                    found = f"{found}@{commit}"
                findings.append(
                    results.Finding(
                        "deps-direct-url-mismatch",
                        f"{req.name}: expected {expected}, found @ {found}",
                        line.file,
                        line.line,
                        data={**data, "found": found},
                    )
                )
            continue
        if req.specifier and not req.specifier.contains(installed.version, prereleases=True):
            counts["mismatched"] += 1
            findings.append(
                results.Finding(
                    "deps-mismatch",
                    f"{req.name}: expected {expected}, found {installed.version}",
                    line.file,
                    line.line,
                    data=data,
                )
            )
        else:
            counts["matched"] += 1

    figures = {**counts, "installed": len(env.distributions), "python": env.python, "files": sources}
    if counts["requirements"] == 0 and counts["unverified"] == 0:
        # Verifying nothing is not a pass: the file is empty or holds only constraints.
        return results.not_run(CHECK, f"no requirements to verify in {', '.join(sources)}", figures, findings)
    if not (counts["matched"] or counts["mismatched"] or counts["missing"]):
        # Only editables or lines whose markers exclude this environment: nothing was compared.
        return results.not_run(
            CHECK,
            f"no requirement in {', '.join(sources)} was compared with the environment "
            "(editable, or not for this environment by markers)",
            figures,
            findings,
        )
    if counts["missing"] or counts["mismatched"]:
        return results.failed(CHECK, figures, findings)
    return results.passed(CHECK, figures, findings)


def snapshot(env: Environment) -> str:
    """A ``pip freeze --all``-style listing of ``env``: one line per distribution, sorted by name.

    ``name==version``, or ``name @ url`` for a distribution installed from a
    direct URL (PEP 610), editable ones included.
    """
    out = []
    for key in sorted(env.distributions):
        dist = env.distributions[key]
        recorded = dist.direct_url
        if recorded and recorded.get("url"):
            url = recorded["url"]
            vcs_info = recorded.get("vcs_info")
            if vcs_info:
                url = f"{vcs_info.get('vcs')}+{url}@{vcs_info.get('commit_id')}"
            # An editable install is written as a direct reference (not pip
            # freeze's "-e url", which names no package) so the snapshot can
            # be read back with --installed-from.
            editable = "  # editable" if (recorded.get("dir_info") or {}).get("editable") else ""
            out.append(f"{dist.name} @ {url}{editable}")
        else:
            out.append(f"{dist.name}=={dist.version}")
    return "\n".join(out) + ("\n" if out else "")
