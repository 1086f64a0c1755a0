"""The model keeps a 1-based line and column for every value, through YAML's awkward corners."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ci_helper.errors import BadInput
from ci_helper.workflows import load_tree, parse_uses
from ci_helper.workflows.source import decode, read_source

WORKFLOW = """\
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Tests
        run: pytest -q
"""


def workflow(repo, text: str | bytes, name: str = "ci.yml"):
    root = repo({f".github/workflows/{name}": text})
    tree = load_tree(root)
    assert len(tree.workflows) == 1
    return tree.workflows[0]


def test_block_style_positions(repo):
    wf = workflow(repo, WORKFLOW)
    assert wf.triggers == {"push", "pull_request"}
    assert wf.has_permissions is False
    (job,) = wf.jobs
    assert (job.id, job.line, job.column) == ("test", 4, 3)
    first, second = job.steps
    assert (first.uses.value, first.uses.line, first.uses.column) == ("actions/checkout@v4", 7, 15)
    assert (first.line, first.column) == (7, 9)
    assert (second.name, second.run.value, second.run.line, second.run.column) == ("Tests", "pytest -q", 9, 14)


def test_flow_style_and_quoted_scalars(repo):
    wf = workflow(
        repo,
        """\
        on: {push: {branches: [main]}}
        jobs: {test: {runs-on: ubuntu-latest, steps: [{uses: "actions/checkout@v4"}, {run: 'pytest'}]}}
    """,
    )
    steps = wf.jobs[0].steps
    assert (steps[0].uses.value, steps[0].uses.line, steps[0].uses.column, steps[0].uses.plain) == (
        "actions/checkout@v4",
        2,
        54,
        False,
    )
    assert (steps[1].run.value, steps[1].run.line, steps[1].run.column) == ("pytest", 2, 84)
    assert wf.triggers == {"push"}


def test_bom_and_crlf_keep_positions(repo):
    text = WORKFLOW.replace("\n", "\r\n")
    wf = workflow(repo, codecs.BOM_UTF8 + text.encode("utf-8"))
    step = wf.jobs[0].steps[0]
    assert (step.uses.value, step.uses.line, step.uses.column) == ("actions/checkout@v4", 7, 15)
    assert wf.triggers == {"push", "pull_request"}


def test_utf16_with_bom_is_read(repo):
    wf = workflow(repo, codecs.BOM_UTF16_LE + WORKFLOW.encode("utf-16-le"))
    assert wf.jobs[0].steps[0].uses.line == 7


def test_non_ascii_text_counts_columns_in_characters(repo):
    wf = workflow(
        repo,
        """\
        on: push
        jobs:
          t:
            steps:
              - {name: "héllo wörld", uses: "actions/checkout@v4"}
    """,
    )
    assert wf.jobs[0].steps[0].uses.column == 37


def test_alias_resolves_to_the_anchor_node(repo):
    wf = workflow(
        repo,
        """\
        on: push
        jobs:
          a:
            steps:
              - &checkout
                uses: actions/checkout@v4
          b:
            steps:
              - *checkout
    """,
    )
    a, b = wf.jobs
    assert b.steps[0].uses.value == "actions/checkout@v4"
    assert (b.steps[0].uses.line, b.steps[0].uses.column) == (a.steps[0].uses.line, a.steps[0].uses.column) == (6, 15)


def test_merge_keys_apply_and_explicit_keys_win(repo):
    wf = workflow(
        repo,
        """\
        on: push
        x-defaults: &defaults
          continue-on-error: true
          uses: actions/checkout@v4
        jobs:
          a:
            steps:
              - <<: *defaults
                uses: actions/checkout@v3
    """,
    )
    step = wf.jobs[0].steps[0]
    assert step.uses.value == "actions/checkout@v3"
    assert (step.continue_on_error.value, step.continue_on_error.line) == ("true", 3)


def test_on_key_is_read_by_name_not_as_yaml11_boolean(repo):
    wf = workflow(repo, "on:\n  pull_request:\n  workflow_dispatch:\njobs: {}\n")
    assert wf.triggers == {"pull_request", "workflow_dispatch"}


def test_literal_block_run_keeps_script(repo):
    wf = workflow(
        repo,
        """\
        on: push
        jobs:
          t:
            defaults:
              run:
                shell: bash
            steps:
              - run: |
                  echo one
                  pytest
    """,
    )
    job = wf.jobs[0]
    assert job.default_shell.value == "bash"
    assert job.steps[0].run.value == "echo one\npytest\n"


def test_action_model(repo):
    root = repo(
        {
            "actions/x/action.yml": """\
        name: x
        runs:
          using: composite
          steps:
            - run: pytest
              shell: bash
    """
        }
    )
    (action,) = load_tree(root).actions
    assert action.rel == "actions/x/action.yml"
    assert action.composite
    assert (action.steps[0].shell.value, action.steps[0].run.line) == ("bash", 5)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "on: push\njobs:\n  t:\n    steps: [\n",
            "ci.yml:5: malformed YAML (did not find expected node content); fix the file",
        ),
        ("on: push\njobs:\n  t: {a: 1\n", "ci.yml:4: malformed YAML"),
        ("on: push\n\tjobs: x\n", "ci.yml:2: malformed YAML"),
        ("on: push\njobs:\n  a: {}\n  a: {}\n", "ci.yml:4: duplicate key 'a' in 'jobs'; fix the file"),
        ("on: push\njobs: [a]\n", "ci.yml:2: 'jobs' must be a mapping, got a list; fix the file"),
        ("on: push\njobs:\n  t:\n    steps: x\n", "ci.yml:4: job 't' 'steps' must be a list, got 'x'; fix the file"),
        ("on: push\n---\njobs: {}\n", "ci.yml:2: malformed YAML (but found another document); fix the file"),
        ("", "ci.yml:1: empty workflow file; give it 'on:' and 'jobs:' or delete it"),
        ("- a\n- b\n", "ci.yml:1: a workflow must be a mapping, got a list; fix the file"),
    ],
)
def test_bad_yaml_is_bad_input_naming_file_and_line(repo, text, message):
    root = repo({".github/workflows/ci.yml": text})
    with pytest.raises(BadInput) as exc:
        load_tree(root)
    assert exc.value.message.startswith(".github/workflows/" + message)
    assert "\n" not in exc.value.message


def test_invalid_utf8_names_the_line():
    with pytest.raises(BadInput) as exc:
        decode(b"on: push\njobs:\n  t: \xff\n", "x.yml")
    assert exc.value.message == "x.yml:3: not valid UTF-8 text; save the file as UTF-8"


def test_unreadable_file_is_bad_input(tmp_path):
    with pytest.raises(BadInput) as exc:
        read_source(tmp_path / "missing.yml", "missing.yml")
    assert exc.value.message.startswith("missing.yml: cannot read (")


# --- property: every step's uses position is where it was written ---------------

_ref = st.from_regex(r"[a-z]{1,8}/[a-z]{1,8}@[a-z0-9.]{1,12}", fullmatch=True)


@hsettings(max_examples=40, deadline=None)
@given(
    refs=st.lists(_ref, min_size=1, max_size=6),
    indent=st.integers(min_value=1, max_value=6),
    quote=st.sampled_from(["", "'", '"']),
    flow=st.booleans(),
    crlf=st.booleans(),
)
def test_positions_match_the_written_text(tmp_path_factory, refs, indent, quote, flow, crlf):
    pad = " " * indent
    lines = ["on: push", "jobs:", f"{pad}t:", f"{pad * 2}steps:"]
    expected = []
    for ref in refs:
        if flow:
            prefix = f"{pad * 2}- {{name: x, uses: "
        else:
            lines.append(f"{pad * 2}- name: x")
            prefix = f"{pad * 2}  uses: "
        lines.append(f"{prefix}{quote}{ref}{quote}" + ("}" if flow else ""))
        expected.append((ref, len(lines), len(prefix) + 1))
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    root = tmp_path_factory.mktemp("prop")
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "p.yml").write_bytes(text.encode())
    steps = load_tree(root).workflows[0].jobs[0].steps
    assert [(s.uses.value, s.uses.line, s.uses.column) for s in steps] == expected


@pytest.mark.parametrize(
    "path, text, message",
    [
        (
            ".github/workflows/ci.yml",
            "name: ci\njobs:\n  t:\n    steps: [{run: x}]\n",
            ".github/workflows/ci.yml:1: not a workflow GitHub accepts: no 'on:' (the events that start it); "
            "add 'on:' or move the file out of .github/workflows",
        ),
        (
            ".github/workflows/ci.yml",
            "name: ci\non:\njobs:\n  t:\n    steps: [{run: x}]\n",
            ".github/workflows/ci.yml:2: not a workflow GitHub accepts: no 'on:' (the events that start it); "
            "add 'on:' or move the file out of .github/workflows",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\n",
            ".github/workflows/ci.yml:1: not a workflow GitHub accepts: no 'jobs:'; "
            "add the jobs to run or move the file out of .github/workflows",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n",
            ".github/workflows/ci.yml:2: not a workflow GitHub accepts: no 'jobs:'; "
            "add the jobs to run or move the file out of .github/workflows",
        ),
        (
            ".github/workflows/ci.yml",
            "on: 5\njobs:\n  t:\n    steps: [{run: x}]\n",
            ".github/workflows/ci.yml:1: 'on' must be an event name such as push or pull_request, got '5'; fix the file",
        ),
        (
            ".github/workflows/ci.yml",
            "on: [push, 3]\njobs:\n  t:\n    steps: [{run: x}]\n",
            ".github/workflows/ci.yml:1: an 'on' event must be an event name such as push or pull_request, got '3'; fix the file",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs: 3\n",
            ".github/workflows/ci.yml:2: 'jobs' must be a mapping, got '3'; fix the file",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n  u:\n    steps: [{run: x}]\n",
            ".github/workflows/ci.yml:3: job 't' has neither 'steps:' nor 'uses:' (a reusable workflow); "
            "give it steps to run or fix the file",
        ),
        (
            "actions/x/action.yml",
            "name: x\ndescription: y\n",
            "actions/x/action.yml:1: not an action GitHub accepts: no 'runs:' (what the action runs); "
            "add 'runs:' or rename the file",
        ),
        (
            "action.yml",
            "name: x\nruns:\n",
            "action.yml:2: not an action GitHub accepts: no 'runs:' (what the action runs); "
            "add 'runs:' or rename the file",
        ),
    ],
)
def test_files_github_would_refuse_are_bad_input(repo, path, text, message):
    root = repo({path: text})
    with pytest.raises(BadInput) as exc:
        load_tree(root)
    assert exc.value.message == message


def test_a_followed_local_workflow_github_would_refuse_is_bad_input(repo):
    root = repo(
        {
            ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    uses: ./other/reusable.yml\n",
            "other/reusable.yml": "on: workflow_call\n",
        }
    )
    tree = load_tree(root)
    with pytest.raises(BadInput) as exc:
        tree.local_workflow(parse_uses("./other/reusable.yml"))
    assert exc.value.message == (
        "other/reusable.yml:1: not a workflow GitHub accepts: no 'jobs:'; "
        "add the jobs to run or move the file out of .github/workflows"
    )
