"""`ci-helper summary`: render every check result and test tier; optionally post the sticky comment."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

DEFAULT_COMMENT_FILE = ".ci-helper/summary-comment.md"
_COMMENT_ID = re.compile(r"^[A-Za-z0-9._/-]{1,100}$")


@click.command(name="summary")
@click.option("--results", "results_dir", type=click.Path(file_okay=False), default=None,
              help="Folder of check results (default: $CI_HELPER_RESULTS_DIR, settings, .ci-helper/results).")
@click.option("--junit", "junit_files", multiple=True, metavar="[NAME=]FILE",
              help="JUnit XML of a test tier; repeat per tier, same NAME adds shards up. Default: settings.")
@click.option("--title", default=None, envvar="CI_HELPER_SUMMARY_TITLE", help="Heading of the summary.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the markdown summary here (default: append to $GITHUB_STEP_SUMMARY when set).")
@click.option("--comment-out", type=click.Path(dir_okay=False), default=None, envvar="CI_HELPER_COMMENT_OUT",
              help="Always write the PR comment body here, posted or not.")
@click.option("--pr-comment/--no-pr-comment", default=None, envvar="CI_HELPER_PR_COMMENT",
              help="Create or edit the sticky PR comment (needs GITHUB_TOKEN).")
@click.option("--comment-id", default=None, envvar="CI_HELPER_COMMENT_ID",
              help="Subproject id: one sticky comment per id in a monorepo.")
@click.option("--pr-number", type=int, default=None, envvar="CI_HELPER_PR_NUMBER",
              help="PR to comment on (default: from the event payload).")
@click.option("--head-sha", default=None, envvar="CI_HELPER_HEAD_SHA",
              help="Refuse to comment unless the PR's head commit is this one (workflow_run poster).")
@click.option("--artifact", type=click.Path(file_okay=False), default=None,
              help="A pull request run's downloaded summary artifact (workflow_run poster): checked, then read "
                   "for results, JUnit files and the PR number.")
@click.option("--run-conclusion", default=None, envvar="CI_HELPER_RUN_CONCLUSION",
              help="Conclusion of the run the results come from (github.event.workflow_run.conclusion): "
                   "anything but success makes the verdict red.")
@click.option("--post-only", is_flag=True, default=False,
              help="Exit 0 once the comment is posted, whatever the verdict (the PR run already reported it).")
@click.option("--write-result", is_flag=True, default=False,
              help="Also write the verdict as a 'summary' check result (to $CI_HELPER_RESULTS_DIR or settings).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="What to print on stdout.")
def command(results_dir, junit_files, title, out, comment_out, pr_comment, comment_id, pr_number, head_sha,
            artifact, run_conclusion, post_only, write_result, fmt) -> None:
    """Render the run summary (job summary, sticky comment, terminal). Exit 0 green, 1 red, 2 bad input."""
    from ci_helper import gha, results, settings as settings_mod
    from ci_helper.errors import BadInput
    from ci_helper.summary import model, render

    settings = settings_mod.load(".")
    conf = settings.summary
    folder = results.results_dir(results_dir, settings.results_dir)
    junit = list(junit_files) or list(conf.junit)
    pr_comment = pr_comment if pr_comment is not None else conf.pr_comment
    comment_id = comment_id if comment_id is not None else conf.comment_id
    comment_out = comment_out if comment_out is not None else conf.comment_out

    if comment_id is not None and not _COMMENT_ID.match(comment_id):
        raise BadInput(f"--comment-id {comment_id!r}: use letters, digits, '.', '_', '-' or '/' (it goes in an HTML comment)")

    if artifact is not None:
        from ci_helper.summary import artifact as artifact_mod

        checked = artifact_mod.load(artifact)
        folder, junit = checked.results_dir, [str(p) for p in checked.junit]
        pr_number = pr_number if pr_number is not None else checked.pr_number
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    heading = (title if title is not None else conf.title) or model.DEFAULT_TITLE
    try:
        run = model.load(folder, junit, title if title is not None else conf.title)
    except BadInput as exc:
        # Refused input (exit 2) still leaves a red summary that names the file: never a blank page.
        from ci_helper.summary import escape

        notice = f"## ❌ Red: {escape.inline(heading)}\n\nInvalid input: {escape.inline(exc.message, 2000)}\n"
        if out:
            _write(out, notice)
        elif step_summary:
            gha.append_step_summary(notice)
        gha.set_output("verdict", "red")
        raise
    if run_conclusion is not None and run_conclusion != "success":
        # The files were written by the run's own code; its conclusion comes from GitHub.
        run.checks.append(results.failed("pr-run", {"conclusion": run_conclusion}, [results.Finding(
            "pr-run-conclusion", f"the pull request's run concluded {run_conclusion or 'nothing'}, not success")]))
    if out:
        _write(out, render.render_markdown(run).text)
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
            _write(comment_out, body)
        if pr_comment:
            posted_ok = _post(body, render.comment_marker(comment_id), pr_number, head_sha, comment_out)
    if post_only:
        sys.exit(0 if posted_ok else 1)
    sys.exit(run.exit_code)


def _write(path: str, text: str) -> None:
    from ci_helper.errors import BadInput

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def _post(body: str, marker: str, pr_number: int | None, head_sha: str | None, comment_out: str | None) -> bool:
    """Post or edit the sticky comment; report, never change the verdict. True when posted."""
    from ci_helper import gha, github

    number = pr_number if pr_number is not None else github.pr_number_from_event()
    if number is None:
        click.echo("summary: not a pull request event and no --pr-number: no comment posted", err=True)
        gha.set_output("comment-posted", "false")
        gha.set_output("needs-workflow-run", "false")
        return True
    token = github.token_from_env()
    outcome = github.upsert_comment(github.repository_from_env(), number, body, marker, token=token,
                                    api_url=github.api_url_from_env(), head_sha=head_sha)
    gha.set_output("comment-posted", "true" if outcome.posted else "false")
    gha.set_output("needs-workflow-run", "true" if outcome.action == github.FORBIDDEN else "false")
    if outcome.posted:
        click.echo(f"summary: {outcome.message}" + (f" ({outcome.url})" if outcome.url else ""), err=True)
        return True
    fallback = comment_out
    if not fallback:
        fallback = DEFAULT_COMMENT_FILE
        _write(fallback, body)
    gha.set_output("comment-file", fallback)
    if outcome.action == github.FORBIDDEN:
        message = f"PR comment not posted: {outcome.message}; the body is in {fallback} for the workflow_run poster"
        if gha.in_actions():
            gha.emit_annotation("warning", message)
        else:
            click.echo(f"summary: {message}", err=True)
        return False
    message = f"PR comment not posted: {outcome.message}; the body is in {fallback}"
    if gha.in_actions():
        gha.emit_annotation("error", message)
    else:
        click.echo(f"summary: {message}", err=True)
    return False
