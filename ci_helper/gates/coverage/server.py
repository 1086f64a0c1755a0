"""Proof that coverage was measured where the tier declared it: the server process too.

A tier that declares ``measure = "tests+server"`` says its figures include the lines the
server ran. That is true only when a data file from the server process was combined,
and nothing in the numbers shows it: a server that was never measured just makes the
total a little lower. Server data shows itself in one of two ways:

- its measured contexts include the static context ``server`` (``ci-helper smoke
  --coverage-data-file`` runs the server with ``[run] context = "server"``; so does
  ``coverage run --context=server``), alone or as ``server|<dynamic context>``;
- its file is named ``<data_file>.server`` or ``<data_file>.server.*`` (``.coverage.server``,
  and the parallel files coverage adds to that name).

Never the folder it lies in, and never the parallel suffix coverage adds itself: the
host name in ``.coverage.<host>.<pid>.<random>`` could be ``build-server-3``.

Two configurations lose data silently, and are reported with their fix (as warnings:
they explain a missing measurement, they are not one):

- ``[run] patch`` without ``subprocess`` when no server data came: a server the tests
  start themselves is not measured (pytest-cov 7 dropped its own subprocess support);
- ``[run] dynamic_context`` set, but no data file records a dynamic context: the
  ``sys.monitoring`` core (``COVERAGE_CORE=sysmon``) drops them in coverage versions
  that do not fall back to the C tracer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from coverage import Coverage
from coverage.exceptions import ConfigError

from ci_helper import results
from ci_helper.gates.smoke.coverage_rc import SERVER_CONTEXT

TESTS_AND_SERVER = "tests+server"


@dataclass
class ServerEvidence:
    """What the data and the configuration say about where coverage was measured."""

    # Data files that came from the server process, as the gate was given them.
    server_data_files: list[str]
    data_files: int
    data_file_name: str
    # coverage's [run] patch has "subprocess" (coverage >= 7.10).
    subprocess_patched: bool
    # [run] dynamic_context, and whether any data file records a dynamic context.
    dynamic_context: str | None
    dynamic_contexts_recorded: bool
    static_context: str | None
    config_file: str | None


def is_server_context(context: str) -> bool:
    return context == SERVER_CONTEXT or context.startswith(SERVER_CONTEXT + "|")


def is_server_file_name(name: str, data_file_name: str) -> bool:
    marked = f"{data_file_name}.{SERVER_CONTEXT}"
    return name == marked or name.startswith(marked + ".")


def _option(cov: Coverage, name: str) -> object:
    try:
        return cov.get_option(name)
    except ConfigError:  # an option this coverage does not know (patch before 7.10)
        return None


def _config_file(cov: Coverage) -> str | None:
    read = list(getattr(cov.config, "config_files_read", []) or [])
    if not read:
        return None
    relative = os.path.relpath(read[0])
    return read[0] if relative.startswith("..") else Path(relative).as_posix()


def gather(contexts: dict[Path, frozenset[str]], config_cov: Coverage) -> ServerEvidence:
    """Read the evidence from every input's contexts and name, and from the coverage configuration."""
    data_file_name = Path(str(config_cov.get_option("run:data_file"))).name
    static = _option(config_cov, "run:context")
    static_context = static if isinstance(static, str) and static else None
    server_files = [
        str(path)
        for path, found in contexts.items()
        if any(is_server_context(c) for c in found) or is_server_file_name(path.name, data_file_name)
    ]
    plain = {"", SERVER_CONTEXT, static_context}
    dynamic_recorded = any("|" in c or c not in plain for found in contexts.values() for c in found)
    patch = _option(config_cov, "run:patch")
    dynamic = _option(config_cov, "run:dynamic_context")
    return ServerEvidence(
        server_data_files=server_files,
        data_files=len(contexts),
        data_file_name=data_file_name,
        subprocess_patched=isinstance(patch, list) and "subprocess" in patch,
        dynamic_context=dynamic if isinstance(dynamic, str) and dynamic else None,
        dynamic_contexts_recorded=dynamic_recorded,
        static_context=static_context,
        config_file=_config_file(config_cov),
    )


def server_missing(evidence: ServerEvidence, measure: str) -> bool:
    """True when the tier declared the server measured and no data came from it."""
    return measure == TESTS_AND_SERVER and not evidence.server_data_files


def findings(evidence: ServerEvidence, measure: str) -> list[results.Finding]:
    """``coverage-server-missing`` (error) and the configuration warnings that explain lost data."""
    found: list[results.Finding] = []
    name = evidence.data_file_name
    if server_missing(evidence, measure):
        files = f"{evidence.data_files} data file{'' if evidence.data_files == 1 else 's'}"
        found.append(
            results.Finding(
                "coverage-server-missing",
                f"measure = tests+server, but no coverage data came from the server process (none of the {files} "
                f'records the context "{SERVER_CONTEXT}" or is named {name}.{SERVER_CONTEXT}*): run the server with '
                f"`ci-helper smoke --coverage-data-file F` (or under `python -m coverage run --context={SERVER_CONTEXT}`) "
                "and pass its data to the gate, or declare measure = tests",
                data={"data_files": evidence.data_files},
            )
        )
        if not evidence.subprocess_patched:
            found.append(
                results.Finding(
                    "coverage-subprocess-unpatched",
                    '[run] patch has no "subprocess": a server the tests start themselves is not measured '
                    "(pytest-cov 7 no longer measures subprocesses); start it under "
                    f'`python -m coverage run --context={SERVER_CONTEXT}`, or add patch = ["subprocess"] to [run] '
                    "(coverage 7.10+) to measure every subprocess",
                    file=evidence.config_file,
                    severity="warning",
                )
            )
    if evidence.dynamic_context and not evidence.dynamic_contexts_recorded:
        found.append(
            results.Finding(
                "coverage-contexts-dropped",
                f"[run] dynamic_context = {evidence.dynamic_context}, but no data file records a dynamic context: "
                "the sys.monitoring core (COVERAGE_CORE=sysmon, the default from Python 3.14) drops them where "
                'coverage does not fall back; run the tests with COVERAGE_CORE=ctrace (or [run] core = "ctrace")',
                file=evidence.config_file,
                severity="warning",
            )
        )
    return found
