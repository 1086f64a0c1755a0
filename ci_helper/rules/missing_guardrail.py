"""missing-guardrail: a job started by a pull request or a push that runs without the configured guardrails.

A guardrail refuses to run where the pipeline must not: in a fork it was
copied to (``repository``), on a PR to another base (``base-branch``), on an
unexpected ref (``ref``) or event (``event``). A job has a guardrail when

- a step that always runs (no ``if:`` or a trivially true one, and no
  ``continue-on-error`` that can be true) uses our guardrails action
  (``<owner>/ci-helper/actions/guardrails@sha``, or the root action with
  ``command: guard``), or runs ``ci-helper guard`` (these cover every kind:
  their policy lives in settings and inputs);
- such a step's script compares the matching variable (``GITHUB_REPOSITORY`` /
  ``github.repository`` for ``repository``) and exits non-zero when it is not
  the expected value (``[ ... = ... ] || exit 1``, ``if [ ... != ... ]; then
  exit 1; fi``, a bare ``test ... = ...`` under errexit, ``case`` with a
  ``*)`` branch that exits); a mere mention of a comparison is not enough;
- a step whose ``if:`` runs it whenever the variable differs
  (``github.repository != '...'``) fails the job unconditionally;
- the job's ``if:`` is a conjunction (``&&``) with ``github.repository == '...'``
  (never under ``||`` or ``!``);
- a local composite action it uses (from a step that always runs) has such a step;
- it ``needs:`` a job that has it (and does not run after failures with
  ``always()``/``failure()``/``cancelled()``), or it calls a local reusable
  workflow whose every job has it, or one of ci-helper's reusable workflows.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterator

from ci_helper.errors import BadInput
from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.workflows import Action, Job, Step, Tree, Workflow
from ci_helper.rules.guard_script import guard_script
from ci_helper.workflows.shell import parse_script, resolve_shell
from ci_helper.workflows.uses import LOCAL, REMOTE, SELF

ID = "missing-guardrail"
TRIGGERS = ("pull_request", "pull_request_target", "push")

# kind -> what a comparison of it looks like in a script or an expression
_KINDS: dict[str, tuple[str, re.Pattern[str]]] = {
    "repository": ("GITHUB_REPOSITORY", re.compile(r"GITHUB_REPOSITORY(?![A-Z_])|github\.repository(?![\w-])")),
    "base-branch": ("GITHUB_BASE_REF", re.compile(r"GITHUB_BASE_REF(?![A-Z_])|github\.base_ref(?![\w-])")),
    "ref": ("GITHUB_REF", re.compile(r"GITHUB_REF(_NAME)?(?![A-Z_])|github\.ref(_name)?(?![\w-])")),
    "event": ("GITHUB_EVENT_NAME", re.compile(r"GITHUB_EVENT_NAME(?![A-Z_])|github\.event_name(?![\w-])")),
}
ALL_KINDS = frozenset(_KINDS)
_MENTIONS = re.compile("|".join(pattern.pattern for _, pattern in _KINDS.values()))
_AFTER_FAILURE = re.compile(r"\b(always|failure|cancelled)\s*\(")
_GUARD_COMMAND = re.compile(r"ci-helper\s+guard\b")
# `if:` values under which a step still always runs (the default is success()).
_ALWAYS = frozenset({"", "true", "success()", "always()"})
# Expression variable per kind, for `if:` conditions.
_CONTEXT = {
    "repository": r"github\.repository",
    "base-branch": r"github\.base_ref",
    "ref": r"github\.ref(?:_name)?",
    "event": r"github\.event_name",
}
_LITERAL = r"'(?:[^']|'')*'"
_EQUAL = {kind: re.compile(rf"^(?:{ctx}\s*==\s*{_LITERAL}|{_LITERAL}\s*==\s*{ctx})$") for kind, ctx in _CONTEXT.items()}
_UNEQUAL = {kind: re.compile(rf"^(?:{ctx}\s*!=\s*{_LITERAL}|{_LITERAL}\s*!=\s*{ctx})$") for kind, ctx in _CONTEXT.items()}
# Non-POSIX scripts (pwsh, python): a line must both compare and fail.
_LINE_COMPARISON = re.compile(r"!=|==|\s-ne\s|\s-eq\s|\bnot in\b")
_LINE_FAILS = re.compile(r"\bexit\s*\(?\s*[1-9]|\bthrow\b|\bsys\.exit\((?!\s*0?\s*\))|\braise\b|\bassert\b")


def required_kinds(configured: list[str]) -> frozenset[str]:
    unknown = [k for k in configured if k not in _KINDS]
    if unknown:
        raise BadInput(f"[tool.ci-helper] verify.guardrails: unknown guardrail '{unknown[0]}'; expected some of: "
                       + ", ".join(sorted(_KINDS)))
    return frozenset(configured)


@lru_cache(maxsize=4096)
def _line_guards(text: str) -> frozenset[str]:
    """Kinds a non-POSIX script guards: a line that compares the variable and fails (exit 1, throw, sys.exit...)."""
    kinds = set()
    for line in text.splitlines():
        if not (_LINE_COMPARISON.search(line) and _LINE_FAILS.search(line)):
            continue
        for kind, (_, pattern) in _KINDS.items():
            if pattern.search(line):
                kinds.add(kind)
    return frozenset(kinds)


def _expression(value: str) -> str:
    text = value.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    return text


def _split_top(text: str, operator: str) -> list[str]:
    """``text`` split at ``operator`` outside parentheses and string literals."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted  # '' inside a literal toggles twice
        elif not quoted:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and text.startswith(operator, i):
                parts.append(text[start:i].strip())
                i += len(operator)
                start = i
                continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def _unwrap(text: str) -> str:
    """Drop parentheses around the whole expression (not the two of ``(a) && (b)``)."""
    while text.startswith("(") and text.endswith(")"):
        depth, quoted = 0, False
        for i, ch in enumerate(text):
            if ch == "'":
                quoted = not quoted
            elif not quoted:
                depth += (ch == "(") - (ch == ")")
                if depth == 0 and i < len(text) - 1:
                    return text
        text = text[1:-1].strip()
    return text


