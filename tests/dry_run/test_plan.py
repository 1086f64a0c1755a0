"""The dry run's parts without servers: which jobs run, which uses are ours, the event, the audit policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_helper import results
from ci_helper.dry_run import event, jobs, policy
from ci_helper.errors import BadInput
from tests.conftest import REPO_ROOT

# A commit of main that holds actions/ (verify's pin-lacks-action checks pins of ours in the local repository).
SHA = "d772e708c70810b372632e3c367030b60eaa3fa3"


def write_workflow(root: Path, name: str, text: str) -> None:
    folder = root / ".github" / "workflows"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


@pytest.mark.parametrize(
    ("on", "event_name", "branch", "why"),
    [
        ("pull_request", "pull_request", "main", ""),
        ("[push, pull_request]", "push", "dev", ""),
        ("{pull_request: {branches: [main]}}", "pull_request", "main", ""),
        ("{pull_request: {branches: [main]}}", "pull_request", "dev", "pull_request on dev is not in branches: main"),
        (
            "{pull_request: {branches: ['release/**', '!release/old']}}",
            "pull_request",
            "release/old",
            "pull_request on release/old is not in branches: release/**, !release/old",
        ),
        ("{push: {branches-ignore: [main]}}", "push", "main", "push on main is in branches-ignore"),
        ("workflow_dispatch", "pull_request", "main", "not triggered by pull_request"),
    ],
)
def test_triggers(tmp_path, on, event_name, branch, why):
    from ci_helper.workflows import read_workflow

    write_workflow(tmp_path, "a.yml", f"on: {on}\njobs:\n  a:\n    steps: [{{run: echo}}]\n")
    workflow = read_workflow(tmp_path / ".github" / "workflows" / "a.yml")
    assert workflow.on.why_not(event_name, branch) == why


@pytest.mark.parametrize(
    ("uses", "ours"),
    [
        (f"truthful-ci/ci-helper/actions/smoke@{SHA}", True),
        (f"a-fork/ci-helper/actions/quality@{SHA}", True),
        (f"truthful-ci/ci-helper@{SHA}", True),
        (f"truthful-ci/ci-helper/.github/workflows/quality.yml@{SHA}", False),
        (f"actions/checkout@{SHA}", False),
        (f"someone/ci-helper-extras/actions/smoke@{SHA}", False),
        ("./actions/smoke", True),  # the workspace is this checkout
        ("$/actions/quality", True),  # a workflow's own repository (our ci.yml)
        ("$/examples/diffusion-api", False),
        ("./examples/diffusion-api", False),
        ("docker://alpine:3", False),
    ],
)
def test_which_uses_are_ours(uses, ours):
    assert jobs.is_ours(uses, REPO_ROOT, REPO_ROOT / "actions") is ours


def test_the_plan_keeps_jobs_with_our_actions_for_the_event(tmp_path):
    write_workflow(
        tmp_path,
        "a.yml",
        f"""
on: {{pull_request: {{branches: [main]}}}}
env: {{LEVEL: workflow}}
jobs:
  lint:
    runs-on: ubuntu-latest
    steps: [{{run: echo lint}}]
  smoke:
    runs-on: ubuntu-latest
    env: {{LEVEL: job}}
    strategy: {{matrix: {{python: ['3.12', '3.11']}}}}
    steps:
      - uses: actions/checkout@{SHA}
      - uses: truthful-ci/ci-helper/actions/smoke@{SHA}
  reuse:
    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@{SHA}
    with: {{repositories: o/r, shards: 2}}
""",
    )
    write_workflow(
        tmp_path,
        "b.yml",
        f"""
