"""pip-audit's report + the ignore policy -> the ``audit`` check result.

Red when a vulnerability is not covered by a live ignore entry, or when an
ignore entry has expired. A live entry that matches nothing is stale: it is
reported (a warning) so it can be removed, but does not turn the gate red.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_helper import results
from ci_helper.errors import EXIT_PASS
from ci_helper.gates.audit import invocation, scope
from ci_helper.gates.audit.policy import IgnoreRule
from ci_helper.gates.audit.report import AuditReport, Dependency, Vulnerability
from ci_helper.settings import Settings

CHECK = "audit"


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _fixes(vuln: Vulnerability) -> str:
    return f"fix in {', '.join(vuln.fix_versions)}" if vuln.fix_versions else "no fix version released"


def _title(dep: Dependency, vuln: Vulnerability) -> str:
    aliases = f" ({', '.join(vuln.aliases)})" if vuln.aliases else ""
    return f"{dep.name} {dep.version}: {vuln.id}{aliases}"


def _data(dep: Dependency, vuln: Vulnerability) -> dict[str, Any]:
    return {
        "package": dep.name,
        "version": dep.version,
        "id": vuln.id,
        "aliases": list(vuln.aliases),
        "fix_versions": list(vuln.fix_versions),
        "ignored": None,
    }


def evaluate(
    report: AuditReport,
    rules: list[IgnoreRule],
    today: dt.date,
    figures: dict[str, Any] | None = None,
    asked: scope.Scope | None = None,
) -> results.CheckResult:
    """Apply ``rules`` to ``report`` as of ``today``; a report that does not cover ``asked`` is not-run."""
    findings: list[results.Finding] = []
    used: set[int] = set()
    vulnerable = ignored = 0
    vulnerable_packages: set[str] = set()
    skipped = 0

    for dep in report.dependencies:
        if dep.skip_reason is not None:
            skipped += 1
            findings.append(
                results.Finding(
                    "audit-skipped",
                    f"{dep.name}: not audited ({dep.skip_reason})",
                    severity="warning",
                    data={"package": dep.name, "skip_reason": dep.skip_reason},
                )
            )
            continue
        for vuln in dep.vulns:
            matching = [r for r in rules if r.matches(dep.name, vuln)]
            used.update(r.index for r in matching)
            live = [r for r in matching if not r.expired(today)]
            data = _data(dep, vuln)
            if live:
                rule = live[0]
                ignored += 1
                data["ignored"] = {"entry": rule.index, "reason": rule.reason, "expires": rule.expires.isoformat()}
                findings.append(
                    results.Finding(
                        "audit-ignored",
                        f"{_title(dep, vuln)}: ignored until {rule.expires.isoformat()} by {rule.label}: "
                        f"{rule.reason} ({_fixes(vuln)})",
                        severity="note",
                        data=data,
                    )
                )
                continue
            vulnerable += 1
            vulnerable_packages.add(dep.canonical_name)
            expired_note = "".join(f"; {r.label} expired on {r.expires.isoformat()}" for r in matching)
            findings.append(
                results.Finding("audit-vulnerability", f"{_title(dep, vuln)}: {_fixes(vuln)}{expired_note}", data=data)
            )

    expired = stale = 0
    for rule in rules:
        entry = {
            "entry": rule.index,
            "id": rule.id,
            "package": rule.package,
            "reason": rule.reason,
            "expires": rule.expires.isoformat(),
        }
        if rule.expired(today):
            expired += 1
            findings.append(
                results.Finding(
                    "audit-ignore-expired",
                    f"{rule.label} expired on {rule.expires.isoformat()} (reason: {rule.reason}); "
                    "upgrade the package, or review the entry and set a new expires date",
                    data=entry,
                )
            )
        elif rule.index not in used:
            stale += 1
            findings.append(
                results.Finding(
                    "audit-ignore-stale",
                    f"{rule.label} matches no vulnerability found; remove the entry (reason was: {rule.reason})",
                    severity="warning",
                    data=entry,
                )
            )

    counts = {
        "dependencies": len(report.dependencies),
        "skipped": skipped,
        "vulnerable": vulnerable,
        "vulnerable_packages": len(vulnerable_packages),
        "ignored": ignored,
        "expired": expired,
        "stale": stale,
    }
    all_figures = {**counts, **(figures or {})}
    difference = scope.compare(asked, [dep.name for dep in report.dependencies]) if asked else None
    if asked is not None and difference:
        # Checked before everything else: a report that skipped a package says nothing about it.
        findings += [
            results.Finding(
                "audit-report-incomplete",
                f"{name}: asked for in {asked.source}, absent from pip-audit's report",
                data={"package": name, "problem": "missing"},
            )
            for name in difference.missing
        ]
        findings += [
            results.Finding(
                "audit-report-incomplete",
                f"{name}: in pip-audit's report, never asked for",
                data={"package": name, "problem": "unexpected"},
            )
            for name in difference.unexpected
        ]
        return results.not_run(CHECK, scope.describe(asked, difference), all_figures, findings)
    if not report.dependencies:
        # An empty audit is a misconfiguration (wrong --path, empty file), not a pass.
        return results.not_run(
            CHECK,
            "pip-audit found no dependencies to audit; check that -r/--path/--python name the environment",
            all_figures,
            findings,
        )
    if skipped == len(report.dependencies):
        return results.not_run(
            CHECK,
            f"pip-audit audited none of the {skipped} dependencies (all skipped, see "
            "audit-skipped); nothing was checked for vulnerabilities",
            all_figures,
            findings,
        )
    if vulnerable or expired:
        return results.failed(CHECK, all_figures, findings)
    return results.passed(CHECK, all_figures, findings)


@dataclass
class Outcome:
    """One audit: the check result, the exit code the offline policy decides, and its verdict lines."""

    result: results.CheckResult
    exit_code: int
    # What to print after the findings.
    lines: list[str]
    # pip-audit's own JSON report (None when pip-audit did not produce one).
    raw_json: str | None = None


def audit(
    request: invocation.AuditRequest, rules: list[IgnoreRule], allow_offline: bool, today: dt.date | None = None
) -> Outcome:
    """Run pip-audit for ``request`` and judge its report.

    An unreachable service is ``not-run`` (never green); ``allow_offline`` only
    turns its exit code into 0, for local dry runs, and says so.
    """
    figures: dict[str, Any] = {"service": request.service, "ignore_entries": len(rules)}
    try:
        run = invocation.run(request)
    except invocation.ServiceUnavailable as exc:
        result = results.not_run(CHECK, str(exc), {**figures, "allow_offline": allow_offline})
        lines = [f"audit: not-run - {exc}"]
        if allow_offline:
            lines.append("audit: --allow-offline: exiting 0, but nothing was audited")
            return Outcome(result, EXIT_PASS, lines)
        return Outcome(result, result.exit_code, lines)
    except invocation.PipAuditFailed as exc:
        result = results.not_run(CHECK, str(exc), figures)
        return Outcome(result, result.exit_code, [f"audit: not-run - {exc}"])

    result = evaluate(run.report, rules, today or today_utc(), {**figures, "source": run.mode}, run.asked)
    f = result.figures
    if result.reason:
        line = f"audit: {result.status} - {result.reason}"
    else:
        line = (
            f"audit: {result.status} - {f['dependencies']} dependencies ({run.mode}, {request.service}), "
            f"{f['vulnerable']} vulnerable, {f['ignored']} ignored, {f['expired']} expired, {f['stale']} stale"
        )
    return Outcome(result, result.exit_code, [line], run.raw_json)


def request_for(
    config: Settings, requirements: list[str], paths: list[str], python: str | None, timeout: int
) -> invocation.AuditRequest:
    """What to audit: the flags, else the settings' requirements (relative to the project)."""
    reqs = list(requirements)
    if not reqs and not paths and not python and config.audit.requirements:
        root = config.project_root or Path(".")
        reqs = [str(root / r) for r in config.audit.requirements]
    site = list(paths)
    if python:
        site += invocation.site_packages(python)
    return invocation.AuditRequest(
        requirements=reqs,
        paths=site,
        service=config.audit.vulnerability_service,
        osv_url=config.audit.osv_url,
        timeout=timeout,
    )
