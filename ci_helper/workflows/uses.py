"""What a ``uses:`` value points at: a local path, this repository (``$/``), a docker image, or a remote ref.

The one parser of ``uses:`` values: the rules, ``pin``, the runner and the dry run all read a
:class:`Uses`. Repository names compare case-insensitively, as GitHub does
(``truthful-ci/CI-Helper/actions/smoke@...`` is ci-helper).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ci_helper.record import FrozenRecord

LOCAL = "local"  # ./path: the caller's workspace
SELF = "self"  # $/path: the repository of the running action or workflow, same commit
DOCKER = "docker"  # docker://image[:tag][@sha256:digest]
REMOTE = "remote"  # owner/repo[/path]@ref

# The repository name of ci-helper itself: any owner (forks and mirrors keep the name).
OUR_REPOSITORY_NAME = "ci-helper"

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_DOCKER_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


class Uses(FrozenRecord):
    __slots__ = ("raw", "kind", "repo", "path", "ref", "has_ref", "ours")
    _fields = ("raw", "kind", "repo", "path", "ref", "has_ref")

    def __init__(
        self, raw: str, kind: str, repo: str = "", path: str = "", ref: str = "", has_ref: bool = False
    ) -> None:
        self.raw = raw
        self.kind = kind
        # remote: "owner/repo", path inside it ("" for the root), and the ref ("" when missing)
        self.repo = repo
        self.path = path
        self.ref = ref
        self.has_ref = has_ref
        # A remote reference to ci-helper (any owner, any case); read for every step by several rules.
        self.ours = kind == REMOTE and repo.rpartition("/")[2].lower() == OUR_REPOSITORY_NAME

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

    @property
    def repo_key(self) -> str:
        """``owner/repo`` lowercased: how GitHub compares repository names (empty when not remote)."""
        return self.repo.lower() if self.kind == REMOTE else ""

    @property
    def valid(self) -> bool:
        """A remote reference GitHub can load: ``{owner}/{repo}[/path]@ref``."""
        if self.kind != REMOTE:
            return True
        owner, _, name = self.repo.partition("/")
        return bool(self.ref) and bool(owner) and bool(name)

    @property
    def format_error(self) -> str:
        """GitHub's message for a remote reference it cannot load (empty when valid)."""
        return "" if self.valid else f"Expected format {{org}}/{{repo}}[/path]@ref. Actual '{self.raw}'"

    @property
    def our_action(self) -> bool:
        """One of ci-helper's actions: the root action or one under ``actions/`` (not a reusable workflow)."""
        return self.ours and (self.path == "" or self.path.lower().startswith("actions/"))

    @property
    def path_parts(self) -> list[str]:
        """The remote path inside the repository, split into its folders."""
        return [part for part in self.path.split("/") if part]

    def same_repository(self, repo: str) -> bool:
        """True when this remote reference names ``owner/repo`` (case-insensitively)."""
        return self.kind == REMOTE and self.repo.lower() == repo.lower()

    @property
    def step_id(self) -> str:
        """The runner's id for a step that uses this, before de-duplication (``__<this>``)."""
        if self.kind in (LOCAL, SELF):
            return "self"
        if self.kind == DOCKER:
            return self.raw[len("docker://") :]
        if self.has_ref and self.ref and self.valid:
            return self.repo
        return "run"


@lru_cache(maxsize=4096)
def parse_uses(value: str) -> Uses:
    """The one reading of a ``uses:`` value."""
    raw = value.strip()
    if raw.startswith(("./", ".\\")) or raw == ".":
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