on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps: [{{uses: truthful-ci/ci-helper/actions/guardrails@{SHA}}}]
""",
    )
    plan = jobs.plan(tmp_path, "pull_request", "main")
    # One job per matrix combination; a call of our reusable workflow is its jobs (this checkout's file),
    # the shard job planned once: its matrix comes from the plan job's output when that has run.
    called = "truthful-ci/ci-helper/.github/workflows/quality.yml"
    assert [(j.source, j.key[0], j.job_id, j.display, j.label) for j in plan.jobs] == [
        (".github/workflows/a.yml", ".github/workflows/a.yml", "smoke", "smoke (3.12)", "smoke-3.12"),
        (".github/workflows/a.yml", ".github/workflows/a.yml", "smoke", "smoke (3.11)", "smoke-3.11"),
        (called, ".github/workflows/a.yml > reuse", "plan", "Plan the shards", "reuse-plan"),
        (
            called,
            ".github/workflows/a.yml > reuse",
            "tests",
            "Quality tests (shard ${{ matrix.shard }} of ${{ inputs.shards }})",
            "reuse-tests",
        ),
        (
            called,
            ".github/workflows/a.yml > reuse",
            "verdict",
            "Quality verdict (every shard, each test once, coverage gate)",
            "reuse-verdict",
        ),
    ]
    assert [j.workflow for j in plan.jobs[2:]] == [REPO_ROOT / ".github" / "workflows" / "quality.yml"] * 3
    assert plan.jobs[3].matrix_source == {"shard": "${{ fromJSON(needs.plan.outputs.indexes) }}"}
    assert [j.self_root for j in plan.jobs] == [None, None, REPO_ROOT, REPO_ROOT, REPO_ROOT]
    assert plan.jobs[2].call is plan.jobs[4].call
    assert plan.jobs[2].call.with_ == {"repositories": "o/r", "shards": "2"}
    assert not any(j.not_run for j in plan.jobs)
    job = plan.jobs[0]
    assert (job.env, job.matrix, job.remotes) == ({"LEVEL": "job"}, {"python": "3.12"}, {"truthful-ci/ci-helper"})
    assert plan.jobs[1].matrix == {"python": "3.11"}
    assert plan.passed_over == [".github/workflows/b.yml: job release: not triggered by pull_request"]
    with pytest.raises(
        BadInput,
        match=r"^--job nope: no such job in .*/\.github/workflows \(jobs: lint, release, "
        r"reuse, smoke\)$",
    ):
        jobs.plan(tmp_path, "pull_request", "main", ("nope",))


# --matrix k=v selects what the user means: the text as written in the workflow, or, for a value written without
# quotes, the value YAML (and so GitHub) reads: an unquoted 3.10 is the number 3.1 in matrix.python-version.
@pytest.mark.parametrize(
    ("written", "given", "selected"),
    [
        ('"3.12"', "3.12", "3.12"),
        ("3.12", "3.12", "3.12"),
        ("'3.10'", "3.10", "3.10"),
        ("3.10", "3.10", "3.10"),
        ("3.10", "3.1", "3.10"),  # GitHub's own label and value for an unquoted 3.10
        ("3.10", "3.100", "3.10"),
        ("true", "True", "true"),
        ("True", "true", "True"),
        ("FALSE", "false", "FALSE"),
        ("0x10", "16", "0x10"),
        ("1.0", "1", "1.0"),
        ("~", "null", None),
    ],
)
def test_matrix_values_are_chosen_by_their_text_or_their_yaml_value(tmp_path, written, given, selected):
    write_workflow(
        tmp_path,
        "a.yml",
        f"""
on: pull_request
jobs:
  t:
    runs-on: ubuntu-latest
    strategy: {{matrix: {{python-version: [{written}, other]}}}}
    steps: [{{uses: truthful-ci/ci-helper/actions/smoke@{SHA}}}]
