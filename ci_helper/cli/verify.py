"""``ci-helper verify [PATH] [--format text|json|sarif|github]``: static rules over workflows and actions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

FORMATS = ("text", "json", "sarif", "github")


@click.command("verify")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, envvar="CI_HELPER_VERIFY_FORMAT",
              help="Output format (default: github inside GitHub Actions, text elsewhere).")
@click.option("--results-dir", type=click.Path(path_type=Path), default=None,
              help="Where to write the 'verify' check result (default: .ci-helper/results).")
def command(path: Path, fmt: str | None, results_dir: Path | None) -> None:
    """Check every workflow and action.y*ml under PATH: unpinned uses, muted gates, missing guardrails, missing permissions.

    Exit 0 when there is no error finding, 1 when there is, 2 on bad input.
    """
    from ci_helper import gha, results, settings
    from ci_helper.errors import BadInput
    from ci_helper.rules import run_rules
    from ci_helper.rules.output import render

    if not path.exists():
        raise BadInput(f"{path}: no such folder; pass the repository folder to check (default: .)")
    if not path.is_dir():
        raise BadInput(f"{path}: not a folder; pass the repository folder that holds .github/ and your actions")
    config = settings.load(path)
    report = run_rules(path, config)
    if report.files == 0:
        raise BadInput(f"no workflow or action files under {path} (looked for .github/workflows/*.yml, *.yaml and "
                       "action.yml/action.yaml in every folder); pass the repository folder")
    if fmt is None:
        fmt = "github" if gha.in_actions() else "text"
    # Annotations name files from the workspace (the current folder in a step).
    base = os.path.relpath(path.resolve(), Path.cwd().resolve())
    base = str(path.resolve()) if base.startswith("..") else base.replace(os.sep, "/")
    click.echo(render(fmt, report, base), nl=False)
    figures = {"files": report.files, "findings": len(report.findings), "errors": report.errors,
               "warnings": report.warnings, "allowed": len(report.allowed)}
    build = results.failed if report.errors else results.passed
    result = build("verify", figures=figures, findings=report.findings)
    results.write_result(result, results.results_dir(results_dir, config.results_dir))
    sys.exit(result.exit_code)
