"""``ci-helper run-action`` end to end: real shells, real files, real process groups."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ci_helper.runner import Reporter, run_action
from tests.conftest import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def workspace(tmp_path):
    """A workspace holding copies of the fixture actions (``uses: ./greet`` resolves here)."""
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURES, ws)
    return ws


def test_end_to_end_composite_action(cli, workspace, tmp_path):
    outputs_json = tmp_path / "outputs.json"
    summary = tmp_path / "summary.md"
    result = cli(
        "run-action",
        str(workspace / "e2e"),
        "--input",
        "who=Mona",
        "--workspace",
        str(workspace),
        "--outputs-json",
        str(outputs_json),
        "--summary-out",
        str(summary),
    )
    assert result.exit_code == 1, result.output
    assert json.loads(outputs_json.read_text()) == {
        "outputs": {
            "greeting": "Hello, Mona!",
            "first": "from-produce",
            "lines": "line one\nline two",
            "carried": "from-produce+via-env+via-env",
            "failed-outcome": "failure",
        },
        "steps": {
            "produce": {
                "outcome": "success",
                "conclusion": "success",
                "outputs": {"value": "from-produce", "multi": "line one\nline two"},
            },
            "consume": {
                "outcome": "success",
                "conclusion": "success",
                "outputs": {"seen": "from-produce+via-env+via-env"},
            },
            "nested": {"outcome": "success", "conclusion": "success", "outputs": {"greeting": "Hello, Mona!"}},
            "boom": {"outcome": "failure", "conclusion": "failure", "outputs": {}},
            "__run": {"outcome": "skipped", "conclusion": "skipped", "outputs": {}},
            "__run_2": {"outcome": "success", "conclusion": "success", "outputs": {}},
            "__run_3": {"outcome": "success", "conclusion": "success", "outputs": {}},
        },
    }
    assert summary.read_text() == (
        "## Summary from produce\n- always ran after failure (failure)\n- failure() saw the failure\n"
    )
    lines = result.output.splitlines()
    assert "--- step: Produce values" in lines
    assert "about to fail" in lines  # the step's own output is streamed
    assert "Error: Process completed with exit code 7." in lines
    assert "--- skipped: Plain step after the failure (0.00s): if: success() was false" in lines
    assert "outcome: failure" in lines
    assert '  --- step: Run echo "text=${{ inputs.greeting }}, $NAME" >> "$GITHUB_OUTPUT"' in lines  # nested, indented


def test_environment_contexts_and_continue_on_error(workspace, tmp_path):
    (workspace / "sub").mkdir()
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12, "base": {"ref": "main"}, "head": {"ref": "feat"}}}))
    environ = {**os.environ, "INPUT_LEAK": "x", "GITHUB_BASE_REF": "stale"}
    lines: list[str] = []

    class Collect:
        def write(self, text):
            lines.append(text)

        def flush(self):
            pass

    result = run_action(
        workspace / "env-probe",
        {"word": "w"},
        workspace=workspace,
        event_name="pull_request",
        event_path=event,
        repository="truthful-ci/ci-helper",
        ref="refs/pull/12/merge",
        sha="a" * 40,
        env={"FROM_CALLER": "caller"},
        base_environ=environ,
        reporter=Reporter(Collect()),
    )
    assert result.outcome == "success", "".join(lines)
    assert result.outputs == {
        "report": "|".join(
            [
                "true",
                "true",
                "pull_request",
                "truthful-ci/ci-helper",
                "refs/pull/12/merge",
                "a" * 40,
                "main",
                "feat",
                "Linux",
                "w",
                "caller",
                "[]",
                "tool-ran",
                "sub",
                "env-probe",
                "True",
                "True",
            ]
        ),
        "base": "main-12",
        "soft": "failure/success",
    }
    assert result.steps["soft"].to_json() == {"outcome": "failure", "conclusion": "success", "outputs": {}}


def test_remote_uses_is_skipped_with_reason_unless_stubbed(cli, workspace, tmp_path):
    out = tmp_path / "o.json"
    result = cli(
        "run-action", str(workspace / "remote-caller"), "--workspace", str(workspace), "--outputs-json", str(out)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["outputs"] == {
        "hello": "",
        "hello-outcome": "skipped",
        "checkout-outcome": "skipped",
    }
    where = workspace / "remote-caller" / "action.yml"
    uses = "example-org/stub-repo/tools/hello@0123456789abcdef0123456789abcdef01234567"
    assert (
        f"skipped: {where}:14: remote action '{uses}' cannot run offline; "
        "map it with --stub-remote example-org/stub-repo=DIR"
    ) in result.output.splitlines()

    result = cli(
        "run-action",
        str(workspace / "remote-caller"),
        "--workspace",
        str(workspace),
        "--stub-remote",
        f"example-org/stub-repo={workspace / 'stub-repo'}",
        "--outputs-json",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["outputs"] == {
        "hello": "hello stub from hello",
        "hello-outcome": "success",
        "checkout-outcome": "skipped",
    }


def test_self_repository_uses_without_git(workspace):
    # Not in a git work tree: $/ is the nearest folder that holds actions/.
    result = run_action(workspace / "selfrepo" / "actions" / "main", workspace=workspace, reporter=Reporter(quiet=True))
    assert (result.outcome, result.outputs) == ("success", {"helper": "actions/helper"})


def test_self_repository_uses_in_git(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "selfrepo", repo / "nested" / "deep")
    (repo / "actions" / "helper").mkdir(parents=True)
    (repo / "actions" / "helper" / "action.yml").write_text(
        (FIXTURES / "selfrepo" / "actions" / "helper" / "action.yml")
        .read_text()
        .replace('echo "where=', 'echo "where=git-root:')
    )
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    # The git top is the repository root, even though nested/deep also holds an actions/ folder.
    result = run_action(
        repo / "nested" / "deep" / "actions" / "main", workspace=tmp_path, reporter=Reporter(quiet=True)
    )
    assert (result.outcome, result.outputs) == ("success", {"helper": "git-root:actions/helper"})


# Broken actions are written at test time: no malformed action.yml lives in the repository
# (a repository-wide scan such as `ci-helper verify .` must not trip over them).
BROKEN = {
    "bad-yaml": """\
