"""The local dry run, ``ci-helper verify --run``: what CI will run, on this machine.

``event`` builds the simulated webhook (a pull request from a branch to the
default branch of ``[tool.ci-helper] repository`` unless told otherwise, or a
push, schedule, workflow_dispatch, merge_group, pull_request_target or
workflow_call); ``jobs`` reads the workflows through the one model
(``ci_helper.workflows``), finds the jobs that use ci-helper's actions and the
jobs they need, one per matrix combination, and maps
``<owner>/ci-helper/...@sha`` to this checkout; ``interpreter`` picks the
project's Python for the steps (never ci-helper's own environment); ``run``
executes them through the local action runner into a fresh results folder and
builds the summary the pull request would get; ``policy`` holds the one place where a laptop run is
judged differently from CI (an unreachable vulnerability service), labelled.

Python API::

    from ci_helper.dry_run import DryRunOptions, dry_run
    outcome = dry_run(Path("examples/diffusion-api"), DryRunOptions(event="pull_request"))
    outcome.run          # ci_helper.summary.Run: render it with ci_helper.summary.render_text
    outcome.exit_code    # 0 green, 1 red, 130 interrupted
"""

from __future__ import annotations

from typing import Any

__all__ = ["DryRun", "DryRunOptions", "dry_run"]


def __getattr__(name: str) -> Any:
    # Lazy: `ci-helper verify` imports the event list without the runner behind the dry run.
    if name in __all__:
        from ci_helper.dry_run import run

        return getattr(run, name)
    raise AttributeError(name)
