"""missing-guardrail: jobs that hold something worth guarding need the configured guardrails."""

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ci_helper.errors import BadInput
from ci_helper.rules import conditions
from tests.rules.conftest import SHA

ONLY = {"missing-guardrail"}
MESSAGE = (
    "job '{job}' ({events}) holds {held} but has no {kind} guardrail; add a step that uses "
    "truthful-ci/ci-helper/actions/guardrails (or fails when {var} is not the expected value)"
)


def wf(jobs: str, on: str = "[push, pull_request]", permissions: str = "{contents: write}") -> dict[str, str]:
    """A workflow whose token can write: something worth guarding."""
    return {".github/workflows/ci.yml": f"on: {on}\npermissions: {permissions}\njobs:\n{jobs}"}


UNGUARDED = "  test:\n    runs-on: x\n    steps:\n      - run: pytest\n"


def test_unguarded_job(findings):
    assert findings(wf(UNGUARDED), ONLY) == [
        (
            "missing-guardrail",
            4,
            3,
            "error",
            MESSAGE.format(
                job="test",
                events="pull_request/push",
                held="contents: write",
                kind="repository",
                var="GITHUB_REPOSITORY",
            ),
        )
    ]


@pytest.mark.parametrize(
    "on",
    [
        "pull_request",
        "push",
        "pull_request_target",
        "{push: {branches: [main]}}",
        "[workflow_dispatch, push]",
        "schedule",
        "{release: {types: [published]}}",
    ],
)
def test_each_unattended_trigger_needs_it(findings, on):
    assert len(findings(wf(UNGUARDED, on), ONLY)) == 1


@pytest.mark.parametrize("on", ["workflow_dispatch", "workflow_call", "[workflow_call, workflow_dispatch]"])
def test_manual_and_called_workflows_do_not(findings, on):
    assert findings(wf(UNGUARDED, on), ONLY) == []


@pytest.mark.parametrize(
    "step",
    [
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA} # v0.1.0\n  with: {{repositories: o/r}}",
        # GitHub compares repository names case-insensitively: still ours (issue 15).
        f"- uses: truthful-ci/CI-Helper/actions/guardrails@{SHA} # v0.1.0\n  with: {{repositories: o/r}}",
        f"- uses: Truthful-CI/ci-helper/Actions/Guardrails@{SHA}\n  with: {{repositories: o/r}}",
        f"- uses: someone/CI-HELPER@{SHA}\n  with: {{command: guard, args: --repository o/r}}",
        f"- uses: someone/ci-helper@{SHA}\n  with: {{command: guard, args: --repository o/r}}",
        "- run: ci-helper guard --repository o/r",
        '- run: |\n    if [ "$GITHUB_REPOSITORY" != "o/r" ]; then\n      exit 1\n    fi',
        '- run: test "${GITHUB_REPOSITORY}" = o/r',
        '- run: |\n    case "$GITHUB_REPOSITORY" in\n      o/r) ;;\n      *) exit 1 ;;\n    esac',
        "- if: github.repository != 'o/r'\n  run: exit 1",
        '- run: python -c \'import os,sys; sys.exit(os.environ["GITHUB_REPOSITORY"] != "o/r")\'\n  shell: bash',
    ],
)
def test_recognised_guardrail_steps(findings, step):
    job = (
        "  test:\n    runs-on: x\n    steps:\n"
        + "".join(f"      {line}\n" for line in step.splitlines())
        + "      - run: pytest\n"
    )
    assert findings(wf(job), ONLY) == []


@pytest.mark.parametrize(
    "step",
    [
        '- run: echo "running in $GITHUB_REPOSITORY"',
        "- run: echo ${{ github.repository_owner == 'o' }}",
        f"- uses: truthful-ci/ci-helper/actions/smoke@{SHA}",
        "- if: github.repository != 'o/r'\n  run: echo wrong repo",
    ],
)
def test_things_that_are_not_guardrails(findings, step):
    job = "  test:\n    runs-on: x\n    steps:\n" + "".join(f"      {line}\n" for line in step.splitlines())
    assert len(findings(wf(job), ONLY)) == 1


def test_job_level_if_on_repository(findings):
    assert (
        findings(wf("  test:\n    if: github.repository == 'o/r'\n    runs-on: x\n    steps: [{run: pytest}]\n"), ONLY)
        == []
    )


