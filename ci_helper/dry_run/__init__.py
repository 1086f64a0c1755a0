"""The local dry run, ``ci-helper verify --run``: what CI will run, on this machine.

``event`` builds the simulated webhook (a pull request from a branch to the
default branch of ``[tool.ci-helper] repository`` unless told otherwise);
``jobs`` finds the workflow jobs that use ci-helper's actions and maps
``<owner>/ci-helper/...@sha`` to this checkout; ``run`` executes them through
the local action runner into a fresh results folder and builds the summary the
pull request would get; ``policy`` holds the one place where a laptop run is
judged differently from CI (an unreachable vulnerability service), labelled.

Python API::

    from ci_helper.dry_run import DryRunOptions, dry_run
    outcome = dry_run(Path("examples/diffusion-api"), DryRunOptions(event="pull_request"))
    outcome.run          # ci_helper.summary.Run: render it with ci_helper.summary.render_text
    outcome.exit_code    # 0 green, 1 red, 130 interrupted
"""

from ci_helper.dry_run.run import DryRun, DryRunOptions, dry_run

__all__ = ["DryRun", "DryRunOptions", "dry_run"]