name: bad
runs:
  using: composite
  steps:
    - run: echo hi
      shell: bash
     bad: indentation
""",
    "bad-expr": """\
name: bad-expr
runs:
  using: composite
  steps:
    - shell: bash
      run: echo ok
    - shell: bash
      env:
        X: ${{ github.event_name == "push" }}
      run: echo "$X"
""",
    "needs-input": """\
name: needs-input
inputs:
  token:
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      run: echo never
""",
    "no-shell": """\
name: no-shell
runs:
  using: composite
  steps:
    - run: echo hi
""",
}


@pytest.mark.parametrize(
    "folder, args, message",
    [
        ("missing", [], "{dir}: no action.yml or action.yaml in this folder"),
        # The one model reads the file: the same message as `verify` and `pin` give for it.
        ("bad-yaml", [], "{dir}/action.yml:7: malformed YAML (did not find expected '-' indicator); fix the file"),
        (
            "bad-expr",
            [],
            "{dir}/action.yml:9: Unexpected symbol: '\"push\"'. Located at position 22 within expression: "
            'github.event_name == "push" (in \'${{{{ github.event_name == "push" }}}}\')',
        ),
        (
            "needs-input",
            [],
            "{dir}/action.yml: input required and not supplied: token (pass it with --input token=VALUE or `with:`)",
        ),
        (
            "no-shell",
            [],
            "{dir}/action.yml:5: a composite 'run' step needs 'shell' (bash, sh, python, pwsh or a command with {{0}})",
        ),
        ("e2e", ["--input", "novalue"], "--input expects KEY=VALUE, got 'novalue'"),
    ],
)
def test_bad_input_exits_2(cli, tmp_path, folder, args, message):
    directory = FIXTURES / folder
    if folder in BROKEN:
        directory = tmp_path / folder
        directory.mkdir()
        (directory / "action.yml").write_text(BROKEN[folder])
    result = cli("run-action", str(directory), *args)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines()[-1] == "Error: " + message.format(dir=directory)


def test_secrets_context_is_not_available(tmp_path, cli):
    action = tmp_path / "a"
    action.mkdir()
    (action / "action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo ${{ secrets.TOKEN }}\n"
    )
    result = cli("run-action", str(action))
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        f"Error: {action}/action.yml:5: Unrecognized named-value: 'secrets'. Located at position 1 within "
        "expression: secrets.TOKEN (in '${{ secrets.TOKEN }}')"
    )


def test_malformed_output_file_fails_the_step(tmp_path):
    action = tmp_path / "a"
    action.mkdir()
    (action / "action.yml").write_text(
        "outputs:\n  o: {value: '${{ steps.s.outcome }}'}\n"
        "runs:\n  using: composite\n  steps:\n    - id: s\n      shell: bash\n"
        "      run: printf 'x<<EOF\\nno end\\n' >> $GITHUB_OUTPUT\n"
    )
    result = run_action(action, workspace=tmp_path, reporter=Reporter(quiet=True))
    assert (result.outcome, result.outputs) == ("failure", {"o": "failure"})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


@pytest.mark.skipif(sys.platform == "win32", reason="process groups are POSIX")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_stops_the_step_process_group(tmp_path, signum):
    pidfile = tmp_path / "server.pid"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "CI_HELPER_"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ci_helper",
            "run-action",
            str(FIXTURES / "sigint"),
            "--input",
            f"pidfile={pidfile}",
            "--workspace",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # pytest started in the background (`cmd &`, nohup) ignores SIGINT, and a Python
        # started with SIGINT ignored never raises KeyboardInterrupt: restore the default.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 30
    while not pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pidfile.exists(), "the step never started its server"
    server = int(pidfile.read_text())
    assert _alive(server)
    proc.send_signal(signum)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130, output
    assert not _alive(server), "the step's background server survived the interrupt"
    assert not Path(f"{pidfile}.after").exists()  # nothing runs after an interrupt
    assert "Cancelled: the run was interrupted; the step's process group was stopped." in output.splitlines()


def test_background_process_neither_hangs_the_run_nor_survives_it(tmp_path):
    action = tmp_path / "a"
    action.mkdir()
    pidfile = tmp_path / "bg.pid"
    # The background sleep keeps the step's output pipe open; the run must still end, and clean it up.
    (action / "action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n    - shell: bash\n"
        f"      run: sleep 300 & echo $! > {pidfile}\n"
        "    - shell: bash\n      run: echo second\n"
    )
    result = run_action(action, workspace=tmp_path, reporter=Reporter(quiet=True))
    assert result.outcome == "success"
    assert [s.outcome for s in result.steps.values()] == ["success", "success"]
    assert not _alive(int(pidfile.read_text()))


def test_github_env_and_env_blocks_in_nested_actions(tmp_path):
    # The runner's merge order for a step inside a composite action: GITHUB_ENV values, then the calling
    # step's env context (a snapshot taken when the `uses:` step started), then the step's own env.
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "action.yml").write_text("""
outputs:
  seen: {value: "${{ steps.read.outputs.seen }}"}
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "A=from-inner" >> "$GITHUB_ENV"
    - id: read
      shell: bash
      run: echo "seen=$A/$B/$PINNED/${{ env.A }}" >> "$GITHUB_OUTPUT"
