"""missing-guardrail: a job that holds something worth guarding runs without the guardrails it needs.

A guardrail refuses to run where the pipeline must not: in a fork or copy
(``repository``), on a PR to another base (``base-branch``), on an unexpected
ref (``ref``) or event (``event``). Only a job that holds something is asked for
one (docs/verify.md lists what counts): secrets other than ``GITHUB_TOKEN``,
``write`` permissions or ``id-token: write``, an ``environment:``, a
``pull_request_target`` / ``workflow_run`` / ``issue_comment`` / ``schedule``
trigger, a self-hosted runner, or a deploy/publish step. A docs build on
``pull_request`` with a read-only token guards nothing and gets no finding.

The kinds required are ``verify.guardrails`` (default ``["repository"]``), plus
``ref`` for jobs run by non-PR events when ``[tool.ci-helper.guard] refs`` is
set, ``base-branch`` for PR jobs when ``base-branches`` is set, and ``event``
when ``events`` is set: the policy the project gave its guard is the one its
jobs must enforce.

A guard counts only when it runs on every event of the job (``if:`` read with
the expression parser, see ``conditions.py``) and its failure stops the job
(no ``continue-on-error`` that can be true; in a script, ``exit_status.py``
decides: ``ci-helper guard &``, ``! ci-helper guard``, ``(ci-helper guard ||
true)``, one inside ``if``/``case``, ``ci-helper guard --help`` do not count).
The guardrails action counts for the kinds its inputs (or the settings it
falls back to) check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from ci_helper.errors import BadInput
from ci_helper.results import Finding
from ci_helper.rules import conditions
from ci_helper.rules.base import Context, finding
from ci_helper.rules.guard_script import guard_script
from ci_helper.settings import GuardSettings
from ci_helper.workflows import Action, Job, Step, Tree, Workflow, facts
from ci_helper.workflows.exit_status import fates
from ci_helper.workflows.shell import Command, resolve_shell
from ci_helper.workflows.uses import LOCAL, REMOTE, SELF

ID = "missing-guardrail"

# kind -> the variable a message names, and how a non-POSIX script mentions it
_KINDS: dict[str, tuple[str, re.Pattern[str]]] = {
    "repository": ("GITHUB_REPOSITORY", re.compile(r"GITHUB_REPOSITORY(?![A-Z_])|github\.repository(?![\w-])")),
    "base-branch": ("GITHUB_BASE_REF", re.compile(r"GITHUB_BASE_REF(?![A-Z_])|github\.base_ref(?![\w-])")),
    "ref": ("GITHUB_REF", re.compile(r"GITHUB_REF(_NAME)?(?![A-Z_])|github\.ref(_name)?(?![\w-])")),
    "event": ("GITHUB_EVENT_NAME", re.compile(r"GITHUB_EVENT_NAME(?![A-Z_])|github\.event_name(?![\w-])")),
}
ALL_KINDS = frozenset(_KINDS)
_MENTIONS = re.compile("|".join(pattern.pattern for _, pattern in _KINDS.values()))
_GUARD_COMMAND = re.compile(r"ci-helper\s+guard\b")
# Guardrails action input / `ci-helper guard` flag / environment variable -> kind.
_INPUTS = {"repositories": "repository", "base-branches": "base-branch", "refs": "ref", "events": "event"}
_FLAGS = {"--repository": "repository", "--base-branch": "base-branch", "--ref": "ref", "--event": "event"}
_ENV = {
    "CI_HELPER_GUARD_REPOSITORIES": "repository",
    "CI_HELPER_GUARD_BASE_BRANCHES": "base-branch",
    "CI_HELPER_GUARD_REFS": "ref",
    "CI_HELPER_GUARD_EVENTS": "event",
}
_NOT_A_CHECK = frozenset({"--help", "-h", "--version"})
# Non-POSIX scripts (pwsh, python): a line must both compare and fail.
_LINE_COMPARISON = re.compile(r"!=|==|\s-ne\s|\s-eq\s|\bnot in\b")
_LINE_FAILS = re.compile(r"\bexit\s*\(?\s*[1-9]|\bthrow\b|\bsys\.exit\((?!\s*0?\s*\))|\braise\b|\bassert\b")

PR_EVENTS = frozenset({"pull_request", "pull_request_target"})
# Triggers that hand a job something worth guarding on their own (a fork's copy runs schedules too).
GUARDED_TRIGGERS = ("pull_request_target", "workflow_run", "issue_comment", "schedule")
# Workflows started only by these are run deliberately (a person) or guarded by their caller.
_UNATTENDED_EXEMPT = frozenset({"workflow_call", "workflow_dispatch"})

# Actions that publish or deploy (owner/repo, lowercase).
PUBLISH_ACTIONS = frozenset(
    {
        "pypa/gh-action-pypi-publish",
        "softprops/action-gh-release",
        "actions/create-release",
        "ncipollo/release-action",
        "svenstaro/upload-release-action",
        "peaceiris/actions-gh-pages",
        "jamesives/github-pages-deploy-action",
        "actions/deploy-pages",
        "ad-m/github-push-action",
        "stefanzweifel/git-auto-commit-action",
        "endbug/add-and-commit",
        "peter-evans/create-pull-request",
        "cloudflare/wrangler-action",
        "amondnet/vercel-action",
        "netlify/actions",
        "docker/build-push-action",
        "huggingface/hf-doc-builder",
        "googleapis/release-please-action",
        "google-github-actions/release-please-action",
        "python-semantic-release/python-semantic-release",
        "changesets/action",
    }
)
_PUBLISH_SCRIPT = re.compile(
    r"\btwine\s+upload\b|\bgit\s+push\b|\bgh\s+release\s+(create|upload|edit)\b|\bnpm\s+publish\b|\bdocker\s+push\b"
    r"|\b(poetry|uv|flit|hatch|pdm|cargo)\s+publish\b|\bmkdocs\s+gh-deploy\b|\bghp-import\b|\bhuggingface-cli\s+upload\b"
    r"|\bgh\s+pr\s+(create|merge)\b|\baws\s+s3\s+(cp|sync)\b|\bgsutil\s+(-m\s+)?(cp|rsync)\b"
)


def required_kinds(configured: list[str]) -> frozenset[str]:
    unknown = [k for k in configured if k not in _KINDS]
    if unknown:
        raise BadInput(
            f"[tool.ci-helper] verify.guardrails: unknown guardrail '{unknown[0]}'; expected some of: "
            + ", ".join(sorted(_KINDS))
        )
    return frozenset(configured)


def policy_kinds(guard: GuardSettings, repository: str | None) -> frozenset[str]:
    """Kinds ``ci-helper guard`` checks with no flag or input: those its settings give a policy for."""
    kinds = set()
    if guard.repositories or repository:
        kinds.add("repository")
    if guard.base_branches:
        kinds.add("base-branch")
    if guard.refs:
        kinds.add("ref")
    if guard.events:
        kinds.add("event")
    return frozenset(kinds)


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


def _is_guard_command(cmd: Command) -> bool:
    argv = cmd.argv
    return cmd.program == "ci-helper" and argv[1:2] == ["guard"] and not any(a in _NOT_A_CHECK for a in argv[2:])


def _fails_job(step: Step) -> bool:
    coe = step.continue_on_error
    return coe is None or conditions.constant(coe.value) is False


Events = tuple[str | None, ...]  # of event names (None: any event, as in a reusable workflow)


class _Guards:
    """Guardrail kinds each step, action, job and workflow provides; memoised across the tree."""

    def __init__(self, tree: Tree, policy: frozenset[str]) -> None:
        self.tree = tree
        self.policy = policy  # what `ci-helper guard` / the guardrails action check from settings
        self._actions: dict[tuple[str, Events], frozenset[str]] = {}
        self._workflows: dict[str, frozenset[str]] = {}

    def _always_runs(self, step: Step, events: Events) -> bool:
        """The step runs on every event of the job (whenever the job gets that far) and its failure fails the job."""
        if step.if_ is not None and not all(conditions.always_true(step.if_.value, e) for e in events):
            return False
        return _fails_job(step)

    def step(self, step: Step, events: Events) -> frozenset[str]:
        if not self._always_runs(step, events):
            # A step that can be skipped or whose failure is ignored stops nothing, except one that
            # runs whenever the value differs (`if: github.repository != 'o/r'`) and fails.
            if step.if_ is None or step.run is None or not _fails_job(step):
                return frozenset()
            if (
                not resolve_shell(step.shell.value if step.shell is not None else None).posix
                or not guard_script(step.run.value, True).exits
            ):
                return frozenset()
            return frozenset(
                kind for kind in ALL_KINDS if all(conditions.always_true_when(step.if_.value, kind, e) for e in events)
            )
        ref = step.ref
        if ref is not None:
            if ref.ours:
                path = ref.path.strip("/").lower()
                command = step.with_.get("command")
                if path == "actions/guardrails":
                    return self._given(step.with_) | self.policy
                if not path and command is not None and command.value.split()[:1] == ["guard"]:
                    args = step.with_.get("args")
                    return self._flags((args.value if args is not None else "").split()) | self.policy
                return frozenset()
            if ref.kind in (LOCAL, SELF):
                action = self.tree.local_action(ref)
                return self.action(action, events) if action is not None else frozenset()
            return frozenset()
        if step.run is None:
            return frozenset()
        script = step.run.value
        shell = resolve_shell(step.shell.value if step.shell is not None else None)
        kinds: frozenset[str] = frozenset()
        if shell.posix and "ci-helper" in script:
            env_kinds = frozenset(kind for var, kind in _ENV.items() if facts.step_env(step).get(var, "").strip())
            for fate in fates(script, shell, _is_guard_command):
                if fate.fatal and not fate.conditional:
                    kinds |= self._flags(fate.command.argv[2:]) | env_kinds | self.policy
        elif not shell.posix and _GUARD_COMMAND.search(script):
            kinds |= self.policy
        if shell.posix:
            # Most scripts never name a guarded variable: skip walking them.
            if _MENTIONS.search(script):
                kinds |= guard_script(script, shell.errexit).kinds
            return kinds
        return kinds | _line_guards(script)

    @staticmethod
    def _given(with_: dict[str, Any]) -> frozenset[str]:
        return frozenset(kind for name, kind in _INPUTS.items() if name in with_ and with_[name].value.strip())

    @staticmethod
    def _flags(argv: list[str]) -> frozenset[str]:
        kinds = set()
        for word in argv:
            flag = word.split("=", 1)[0]
            if flag in _FLAGS:
                kinds.add(_FLAGS[flag])
        return frozenset(kinds)

    def action(self, action: Action, events: Events) -> frozenset[str]:
        key = (action.rel, events)
        known = self._actions.get(key)
        if known is not None:
            return known
        self._actions[key] = frozenset()  # cycles add nothing
        kinds: frozenset[str] = frozenset()
        for step in action.steps:
            kinds |= self.step(step, events)
        self._actions[key] = kinds
        return kinds

    def jobs(self, workflow: Workflow) -> dict[str, frozenset[str]]:
        """Kinds per job id, including what a job inherits through ``needs:``."""
        by_id = {job.id: job for job in workflow.jobs}
        own = {job.id: self._own(workflow, job) for job in workflow.jobs}
        resolved: dict[str, frozenset[str]] = {}

        def resolve(job_id: str, seen: frozenset[str]) -> frozenset[str]:
            if job_id in resolved:
                return resolved[job_id]
            job = by_id.get(job_id)
            if job is None or job_id in seen:
                return frozenset()
            kinds = own[job_id]
            if not conditions.runs_after_failure(job.if_.value if job.if_ is not None else None):
                for need in job.needs:
                    kinds |= resolve(need, seen | {job_id})
            resolved[job_id] = kinds
            return kinds

        return {job.id: resolve(job.id, frozenset()) for job in workflow.jobs}

    def _own(self, workflow: Workflow, job: Job) -> frozenset[str]:
        events = job_events(workflow, job)
        kinds: set[str] = set()
        if job.if_ is not None:
            kinds |= {
                kind for kind in ALL_KINDS if all(conditions.never_true_when(job.if_.value, kind, e) for e in events)
            }
        ref = job.ref
        if ref is not None:
            if ref.kind == REMOTE:
                # ci-helper's reusable workflows start with the guardrails action and hand it these inputs.
                if ref.ours:
                    kinds |= self._given(job.with_) | self.policy
            elif ref.kind in (LOCAL, SELF):
                called = self.tree.local_workflow(ref)
                if called is not None:
                    kinds |= self.workflow(called)
        for step in job.steps:
            kinds |= self.step(step, events)
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


def job_events(workflow: Workflow, job: Job) -> Events:
    """The events a job can run on: the workflow's triggers its ``if:`` does not rule out (None: any event)."""
    triggers = sorted(workflow.triggers)
    if "workflow_call" in workflow.triggers or not triggers:
        return (None,)
    if job.if_ is None:
        return tuple(triggers)
    events = tuple(e for e in triggers if conditions.can_be_true(job.if_.value, e))
    return events or tuple(triggers)


