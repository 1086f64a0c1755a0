"""`ci-helper pin` end to end: real PyGithub against the local GitHub REST server, real files."""

from __future__ import annotations

import codecs

import pytest

from ci_helper import github
from tests.conftest import run_ci_helper
from tests.summary.github_server import FakeGitHub

TOKEN = "ghp_localpintoken0123456789"
CHECKOUT = "11bd71901bbe5b1630ceea73d27597364c9af683"
SETUP_PY = "0b93645e9fea7318ecaed2b359559ac225c90a2b"
REUSABLE = "94cde3876a2334712175e64dca05ba4cecd11503"
MAIN = "c0ffee" * 6 + "beef"
CACHE = "a" * 40

WORKFLOW = (
    b"name: ci\r\n"
    b"on: [push, pull_request]\r\n"
    b"jobs:\r\n"
    b"  test:\r\n"
    b"    runs-on: ubuntu-latest\r\n"
    b"    steps:\r\n"
    b"      - uses: actions/checkout@v4.2.2\r\n"
    b"      - name: Python\r\n"
    b'        uses: "actions/setup-python@v5.3.0"   # v5\r\n'
    b"      - {uses: 'my-org/tools/lint@main', with: {config: 'a # b', strict: true}}\r\n"
    b"      - uses: actions/cache@" + CACHE.encode() + b" # v4.1.0\r\n"
    b"      - uses: ./local-action\r\n"
    b"      - run: \"echo 'uses: actions/checkout@v4.2.2'\"\r\n"
    b"  release:\r\n"
    b"    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@v0.1.0 # needs secrets\r\n"
)
WORKFLOW_PINNED = (
    b"name: ci\r\n"
    b"on: [push, pull_request]\r\n"
    b"jobs:\r\n"
    b"  test:\r\n"
    b"    runs-on: ubuntu-latest\r\n"
    b"    steps:\r\n"
    b"      - uses: actions/checkout@" + CHECKOUT.encode() + b" # v4.2.2\r\n"
    b"      - name: Python\r\n"
    b'        uses: "actions/setup-python@' + SETUP_PY.encode() + b'"   # v5.3.0\r\n'
    b"      - {uses: 'my-org/tools/lint@" + MAIN.encode() + b"', with: {config: 'a # b', strict: true}} # main\r\n"
    b"      - uses: actions/cache@" + CACHE.encode() + b" # v4.1.0\r\n"
    b"      - uses: ./local-action\r\n"
    b"      - run: \"echo 'uses: actions/checkout@v4.2.2'\"\r\n"
    b"  release:\r\n"
    b"    uses: truthful-ci/ci-helper/.github/workflows/quality.yml@"
    + REUSABLE.encode()
    + b" # v0.1.0 needs secrets\r\n"
)
ACTION = (
    codecs.BOM_UTF8 + b"name: mine\n"
    b"runs:\n"
    b"  using: composite\n"
    b"  steps:\n"
    b"    - uses: actions/checkout@v4.2.2 # v4\n"
    b"    - uses: $/actions/setup\n"
)
ACTION_PINNED = (
    codecs.BOM_UTF8 + b"name: mine\n"
    b"runs:\n"
    b"  using: composite\n"
    b"  steps:\n"
    b"    - uses: actions/checkout@" + CHECKOUT.encode() + b" # v4.2.2\n"
    b"    - uses: $/actions/setup\n"
)
CHANGES = [
    f".github/workflows/ci.yml:7: actions/checkout@v4.2.2 -> actions/checkout@{CHECKOUT} # v4.2.2",
    f".github/workflows/ci.yml:9: actions/setup-python@v5.3.0 -> actions/setup-python@{SETUP_PY} # v5.3.0",
    f".github/workflows/ci.yml:10: my-org/tools/lint@main -> my-org/tools/lint@{MAIN} # main",
    f".github/workflows/ci.yml:15: truthful-ci/ci-helper/.github/workflows/quality.yml@v0.1.0 -> "
    f"truthful-ci/ci-helper/.github/workflows/quality.yml@{REUSABLE} # v0.1.0 needs secrets",
    f"actions/mine/action.yml:5: actions/checkout@v4.2.2 -> actions/checkout@{CHECKOUT} # v4.2.2",
]


