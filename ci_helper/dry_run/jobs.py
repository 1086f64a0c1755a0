"""Which workflow jobs a dry run executes, and where ci-helper's own actions come from.

A job is run when its workflow is triggered by the simulated event and one of
its steps uses a ci-helper action: ``<owner>/ci-helper[/actions/<name>]@<ref>``
(any owner: forks and mirrors keep the repository name) or a local ``./path``
that resolves into this checkout. Those remote references are mapped to this
checkout (the runner's stub-remote mapping), so the dry run executes the very
``action.yml`` files of the installed ci-helper; other remote actions are not
run and are reported as skipped.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_helper.errors import BadInput
from ci_helper.workflows.uses import LOCAL, REMOTE, parse_uses

OUR_REPOSITORY_NAME = "ci-helper"


def checkout_root() -> Path:
    """The ci-helper checkout this code runs from (it holds ``actions/``)."""
    root = Path(__file__).resolve().parent.parent.parent
    if not (root / "actions").is_dir():
        raise BadInput(f"verify --run needs ci-helper's actions/ folder beside its package ({root}/actions not "
                       "found); install ci-helper from a checkout: python3 -m pip install -e .")
    return root


def is_ours(uses: str, workspace: Path, ours: Path) -> bool:
    parsed = parse_uses(uses)
    if parsed.kind == REMOTE:
        return parsed.repo.split("/")[-1].lower() == OUR_REPOSITORY_NAME and (
            parsed.path == "" or parsed.path.startswith("actions/"))
    if parsed.kind == LOCAL:
        target = (workspace / (parsed.local_path or "")).resolve()
        return target == ours or ours in target.parents
    return False


@dataclass
class PlannedJob:
    workflow: Path          # the workflow file
    source: str             # its path as shown (relative to the project)
    job_id: str
    name: str
    steps: list
    env: dict[str, Any] = field(default_factory=dict)
    matrix: dict[str, Any] = field(default_factory=dict)
    condition: Any = None   # the job's `if:`
    remotes: set[str] = field(default_factory=set)  # owner/ci-helper slugs to map to this checkout


@dataclass
class Plan:
    jobs: list[PlannedJob]
    # Jobs that were looked at and not run, with why (shown, never counted as passed).
    passed_over: list[str] = field(default_factory=list)


def _triggers(on: Any) -> dict[str, Any]:
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(e): None for e in on}
    if isinstance(on, dict):
        return {str(k): v for k, v in on.items()}
    return {}


def triggered(on: Any, event: str, branch: str) -> str:
    """Empty when the workflow runs for ``event`` on ``branch``, else why not."""
    triggers = _triggers(on)
    if event not in triggers:
        return f"not triggered by {event}"
    spec = triggers[event]
    if not isinstance(spec, dict):
        return ""
    branches, ignore = spec.get("branches"), spec.get("branches-ignore")
    if isinstance(branches, list):
        included = False
        for pattern in branches:  # later patterns win; a leading ! excludes
            text = str(pattern)
            if text.startswith("!"):
                if fnmatch.fnmatchcase(branch, text[1:]):
                    included = False
            elif fnmatch.fnmatchcase(branch, text):
                included = True
        if not included:
            return f"{event} on {branch} is not in branches: {', '.join(map(str, branches))}"
    if isinstance(ignore, list) and any(fnmatch.fnmatchcase(branch, str(p)) for p in ignore):
        return f"{event} on {branch} is in branches-ignore"
    return ""


def _first_matrix(strategy: Any) -> dict[str, Any]:
    """The first combination of a job's matrix (a dry run runs one)."""
    if not isinstance(strategy, dict) or not isinstance(strategy.get("matrix"), dict):
        return {}
    matrix = {}
    for key, values in strategy["matrix"].items():
        if key in ("include", "exclude"):
            continue
        if isinstance(values, list) and values:
            matrix[str(key)] = values[0]
    return matrix


def plan(project: Path, event: str, branch: str, only_jobs: tuple[str, ...] = ()) -> Plan:
    """The jobs to run, in workflow-file order then job order."""
    from ci_helper.runner import load_yaml
    from ci_helper.runner.manifest import ManifestError
    from ci_helper.workflows.discovery import discover

    ours = checkout_root() / "actions"
    workflows, _ = discover(project)
    result = Plan(jobs=[])
    seen_ids: set[str] = set()
    for path, rel in workflows:
        try:
            document = load_yaml(path)
        except ManifestError as exc:
            raise BadInput(str(exc)) from None
        if not isinstance(document, dict) or not isinstance(document.get("jobs"), dict):
            continue
        why_not = triggered(document.get("on"), event, branch)
        for job_id, job in document["jobs"].items():
            job_id = str(job_id)
            seen_ids.add(job_id)
            if only_jobs and job_id not in only_jobs:
                continue
            where = f"{rel}: job {job_id}"
            if not isinstance(job, dict):
                continue
            if "uses" in job:
                if only_jobs or _reusable_is_ours(job["uses"]):
                    result.passed_over.append(f"{where}: reusable workflow {job['uses']} is not run locally")
                continue
            steps = job.get("steps")
            if not isinstance(steps, list):
                continue
            remotes: set[str] = set()
            uses_ours = False
            for step in steps:
                uses = step.get("uses") if isinstance(step, dict) else None
                if isinstance(uses, str) and is_ours(uses, project.resolve(), ours):
                    uses_ours = True
                    parsed = parse_uses(uses)
                    if parsed.kind == REMOTE:
                        remotes.add(parsed.repo)
            if not uses_ours and not only_jobs:
                continue
            if why_not:
                result.passed_over.append(f"{where}: {why_not}")
                continue
            env = {**_mapping(document.get("env")), **_mapping(job.get("env"))}
            result.jobs.append(PlannedJob(path, rel, job_id, str(job.get("name") or job_id), steps, env,
                                          _first_matrix(job.get("strategy")), job.get("if"), remotes))
    unknown = [j for j in only_jobs if j not in seen_ids]
    if unknown:
        raise BadInput(f"--job {unknown[0]}: no such job in {project}/.github/workflows "
                       f"(jobs: {', '.join(sorted(seen_ids)) or 'none'})")
    return result


def _mapping(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _reusable_is_ours(uses: Any) -> bool:
    parsed = parse_uses(str(uses))
    return parsed.kind == REMOTE and parsed.repo.split("/")[-1].lower() == OUR_REPOSITORY_NAME