def assets(tree: Tree, workflow: Workflow, job: Job, events: Events, seen: frozenset[str] = frozenset()) -> list[str]:
    """What the job holds that a guard protects, in words (empty: nothing worth guarding)."""
    found: list[str] = []
    for event in GUARDED_TRIGGERS:
        if event in events:
            found.append(f"the {event} trigger")
    secret_names = sorted(facts.job_secrets(workflow, job) - {"GITHUB_TOKEN", "github_token"})
    if "*" in secret_names:
        found.append("every secret (secrets: inherit)")
        secret_names.remove("*")
    if secret_names:
        found.append(
            ", ".join(f"secrets.{name}" for name in secret_names[:3]) + (" ..." if len(secret_names) > 3 else "")
        )
    perms = facts.job_permissions(job)
    if perms is None:
        perms = facts.workflow_permissions(workflow)
    if perms is not None and (perms.writes or perms.unknown):
        if "*" in perms.writes:
            found.append("write-all permissions")
        elif perms.writes:
            found.append(", ".join(f"{scope}: write" for scope in sorted(perms.writes)))
        else:
            found.append("permissions set by an expression")
    environment = facts.environment(job)
    if environment is not None:
        found.append(f"environment '{environment}'")
    if any(label.strip().lower() == "self-hosted" for label in facts.runs_on(job)):
        found.append("a self-hosted runner")
    for step in job.steps:
        what = publishes(step)
        if what is not None:
            found.append(f"a publish step ({what})")
            break
    ref = job.ref
    if ref is not None and ref.kind in (LOCAL, SELF) and workflow.rel not in seen:
        called = tree.local_workflow(ref)
        if called is not None:
            for called_job in called.jobs:
                for item in assets(tree, called, called_job, (None,), seen | {workflow.rel}):
                    if item not in found:
                        found.append(item)
    return found


