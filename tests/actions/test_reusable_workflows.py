"""The reusable tier workflows (.github/workflows/smoke.yml, quality.yml): called only, wired honestly."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    # PyYAML reads a bare `on:` key as True.
    document = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    document["on"] = document.pop(True)
    return document


def steps(document: dict):
    for job_id, job in document["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@pytest.mark.parametrize("name", ["smoke.yml", "quality.yml"])
def test_called_only_never_this_repositorys_own_ci(name):
    document = load(name)
    assert list(document["on"]) == ["workflow_call"]
    assert document["permissions"] == {"contents": "read"}
    inputs = document["on"]["workflow_call"]["inputs"]
    assert {"repositories", "python-version", "install", "stub-manifest"} <= set(inputs)


@pytest.mark.parametrize("name", ["smoke.yml", "quality.yml"])
def test_our_actions_come_from_this_commit_with_inputs_they_declare(name):
    seen = set()
    for job_id, step in steps(load(name)):
        uses = step.get("uses", "")
        if "ci-helper" in uses:
            pytest.fail(f"{name}: job {job_id} reaches our action as {uses}; use $/actions/<name> (same commit)")
        if uses.startswith("$/"):
            seen.add(uses)
            action = yaml.safe_load((REPO_ROOT / uses[2:] / "action.yml").read_text())
            assert set(step.get("with", {})) <= set(action["inputs"]), (name, uses)
        elif uses:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses
        # Guardrails first in every job: nothing from the checkout runs before the decision.
    for job_id, job in load(name)["jobs"].items():
        if job.get("steps") and job_id != "plan":
            assert job["steps"][0]["uses"] == "$/actions/guardrails", (name, job_id)
    assert "$/actions/guardrails" in seen


@pytest.mark.parametrize("name", ["smoke.yml", "quality.yml"])
def test_every_ci_helper_call_is_isolated_and_inputs_reach_shells_through_env(name):
    for job_id, step in steps(load(name)):
        script = step.get("run", "")
        assert "${{" not in script, (name, job_id, step.get("name"))
        # A call of the CLI (not a path such as .ci-helper/junit).
        if re.search(r"(^|[\s;|&])ci-helper\s|-m ci_helper\b", script):
            assert '"$CI_HELPER_PYTHON" -I -m ci_helper ' in script, (name, job_id, step.get("name"))


def test_quality_shards_then_one_verdict_that_always_runs():
    document = load("quality.yml")
    jobs = document["jobs"]
    assert document["on"]["workflow_call"]["inputs"]["shards"] == {
        "description": "How many shard jobs the tests are split into (1 = one job, still through the verdict job).",
        "required": False,
        "type": "number",
        "default": 1,
    }
    tests = jobs["tests"]
    assert tests["strategy"] == {"fail-fast": False, "matrix": {"shard": "${{ fromJSON(needs.plan.outputs.indexes) }}"}}
    quality = next(s for s in tests["steps"] if s.get("uses") == "$/actions/quality")
    assert (quality["with"]["shard"], quality["with"]["shards"]) == ("${{ matrix.shard }}", "${{ inputs.shards }}")
    # `report` passes through to the action, off unless asked.
    assert document["on"]["workflow_call"]["inputs"]["report"]["default"] is False
    assert quality["with"]["report"] == "${{ inputs.report }}"
    upload = next(s for s in tests["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["include-hidden-files"] is True
    assert upload["with"]["name"] == "ci-helper-${{ inputs.name }}-shard-${{ matrix.shard }}"
    assert upload["with"]["path"].split() == [".ci-helper/results/", ".ci-helper/junit/", ".coverage.*"]
    verdict = jobs["verdict"]
    assert verdict["if"] == "${{ always() }}"
    assert verdict["needs"] == [j for j in jobs if j != "verdict"]
    combine = next(s for s in verdict["steps"] if "combine" in s.get("run", ""))
    assert combine["env"]["CI_HELPER_NEEDS"] == "${{ toJSON(needs) }}"
    assert combine["env"]["CI_HELPER_SHARD_TOTAL"] == "${{ inputs.shards }}"
    gate = next(s for s in verdict["steps"] if "coverage gate" in s.get("run", ""))
    assert gate["env"]["CI_HELPER_FAIL_UNDER"] == "${{ inputs.fail-under }}"


def test_the_plan_step_lists_the_shard_indexes(tmp_path):
    import os
    import subprocess

    script = next(s for _, s in steps(load("quality.yml")) if s.get("id") == "plan")["run"]
    for shards, code, output in (("3", 0, "indexes=[1,2,3]\n"), ("1", 0, "indexes=[1]\n"), ("0", 1, ""), ("x", 1, "")):
        out = tmp_path / f"out-{shards}"
        out.write_text("")
        proc = subprocess.run(
            ["bash", "-e", "-c", script],
            env={**os.environ, "SHARDS": shards, "GITHUB_OUTPUT": str(out)},
            capture_output=True,
            text=True,
        )
        assert (proc.returncode, out.read_text()) == (code, output)
