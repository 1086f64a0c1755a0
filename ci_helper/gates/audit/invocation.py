"""Run the real pip-audit as a subprocess and read its JSON report.

pip-audit runs from ci-helper's own interpreter (``sys.executable -m
pip_audit``) so that auditing never installs anything into the audited
environment (installing pip-audit there upgrades shared packages). What is
audited is chosen explicitly:

- ``--path SITE_PACKAGES``: the distributions installed there (pip-audit asks
  ``pip list --path``);
- ``-r REQ``: requirements files. When every requirement, after following
  ``-r`` includes, is pinned with ``==``, ci-helper flattens the files into one
  (pip-audit's ``--disable-pip`` parser does not follow ``-r`` includes) and
  runs ``--no-deps --disable-pip``: no resolver, no package index, no network
  except the vulnerability service. Otherwise pip-audit resolves the files
  with pip in a temporary virtual environment, which downloads from the index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput
from ci_helper.gates import deps
from ci_helper.gates.audit import scope
from ci_helper.gates.audit.report import AuditReport

SERVICES = ("osv", "pypi")
# pip-audit gained --osv-url in 2.10.0.
OSV_URL_MIN_VERSION = (2, 10)

# Exceptions and messages by which pip-audit says the vulnerability service
# could not be used (as opposed to a bad input or a resolver failure).
_SERVICE_MARKERS = (
    "requests.exceptions.",
    "urllib3.exceptions.",
    "pip_audit._service.interface.ServiceError",
    "pip_audit._service.interface.ConnectionError",
    "vulnerability feed",
    "Tip: your network may be blocking this service",
)


class ServiceUnavailable(Exception):
    """The vulnerability service was unreachable or failing; ``str()`` is pip-audit's reason."""


class PipAuditMissing(ServiceUnavailable):
    """pip-audit is not installed beside ci-helper: like an unreachable service, the audit cannot run here."""


class PipAuditFailed(Exception):
    """pip-audit stopped for another reason (bad requirements, resolver failure...)."""


@dataclass
class AuditRequest:
    requirements: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    service: str = "osv"
    osv_url: str | None = None
    timeout: int = 15


@dataclass
class AuditRun:
    report: AuditReport
    # "environment" (--path), "pinned" (-r, no resolver) or "resolved" (-r through pip).
    mode: str
    raw_json: str
    command: list[str]
    # What pip-audit was asked to audit; the gate holds the report against it.
    asked: scope.Scope | None = None


def _pip_audit_version() -> tuple[int, ...]:
    from importlib import metadata

    try:
        version = metadata.version("pip-audit")
    except metadata.PackageNotFoundError:
        # Not bad input: the command line is fine, this machine cannot audit (not-run, never a pass).
        raise PipAuditMissing(
            f"pip-audit is not installed for {sys.executable}; install ci-helper with its audit extra: "
            "pip install 'ci-helper[audit]'"
        ) from None
    numbers = []
    for part in version.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        numbers.append(int(digits or 0))
    return tuple(numbers)


def validate(request: AuditRequest) -> None:
    """Bad input before anything runs: exit 2 with what to fix."""
    if request.service not in SERVICES:
        raise BadInput(f"--vulnerability-service '{request.service}' is not one of: {', '.join(SERVICES)}")
    if request.requirements and request.paths:
        raise BadInput("pass either -r REQ or --path SITE_PACKAGES, not both (pip-audit audits one source per run)")
    if not request.requirements and not request.paths:
        raise BadInput(
            "nothing to audit: pass -r REQUIREMENTS or --path SITE_PACKAGES (or --python PATH), "
            "or set [tool.ci-helper.audit] requirements"
        )
    for path in request.paths:
        if not Path(path).is_dir():
            raise BadInput(f"--path {path}: no such folder; pass the environment's site-packages folder")
    if request.osv_url is not None:
        if request.service != "osv":
            raise BadInput("--osv-url only applies to --vulnerability-service osv")
        if not request.osv_url.startswith(("http://", "https://")):
            raise BadInput(f"--osv-url '{request.osv_url}' is not an http(s) URL")
    version = _pip_audit_version()
    if request.osv_url is not None and version < OSV_URL_MIN_VERSION:
        raise BadInput(
            f"--osv-url needs pip-audit >= 2.10 (installed: {'.'.join(map(str, version))}); "
            "upgrade ci-helper's audit extra"
        )


