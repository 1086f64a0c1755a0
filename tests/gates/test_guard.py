"""`ci-helper guard`: each rule bites on a known-bad job and holds on a known-good one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ci_helper import results
from ci_helper.errors import BadInput
from ci_helper.gates import guard
from tests.conftest import REPO_ROOT, run_ci_helper, without_fence

HOME = "truthful-ci/ci-helper"


def pr_event(tmp_path: Path, head: str | None, base: str = HOME, name: str = "event.json") -> str:
    head_repo = None if head is None else {"full_name": head}
    payload = {
        "pull_request": {
            "head": {"ref": "topic", "repo": head_repo},
            "base": {"ref": "main", "repo": {"full_name": base}},
        }
    }
    path = tmp_path / name
    path.write_text(json.dumps(payload))
    return str(path)


def run_guard(cli, tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    """Run the guard in-process with results under tmp_path; returns (click result, result JSON or None)."""
    out = tmp_path / "results"
    result = cli("guard", "--root", str(tmp_path), "--results-dir", str(out), "--format", "text", *args, env=env)
    path = out / "guardrails.json"
    return result, (json.loads(path.read_text()) if path.exists() else None)


# --- the bundled canary fixtures ------------------------------------------------

FIXTURES = REPO_ROOT / "ci_helper" / "fixtures" / "guard"


def fixture_cases() -> dict[str, Path]:
    """The bundled canary cases (``bad``, ``good``) as folders."""
    return {p.name: p for p in sorted(FIXTURES.iterdir()) if (p / "canary.json").is_file()}


def fixture_env(case: Path) -> dict[str, str]:
    """A case's job variables from its ``canary.json``, with ``{fixture}`` set to the case's folder."""
    env = json.loads((case / "canary.json").read_text(encoding="utf-8"))["env"]
    return {k: v.replace("{fixture}", str(case)) for k, v in env.items()}


@pytest.mark.parametrize("case", ["bad", "good"])
def test_bundled_fixture_case(cli, tmp_path, case):
    folder = fixture_cases()[case]
    canary = json.loads((folder / "canary.json").read_text())
    expected = json.loads((folder / "expected.json").read_text())
    out = tmp_path / "results"
    result = cli("guard", "--root", str(folder), "--results-dir", str(out), "--format", "text", env=fixture_env(folder))
    assert result.exit_code == {"pass": 0, "fail": 1}[canary["expect"]]
    written = json.loads((out / "guardrails.json").read_text())
    assert written["status"] == canary["expect"]
    assert [f["rule"] for f in written["findings"]] == expected["rules"]


def test_bad_fixture_says_what_was_expected_and_found(cli, tmp_path):
    folder = fixture_cases()["bad"]
    out = tmp_path / "results"
    result = cli("guard", "--root", str(folder), "--results-dir", str(out), "--format", "text", env=fixture_env(folder))
    assert result.output == (
        "error: guard-repository: must run only in truthful-ci/ci-helper, not in someone/ci-helper-copy (GITHUB_REPOSITORY)\n"
        "error: guard-base-branch: pull requests must target one of main, release/*, not develop (GITHUB_BASE_REF)\n"
        "error: guard-fork: pull requests from forks are refused: expected the head repository to be "
        "someone/ci-helper-copy, found attacker/ci-helper (pull_request.head.repo.full_name)\n"
        f"guardrails: fail (3 findings; repository someone/ci-helper-copy, event pull_request, ref refs/pull/7/merge, "
        f"base develop) -> {out / 'guardrails.json'}\n"
    )
    written = json.loads((out / "guardrails.json").read_text())
    assert written["status"] == "fail"
    assert written["figures"] == {
        "repository": "someone/ci-helper-copy",
        "event": "pull_request",
        "ref": "refs/pull/7/merge",
        "base": "develop",
        "head_repository": "attacker/ci-helper",
        "unpinned_uses": None,
    }


def test_good_fixture_passes_with_exact_result(cli, tmp_path):
    folder = fixture_cases()["good"]
    out = tmp_path / "results"
    result = cli("guard", "--root", str(folder), "--results-dir", str(out), "--format", "text", env=fixture_env(folder))
    assert result.exit_code == 0
    assert result.output == (
        "guardrails: pass (all rules hold; repository truthful-ci/ci-helper, event pull_request, "
        f"ref refs/pull/12/merge, base main) -> {out / 'guardrails.json'}\n"
    )
    assert json.loads((out / "guardrails.json").read_text()) == {
        "check": "guardrails",
        "status": "pass",
        "reason": None,
        "figures": {
            "repository": HOME,
            "event": "pull_request",
            "ref": "refs/pull/12/merge",
            "base": "main",
            "head_repository": HOME,
            "unpinned_uses": None,
        },
        "findings": [],
        "required": True,
    }


# --- one rule at a time ---------------------------------------------------------


def test_allowed_repository_passes(cli, tmp_path):
    result, written = run_guard(
        cli, tmp_path, "--repository", HOME, env={"GITHUB_REPOSITORY": HOME, "GITHUB_EVENT_NAME": "push"}
    )
    assert result.exit_code == 0
    assert written["status"] == "pass"
    assert written["findings"] == []


def test_repository_is_compared_case_insensitively(cli, tmp_path):
    result, _ = run_guard(cli, tmp_path, "--repository", HOME, env={"GITHUB_REPOSITORY": "Truthful-CI/CI-Helper"})
    assert result.exit_code == 0


def test_foreign_repository_fails_with_the_message(cli, tmp_path):
    result, written = run_guard(cli, tmp_path, "--repository", HOME, env={"GITHUB_REPOSITORY": "someone/fork"})
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "error: guard-repository: must run only in truthful-ci/ci-helper, not in someone/fork (GITHUB_REPOSITORY)"
    )
    assert written["findings"] == [
        {
            "rule": "guard-repository",
            "message": "must run only in truthful-ci/ci-helper, not in someone/fork (GITHUB_REPOSITORY)",
            "file": None,
            "line": None,
            "column": None,
            "severity": "error",
        }
    ]


def test_github_format_prints_one_error_annotation_per_violated_rule(cli, tmp_path):
    out = tmp_path / "results"
    result = cli(
        "guard",
        "--repository",
        HOME,
        "--ref",
        "main",
        "--results-dir",
        str(out),
        env={
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "someone/fork",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REF": "refs/heads/dev",
        },
    )
    assert result.exit_code == 1
    assert without_fence(result.output).splitlines()[:2] == [
        "::error title=Guardrail%3A repository::must run only in truthful-ci/ci-helper, not in someone/fork (GITHUB_REPOSITORY)",
        "::error title=Guardrail%3A ref::push events must run only on main, not on refs/heads/dev (GITHUB_REF)",
    ]


def test_pr_to_the_wrong_base_fails(cli, tmp_path):
    result, written = run_guard(
        cli, tmp_path, "--base-branch", "main", env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "develop"}
    )
    assert result.exit_code == 1
    assert [f["message"] for f in written["findings"]] == [
        "pull requests must target main, not develop (GITHUB_BASE_REF)"
    ]


def test_base_branch_globs_and_non_pr_events_are_not_checked(cli, tmp_path):
    result, _ = run_guard(
        cli,
        tmp_path,
        "--base-branch",
        "release/*",
        env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "release/1.2"},
    )
    assert result.exit_code == 0
    # A push has no base branch; the base-branch rule says nothing about it.
    result, written = run_guard(
        cli, tmp_path, "--base-branch", "main", env={"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/x"}
    )
    assert result.exit_code == 0
    assert written["figures"]["base"] is None


def test_review_events_read_the_base_branch_from_the_payload(cli, tmp_path):
    # The runner sets no GITHUB_BASE_REF for pull_request_review; the payload has it.
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"ref": "develop", "repo": {"full_name": HOME}}}}))
    result, written = run_guard(
        cli,
        tmp_path,
        "--base-branch",
        "main",
        env={"GITHUB_EVENT_NAME": "pull_request_review", "GITHUB_EVENT_PATH": str(event)},
    )
    assert result.exit_code == 1
    assert [f["message"] for f in written["findings"]] == [
        "pull requests must target main, not develop (pull_request.base.ref)"
    ]
    assert written["figures"]["base"] == "develop"


def test_fork_pr_is_refused(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_BASE_REF": "main",
        "GITHUB_EVENT_PATH": pr_event(tmp_path, head="attacker/ci-helper"),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", env=env)
    assert result.exit_code == 1
    assert written["findings"][0]["message"] == (
        "pull requests from forks are refused: expected the head repository to be truthful-ci/ci-helper, "
        "found attacker/ci-helper (pull_request.head.repo.full_name)"
    )
    assert written["figures"]["head_repository"] == "attacker/ci-helper"
    # The same job with forks allowed passes.
    result, _ = run_guard(cli, tmp_path, "--forks", "allow", "--repository", HOME, env=env)
    assert result.exit_code == 0


def test_pr_from_a_deleted_fork_is_refused(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "pull_request_target",
        "GITHUB_EVENT_PATH": pr_event(tmp_path, head=None),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", env=env)
    assert result.exit_code == 1
    assert written["findings"][0]["message"].endswith("found a deleted repository (pull_request.head.repo.full_name)")


def test_same_repository_pr_passes_the_fork_rule(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": pr_event(tmp_path, head="TRUTHFUL-CI/ci-helper"),
    }
    result, _ = run_guard(cli, tmp_path, "--forks", "refuse", env=env)
    assert result.exit_code == 0


def test_push_to_an_unexpected_ref_fails(cli, tmp_path):
    result, written = run_guard(
        cli,
        tmp_path,
        "--ref",
        "main",
        "--ref",
        "refs/tags/v*",
        env={"GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/feature/x"},
    )
    assert result.exit_code == 1
    assert [f["message"] for f in written["findings"]] == [
        "push events must run only on one of main, refs/tags/v*, not on refs/heads/feature/x (GITHUB_REF)"
    ]


@pytest.mark.parametrize("ref", ["refs/heads/main", "refs/tags/v1.2.0"])
def test_push_to_an_allowed_ref_passes(cli, tmp_path, ref):
    result, _ = run_guard(
        cli, tmp_path, "--ref", "main", "--ref", "refs/tags/v*", env={"GITHUB_EVENT_NAME": "push", "GITHUB_REF": ref}
    )
    assert result.exit_code == 0


def test_refs_do_not_apply_to_pull_requests(cli, tmp_path):
    result, _ = run_guard(
        cli, tmp_path, "--ref", "main", env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/3/merge"}
    )
    assert result.exit_code == 0


def test_unexpected_event_fails(cli, tmp_path):
    result, written = run_guard(
        cli,
        tmp_path,
        "--event",
        "push",
        "--event",
        "pull_request",
        env={"GITHUB_EVENT_NAME": "workflow_dispatch", "GITHUB_REF": "refs/heads/main"},
    )
    assert result.exit_code == 1
    assert [f["message"] for f in written["findings"]] == [
        "must run only on one of push, pull_request events, not on workflow_dispatch (GITHUB_EVENT_NAME)"
    ]


# --- policy sources: flags, env (from actions), settings ------------------------


def test_settings_are_the_policy_and_flags_win(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ci-helper.guard]\nrepositories = ["truthful-ci/ci-helper"]\nevents = ["push"]\n'
    )
    env = {"GITHUB_REPOSITORY": "someone/fork", "GITHUB_EVENT_NAME": "push"}
    result, written = run_guard(cli, tmp_path, env=env)
    assert result.exit_code == 1
    assert [f["rule"] for f in written["findings"]] == ["guard-repository"]
    result, _ = run_guard(cli, tmp_path, "--repository", "someone/fork", env=env)
    assert result.exit_code == 0


def test_project_repository_is_the_fallback_policy(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ci-helper]\nrepository = "truthful-ci/ci-helper"\n')
    result, written = run_guard(cli, tmp_path, env={"GITHUB_REPOSITORY": "someone/fork"})
    assert result.exit_code == 1
    assert written["findings"][0]["rule"] == "guard-repository"


def test_policy_from_action_env_vars_accepts_comma_space_and_newline_lists(cli, tmp_path):
    env = {
        "CI_HELPER_GUARD_REPOSITORIES": "other/repo,\ntruthful-ci/ci-helper",
        "CI_HELPER_GUARD_BASE_BRANCHES": "main release/*",
        "CI_HELPER_GUARD_FORKS": "refuse",
        "CI_HELPER_GUARD_PINS": "",  # an empty action input keeps the setting
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_BASE_REF": "release/2",
        "GITHUB_EVENT_PATH": pr_event(tmp_path, head="attacker/x"),
    }
    result, written = run_guard(cli, tmp_path, env=env)
    assert result.exit_code == 1
    assert [f["rule"] for f in written["findings"]] == ["guard-fork"]


def test_bad_forks_setting_exits_2(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.ci-helper.guard]\nforks = "sometimes"\n')
    result, written = run_guard(cli, tmp_path)
    assert result.exit_code == 2
    assert result.output == "Error: [tool.ci-helper] guard.forks: expected 'allow' or 'refuse', got 'sometimes'\n"
    assert written["status"] == "not-run"


def test_malformed_pyproject_exits_2_and_records_not_run(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.ci-helper.guard\n")
    result, written = run_guard(cli, tmp_path, "--repository", HOME, env={"GITHUB_REPOSITORY": HOME})
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {tmp_path / 'pyproject.toml'}: malformed TOML (")
    assert written["status"] == "not-run"
    assert written["reason"] == result.output.removeprefix("Error: ").rstrip("\n")


# --- missing facts are bad input, never a pass ----------------------------------


@pytest.mark.parametrize(
    "args, env, message",
    [
        (
            ["--repository", HOME],
            {},
            "GITHUB_REPOSITORY is not set but the guard policy needs it "
            "(repositories are restricted); run inside GitHub Actions or export GITHUB_REPOSITORY",
        ),
        (
            ["--event", "push"],
            {"GITHUB_REPOSITORY": HOME},
            "GITHUB_EVENT_NAME is not set but the guard policy "
            "needs it (events, base branches, refs or forks are restricted); run inside GitHub Actions or export GITHUB_EVENT_NAME",
        ),
        (
            ["--base-branch", "main"],
            {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": ""},
            "GITHUB_BASE_REF is not set but the guard policy needs it (pull_request events must target an allowed "
            "base branch); run inside GitHub Actions or export GITHUB_BASE_REF",
        ),
        (
            ["--ref", "main"],
            {"GITHUB_EVENT_NAME": "push"},
            "GITHUB_REF is not set but the guard policy needs it "
            "(push events must run on an allowed ref); run inside GitHub Actions or export GITHUB_REF",
        ),
        (
            ["--forks", "refuse"],
            {"GITHUB_EVENT_NAME": "pull_request"},
            "GITHUB_EVENT_PATH is not set but the guard "
            "policy needs it (forks = refuse reads the event payload); run inside GitHub Actions or export GITHUB_EVENT_PATH",
        ),
        (
            [],
            {"GITHUB_REPOSITORY": HOME},
            "the guard has no policy, so it would pass anywhere; give --repository "
            "(or repositories/repository in [tool.ci-helper.guard] / [tool.ci-helper])",
        ),
    ],
)
def test_missing_environment_exits_2_and_records_not_run(cli, tmp_path, args, env, message):
    result, written = run_guard(cli, tmp_path, *args, env=env)
    assert result.exit_code == 2
    assert result.output == f"Error: {message}\n"
    assert written == results.not_run("guardrails", message).to_dict()


def test_malformed_event_payload_exits_2_naming_the_file(cli, tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"pull_request": ')
    result, _ = run_guard(
        cli, tmp_path, "--forks", "refuse", env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    )
    assert result.exit_code == 2
    assert result.output == f"Error: {event}:1: malformed event payload (Expecting value)\n"


def test_event_payload_without_pull_request_exits_2(cli, tmp_path):
    event = tmp_path / "event.json"
    event.write_text('{"ref": "refs/heads/main"}')
    result, _ = run_guard(
        cli, tmp_path, "--forks", "refuse", env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    )
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {event}: event payload has no 'pull_request' object; "
        "GITHUB_EVENT_NAME=pull_request needs one (forks = refuse reads the event payload)\n"
    )


# --- pins: the unpinned-uses rule of `ci-helper verify` ------------------------


UNPINNED_WORKFLOW = """\
name: ci
on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - uses: actions/setup-python@v5
"""


def test_pins_finds_an_unpinned_action_with_file_and_line(cli, tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(UNPINNED_WORKFLOW)
    result, written = run_guard(cli, tmp_path, "--pins", "--repository", HOME, env={"GITHUB_REPOSITORY": HOME})
    assert result.exit_code == 1
    [finding] = written["findings"]
    assert (finding["rule"], finding["file"], finding["line"]) == ("unpinned-uses", ".github/workflows/ci.yml", 9)
    assert written["figures"]["unpinned_uses"] == 1
    # In Actions the finding is an annotation on the workflow line itself.
    out = tmp_path / "results"
    annotated = cli(
        "guard",
        "--root",
        str(tmp_path),
        "--results-dir",
        str(out),
        "--pins",
        "--repository",
        HOME,
        env={"GITHUB_REPOSITORY": HOME, "GITHUB_ACTIONS": "true"},
    )
    assert without_fence(annotated.output).splitlines()[0] == (
        "::error file=.github/workflows/ci.yml,line=9,col=15,title=Guardrail%3A unpinned action::"
        "actions/setup-python@v5 is not pinned to a full commit SHA (ref 'v5'); "
        "pin it as actions/setup-python@<40-hex commit sha> # v5"
    )
    # Pinned, it passes.
    (workflows / "ci.yml").write_text(
        UNPINNED_WORKFLOW.replace("setup-python@v5", "setup-python@0b93645e9fea7318ecaed2b359559ac225c90a2b # v5.3.0")
    )
    result, written = run_guard(cli, tmp_path, "--pins", "--repository", HOME, env={"GITHUB_REPOSITORY": HOME})
    assert result.exit_code == 0
    assert written["figures"]["unpinned_uses"] == 0


def test_pins_without_a_checkout_exits_2(cli, tmp_path):
    result, _ = run_guard(cli, tmp_path, "--pins", env={"GITHUB_REPOSITORY": HOME})
    assert result.exit_code == 2
    assert result.output == (
        f"Error: --pins needs the repository checked out, but {tmp_path} has no workflow "
        "or action file; run actions/checkout before the guard or drop --pins\n"
    )


# --- a real process -------------------------------------------------------------


def test_subprocess_exit_codes_and_stdout(tmp_path):
    env = {"GITHUB_REPOSITORY": "someone/fork", "CI_HELPER_RESULTS_DIR": str(tmp_path / "r")}
    proc = run_ci_helper("guard", "--repository", HOME, "--format", "github", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0] == (
        "::error title=Guardrail%3A repository::must run only in truthful-ci/ci-helper, not in someone/fork "
        "(GITHUB_REPOSITORY)"
    )
    assert results.read_result(tmp_path / "r" / "guardrails.json").status == "fail"
    proc = run_ci_helper("guard", "--repository", HOME, cwd=tmp_path, env={**env, "GITHUB_REPOSITORY": HOME})
    assert proc.returncode == 0


# --- properties -----------------------------------------------------------------

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./", min_size=1, max_size=20).filter(
    lambda n: not n.startswith("refs/")
)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(_names, max_size=6), st.sampled_from([",", " ", "\n", ", "]))
def test_split_values_round_trips_any_separator(values, sep):
    assert guard.split_values([sep.join(values)]) == list(dict.fromkeys(values))


@hsettings(max_examples=60, deadline=None)
@given(_names)
def test_a_plain_branch_name_matches_its_own_ref_only(name):
    # Names without glob characters are literal.
    assert guard.ref_matches(f"refs/heads/{name}", name)
    assert guard.branch_matches(name, name)
    assert not guard.ref_matches(f"refs/tags/{name}", name)


@hsettings(max_examples=60, deadline=None)
@given(_names, _names, st.booleans())
def test_repository_rule_is_case_insensitive_and_exact(allowed, found, upper):
    context = guard.GuardContext(found.upper() if upper else found, "push", None, None, None)
    findings, _ = guard.evaluate(guard.GuardPolicy(repositories=[allowed]), context)
    assert (findings == []) == (allowed.lower() == found.lower())


def test_policy_rejects_an_unknown_fork_mode():
    with pytest.raises(BadInput):
        guard.GuardPolicy(forks="maybe")


def test_canary_proves_the_guard_bites(cli, tmp_path):
    result = cli("canary", "--gate", "guard", "--results-dir", str(tmp_path))
    assert without_fence(result.output).splitlines()[:2] == [
        "ok  guard / bad: expected fail, got fail",
        "ok  guard / good: expected pass, got pass",
    ]


# --- forks = refuse covers every event that names a head repository (issue 13, item 6) ---------


def write_event(tmp_path: Path, payload: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return str(path)


def workflow_run_event(head: str | None, base: str = HOME) -> dict:
    return {
        "workflow_run": {
            "event": "pull_request",
            "conclusion": "success",
            "head_repository": None if head is None else {"full_name": head},
            "repository": {"full_name": base},
        },
        "repository": {"full_name": base},
    }


def test_workflow_run_from_a_fork_is_refused(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": write_event(tmp_path, workflow_run_event("attacker/ci-helper")),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "error: guard-fork: pull requests from forks are refused: expected the head repository to be "
        "truthful-ci/ci-helper, found attacker/ci-helper (workflow_run.head_repository.full_name)"
    )
    assert written["figures"]["head_repository"] == "attacker/ci-helper"
    assert [f["rule"] for f in written["findings"]] == ["guard-fork"]


def test_workflow_run_from_a_deleted_fork_is_refused(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": write_event(tmp_path, workflow_run_event(None)),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 1
    assert "found a deleted repository (workflow_run.head_repository.full_name)" in result.output


def test_workflow_run_from_the_same_repository_passes(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": write_event(tmp_path, workflow_run_event("Truthful-CI/ci-helper")),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 0, result.output
    assert written["figures"]["head_repository"] == "Truthful-CI/ci-helper"


def test_pull_request_target_from_a_fork_is_refused(cli, tmp_path):
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "pull_request_target",
        "GITHUB_EVENT_PATH": pr_event(tmp_path, "attacker/ci-helper"),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 1
    assert [f["rule"] for f in written["findings"]] == ["guard-fork"]


def test_comment_on_a_pull_request_is_refused_because_the_head_is_unknown(cli, tmp_path):
    payload = {
        "issue": {"number": 7, "pull_request": {"url": "https://api.github.com/repos/x/y/pulls/7"}},
        "repository": {"full_name": HOME},
    }
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "issue_comment",
        "GITHUB_EVENT_PATH": write_event(tmp_path, payload),
    }
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "error: guard-fork: pull requests from forks are refused: an issue_comment event on a pull request does "
        "not name its head repository (issue.pull_request), so a fork cannot be ruled out; guard the job that "
        "runs the pull request's code (pull_request, workflow_run) or set forks = allow"
    )
    assert written["figures"]["head_repository"] is None


def test_comment_on_an_issue_passes_the_fork_rule(cli, tmp_path):
    payload = {"issue": {"number": 7}, "repository": {"full_name": HOME}}
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "issue_comment",
        "GITHUB_EVENT_PATH": write_event(tmp_path, payload),
    }
    result, _ = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 0, result.output


def test_merge_group_passes_the_fork_rule(cli, tmp_path):
    # GitHub builds the merge queue's commit in the base repository: no head repository to compare.
    payload = {
        "merge_group": {"head_ref": "refs/heads/gh-readonly-queue/main/pr-7-abc"},
        "repository": {"full_name": HOME},
    }
    env = {
        "GITHUB_REPOSITORY": HOME,
        "GITHUB_EVENT_NAME": "merge_group",
        "GITHUB_EVENT_PATH": write_event(tmp_path, payload),
    }
    result, _ = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("event", "payload", "message"),
    [
        (
            "workflow_run",
            {"repository": {"full_name": HOME}},
            "{path}: event payload has no 'workflow_run' object; GITHUB_EVENT_NAME=workflow_run needs one "
            "(forks = refuse reads the event payload)",
        ),
        (
            "issue_comment",
            {"comment": {}},
            "{path}: event payload has no 'issue' object; GITHUB_EVENT_NAME=issue_comment needs one "
            "(forks = refuse reads the event payload)",
        ),
        (
            "push",
            ["not", "an", "object"],
            "{path}: event payload is not a JSON object; GITHUB_EVENT_PATH must name the webhook payload the runner wrote",
        ),
        (
            "pull_request",
            {"pull_request": "x"},
            "{path}: event payload has no 'pull_request' object; GITHUB_EVENT_NAME=pull_request needs one "
            "(forks = refuse reads the event payload)",
        ),
    ],
)
def test_malformed_payload_of_any_event_exits_2_never_passes(cli, tmp_path, event, payload, message):
    path = write_event(tmp_path, payload)
    env = {"GITHUB_REPOSITORY": HOME, "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": path}
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 2
    assert result.output == f"Error: {message.format(path=path)}\n"
    assert written["status"] == "not-run"


def test_missing_payload_of_a_push_exits_2_when_forks_are_refused(cli, tmp_path):
    env = {"GITHUB_REPOSITORY": HOME, "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": ""}
    result, written = run_guard(cli, tmp_path, "--forks", "refuse", "--repository", HOME, env=env)
    assert result.exit_code == 2
    assert result.output == (
        "Error: GITHUB_EVENT_PATH is not set but the guard policy needs it (forks = refuse "
        "reads the event payload); run inside GitHub Actions or export GITHUB_EVENT_PATH\n"
    )
    assert written["status"] == "not-run"