def publishes(step: Step) -> str | None:
    """What a deploy or publish step publishes with, or None."""
    ref = step.ref
    if ref is not None and ref.kind == REMOTE:
        if ref.repo.lower() in PUBLISH_ACTIONS:
            if ref.repo.lower() == "docker/build-push-action":
                push = step.with_.get("push")
                if push is None or push.value.strip().lower() == "false":
                    return None
            return ref.repo
        return None
    if step.run is not None:
        return _publishing_command(step.run.value)
    return None


@lru_cache(maxsize=4096)
def _publishing_command(script: str) -> str | None:
    # Cached: the same scripts run in many jobs (matrix copies, copied workflows).
    match = _PUBLISH_SCRIPT.search(script)
    return " ".join(match.group(0).split()) if match is not None else None


class MissingGuardrail:
    id = ID
    summary = (
        "a job that holds secrets, write permissions, an environment or a publish step without the guardrails it needs"
    )

    def check(self, ctx: Context) -> Iterator[Finding]:
        base = required_kinds(ctx.settings.guardrails)
        if not base:
            return
        policy = policy_kinds(ctx.guard, ctx.repository)
        guards = _Guards(ctx.tree, policy)
        for workflow in ctx.tree.workflows:
            if not workflow.triggers or workflow.triggers <= _UNATTENDED_EXEMPT:
                continue
            per_job = None
            for job in workflow.jobs:
                events = job_events(workflow, job)
                held = assets(ctx.tree, workflow, job, events)
                if not held:
                    continue
                if per_job is None:
                    per_job = guards.jobs(workflow)
                required = set(base)
                if ctx.guard.refs and any(e not in PR_EVENTS for e in events):
                    required.add("ref")
                if ctx.guard.base_branches and any(e in PR_EVENTS for e in events):
                    required.add("base-branch")
                if ctx.guard.events:
                    required.add("event")
                for kind in sorted(required - per_job[job.id]):
                    variable = _KINDS[kind][0]
                    shown = [e for e in events if e is not None]
                    on = f" ({'/'.join(shown)})" if shown else ""
                    yield finding(
                        ID,
                        f"job '{job.id}'{on} holds {held[0]} but has no {kind} guardrail; add a step that uses "
                        f"truthful-ci/ci-helper/actions/guardrails (or fails when {variable} is not the expected value)",
                        workflow.rel,
                        job.line,
                        job.column,
                        job=job.id,
                        guardrail=kind,
                    )


RULE = MissingGuardrail()
