"""muted-action: known actions configured to swallow their own failure."""

from tests.rules.conftest import GUARDED, bad_fixture_findings

ONLY = {"muted-action"}


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("muted-action") == [
        (
            ".github/workflows/x.yml",
            18,
            29,
            "error",
            "step 'codecov/codecov-action@18283e04ce6e62d37312384ff67231eb8fd56d24': codecov-action with "
            "fail_ci_if_error: false passes when the upload fails; set it to true",
        )
    ]


def test_harden_runner_in_audit_mode_is_a_warning_unless_something_blocks(findings):
    audit = GUARDED + "      - uses: step-security/harden-runner@v2\n        with: {egress-policy: audit}\n"
    got = findings({".github/workflows/ci.yml": audit}, ONLY)
    assert [(sev, m.split(":")[0]) for _, _, _, sev, m in got] == [("warning", "job 'test'")]
    block = audit.replace("audit}", "block}")
    assert findings({".github/workflows/ci.yml": block}, ONLY) == []


def test_if_no_files_found_ignore_matters_only_when_a_later_job_downloads_it(findings):
    jobs = (
        "on: push\npermissions: {contents: read}\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        "      - uses: actions/upload-artifact@v4\n        with: {name: cov, path: c, if-no-files-found: ignore}\n"
    )
    assert findings({".github/workflows/ci.yml": jobs}, ONLY) == []
    jobs += "  b:\n    needs: a\n    runs-on: x\n    steps:\n      - uses: actions/download-artifact@v4\n        with: {name: cov}\n"
    got = findings({".github/workflows/ci.yml": jobs}, ONLY)
    assert [(line, m.split(":", 1)[1].strip()[:40]) for _, line, _, _, m in got] == [
        (8, "if-no-files-found: ignore uploads nothin")
    ]
