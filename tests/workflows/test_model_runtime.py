"""What the runner and the dry run read from the one model: triggers, matrix, job graph, step and action fields."""

from __future__ import annotations

import pytest

from ci_helper.runner.expressions import Scope
from ci_helper.workflows import read_action, read_workflow
from ci_helper.workflows.matrix import MatrixError, expand, label, matches
from ci_helper.workflows.uses import parse_uses

WORKFLOW = """\
name: graph
on:
  push: {branches: [main, 'release/**'], branches-ignore: [release/old]}
  schedule: [{cron: "0 3 * * *"}]
  workflow_dispatch:
    inputs:
      level: {required: true, type: choice}
      dry: {type: boolean, default: true}
env: {A: workflow}
defaults: {run: {shell: bash, working-directory: src}}
jobs:
  build:
    name: Build it
    if: github.event_name == 'push'
    env: {A: job}
    outputs: {version: "${{ steps.v.outputs.version }}"}
    services: {db: {image: postgres}, cache: {image: redis}}
    strategy:
      matrix:
        py: ["3.11", "3.12"]
        include: [{py: "3.12", extra: yes}]
    steps:
      - id: v
        if: ${{ always() }}
        env: {B: "${{ matrix.py }}"}
        working-directory: sub
        timeout-minutes: 5
        run: echo
  after:
    needs: build
    defaults: {run: {working-directory: other}}
    steps: [{run: echo}]
"""


def test_workflow_fields_for_the_runner_and_the_dry_run(tmp_path):
    path = tmp_path / "graph.yml"
    path.write_text(WORKFLOW)
    workflow = read_workflow(path, "graph.yml")
    assert workflow.name.value == "graph"
    assert {k: v.value for k, v in workflow.env.items()} == {"A": "workflow"}
    assert workflow.default_shell.value == "bash" and workflow.default_working_directory.value == "src"
    assert workflow.triggers == {"push", "schedule", "workflow_dispatch"}
    assert workflow.on.events["schedule"].crons == ["0 3 * * *"]
    dispatch = workflow.on.events["workflow_dispatch"].inputs
    assert [(i.name, i.required, i.default, i.type) for i in dispatch.values()] == [
        ("level", True, None, "choice"),
        ("dry", False, "true", "boolean"),
    ]
    assert workflow.on.why_not("push", "main") == ""
    assert workflow.on.why_not("push", "release/old") == "push on release/old is in branches-ignore"
    assert workflow.on.why_not("push", "dev") == "push on dev is not in branches: main, release/**"
    assert workflow.on.why_not("schedule", "dev") == ""
    assert workflow.on.why_not("pull_request", "main") == "not triggered by pull_request"

    build, after = workflow.jobs
    assert (build.name.value, build.services, build.needs, after.needs) == ("Build it", ["db", "cache"], [], ["build"])
    assert {k: v.value for k, v in build.env.items()} == {"A": "job"}
    assert {k: v.value for k, v in build.outputs.items()} == {"version": "${{ steps.v.outputs.version }}"}
    assert build.matrix == {"py": ["3.11", "3.12"], "include": [{"py": "3.12", "extra": "yes"}]}
    assert after.default_working_directory.value == "other" and build.default_working_directory is None
    # if: is parsed by the one expression parser, with its position.
    condition = build.condition()
    assert (condition.expression, condition.where) == ("success() && (github.event_name == 'push')", "graph.yml:14")
    assert condition.evaluate(Scope.of({"github": {"event_name": "push"}})) is True
    [step] = build.steps
    assert step.condition().expression == "always()"
    assert (step.id.value, step.working_directory.value, step.timeout_minutes.value) == ("v", "sub", "5")
    assert {k: v.value for k, v in step.env.items()} == {"B": "${{ matrix.py }}"}
    assert after.steps[0].condition().expression == "success()"


def test_action_inputs_and_outputs(tmp_path):
    path = tmp_path / "action.yml"
    path.write_text(
        "name: greet\ninputs:\n  who: {required: true}\n  how: {default: '${{ github.actor }}', "
        "deprecationMessage: use who}\noutputs:\n  said: {value: '${{ steps.s.outputs.said }}'}\n"
        "runs:\n  using: composite\n  steps: [{id: s, shell: bash, run: echo}]\n"
    )
    action = read_action(path)
    assert action.name == "greet" and action.composite
    assert [
        (i.name, i.required, i.default.value if i.default else None, i.deprecation) for i in action.inputs.values()
    ] == [("who", True, None, ""), ("how", False, "${{ github.actor }}", "use who")]
    assert {k: v.value for k, v in action.outputs.items()} == {"said": "${{ steps.s.outputs.said }}"}


@pytest.mark.parametrize(
    ("matrix", "combinations"),
    [
        (None, [{}]),
        (
            {"a": [1, 2], "b": ["x", "y"]},
            [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}],
        ),
        (
            {"a": [1, 2], "b": ["x", "y"], "exclude": [{"a": 1, "b": "y"}]},
            [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}],
        ),
        # GitHub's documented example: include adds to every combination it does not change, else is its own.
        (
            {
                "fruit": ["apple", "pear"],
                "animal": ["cat", "dog"],
                "include": [
                    {"color": "green"},
                    {"color": "pink", "animal": "cat"},
                    {"fruit": "apple", "shape": "circle"},
                    {"fruit": "banana"},
                    {"fruit": "banana", "animal": "cat"},
                ],
            },
            [
                {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
                {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
                {"fruit": "pear", "animal": "cat", "color": "pink"},
                {"fruit": "pear", "animal": "dog", "color": "green"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ],
        ),
        ({"include": [{"os": "linux"}, {"os": "mac"}]}, [{"os": "linux"}, {"os": "mac"}]),
    ],
)
def test_matrix_expansion(matrix, combinations):
    assert expand(matrix) == combinations


def test_matrix_from_an_expression_is_not_expanded_and_combinations_are_named():
    with pytest.raises(MatrixError, match=r"matrix key 'py' is an expression \(\$\{\{ fromJSON\(x\) \}\}\)"):
        expand({"py": "${{ fromJSON(x) }}"})
    assert label({"py": "3.12", "os": "linux", "cfg": {"a": 1}}) == '3.12, linux, {"a":1}'
    assert matches({"py": "3.12", "os": "linux"}, {"os": "linux"}) and not matches({"os": "mac"}, {"os": "linux"})


@pytest.mark.parametrize(
    ("raw", "ours", "our_action", "step_id"),
    [
        ("truthful-ci/ci-helper/actions/smoke@v1", True, True, "truthful-ci/ci-helper"),
        ("truthful-ci/CI-Helper/Actions/smoke@v1", True, True, "truthful-ci/CI-Helper"),
        ("fork/CI-HELPER@v1", True, True, "fork/CI-HELPER"),
        ("truthful-ci/ci-helper/.github/workflows/q.yml@v1", True, False, "truthful-ci/ci-helper"),
        ("someone/ci-helper-extras/actions/x@v1", False, False, "someone/ci-helper-extras"),
        ("./actions/smoke", False, False, "self"),
        ("$/actions/setup", False, False, "self"),
        ("docker://alpine:3", False, False, "alpine:3"),
        ("owner@v1", False, False, "run"),
    ],
)
def test_uses_ownership_and_runner_ids(raw, ours, our_action, step_id):
    ref = parse_uses(raw)
    assert (ref.ours, ref.our_action, ref.step_id) == (ours, our_action, step_id)
