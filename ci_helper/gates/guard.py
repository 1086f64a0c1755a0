"""Runtime guardrails: refuse to run where this pipeline must not.

The policy (allowed repositories, PR base branches, refs, events, forks,
pins) comes from flags and ``[tool.ci-helper.guard]``; the facts come from
the runner's ``GITHUB_*`` environment and the event payload. Each violated
rule is one finding that says what was expected and what was found.

Standard library only (but for the pins rule, imported when asked): the
guardrails action runs this decision with ``python3 -I`` from the action's own
files before anything is installed (``ci_helper/gates/guard_first.py``).
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_helper import limits, results
from ci_helper.errors import BadInput
from ci_helper.results import CheckResult, Finding
from ci_helper.settings import GuardSettings, section

CHECK = "guardrails"
FORK_MODES = ("allow", "refuse")

# Events whose GITHUB_REF is the synthetic refs/pull/N/merge: the base branch
# is what identifies where they run, so `refs` does not apply to them.
PULL_REQUEST_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
)

RULE_REPOSITORY = "guard-repository"
RULE_EVENT = "guard-event"
RULE_BASE_BRANCH = "guard-base-branch"
RULE_REF = "guard-ref"
RULE_FORK = "guard-fork"
RULE_PINS = "unpinned-uses"

# Annotation titles, one per rule, so a run's annotations group by guardrail.
TITLES = {
    RULE_REPOSITORY: "Guardrail: repository",
    RULE_EVENT: "Guardrail: event",
    RULE_BASE_BRANCH: "Guardrail: base branch",
    RULE_REF: "Guardrail: ref",
    RULE_FORK: "Guardrail: fork pull request",
    RULE_PINS: "Guardrail: unpinned action",
}


@section
class GuardPolicy(GuardSettings):
    """What the pipeline allows (the settings' fields, merged with flags); an empty list means "no constraint"."""

    def __post_init__(self) -> None:
        if self.forks not in FORK_MODES:
            # Flags are checked by click; a bad value can only come from the settings file.
            raise BadInput(f"[tool.ci-helper] guard.forks: expected 'allow' or 'refuse', got {self.forks!r}")

    def is_empty(self) -> bool:
        return not (
            self.repositories or self.base_branches or self.refs or self.events or self.forks == "refuse" or self.pins
        )


@dataclass
class GuardContext:
    """The facts of the running job, as the runner describes them."""

    repository: str | None
    event: str | None
    ref: str | None
    base_ref: str | None
    event_path: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GuardContext:
        env = os.environ if env is None else env
        # The runner sets GITHUB_BASE_REF to '' outside pull requests: '' means unknown.
        return cls(
            repository=env.get("GITHUB_REPOSITORY") or None,
            event=env.get("GITHUB_EVENT_NAME") or None,
            ref=env.get("GITHUB_REF") or None,
            base_ref=env.get("GITHUB_BASE_REF") or None,
            event_path=env.get("GITHUB_EVENT_PATH") or None,
        )

    @property
    def is_pull_request(self) -> bool:
        return self.event in PULL_REQUEST_EVENTS


def split_values(values: list[str] | tuple[str, ...]) -> list[str]:
    """Flatten values given as repeated flags, comma lists or whitespace lists."""
    out: list[str] = []
    for value in values:
        for part in value.replace(",", " ").split():
            if part not in out:
                out.append(part)
    return out


def ref_matches(ref: str, pattern: str) -> bool:
    """A ``refs/...`` pattern matches the full ref; a bare pattern matches a branch name."""
    full = pattern if pattern.startswith("refs/") else f"refs/heads/{pattern}"
    return fnmatch.fnmatchcase(ref, full)


def branch_matches(branch: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(branch, pattern.removeprefix("refs/heads/"))


def _one_of(values: list[str]) -> str:
    return values[0] if len(values) == 1 else "one of " + ", ".join(values)


def _require(value: str | None, name: str, why: str) -> str:
    if not value:
        raise BadInput(
            f"{name} is not set but the guard policy needs it ({why}); run inside GitHub Actions or export {name}"
        )
    return value


def _payload(context: GuardContext, why: str) -> dict[str, Any]:
    """The event payload (``GITHUB_EVENT_PATH``) as a JSON object; missing or malformed is BadInput."""
    path = _require(context.event_path, "GITHUB_EVENT_PATH", why)
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: event payload not found (GITHUB_EVENT_PATH)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read event payload ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}:{exc.lineno}: malformed event payload ({exc.msg})") from None
    except limits.PARSE_ERRORS as exc:
        raise BadInput(f"{path}: malformed event payload ({limits.why(exc)})") from None
    if not isinstance(payload, dict):
        raise BadInput(
            f"{path}: event payload is not a JSON object; GITHUB_EVENT_PATH must name "
            f"the webhook payload the runner wrote"
        )
    return payload


def _object(payload: dict[str, Any], key: str, context: GuardContext, why: str) -> dict[str, Any]:
    found = payload.get(key)
    if not isinstance(found, dict):
        raise BadInput(
            f"{context.event_path}: event payload has no '{key}' object; "
            f"GITHUB_EVENT_NAME={context.event} needs one ({why})"
        )
    return found


def _pull_request(context: GuardContext, why: str) -> dict[str, Any]:
    """The ``pull_request`` object of the event payload (``GITHUB_EVENT_PATH``)."""
    return _object(_payload(context, why), "pull_request", context, why)


FORK_WHY = "forks = refuse reads the event payload"


@dataclass
class ForkFacts:
    """Where a job's code comes from, as its event payload names it."""

    head: str | None  # head repository full name; None when the payload names none (deleted fork)
    base: str
    source: str  # the payload field the head was read from, named in the message
    known: bool = True  # False: the payload cannot tell (a comment on a pull request)


def _fork_facts(context: GuardContext) -> ForkFacts | None:
    """The head and base repository of an event that runs a pull request's code, else None.

    Covers every event whose payload names a head repository: the pull request
    events and ``workflow_run`` (``workflow_run.head_repository``: a run that a
    fork's pull request triggered). An ``issue_comment`` on a pull request does
    not name the head, so a fork cannot be ruled out and it is refused.
    ``merge_group`` does not apply: GitHub builds the queue's merge commit in
    the base repository itself, from pull requests already merged into the queue.
    """
    payload = _payload(context, FORK_WHY)
    default_base = _full_name({"repo": payload.get("repository")}) or context.repository
    if context.is_pull_request:
        pull = _object(payload, "pull_request", context, FORK_WHY)
        base = _full_name(pull.get("base")) or default_base
        head, source = _full_name(pull.get("head")), "pull_request.head.repo.full_name"
    elif context.event == "workflow_run":
        run = _object(payload, "workflow_run", context, FORK_WHY)
        base = _full_name({"repo": run.get("repository")}) or default_base
        head, source = _full_name({"repo": run.get("head_repository")}), "workflow_run.head_repository.full_name"
    elif context.event == "issue_comment":
        issue = _object(payload, "issue", context, FORK_WHY)
        if issue.get("pull_request") is None:
            return None  # a comment on an issue runs no pull request's code
        base, head, source = default_base, None, "issue.pull_request"
    else:
        return None
    if not base:
        raise BadInput(
            f"{context.event_path}: the event payload names no base repository and GITHUB_REPOSITORY is not set"
        )
    return ForkFacts(head, base, source, known=source != "issue.pull_request")


def _base_branch(context: GuardContext) -> tuple[str, str]:
    """(base branch, where it was read) of a PR event."""
    if context.base_ref:
        return context.base_ref, "GITHUB_BASE_REF"
    why = f"{context.event} events must target an allowed base branch"
    if context.event_path:
        # The runner sets GITHUB_BASE_REF for pull_request and pull_request_target
        # only; the review events carry the base branch in their payload.
        base = _pull_request(context, why).get("base")
        ref = base.get("ref") if isinstance(base, dict) else None
        if isinstance(ref, str) and ref:
            return ref, "pull_request.base.ref"
    return _require(None, "GITHUB_BASE_REF", why), "GITHUB_BASE_REF"


def _full_name(side: Any) -> str | None:
    repo = side.get("repo") if isinstance(side, dict) else None
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) and name else None


