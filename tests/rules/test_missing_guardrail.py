"""missing-guardrail: PR/push jobs need the configured guardrails (a repository check by default)."""

import pytest

from ci_helper.errors import BadInput
from tests.rules.conftest import SHA

ONLY = {"missing-guardrail"}
MESSAGE = ("job '{job}' runs on {events} without a {kind} guardrail; add a step that uses "
           "truthful-ci/ci-helper/actions/guardrails (or fails when {var} is not the expected value)")


def wf(jobs: str, on: str = "[push, pull_request]") -> dict[str, str]:
    return {".github/workflows/ci.yml": f"on: {on}\npermissions: {{contents: read}}\njobs:\n{jobs}"}


UNGUARDED = "  test:\n    runs-on: x\n    steps:\n      - run: pytest\n"


def test_unguarded_job(findings):
    assert findings(wf(UNGUARDED), ONLY) == [(
        "missing-guardrail", 4, 3, "error",
        MESSAGE.format(job="test", events="pull_request/push", kind="repository", var="GITHUB_REPOSITORY"))]


@pytest.mark.parametrize("on", ["pull_request", "push", "pull_request_target", "{push: {branches: [main]}}", "[workflow_dispatch, push]"])
def test_each_trigger_needs_it(findings, on):
    assert len(findings(wf(UNGUARDED, on), ONLY)) == 1


@pytest.mark.parametrize("on", ["workflow_dispatch", "schedule", "workflow_call", "{release: {types: [published]}}"])
def test_other_triggers_do_not(findings, on):
    assert findings(wf(UNGUARDED, on), ONLY) == []


@pytest.mark.parametrize("step", [
    f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA} # v0.1.0",
    f"- uses: someone/ci-helper@{SHA}\n  with: {{command: guard}}",
    "- run: ci-helper guard --repository o/r",
    '- run: |\n    if [ "$GITHUB_REPOSITORY" != "o/r" ]; then\n      exit 1\n    fi',
    '- run: test "${GITHUB_REPOSITORY}" = o/r',
    '- run: |\n    case "$GITHUB_REPOSITORY" in\n      o/r) ;;\n      *) exit 1 ;;\n    esac',
    "- if: github.repository != 'o/r'\n  run: exit 1",
    "- run: python -c 'import os,sys; sys.exit(os.environ[\"GITHUB_REPOSITORY\"] != \"o/r\")'\n  shell: bash",
])
def test_recognised_guardrail_steps(findings, step):
    job = "  test:\n    runs-on: x\n    steps:\n" + "".join(f"      {line}\n" for line in step.splitlines()) + "      - run: pytest\n"
    assert findings(wf(job), ONLY) == []


@pytest.mark.parametrize("step", [
    '- run: echo "running in $GITHUB_REPOSITORY"',
    "- run: echo ${{ github.repository_owner == 'o' }}",
    f"- uses: truthful-ci/ci-helper/actions/smoke@{SHA}",
    "- if: github.repository != 'o/r'\n  run: echo wrong repo",
])
def test_things_that_are_not_guardrails(findings, step):
    job = "  test:\n    runs-on: x\n    steps:\n" + "".join(f"      {line}\n" for line in step.splitlines())
    assert len(findings(wf(job), ONLY)) == 1


def test_job_level_if_on_repository(findings):
    assert findings(wf("  test:\n    if: github.repository == 'o/r'\n    runs-on: x\n    steps: [{run: pytest}]\n"), ONLY) == []


def test_needs_a_guarded_job(findings):
    jobs = ("  guard:\n    runs-on: x\n    steps: [{run: ci-helper guard}]\n"
            "  test:\n    needs: guard\n    runs-on: x\n    steps: [{run: pytest}]\n"
            "  deploy:\n    needs: [test]\n    runs-on: x\n    steps: [{run: echo}]\n"
            "  report:\n    needs: [guard]\n    if: always()\n    runs-on: x\n    steps: [{run: echo}]\n")
    got = findings(wf(jobs), ONLY)
    assert [(line, msg.split(" runs on")[0]) for _, line, _, _, msg in got] == [(15, "job 'report'")]


def test_needs_cycles_terminate(findings):
    jobs = "  a:\n    needs: b\n    steps: [{run: x}]\n  b:\n    needs: a\n    steps: [{run: x}]\n"
    assert len(findings(wf(jobs), ONLY)) == 2


def test_local_composite_and_reusable_workflows_are_followed(findings):
    files = wf("  a:\n    runs-on: x\n    steps: [{uses: ./.github/actions/guard}]\n"
               "  b:\n    uses: ./.github/workflows/reusable.yml\n"
               "  c:\n    uses: ./.github/workflows/unguarded.yml\n"
               f"  d:\n    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@{SHA}\n"
               f"  e:\n    uses: other/repo/.github/workflows/x.yml@{SHA}\n")
    files[".github/actions/guard/action.yml"] = (
        "runs:\n  using: composite\n  steps:\n    - run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 1'\n      shell: bash\n")
    files[".github/workflows/reusable.yml"] = "on: workflow_call\njobs:\n  x:\n    runs-on: x\n    steps: [{uses: ./.github/actions/guard}]\n"
    files[".github/workflows/unguarded.yml"] = "on: workflow_call\njobs:\n  x:\n    runs-on: x\n    steps: [{run: pytest}]\n"
    got = findings(files, ONLY)
    assert [msg.split(" runs on")[0] for *_, msg in got] == ["job 'c'", "job 'e'"]


def test_configured_kinds(findings):
    job = '  test:\n    runs-on: x\n    steps:\n      - run: \'[ "$GITHUB_REPOSITORY" = o/r ] || exit 1\'\n'
    got = findings(wf(job), ONLY, {"verify": {"guardrails": ["repository", "base-branch"]}})
    assert [m for *_, m in got] == [MESSAGE.format(job="test", events="pull_request/push", kind="base-branch", var="GITHUB_BASE_REF")]
    job2 = job + "      - run: '[ \"$GITHUB_BASE_REF\" = main ] || exit 1'\n"
    assert findings(wf(job2), ONLY, {"verify": {"guardrails": ["repository", "base-branch"]}}) == []
    assert findings(wf(UNGUARDED), ONLY, {"verify": {"guardrails": []}}) == []


def test_unknown_kind_is_bad_input(findings):
    with pytest.raises(BadInput) as exc:
        findings(wf(UNGUARDED), ONLY, {"verify": {"guardrails": ["fork"]}})
    assert exc.value.message == ("[tool.ci-helper] verify.guardrails: unknown guardrail 'fork'; "
                                 "expected some of: base-branch, event, ref, repository")
