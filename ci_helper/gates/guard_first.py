"""The guardrails action's first step: the guard decides before anything is installed or run.

``actions/guardrails/decide.py`` runs this with ``python3 -I`` (no current
folder, no ``PYTHONPATH``, no user site on ``sys.path``) and the action's own
repository first on ``sys.path``, so nothing from the checked-out repository
is imported or executed, and nothing is installed: standard library only
(``python3 -I -S`` imports it too; a test proves it). It reads the same
``CI_HELPER_GUARD_*`` variables as ``ci-helper guard`` and writes the same
``guardrails`` result. The pins rule needs the YAML model, so it is left to
``ci-helper guard`` after the setup step: the ``pins`` output says whether to run it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ci_helper import results, settings as settings_module
from ci_helper.errors import BadInput
from ci_helper.gates import guard

ENV_PREFIX = "CI_HELPER_GUARD_"
_TRUE = ("1", "true", "t", "yes", "y", "on")
_FALSE = ("0", "false", "f", "no", "n", "off")


def _flag(environ: Mapping[str, str], name: str) -> bool | None:
    """A boolean variable as click reads it; empty means "not given"."""
    raw = environ.get(ENV_PREFIX + name, "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadInput(f"{ENV_PREFIX}{name}: {raw!r} is not a boolean; use true or false")


def _forks(environ: Mapping[str, str]) -> str | None:
    raw = environ.get(ENV_PREFIX + "FORKS", "").strip()
    if raw and raw not in guard.FORK_MODES:
        raise BadInput(f"{ENV_PREFIX}FORKS (the forks input): expected 'allow' or 'refuse', got {raw!r}")
    return raw or None


def _values(environ: Mapping[str, str], name: str) -> list[str]:
    return guard.split_values([environ.get(ENV_PREFIX + name, "")])


def decide(environ: Mapping[str, str]) -> tuple[results.CheckResult | None, bool, Path]:
    """(the guardrails result without the pins rule, whether pins are asked, where results go).

    The result is None when the policy is the pins rule alone: ``ci-helper guard`` decides it after setup.
    """
    root = Path(environ.get(ENV_PREFIX + "ROOT") or ".")
    folder = results.results_dir(None)
    settings = settings_module.load(root)
    folder = results.results_dir(None, settings.results_dir)
    policy = guard.merge_policy(
        settings,
        _values(environ, "REPOSITORIES"),
        _values(environ, "BASE_BRANCHES"),
        _values(environ, "REFS"),
        _values(environ, "EVENTS"),
        _forks(environ),
        _flag(environ, "PINS"),
    )
    runtime = settings_module.replace(policy, pins=False)
    if policy.pins and runtime.is_empty():
        return None, True, folder
    return guard.run(runtime, guard.GuardContext.from_env(environ)), policy.pins, folder


def main(environ: Mapping[str, str] | None = None) -> int:
    from ci_helper import gha

    environ = os.environ if environ is None else environ
    github = gha.in_actions()
    try:
        result, pins, folder = decide(environ)
    except BadInput as exc:
        # The summary must show that the guard did not decide, not leave it out.
        try:
            results.write_result(results.not_run(guard.CHECK, exc.message), results.results_dir(None))
        except BadInput:
            pass
        if github:
            gha.emit_annotation("error", exc.message, title="Guardrail: bad input")
        print(f"Error: {exc.message}", file=sys.stderr)
        return 2
    gha.set_output("pins", "true" if pins else "false")
    if result is None:
        print("guardrails: the policy is the pins rule alone; ci-helper guard checks it after the setup step")
        return 0
    path = results.write_result(result, folder)
    guard.announce(result, path, github, print)
    return result.exit_code
