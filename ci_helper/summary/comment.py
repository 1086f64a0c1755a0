"""The sticky PR comment: post or edit it, and where its body goes when it cannot be posted.

The command line only prints what :func:`post` decided; the fallback (the
body kept in a file for the ``workflow_run`` poster) is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ci_helper.errors import BadInput

DEFAULT_COMMENT_FILE = ".ci-helper/summary-comment.md"


@dataclass
class Posting:
    """What happened to the comment: posted (or nothing to post to), and what to tell the user."""

    ok: bool
    message: str
    # "info" (stderr), "warning" or "error" (an annotation in Actions).
    level: str = "info"
    outputs: dict[str, str] = field(default_factory=dict)


def write(path: str, text: str) -> None:
    """Write ``text`` to ``path``, creating its folder; BadInput names the file when it cannot."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror or exc}") from None


def post(body: str, marker: str, pr_number: int | None, head_sha: str | None, comment_out: str | None) -> Posting:
    """Post or edit the sticky comment; report, never change the verdict."""
    from ci_helper import github

    number = pr_number if pr_number is not None else github.pr_number_from_event()
    if number is None:
        return Posting(
            True,
            "summary: not a pull request event and no --pr-number: no comment posted",
            outputs={"comment-posted": "false", "needs-workflow-run": "false"},
        )
    outcome = github.upsert_comment(
        github.repository_from_env(),
        number,
        body,
        marker,
        token=github.token_from_env(),
        api_url=github.api_url_from_env(),
        head_sha=head_sha,
    )
    forbidden = outcome.action == github.FORBIDDEN
    outputs = {
        "comment-posted": "true" if outcome.posted else "false",
        "needs-workflow-run": "true" if forbidden else "false",
    }
    if outcome.posted:
        return Posting(
            True, f"summary: {outcome.message}" + (f" ({outcome.url})" if outcome.url else ""), outputs=outputs
        )
    fallback = comment_out
    if not fallback:
        fallback = DEFAULT_COMMENT_FILE
        write(fallback, body)
    outputs["comment-file"] = fallback
    if forbidden:
        return Posting(
            False,
            f"PR comment not posted: {outcome.message}; the body is in {fallback} for the workflow_run poster",
            "warning",
            outputs,
        )
    return Posting(False, f"PR comment not posted: {outcome.message}; the body is in {fallback}", "error", outputs)