def test_needs_a_guarded_job(findings):
    jobs = (
        "  guard:\n    runs-on: x\n    steps: [{run: ci-helper guard --repository o/r}]\n"
        "  test:\n    needs: guard\n    runs-on: x\n    steps: [{run: pytest}]\n"
        "  deploy:\n    needs: [test]\n    runs-on: x\n    steps: [{run: echo}]\n"
        "  report:\n    needs: [guard]\n    if: always()\n    runs-on: x\n    steps: [{run: echo}]\n"
    )
    got = findings(wf(jobs), ONLY)
    assert [(line, msg.split(" (")[0]) for _, line, _, _, msg in got] == [(15, "job 'report'")]


def test_needs_cycles_terminate(findings):
    jobs = "  a:\n    needs: b\n    steps: [{run: x}]\n  b:\n    needs: a\n    steps: [{run: x}]\n"
    assert len(findings(wf(jobs), ONLY)) == 2


def test_local_composite_and_reusable_workflows_are_followed(findings):
    files = wf(
        "  a:\n    runs-on: x\n    steps: [{uses: ./.github/actions/guard}]\n"
        "  b:\n    uses: ./.github/workflows/reusable.yml\n"
        "  c:\n    uses: ./.github/workflows/unguarded.yml\n"
        f"  d:\n    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@{SHA}\n    with: {{repositories: o/r}}\n"
        f"  e:\n    uses: other/repo/.github/workflows/x.yml@{SHA}\n"
    )
    files[".github/actions/guard/action.yml"] = (
        "runs:\n  using: composite\n  steps:\n    - run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 1'\n      shell: bash\n"
    )
    files[".github/workflows/reusable.yml"] = (
        "on: workflow_call\njobs:\n  x:\n    runs-on: x\n    steps: [{uses: ./.github/actions/guard}]\n"
    )
    files[".github/workflows/unguarded.yml"] = (
        "on: workflow_call\njobs:\n  x:\n    runs-on: x\n    steps: [{run: pytest}]\n"
    )
    got = findings(files, ONLY)
    assert [msg.split(" (")[0] for *_, msg in got] == ["job 'c'", "job 'e'"]


def test_configured_kinds(findings):
    job = "  test:\n    runs-on: x\n    steps:\n      - run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 1'\n"
    got = findings(wf(job), ONLY, {"verify": {"guardrails": ["repository", "base-branch"]}})
    assert [m for *_, m in got] == [
        MESSAGE.format(
            job="test", events="pull_request/push", held="contents: write", kind="base-branch", var="GITHUB_BASE_REF"
        )
    ]
    job2 = job + "      - run: '[ \"$GITHUB_BASE_REF\" = main ] || exit 1'\n"
    assert findings(wf(job2), ONLY, {"verify": {"guardrails": ["repository", "base-branch"]}}) == []
    assert findings(wf(UNGUARDED), ONLY, {"verify": {"guardrails": []}}) == []


def test_unknown_kind_is_bad_input(findings):
    with pytest.raises(BadInput) as exc:
        findings(wf(UNGUARDED), ONLY, {"verify": {"guardrails": ["fork"]}})
    assert exc.value.message == (
        "[tool.ci-helper] verify.guardrails: unknown guardrail 'fork'; "
        "expected some of: base-branch, event, ref, repository"
    )


# --- a guardrail must stop the job (review of issue 2) ----------------------------------------

REPO_MESSAGE = MESSAGE.format(
    job="test", events="pull_request/push", held="contents: write", kind="repository", var="GITHUB_REPOSITORY"
)


def _job(step: str, job_if: str | None = None) -> str:
    head = "  test:\n" + (f"    if: {job_if}\n" if job_if else "") + "    runs-on: x\n    steps:\n"
    return head + "".join(f"      {line}\n" for line in step.splitlines()) + "      - run: pytest\n"


