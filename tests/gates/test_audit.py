"""`ci-helper audit`: the real pip-audit against a local OSV service on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from ci_helper.canary.osv_server import OsvServer, affects
from ci_helper.errors import BadInput
from ci_helper.gates.audit import gate, policy
from ci_helper.gates.audit.report import AuditReport, Dependency, Vulnerability
from ci_helper.results import read_result
from ci_helper.settings import AuditIgnore
from tests.gates.test_deps import install_dist, make_venv

FIXTURES = Path(gate.__file__).resolve().parent.parent.parent / "fixtures" / "audit"


def osv_record(vid, package, introduced="0", fixed=None, aliases=(), versions=None):
    affected = {"package": {"ecosystem": "PyPI", "name": package}}
    if versions is not None:
        affected["versions"] = list(versions)
    else:
        events = [{"introduced": introduced}] + ([{"fixed": fixed}] if fixed else [])
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    return {
        "id": vid,
        "aliases": list(aliases),
        "summary": f"{vid} in {package}",
        "modified": "2026-01-01T00:00:00Z",
        "affected": [affected],
    }


RECORDS = [
    osv_record("PYSEC-2099-1", "vulnpkg", fixed="1.2.4", aliases=["CVE-2099-0001"]),
    osv_record("PYSEC-2099-2", "nofix", versions=["0.9"]),
]


@pytest.fixture
def osv():
    """Start a local OSV service with the given records: ``osv(records, mode)``."""
    servers = []

    def start(records=RECORDS, mode="ok"):
        server = OsvServer(records, mode).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/v1/query"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder (cwd) with a pinned requirements file and an optional policy."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text("vulnpkg==1.2.3\nsafepkg==2.0\n")

    def with_policy(entries: str = "") -> Path:
        (tmp_path / "pyproject.toml").write_text(f"[tool.ci-helper.audit]\nignore = [\n{entries}\n]\n")
        return tmp_path

    with_policy.path = tmp_path
    return with_policy


def audit(cli, *args):
    result = cli("audit", *args, "--results-dir", "results")
    path = Path("results") / "audit.json"
    return result, (read_result(path) if path.exists() else None)


# --- the gate against pip-audit ---------------------------------------------


def test_vulnerable_package_is_red_with_id_and_fix(cli, project, osv):
    server = osv()
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", server.query_url)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: vulnpkg 1.2.3: PYSEC-2099-1 (CVE-2099-0001): fix in 1.2.4",
        "audit: fail - 2 dependencies (pinned, osv), 1 vulnerable, 0 ignored, 0 expired, 0 stale",
    ]
    assert check.status == "fail"
    assert check.figures == {
        "dependencies": 2,
        "skipped": 0,
        "vulnerable": 1,
        "vulnerable_packages": 1,
        "ignored": 0,
        "expired": 0,
        "stale": 0,
        "service": "osv",
        "ignore_entries": 0,
        "source": "pinned",
    }
    assert [f.to_dict() for f in check.findings] == [
        {
            "rule": "audit-vulnerability",
            "message": "vulnpkg 1.2.3: PYSEC-2099-1 (CVE-2099-0001): fix in 1.2.4",
            "file": None,
            "line": None,
            "column": None,
            "severity": "error",
            "data": {
                "package": "vulnpkg",
                "version": "1.2.3",
                "id": "PYSEC-2099-1",
                "aliases": ["CVE-2099-0001"],
                "fix_versions": ["1.2.4"],
                "ignored": None,
            },
        }
    ]
    # Both pinned packages reached the service: nothing was resolved or skipped.
    assert sorted(server.queries) == [("safepkg", "2.0"), ("vulnpkg", "1.2.3")]


def test_ignored_with_future_expiry_is_green_and_listed(cli, project, osv):
    project(
        '{ id = "CVE-2099-0001", package = "VulnPkg", reason = "not reachable from our code", expires = "2099-12-31" },'
    )
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", osv().query_url)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "note: vulnpkg 1.2.3: PYSEC-2099-1 (CVE-2099-0001): ignored until 2099-12-31 by "
        "ignore[0] CVE-2099-0001 (vulnpkg): not reachable from our code (fix in 1.2.4)",
        "audit: pass - 2 dependencies (pinned, osv), 0 vulnerable, 1 ignored, 0 expired, 0 stale",
    ]
    assert check.status == "pass"
    (finding,) = check.findings
    assert (finding.rule, finding.severity) == ("audit-ignored", "note")
    assert finding.data["ignored"] == {"entry": 0, "reason": "not reachable from our code", "expires": "2099-12-31"}
    assert finding.data["fix_versions"] == ["1.2.4"]


def test_ignored_with_past_expiry_is_red(cli, project, osv):
    project('{ id = "PYSEC-2099-1", reason = "waiting for 1.2.4", expires = "2021-03-04" },')
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", osv().query_url)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: vulnpkg 1.2.3: PYSEC-2099-1 (CVE-2099-0001): fix in 1.2.4; ignore[0] PYSEC-2099-1 expired on 2021-03-04",
        "error: ignore[0] PYSEC-2099-1 expired on 2021-03-04 (reason: waiting for 1.2.4); "
        "upgrade the package, or review the entry and set a new expires date",
        "audit: fail - 2 dependencies (pinned, osv), 1 vulnerable, 0 ignored, 1 expired, 0 stale",
    ]
    assert (check.figures["expired"], check.figures["vulnerable"]) == (1, 1)
    assert check.findings[1].data == {
        "entry": 0,
        "id": "PYSEC-2099-1",
        "package": None,
        "reason": "waiting for 1.2.4",
        "expires": "2021-03-04",
    }


def test_stale_ignore_is_reported(cli, project, osv):
    project(
        '{ id = "PYSEC-2099-1", reason = "accepted", expires = "2099-01-01" },\n'
        '{ id = "GHSA-gone-away-0000", package = "safepkg", reason = "fixed long ago", expires = "2099-01-01" },'
    )
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", osv().query_url)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "warning: ignore[1] GHSA-gone-away-0000 (safepkg) matches no vulnerability found; "
        "remove the entry (reason was: fixed long ago)",
        "audit: pass - 2 dependencies (pinned, osv), 0 vulnerable, 1 ignored, 0 expired, 1 stale",
    ]
    assert [f.rule for f in check.findings] == ["audit-ignored", "audit-ignore-stale"]


def test_ignore_for_another_package_does_not_apply(cli, project, osv):
    project('{ id = "PYSEC-2099-1", package = "safepkg", reason = "wrong package", expires = "2099-01-01" },')
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", osv().query_url)
    assert result.exit_code == 1
    assert [f.rule for f in check.findings] == ["audit-vulnerability", "audit-ignore-stale"]


@pytest.mark.parametrize("allow, code", [((), 1), (("--allow-offline",), 0)])
def test_service_error_500_is_not_run(cli, project, osv, allow, code):
    server = osv(mode="error")
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", server.query_url, *allow)
    assert result.exit_code == code
    reason = (
        "vulnerability service (osv) unreachable or failing: requests.exceptions.HTTPError: "
        f"500 Server Error: Internal Server Error for url: {server.query_url}"
    )
    assert check.status == "not-run"
    assert check.reason == reason
    assert check.figures["allow_offline"] is bool(allow)
    assert result.output.splitlines()[0] == f"audit: not-run - {reason}"


@pytest.mark.parametrize("allow, code", [((), 1), (("--allow-offline",), 0)])
def test_service_down_is_not_run(cli, project, closed_port_url, allow, code):
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", closed_port_url, *allow)
    assert result.exit_code == code
    assert check.status == "not-run"
    assert check.reason.startswith(
        "vulnerability service (osv) unreachable or failing: requests.exceptions.ConnectionError: "
    )
    assert check.reason.endswith('Connection refused"))')
    if allow:
        assert result.output.splitlines()[1] == "audit: --allow-offline: exiting 0, but nothing was audited"


@pytest.mark.parametrize("allow, code", [(False, 1), (True, 0)])
def test_the_offline_policy_is_decided_by_the_gate_not_the_cli(project, closed_port_url, allow, code):
    from ci_helper.gates.audit import invocation

    request = invocation.AuditRequest(requirements=["requirements.txt"], osv_url=closed_port_url)
    outcome = gate.audit(request, [], allow_offline=allow)
    assert (outcome.result.status, outcome.exit_code, outcome.raw_json) == ("not-run", code, None)
    assert outcome.lines[1:] == (["audit: --allow-offline: exiting 0, but nothing was audited"] if allow else [])


def test_allow_offline_with_settings_and_flag(cli, project, closed_port_url):
    (project.path / "pyproject.toml").write_text("[tool.ci-helper.audit]\nallow-offline = true\n")
    assert cli("audit", "-r", "requirements.txt", "--osv-url", closed_port_url).exit_code == 0
    assert cli("audit", "-r", "requirements.txt", "--osv-url", closed_port_url, "--no-allow-offline").exit_code == 1


def test_allow_offline_from_env(cli, project, closed_port_url):
    result = cli(
        "audit",
        "-r",
        "requirements.txt",
        "--osv-url",
        closed_port_url,
        "--results-dir",
        "results",
        env={"CI_HELPER_ALLOW_OFFLINE": "true"},
    )
    assert result.exit_code == 0
    assert read_result("results/audit.json").status == "not-run"


def test_includes_are_audited_in_pinned_mode(cli, project, osv):
    root = project.path
    (root / "ci").mkdir()
    (root / "ci" / "requirements.txt").write_text(
        "-r ../requirements.txt\n-c constraints.txt\nnofix==0.9 \\\n  --hash=sha256:00\n"
    )
    (root / "ci" / "constraints.txt").write_text("neverinstalled<2\n")
    server = osv()
    (root / "requirements.txt").write_text(
        "vulnpkg==1.2.3 --hash=sha256:11\nsafepkg==2.0 --hash=sha256:22\n"
        'old==1.0 ; python_version < "3" --hash=sha256:33\n'
    )
    result, check = audit(cli, "-r", "ci/requirements.txt", "--osv-url", server.query_url, "--json-out", "out/pa.json")
    assert result.exit_code == 1
    # pip-audit's own --disable-pip parser drops -r includes; ci-helper flattens them first.
    assert sorted(server.queries) == [("nofix", "0.9"), ("safepkg", "2.0"), ("vulnpkg", "1.2.3")]
    assert [f.message for f in check.findings] == [
        "vulnpkg 1.2.3: PYSEC-2099-1 (CVE-2099-0001): fix in 1.2.4",
        "nofix 0.9: PYSEC-2099-2: no fix version released",
    ]
    raw = json.loads(Path("out/pa.json").read_text())
    assert [d["name"] for d in raw["dependencies"]] == ["vulnpkg", "safepkg", "nofix"]


def test_path_audits_an_installed_environment(cli, tmp_path, monkeypatch, osv):
    monkeypatch.chdir(tmp_path)
    python, site = make_venv(tmp_path / "venv")
    install_dist(site, "vulnpkg", "1.2.3")
    install_dist(site, "safepkg", "2.0")
    server = osv()
    result, check = audit(cli, "--path", str(site), "--osv-url", server.query_url)
    assert result.exit_code == 1, result.output
    assert check.figures["source"] == "environment"
    assert check.figures["dependencies"] == 2
    assert sorted(server.queries) == [("safepkg", "2.0"), ("vulnpkg", "1.2.3")]
    # --python finds the same site-packages.
    server.queries.clear()
    result, check = audit(cli, "--python", str(python), "--osv-url", server.query_url)
    assert result.exit_code == 1
    assert sorted(server.queries) == [("safepkg", "2.0"), ("vulnpkg", "1.2.3")]


def test_pip_audit_failure_other_than_service_is_not_run_even_offline(cli, project, osv):
    # pip requires every line hashed once one is; pip-audit refuses the file.
    (project.path / "requirements.txt").write_text("vulnpkg==1.2.3 --hash=sha256:11\nsafepkg==2.0\n")
    result, check = audit(cli, "-r", "requirements.txt", "--osv-url", osv().query_url, "--allow-offline")
    assert result.exit_code == 1
    assert check.status == "not-run"
    assert check.reason == "pip-audit failed (exit 1): requirement safepkg==2.0 does not contain a hash"


# --- bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            '{ id = "X-1", expires = "2099-01-01" }',
            "[tool.ci-helper] 'audit.ignore[0]' is missing required key 'reason'",
        ),
        ('{ id = "X-1", reason = "r" }', "[tool.ci-helper] 'audit.ignore[0]' is missing required key 'expires'"),
        (
            '{ id = "X-1", reason = "  ", expires = "2099-01-01" }',
            "[tool.ci-helper.audit] ignore[0] (X-1): 'reason' is empty; say why the vulnerability is accepted",
        ),
        (
            '{ id = "X-1", reason = "r", expires = "2099-13-01" }',
            "[tool.ci-helper.audit] ignore[0] (X-1): expires '2099-13-01' is not a valid date (month must be in 1..12); "
            "write it as YYYY-MM-DD",
        ),
        (
            '{ id = "X-1", reason = "r", expires = "next year" }',
            "[tool.ci-helper.audit] ignore[0] (X-1): expires 'next year' is not a date; write it as YYYY-MM-DD",
        ),
        (
            '{ id = "X-1", reason = "r", expires = 2099-01-01 }',
            "[tool.ci-helper] audit.ignore[0].expires: expected a string, got date datetime.date(2099, 1, 1)",
        ),
    ],
)
def test_bad_policy_entry_exits_2_naming_it(cli, project, entry, message):
    project(entry)
    result, check = audit(cli, "-r", "requirements.txt")
    assert result.exit_code == 2
    assert result.output == f"Error: {message}\n"
    # Refused while reading [tool.ci-helper] itself: the results folder is not known yet, so nothing
    # is written; a policy refused after the settings were read leaves not-run with the reason.
    assert check is None or (check.status, check.reason) == ("not-run", f"bad input: {message}")


def test_missing_requirements_file_is_bad_input(cli, project):
    result, _ = audit(cli, "-r", "missing.txt")
    assert result.exit_code == 2
    assert result.output == "Error: requirements file not found: missing.txt\n"


def test_nothing_to_audit_is_bad_input(cli, project):
    result, _ = audit(cli)
    assert result.exit_code == 2
    assert result.output == (
        "Error: nothing to audit: pass -r REQUIREMENTS or --path SITE_PACKAGES (or --python PATH), "
        "or set [tool.ci-helper.audit] requirements\n"
    )


@pytest.mark.parametrize("text", ["tool = 3\n", "tool = [1]\n"])
def test_policy_file_whose_tool_is_not_a_table_is_bad_input(cli, project, text):
    (project.path / "policy.toml").write_text(text)
    result, check = audit(cli, "-r", "requirements.txt", "--policy", "policy.toml")
    assert result.exit_code == 2
    assert result.output == "Error: --policy policy.toml: [tool] must be a table\n"
    assert check is None


def test_python_that_is_not_python_is_bad_input(cli, project):
    fake = project.path / "fake-python"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)
    result, check = audit(cli, "--python", str(fake))
    assert result.exit_code == 2
    assert result.output == (
        f"Error: --python {fake}: printed no site-packages list (not a Python 3 "
        "interpreter?); pass the environment's python\n"
    )
    assert (check.status, check.reason) == ("not-run", "bad input: " + result.output[len("Error: ") :].rstrip("\n"))


def test_python_that_fails_is_bad_input_with_its_last_error_line(cli, project):
    fake = project.path / "broken-python"
    fake.write_text("#!/bin/sh\necho first >&2\necho 'boom: no sysconfig' >&2\nexit 1\n")
    fake.chmod(0o755)
    result, _ = audit(cli, "--python", str(fake))
    assert result.exit_code == 2
    assert result.output == f"Error: --python {fake}: cannot read its site-packages (boom: no sysconfig)\n"


def test_osv_url_with_pypi_service_is_bad_input(cli, project):
    result, _ = audit(
        cli, "-r", "requirements.txt", "--vulnerability-service", "pypi", "--osv-url", "http://x/v1/query"
    )
    assert result.exit_code == 2
    assert result.output == "Error: --osv-url only applies to --vulnerability-service osv\n"


def test_settings_supply_requirements_and_url(cli, project, osv):
    server = osv()
    (project.path / "pyproject.toml").write_text(
        f'[tool.ci-helper.audit]\nrequirements = ["requirements.txt"]\nosv-url = "{server.query_url}"\n'
    )
    result, check = audit(cli)
    assert result.exit_code == 1
    assert check.figures["vulnerable"] == 1


# --- canary fixtures --------------------------------------------------------------


@pytest.mark.parametrize("case, code", [("good", 0), ("bad", 1)])
def test_canary_fixtures(cli, tmp_path, monkeypatch, case, code):
    monkeypatch.chdir(tmp_path)
    folder = FIXTURES / case
    with OsvServer.from_file(folder / "osv.json") as server:
        result, check = audit(
            cli,
            "-r",
            str(folder / "requirements.txt"),
            "--policy",
            str(folder / "policy.toml"),
            "--osv-url",
            server.query_url,
        )
    assert result.exit_code == code, result.output
    if case == "good":
        assert [(f.rule, f.data["package"]) for f in check.findings] == [("audit-ignored", "canary-imaging")]
    else:
        assert [f.message for f in check.findings] == [
            "canary-templating 3.1.2: PYSEC-2099-101 (CVE-2099-10101): fix in 3.1.3",
            "canary-http 2.19.0: PYSEC-2099-102 (CVE-2099-10202, GHSA-cana-ryht-tp02): fix in 2.20.0; "
            "ignore[0] CVE-2099-10202 (canary-http) expired on 2020-01-31",
            "ignore[0] CVE-2099-10202 (canary-http) expired on 2020-01-31 (reason: proxy not used in CI images; "
            "upgrade tracked in #123); upgrade the package, or review the entry and set a new expires date",
        ]


# --- units --------------------------------------------------------------------------


def _rule(expires: str, **kw) -> policy.IgnoreRule:
    (rule,) = policy.load([AuditIgnore(id=kw.get("id", "V-1"), reason="r", expires=expires, package=kw.get("package"))])
    return rule


def test_entry_is_honoured_through_its_expiry_date():
    report = AuditReport([Dependency("p", "1", [Vulnerability("V-1")])])
    rules = [_rule("2030-06-30")]
    assert gate.evaluate(report, rules, dt.date(2030, 6, 30)).status == "pass"
    after = gate.evaluate(report, rules, dt.date(2030, 7, 1))
    assert after.status == "fail"
    assert [f.rule for f in after.findings] == ["audit-vulnerability", "audit-ignore-expired"]


def test_skipped_dependency_is_a_warning():
    report = AuditReport(
        [
            Dependency("local", None, [], "Dependency not found on PyPI and could not be audited"),
            Dependency("safepkg", "2.0"),
        ]
    )
    result = gate.evaluate(report, [], dt.date(2030, 1, 1))
    assert result.status == "pass"
    assert [(f.rule, f.severity, f.message) for f in result.findings] == [
        ("audit-skipped", "warning", "local: not audited (Dependency not found on PyPI and could not be audited)")
    ]
    assert result.figures["skipped"] == 1


def test_every_dependency_skipped_is_not_run():
    # pip-audit skips what is not on the index: if it skipped everything, nothing was audited.
    report = AuditReport(
        [
            Dependency("local", None, [], "Dependency not found on PyPI and could not be audited"),
            Dependency("other", None, [], "Dependency not found on PyPI and could not be audited"),
        ]
    )
    result = gate.evaluate(report, [], dt.date(2030, 1, 1))
    assert result.status == "not-run"
    assert result.reason == (
        "pip-audit audited none of the 2 dependencies (all skipped, see audit-skipped); "
        "nothing was checked for vulnerabilities"
    )
    assert (result.figures["dependencies"], result.figures["skipped"]) == (2, 2)


def test_report_rejects_non_pip_audit_json():
    with pytest.raises(ValueError):
        AuditReport.from_json({"vulns": []})


@pytest.mark.parametrize("vuln", [{"aliases": []}, "PYSEC-1", {"id": "PYSEC-1", "fix_versions": None}])
def test_report_rejects_a_malformed_vulnerability(vuln):
    with pytest.raises(ValueError, match="malformed vulnerability entry"):
        AuditReport.from_json({"dependencies": [{"name": "vulnpkg", "version": "1.2.3", "vulns": [vuln]}]})


@pytest.mark.parametrize(
    "item", [{"name": "vulnpkg", "version": "1.2.3"}, {"name": "vulnpkg", "version": "1.2.3", "vulns": None}]
)
def test_report_rejects_an_audited_dependency_without_its_vulns_list(item):
    # pip-audit writes "vulns": [] for every audited dependency; without it the entry says nothing.
    with pytest.raises(ValueError, match="no 'vulns' list"):
        AuditReport.from_json({"dependencies": [item]})


@settings(max_examples=50, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_policy_dates_round_trip(day):
    assert _rule(day.isoformat()).expires == day


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_policy_rejects_anything_but_a_date(text):
    try:
        parsed = dt.date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.isoformat() == text:
        return
    with pytest.raises(BadInput):
        _rule(text)


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.integers(0, 5), st.integers(0, 5)),
    st.tuples(st.integers(0, 5), st.integers(0, 5)),
)
def test_osv_server_range_semantics(introduced, fixed, probe):
    intro, fix, version = (".".join(map(str, v)) for v in (introduced, fixed, probe))
    record = osv_record("V", "Some_Pkg", introduced=intro, fixed=fix)
    from packaging.version import Version

    expected = Version(intro) <= Version(version) < Version(fix)
    assert affects(record, "some-pkg", version) is expected


@pytest.mark.parametrize("fixture, expected", [("good", "pass"), ("bad", "fail")])
def test_canary_runner_cases(fixture, expected):
    from ci_helper.canary.cases import load_case
    from ci_helper.canary.run import run_case

    outcome = run_case(load_case(FIXTURES / fixture, "audit"))
    assert (outcome.expected, outcome.got) == (expected, expected), outcome.detail


def test_empty_audit_is_not_run():
    result = gate.evaluate(AuditReport([]), [_rule("2099-01-01")], dt.date(2030, 1, 1))
    assert result.status == "not-run"
    assert (
        result.reason == "pip-audit found no dependencies to audit; check that -r/--path/--python name the environment"
    )


# --- wired into the quality action ----------------------------------------------------


def test_quality_action_verifies_deps_before_the_tests_and_audits_after():
    import yaml

    from tests.conftest import REPO_ROOT

    steps = yaml.safe_load((REPO_ROOT / "actions" / "quality" / "action.yml").read_text())["runs"]["steps"]
    ids = [s.get("id") for s in steps]
    assert ids.index("deps") < ids.index("tests") < ids.index("gate") < ids.index("audit")
    deps_step, audit_step = steps[ids.index("deps")], steps[ids.index("audit")]
    assert deps_step["run"] == '"$CI_HELPER_PYTHON" -I -m ci_helper deps verify\n'
    assert deps_step["env"]["CI_HELPER_DEPS_PYTHON"] == "${{ steps.paths.outputs.python }}"
    assert deps_step["env"]["CI_HELPER_DEPS_REQUIREMENTS"] == "${{ inputs.requirements }}"
    # In CI, an unreachable service must stay red whatever the project's settings say; only a local
    # dry run lets the step exit 0, and it says so in the runner context (which no step can write),
    # never in env (which any step can, through GITHUB_ENV).
    from ci_helper.runner import evaluate_template
    from ci_helper.runner.expressions.values import to_string

    assert audit_step["run"] == '"$CI_HELPER_PYTHON" -I -m ci_helper audit\n'
    allow = audit_step["env"]["CI_HELPER_ALLOW_OFFLINE"]
    assert to_string(evaluate_template(allow, {"env": {}, "runner": {}})) == "false"
    assert to_string(evaluate_template(allow, {"env": {"CI_HELPER_ALLOW_OFFLINE": "true"}, "runner": {}})) == "false"
    assert to_string(evaluate_template(allow, {"env": {"CI_HELPER_DRY_RUN": "true"}, "runner": {}})) == "false"
    assert to_string(evaluate_template(allow, {"env": {}, "runner": {"ci_helper_dry_run": "true"}})) == "true"
    assert audit_step["if"] == "${{ !cancelled() && inputs.audit == 'true' }}"
    assert audit_step["env"]["CI_HELPER_AUDIT_PYTHON"] == "${{ steps.paths.outputs.python }}"
    assert audit_step["env"]["CI_HELPER_OSV_URL"] == "${{ inputs.osv-url }}"


def test_quality_action_runs_deps_verify_and_audit(tmp_path):
    import shutil
    import sys
    from importlib import metadata

    from tests.actions.test_quality_action_run import FIXTURES as COVERAGE_FIXTURES, pytestmark, run_quality

    for mark in pytestmark:
        if mark.args[0]:
            pytest.skip(mark.kwargs["reason"])
    workspace = tmp_path / "workspace"
    shutil.copytree(COVERAGE_FIXTURES / "good", workspace)
    click_version = metadata.version("click")
    (workspace / "requirements-ci.txt").write_text(f"click=={click_version}\n")
    records = [osv_record("PYSEC-2099-77", "click", versions=[click_version])]
    with OsvServer(records) as osv:
        proc, outputs = run_quality(
            workspace,
            {
                "python": sys.executable,
                "pytest-args": "test_shapes.py -p no:cacheprovider",
                "requirements": "requirements-ci.txt",
                "osv-url": osv.query_url,
            },
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    steps = outputs["steps"]
    assert (
        steps["deps"]["outcome"],
        steps["tests"]["outcome"],
        steps["gate"]["outcome"],
        steps["audit"]["outcome"],
    ) == ("success", "success", "success", "failure")
    results = workspace / ".ci-helper" / "results"
    assert read_result(results / "deps.json").status == "pass"
    audit_result = read_result(results / "audit.json")
    assert audit_result.status == "fail"
    assert [f.message for f in audit_result.findings] == [
        f"click {click_version}: PYSEC-2099-77: no fix version released"
    ]
