"""What each gate's result looks like, from results shaped exactly as the gates write them."""

from ci_helper.summary import model, render

from .conftest import write_result


def F(rule, message, file=None, line=None, severity="error", data=None):
    return {"rule": rule, "message": message, "file": file, "line": line, "column": None, "severity": severity,
            "data": data or {}}


def lines_of(folder):
    return render.render_markdown(model.load(folder, [])).text.split("\n")


def test_audit_lists_vulnerabilities_expired_stale_and_ignores_with_reasons_and_expiry(tmp_path):
    vuln = {"package": "jinja2", "version": "3.1.2", "id": "GHSA-h5c8-rqwp-cp95", "aliases": ["CVE-2024-22195"],
            "fix_versions": ["3.1.3"], "ignored": None}
    ignored = {"package": "torch", "version": "2.1.2", "id": "PYSEC-2024-48", "aliases": [], "fix_versions": ["2.2.0"],
               "ignored": {"entry": 0, "reason": "no CUDA 11.8 build | see @octocat", "expires": "2026-12-31"}}
    write_result(tmp_path, "audit", "fail", {"dependencies": 41, "skipped": 1, "vulnerable": 1, "vulnerable_packages": 1,
                                             "ignored": 1, "expired": 1, "stale": 1}, [
        F("audit-ignored", "torch 2.1.2 PYSEC-2024-48: ignored", severity="note", data=ignored),
        F("audit-vulnerability", "jinja2 3.1.2 GHSA-h5c8-rqwp-cp95: fixed in 3.1.3", data=vuln),
        F("audit-ignore-stale", "ignore[2] matches nothing", severity="warning",
          data={"entry": 2, "id": "PYSEC-2023-1", "package": None, "reason": "old", "expires": "2027-01-01"}),
        F("audit-ignore-expired", "ignore[1] expired on 2020-01-31",
          data={"entry": 1, "id": "GHSA-xxxx", "package": "pillow", "reason": "waiting for upstream", "expires": "2020-01-31"}),
        F("audit-skipped", "ldm: not audited (not on PyPI)", severity="warning",
          data={"package": "ldm", "skip_reason": "not on PyPI"}),
    ])
    lines = lines_of(tmp_path)
    assert "| ❌ fail | audit | required | 1 vulnerable of 41, 1 ignored, 1 expired, 1 stale, 1 not audited | jinja2 3.1.2 GHSA-h5c8-rqwp-cp95: fixed in 3.1.3 (+4 more) |" in lines
    i = lines.index("#### Vulnerabilities and ignores")
    assert lines[i + 2: i + 9] == [
        "| State | Package | Version | ID | Fix versions | Reason | Expires |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        "| vulnerable | jinja2 | 3.1.2 | GHSA-h5c8-rqwp-cp95 | 3.1.3 | none | — |",
        "| expired | pillow | — | GHSA-xxxx | — | waiting for upstream | 2020-01-31 |",
        "| stale | any | — | PYSEC-2023-1 | — | old | 2027-01-01 |",
        "| not audited | ldm | — | audit-skipped | — | not on PyPI | — |",
        "| ignored | torch | 2.1.2 | PYSEC-2024-48 | 2.2.0 | no CUDA 11.8 build \\| see @\u200doctocat | 2026-12-31 |",
    ]


