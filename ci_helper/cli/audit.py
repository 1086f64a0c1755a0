"""`ci-helper audit`: pip-audit with an ignore policy (reason and expiry per entry)."""

from __future__ import annotations

import sys

import click


@click.command(name="audit")
@click.option(
    "-r",
    "--requirement",
    "requirements",
    multiple=True,
    metavar="REQ",
    envvar="CI_HELPER_AUDIT_REQUIREMENTS",
    help="Audit this requirements file (repeatable). Fully pinned files are audited without pip or an index.",
)
@click.option(
    "--path",
    "paths",
    multiple=True,
    metavar="SITE_PACKAGES",
    envvar="CI_HELPER_AUDIT_PATH",
    help="Audit the distributions installed in this folder (repeatable).",
)
@click.option(
    "--python",
    "python",
    metavar="PATH",
    envvar="CI_HELPER_AUDIT_PYTHON",
    help="Audit the environment of this interpreter (its site-packages, as --path).",
)
@click.option(
    "--policy",
    metavar="FILE",
    envvar="CI_HELPER_AUDIT_POLICY",
    help="TOML file (or folder of a pyproject.toml) with [tool.ci-helper.audit]; default ./pyproject.toml.",
)
@click.option(
    "--osv-url",
    metavar="URL",
    envvar="CI_HELPER_OSV_URL",
    help="OSV query endpoint (pip-audit --osv-url), e.g. a mirror's https://host/v1/query.",
)
@click.option(
    "--vulnerability-service",
    type=click.Choice(["osv", "pypi"]),
    default=None,
    envvar="CI_HELPER_VULNERABILITY_SERVICE",
    help="Vulnerability service (default: settings, then osv).",
)
@click.option(
    "--allow-offline/--no-allow-offline",
    default=None,
    envvar="CI_HELPER_ALLOW_OFFLINE",
    help="Exit 0 when the service is unreachable (the result is still not-run). For local dry runs.",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=15,
    show_default=True,
    help="Seconds pip-audit waits for the service.",
)
@click.option(
    "--json-out",
    metavar="FILE",
    envvar="CI_HELPER_AUDIT_JSON_OUT",
    help="Also write pip-audit's own JSON report to FILE.",
)
@click.option(
    "--results-dir", metavar="DIR", help="Where to write audit.json (default: settings, then .ci-helper/results)."
)
def command(
    requirements: tuple[str, ...],
    paths: tuple[str, ...],
    python: str | None,
    policy: str | None,
    osv_url: str | None,
    vulnerability_service: str | None,
    allow_offline: bool | None,
    timeout: int,
    json_out: str | None,
    results_dir: str | None,
) -> None:
    """Run pip-audit and apply the ignore policy of [tool.ci-helper.audit].

    Exit 0 when no vulnerability is left un-ignored and no ignore entry has
    expired; 1 otherwise, or when the vulnerability service could not be used
    (not-run; exit 0 with --allow-offline); 2 on bad input.
    """
    from pathlib import Path

    from ci_helper import gha, results
    from ci_helper.errors import BadInput
    from ci_helper.gates.audit import gate, policy as audit_policy
    from ci_helper.settings import merge, replace

    config = audit_policy.load_settings(policy)
    out_dir = results.results_dir(results_dir, config.results_dir)
    results.start(gate.CHECK, out_dir)
    config = replace(
        config,
        audit=merge(
            config.audit, vulnerability_service=vulnerability_service, osv_url=osv_url, allow_offline=allow_offline
        ),
    )
    rules = audit_policy.load(config.audit.ignore)
    request = gate.request_for(config, list(requirements), list(paths), python, timeout)
    outcome = gate.audit(request, rules, config.audit.allow_offline)

    if json_out and outcome.raw_json is not None:
        try:
            Path(json_out).parent.mkdir(parents=True, exist_ok=True)
            Path(json_out).write_text(outcome.raw_json, encoding="utf-8")
        except OSError as exc:
            raise BadInput(f"--json-out {json_out}: cannot write ({exc.strerror or exc})") from None
    results.write_result(outcome.result, out_dir)
    for finding in outcome.result.findings:
        click.echo(f"{finding.severity}: {finding.message}")
        if gha.in_actions():
            gha.annotate_finding(finding, "audit")
    for line in outcome.lines:
        click.echo(line)
    sys.exit(outcome.exit_code)
