"""GitHub's workflow dependency lockfile, ``.github/workflows/actions.lock`` (``gh actions-lock``).

It lists, per onboarded workflow, the ``uses:`` values it depends on, and per
value the commit it is locked to::

    version: 'v0.0.2'
    workflows:
        '.github/workflows/test.yml':
            - 'actions/checkout@v5.0.1'
    dependencies:
        'actions/checkout@v5.0.1':
            ref: 'v5.0.1'
            commit: 'sha1-93cb6efe18208431cddfb8368fd83d5badbf9bfd'

An onboarded workflow runs the locked commit of each listed action even when
its tag moves, and fails to start when it uses an action the lockfile lacks.
Reusable workflow calls (``jobs.<id>.uses``) are not locked.
"""

from __future__ import annotations

import re
from pathlib import Path

from ci_helper.record import FrozenRecord
from ci_helper.workflows.facts import table, text, texts
from ci_helper.workflows.source import Node, read_source

PATH = ".github/workflows/actions.lock"
_COMMIT = re.compile(r"^(?:sha1-)?([0-9a-f]{40})$")


class Lock(FrozenRecord):
    __slots__ = ("source_rel", "workflows", "dependencies")
    _fields = __slots__

    def __init__(
        self,
        source_rel: str,
        workflows: dict[str, tuple[int, tuple[str, ...]]],
        dependencies: dict[str, tuple[int, str | None]],
    ) -> None:
        self.source_rel = source_rel
        # workflow path -> (line of its entry, the uses: values it locks)
        self.workflows = workflows
        # uses: value -> (line, locked commit or None when missing/malformed)
        self.dependencies = dependencies

    def locked(self, workflow_rel: str, uses: str) -> str | None:
        """The commit ``uses`` runs at in ``workflow_rel``, or None when that workflow does not lock it."""
        entry = self.workflows.get(workflow_rel)
        if entry is None or uses not in entry[1]:
            return None
        dependency = self.dependencies.get(uses)
        return dependency[1] if dependency is not None else None


_CACHE: dict[tuple[str, float], Lock | None] = {}


def load(root: Path) -> Lock | None:
    """The lockfile under ``root``, or None when there is none (a malformed file is bad input)."""
    path = Path(root) / PATH
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    key = (str(path), mtime)
    if key not in _CACHE:
        source = read_source(path, PATH)
        top = table(source.root)
        workflows = {}
        for name, (key_node, node) in _pairs(top.get("workflows")):
            workflows[name] = (key_node.start_mark.line + 1, tuple(texts(node)))
        dependencies = {}
        for name, (key_node, node) in _pairs(top.get("dependencies")):
            match = _COMMIT.match((text(table(node).get("commit")) or "").strip())
            dependencies[name] = (key_node.start_mark.line + 1, match.group(1) if match else None)
        _CACHE[key] = Lock(PATH, workflows, dependencies)
    return _CACHE[key]


def _pairs(node: Node | None) -> list[tuple[str, tuple[Node, Node]]]:
    from ci_helper.workflows.source import MappingNode, ScalarNode

    if not isinstance(node, MappingNode):
        return []
    return [(k.value, (k, v)) for k, v in node.value if isinstance(k, ScalarNode)]
