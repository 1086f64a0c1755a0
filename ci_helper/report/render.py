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
# Where a saved report goes inside the results folder: a subfolder, so that no reader of
# results (`*.json` in the folder itself) takes the report for a check result.
REPORT_FOLDER = "report"
# GitHub rejects a step summary above 1 MiB whole: stay under it, with room for the note.
STEP_SUMMARY_BUDGET = 1024 * 1024 - 4096
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


def save(report: LocalReport, results_folder: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.json`` into ``<results>/report/``; returns both paths."""
    from ci_helper.errors import BadInput

    folder = Path(results_folder) / REPORT_FOLDER
    markdown_file, json_file = folder / "report.md", folder / "report.json"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        markdown_file.write_text(local_markdown(report), encoding="utf-8")
        json_file.write_text(local_json(report), encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{folder}: cannot write the report ({exc.strerror or exc})") from None
    return markdown_file, json_file


def within_step_summary(markdown: str) -> str:
    """The report cut at a line to fit GitHub's step summary, saying so; whole when it fits."""
    data = markdown.encode("utf-8")
    if len(data) <= STEP_SUMMARY_BUDGET:
        return markdown
    cut = data[:STEP_SUMMARY_BUDGET].decode("utf-8", errors="ignore").rsplit("\n", 1)[0]
    return cut + "\n\n_The report is longer than a step summary may be: the whole of it is in report.md._\n"


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