@pytest.fixture
def gh():
    with FakeGitHub() as server:
        server.add_tag("actions/checkout", "v4.2.2", CHECKOUT)  # lightweight tag
        server.add_tag("actions/setup-python", "v5.3.0", SETUP_PY, annotated=1)
        server.add_branch("my-org/tools", "main", MAIN)
        server.add_tag("truthful-ci/ci-helper", "v0.1.0", REUSABLE, annotated=2)  # a tag of a tag
        yield server


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_bytes(WORKFLOW)
    (tmp_path / "actions" / "mine").mkdir(parents=True)
    (tmp_path / "actions" / "mine" / "action.yml").write_bytes(ACTION)
    return tmp_path


def env(gh, token=TOKEN):
    out = {"GITHUB_API_URL": gh.url}
    if token:
        out["GITHUB_TOKEN"] = token
    return out


def files(repo):
    return (repo / ".github/workflows/ci.yml").read_bytes(), (repo / "actions/mine/action.yml").read_bytes()


def test_pin_rewrites_only_the_refs_and_comments(cli, gh, repo):
    result = cli("pin", env=env(gh))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == CHANGES + ["pinned 5 uses in 2 files"]
    assert files(repo) == (WORKFLOW_PINNED, ACTION_PINNED)
    # Tags before branches, annotated tags peeled to the commit, each (repository, ref) asked once.
    tag_objects = {name: obj for full, data in gh.git.items() for name, obj in data["tag_objects"].items()}
    assert [p for _, p, _ in gh.requests] == [
        "/repos/actions/checkout/git/ref/tags/v4.2.2",
        "/repos/actions/setup-python/git/ref/tags/v5.3.0",
        f"/repos/actions/setup-python/git/tags/{next(o for o, t in tag_objects.items() if t == ('commit', SETUP_PY))}",
        "/repos/my-org/tools/git/ref/tags/main",
        "/repos/my-org/tools/git/ref/heads/main",
        "/repos/truthful-ci/ci-helper/git/ref/tags/v0.1.0",
        *[f"/repos/truthful-ci/ci-helper/git/tags/{o}" for o in gh.git["truthful-ci/ci-helper"]["tag_objects"]][::-1],
    ]
    assert {auth for _, _, auth in gh.requests} == {f"token {TOKEN}"}
    assert TOKEN not in result.stdout + result.stderr

    again = cli("pin", "--check", env=env(gh))
    assert (again.exit_code, again.stdout) == (
        0,
        "nothing to pin: 6 remote uses in 2 files, all pinned to a commit SHA\n",
    )


def test_check_lists_what_would_change_and_writes_nothing(cli, gh, repo):
    result = cli("pin", "--check", env=env(gh))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == CHANGES + [
        "5 uses in 2 files would be pinned; run ci-helper pin to rewrite them"
    ]
    assert files(repo) == (WORKFLOW, ACTION)


def test_check_as_a_real_process_without_a_token(gh, repo):
    proc = run_ci_helper("pin", str(repo), "--check", env=env(gh, token=None))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[0] == f"{repo}/{CHANGES[0]}"
    assert {auth for _, _, auth in gh.requests} == {None}
    assert files(repo) == (WORKFLOW, ACTION)


def test_one_file_and_a_short_sha(cli, gh, repo):
    gh.add_branch("o/r", "dev", "1234567" + "f" * 33)
    one = repo / "one.yml"
    one.write_bytes(b"jobs:\n  a:\n    steps:\n      - uses: o/r@1234567\n")
    result = cli("pin", "one.yml", env=env(gh))
    assert (result.exit_code, result.stdout) == (
        0,
        f"one.yml:4: o/r@1234567 -> o/r@1234567{'f' * 33} # 1234567\npinned 1 uses in 1 files\n",
    )
    assert one.read_bytes() == b"jobs:\n  a:\n    steps:\n      - uses: o/r@1234567" + b"f" * 33 + b" # 1234567\n"
    assert files(repo) == (WORKFLOW, ACTION)