def evaluate(policy: GuardPolicy, context: GuardContext) -> tuple[list[Finding], dict[str, Any]]:
    """Findings for every violated runtime rule, and the figures describing the job.

    Raises BadInput when the policy needs a fact the environment does not give.
    """
    if policy.is_empty():
        raise BadInput(
            "the guard has no policy, so it would pass anywhere; give --repository "
            "(or repositories/repository in [tool.ci-helper.guard] / [tool.ci-helper])"
        )
    findings: list[Finding] = []
    figures: dict[str, Any] = {
        "repository": context.repository,
        "event": context.event,
        "ref": context.ref,
        "base": context.base_ref,
        # Known only when the fork rule reads an event payload that names a head repository.
        "head_repository": None,
        # Counted only with --pins; None says "not checked", never "zero".
        "unpinned_uses": None,
    }

    if policy.repositories:
        repository = _require(context.repository, "GITHUB_REPOSITORY", "repositories are restricted")
        # GitHub owner and repository names are case-insensitive.
        if repository.lower() not in {r.lower() for r in policy.repositories}:
            findings.append(
                Finding(
                    RULE_REPOSITORY,
                    f"must run only in {_one_of(policy.repositories)}, not in {repository} (GITHUB_REPOSITORY)",
                )
            )

    needs_event = policy.events or policy.base_branches or policy.refs or policy.forks == "refuse"
    if needs_event:
        event = _require(context.event, "GITHUB_EVENT_NAME", "events, base branches, refs or forks are restricted")
        if policy.events and event not in policy.events:
            findings.append(
                Finding(
                    RULE_EVENT,
                    f"must run only on {_one_of(policy.events)} events, not on {event} (GITHUB_EVENT_NAME)",
                )
            )

    if policy.base_branches and context.is_pull_request:
        base, source = _base_branch(context)
        figures["base"] = base
        if not any(branch_matches(base, p) for p in policy.base_branches):
            findings.append(
                Finding(
                    RULE_BASE_BRANCH,
                    f"pull requests must target {_one_of(policy.base_branches)}, not {base} ({source})",
                )
            )

    if policy.refs and context.event is not None and not context.is_pull_request:
        ref = _require(context.ref, "GITHUB_REF", f"{context.event} events must run on an allowed ref")
        if not any(ref_matches(ref, p) for p in policy.refs):
            findings.append(
                Finding(
                    RULE_REF,
                    f"{context.event} events must run only on {_one_of(policy.refs)}, not on {ref} (GITHUB_REF)",
                )
            )

    if policy.forks == "refuse":
        facts = _fork_facts(context)
        if facts is not None:
            figures["head_repository"] = facts.head
            if not facts.known:
                findings.append(
                    Finding(
                        RULE_FORK,
                        f"pull requests from forks are refused: an {context.event} event on a pull request does not "
                        f"name its head repository ({facts.source}), so a fork cannot be ruled out; guard the job "
                        f"that runs the pull request's code (pull_request, workflow_run) or set forks = allow",
                    )
                )
            elif facts.head is None or facts.head.lower() != facts.base.lower():
                found = facts.head if facts.head is not None else "a deleted repository"
                findings.append(
                    Finding(
                        RULE_FORK,
                        f"pull requests from forks are refused: expected the head repository to be {facts.base}, "
                        f"found {found} ({facts.source})",
                    )
                )
    return findings, figures


