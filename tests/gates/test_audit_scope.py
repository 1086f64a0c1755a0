"""The audit audits what was asked: pip-audit's report is held against the requested distributions.

A stand-in pip-audit is a real ``pip_audit`` package placed first on the
import path of the interpreter that runs ci-helper (a virtual environment
layered over the test environment), so ``python -m pip_audit`` reaches it
exactly as it would reach a replaced or broken pip-audit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sysconfig
from pathlib import Path

from hypothesis import given, settings, strategies as st

from ci_helper.gates.audit import gate, scope
from ci_helper.gates.audit.report import AuditReport
from ci_helper.results import read_result
from tests.gates.test_audit import RECORDS, audit, osv, project  # noqa: F401  (fixtures)
from tests.gates.test_deps import install_dist, make_venv


def stand_in_python(root: Path, report: dict) -> Path:
    """An interpreter that sees everything the test environment has, but whose ``pip_audit`` prints ``report``."""
    python, site = make_venv(root)
    parent = sysconfig.get_paths()["purelib"]
    (site / "test_environment.pth").write_text(f"import site; site.addsitedir({parent!r})\n", encoding="utf-8")
    package = site / "pip_audit"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "__main__.py").write_text(
        f"import json, sys\nprint(json.dumps({report!r}))\nsys.exit(0)\n", encoding="utf-8"
    )
    return python


def run_with(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "CI_HELPER_", "RUNNER_", "VIRTUAL_ENV")) and k != "CI"
    }
    return subprocess.run(
        [str(python), "-m", "ci_helper", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def clean(name: str, version: str) -> dict:
    return {"name": name, "version": version, "vulns": []}


def test_stand_in_that_omits_a_requested_package_is_not_run(tmp_path, osv):  # noqa: F811
    project = tmp_path / "project"  # noqa: F811 - a folder here, not the fixture
    project.mkdir()
    (project / "requirements.txt").write_text("vulnpkg==1.2.3\nsafepkg==2.0\n", encoding="utf-8")
    # The real pip-audit would report vulnpkg as vulnerable; this one leaves it out.
    python = stand_in_python(tmp_path / "overlay", {"dependencies": [clean("safepkg", "2.0")], "fixes": []})
    proc = run_with(
        python, project, "audit", "-r", "requirements.txt", "--osv-url", osv().query_url, "--results-dir", "results"
    )
    reason = (
        "pip-audit's report does not match what it was asked to audit: it leaves out vulnpkg, asked for in "
        "requirements.txt; nothing can be trusted from this run (check which pip-audit runs and its version)"
    )
    assert proc.stdout.splitlines() == [
        "error: vulnpkg: asked for in requirements.txt, absent from pip-audit's report",
        f"audit: not-run - {reason}",
    ], proc.stderr
    assert proc.returncode == 1
    check = read_result(project / "results" / "audit.json")
    assert (check.status, check.reason) == ("not-run", reason)
    assert [(f.rule, f.data) for f in check.findings] == [
        ("audit-report-incomplete", {"package": "vulnpkg", "problem": "missing"})
    ]


def test_stand_in_that_names_a_package_never_asked_for_is_not_run(tmp_path, osv):  # noqa: F811
    project = tmp_path / "project"  # noqa: F811 - a folder here, not the fixture
    project.mkdir()
    (project / "requirements.txt").write_text("safepkg==2.0\n", encoding="utf-8")
    python = stand_in_python(
        tmp_path / "overlay", {"dependencies": [clean("safepkg", "2.0"), clean("Other_Pkg", "1")], "fixes": []}
    )
    proc = run_with(
        python, project, "audit", "-r", "requirements.txt", "--osv-url", osv().query_url, "--results-dir", "results"
    )
    assert proc.returncode == 1, proc.stderr
    check = read_result(project / "results" / "audit.json")
    assert check.status == "not-run"
    assert check.reason == (
        "pip-audit's report does not match what it was asked to audit: it names other-pkg, never "
        "asked for; nothing can be trusted from this run (check which pip-audit runs and its "
        "version)"
    )


def test_stand_in_that_omits_an_installed_distribution_is_not_run(tmp_path, osv):  # noqa: F811
    _, site = make_venv(tmp_path / "audited")
    install_dist(site, "vulnpkg", "1.2.3")
    install_dist(site, "safepkg", "2.0")
    python = stand_in_python(tmp_path / "overlay", {"dependencies": [clean("safepkg", "2.0")], "fixes": []})
    proc = run_with(
        python, tmp_path, "audit", "--path", str(site), "--osv-url", osv().query_url, "--results-dir", "results"
    )
    assert proc.returncode == 1, proc.stderr
    check = read_result(tmp_path / "results" / "audit.json")
    assert check.status == "not-run"
    assert check.reason.startswith(
        f"pip-audit's report does not match what it was asked to audit: it leaves out vulnpkg, asked for in {site};"
    )


# --- the real pip-audit against the local OSV server: no false alarm ------------------


def test_real_pip_audit_report_matches_names_markers_and_includes(cli, project, osv):  # noqa: F811
    root = project.path
    (root / "a.txt").write_text("-r common.txt\nVulnPkg==1.2.3\n", encoding="utf-8")
    (root / "b.txt").write_text("-r common.txt\n-c constraints.txt\n", encoding="utf-8")
    (root / "common.txt").write_text('Safe_Pkg==2.0\nold==1.0 ; python_version < "3"\n', encoding="utf-8")
    (root / "constraints.txt").write_text("neverinstalled==1\n", encoding="utf-8")
    server = osv()
    result, check = audit(cli, "-r", "a.txt", "-r", "b.txt", "--osv-url", server.query_url)
    assert result.exit_code == 1, result.output
    assert check.status == "fail"
    assert [f.rule for f in check.findings] == ["audit-vulnerability"]
    assert sorted(server.queries) == [("safe-pkg", "2.0"), ("vulnpkg", "1.2.3")]


def test_real_pip_audit_environment_report_matches(cli, tmp_path, monkeypatch, osv):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    _, site = make_venv(tmp_path / "venv")
    install_dist(site, "Safe.Pkg", "2.0")
    install_dist(site, "nofix", "0.9")
    result, check = audit(cli, "--path", str(site), "--osv-url", osv().query_url)
    assert result.exit_code == 1, result.output
    assert check.status == "fail"
    assert [f.rule for f in check.findings] == ["audit-vulnerability"]
    assert check.figures["dependencies"] == 2


# --- the comparison -------------------------------------------------------------------


def test_resolved_scope_allows_dependencies_but_not_missing_top_level():
    asked = scope.Scope(frozenset({"flask"}), exact=False, source="requirements.in")
    assert not scope.compare(asked, ["Flask", "Werkzeug", "jinja2"])
    assert scope.compare(asked, ["Werkzeug"]) == scope.Difference(("flask",), ())


def test_reason_names_at_most_ten_packages():
    names = tuple(f"p{i:02}" for i in range(12))
    asked = scope.Scope(frozenset(names), exact=True, source="r.txt")
    assert scope.describe(asked, scope.compare(asked, [])).startswith(
        "pip-audit's report does not match what it was asked to audit: it leaves out "
        "p00, p01, p02, p03, p04, p05, p06, p07, p08, p09 and 2 more, asked for in r.txt;"
    )


def test_gate_on_a_report_missing_a_package_is_not_run_even_with_a_vulnerability():
    report = AuditReport.from_json(
        {
            "dependencies": [
                {"name": "vulnpkg", "version": "1", "vulns": [{"id": "X-1", "aliases": [], "fix_versions": []}]}
            ]
        }
    )
    asked = scope.Scope(frozenset({"vulnpkg", "other"}), exact=True, source="r.txt")
    result = gate.evaluate(report, [], gate.today_utc(), {}, asked)
    assert result.status == "not-run"
    assert [f.rule for f in result.findings] == ["audit-vulnerability", "audit-report-incomplete"]


names = st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{0,8}[A-Za-z0-9]", fullmatch=True), max_size=6)


@settings(max_examples=60, deadline=None)
@given(asked=names, reported=names, exact=st.booleans())
def test_compare_is_the_set_difference_of_canonical_names(asked, reported, exact):
    from packaging.utils import canonicalize_name

    want = {canonicalize_name(n) for n in asked}
    seen = {canonicalize_name(n) for n in reported}
    difference = scope.compare(scope.Scope(frozenset(want), exact, "r.txt"), reported)
    assert set(difference.missing) == want - seen
    assert set(difference.unexpected) == ((seen - want) if exact else set())
    assert bool(difference) == bool(want - seen or (exact and seen - want))


def test_json_out_still_written_when_report_is_incomplete(tmp_path, osv):  # noqa: F811
    project = tmp_path / "project"  # noqa: F811 - a folder here, not the fixture
    project.mkdir()
    (project / "requirements.txt").write_text("vulnpkg==1.2.3\n", encoding="utf-8")
    report = {"dependencies": [], "fixes": []}
    python = stand_in_python(tmp_path / "overlay", report)
    proc = run_with(
        python,
        project,
        "audit",
        "-r",
        "requirements.txt",
        "--osv-url",
        osv().query_url,
        "--results-dir",
        "results",
        "--json-out",
        "pa.json",
    )
    assert proc.returncode == 1
    assert json.loads((project / "pa.json").read_text()) == report
    assert read_result(project / "results" / "audit.json").reason.startswith(
        "pip-audit's report does not match what it was asked to audit: it leaves out vulnpkg"
    )
