"""`ci-helper canary`: run every gate against its bad and good fixtures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command("canary")
@click.option(
    "--gate",
    "gates",
    multiple=True,
    metavar="G",
    help="Only this gate (repeatable); 'verify' selects every verify rule.",
)
@click.option(
    "--fixtures",
    "fixtures",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Fixtures folder (default: the ones shipped with ci-helper).",
)
@click.option(
    "--json-out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the table as JSON."
)
@click.option(
    "--results-dir",
    type=click.Path(file_okay=False),
    default=None,
    envvar="CI_HELPER_RESULTS_DIR",
    help="Where to write the canary check result.",
)
def command(gates: tuple[str, ...], fixtures: Path | None, json_out: Path | None, results_dir: str | None) -> None:
    """Prove that every gate bites: each bad fixture must fail, each good one must pass."""
    from ci_helper import results, settings
    from ci_helper.canary import cases as case_mod
    from ci_helper.canary.report import render_table, to_result
    from ci_helper.canary.run import missing_teeth, run_case
    from ci_helper.errors import BadInput

    folder = results.results_dir(results_dir, settings.load(".").results_dir)
    results.start("canary", folder)
    if fixtures is not None and not fixtures.is_dir():
        raise BadInput(f"{fixtures}: fixtures folder not found")
    all_cases = case_mod.discover(fixtures)

    def selected(gate: str) -> bool:
        return not gates or any(gate == g or gate.startswith(g + "/") for g in gates)

    chosen = [c for c in all_cases if selected(c.gate)]
    required = tuple(g for g in case_mod.required_gates() if selected(g))
    if gates and not chosen and not required:
        known = sorted({c.gate for c in all_cases} | set(case_mod.required_gates()))
        raise BadInput(f"no gate matches {', '.join(gates)}; known gates: {', '.join(known)}")

    outcomes = []
    for case in chosen:
        outcome = run_case(case)
        outcomes.append(outcome)
        mark = "ok " if outcome.ok else "BAD"
        detail = "" if outcome.ok or not outcome.detail else f" ({outcome.detail})"
        click.echo(
            f"{mark} {case.gate} / {case.fixture}: expected {outcome.expected}, got {outcome.got}{detail}", err=True
        )
    outcomes.extend(missing_teeth(chosen, required))

    click.echo(render_table(outcomes))
    result = to_result(outcomes)
    # Beside the other gates' results, so the summary shows "gates proven to bite: N/N".
    results.write_result(result, folder)
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(
            json.dumps({"cases": [o.__dict__ for o in outcomes], "figures": result.figures}, indent=2) + "\n",
            encoding="utf-8",
        )
    sys.exit(result.exit_code)
