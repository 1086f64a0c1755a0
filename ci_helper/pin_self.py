"""``pin --self REF``: every reference to our own actions and workflows moved to one local commit, offline.

Workflow and action files are edited through :mod:`ci_helper.pin` (the same
surgical edit and re-parse proof). Markdown files (README, docs, vendored
notes) are edited line by line: a ``uses: truthful-ci/ci-helper/...@<40-hex>``
line gets the new SHA and comment; a snippet that shows a tag (``@v0.1.0``) is
prose about pinning and stays as written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_helper import pin, release
from ci_helper.errors import BadInput
from ci_helper.workflows.discovery import SKIPPED_DIRS, discover, excluded
from ci_helper.workflows.uses import Uses, parse_uses

# One `uses:` line in Markdown: the value (optionally quoted) and the trailing comment.
_MD_USES = re.compile(
    r"""(?P<lead>\buses:[ \t]*(?P<q>["']?))(?P<name>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^\s@"'#]*)?)@(?P<ref>[0-9a-f]{40})"""
    r"""(?P=q)(?P<tail>[^\r\n#]*?)(?P<comment>[ \t]*#[^\r\n]*)?(?P<end>\r?$)""",
    re.M,
)
_VERSION_TAG = re.compile(r"v\d+\.\d+\.\d+([-+][0-9A-Za-z.\-+]*)?")


@dataclass(frozen=True)
class Edit:
    """One reference moved: where, and the value before and after (with its comment)."""

    rel: str
    line: int
    old: str
    new: str


@dataclass
class SelfPlan:
    sha: str
    tag: str
    edits: list[Edit]
    new_bytes: dict[Path, bytes]  # every changed file's new content, made before anything is written
    skipped: list[str]
    references: int  # references of ours seen (changed or not)
    files: int


def tag_for(repo: Path, ref: str, sha: str) -> str:
    """The version comment: REF when it is a version tag, else ``v`` + the ``__version__`` the commit declares."""
    if _VERSION_TAG.fullmatch(ref):
        return ref
    version = release.version_at(repo, sha)
    return f"v{version}" if version else ref


def _other_files(root: Path, exclude: list[str]) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """Markdown files, and workflow files outside the root's .github/workflows (examples, templates, vendored copies)."""
    markdown, nested = [], []
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if rel_folder == "." else rel_folder + "/"
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and not excluded(prefix + d, exclude)
            and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        )
        # Workflows of nested projects and workflow templates (a `workflows/` folder anywhere).
        in_nested_workflows = rel_folder != ".github/workflows" and rel_folder.rsplit("/", 1)[-1] == "workflows"
        for name in sorted(files):
            if excluded(prefix + name, exclude):
                continue
            if name.lower().endswith(".md"):
                markdown.append((Path(folder) / name, prefix + name))
            elif in_nested_workflows and name.endswith((".yml", ".yaml")):
                nested.append((Path(folder) / name, prefix + name))
    return markdown, nested


def _markdown(
    path: Path, rel: str, sha: str, tag: str, holds: Callable[[Uses, str], bool]
) -> tuple[bytes | None, list[Edit], int]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [], 0
    edits: list[Edit] = []
    seen = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal seen
        name = match.group("name")
        if not release.is_ours(parse_uses(f"{name}@{match.group('ref')}")):
            return match.group(0)
        seen += 1
        line = text.count("\n", 0, match.start()) + 1
        if not holds(parse_uses(f"{name}@{match.group('ref')}"), f"{rel}:{line}"):
            return match.group(0)
        old_comment = (match.group("comment") or "").strip() or None
        comment = pin._new_comment(old_comment, match.group("ref"), tag)
        q = match.group("q")
        new = f"{match.group('lead')}{name}@{sha}{q}{match.group('tail')} {comment}{match.group('end')}"
        if new != match.group(0):
            edits.append(
                Edit(
                    rel,
                    line,
                    f"{name}@{match.group('ref')}" + (f" {old_comment}" if old_comment else ""),
                    f"{name}@{sha} {comment}",
                )
            )
        return new

    new_text = _MD_USES.sub(replace, text)
    return (new_text.encode("utf-8") if new_text != text else None), edits, seen


def plan(root: Path, repo: Path, ref: str, exclude: Sequence[str] = ()) -> SelfPlan:
    """What ``pin --self REF`` changes under ``root`` (a folder or one file); nothing is written."""
    sha = release.resolve(repo, ref)
    tag = tag_for(repo, ref, sha)
    if not root.exists():
        raise BadInput(f"{root}: no such file or folder; pass the folder whose references to move (default: .)")
    base = str(root).replace(os.sep, "/").rstrip("/")
    prefix = "" if base in ("", ".") else base + "/"
    if root.is_file():
        name = root.name
        markdown = [(root, str(root))] if name.lower().endswith(".md") else []
        yaml_files = (
            []
            if markdown
            else [pin.read_file(root, str(root), "action" if name in ("action.yml", "action.yaml") else "workflow")]
        )
    else:
        workflows, actions = discover(root, list(exclude))
        yaml_files = [pin.read_file(p, prefix + rel, "workflow") for p, rel in workflows]
        markdown_files, nested = _other_files(root, list(exclude))
        yaml_files += [pin.read_file(p, prefix + rel, "workflow") for p, rel in nested]
        yaml_files += [pin.read_file(p, prefix + rel, "action") for p, rel in actions]
        markdown = [(p, prefix + rel) for p, rel in markdown_files]
    result = SelfPlan(
        sha=sha, tag=tag, edits=[], new_bytes={}, skipped=[], references=0, files=len(yaml_files) + len(markdown)
    )
    lacking: list[str] = []
    known: dict[tuple[str, ...], bool] = {}

    def holds(uses: Uses, where: str) -> bool:
        """Whether the commit holds what ``uses`` loads; a reference to something it lacks is not moved."""
        paths = release.target_paths(uses)
        if paths not in known:
            known[paths] = release.holdings(repo, [(sha, paths)])[(sha, paths)].holds
        if known[paths]:
            return True
        if uses.ref == release.PLACEHOLDER_SHA:
            result.skipped.append(f"{where}: {uses.raw}: {ref} has no {paths[0]}; the placeholder stays")
        else:
            lacking.append(f"{where}: {uses.action_name}")
        return False

    for pin_file in yaml_files:
        changes = []
        for site in pin_file.sites:
            if not release.is_ours(site.uses):
                continue
            result.references += 1
            if "${{" in site.uses.ref:
                result.skipped.append(f"{pin_file.rel}:{site.line}: {site.uses.raw} is an expression; pin it by hand")
                continue
            if not holds(site.uses, f"{pin_file.rel}:{site.line}"):
                continue
            comment = pin._new_comment(site.comment(pin_file.text), site.uses.ref, tag)
            if site.uses.ref == sha and site.comment(pin_file.text) == comment:
                continue
            changes.append(pin.Change(site, sha, comment))
        result.skipped.extend(f"{why}" for why in pin_file.skipped if release.OUR_REPOSITORY in why.lower())
        if changes:
            result.new_bytes[pin_file.path] = pin.apply(pin_file, changes)
            result.edits.extend(
                Edit(
                    pin_file.rel,
                    c.site.line,
                    c.old + (f" {c.site.comment(pin_file.text)}" if c.site.comment(pin_file.text) else ""),
                    c.new,
                )
                for c in changes
            )
    for path, rel in markdown:
        data, edits, seen = _markdown(path, rel, sha, tag, holds)
        result.references += seen
        if data is not None:
            result.new_bytes[path] = data
            result.edits.extend(edits)
    if lacking:
        raise BadInput(
            f"{ref} ({sha}) does not hold what {len(lacking)} references load ({'; '.join(lacking[:5])}"
            f"{' ...' if len(lacking) > 5 else ''}); nothing was written; pin a newer commit"
        )
    return result


def write(new_bytes: dict[Path, bytes]) -> None:
    """Replace each file in one step, keeping its permissions."""
    for path, data in new_bytes.items():
        tmp = path.with_name(f".{path.name}.ci-helper-pin.tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