def test_an_unknown_tag_names_the_ref_repository_and_line_and_writes_nothing(cli, gh, repo):
    (repo / ".github/workflows/ci.yml").write_bytes(WORKFLOW.replace(b"checkout@v4.2.2", b"checkout@v9.9.9", 1))
    before = files(repo)
    result = cli("pin", env=env(gh))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: .github/workflows/ci.yml:7: actions/checkout has no tag, branch or commit 'v9.9.9'; "
        "fix the ref; nothing was written\n"
    )
    assert files(repo) == before


def test_an_unknown_repository_is_named(cli, gh, repo):
    (repo / ".github/workflows/ci.yml").write_bytes(WORKFLOW.replace(b"my-org/tools/lint@main", b"my-org/gone@main"))
    result = cli("pin", "--check", env=env(gh))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: .github/workflows/ci.yml:10: repository my-org/gone not found (or private: set "
        "GITHUB_TOKEN with read access to it); nothing was written\n"
    )


def test_server_errors_are_retried_then_reported(cli, gh, repo, monkeypatch):
    monkeypatch.setattr(github, "RETRY_DELAYS", (0.0, 0.0))
    gh.mode, gh.failures_left = "500", -1  # never recovers
    result = cli("pin", env=env(gh))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: GitHub answered 500: Server Error after 3 attempts (resolving actions/checkout@v4.2.2); "
        "nothing was written\n"
    )
    assert files(repo) == (WORKFLOW, ACTION)
    assert len(gh.requests) == 3


def test_a_passing_server_error_is_retried(cli, gh, repo, monkeypatch):
    monkeypatch.setattr(github, "RETRY_DELAYS", (0.0, 0.0))
    gh.mode, gh.failures_left = "500", 2
    result = cli("pin", env=env(gh))
    assert result.exit_code == 0, result.output
    assert files(repo) == (WORKFLOW_PINNED, ACTION_PINNED)


@pytest.mark.parametrize(
    "mode, message",
    [
        ("403", "GitHub answered 403: Resource not accessible by integration (resolving actions/checkout@v4.2.2)"),
        (
            "ratelimit",
            "GitHub's API rate limit is exhausted (http://127.0.0.1:{port}); set GITHUB_TOKEN for a higher limit "
            "or wait (resolving actions/checkout@v4.2.2)",
        ),
    ],
)
def test_forbidden_and_rate_limited_fail_at_once(cli, gh, repo, mode, message):
    gh.mode = mode
    result = cli("pin", env=env(gh))
    assert result.exit_code == 2
    port = gh.url.rsplit(":", 1)[1]
    assert result.stderr == f"Error: {message.format(port=port)}; nothing was written\n"
    assert len(gh.requests) == 1
    assert files(repo) == (WORKFLOW, ACTION)


def test_an_unknown_ref_in_a_later_file_leaves_the_earlier_file_unwritten(cli, gh, repo):
    # Every ref of the workflow resolves; the action has an unknown one: the workflow stays as it was too.
    (repo / "actions/mine/action.yml").write_bytes(
        ACTION.replace(b"actions/checkout@v4.2.2 # v4", b"my-org/tools@v404")
    )
    result = cli("pin", env=env(gh))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: actions/mine/action.yml:5: my-org/tools has no tag, branch or commit 'v404'; "
        "fix the ref; nothing was written\n"
    )
    assert (repo / ".github/workflows/ci.yml").read_bytes() == WORKFLOW