""",
    )
    plan = jobs.plan(tmp_path, "pull_request", "main", matrix={"python-version": given})
    assert [j.matrix for j in plan.jobs] == [{"python-version": selected}]


@pytest.mark.parametrize(
    ("written", "given"),
    [
        ("'3.10'", "3.1"),  # quoted: the string "3.10", which 3.1 is not
        ('"true"', "True"),
        ("3.10", "3.10.0"),
        ("yes", "true"),  # YAML 1.2 (GitHub's): yes is a string, not a boolean
        (".nan", ".NaN"),  # NaN equals nothing, as in GitHub's expressions
    ],
)
def test_a_matrix_value_of_another_meaning_is_not_chosen(tmp_path, written, given):
    write_workflow(
        tmp_path,
        "a.yml",
        f"""
on: pull_request
jobs:
  t:
    runs-on: ubuntu-latest
    strategy: {{matrix: {{python-version: [{written}, other]}}}}
    steps: [{{uses: truthful-ci/ci-helper/actions/smoke@{SHA}}}]
""",
    )
    plain = written.strip("'\"")
    with pytest.raises(BadInput) as raised:
        jobs.plan(tmp_path, "pull_request", "main", matrix={"python-version": given})
    assert str(raised.value) == (
        f"--matrix python-version={given}: no job's matrix has that combination; "
        f"python-version is one of {plain}, other"
    )


def test_matrix_keys_are_chosen_whatever_their_case(tmp_path):
    # GitHub's contexts ignore case: matrix.Python-Version is matrix.python-version.
    write_workflow(
        tmp_path,
        "a.yml",
        f"""
on: pull_request
jobs:
  t:
    runs-on: ubuntu-latest
    strategy: {{matrix: {{python-version: ["3.10", "3.12"]}}}}
    steps: [{{uses: truthful-ci/ci-helper/actions/smoke@{SHA}}}]
