import json

import pytest

from ci_helper import results
from ci_helper.errors import BadInput
from ci_helper.results import CheckResult, Finding


def test_round_trip_matches_design_schema(tmp_path):
    result = results.failed(
        "coverage",
        figures={"total": 38.2, "fail_under": 40.0},
        findings=[Finding("coverage-total", "total 38.2% is under 40%")],
    )
    path = results.write_result(result, tmp_path)
    assert path == tmp_path / "coverage.json"
    raw = json.loads(path.read_text())
    assert raw == {
        "check": "coverage",
        "status": "fail",
        "reason": None,
        "figures": {"total": 38.2, "fail_under": 40.0},
        "findings": [
            {
                "rule": "coverage-total",
                "message": "total 38.2% is under 40%",
                "file": None,
                "line": None,
                "column": None,
                "severity": "error",
            }
        ],
        "required": True,
    }
    assert results.read_result(path) == result


def test_not_run_requires_reason():
    with pytest.raises(ValueError):
        CheckResult("audit", "not-run")
    assert results.not_run("audit", "service unreachable").exit_code == 1


def test_exit_codes():
    assert results.passed("x").exit_code == 0
    assert results.failed("x").exit_code == 1


@pytest.mark.parametrize(
    "content, message",
    [
        ("{", "corrupt check result"),
        ('{"check": "x", "status": "green"}', "field 'status' must be one of pass, fail, not-run, got 'green'"),
        ('{"check": "x", "status": "not-run"}', "a not-run result must carry a 'reason'"),
        ('{"check": "x", "status": "pass", "findings": [{"rule": 1}]}', "finding field 'rule' must be a string"),
        ("[]", "a check result must be a JSON object"),
    ],
)
def test_corrupt_results_are_bad_input(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(BadInput) as exc:
        results.read_result(path)
    assert message in exc.value.message


def test_read_results_sorted_and_missing_dir(tmp_path):
    results.write_result(results.passed("smoke"), tmp_path)
    results.write_result(results.not_run("audit", "offline"), tmp_path)
    assert [r.check for r in results.read_results(tmp_path)] == ["audit", "smoke"]
    with pytest.raises(BadInput):
        results.read_results(tmp_path / "nope")


def test_results_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("CI_HELPER_RESULTS_DIR", raising=False)
    assert str(results.results_dir()) == ".ci-helper/results"
    assert str(results.results_dir(configured="out")) == "out"
    monkeypatch.setenv("CI_HELPER_RESULTS_DIR", "envdir")
    assert str(results.results_dir(configured="out")) == "envdir"
    assert str(results.results_dir("flag", configured="out")) == "flag"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_is_bad_input(tmp_path, constant):
    # json.loads accepts these, but they are not JSON and the summary cannot count them.
    path = tmp_path / "smoke.json"
    path.write_text('{"check": "smoke", "status": "pass",\n "figures": {"tests": ' + constant + "}}")
    with pytest.raises(BadInput) as exc:
        results.read_result(path)
    assert exc.value.message == (
        f"{path}: corrupt check result ({constant} is not a JSON number); delete it and re-run the gate"
    )


def test_small_results_are_indented_throughout():
    result = results.failed("verify", figures={"files": 2}, findings=[Finding("r", "m", "a.yml", 3, 5)])
    assert result.to_json() == json.dumps(result.to_dict(), indent=2) + "\n"


def test_big_results_are_one_finding_per_line_and_read_back(tmp_path):
    findings = [
        Finding(
            "unpinned-uses",
            f'x@v{i} is not pinned; use "@sha"',
            f"w{i}.yml",
            i + 1,
            7,
            "warning" if i % 2 else "error",
            {"uses": f"x@v{i}"},
        )
        for i in range(150)
    ]
    result = results.failed("verify", figures={"files": 150, "findings": 150}, findings=findings)
    text = result.to_json()
    lines = text.splitlines()
    assert lines[:6] == [
        "{",
        '  "check": "verify",',
        '  "status": "fail",',
        '  "reason": null,',
        '  "figures": {"files": 150, "findings": 150},',
        '  "findings": [',
    ]
    assert lines[6] == (
        '    {"rule": "unpinned-uses", "message": "x@v0 is not pinned; use \\"@sha\\"", "file": "w0.yml", '
        '"line": 1, "column": 7, "severity": "error", "data": {"uses": "x@v0"}},'
    )
    assert lines[156:] == ["  ],", '  "required": true', "}"]
    assert len(lines) == 159
    assert json.loads(text) == result.to_dict()
    assert results.read_result(results.write_result(result, tmp_path)) == result


def test_an_overflowing_number_is_bad_input(tmp_path):
    # 1e999 is valid JSON text, but Python reads it as inf: no gate measured an infinite figure.
    path = tmp_path / "coverage.json"
    path.write_text('{"check": "coverage", "status": "pass", "figures": {"total": 1e999}}')
    with pytest.raises(BadInput) as exc:
        results.read_result(path)
    assert (
        exc.value.message
        == f"{path}: corrupt check result (1e999 is not a finite number); delete it and re-run the gate"
    )
