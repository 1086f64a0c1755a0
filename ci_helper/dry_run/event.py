"""The simulated event of a dry run: webhook payload, ``GITHUB_REF`` and the refs guard reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

EVENTS = ("pull_request", "push")
# The branch a simulated pull request comes from; a name no project protects.
HEAD_BRANCH = "ci-helper-dry-run"
HEAD_SHA = "1" * 40
BASE_SHA = "0" * 40
PR_NUMBER = 1


@dataclass(frozen=True)
class SimulatedEvent:
    name: str            # GITHUB_EVENT_NAME
    repository: str      # GITHUB_REPOSITORY
    ref: str             # GITHUB_REF
    sha: str             # GITHUB_SHA
    base_branch: str     # the pull request's base, or the pushed branch
    payload: dict

    def describe(self) -> str:
        if self.name == "pull_request":
            return f"pull_request #{PR_NUMBER} from {HEAD_BRANCH} into {self.base_branch} of {self.repository}"
        return f"push to {self.base_branch} of {self.repository}"

    def write(self, folder: Path) -> Path:
        path = folder / "event.json"
        path.write_text(json.dumps(self.payload, indent=2) + "\n", encoding="utf-8")
        return path


def simulate(name: str, repository: str, base_branch: str) -> SimulatedEvent:
    """A same-repository pull request (never a fork) or a push, as GitHub would send it."""
    repo = {"full_name": repository, "name": repository.split("/", 1)[-1],
            "owner": {"login": repository.split("/", 1)[0]}, "default_branch": base_branch, "fork": False}
    if name == "pull_request":
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
        return SimulatedEvent(name, repository, f"refs/pull/{PR_NUMBER}/merge", HEAD_SHA, base_branch, payload)
    payload = {"ref": f"refs/heads/{base_branch}", "before": BASE_SHA, "after": HEAD_SHA, "repository": repo}
    return SimulatedEvent(name, repository, f"refs/heads/{base_branch}", HEAD_SHA, base_branch, payload)