def _conjunct_kinds(value: str) -> frozenset[str]:
    """Kinds a job ``if:`` requires to equal a literal: only as a top-level ``&&`` term, never under ``||`` or ``!``."""
    kinds: set[str] = set()
    text = _unwrap(_expression(value))
    if len(_split_top(text, "||")) > 1:
        return frozenset()
    for term in _split_top(text, "&&"):
        term = _unwrap(term)
        if len(_split_top(term, "&&")) > 1:
            kinds |= _conjunct_kinds(term)
            continue
        kinds |= {kind for kind, pattern in _EQUAL.items() if pattern.match(term)}
    return frozenset(kinds)


def _disjunct_unequal_kinds(value: str) -> frozenset[str]:
    """Kinds a step ``if:`` runs the step for whenever they differ: a top-level ``||`` term ``x != '...'``."""
    kinds: set[str] = set()
    text = _unwrap(_expression(value))
    if len(_split_top(text, "&&")) > 1 and len(_split_top(text, "||")) == 1:
        return frozenset()
    for term in _split_top(text, "||"):
        term = _unwrap(term)
        kinds |= {kind for kind, pattern in _UNEQUAL.items() if pattern.match(term)}
    return frozenset(kinds)


def _always_runs(step: Step) -> bool:
    """The step runs whenever the job does and its failure fails the job."""
    if step.if_ is not None and _expression(step.if_.value) not in _ALWAYS:
        return False
    return _fails_job(step)


def _fails_job(step: Step) -> bool:
    coe = step.continue_on_error
    return coe is None or (not coe.is_expression and coe.as_bool() is False)


