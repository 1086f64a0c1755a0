"""Where a laptop dry run judges differently from CI: the audit without a vulnerability service.

On a laptop offline (a train, a plane, a sandbox) pip-audit cannot reach its
vulnerability service. CI must stay red then (``not-run`` is never a pass),
but a dry run that is red for that alone would teach people to ignore red.
So the dry run runs the audit with ``CI_HELPER_ALLOW_OFFLINE=true`` (the quality
action's audit step takes it from ``runner.ci_helper_dry_run``, a property of the
runner context that only the local runner of a dry run sets: no job step can write
it, and GitHub's runner has none, so in CI the step always stays strict) and, for
an audit that is ``not-run`` *because this machine cannot audit* (service
unreachable, or pip-audit not installed: the gate records ``allow_offline`` in
its figures only then), marks it optional and says so in the summary. Every other not-run audit (pip-audit failing, nothing to
audit) keeps blocking. Nothing here touches the result files on disk.
"""

from __future__ import annotations

from ci_helper.record import replace
from ci_helper.results import NOT_RUN, CheckResult

# CI_HELPER_SETUP_REUSE_ONLY: the actions' setup step reuses this ci-helper and never installs
# (a laptop may be offline); a gate that needs a missing extra then reports itself not-run.
ENVIRONMENT = {"CI_HELPER_ALLOW_OFFLINE": "true", "CI_HELPER_SETUP_REUSE_ONLY": "true"}
OFFLINE_LABEL = "local dry run: this machine cannot audit, optional here, required in CI"


def offline_audit(result: CheckResult) -> bool:
    return result.check == "audit" and result.status == NOT_RUN and "allow_offline" in result.figures


def apply(checks: list[CheckResult]) -> tuple[list[CheckResult], list[str]]:
    """The checks as the dry run judges them, and a note per check it treated differently."""
    judged, notes = [], []
    for check in checks:
        if offline_audit(check) and check.required:
            # The label goes first: the summary's "why" column is cut at 160 characters.
            check = replace(check, required=False, reason=f"[{OFFLINE_LABEL}] {check.reason}")
            notes.append(
                "audit not run: the vulnerability service is unreachable or pip-audit is not installed; "
                "a local dry run shows it as optional (in CI it is required and keeps the run red)"
            )
        judged.append(check)
    return judged, notes
