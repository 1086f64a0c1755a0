"""`ci-helper verify`: formats, exit codes, the check result, bad input, and this repository itself."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

from ci_helper import __version__
from ci_helper.rules.registry import RULE_IDS
from tests.conftest import REPO_ROOT, run_ci_helper, without_fence
from tests.rules.conftest import FIXTURES, write_tree

SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"
UNPINNED = (
    "actions/checkout@v4 is not pinned to a full commit SHA (ref 'v4'); "
    "pin it as actions/checkout@<40-hex commit sha> # v4"
)
MIXED = {
    ".github/workflows/ci.yml": """\
        on: push
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - uses: actions/checkout@v4
              - run: pytest || true
    """,
    "actions/x/action.yml": """\
        runs:
          using: composite
          steps:
            - run: ruff check .
              shell: bash
              continue-on-error: ${{ inputs.soft }}
    """,
}


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_groups_by_file(cli, in_tmp):
    write_tree(in_tmp / "repo", MIXED)
    result = cli("verify", "repo")
    assert result.exit_code == 1
    assert result.output == (
        ".github/workflows/ci.yml\n"
        "  3:3   error    missing-permissions  job 'test' has no permissions: and the workflow sets none at the top level, so it "
        "gets the repository's default token permissions; add 'permissions: {contents: read}' at the top level\n"
        f"  6:15  error    unpinned-uses        {UNPINNED}\n"
        "  7:14  error    muted-gate           'pytest || true' swallows the gate's exit status; let it fail\n"
        "\n"
        "actions/x/action.yml\n"
        "  6:26  warning  muted-gate           gate step 'ruff check .' has continue-on-error: ${{ inputs.soft }}: when it is "
        "true the failure is ignored; remove it or make sure it is never true for a gate\n"
        "\n"
        "4 findings (3 errors, 1 warning) in 2 files\n"
    )


def test_json_is_exactly_the_documented_shape(cli, in_tmp):
    result = cli("verify", str(FIXTURES / "unpinned-uses" / "bad"), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "version": 1,
        "findings": [
            {
                "rule": "unpinned-uses",
                "severity": "error",
                "message": UNPINNED,
                "file": ".github/workflows/x.yml",
                "line": 18,
                "column": 15,
            }
        ],
        "summary": {"files": 1, "findings": 1},
    }


def test_sarif_validates_against_the_2_1_0_schema(cli, in_tmp):
    write_tree(in_tmp / "repo", MIXED)
    result = cli("verify", "repo", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.output)
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("ci-helper", __version__)
    assert [r["id"] for r in driver["rules"]] == list(RULE_IDS)
    assert [
        (
            r["ruleId"],
            r["ruleIndex"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"],
        )
        for r in run["results"]
    ] == [
        (
            "missing-permissions",
            RULE_IDS.index("missing-permissions"),
            "error",
            "repo/.github/workflows/ci.yml",
            {"startLine": 3, "startColumn": 3},
        ),
        (
            "unpinned-uses",
            RULE_IDS.index("unpinned-uses"),
            "error",
            "repo/.github/workflows/ci.yml",
            {"startLine": 6, "startColumn": 15},
        ),
        (
            "muted-gate",
            RULE_IDS.index("muted-gate"),
            "error",
            "repo/.github/workflows/ci.yml",
            {"startLine": 7, "startColumn": 14},
        ),
        (
            "muted-gate",
            RULE_IDS.index("muted-gate"),
            "warning",
            "repo/actions/x/action.yml",
            {"startLine": 6, "startColumn": 26},
        ),
    ]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"description": {"text": "The repository root."}}}


def _sarif_uris(output: str) -> list[str]:
    (run,) = json.loads(output)["runs"]
    return [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]


def test_sarif_locations_are_relative_to_the_repository_root_whatever_path_was_scanned(cli, in_tmp, monkeypatch):
    repo = write_tree(in_tmp / "repo", {"sub/.github/workflows/ci.yml": MIXED[".github/workflows/ci.yml"]})
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo)
    from_root = cli("verify", "sub", "--format", "sarif")
    monkeypatch.chdir(repo / "sub")
    from_sub = cli("verify", ".", "--format", "sarif")
    monkeypatch.chdir(in_tmp)
    from_outside = cli("verify", "repo/sub", "--format", "sarif")
    uris = _sarif_uris(from_root.output)
    assert uris and set(uris) == {"sub/.github/workflows/ci.yml"}
    assert _sarif_uris(from_sub.output) == _sarif_uris(from_outside.output) == uris


def test_a_note_is_a_notice_annotation_and_a_sarif_note_never_an_error():
    from ci_helper.results import Finding
    from ci_helper.rules import Report
    from ci_helper.rules.output import render

    report = Report([Finding("muted-gate", "a note", file="a.yml", line=2, column=3, severity="note")], files=1)
    assert render("github", report).splitlines()[0] == "::notice file=a.yml,line=2,col=3,title=muted-gate::a note"
    (run,) = json.loads(render("sarif", report))["runs"]
    assert run["results"][0]["level"] == "note"


def test_sarif_schema_rejects_a_broken_log():
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"results": []}]})  # run.tool is required
    assert not validator.is_valid(
        {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "x"}]}]}
    )  # message required
    assert not validator.is_valid(
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "fatal"}]}],
        }
    )
    assert not validator.is_valid({"version": "2.0.0", "runs": []})


def test_github_format_is_the_default_in_actions(cli, in_tmp):
    write_tree(
        in_tmp / "sub" / "repo",
        {".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    steps: [{uses: 'actions/checkout@v4'}]\n"},
    )
    result = cli("verify", "sub/repo", env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    lines = without_fence(result.output).splitlines()
    assert lines[-1] == "2 findings (2 errors, 0 warnings) in 1 file"
    assert lines[1] == (f"::error file=sub/repo/.github/workflows/ci.yml,line=4,col=20,title=unpinned-uses::{UNPINNED}")
    assert [line.split(" ", 1)[0] for line in lines[:-1]] == ["::error"] * 2


def test_clean_tree_exits_0_and_writes_a_passing_result(cli, in_tmp):
    result = cli("verify", str(FIXTURES / "muted-gate" / "good"))
    assert (result.exit_code, result.output) == (0, "no findings in 1 file\n")
    written = json.loads((in_tmp / ".ci-helper" / "results" / "verify.json").read_text())
    assert written == {
        "check": "verify",
        "status": "pass",
        "reason": None,
        "figures": {"files": 1, "findings": 0, "errors": 0, "warnings": 0, "allowed": 0},
        "findings": [],
        "required": True,
    }


def test_findings_write_a_failing_result_to_the_flag_dir(cli, in_tmp):
    result = cli("verify", str(FIXTURES / "unpinned-uses" / "bad"), "--results-dir", "out")
    assert result.exit_code == 1
    written = json.loads((in_tmp / "out" / "verify.json").read_text())
    assert written["status"] == "fail"
    assert written["figures"] == {"files": 1, "findings": 1, "errors": 1, "warnings": 0, "allowed": 0}
    assert written["findings"][0]["rule"] == "unpinned-uses"
    assert written["findings"][0]["data"] == {"uses": "actions/checkout@v4"}


def test_warnings_alone_exit_0(cli, in_tmp):
    write_tree(in_tmp / "repo", {"actions/x/action.yml": MIXED["actions/x/action.yml"]})
    result = cli("verify", "repo")
    assert result.exit_code == 0
    assert result.output.endswith("1 finding (0 errors, 1 warning) in 1 file\n")


def test_allowed_findings_are_counted(cli, in_tmp):
    repo = write_tree(
        in_tmp / "repo",
        {
            ".github/workflows/ci.yml": (
                FIXTURES / "unpinned-uses" / "bad" / ".github" / "workflows" / "x.yml"
            ).read_text(),
            "pyproject.toml": '[[tool.ci-helper.verify.allow]]\nrule = "unpinned-uses"\nreason = "checkout is vendored"\n',
        },
    )
    result = cli("verify", str(repo))
    assert (result.exit_code, result.output) == (
        0,
        "no findings in 1 file; 1 allowed by [tool.ci-helper.verify] allow\n",
    )


@pytest.mark.parametrize(
    "files, args, message",
    [
        ({}, ["missing"], "Error: missing: no such folder; pass the repository folder to check (default: .)\n"),
        (
            {"f.txt": "x"},
            ["f.txt"],
            "Error: f.txt: not a folder; pass the repository folder that holds .github/ and your actions\n",
        ),
        (
            {"src/app.py": "x"},
            ["."],
            "Error: no workflow or action files under . (looked for .github/workflows/*.yml, *.yaml and "
            "action.yml/action.yaml in every folder); pass the repository folder\n",
        ),
        (
            {".github/workflows/ci.yml": "on: push\njobs:\n  a: [\n"},
            ["."],
            "Error: .github/workflows/ci.yml:4: malformed YAML (did not find expected node content); fix the file\n",
        ),
        ({"action.yml": b"runs: \xff\n"}, ["."], "Error: action.yml:1: not valid UTF-8 text; save the file as UTF-8\n"),
        (
            {".github/workflows/ci.yml": "name: ci\njobs:\n  a: {steps: [{run: x}]}\n"},
            ["."],
            "Error: .github/workflows/ci.yml:1: not a workflow GitHub accepts: no 'on:' (the events that start it); "
            "add 'on:' or move the file out of .github/workflows\n",
        ),
        (
            {".github/workflows/ci.yml": "on: push\njobs:\n  a: {runs-on: x}\n"},
            ["."],
            "Error: .github/workflows/ci.yml:3: job 'a' has neither 'steps:' nor 'uses:' (a reusable workflow); "
            "give it steps to run or fix the file\n",
        ),
        (
            {"actions/x/action.yml": "name: x\n"},
            ["."],
            "Error: actions/x/action.yml:1: not an action GitHub accepts: no 'runs:' (what the action runs); "
            "add 'runs:' or rename the file\n",
        ),
        (
            {"action.yml": "runs: {}\n", "pyproject.toml": "[tool.ci-helper.verify]\nallow = 3\n"},
            ["."],
            "Error: [tool.ci-helper] verify.allow: expected a list of a table, got int 3\n",
        ),
        (
            {"action.yml": "runs: {}\n", "pyproject.toml": "[[tool.ci-helper.verify.allow]]\nrule = 'muted-gate'\n"},
            ["."],
            "Error: [tool.ci-helper] 'verify.allow[0]' is missing required key 'reason'\n",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_without_traceback(tmp_path, files, args, message):
    write_tree(tmp_path, files)
    proc = run_ci_helper("verify", *args, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", message)
    # Refused before or after its placeholder: never a pass, and a result written says why.
    written = tmp_path / ".ci-helper" / "results" / "verify.json"
    if written.exists():
        raw = json.loads(written.read_text())
        assert (raw["status"], raw["reason"]) == (
            "not-run",
            "bad input: " + message.removeprefix("Error: ").rstrip("\n"),
        )


@pytest.mark.skipif(not Path("/proc/self/mem").is_file(), reason="needs Linux /proc")
def test_unreadable_file_is_bad_input(tmp_path):
    # CI runs as root, which reads a chmod-0 file: a link to /proc/self/mem is a regular file whose
    # read fails (EIO at offset 0) for any user, so this runs (and can fail) in CI too.
    (tmp_path / "action.yml").symlink_to("/proc/self/mem")
    proc = run_ci_helper("verify", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == "Error: action.yml: cannot read (Input/output error); check the file's permissions\n"


def test_this_repository_is_clean(tmp_path):
    proc = run_ci_helper("verify", str(REPO_ROOT), "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    report = json.loads(proc.stdout)
    assert report["findings"] == []
    assert report["summary"]["files"] >= 1


def test_json_clean_output_text(cli, in_tmp):
    result = cli("verify", str(FIXTURES / "missing-guardrail" / "good"), "--format", "json")
    assert (result.exit_code, result.output) == (
        0,
        '{"version": 1, "findings": [], "summary": {"files": 1, "findings": 0}}\n',
    )


def test_github_annotations_name_files_from_the_current_folder_for_an_absolute_path(cli, in_tmp):
    repo = write_tree(
        in_tmp / "nested" / "repo",
        {
            ".github/workflows/ci.yml": "on: workflow_dispatch\npermissions: {}\njobs:\n  a:\n    steps: [{uses: 'actions/checkout@v4'}]\n"
        },
    )
    result = cli("verify", str(repo), "--format", "github")
    assert result.output.splitlines()[0].startswith("::error file=nested/repo/.github/workflows/ci.yml,line=5,col=20,")


def test_an_in_process_run_leaves_the_collector_as_it_was(cli, in_tmp):
    # verify turns the cyclic collector off while it parses and freezes objects only at exit:
    # a caller's process (here pytest's) must get the collector back on, with nothing frozen.
    import gc

    write_tree(in_tmp / "repo", MIXED)
    assert gc.isenabled()
    before = gc.get_freeze_count()
    assert cli("verify", "repo").exit_code == 1
    assert cli("verify", "repo").exit_code == 1
    assert gc.isenabled()
    assert gc.get_freeze_count() == before
