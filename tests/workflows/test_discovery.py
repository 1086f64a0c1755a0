"""Which files verify reads, and how local actions and reusable workflows are followed."""

from __future__ import annotations

from ci_helper.workflows import load_tree, parse_uses
from ci_helper.workflows.discovery import discover, excluded

ACTION = "runs:\n  using: composite\n  steps:\n    - run: echo hi\n      shell: bash\n"
WORKFLOW = "on: push\njobs: {}\n"


def rels(items):
    return [rel for _, rel in items]


def test_discovers_workflows_and_every_action_file(repo):
    root = repo(
        {
            ".github/workflows/a.yml": WORKFLOW,
            ".github/workflows/b.yaml": WORKFLOW,
            ".github/workflows/notes.txt": "x",
            ".github/workflows/nested/c.yml": WORKFLOW,  # GitHub reads only the top folder
            "action.yml": ACTION,
            "actions/setup/action.yaml": ACTION,
            ".github/actions/deep/er/action.yml": ACTION,
            "examples/app/.github/workflows/x.yml": WORKFLOW,  # another repository's workflows
            "node_modules/pkg/action.yml": ACTION,
            ".git/action.yml": ACTION,
            "env/pyvenv.cfg": "home = /usr\n",
            "env/lib/action.yml": ACTION,
            "docs/action.yml.md": "x",
        }
    )
    workflows, actions = discover(root)
    assert rels(workflows) == [".github/workflows/a.yml", ".github/workflows/b.yaml"]
    assert rels(actions) == [".github/actions/deep/er/action.yml", "action.yml", "actions/setup/action.yaml"]


def test_exclude_globs_prune_folders_and_files(repo):
    root = repo(
        {
            ".github/workflows/a.yml": WORKFLOW,
            ".github/workflows/skip.yml": WORKFLOW,
            "tests/runner/fixtures/bad/action.yml": ACTION,
            "vendor/x/action.yml": ACTION,
            "actions/keep/action.yml": ACTION,
        }
    )
    workflows, actions = discover(root, ["tests/*/fixtures", "vendor/**", ".github/workflows/skip.yml"])
    assert rels(workflows) == [".github/workflows/a.yml"]
    assert rels(actions) == ["actions/keep/action.yml"]


def test_excluded_patterns():
    assert excluded("a/b/c", ["a/*"])
    assert excluded("vendor", ["vendor/**"])
    assert not excluded("vendors", ["vendor/**"])
    assert not excluded("x", ["", "  "])


def test_files_counts_what_was_read(repo):
    root = repo({".github/workflows/a.yml": WORKFLOW, "actions/x/action.yml": ACTION})
    assert load_tree(root).files == 2


def test_local_action_follows_dot_and_self_paths(repo):
    root = repo({"actions/x/action.yml": ACTION, ".github/actions/y/action.yaml": ACTION})
    tree = load_tree(root)
    assert tree.local_action(parse_uses("./actions/x")).rel == "actions/x/action.yml"
    assert tree.local_action(parse_uses("$/actions/x/")).rel == "actions/x/action.yml"
    assert tree.local_action(parse_uses("./.github/actions/y")).rel == ".github/actions/y/action.yaml"
    assert tree.local_action(parse_uses("./actions/missing")) is None
    assert tree.local_action(parse_uses("./../outside")) is None
    assert tree.local_action(parse_uses("actions/checkout@v4")) is None


def test_local_action_in_an_excluded_folder_is_read_once_when_followed(repo):
    root = repo({"vendor/x/action.yml": ACTION})
    tree = load_tree(root, ["vendor"])
    assert tree.actions == [] and tree.files == 0
    first = tree.local_action(parse_uses("./vendor/x"))
    assert first is tree.local_action(parse_uses("./vendor/x"))
    assert first.rel == "vendor/x/action.yml" and tree.files == 1


def test_local_reusable_workflow_is_followed(repo):
    root = repo({".github/workflows/reusable.yml": "on: workflow_call\njobs: {a: {runs-on: x, steps: [{run: x}]}}\n"})
    tree = load_tree(root)
    assert tree.local_workflow(parse_uses("./.github/workflows/reusable.yml")).rel == ".github/workflows/reusable.yml"
    assert tree.local_workflow(parse_uses("./.github/workflows/none.yml")) is None