""")
    (tmp_path / "outer").mkdir()
    (tmp_path / "outer" / "action.yml").write_text("""
outputs:
  inner: {value: "${{ steps.inner.outputs.seen }}"}
  after: {value: "${{ steps.after.outputs.a }}"}
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "A=from-outer" >> "$GITHUB_ENV"
        echo "PINNED=from-file" >> "$GITHUB_ENV"
    - id: inner
      uses: ./inner
      env:
        B: from-uses-env
    - id: after
      shell: bash
      run: echo "a=$A/${B:-unset}/$PINNED" >> "$GITHUB_OUTPUT"
""")
    result = run_action(
        tmp_path / "outer", workspace=tmp_path, env={"PINNED": "from-caller"}, reporter=Reporter(quiet=True)
    )
    assert (result.outcome, result.outputs) == (
        "success",
        {
            # A was in the calling step's env snapshot (from GITHUB_ENV): the inner write does not show inside.
            "inner": "from-outer/from-uses-env/from-caller/from-outer",
            "after": "from-inner/unset/from-caller",
        },
    )


def test_run_steps_runs_a_workflow_job(workspace, tmp_path):
    from ci_helper.runner import run_steps
    from ci_helper.workflows import read_workflow

    workflow = tmp_path / "ci.yml"
    workflow.write_text("""
on: push
jobs:
  test:
    steps:
      - id: shell
        run: echo "opts=$-" >> "$GITHUB_OUTPUT"
      - id: ctx
        run: echo "v=${{ secrets.TOKEN }}/${{ matrix.py }}/${{ vars.X || 'none' }}" >> "$GITHUB_OUTPUT"
      - id: greet
        uses: ./greet
        with:
          name: ${{ matrix.py }}
      - run: exit 1
      - if: failure() && steps.greet.outputs.greeting != ''
        run: echo "- recovered" >> "$GITHUB_STEP_SUMMARY"