""",
    )
    plan = jobs.plan(tmp_path, "pull_request", "main", matrix={"Python-Version": "3.12"})
    assert [(j.display, j.matrix) for j in plan.jobs] == [("t (3.12)", {"python-version": "3.12"})]


def test_a_call_without_a_required_input_is_bad_input_naming_the_line(tmp_path):
    write_workflow(
        tmp_path,
        "a.yml",
        f"on: push\njobs:\n  reuse:\n    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@{SHA}\n"
        "    with: {shards: 2}\n",
    )
    with pytest.raises(BadInput) as caught:
        jobs.plan(tmp_path, "push", "main")
    assert caught.value.message == (
        ".github/workflows/a.yml:3: job 'reuse' calls truthful-ci/ci-helper/.github/workflows/quality.yml "
        "without its required input 'repositories'; add it under `with:` (repositories: VALUE)"
    )


def test_a_third_party_reusable_workflow_is_a_job_not_run(tmp_path):
    write_workflow(
        tmp_path,
        "a.yml",
        f"on: push\njobs:\n  other:\n    uses: someone/tools/.github/workflows/lint.yml@{SHA}\n"
        f"  tier:\n    needs: [other]\n    runs-on: x\n    steps: [{{uses: truthful-ci/ci-helper/actions/smoke@{SHA}}}]\n",
    )
    plan = jobs.plan(tmp_path, "push", "main")
    assert [(j.job_id, j.not_run) for j in plan.jobs] == [
        (
            "other",
            f".github/workflows/a.yml:3: it calls the reusable workflow someone/tools/.github/workflows/lint.yml@{SHA} "
            "of another repository, which a local dry run does not fetch; CI does (map it with --stub-remote "
            "someone/tools=DIR to run a local copy)",
        ),
        ("tier", ""),
    ]


def test_the_simulated_pull_request_is_a_same_repository_one():
    simulated = event.simulate("pull_request", "example-org/diffusion-api", "main")
    pr = simulated.payload["pull_request"]
    assert (simulated.ref, pr["base"]["ref"], pr["head"]["ref"]) == ("refs/pull/1/merge", "main", "ci-helper-dry-run")
    assert pr["head"]["repo"]["full_name"] == pr["base"]["repo"]["full_name"] == "example-org/diffusion-api"
    assert pr["head"]["repo"]["fork"] is False
    push = event.simulate("push", "o/r", "trunk")
    assert (push.ref, push.payload["ref"], push.describe()) == (
        "refs/heads/trunk",
        "refs/heads/trunk",
        "push to trunk of o/r",
    )


def test_only_an_audit_this_machine_cannot_run_is_relaxed():
    offline = results.not_run(
        "audit", "vulnerability service (osv) unreachable or failing: boom", {"service": "osv", "allow_offline": True}
    )
    broken = results.not_run("audit", "pip-audit failed (exit 1): bad requirements", {"service": "osv"})
    vulnerable = results.failed("audit", {"vulnerable": 1})
    judged, notes = policy.apply([offline, broken, vulnerable])
    assert [(c.status, c.required) for c in judged] == [("not-run", False), ("not-run", True), ("fail", True)]
    assert judged[0].reason == (
        "[local dry run: this machine cannot audit, optional here, required in CI] "
        "vulnerability service (osv) unreachable or failing: boom"
    )
    assert len(notes) == 1


def test_a_missing_pip_audit_is_not_run_and_allowed_offline(cli, tmp_path, monkeypatch):
    from importlib import metadata

    real = metadata.version

    def version(name):
        if name == "pip-audit":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    (tmp_path / "requirements.txt").write_text("click==8.1.7\n")
    monkeypatch.chdir(tmp_path)
    out = cli("audit", "-r", "requirements.txt", "--allow-offline", "--results-dir", "results")
    assert out.exit_code == 0, out.output
    result = json.loads((tmp_path / "results" / "audit.json").read_text())
    assert result["status"] == "not-run"
    assert result["reason"].startswith("pip-audit is not installed for ")
    assert result["figures"]["allow_offline"] is True
    assert policy.offline_audit(results.CheckResult.from_dict(result))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--run", "{root}"), 'set [tool.ci-helper] repository = "owner/name" (or pass --repository)'),
        (("--run", "{root}", "--repository", "o/r", "--job", "x"), "--job x: no such job in"),
        (
            ("{root}", "--job", "x"),
            "--event, --input, --matrix, --python, --stub-remote, --base-branch, --repository, --job and "
            "--parallel need --run",
        ),
        (("--run", "{root}", "--format", "json"), "--format does not apply to --run: it prints the run's summary"),
    ],
)
def test_bad_input(cli, tmp_path, args, message):
    write_workflow(tmp_path, "a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n")
    out = cli("verify", *(a.format(root=tmp_path) for a in args))
    assert out.exit_code == 2
    assert message in out.output


def test_nothing_of_ours_to_run_is_bad_input(cli, tmp_path):
    write_workflow(tmp_path, "a.yml", "on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{run: echo}]\n")
    out = cli("verify", "--run", str(tmp_path), "--repository", "o/r")
    assert out.exit_code == 2
    assert out.output.endswith(
        "nothing to run for a pull_request #1 from ci-helper-dry-run into main of o/r: "
        "no job uses ci-helper's actions\n"
    )


def test_job_if_and_env_are_evaluated_against_the_simulated_event():
    from ci_helper.dry_run import run

    simulated = event.simulate("pull_request", "o/r", "main")
    contexts = {"github": run._github_context(simulated, REPO_ROOT), "matrix": {"python": "3.12"}}
    job = jobs.PlannedJob(
        Path("w.yml"), "w.yml", "j", "j", [], env={"PY": "${{ matrix.python }}", "BASE": "into-${{ github.base_ref }}"}
    )
    assert run._evaluate_env(job, contexts) == {"PY": "3.12", "BASE": "into-main"}
    job.condition = "github.event_name == 'push'"
    assert run._job_condition(job, contexts) is False
    job.condition = "${{ github.event.pull_request.head.repo.fork == false }}"
    assert run._job_condition(job, contexts) is True


def test_the_projects_interpreter_is_found_in_order_and_never_ci_helpers_own(tmp_path):
    import sys

    from ci_helper import settings
    from ci_helper.dry_run import interpreter
    from tests.dry_run.project_env import make_venv

    project = tmp_path / "p"
    project.mkdir()
    other = make_venv(tmp_path / "other")  # tmp_path/other/.venv
    own = {"VIRTUAL_ENV": sys.prefix}  # ci-helper's own environment, activated
    assert interpreter.find(project, None, None, own) is None  # -> a throwaway virtualenv
    local = make_venv(project)
    assert interpreter.find(project, None, None, own).describe() == f"{local} (.venv)"
    active = interpreter.find(project, None, None, {"VIRTUAL_ENV": str(other.parent.parent)})
    assert (active.python, active.origin, active.venv) == (other, "active virtualenv", other.parent.parent)
    (project / "pyproject.toml").write_text(f'[tool.ci-helper]\npython = "{other}"\n')
    configured = settings.load(project).python
    assert interpreter.find(project, None, configured, {}).origin == "[tool.ci-helper] python"
    given = interpreter.find(project, str(local), configured, {})
    assert (given.python, given.origin) == (local, "--python")
    with pytest.raises(BadInput, match=r"^--python nope-python-3: not an interpreter"):
        interpreter.find(project, "nope-python-3", None, {})


def test_the_throwaway_virtualenv_key_follows_the_files_the_job_installs_from(tmp_path):
    from ci_helper.dry_run import interpreter

    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    (tmp_path / "constraints.txt").write_text("pytest<9\n")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    scripts = [
        "python -m pip install -r requirements-dev.txt -c constraints.txt",
        "pip install -e .[test]",
        "pytest -q",
    ]
    assert [p.name for p in interpreter.install_sources(tmp_path, scripts)] == [
        "requirements-dev.txt",
        "constraints.txt",
        "pyproject.toml",
    ]
    key = interpreter.cache_key(tmp_path, scripts)
    assert interpreter.cache_key(tmp_path, scripts + ["echo unrelated"]) == key
    (tmp_path / "constraints.txt").write_text("pytest<8\n")
    assert interpreter.cache_key(tmp_path, scripts) != key


def test_a_local_reusable_workflow_that_uses_our_actions_runs_as_its_jobs(tmp_path):
    # It used to vanish from the plan (a green dry run without the tier), then to be a job not run.
    write_workflow(
        tmp_path,
        "_tier.yml",
        f"""