def test_coverage_shows_the_20_worst_files_and_changed_line_ranges(tmp_path):
    per_file = [F("coverage-per-file", f"pkg/m{i:02}.py: {i}.00% covered, under the per-file floor 30%", file=f"pkg/m{i:02}.py")
                for i in range(25, 0, -1)]
    changed = [F("coverage-changed-lines", "changed lines 3-5 not covered by the tests", file="pkg/b.py", line=3, data={"end_line": 5}),
               F("coverage-changed-lines", "changed line 9 not covered by the tests", file="pkg/b.py", line=9, data={"end_line": 9}),
               F("coverage-changed-lines", "changed line 1 not covered by the tests", file="pkg/a.py", line=1, data={"end_line": 1})]
    write_result(tmp_path, "coverage", "fail", {"total": 55.5, "fail_under": None, "diff": 40.0, "diff_fail_under": 80.0,
                                                "measure": "tests+server"}, per_file + changed)
    lines = lines_of(tmp_path)
    assert "| ❌ fail | coverage | required | total 55.5%, changed lines 40% (floor 80%) | pkg/m25.py: 25.00% covered, under the per-file floor 30% (+27 more) |" in lines
    i = lines.index("#### Worst files (20 of 25 under the floor)")
    assert lines[i + 4: i + 6] == ["| pkg/m01.py | 1% |", "| pkg/m02.py | 2% |"]
    assert lines[i + 23] == "| pkg/m20.py | 20% |" and lines[i + 24] == ""
    i = lines.index("#### Uncovered changed lines")
    assert lines[i + 4: i + 6] == ["| pkg/a.py | 1 |", "| pkg/b.py | 3-5, 9 |"]
    assert "> Coverage includes the server process: lines hit at startup count as covered." in lines


def test_coverage_without_data_says_so(tmp_path):
    write_result(tmp_path, "coverage", "fail", {"total": None}, [F("coverage-input", "no coverage data in .coverage", file=".coverage")],
                 reason="no coverage data in .coverage")
    assert "| ❌ fail | coverage | required | no coverage data | no coverage data in .coverage |" in lines_of(tmp_path)


def test_smoke_server_log_tail_is_shown_as_code(tmp_path):
    write_result(tmp_path, "smoke", "fail", {"tests": None, "passed": None, "ready_seconds": None, "server_pid": 31337,
                                             "server_exit_code": 3}, [
        F("smoke-server-exited", "server exited with code 3 before it was ready (0.41 s after start)", file="server.log",
          data={"exit_code": 3, "log_tail": "Traceback (most recent call last):\n```\nImportError: no module named ldm <img src=x>"})])
    lines = lines_of(tmp_path)
    assert "| ❌ fail | smoke | required | tests did not run, server never ready | server exited with code 3 before it was ready (0.41 s after start) |" in lines
    assert "| Server PID | 31337 |" in lines and "| Server exit code | 3 |" in lines
    i = lines.index("<details><summary>last lines of server.log</summary>")
    assert lines[i + 2: i + 7] == ["````text", "Traceback (most recent call last):", "```",
                                   "ImportError: no module named ldm <img src=x>", "````"]


def test_stubs_say_whether_fake_inference_was_on(tmp_path):
    write_result(tmp_path, "stubs", "pass", {"repositories": 2, "modules": 5, "fake_inference": False})
    lines = lines_of(tmp_path)
    assert "| ✅ pass | stubs | required | fake inference off, 5 modules, 2 repositories |  |" in lines
    assert "| Fake inference | off |" in lines
    assert not any(line.startswith("> Fake inference was on") for line in lines)


def test_guardrails_and_deps_key_figures(tmp_path):
    write_result(tmp_path, "guardrails", "fail", {"repository": "someone/fork", "event": "push", "ref": "refs/heads/x", "base": None},
                 [F("guard-repository", "must run only in truthful-ci/diffusion-api, not in someone/fork (GITHUB_REPOSITORY)")])
    write_result(tmp_path, "deps", "fail", {"requirements": 1, "matched": 0, "mismatched": 1, "missing": 0},
                 [F("deps-mismatch", "torch: expected ==2.1.2, found 2.2.0", file="requirements.txt", line=3)])
    lines = lines_of(tmp_path)
    assert ("| ❌ fail | guardrails | required | someone/fork · push · refs/heads/x | must run only in truthful-ci/diffusion-api, "
            "not in someone/fork (GITHUB\\_REPOSITORY) |") in lines
    assert "| ❌ fail | deps | required | 1 of 1 requirement mismatched | torch: expected ==2.1.2, found 2.2.0 |" in lines
    assert "- ❌ deps-mismatch at requirements.txt:3: torch: expected ==2.1.2, found 2.2.0" in lines
