"""action-inputs: with: keys the called action does not declare, and missing required inputs."""

from tests.rules.conftest import GUARDED, SHA, bad_fixture_findings

ONLY = {"action-inputs"}
ACTION = (
    "inputs:\n  fail-under: {description: x, required: true}\n  soft: {description: y, default: ''}\n"
    "runs:\n  using: composite\n  steps: [{run: x, shell: bash}]\n"
)


def wf(step: str) -> dict[str, str]:
    return {
        ".github/workflows/ci.yml": GUARDED + "".join(f"      {line}\n" for line in step.splitlines()),
        ".github/actions/gate/action.yml": ACTION,
    }


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("action-inputs") == [
        (
            ".github/workflows/x.yml",
            16,
            32,
            "error",
            "'fail_under_per_file' is not an input of ./.github/actions/gate: GitHub ignores it and the action runs with "
            "its default; it declares: fail-under",
        )
    ]


def test_a_typo_names_the_input_it_meant(findings):
    got = findings(wf("- uses: ./.github/actions/gate\n  with: {fail_under: 90}"), ONLY)
    assert [m for *_, m in got] == [
        "./.github/actions/gate requires the input 'fail-under' and step './.github/actions/gate' does not give it",
        "'fail_under' is not an input of ./.github/actions/gate: GitHub ignores it and the action runs with its "
        "default; did you mean 'fail-under'?",
    ]


def test_declared_inputs_are_clean_case_insensitively(findings):
    assert findings(wf("- uses: $/.github/actions/gate\n  with: {Fail-Under: 90, soft: 'true'}"), ONLY) == []


def test_our_own_actions_are_read_from_this_installation(findings):
    got = findings(wf(f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repository: o/r}}"), ONLY)
    assert [m.split(":")[0] for *_, m in got] == [
        "'repository' is not an input of truthful-ci/ci-helper/actions/guardrails@" + SHA
    ]
    assert "did you mean 'repositories'?" in got[0][4]