def pin_findings(root: Path, settings: Any) -> list[Finding]:
    """The ``unpinned-uses`` findings of ``ci-helper verify`` over the checked-out repository."""
    from ci_helper.rules import run_rules  # the rule engine is only needed with --pins

    report = run_rules(root, settings, only={RULE_PINS})
    if report.files == 0:
        # "No unpinned action" about files never seen would be a false pass.
        raise BadInput(
            f"--pins needs the repository checked out, but {root} has no workflow or action file; "
            f"run actions/checkout before the guard or drop --pins"
        )
    return list(report.findings)


def run(policy: GuardPolicy, context: GuardContext, root: Path | None = None, settings: Any = None) -> CheckResult:
    """Evaluate the policy (and the pins rule when asked) into the ``guardrails`` check result."""
    findings, figures = evaluate(policy, context)
    if policy.pins:
        if settings is None:
            from ci_helper.settings import Settings

            settings = Settings()
        pins = pin_findings(root or Path("."), settings)
        figures["unpinned_uses"] = len(pins)
        findings.extend(pins)
    if findings:
        return results.failed(CHECK, figures, findings)
    return results.passed(CHECK, figures)


def merge_policy(
    settings: Any,
    repositories: list[str] | tuple[str, ...],
    base_branches: list[str] | tuple[str, ...],
    refs: list[str] | tuple[str, ...],
    events: list[str] | tuple[str, ...],
    forks: str | None,
    pins: bool | None,
) -> GuardPolicy:
    """Flags (or the action's inputs) win over ``[tool.ci-helper.guard]``; the project's ``repository`` is the last resort."""
    from ci_helper.settings import merge

    given = {
        name: split_values(values) or None
        for name, values in (
            ("repositories", repositories),
            ("base_branches", base_branches),
            ("refs", refs),
            ("events", events),
        )
    }
    configured = merge(settings.guard, forks=forks, pins=pins, **given)
    repos = split_values(configured.repositories)
    if not repos and settings.repository:
        repos = [settings.repository]
    return GuardPolicy(
        repositories=repos,
        base_branches=split_values(configured.base_branches),
        refs=split_values(configured.refs),
        events=split_values(configured.events),
        forks=configured.forks,
        pins=configured.pins,
    )


def announce(result: CheckResult, path: Path, github: bool, echo: Callable[[str], object]) -> None:
    """Print the findings (annotations inside GitHub Actions, text lines locally), the verdict line and the outputs."""
    from ci_helper import gha

    for finding in result.findings:
        if github:
            gha.emit_annotation(
                "error",
                finding.message,
                file=finding.file,
                line=finding.line,
                column=finding.column,
                title=title(finding),
            )
        else:
            echo(f"error: {describe(finding)}")
    figures = result.figures
    facts = ", ".join(f"{k} {figures[k]}" for k in ("repository", "event", "ref", "base") if figures.get(k))
    count = len(result.findings)
    verdict = f"{count} finding{'' if count == 1 else 's'}" if count else "all rules hold"
    echo(f"guardrails: {result.status} ({verdict}; {facts or 'no GITHUB_* facts'}) -> {path}")
    gha.set_output("status", result.status)
    gha.set_output("result", str(path))


def describe(finding: Finding) -> str:
    """The text line for a local run: ``rule: [file:line: ]message``."""
    where = finding.location()
    return f"{finding.rule}: {where + ': ' if where else ''}{finding.message}"


def title(finding: Finding) -> str:
    return TITLES.get(finding.rule, f"Guardrail: {finding.rule}")
