"""The simulated event of a dry run: webhook payload, ``GITHUB_REF`` and the refs guard reads."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENTS = (
    "pull_request",
    "pull_request_target",
    "push",
    "schedule",
    "workflow_dispatch",
    "merge_group",
    "workflow_call",
)
# Events that take --input values (the workflow's `on.<event>.inputs`).
INPUT_EVENTS = ("workflow_dispatch", "workflow_call")
# The branch a simulated pull request comes from; a name no project protects.
HEAD_BRANCH = "ci-helper-dry-run"
HEAD_SHA = "1" * 40
BASE_SHA = "0" * 40
PR_NUMBER = 1
SCHEDULE_CRON = "0 0 * * *"


@dataclass(frozen=True)
class SimulatedEvent:
    name: str  # GITHUB_EVENT_NAME
    repository: str  # GITHUB_REPOSITORY
    ref: str  # GITHUB_REF
    sha: str  # GITHUB_SHA
    base_branch: str  # the pull request's base, or the pushed branch
    payload: dict[str, Any]
    inputs: dict[str, Any] = field(default_factory=dict)  # --input values (workflow_dispatch, workflow_call)
    trigger: str = ""  # the `on:` event that starts the workflows, when not GITHUB_EVENT_NAME (workflow_call)

    @property
    def starts(self) -> str:
        """The ``on:`` event a workflow must list to run."""
        return self.trigger or self.name

    def describe(self) -> str:
        if self.trigger == "workflow_call":
            return f"workflow_call (called on a push to {self.base_branch} of {self.repository})"
        if self.name in ("pull_request", "pull_request_target"):
            return f"{self.name} #{PR_NUMBER} from {HEAD_BRANCH} into {self.base_branch} of {self.repository}"
        if self.name == "push":
            return f"push to {self.base_branch} of {self.repository}"
        if self.name == "merge_group":
            return f"merge_group into {self.base_branch} of {self.repository}"
        return f"{self.name} on {self.base_branch} of {self.repository}"

    def write(self, folder: Path) -> Path:
        path = folder / "event.json"
        path.write_text(json.dumps(self.payload, indent=2) + "\n", encoding="utf-8")
        return path

    def with_inputs(self, inputs: dict[str, Any]) -> SimulatedEvent:
        """This event with a workflow's resolved inputs (``github.event.inputs`` of a workflow_dispatch)."""
        if self.name != "workflow_dispatch":
            return self
        payload = {**self.payload, "inputs": {k: _text(v) for k, v in inputs.items()}}
        return SimulatedEvent(self.name, self.repository, self.ref, self.sha, self.base_branch, payload, self.inputs)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def simulate(name: str, repository: str, base_branch: str, inputs: dict[str, Any] | None = None) -> SimulatedEvent:
    """The event as GitHub would send it: pull requests come from the same repository (never a fork)."""
    given = dict(inputs or {})
    repo = {
        "full_name": repository,
        "name": repository.split("/", 1)[-1],
        "owner": {"login": repository.split("/", 1)[0]},
        "default_branch": base_branch,
        "fork": False,
    }
    branch_ref = f"refs/heads/{base_branch}"
    if name in ("pull_request", "pull_request_target"):
        payload = {
            "action": "synchronize",
            "number": PR_NUMBER,
            "pull_request": {
                "number": PR_NUMBER,
                "head": {"ref": HEAD_BRANCH, "sha": HEAD_SHA, "repo": repo},
                "base": {"ref": base_branch, "sha": BASE_SHA, "repo": repo},
            },
            "repository": repo,
        }
        if name == "pull_request":
            return SimulatedEvent(name, repository, f"refs/pull/{PR_NUMBER}/merge", HEAD_SHA, base_branch, payload)
        # pull_request_target runs the base branch's workflow at the base commit.
        return SimulatedEvent(name, repository, branch_ref, BASE_SHA, base_branch, payload)
    if name == "merge_group":
        queue = f"refs/heads/gh-readonly-queue/{base_branch}/pr-{PR_NUMBER}-{BASE_SHA}"
        payload = {
            "action": "checks_requested",
            "repository": repo,
            "merge_group": {"head_sha": HEAD_SHA, "head_ref": queue, "base_sha": BASE_SHA, "base_ref": branch_ref},
        }
        return SimulatedEvent(name, repository, queue, HEAD_SHA, base_branch, payload)
    if name == "schedule":
        payload = {"schedule": SCHEDULE_CRON, "repository": repo}
        return SimulatedEvent(name, repository, branch_ref, HEAD_SHA, base_branch, payload, given)
    if name == "workflow_dispatch":
        payload = {"ref": branch_ref, "inputs": {k: _text(v) for k, v in given.items()}, "repository": repo}
        return SimulatedEvent(name, repository, branch_ref, HEAD_SHA, base_branch, payload, given)
    if name == "workflow_call":
        # A called workflow sees its caller's event; here a push to the branch that calls it.
        payload = {"ref": branch_ref, "before": BASE_SHA, "after": HEAD_SHA, "repository": repo}
        return SimulatedEvent("push", repository, branch_ref, HEAD_SHA, base_branch, payload, given, name)
    payload = {"ref": branch_ref, "before": BASE_SHA, "after": HEAD_SHA, "repository": repo}
    return SimulatedEvent(name, repository, branch_ref, HEAD_SHA, base_branch, payload)
