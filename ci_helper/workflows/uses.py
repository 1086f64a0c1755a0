"""What a ``uses:`` value points at: a local path, this repository (``$/``), a docker image, or a remote ref."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

LOCAL = "local"      # ./path: the caller's workspace
SELF = "self"        # $/path: the repository of the running action or workflow, same commit
DOCKER = "docker"    # docker://image[:tag][@sha256:digest]
REMOTE = "remote"    # owner/repo[/path]@ref

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_DOCKER_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Uses:
    raw: str
    kind: str
    # remote: "owner/repo", path inside it ("" for the root), and the ref ("" when missing)
    repo: str = ""
    path: str = ""
    ref: str = ""
    has_ref: bool = False

    @property
    def pinned(self) -> bool:
        """Local and self refs are pinned by construction; remote needs a full lowercase SHA, docker a digest."""
        if self.kind in (LOCAL, SELF):
            return True
        if self.kind == DOCKER:
            return _DOCKER_DIGEST.search(self.raw) is not None
        return self.has_ref and _FULL_SHA.fullmatch(self.ref) is not None

    @property
    def local_path(self) -> str | None:
        """The repository-relative path of a local or self reference, without a leading ./ or $/."""
        if self.kind not in (LOCAL, SELF):
            return None
        return self.raw[2:].strip("/")

    @property
    def action_name(self) -> str:
        """``owner/repo[/path]`` without the ref: what a reader calls the action."""
        if self.kind == REMOTE:
            return f"{self.repo}/{self.path}" if self.path else self.repo
        return self.raw


@lru_cache(maxsize=4096)
def parse_uses(value: str) -> Uses:
    raw = value.strip()
    if raw.startswith("./") or raw == ".":
        return Uses(raw, LOCAL)
    if raw.startswith("$/"):
        return Uses(raw, SELF)
    if raw.startswith("docker://"):
        return Uses(raw, DOCKER)
    name, sep, ref = raw.partition("@")
    parts = name.split("/", 2)
    repo = "/".join(parts[:2])
    path = parts[2] if len(parts) > 2 else ""
    return Uses(raw, REMOTE, repo=repo, path=path, ref=ref, has_ref=bool(sep))
