"""`verify --run` runs a called workflow's jobs, a matrix built from `needs` outputs, and artifacts (issue 18.4).

One real dry run of a local reusable workflow: typed inputs from the caller's `with:`, a plan job whose
output builds the shard matrix, shards side by side in their own workspace copies, upload-artifact's
hidden-file rule, and an aggregate job that downloads what the shards stored.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import run_ci_helper
from tests.dry_run.project_env import make_venv

SHA = "0123456789abcdef0123456789abcdef01234567"
# The tier shows upload-artifact's hidden-file loss on purpose; the static rule that flags it is not the subject.
PYPROJECT = (
    '[tool.ci-helper]\nrepository = "o/r"\n'
    '[[tool.ci-helper.verify.allow]]\nrule = "artifact-hidden-files"\nreason = "the test shows the loss"\n'
)

CALLER = f"""\
on: push
permissions: {{contents: read}}
jobs:
  guard:
    runs-on: ubuntu-latest
    outputs: {{count: "${{{{ steps.c.outputs.count }}}}"}}
    steps:
      - uses: truthful-ci/ci-helper/actions/guardrails@{SHA}
        with: {{repositories: o/r}}
      - id: c
        run: echo "count=2" >> "$GITHUB_OUTPUT"
  tier:
    needs: guard
    uses: ./.github/workflows/_tier.yml
    with:
      shards: ${{{{ fromJSON(needs.guard.outputs.count) }}}}
      label: run-${{{{ github.event_name }}}}
"""

TIER = f"""\
on:
  workflow_call:
    inputs:
      shards: {{type: number, required: true}}
      label: {{type: string, required: true}}
      hidden: {{type: boolean, default: false}}
jobs:
  plan:
    runs-on: ubuntu-latest
    outputs: {{indexes: "${{{{ steps.p.outputs.indexes }}}}"}}
    steps:
      - id: p
        env: {{SHARDS: "${{{{ inputs.shards }}}}"}}
        run: echo "indexes=[$(seq -s, 1 "$SHARDS")]" >> "$GITHUB_OUTPUT"
  shard:
    name: Shard ${{{{ matrix.shard }}}} of ${{{{ inputs.shards }}}}
    needs: plan
    runs-on: ubuntu-latest
    strategy:
      matrix:
        shard: ${{{{ fromJSON(needs.plan.outputs.indexes) }}}}
    steps:
      - env: {{SHARD: "${{{{ matrix.shard }}}}", LABEL: "${{{{ inputs.label }}}}", HIDDEN: "${{{{ inputs.hidden }}}}"}}
        run: |
          mkdir -p out
          echo "$LABEL shard $SHARD hidden=$HIDDEN" > out/said.txt
          pwd > out/where.txt
          echo data > .coverage.shard$SHARD
          sleep 1
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: part-${{{{ matrix.shard }}}}
          path: |
            out/
            .coverage.*
  aggregate:
    needs: [plan, shard]
    if: ${{{{ always() }}}}
    runs-on: ubuntu-latest
    steps:
      - uses: truthful-ci/ci-helper/actions/guardrails@{SHA}
        with: {{repositories: o/r}}
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          pattern: part-*
          path: ${{{{ runner.temp }}}}/parts
      - env: {{PARTS: "${{{{ runner.temp }}}}/parts", RESULT: "${{{{ needs.shard.result }}}}"}}
        run: |
          (cd "$PARTS" && find . -type f | sort && cat part-*/out/said.txt part-*/out/where.txt) > aggregate.txt
          echo "shard=$RESULT" >> aggregate.txt
"""


@pytest.mark.parametrize("parallel", [2, 1])  # one at a time: still each in its own copy, as on CI
def test_a_called_workflow_runs_its_shards_side_by_side_then_the_aggregate(tmp_path, parallel):
    project = tmp_path / "project"
    workflows = project / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(CALLER)
    (workflows / "_tier.yml").write_text(TIER)
    (project / "pyproject.toml").write_text(PYPROJECT + '[tool.ci-helper.guard]\nrepositories = ["o/r"]\n')
    make_venv(project)

    proc = run_ci_helper("verify", "--run", str(project), "--event", "push", "--parallel", str(parallel), timeout=240)

    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr
    lines = (project / "aggregate.txt").read_text().splitlines()
    # Both shards stored their folder below the paths' common root; upload-artifact v4.4+ left .coverage.* out.
    assert lines[:4] == [
        "./part-1/out/said.txt",
        "./part-1/out/where.txt",
        "./part-2/out/said.txt",
        "./part-2/out/where.txt",
    ]
    # The caller's `with:` reached the called workflow typed (a number, a default boolean).
    assert lines[4:6] == ["run-push shard 1 hidden=false", "run-push shard 2 hidden=false"]
    # Each shard ran in its own copy of the workspace, never in the project itself.
    where = lines[6:8]
    assert len(set(where)) == 2 and str(project) not in where, where
    assert lines[8:] == ["shard=success"]
    assert not list(project.glob(".coverage*"))
    assert "left out 1 hidden file(s) (include-hidden-files is false): .coverage.shard1" in proc.stdout
    assert (
        f".github/workflows/ci.yml / tier / shard: 2 matrix jobs, {parallel} at a time, each in its own copy of the "
        "workspace"
    ) in proc.stdout
    assert "/ tier / Shard 2 of 2 (2) ========" in proc.stdout
    for check in ("job-guard", "job-tier-plan", "job-tier-shard-1", "job-tier-shard-2", "job-tier-aggregate"):
        assert re.search(rf"^PASS +{check} +required", proc.stdout, re.M), check


def test_a_called_workflow_skipped_by_its_callers_needs_skips_every_job(tmp_path):
    project = tmp_path / "project"
    workflows = project / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(CALLER.replace('echo "count=2"', "exit 3; echo"))
    (workflows / "_tier.yml").write_text(TIER)
    (project / "pyproject.toml").write_text(PYPROJECT + '[tool.ci-helper.guard]\nrepositories = ["o/r"]\n')
    make_venv(project)

    proc = run_ci_helper("verify", "--run", str(project), "--event", "push", timeout=240)

    assert proc.returncode == 1, proc.stdout[-6000:] + proc.stderr
    assert (
        "skipped job plan: its caller 'tier' was skipped: if: success() is false: a job it needs did not succeed"
        in (proc.stdout)
    )
    assert not (project / "aggregate.txt").exists()