@pytest.mark.parametrize(
    "step",
    [
        '- run: echo "x == $GITHUB_REPOSITORY"',
        '- run: if [ "$GITHUB_REPOSITORY" = o/r ]; then echo ok; fi',
        '- run: |\n    if [ "$GITHUB_REPOSITORY" = o/r ]; then\n      echo ok\n    fi\n    echo done',
        "- run: '[ \"$GITHUB_REPOSITORY\" != o/r ] || exit 1'",
        "- run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || echo wrong'",
        "- run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 0'",
        '- run: |\n    set +e\n    test "$GITHUB_REPOSITORY" = o/r',
        '- run: |\n    case "$GITHUB_REPOSITORY" in\n      o/r) exit 1 ;;\n    esac',
        "- if: github.repository != 'o/r'\n  run: echo '::error::wrong repository'",
        "- if: github.repository != 'o/r' && github.event_name == 'push'\n  run: exit 1",
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  if: false",
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  if: github.event_name == 'push'",
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  continue-on-error: true",
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  continue-on-error: ${{{{ matrix.experimental }}}}",
        "- run: ci-helper guard\n  if: ${{ false }}",
        "- run: ci-helper guard\n  continue-on-error: true",
        "- run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 1'\n  if: github.event_name == 'push'",
    ],
)
def test_loose_guardrails_no_longer_count(findings, step):
    assert findings(wf(_job(step)), ONLY) == [("missing-guardrail", 4, 3, "error", REPO_MESSAGE)]


@pytest.mark.parametrize(
    "step",
    [
        "- run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 1'",
        '- run: test "$GITHUB_REPOSITORY" = o/r || { echo "wrong repository"; exit 1; }',
        "- run: '[[ \"${{ github.repository }}\" == o/r ]] || exit 3'",
        "- run: '[ \"$GITHUB_REPOSITORY\" != o/r ] && exit 1'",
        "- run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit'",
        '- run: if [ "$GITHUB_REPOSITORY" != o/r ]; then echo "wrong"; exit 1; fi',
        '- run: |\n    if [ "$GITHUB_REPOSITORY" = o/r ]; then\n      echo ok\n    else\n      exit 1\n    fi',
        '- run: |\n    if ! [ "$GITHUB_REPOSITORY" = o/r ]; then\n      false\n    fi',
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  if: success()",
        f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  if: ${{{{ always() }}}}\n  continue-on-error: false",
        "- if: github.repository != 'o/r' || github.event_name == 'push'\n  run: |\n    echo '::error::wrong repository'\n    exit 1",
        "- run: |\n    if ($env:GITHUB_REPOSITORY -ne 'o/r') { exit 1 }\n  shell: pwsh",
    ],
)
def test_guardrails_that_stop_the_job(findings, step):
    assert findings(wf(_job(step)), ONLY) == []


@pytest.mark.parametrize(
    "job_if",
    [
        "always() || github.repository == 'o/r'",
        "github.repository == 'o/r' || github.event_name == 'push'",
        "${{ !(github.repository == 'o/r') }}",
        "github.repository != 'o/r'",
        "contains(github.repository, 'o/r')",
        "(github.repository == 'o/r' || always()) && success()",
        "${{ github.repository == 'o/r' || true }}",
    ],
)
def test_loose_job_if_does_not_count(findings, job_if):
    assert findings(wf(_job("- run: echo", job_if)), ONLY) == [("missing-guardrail", 4, 3, "error", REPO_MESSAGE)]


@pytest.mark.parametrize(
    "job_if",
    [
        "github.repository == 'o/r'",
        "${{ github.repository == 'o/r' }}",
        "always() && github.repository == 'o/r'",
        "${{ 'o/r' == github.repository && (github.event_name == 'push' || github.event_name == 'pull_request') }}",
        "(github.event_name == 'push' && (github.repository == 'o/r'))",
    ],
)
def test_job_if_conjunction_counts(findings, job_if):
    assert findings(wf(_job("- run: echo", job_if)), ONLY) == []


def test_a_skippable_step_into_a_guarding_local_action_does_not_count(findings):
    files = wf(
        "  test:\n    runs-on: x\n    steps:\n      - uses: ./.github/actions/guard\n        if: false\n      - run: pytest\n"
    )
    files[".github/actions/guard/action.yml"] = (
        f"runs:\n  using: composite\n  steps:\n    - uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n      with: {{repositories: o/r}}\n"
    )
    assert findings(files, ONLY) == [("missing-guardrail", 4, 3, "error", REPO_MESSAGE)]
    files[".github/workflows/ci.yml"] = files[".github/workflows/ci.yml"].replace("        if: false\n", "")
    assert findings(files, ONLY) == []


_TERMS = ["always()", "success()", "github.event_name == 'push'", "!cancelled()", "(github.ref == 'refs/heads/main')"]


