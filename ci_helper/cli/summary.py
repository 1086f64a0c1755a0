"""`ci-helper summary`: render every check result and test tier; optionally post the sticky comment."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ci_helper.summary.comment import Posting

_COMMENT_ID = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")


@click.command(name="summary")
@click.option(
    "--results",
    "results_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder of check results (default: $CI_HELPER_RESULTS_DIR, settings, .ci-helper/results).",
)
@click.option(
    "--junit",
    "junit_files",
    multiple=True,
    metavar="[NAME=]FILE",
    help="JUnit XML of a test tier; repeat per tier, same NAME adds shards up. Default: settings.",
)
@click.option("--title", default=None, envvar="CI_HELPER_SUMMARY_TITLE", help="Heading of the summary.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the markdown summary here (default: append to $GITHUB_STEP_SUMMARY when set).",
)
@click.option(
    "--comment-out",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="CI_HELPER_COMMENT_OUT",
    help="Always write the PR comment body here, posted or not.",
)
@click.option(
    "--pr-comment/--no-pr-comment",
    default=None,
    envvar="CI_HELPER_PR_COMMENT",
    help="Create or edit the sticky PR comment (needs GITHUB_TOKEN).",
)
@click.option(
    "--comment-id",
    default=None,
    envvar="CI_HELPER_COMMENT_ID",
    help="Subproject id: one sticky comment per id in a monorepo.",
)
@click.option(
    "--pr-number",
    type=int,
    default=None,
    envvar="CI_HELPER_PR_NUMBER",
    help="PR to comment on (default: from the event payload).",
)
@click.option(
    "--head-sha",
    default=None,
    envvar="CI_HELPER_HEAD_SHA",
    help="Refuse to comment unless the PR's head commit is this one (workflow_run poster).",
)
@click.option(
    "--artifact",
    type=click.Path(file_okay=False),
    default=None,
    help="A pull request run's downloaded summary artifact (workflow_run poster): checked, then read "
    "for results, JUnit files and the PR number.",
)
@click.option(
    "--run-conclusion",
    default=None,
    envvar="CI_HELPER_RUN_CONCLUSION",
    help="Conclusion of the run the results come from (github.event.workflow_run.conclusion): "
    "anything but success makes the verdict red.",
)
@click.option(
    "--post-only",
    is_flag=True,
    default=False,
    help="Exit 0 once the comment is posted, whatever the verdict (the PR run already reported it).",
)
@click.option(
    "--write-result",
    is_flag=True,
    default=False,
    help="Also write the verdict as a 'summary' check result (to $CI_HELPER_RESULTS_DIR or settings).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="What to print on stdout.",
)
def command(
    results_dir: str | None,
    junit_files: tuple[str, ...],
    title: str | None,
    out: str | None,
    comment_out: str | None,
    pr_comment: bool | None,
    comment_id: str | None,
    pr_number: int | None,
    head_sha: str | None,
    artifact: str | None,
    run_conclusion: str | None,
    post_only: bool,
    write_result: bool,
    fmt: str,
) -> None:
    """Render the run summary (job summary, sticky comment, terminal). Exit 0 green, 1 red, 2 bad input."""
    from ci_helper import gha, results, settings as settings_mod
    from ci_helper.errors import BadInput
    from ci_helper.summary import comment, model, render

    settings = settings_mod.load(".")
    conf = settings_mod.merge(
        settings.summary,
        junit=list(junit_files) or None,
        title=title,
        pr_comment=pr_comment,
        comment_id=comment_id,
        comment_out=comment_out,
    )
    folder = results.results_dir(results_dir, settings.results_dir)
    junit, pr_comment, comment_id, comment_out = list(conf.junit), conf.pr_comment, conf.comment_id, conf.comment_out

    if comment_id is not None and not _COMMENT_ID.match(comment_id):
        raise BadInput(
            f"--comment-id {comment_id!r}: use letters, digits, '.', '_', '-' or '/' (it goes in an HTML comment)"
        )

    if artifact is not None:
        from ci_helper.summary import artifact as artifact_mod

        checked = artifact_mod.load(artifact)
        folder, junit = checked.results_dir, [str(p) for p in checked.junit]
        pr_number = pr_number if pr_number is not None else checked.pr_number
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    heading = conf.title or model.DEFAULT_TITLE
    try:
        run = model.load(folder, junit, conf.title)
    except BadInput as exc:
        # Refused input (exit 2) still leaves a red summary that names the file: never a blank page.
        from ci_helper.summary import escape

        notice = f"## ❌ Red: {escape.inline(heading)}\n\nInvalid input: {escape.inline(exc.message, 2000)}\n"
        if out:
            comment.write(out, notice)
        elif step_summary:
            gha.append_step_summary(notice)
        gha.set_output("verdict", "red")
        raise
    if run_conclusion is not None and run_conclusion != "success":
        # The files were written by the run's own code; its conclusion comes from GitHub.
        run.checks.append(
            results.failed(
                "pr-run",
                {"conclusion": run_conclusion},
                [
                    results.Finding(
                        "pr-run-conclusion",
                        f"the pull request's run concluded {run_conclusion or 'nothing'}, not success",
                    )
                ],
            )
        )
    if out:
        comment.write(out, render.render_markdown(run).text)
    elif step_summary:
        # The 1 MiB limit is per step: leave room for what this step already wrote.
        used = Path(step_summary).stat().st_size if Path(step_summary).exists() else 0
        gha.append_step_summary(render.render_markdown(run, budget=render.JOB_SUMMARY_BUDGET - used).text)

    if fmt == "markdown":
        click.echo(render.render_markdown(run).text, nl=False)
    else:
        click.echo(render.render_text(run), nl=False)

    gha.set_output("verdict", "green" if run.green else "red")
    if write_result:
        # model.load skips a "summary" result, so writing it beside the inputs is safe.
        results.write_result(run.to_result(), results.results_dir(None, settings.results_dir))
    posted_ok = True
    if comment_out or pr_comment:
        body = render.render_comment(run, comment_id).text
        if comment_out:
            comment.write(comment_out, body)
        if pr_comment:
            posting = comment.post(body, render.comment_marker(comment_id), pr_number, head_sha, comment_out)
            _report(posting)
            posted_ok = posting.ok
    if post_only:
        sys.exit(0 if posted_ok else 1)
    sys.exit(run.exit_code)


def _report(posting: Posting) -> None:
    """Print what :func:`ci_helper.summary.comment.post` decided and set its step outputs."""
    from ci_helper import gha

    for name, value in posting.outputs.items():
        gha.set_output(name, value)
    if posting.level == "info":
        click.echo(posting.message, err=True)
    elif gha.in_actions():
        gha.emit_annotation(posting.level, posting.message)
    else:
        click.echo(f"summary: {posting.message}", err=True)
