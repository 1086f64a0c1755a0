"""Audit a real GitHub Actions run: what made it green without proving anything.

Reads a :class:`~ci_helper.github.RunRecord` (the run's jobs and steps as the API
shows them, the workflow file at the run's commit, our results and JUnit files from
its artifacts) and flags:

- a step that failed in a job that still succeeded (``continue-on-error``);
- a gate job or gate step that was skipped (a skipped required job counts as success);
- a cancelled job, a run that did not finish or did not succeed;
- a tier that ran zero tests, or a result of ours that is not ``pass``, in an artifact;
- an action or reusable workflow that was not pinned to a commit at that commit.

"merge-ready" only when no finding stands. The API lookups live in ``github.py``;
this module only judges.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from ci_helper import results
from ci_helper.errors import BadInput
from ci_helper.github import JobRecord, RunRecord
from ci_helper.rules.gate_commands import GateMatcher
from ci_helper.workflows import Job, Step, Tree, Workflow, parse_uses
from ci_helper.workflows.model import build_workflow
from ci_helper.workflows.source import source_from_text
from ci_helper.workflows.uses import DOCKER, REMOTE

CHECK = "run-audit"
MERGE_READY = "merge-ready"
NOT_MERGE_READY = "not merge-ready"
# GitHub appends the matrix values to a job's name: "test (3.10, ubuntu-latest)".
_MATRIX_SUFFIX = re.compile(r" \([^()]*\)$")


@dataclass
class RunVerdict:
    run: RunRecord
    findings: list[results.Finding] = field(default_factory=list)
    tests: int | None = None  # test cases in the run's JUnit artifacts, when it had any

    @property
    def merge_ready(self) -> bool:
        return not self.findings and self.run.status == "completed" and self.run.conclusion == "success"


def _workflow(run: RunRecord) -> Workflow | None:
    if run.workflow_text is None:
        return None
    try:
        return build_workflow(source_from_text(Path(run.path), run.path, run.workflow_text), strict=False)
    except BadInput:
        return None


def _job_for(workflow: Workflow, api_name: str) -> Job | None:
    base = _MATRIX_SUFFIX.sub("", api_name)
    for job in workflow.jobs:
        names = {job.id}
        if job.name is not None:
            names.add(job.name.value)
        if api_name in names or base in names:
            return job
    return None


def _step_for(job: Job, api_name: str) -> Step | None:
    """The workflow step the API names: its `name:`, else GitHub's "Run <first line>" / "Run <uses>"."""
    for step in job.steps:
        names = {step.label, f"Run {step.label}"}
        if step.run is not None:
            first = next((line.strip() for line in step.run.value.splitlines() if line.strip()), "")
            names.add(f"Run {first}")
        if step.uses is not None:
            names.add(f"Run {step.uses.value.strip()}")
        if api_name in names:
            return step
    return None


def _junit_cases(data: bytes) -> int | None:
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    if root.tag not in ("testsuite", "testsuites"):
        return None
    return sum(1 for _ in root.iter("testcase"))


def _artifact_findings(run: RunRecord, verdict: RunVerdict) -> list[results.Finding]:
    findings = []
    total_cases = None
    for artifact, members in sorted(run.artifacts.items()):
        for name, data in sorted(members.items()):
            if name.endswith(".xml"):
                cases = _junit_cases(data)
                if cases is None:
                    continue
                total_cases = (total_cases or 0) + cases
                if cases == 0:
                    findings.append(
                        results.Finding(
                            "audit-zero-tests",
                            f"artifact {artifact}: {name} holds zero tests: a tier that ran no test passed nothing",
                        )
                    )
            elif name.endswith(".json"):
                try:
                    result = results.CheckResult.from_dict(json.loads(data), f"artifact {artifact}: {name}")
                except (ValueError, BadInput):
                    continue  # not one of our results
                if result.status != results.PASS:
                    why = result.reason or (result.findings[0].message if result.findings else result.status)
                    findings.append(
                        results.Finding(
                            "audit-result", f"artifact {artifact}: check {result.check} is {result.status} ({why})"
                        )
                    )
                elif result.figures.get("tests") == 0:
                    findings.append(
                        results.Finding("audit-zero-tests", f"artifact {artifact}: check {result.check} ran zero tests")
                    )
    verdict.tests = total_cases
    return findings