class _Guards:
    """Guardrail kinds each step, action, job and workflow provides; memoised across the tree."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._actions: dict[str, frozenset[str]] = {}
        self._workflows: dict[str, frozenset[str]] = {}

    def step(self, step: Step) -> frozenset[str]:
        if not _always_runs(step):
            # A step that can be skipped or whose failure is ignored stops nothing, except one that
            # runs exactly when the value differs (`if: github.repository != 'o/r'`) and fails.
            if step.if_ is None or step.run is None or not _fails_job(step):
                return frozenset()
            kinds = _disjunct_unequal_kinds(step.if_.value)
            if kinds and resolve_shell(step.shell.value if step.shell is not None else None).posix \
                    and guard_script(step.run.value, True).exits:
                return kinds
            return frozenset()
        ref = step.ref
        if ref is not None:
            if ref.ours:
                path = ref.path.strip("/").lower()
                command = step.with_.get("command")
                if path == "actions/guardrails" or (not path and command is not None and command.value.split()[:1] == ["guard"]):
                    return ALL_KINDS
                return frozenset()
            if ref.kind in (LOCAL, SELF):
                action = self.tree.local_action(ref)
                return self.action(action) if action is not None else frozenset()
            return frozenset()
        if step.run is None:
            return frozenset()
        script = step.run.value
        shell = resolve_shell(step.shell.value if step.shell is not None else None)
        if shell.posix and "ci-helper" in script:
            for item in parse_script(script):
                for cmd in item.commands():
                    if cmd.program == "ci-helper" and cmd.argv[1:2] == ["guard"]:
                        return ALL_KINDS
        elif _GUARD_COMMAND.search(script):
            return ALL_KINDS
        if shell.posix:
            # Most scripts never name a guarded variable: skip walking them.
            if not _MENTIONS.search(script):
                return frozenset()
            return guard_script(script, shell.errexit).kinds
        return _line_guards(script)

    def action(self, action: Action) -> frozenset[str]:
        known = self._actions.get(action.rel)
        if known is not None:
            return known
        self._actions[action.rel] = frozenset()  # cycles add nothing
        kinds: frozenset[str] = frozenset()
        for step in action.steps:
            kinds |= self.step(step)
        self._actions[action.rel] = kinds
        return kinds

    def jobs(self, workflow: Workflow) -> dict[str, frozenset[str]]:
        """Kinds per job id, including what a job inherits through ``needs:``."""
        by_id = {job.id: job for job in workflow.jobs}
        own = {job.id: self._own(job) for job in workflow.jobs}
        resolved: dict[str, frozenset[str]] = {}

        def resolve(job_id: str, seen: frozenset[str]) -> frozenset[str]:
            if job_id in resolved:
                return resolved[job_id]
            job = by_id.get(job_id)
            if job is None or job_id in seen:
                return frozenset()
            kinds = own[job_id]
            if job.if_ is None or not _AFTER_FAILURE.search(job.if_.value):
                for need in job.needs:
                    kinds |= resolve(need, seen | {job_id})
            resolved[job_id] = kinds
            return kinds

        return {job.id: resolve(job.id, frozenset()) for job in workflow.jobs}

    def _own(self, job: Job) -> frozenset[str]:
        kinds: set[str] = set()
        if job.if_ is not None:
            kinds |= _conjunct_kinds(job.if_.value)
        ref = job.ref
        if ref is not None:
            if ref.kind == REMOTE:
                # ci-helper's reusable workflows start with the guardrails action.
                if ref.ours:
                    kinds |= ALL_KINDS
            elif ref.kind in (LOCAL, SELF):
                called = self.tree.local_workflow(ref)
                if called is not None:
                    kinds |= self.workflow(called)
        for step in job.steps:
            kinds |= self.step(step)
        return frozenset(kinds)

    def workflow(self, workflow: Workflow) -> frozenset[str]:
        """Kinds every job of a (reusable) workflow has."""
        known = self._workflows.get(workflow.rel)
        if known is not None:
            return known
        self._workflows[workflow.rel] = frozenset()
        per_job = self.jobs(workflow).values()
        kinds = frozenset.intersection(*per_job) if per_job else frozenset()
        self._workflows[workflow.rel] = kinds
        return kinds


class MissingGuardrail:
    id = ID
    summary = "a job run by pull_request or push without the configured guardrails (by default a repository check)"

    def check(self, ctx: Context) -> Iterator[Finding]:
        required = required_kinds(ctx.settings.guardrails)
        if not required:
            return
        guards = _Guards(ctx.tree)
        for workflow in ctx.tree.workflows:
            events = [t for t in TRIGGERS if t in workflow.triggers]
            if not events:
                continue
            per_job = guards.jobs(workflow)
            for job in workflow.jobs:
                missing = sorted(required - per_job[job.id])
                for kind in missing:
                    variable = _KINDS[kind][0]
                    yield finding(
                        ID,
                        f"job '{job.id}' runs on {'/'.join(events)} without a {kind} guardrail; add a step that uses "
                        f"truthful-ci/ci-helper/actions/guardrails (or fails when {variable} is not the expected value)",
                        workflow.rel, job.line, job.column, job=job.id, guardrail=kind,
                    )