def test_bad_input(cli, gh, repo):
    missing = cli("pin", "nowhere", env=env(gh))
    assert (missing.exit_code, missing.stderr) == (
        2,
        "Error: nowhere: no such file or folder; pass the repository folder (default: .) or one workflow file\n",
    )
    (repo / ".github/workflows/broken.yml").write_bytes(b"jobs:\n  a: [\n")
    broken = cli("pin", env=env(gh))
    assert broken.exit_code == 2
    assert broken.stderr.startswith("Error: .github/workflows/broken.yml:3: malformed YAML (")
    (repo / ".github/workflows/broken.yml").unlink()
    empty = repo / "empty"
    empty.mkdir()
    none = cli("pin", "empty", env=env(gh))
    assert none.exit_code == 2 and none.stderr.startswith("Error: no workflow or action files under empty ")
    assert gh.requests == []


def test_verify_exclude_is_honoured(cli, gh, repo):
    (repo / "pyproject.toml").write_text('[tool.ci-helper.verify]\nexclude = ["actions/**"]\n')
    result = cli("pin", "--check", env=env(gh))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == CHANGES[:4] + [
        "4 uses in 1 files would be pinned; run ci-helper pin to rewrite them"
    ]


def test_multi_line_values_are_skipped_with_a_warning(cli, gh, repo):
    (repo / "actions/mine/action.yml").write_bytes(
        b"runs:\n  using: composite\n  steps:\n    - uses: >-\n        actions/checkout@v4.2.2\n"
    )
    result = cli("pin", "--check", env=env(gh))
    assert result.exit_code == 1
    assert result.stderr == (
        "pin: skipped actions/mine/action.yml:4: actions/checkout@v4.2.2 is a block scalar; "
        "write it on one line to pin it\n"
    )
    assert result.stdout.splitlines() == CHANGES[:4] + [
        "4 uses in 1 files would be pinned; run ci-helper pin to rewrite them"
    ]


def test_update_re_resolves_the_version_in_the_comment(cli, gh, repo):
    moved = "5" * 40
    gh.add_tag("actions/cache", "v4.1.0", moved, annotated=1)
    assert cli("pin", env=env(gh)).exit_code == 0
    gh.requests.clear()
    result = cli("pin", "--update", "--check", env=env(gh))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f".github/workflows/ci.yml:11: actions/cache@{CACHE} -> actions/cache@{moved} # v4.1.0",
        "1 uses in 1 files would be pinned; run ci-helper pin --update to rewrite them",
    ]
    assert cli("pin", "--update", env=env(gh)).exit_code == 0
    assert files(repo)[0] == WORKFLOW_PINNED.replace(CACHE.encode(), moved.encode())
    settled = cli("pin", "--update", "--check", env=env(gh))
    assert (settled.exit_code, settled.stdout) == (
        0,
        "nothing to pin: 6 remote uses in 2 files, all pinned to a commit SHA\n",
    )
    gh.git["actions/checkout"]["tags"].clear()
    unknown = cli("pin", "--update", env=env(gh))
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        "Error: .github/workflows/ci.yml:7: actions/checkout has no tag, branch or commit 'v4.2.2'; "
        "fix the comment; actions/mine/action.yml:5: actions/checkout has no tag, branch or commit "
        "'v4.2.2'; fix the comment; nothing was written\n"
    )


def test_a_tag_wins_over_a_branch_of_the_same_name(cli, gh, repo):
    gh.add_branch("actions/checkout", "v4.2.2", "6" * 40)
    assert cli("pin", env=env(gh)).exit_code == 0
    assert files(repo) == (WORKFLOW_PINNED, ACTION_PINNED)


def test_a_rejected_token_is_reported_without_printing_it(cli, gh, repo):
    gh.mode = "401"
    result = cli("pin", env=env(gh))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: GitHub rejected GITHUB_TOKEN (401 Bad credentials); set a valid token or unset it "
        "(resolving actions/checkout@v4.2.2); nothing was written\n"
    )
    assert TOKEN not in result.stdout + result.stderr


def test_a_rewritten_file_keeps_its_permissions_and_leaves_no_temporary_file(cli, gh, repo):
    workflow = repo / ".github/workflows/ci.yml"
    workflow.chmod(0o640)
    assert cli("pin", env=env(gh)).exit_code == 0
    assert workflow.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in workflow.parent.iterdir()) == ["ci.yml"]
