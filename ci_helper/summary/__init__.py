"""The run summary: check results and test tiers -> job summary, sticky comment, terminal.

``model`` reads the inputs and decides the verdict; ``presenters`` says what
each check shows; ``escape`` neutralises untrusted text; ``render`` fills the
templates in ``templates/`` within GitHub's size budgets.
"""

from ci_helper.summary.model import Run, Tier, load
from ci_helper.summary.render import (
    COMMENT_BUDGET,
    JOB_SUMMARY_BUDGET,
    Rendered,
    comment_marker,
    render_comment,
    render_markdown,
    render_text,
)

__all__ = [
    "COMMENT_BUDGET",
    "JOB_SUMMARY_BUDGET",
    "Rendered",
    "Run",
    "Tier",
    "comment_marker",
    "load",
    "render_comment",
    "render_markdown",
    "render_text",
]