""")
    data = read_workflow(workflow)
    assert data.triggers == {"push"}  # YAML 1.1's `on: true` does not happen here
    result = run_steps(
        data.job("test").steps,
        workflow,
        workspace=workspace,
        contexts={"secrets": {"TOKEN": "t0k"}, "vars": {}, "matrix": {"py": "3.12"}},
        reporter=Reporter(quiet=True),
    )
    assert result.outcome == "failure"
    # `bash -e {0}`: errexit on, but no pipefail/noprofile flags (those come with an explicit `shell: bash`).
    assert "e" in result.steps["shell"].outputs["opts"]
    assert {k: v.to_json() for k, v in result.steps.items() if k != "shell"} == {
        "ctx": {"outcome": "success", "conclusion": "success", "outputs": {"v": "t0k/3.12/none"}},
        "greet": {"outcome": "success", "conclusion": "success", "outputs": {"greeting": "Hello, 3.12"}},
        "__run": {"outcome": "failure", "conclusion": "failure", "outputs": {}},
        "__run_2": {"outcome": "success", "conclusion": "success", "outputs": {}},
    }
    assert result.summary == "- recovered\n"


def test_secrets_do_not_reach_nested_actions(tmp_path):
    from ci_helper.runner import run_steps
    from ci_helper.workflows import read_workflow

    (tmp_path / "peek").mkdir()
    (tmp_path / "peek" / "action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo ${{ secrets.TOKEN }}\n"
    )
    (tmp_path / "wf.yml").write_text("on: push\njobs:\n  j:\n    steps:\n      - uses: ./peek\n")
    steps = read_workflow(tmp_path / "wf.yml").job("j").steps
    result = run_steps(
        steps,
        tmp_path / "wf.yml",
        workspace=tmp_path,
        contexts={"secrets": {"TOKEN": "x"}},
        reporter=Reporter(quiet=True),
    )
    assert result.steps["__self"].outcome == "failure"
    assert result.steps["__self"].reason == (
        f"{tmp_path}/peek/action.yml:5: Unrecognized named-value: 'secrets'. Located at position 1 within "
        "expression: secrets.TOKEN (in '${{ secrets.TOKEN }}')"
    )


def test_workflow_commands(tmp_path):
    action = tmp_path / "a"
    action.mkdir()
    (action / "action.yml").write_text(r"""
runs:
  using: composite
  steps:
    - id: old
      shell: bash
      run: |
        echo "::add-mask::s3cret"
        echo "token is s3cret"
        echo "::set-output name=legacy::a%0Ab"
        echo "::stop-commands::pause"
        echo "::set-output name=ignored::x"
        echo "::pause::"
        echo "summary s3cret" >> "$GITHUB_STEP_SUMMARY"
    - id: disabled
      shell: bash
      run: echo "::set-env name=X::1"
""")
    chunks: list[str] = []

    class Collect:
        def write(self, text):
            chunks.append(text)

        def flush(self):
            pass

    result = run_action(action, workspace=tmp_path, reporter=Reporter(Collect(), colour=False))
    lines = "".join(chunks).splitlines()
    assert "token is ***" in lines
    assert "::add-mask::s3cret" not in lines
    assert "::set-output name=ignored::x" in lines  # shown, not run, while commands are stopped
    assert result.steps["old"].to_json() == {
        "outcome": "success",
        "conclusion": "success",
        "outputs": {"legacy": "a\nb"},
    }
    assert result.steps["disabled"].outcome == "failure"
    assert (
        "Error: Unable to process command '::set-env name=X::1' successfully. The `set-env` command is "
        "disabled. Please upgrade to using Environment Files."
    ) in lines
    assert result.summary == "summary ***\n"


def test_input_warnings_and_case_insensitive_names(cli, tmp_path):
    action = tmp_path / "a"
    action.mkdir()
    (action / "action.yml").write_text("""
inputs:
  Old-Name: {deprecationMessage: use new-name}
  new-name: {default: "${{ github.repository }}"}
outputs:
  seen: {value: "${{ inputs.old-name }}|${{ inputs.NEW-NAME }}"}
runs:
  using: composite
  steps:
    - shell: bash
      run: "true"
""")
    result = cli(
        "run-action",
        str(action / "action.yml"),
        "--input",
        "old-name=v",
        "--input",
        "typo=1",
        "--repository",
        "truthful-ci/ci-helper",
        "--workspace",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Warning: Unexpected input(s) 'typo', valid inputs are ['Old-Name', 'new-name']" in lines
    assert "Warning: Input 'Old-Name' has been deprecated with message: use new-name" in lines
    assert "output seen: v|truthful-ci/ci-helper" in lines


@pytest.mark.parametrize("flag", ["--outputs-json", "--summary-out"])
def test_an_output_file_that_cannot_be_written_is_bad_input(tmp_path, flag):
    from tests.conftest import run_ci_helper

    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "out.json"  # its parent is a file
    proc = run_ci_helper("run-action", str(FIXTURES / "greet"), "--input", "name=x", flag, str(target), cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (2, f"Error: cannot write {flag} {target}: File exists\n")


def test_output_files_go_into_new_folders(cli, tmp_path):
    out, summary = tmp_path / "new" / "outputs.json", tmp_path / "new" / "summary.md"
    result = cli(
        "run-action",
        str(FIXTURES / "greet"),
        "--input",
        "name=x",
        "--outputs-json",
        str(out),
        "--summary-out",
        str(summary),
    )
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(out.read_text())) == ["outputs", "steps"]
    assert summary.exists()