@hsettings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(_TERMS), max_size=3), st.integers(0, 3), st.booleans())
def test_job_if_property(terms, at, wrap):
    """A repository equality among top-level && terms counts; the same expression under || or ! never does."""
    guard = "github.repository == 'o/r'"
    conj = terms[:at] + [guard] + terms[at:]
    text = " && ".join(conj)
    if wrap:
        text = "${{ " + text + " }}"
    assert conditions.never_true_when(text, "repository")
    assert not conditions.never_true_when(f"{' && '.join(conj)} || github.event_name == 'schedule'", "repository")
    assert not conditions.never_true_when(f"!({' && '.join(conj)})", "repository")


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    from tests.rules.conftest import bad_fixture_findings

    assert bad_fixture_findings("missing-guardrail") == [
        (
            ".github/workflows/x.yml",
            8,
            3,
            "error",
            "job 'publish' (push) holds id-token: write but has no repository guardrail; add a step that uses truthful-ci/ci-helper/actions/guardrails (or fails when GITHUB_REPOSITORY is not the expected value)",
        )
    ]


# --- issue 16: only where a guard protects something; guards that really stop the job -------------


def _wf_plain(
    jobs: str, on: str = "[push, pull_request]", top: str = "permissions: {contents: read}\n"
) -> dict[str, str]:
    return {".github/workflows/ci.yml": f"on: {on}\n{top}jobs:\n{jobs}"}


@pytest.mark.parametrize(
    "job",
    [
        "  docs:\n    runs-on: ubuntu-latest\n    steps: [{run: make html}]\n",
        "  test:\n    runs-on: ubuntu-latest\n    permissions: {contents: read, pull-requests: read}\n    steps: [{run: pytest}]\n",
        "  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: gh pr view\n        env: {GH_TOKEN: '${{ secrets.GITHUB_TOKEN }}'}\n",
    ],
)
def test_a_job_that_holds_nothing_needs_no_guardrail(findings, job):
    assert findings(_wf_plain(job), ONLY) == []


@pytest.mark.parametrize(
    "job, held",
    [
        (
            "  t:\n    runs-on: x\n    steps:\n      - run: upload\n        env: {TOKEN: '${{ secrets.PYPI_TOKEN }}'}\n",
            "secrets.PYPI_TOKEN",
        ),
        ("  t:\n    runs-on: x\n    permissions: {id-token: write}\n    steps: [{run: x}]\n", "id-token: write"),
        ("  t:\n    runs-on: x\n    permissions: write-all\n    steps: [{run: x}]\n", "write-all permissions"),
        ("  t:\n    runs-on: x\n    environment: production\n    steps: [{run: x}]\n", "environment 'production'"),
        ("  t:\n    runs-on: [self-hosted, gpu]\n    steps: [{run: x}]\n", "a self-hosted runner"),
        ("  t:\n    runs-on: x\n    steps: [{run: twine upload dist/*}]\n", "a publish step (twine upload)"),
        (
            f"  t:\n    runs-on: x\n    steps: [{{uses: 'softprops/action-gh-release@{SHA}'}}]\n",
            "a publish step (softprops/action-gh-release)",
        ),
        ("  t:\n    uses: ./.github/workflows/r.yml\n    secrets: inherit\n", "every secret (secrets: inherit)"),
    ],
)
def test_what_is_worth_guarding(findings, job, held):
    files = _wf_plain(job, on="push")
    files[".github/workflows/r.yml"] = "on: workflow_call\njobs:\n  x:\n    runs-on: x\n    steps: [{run: x}]\n"
    got = findings(files, ONLY)
    assert [m for *_, m in got] == [
        MESSAGE.format(job="t", events="push", held=held, kind="repository", var="GITHUB_REPOSITORY")
    ]


@pytest.mark.parametrize("on", ["pull_request_target", "workflow_run", "issue_comment", "schedule"])
def test_guarded_triggers_are_worth_guarding_on_their_own(findings, on):
    got = findings(_wf_plain("  t:\n    runs-on: x\n    steps: [{run: x}]\n", on=on), ONLY)
    assert [m for *_, m in got] == [
        MESSAGE.format(job="t", events=on, held=f"the {on} trigger", kind="repository", var="GITHUB_REPOSITORY")
    ]


