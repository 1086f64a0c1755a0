"""Our own release: which repository is ours, the commit a ref names, and what a commit holds.

Everything here asks the local git repository of ci-helper (offline): the one
that holds the running ``ci_helper`` package, or the folder named by
``--repo-dir`` / ``CI_HELPER_SELF_REPO``. ``pin --self``, ``init`` and the
``pin-lacks-action`` verify rule read it; none of them talks to GitHub.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

from ci_helper.errors import BadInput
from ci_helper.record import FrozenRecord
from ci_helper.workflows.uses import REMOTE, Uses

if TYPE_CHECKING:
    import subprocess

# owner/name of this project on GitHub; compared case-insensitively (GitHub does).
OUR_REPOSITORY = "truthful-ci/ci-helper"
# The documented placeholder in snippets that are not pinned to a real commit yet (docs/release.md).
PLACEHOLDER_SHA = "0" * 40
SELF_REPO_ENV = "CI_HELPER_SELF_REPO"
# What a release commit must hold (docs/release.md): everything a pinned `uses:` of ours loads.
RELEASE_FILES = (
    "action.yml",
    "actions/setup/action.yml",
    "actions/guardrails/action.yml",
    "actions/stub-repos/action.yml",
    "actions/smoke/action.yml",
    "actions/quality/action.yml",
    ".github/workflows/smoke.yml",
    ".github/workflows/quality.yml",
    "ci_helper/__init__.py",
    "pyproject.toml",
    "CHANGELOG.md",
    "README.md",
    "docs/release.md",
)
_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_VERSION_LINE = re.compile(r"""^__version__\s*=\s*["']([^"']+)["']""", re.M)


def current_version() -> str:
    from ci_helper import __version__

    return __version__


def is_ours(uses: Uses) -> bool:
    """A remote ``truthful-ci/ci-helper[/path]@ref`` (owner and name in any case)."""
    return uses.kind == REMOTE and uses.repo.lower() == OUR_REPOSITORY


def package_checkout() -> Path:
    """The folder above the running ``ci_helper`` package (a git work tree when installed from a checkout)."""
    return Path(__file__).resolve().parent.parent


def _git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    import subprocess  # only when a pin names our repository: verify's plain path never pays for it

    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
    except FileNotFoundError:
        raise BadInput("git not found on PATH; install git to read ci-helper's repository") from None


@overload
def self_repository(repo_dir: str | os.PathLike[str] | None = None, required: Literal[True] = True) -> Path: ...


@overload
def self_repository(repo_dir: str | os.PathLike[str] | None = None, *, required: bool) -> Path | None: ...


def self_repository(repo_dir: str | os.PathLike[str] | None = None, required: bool = True) -> Path | None:
    """The git repository of ci-helper: ``repo_dir``, else ``$CI_HELPER_SELF_REPO``, else the package's checkout.

    None when it is not a git repository and ``required`` is false; bad input otherwise.
    """
    given = repo_dir or os.environ.get(SELF_REPO_ENV) or None
    folder = Path(given) if given else package_checkout()
    if folder.is_dir():
        proc = _git(folder, "rev-parse", "--git-dir")
        if proc.returncode == 0:
            return folder
    if not required:
        return None
    if given:
        raise BadInput(f"{folder}: not a git repository of ci-helper; pass --repo-dir with a clone of {OUR_REPOSITORY}")
    raise BadInput(
        f"ci-helper runs from {folder}, which is not a git repository; pass --repo-dir with a clone of "
        f"{OUR_REPOSITORY} (git clone https://github.com/{OUR_REPOSITORY})"
    )


def resolve(repo: Path, ref: str, option: str = "--self") -> str:
    """The 40-hex commit ``ref`` names in ``repo`` (a tag, branch, short or full SHA), offline."""
    if not ref or ref.startswith("-"):
        raise BadInput(f"{option} {ref!r}: expected a tag, branch or commit of {repo}")
    proc = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    sha = proc.stdout.strip()
    if proc.returncode != 0 or not _FULL_SHA.fullmatch(sha):
        raise BadInput(
            f"{option} {ref}: no such commit, tag or branch in {repo}; "
            f"fetch it first (git -C {repo} fetch --tags origin) or name another ref"
        )
    return sha


def version_at(repo: Path, sha: str) -> str | None:
    """``ci_helper.__version__`` as the commit declares it, or None."""
    proc = _git(repo, "show", f"{sha}:ci_helper/__init__.py")
    match = _VERSION_LINE.search(proc.stdout) if proc.returncode == 0 else None
    return match.group(1) if match else None


def target_paths(uses: Uses) -> tuple[str, ...]:
    """The files a uses needs in the commit: a reusable workflow itself, or the action's ``action.y(a)ml``."""
    path = uses.path.strip("/")
    if path.startswith(".github/workflows/"):
        return (path,)
    prefix = f"{path}/" if path else ""
    return (f"{prefix}action.yml", f"{prefix}action.yaml")


class Holding(FrozenRecord):
    """What the local repository says about one pinned uses."""

    __slots__ = ("known", "holds")
    _fields = __slots__

    def __init__(self, known: bool, holds: bool) -> None:
        self.known = known  # the commit is in the local repository
        self.holds = holds  # ... and it has the referenced action or workflow file


def holdings(repo: Path, pins: list[tuple[str, tuple[str, ...]]]) -> dict[tuple[str, tuple[str, ...]], Holding]:
    """For each (sha, candidate paths): is the commit known, does it hold one of the paths. One git process."""
    queries: list[str] = []
    for sha, paths in pins:
        queries.append(f"{sha}^{{commit}}")
        queries.extend(f"{sha}:{p}" for p in paths)
    if not queries:
        return {}
    proc = _git(repo, "cat-file", "--batch-check", stdin="\n".join(queries) + "\n")
    lines = proc.stdout.splitlines() if proc.returncode == 0 else []
    answers = {}
    for query, line in zip(queries, lines, strict=False):
        answers[query] = not line.endswith(" missing") and not line.endswith(" ambiguous")
    out = {}
    for sha, paths in pins:
        known = answers.get(f"{sha}^{{commit}}", False)
        out[(sha, paths)] = Holding(known, known and any(answers.get(f"{sha}:{p}", False) for p in paths))
    return out


def is_ancestor(repo: Path, sha: str, of: str = "HEAD") -> bool:
    return _git(repo, "merge-base", "--is-ancestor", sha, of).returncode == 0