def site_packages(python: str) -> list[str]:
    """The purelib/platlib folders of another interpreter, for ``--path``."""
    code = "import json, sysconfig; p = sysconfig.get_paths(); print(json.dumps([p['purelib'], p['platlib']]))"
    try:
        # -I: the project's working folder and PYTHONPATH cannot answer for its interpreter.
        proc = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise BadInput(
            f"--python {python}: cannot run it ({exc.strerror or exc}); pass the environment's python"
        ) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}, no output"])[-1]
        raise BadInput(f"--python {python}: cannot read its site-packages ({last})")
    try:
        listed = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise BadInput(
            f"--python {python}: printed no site-packages list (not a Python 3 interpreter?); "
            "pass the environment's python"
        ) from None
    folders = []
    for folder in listed:
        if folder not in folders and Path(folder).is_dir():
            folders.append(folder)
    return folders


def _flatten(requirements: list[str]) -> tuple[str, bool]:
    """One requirements text with every include resolved; True when all are pinned with ``==``."""
    lines = deps.read_requirements(requirements)
    wanted = [line for line in lines if line.kind != "constraint"]
    pinned = all(line.kind == "requirement" and line.pinned for line in wanted)
    text = "".join(" ".join([str(line.requirement), *(f"--hash={h}" for h in line.hashes)]) + "\n" for line in wanted)
    return text, pinned


def _reason(stderr: str, service_failure: bool) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if service_failure:
        # The requests/urllib3 exception line says what went wrong (status,
        # refused, timeout); pip-audit's own ServiceError carries no message.
        for line in reversed(lines):
            if line.startswith(("requests.exceptions.", "urllib3.exceptions.")):
                return line
    for line in reversed(lines):
        if line.startswith("ERROR:"):
            return line.split(":", 2)[-1].strip()
    return lines[-1] if lines else "no output"


def run(request: AuditRequest) -> AuditRun:
    """Run pip-audit once; raises :class:`ServiceUnavailable` or :class:`PipAuditFailed`."""
    validate(request)
    # -I, from an empty folder, without PYTHON* variables: a pip_audit.py, pip.py or sitecustomize.py of the
    # checkout (the current folder) or of PYTHONPATH cannot stand in for pip-audit or the pip it runs.
    command = [
        sys.executable,
        "-I",
        "-m",
        "pip_audit",
        "-f",
        "json",
        "--progress-spinner",
        "off",
        "--vulnerability-service",
        request.service,
        "--timeout",
        str(request.timeout),
    ]
    if request.osv_url is not None:
        command += ["--osv-url", request.osv_url]

    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_AUDIT_")}
    # pip-audit warns when VIRTUAL_ENV is not the interpreter it runs from; here
    # that is on purpose (the audited environment is named by --path or -r).
    env.pop("VIRTUAL_ENV", None)
    for name in [k for k in env if k.upper().startswith("PYTHON") or k == "PIP_PYTHON_PATH"]:
        del env[name]
    env["PYTHONNOUSERSITE"] = "1"

    with tempfile.TemporaryDirectory(prefix="ci-helper-audit-") as tmp:
        if request.requirements:
            text, pinned = _flatten(request.requirements)
            if pinned:
                flat = Path(tmp) / "requirements.txt"
                flat.write_text(text, encoding="utf-8")
                mode = "pinned"
                command += ["-r", str(flat), "--no-deps", "--disable-pip"]
            else:
                mode = "resolved"
                for req in request.requirements:
                    command += ["-r", str(Path(req).resolve())]
            asked = scope.from_requirements(request.requirements, exact=pinned)
        else:
            mode = "environment"
            for path in request.paths:
                command += ["--path", str(Path(path).resolve())]
            asked = scope.from_paths(request.paths)
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp)

    try:
        report = AuditReport.from_json(json.loads(proc.stdout)) if proc.stdout.strip() else None
    except (ValueError, RecursionError):  # not pip-audit's shape, or nested past the recursion limit
        report = None
    # pip-audit exits 1 both for "found vulnerabilities" (with a report) and
    # for a crash (without one): the report decides.
    if report is not None and proc.returncode in (0, 1):
        return AuditRun(report, mode, proc.stdout, command, asked)
    service_failure = any(marker in proc.stderr for marker in _SERVICE_MARKERS)
    reason = _reason(proc.stderr, service_failure)
    if service_failure:
        raise ServiceUnavailable(f"vulnerability service ({request.service}) unreachable or failing: {reason}")
    raise PipAuditFailed(f"pip-audit failed (exit {proc.returncode}): {reason}")
