"""What counts as a gate: a command whose failure must fail CI (tests, coverage, audits, linters, ci-helper).

Shared by ``muted-gate`` (which looks for gates whose status is lost) and
anything else that must tell a gate step from a housekeeping step.
"""

from __future__ import annotations

import re
import weakref

from ci_helper.errors import BadInput
from ci_helper.workflows import Action, Step, Tree
from ci_helper.workflows.shell import Command, parse_script, resolve_shell
from ci_helper.workflows.uses import LOCAL, REMOTE, SELF

GATE_PROGRAMS = frozenset({"pytest", "py.test", "coverage", "pip-audit", "ruff", "mypy", "eslint", "ci-helper"})
GATE_MODULES = frozenset({"pytest", "coverage", "mypy", "ruff", "pip_audit", "ci_helper"})
_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
# For scripts in non-POSIX shells (pwsh, python): a word-level search is the best we can do.
_ANY_GATE = re.compile(
    r"(?<![\w.-])(pytest|py\.test|coverage|pip-audit|pip_audit|ruff|mypy|eslint|ci-helper|ci_helper)(?![\w-])"
)


_PYTHONS: dict[str, bool] = {}


def _is_python(program: str) -> bool:
    """``python``, ``python3``, ``python3.12``: remembered per program name (asked of every command)."""
    known = _PYTHONS.get(program)
    if known is None:
        if len(_PYTHONS) > 65536:
            _PYTHONS.clear()
        known = _PYTHONS[program] = _PYTHON.match(program) is not None
    return known


class GateMatcher:
    """Recognises gate commands and gate steps, following local composite actions."""

    def __init__(self, tree: Tree, patterns: list[str]) -> None:
        self.tree = tree
        self.patterns = []
        for index, pattern in enumerate(patterns):
            try:
                self.patterns.append(re.compile(pattern))
            except re.error as exc:
                raise BadInput(
                    f"[tool.ci-helper] verify.gate-patterns[{index}]: {pattern!r} is not a valid regular expression ({exc})"
                ) from None
        self._actions: dict[str, bool] = {}
        # The same script often runs in many steps (matrix jobs, copied workflows): analyse it once.
        self._scripts: dict[tuple[str, str | None], bool] = {}
        self._may_gate: dict[str, bool] = {}

    def command(self, cmd: Command) -> bool:
        if cmd.words and cmd.words[0] in ("(", "{"):
            inner = " ".join(cmd.words[1:-1] if cmd.words[-1] in (")", "}") else cmd.words[1:])
            return any(self.command(c) for item in parse_script(inner) for c in item.commands())
        argv = cmd.argv
        if not argv:
            return False
        program = cmd.program
        if program in GATE_PROGRAMS:
            return True
        if _is_python(program):
            for index, word in enumerate(argv[1:-1], start=1):
                if word == "-m":
                    return argv[index + 1] in GATE_MODULES
                if not word.startswith("-"):
                    break
        if self.patterns and program not in ("echo", "printf"):
            text = " ".join(argv)
            return any(p.search(text) for p in self.patterns)
        return False

    def may_gate(self, script: str) -> bool:
        """A cheap text test: False means no command of the script can be a gate (most scripts: no parse)."""
        known = self._may_gate.get(script)
        if known is None:
            known = _ANY_GATE.search(script) is not None or any(p.search(script) for p in self.patterns)
            self._may_gate[script] = known
        return known

    def script(self, script: str, shell: str | None) -> bool:
        key = (script, shell)
        known = self._scripts.get(key)
        if known is None:
            if not self.may_gate(script):
                known = False
            elif resolve_shell(shell).posix:
                known = any(self.command(c) for item in parse_script(script) for c in item.commands())
            else:
                known = True
            self._scripts[key] = known
        return known

    def step(self, step: Step, default_shell: str | None = None) -> bool:
        """True when the step runs a gate itself or through an action that does."""
        if step.run is not None:
            shell = step.shell.value if step.shell is not None else default_shell
            return self.script(step.run.value, shell)
        ref = step.ref
        if ref is None:
            return False
        if ref.kind == REMOTE:
            # Our own actions run gates; their steps are not visible from here.
            return ref.ours and ref.path.strip("/").lower() != "actions/setup"
        if ref.kind in (LOCAL, SELF):
            action = self.tree.local_action(ref)
            return action is not None and self.action(action)
        return False

    def action(self, action: Action) -> bool:
        known = self._actions.get(action.rel)
        if known is not None:
            return known
        self._actions[action.rel] = False  # a cycle of local actions runs no extra gate
        result = any(self.step(s) for s in action.steps)
        self._actions[action.rel] = result
        return result


# One matcher per tree and patterns, shared by the rules of a run (muted-gate, skipped-gate, parallel-gate ask
# about the same steps and scripts); it goes with the tree.
_SHARED: weakref.WeakKeyDictionary[Tree, dict[tuple[str, ...], GateMatcher]] = weakref.WeakKeyDictionary()


def matcher(tree: Tree, patterns: list[str]) -> GateMatcher:
    """The run's :class:`GateMatcher` for ``tree`` and ``patterns`` (built on first use)."""
    per_tree = _SHARED.setdefault(tree, {})
    key = tuple(patterns)
    found = per_tree.get(key)
    if found is None:
        found = per_tree[key] = GateMatcher(tree, patterns)
    return found
