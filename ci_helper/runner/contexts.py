"""The ``github`` and ``runner`` contexts, and the ``GITHUB_*`` variables a step sees.

Built from the run options (``--event-name``, ``--event-path``, ...), the way
the runner builds them from the job message; values a laptop cannot know
(run ids, token) are fixed placeholders.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_helper import limits
from ci_helper.errors import BadInput

PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")


@dataclass
class Options:
    """How to run an action: the event, the repository and the environment around it."""

    workspace: Path
    event_name: str = "push"
    event_path: Path | None = None
    repository: str = "local/repository"
    ref: str = "refs/heads/main"
    sha: str = "0" * 40
    env: dict[str, str] = field(default_factory=dict)  # the calling step's `env:` (env context)
    stub_remotes: dict[str, Path] = field(default_factory=dict)  # "owner/repo" -> folder
    runner_temp: Path | None = None
    # `ci-helper verify --run`: shown to the actions as runner.ci_helper_dry_run, a context no step can write.
    dry_run: bool = False
    base_environ: dict[str, str] | None = None  # the caller's environment; default os.environ


def load_event(options: Options) -> dict[str, Any]:
    if options.event_path is None:
        return {}
    try:
        data = json.loads(Path(options.event_path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadInput(f"cannot read --event-path {options.event_path}: {exc.strerror}") from None
    except limits.PARSE_ERRORS as exc:
        raise BadInput(f"--event-path {options.event_path} is not valid JSON: {limits.why(exc)}") from None
    if not isinstance(data, dict):
        raise BadInput(f"--event-path {options.event_path} must hold a JSON object (the webhook payload)")
    return data


def _ref_parts(ref: str) -> tuple[str, str]:
    for prefix, kind in (("refs/heads/", "branch"), ("refs/tags/", "tag")):
        if ref.startswith(prefix):
            return ref[len(prefix) :], kind
    if ref.startswith("refs/pull/"):
        return ref[len("refs/") :].replace("pull/", "", 1), "branch"
    return ref, "branch"


def github_context(options: Options, event: dict[str, Any], event_path: Path) -> dict[str, Any]:
    ref_name, ref_type = _ref_parts(options.ref)
    base_ref = head_ref = ""
    if options.event_name in PULL_REQUEST_EVENTS:
        pull = event.get("pull_request") or {}
        base_ref = str(((pull.get("base") or {}).get("ref")) or "")
        head_ref = str(((pull.get("head") or {}).get("ref")) or "")
    owner = options.repository.split("/", 1)[0]
    return {
        "event_name": options.event_name,
        "event": event,
        "event_path": str(event_path),
        "repository": options.repository,
        "repository_owner": owner,
        "ref": options.ref,
        "ref_name": ref_name,
        "ref_type": ref_type,
        "sha": options.sha,
        "base_ref": base_ref,
        "head_ref": head_ref,
        "workspace": str(options.workspace),
        "actor": owner,
        "triggering_actor": owner,
        "server_url": "https://github.com",
        "api_url": "https://api.github.com",
        "graphql_url": "https://api.github.com/graphql",
        "run_id": "1",
        "run_number": "1",
        "run_attempt": "1",
        "job": "run-action",
        "workflow": "run-action",
        "retention_days": "0",
        "token": "",
        "action": "",
        "action_path": "",
        "action_ref": "",
        "action_repository": "",
    }


def runner_context(runner_temp: Path, dry_run: bool = False) -> dict[str, Any]:
    """The ``runner`` context; a local dry run adds ``ci_helper_dry_run: 'true'``.

    That property is the dry run's only channel to our actions: a step can
    write ``GITHUB_ENV``, ``GITHUB_OUTPUT``, ``GITHUB_PATH`` and the workspace,
    never the ``runner`` context, and GitHub's runner has no such property
    (null), so in real CI nothing can turn it on (docs/security.md).
    """
    system = platform.system()
    machine = platform.machine().lower()
    context = {
        "name": "ci-helper-local",
        "os": {"Linux": "Linux", "Darwin": "macOS", "Windows": "Windows"}.get(system, system),
        "arch": "ARM64" if machine in ("arm64", "aarch64") else "X64",
        "temp": str(runner_temp),
        "tool_cache": str(runner_temp / "_tool"),
        "environment": "self-hosted",
        "debug": "",
    }
    if dry_run:
        context["ci_helper_dry_run"] = "true"
    return context


def github_variables(github: dict[str, Any], runner: dict[str, Any]) -> dict[str, str]:
    """The ``GITHUB_*`` / ``RUNNER_*`` variables of a step (file-command paths are added per step)."""
    names = (
        "workspace",
        "repository",
        "repository_owner",
        "event_name",
        "event_path",
        "ref",
        "ref_name",
        "ref_type",
        "sha",
        "base_ref",
        "head_ref",
        "actor",
        "triggering_actor",
        "server_url",
        "api_url",
        "graphql_url",
        "run_id",
        "run_number",
        "run_attempt",
        "job",
        "workflow",
        "retention_days",
        "action",
        "action_path",
        "action_ref",
        "action_repository",
    )
    variables = {f"GITHUB_{name.upper()}": str(github.get(name, "")) for name in names}
    variables["GITHUB_ACTIONS"] = "true"
    variables["CI"] = "true"
    variables["RUNNER_OS"] = runner["os"]
    variables["RUNNER_ARCH"] = runner["arch"]
    variables["RUNNER_NAME"] = runner["name"]
    variables["RUNNER_TEMP"] = runner["temp"]
    variables["RUNNER_TOOL_CACHE"] = runner["tool_cache"]
    variables["RUNNER_ENVIRONMENT"] = runner["environment"]
    return variables


def base_environment(options: Options) -> dict[str, str]:
    """The caller's environment without variables that would contradict the simulated run."""
    environ = dict(os.environ if options.base_environ is None else options.base_environ)
    for name in list(environ):
        # A composite step never gets INPUT_* (GitHub does not set them), nor a stale GITHUB_*/RUNNER_*
        # of the real run around us; GITHUB_TOKEN is a credential the caller chose to pass, so it stays.
        if name.startswith(("INPUT_", "GITHUB_", "RUNNER_", "STATE_")) and name != "GITHUB_TOKEN":
            del environ[name]
    return environ