def audit(run: RunRecord) -> RunVerdict:
    """Every reason this run's green (or red) proves less than it seems."""
    verdict = RunVerdict(run)
    f = verdict.findings
    where = f"run {run.id} ({run.path or run.name})"
    if run.status != "completed":
        f.append(results.Finding("audit-run", f"{where} has not finished (status {run.status})"))
    elif run.conclusion != "success":
        f.append(results.Finding("audit-run", f"{where} concluded {run.conclusion}"))
    workflow = _workflow(run)
    if workflow is None:
        f.append(
            results.Finding(
                "audit-workflow",
                f"{where}: cannot read {run.path} at {run.head_sha}; the run's steps cannot be matched to it",
                file=run.path or None,
            )
        )
    matcher = GateMatcher(Tree(Path("."), [workflow] if workflow else [], []), []) if workflow else None

    for job in run.jobs:
        f.extend(_job_findings(job, workflow, matcher, run))
    if workflow is not None:
        for model_job in workflow.jobs:
            refs = [(model_job.uses, None)] + [(s.uses, s) for s in model_job.steps]
            for value, _step in refs:
                if value is None:
                    continue
                ref = parse_uses(value.value)
                if ref.kind in (REMOTE, DOCKER) and not ref.pinned:
                    f.append(
                        results.Finding(
                            "audit-unpinned",
                            f"{ref.raw} was not pinned to a commit at {run.head_sha[:12]}",
                            file=run.path,
                            line=value.line,
                        )
                    )
    f.extend(_artifact_findings(run, verdict))
    return verdict


def _job_findings(
    job: JobRecord, workflow: Workflow | None, matcher: GateMatcher | None, run: RunRecord
) -> list[results.Finding]:
    out = []
    model = _job_for(workflow, job.name) if workflow is not None else None
    line = model.line if model is not None else None
    file = run.path or None
    if job.conclusion == "cancelled":
        out.append(results.Finding("audit-cancelled", f"job {job.name} was cancelled", file=file, line=line))
    if job.conclusion == "skipped":
        gate = (
            model is not None
            and matcher is not None
            and (
                model.uses is not None
                or any(matcher.step(s, model.default_shell.value if model.default_shell else None) for s in model.steps)
            )
        )
        if gate or model is None:
            out.append(
                results.Finding(
                    "audit-skipped",
                    f"job {job.name} was skipped: a skipped required job counts as success",
                    file=file,
                    line=line,
                )
            )
    for step in job.steps:
        model_step = _step_for(model, step.name) if model is not None else None
        step_line = model_step.line if model_step is not None else line
        if step.conclusion == "failure" and job.conclusion == "success":
            out.append(
                results.Finding(
                    "audit-continue-on-error",
                    f"job {job.name}: step '{step.name}' failed but the job succeeded (continue-on-error)",
                    file=file,
                    line=step_line,
                )
            )
        if (
            step.conclusion == "skipped"
            and model_step is not None
            and matcher is not None
            and job.conclusion == "success"
        ):
            shell = model.default_shell.value if model is not None and model.default_shell else None
            if matcher.step(model_step, shell):
                out.append(
                    results.Finding(
                        "audit-skipped",
                        f"job {job.name}: gate step '{step.name}' was skipped",
                        file=file,
                        line=step_line,
                    )
                )
    return out


def check_result(verdicts: list[RunVerdict], *, required: bool = True) -> results.CheckResult:
    """The ``run-audit`` result over one or more runs."""
    findings = [finding for v in verdicts for finding in v.findings]
    figures = {
        "runs": len(verdicts),
        "jobs": sum(len(v.run.jobs) for v in verdicts),
        "steps": sum(len(j.steps) for v in verdicts for j in v.run.jobs),
        "tests": sum(v.tests or 0 for v in verdicts),
        "verdict": MERGE_READY if verdicts and all(v.merge_ready for v in verdicts) else NOT_MERGE_READY,
    }
    if not verdicts:
        return results.not_run(CHECK, "no workflow run found to audit", figures, required=required)
    if figures["verdict"] == MERGE_READY:
        return results.passed(CHECK, figures, required=required)
    return results.failed(CHECK, figures, findings, required=required)