on: workflow_call
jobs:
  tests:
    runs-on: ubuntu-latest
    steps: [{{uses: truthful-ci/ci-helper/actions/quality@{SHA}}}]
""",
    )
    write_workflow(
        tmp_path,
        "ci.yml",
        """
on: pull_request
jobs:
  docs:
    uses: ./.github/workflows/docs.yml
  tier:
    uses: ./.github/workflows/_tier.yml
""",
    )
    plan = jobs.plan(tmp_path, "pull_request", "main")
    assert [(j.source, j.key, j.label, j.remotes, j.self_root, j.not_run) for j in plan.jobs] == [
        (
            ".github/workflows/_tier.yml",
            (".github/workflows/ci.yml > tier", "tests"),
            "tier-tests",
            {"truthful-ci/ci-helper"},
            None,  # `$/` in a local called workflow: the job's workspace
            "",
        )
    ]


def test_local_calls_in_a_cycle_end_in_a_plan_not_a_recursion_error(tmp_path):
    # _calls_ours follows local calls to see whether they reach our actions; a cycle used to recurse forever.
    write_workflow(tmp_path, "a.yml", "on: workflow_call\njobs:\n  b:\n    uses: ./.github/workflows/b.yml\n")
    write_workflow(tmp_path, "b.yml", "on: workflow_call\njobs:\n  a:\n    uses: ./.github/workflows/a.yml\n")
    write_workflow(tmp_path, "ci.yml", "on: pull_request\njobs:\n  tier:\n    uses: ./.github/workflows/a.yml\n")
    assert jobs.plan(tmp_path, "pull_request", "main").jobs == []  # no call reaches our actions
