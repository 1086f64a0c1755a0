"""THE model of a repository's workflow and action files, with a position for every value.

Every reader of GitHub Actions files goes through here: the ``verify`` rules,
``pin``, guard ``--pins``, the local action runner (``runner/manifest.py``) and
the dry run (``dry_run/jobs.py``). Each concept lives in one module:

- ``source.py``: YAML read once, with positions (the only YAML reader of these files);
- ``model.py``: workflows, jobs, steps, actions (what each reader needs, lazily for the runner's extras);
- ``triggers.py``: ``on:`` events, branch filters, dispatch/call inputs, and whether an event matches;
- ``uses.py``: every ``uses:`` value (local, ``$/``, docker, remote; ours or not, case-insensitively);
- ``shell.py``: GitHub's shells and their command templates, and the static script model;
- ``matrix.py``: ``strategy.matrix`` expanded as GitHub expands it;
- ``if:`` values are parsed by the one expression parser (``Step.condition()``, ``Job.condition()``).

``load_tree(root, exclude)`` discovers and parses each file once; rules read
the resulting :class:`Tree`; ``read_workflow`` / ``read_action`` read one file. Local composite actions (``uses: ./path`` and
``uses: $/path``) and local reusable workflows are followed through
:meth:`Tree.local_action` and :meth:`Tree.local_workflow`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from ci_helper.workflows.discovery import ACTION_NAMES, discover
from ci_helper.workflows.model import ACTION, WORKFLOW, Action, Job, Step, Workflow, build_action, build_workflow
from ci_helper.workflows.source import Scalar, Source, read_source
from ci_helper.workflows.uses import Uses, parse_uses

__all__ = [
    "ACTION",
    "WORKFLOW",
    "Action",
    "Job",
    "Scalar",
    "Source",
    "Step",
    "Tree",
    "Uses",
    "Workflow",
    "load_tree",
    "parse_uses",
    "read_action",
    "read_workflow",
]


def read_workflow(path: Path, rel: str | None = None) -> Workflow:
    """One workflow file as the model; messages name it ``rel`` (default: the path as given)."""
    return build_workflow(read_source(path, rel if rel is not None else str(path)))


def read_action(path: Path, rel: str | None = None) -> Action:
    """One action file as the model; messages name it ``rel`` (default: the path as given)."""
    return build_action(read_source(path, rel if rel is not None else str(path)))


class Tree:
    """Every workflow and action under a root, parsed once."""

    def __init__(self, root: Path, workflows: list[Workflow], actions: list[Action]) -> None:
        self.root = root
        self.workflows = workflows
        self.actions = actions
        self._actions = {posixpath.dirname(a.rel): a for a in actions}
        self._workflows = {w.rel: w for w in workflows}
        self._followed = 0

    @property
    def files(self) -> int:
        """Number of workflow and action files read."""
        return len(self.workflows) + len(self.actions) + self._followed

    def local_action(self, ref: Uses) -> Action | None:
        """The action a ``./path`` or ``$/path`` reference names, when it is a file under the root."""
        folder = _normalise(ref.local_path)
        if folder is None:
            return None
        if folder in self._actions:
            return self._actions[folder]
        action = None
        for name in ACTION_NAMES:
            path = self.root / folder / name if folder else self.root / name
            if path.is_file():
                rel = f"{folder}/{name}" if folder else name
                action = build_action(read_source(path, rel))
                self._followed += 1
                break
        self._actions[folder] = action  # type: ignore[assignment]
        return action

    def local_workflow(self, ref: Uses) -> Workflow | None:
        """The reusable workflow a job's ``uses: ./.github/workflows/x.yml`` names."""
        rel = _normalise(ref.local_path)
        if rel is None:
            return None
        if rel in self._workflows:
            return self._workflows[rel]
        workflow = None
        path = self.root / rel
        if path.is_file():
            workflow = build_workflow(read_source(path, rel))
            self._followed += 1
        self._workflows[rel] = workflow  # type: ignore[assignment]
        return workflow


def _normalise(path: str | None) -> str | None:
    if path is None:
        return None
    norm = posixpath.normpath(path) if path else ""
    if norm == ".":
        return ""
    if norm.startswith("../") or norm == ".." or norm.startswith("/"):
        return None  # outside the root: nothing to follow
    return norm


def load_tree(root: Path, exclude: Sequence[str] = ()) -> Tree:
    """Discover and parse every workflow and action under ``root``."""
    workflow_files, action_files = discover(root, list(exclude))
    workflows = [build_workflow(read_source(path, rel)) for path, rel in workflow_files]
    actions = [build_action(read_source(path, rel)) for path, rel in action_files]
    return Tree(root, workflows, actions)
