"""What each gate's result looks like, from results written by running the real gates (tests/summary/conftest.py)."""

import subprocess
import sys

from ci_helper import results
from ci_helper.summary import model, render
from ci_helper.summary.presenters import number
from tests.conftest import run_ci_helper

from .conftest import real_result


def lines_of(folder):
    return render.render_markdown(model.load(folder, [])).text.split("\n")


def section(lines, heading):
    """The table rows under ``heading`` (a figures table or a named table)."""
    i = lines.index(heading)
    rows = []
    for line in lines[i + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return rows


def test_audit_lists_vulnerabilities_and_expired_ignores_with_reasons(gate_results, tmp_path):
    real_result(gate_results, "audit/bad", tmp_path)
    lines = lines_of(tmp_path)
    assert (
        "| ❌ fail | audit | required | 2 vulnerable of 3, 1 expired | canary-templating 3.1.2: PYSEC-2099-101 "
        "(CVE-2099-10101): fix in 3.1.3 (+2 more) |"
    ) in lines
    assert section(lines, "#### Vulnerabilities and ignores") == [
        "| State | Package | Version | ID | Fix versions | Reason | Expires |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        "| vulnerable | canary-templating | 3.1.2 | PYSEC-2099-101 | 3.1.3 | none | — |",
        "| vulnerable | canary-http | 2.19.0 | PYSEC-2099-102 | 2.20.0 | none | — |",
        "| expired | canary-http | — | CVE-2099-10202 | — | proxy not used in CI images; upgrade tracked in #\u200d123 | 2020-01-31 |",
    ]


def test_audit_shows_an_ignored_vulnerability_with_its_reason_and_expiry(gate_results, tmp_path):
    real_result(gate_results, "audit/good", tmp_path)
    rows = section(lines_of(tmp_path), "#### Vulnerabilities and ignores")
    assert len(rows) == 3 and rows[2].startswith("| ignored | canary-imaging | 9.0.1 | PYSEC-2099-201 |")
    assert rows[2].endswith("| 2099-12-31 |")


def test_coverage_lists_files_under_the_floor_from_typed_figures(gate_results, tmp_path):
    real_result(gate_results, "coverage/bad", tmp_path)
    lines = lines_of(tmp_path)
    assert (
        "| ❌ fail | coverage | required | total 29% (floor 90%) | total coverage 29% is under the floor 90% (+1 more) |"
        in lines
    )
    assert section(lines, "#### Files under the floor") == [
        "| File | Coverage |",
        "| --- | --- |",
        "| shapes.py | 29% |",
    ]
    # The per-file finding went into the table (from its data), so only the total is left as a finding.
    assert "- ❌ coverage-total: total coverage 29% is under the floor 90%" in lines
    assert not any(line.startswith("- ❌ coverage-per-file") for line in lines)


def test_coverage_without_data_says_so(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.coverage.run]\nbranch = false\n")
    proc = run_ci_helper("coverage", "gate", "--results-dir", "results", cwd=tmp_path)
    assert proc.returncode == 2
    lines = lines_of(tmp_path / "results")
    row = next(line for line in lines if line.startswith("| ❌ fail | coverage |"))
    assert row.startswith("| ❌ fail | coverage | required | no coverage data | ")


PRECISE = {
    "pyproject.toml": '[tool.coverage.run]\nomit = ["test_*.py"]\n\n[tool.coverage.report]\nprecision = 3\n',
    "third.py": "A = 1\n\n\ndef never():\n    return 2\n",
    "test_third.py": "import third\n\n\ndef test_a():\n    assert third.A == 1\n",
}


def test_the_gates_precision_is_honoured_in_the_summary_and_the_comment(tmp_path):
    for name, text in PRECISE.items():
        (tmp_path / name).write_text(text)
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    proc = run_ci_helper("coverage", "gate", "--fail-under", "66.7", "--results-dir", "results", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    run = model.load(tmp_path / "results", [])
    for text in (render.render_markdown(run).text, render.render_comment(run).text):
        assert "| ❌ fail | coverage | required | total 66.667% (floor 66.7%) |" in text
        assert "| Total | 66.667% |" in text
        assert "66.67%" not in text


def test_smoke_server_exit_is_shown_with_its_log(gate_results, tmp_path):
    real_result(gate_results, "smoke/bad", tmp_path)
    lines = lines_of(tmp_path)
    row = next(line for line in lines if line.startswith("| ❌ fail | smoke |"))
    assert row.startswith(
        "| ❌ fail | smoke | required | tests did not run, server never ready | server exited with code 1 "
        "before it was ready ("
    )
    assert "| Server exit code | 1 |" in lines
    assert "<details><summary>last lines of .ci-helper/smoke/server.log</summary>" in lines


def test_smoke_pass_shows_tests_and_readiness(gate_results, tmp_path):
    path = real_result(gate_results, "smoke/good", tmp_path)
    ready = results.read_result(path).figures["ready_seconds"]
    lines = lines_of(tmp_path)
    assert f"| ✅ pass | smoke | required | 1/1 passed, ready in {number(ready)} s |  |" in lines
    assert "| Server stopped by | stop-url |" in lines


def test_stubs_show_fake_inference_and_fabricated_names_against_the_budget(gate_results, tmp_path):
    real_result(gate_results, "stubs/good", tmp_path)
    lines = lines_of(tmp_path)
    assert (
        "| ✅ pass | stubs | required | fake inference off, 1 fabricated (budget 2), 2 modules, 2 repositories |  |"
        in lines
    )
    assert "| Fake inference | off |" in lines and "| Names fabricated on demand | 1 |" in lines
    assert not any(line.startswith("> Fake inference was on") for line in lines)


def test_stubs_over_the_budget_are_red(gate_results, tmp_path):
    real_result(gate_results, "stubs/bad", tmp_path)
    lines = lines_of(tmp_path)
    assert any(
        line.startswith(
            "| ❌ fail | stubs | required | fake inference off, 3 fabricated (budget 2), 2 modules, 2 repositories |"
        )
        for line in lines
    )


def test_guardrails_and_deps_key_figures(gate_results, tmp_path):
    real_result(gate_results, "guard/bad", tmp_path)
    real_result(gate_results, "deps/bad", tmp_path)
    lines = lines_of(tmp_path)
    assert (
        "| ❌ fail | guardrails | required | someone/ci-helper-copy · pull\\_request · into develop | must run only in "
        "truthful-ci/ci-helper, not in someone/ci-helper-copy (GITHUB\\_REPOSITORY) (+2 more) |"
    ) in lines
    assert (
        "| ❌ fail | deps | required | 2 of 6 requirements mismatched, 1 missing | canary-http: expected ==2.20.0, "
        "found 2.19.0 (+2 more) |"
    ) in lines
    assert "- ❌ deps-mismatch at requirements.txt:2: canary-http: expected ==2.20.0, found 2.19.0" in lines


def test_verify_and_canary_key_figures(gate_results, tmp_path):
    real_result(gate_results, "verify/bad", tmp_path)
    real_result(gate_results, "canary/good", tmp_path)
    lines = lines_of(tmp_path)
    assert any(
        line.startswith("| ❌ fail | verify | required | 1 finding in 1 file | actions/checkout@") for line in lines
    )
    assert "| ✅ pass | canary | required | gates proven to bite: 1/1 |  |" in lines
