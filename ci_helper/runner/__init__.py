"""Local composite-action runner: GitHub's expression and step semantics, no Docker.

Python API (what ``ci-helper run-action`` and ``verify --run`` call)::

    from ci_helper.runner import run_action, evaluate_template, evaluate_condition

    result = run_action(
        "actions/smoke",                      # folder with action.yml
        {"server": "python -m app"},          # inputs (strings)
        workspace=".", event_name="pull_request", event_path="event.json",
        repository="truthful-ci/ci-helper", ref="refs/pull/7/merge", sha="ab12...",
        env={"CI_HELPER_FAIL_UNDER": "80"},   # the calling step's env: (the env context)
        stub_remotes={"actions/checkout": "tests/stubs/checkout"},
    )
    result.outcome      # "success" | "failure" | "cancelled"
    result.outputs      # {"name": "value"}: the action's outputs
    result.steps        # {"<id or __run/__run_2/...>": StepResult(outcome, conclusion, outputs, steps=nested)}
    result.summary      # every step summary, concatenated in order
    result.skipped      # "file:line: reason" for steps that could not run offline
    result.to_json()    # the --outputs-json document
    result.exit_code    # 0 success, 1 failure, 130 cancelled

    evaluate_template("v${{ inputs.major }}", {"inputs": {"major": 2}})        # -> "v2"
    evaluate_condition("failure()", contexts, status="failure")                # -> True
    evaluate_expression("contains(github.event.labels.*.name, 'bug')", ctx)    # -> True / False

A workflow job's steps run the same way (``verify --run``)::

    from ci_helper.workflows import read_workflow                # the one model of workflow files
    workflow = read_workflow(Path(".github/workflows/ci.yml"))
    result = run_steps(workflow.job("test").steps, ".github/workflows/ci.yml", workspace=".",
                       env={"PY": "3.12"}, contexts={"secrets": {}, "vars": {}, "matrix": {"python": "3.12"}})

``run_action`` and ``run_steps`` raise :class:`ci_helper.errors.BadInput` for a missing or
malformed ``action.yml``, an expression syntax error (the message names the
expression and ``file:line``), a missing required input, or a bad event file.
Progress goes to ``reporter`` (a :class:`Reporter`, stdout by default).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers; at run time __getattr__ below imports them on first use
    from ci_helper.runner.composite import RunResult, StepResult, run_action, run_steps
    from ci_helper.runner.expressions import (
        ExpressionError,
        evaluate_condition,
        evaluate_expression,
        evaluate_template,
    )
    from ci_helper.runner.report import Reporter

# Imported on first use (PEP 562): ``verify``'s rules read only ``ci_helper.runner.expressions``, and importing a
# submodule runs this file first; the step runner (subprocess, shutil, its reporter) is not theirs to pay for.
_EXPORTS = {
    "RunResult": "composite",
    "StepResult": "composite",
    "run_action": "composite",
    "run_steps": "composite",
    "ExpressionError": "expressions",
    "evaluate_condition": "expressions",
    "evaluate_expression": "expressions",
    "evaluate_template": "expressions",
    "Reporter": "report",
}

__all__ = [
    "ExpressionError",
    "Reporter",
    "RunResult",
    "StepResult",
    "evaluate_condition",
    "evaluate_expression",
    "evaluate_template",
    "run_action",
    "run_steps",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