@pytest.mark.parametrize(
    "job_if",
    [
        "github.repository == 'a/x' || github.repository == 'a/y'",
        '${{ contains(fromJSON(\'["a/x", "a/y"]\'), github.repository) }}',
        "github.repository_owner == 'a' && github.repository == 'a/x'",
        "startsWith(github.repository, 'a/')",
    ],
)
def test_a_disjunction_of_allowed_repositories_is_a_guard(findings, job_if):
    assert findings(wf(_job("- run: echo", job_if)), ONLY) == []


@pytest.mark.parametrize(
    "step",
    [
        "- run: ci-helper guard --help",
        "- run: ci-helper guard --repository o/r --help",
        "- run: if false; then ci-helper guard --repository o/r; fi",
        "- run: ci-helper guard --repository o/r &",
        "- run: '! ci-helper guard --repository o/r'",
        "- run: (ci-helper guard --repository o/r || true)",
        "- run: ci-helper guard --repository o/r || echo refused",
        '- run: |\n    case "$X" in\n      a) ci-helper guard --repository o/r ;;\n    esac',
        "- run: |\n    set +e\n    ci-helper guard --repository o/r\n    echo done",
        "- run: ci-helper guard",
    ],
)
def test_guard_commands_that_never_block(findings, step):
    assert findings(wf(_job(step)), ONLY) == [("missing-guardrail", 4, 3, "error", REPO_MESSAGE)]


@pytest.mark.parametrize(
    "step",
    [
        "- run: ci-helper guard --repository o/r",
        "- run: (ci-helper guard --repository o/r)",
        "- run: |\n    set -e\n    ci-helper guard --repository=o/r\n    echo ok",
        "- run: ci-helper guard\n  env: {CI_HELPER_GUARD_REPOSITORIES: o/r}",
    ],
)
def test_guard_commands_that_block(findings, step):
    assert findings(wf(_job(step)), ONLY) == []


def test_a_guard_that_runs_on_only_some_events_does_not_count(findings):
    step = f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}\n  if: github.event_name == 'push'"
    assert findings(wf(_job(step)), ONLY) == [("missing-guardrail", 4, 3, "error", REPO_MESSAGE)]
    # ...unless those are all the events the job runs on.
    assert findings(wf(_job(step), on="push"), ONLY) == []
    assert findings(wf(_job(step, "github.event_name == 'push'")), ONLY) == []


def test_the_guardrails_action_counts_for_the_kinds_its_inputs_check(findings):
    table = {"verify": {"guardrails": ["repository", "base-branch"]}}
    only_repo = f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r}}"
    got = findings(wf(_job(only_repo)), ONLY, table)
    assert [m for *_, m in got] == [
        MESSAGE.format(
            job="test", events="pull_request/push", held="contents: write", kind="base-branch", var="GITHUB_BASE_REF"
        )
    ]
    both = f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}\n  with: {{repositories: o/r, base-branches: main}}"
    assert findings(wf(_job(both)), ONLY, table) == []
    # With no inputs the action checks what [tool.ci-helper.guard] (or `repository`) gives it.
    bare = f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}"
    assert len(findings(wf(_job(bare)), ONLY)) == 1
    assert findings(wf(_job(bare)), ONLY, {"repository": "o/r"}) == []
    assert (
        findings(wf(_job(bare)), ONLY, {**table, "guard": {"repositories": ["o/r"], "base-branches": ["main"]}}) == []
    )


def test_guard_settings_require_more_per_event(findings):
    table = {"guard": {"repositories": ["o/r"], "refs": ["main"], "base-branches": ["main"]}}
    repo_only = "- run: '[ \"$GITHUB_REPOSITORY\" = o/r ] || exit 1'"
    got = findings(wf(_job(repo_only), on="push"), ONLY, table)
    assert [m for *_, m in got] == [
        MESSAGE.format(job="test", events="push", held="contents: write", kind="ref", var="GITHUB_REF")
    ]
    got = findings(wf(_job(repo_only), on="pull_request"), ONLY, table)
    assert [m for *_, m in got] == [
        MESSAGE.format(
            job="test", events="pull_request", held="contents: write", kind="base-branch", var="GITHUB_BASE_REF"
        )
    ]
    action = f"- uses: truthful-ci/ci-helper/actions/guardrails@{SHA}"
    assert findings(wf(_job(action)), ONLY, table) == []


def test_an_owner_check_is_a_repository_guard(findings):
    assert findings(wf(_job("- run: echo", "${{ github.repository_owner == 'zizmorcore' }}")), ONLY) == []
