"""Render run audits as markdown (from a template file) or JSON. Reads typed verdicts only."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from ci_helper.gates.run_audit import MERGE_READY, RunVerdict

if TYPE_CHECKING:
    from ci_helper.report.local import LocalReport
from ci_helper.summary import escape
from ci_helper.summary.escape import Markdown

TEMPLATES = Path(__file__).parent / "templates"
CONCLUSION_ICONS = {"success": "✅", "failure": "❌", "cancelled": "⛔", "skipped": "⏭️", None: "⏳"}


@functools.cache
def _environment() -> jinja2.Environment:
    # Job and step names come from the workflow file of the audited commit, which a pull
    # request can write: every value passes through the markdown escaper unless marked safe.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,
        finalize=lambda v: v if isinstance(v, Markdown) else escape.inline(v),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(icons=CONCLUSION_ICONS, merge_ready=MERGE_READY)
    return env


def markdown(verdicts: list[RunVerdict], overall: str) -> str:
    return _environment().get_template("run_audit.md.j2").render(verdicts=verdicts, overall=overall)


def local_markdown(report: LocalReport) -> str:
    return _environment().get_template("local_report.md.j2").render(report=report)


def local_json(report: LocalReport) -> str:
    import dataclasses

    return (
        json.dumps(
            {
                "verdict": report.verdict,
                "root": report.root,
                "invariants": [dataclasses.asdict(i) for i in report.invariants],
                "checks": [c.to_dict() for c in report.checks],
                "tiers": [dataclasses.asdict(t) for t in report.tiers],
                "workflows": [dataclasses.asdict(w) for w in report.workflows],
                "tiers_not_run": report.tiers_not_run,
                "changed_files": (
                    [dataclasses.asdict(f) for f in report.changed_files] if report.changed_files is not None else None
                ),
                "coverage_note": report.coverage_note,
                "base": report.base,
            },
            indent=2,
        )
        + "\n"
    )


def as_json(verdicts: list[RunVerdict], overall: str) -> str:
    return (
        json.dumps(
            {
                "verdict": overall,
                "runs": [
                    {
                        "id": v.run.id,
                        "workflow": v.run.path,
                        "event": v.run.event,
                        "head_sha": v.run.head_sha,
                        "status": v.run.status,
                        "conclusion": v.run.conclusion,
                        "url": v.run.html_url,
                        "merge_ready": v.merge_ready,
                        "tests": v.tests,
                        "jobs": [
                            {
                                "name": j.name,
                                "status": j.status,
                                "conclusion": j.conclusion,
                                "steps": [
                                    {"number": s.number, "name": s.name, "status": s.status, "conclusion": s.conclusion}
                                    for s in j.steps
                                ],
                            }
                            for j in v.run.jobs
                        ],
                        "findings": [f.to_dict() for f in v.findings],
                        "artifacts_skipped": v.run.artifacts_skipped,
                    }
                    for v in verdicts
                ],
            },
            indent=2,
        )
        + "\n"
    )
