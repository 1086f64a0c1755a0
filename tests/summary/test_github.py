"""The sticky PR comment through real PyGithub against a local GitHub REST server."""

import json

import pytest

from ci_helper import github
from ci_helper.summary import model, render

from .github_server import FakeGitHub

TOKEN = "ghs_localtesttoken0123456789"
HEAD = "c0ffee" * 6 + "beef"


@pytest.fixture
def gh():
    with FakeGitHub(page_size=2, head_sha=HEAD) as server:
        # Comments by people and by another subproject's summary, over two pages.
        server.add_comment(7, "LGTM @octocat")
        server.add_comment(7, "<!-- ci-helper:summary:web -->\n## web subproject", login="github-actions[bot]")
        server.add_comment(7, "please rebase")
        yield server


@pytest.fixture
def env(gh, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "pull_request": {"number": 7, "head": {"sha": HEAD}}}))
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_API_URL": gh.url,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_OUTPUT": str(tmp_path / "outputs"),
    }


def results_args(folder):
    return ["--results", str(folder / "results"), "--junit", str(folder / "junit" / "smoke.xml")]


def ours(gh, marker="<!-- ci-helper:summary -->"):
    return [c for c in gh.comments[7] if c["body"].split("\n")[0] == marker]


def test_first_run_creates_second_run_edits(cli, gh, env, bad, good, tmp_path):
    first = cli("summary", *results_args(bad), "--pr-comment", env=env)
    assert first.exit_code == 1
    assert len(ours(gh)) == 1 and ours(gh)[0]["body"].split("\n")[1] == "## ❌ Red: ci-helper run summary"
    assert (tmp_path / "outputs").read_text() == "verdict=red\ncomment-posted=true\nneeds-workflow-run=false\n"

    second = cli("summary", *results_args(good), "--pr-comment", env=env)
    assert second.exit_code == 0
    assert (
        len(ours(gh)) == 1
        and ours(gh)[0]["body"]
        == render.render_comment(model.load(good / "results", [str(good / "junit" / "smoke.xml")])).text
    )
    # The other comments (over two pages) are untouched, and nothing was added.
    assert [c["body"].split("\n")[0] for c in gh.comments[7]] == [
        "LGTM @octocat",
        "<!-- ci-helper:summary:web -->",
        "please rebase",
        "<!-- ci-helper:summary -->",
    ]
    assert [(m, p) for m, p, _ in gh.requests] == [
        ("GET", "/repos/o/r/issues/7/comments"),
        ("GET", "/repos/o/r/issues/7/comments"),
        ("POST", "/repos/o/r/issues/7/comments"),
        ("GET", "/repos/o/r/issues/7/comments"),
        ("GET", "/repos/o/r/issues/7/comments"),
        ("PATCH", f"/repos/o/r/issues/comments/{ours(gh)[0]['id']}"),
    ]
    assert {auth for _, _, auth in gh.requests} == {f"token {TOKEN}"}
    assert second.stdout.count(TOKEN) == 0 and second.stderr.count(TOKEN) == 0
    assert second.stderr == f"summary: updated comment {ours(gh)[0]['id']} on PR #7 ({ours(gh)[0]['html_url']})\n"


def test_a_comment_planted_with_our_marker_is_not_taken_over(cli, gh, env, good):
    gh.add_comment(7, "<!-- ci-helper:summary -->\nlooks like yours", login="mallory")
    assert cli("summary", *results_args(good), "--pr-comment", env=env).exit_code == 0
    assert cli("summary", *results_args(good), "--pr-comment", env=env).exit_code == 0
    bodies = [(c["user"]["login"], c["body"].split("\n")[1]) for c in ours(gh)]
    assert bodies == [("mallory", "looks like yours"), ("github-actions[bot]", "## ✅ Green: ci-helper run summary")]
    assert [p for m, p, _ in gh.requests if m == "GET" and p == "/user"] == [
        "/user"
    ]  # asked once, before a bot comment existed


def test_a_personal_token_edits_its_own_comment(cli, gh, env, good):
    gh.user_login = "release-bot-user"
    gh.add_comment(7, "<!-- ci-helper:summary -->\nplanted", login="mallory")
    mine = gh.add_comment(7, "<!-- ci-helper:summary -->\nold summary", login="release-bot-user")
    assert cli("summary", *results_args(good), "--pr-comment", env=env).exit_code == 0
    assert [c["body"].split("\n")[1] for c in ours(gh)] == ["planted", "## ✅ Green: ci-helper run summary"]
    assert ours(gh)[1]["id"] == mine["id"]


def test_subprojects_get_one_comment_each(cli, gh, env, good):
    assert cli("summary", *results_args(good), "--pr-comment", "--comment-id", "web", env=env).exit_code == 0
    assert cli("summary", *results_args(good), "--pr-comment", "--comment-id", "api", env=env).exit_code == 0
    assert [c["body"].split("\n")[:2] for c in gh.comments[7][1:2]] == [
        ["<!-- ci-helper:summary:web -->", "## ✅ Green: ci-helper run summary"]
    ]
    assert len(ours(gh, "<!-- ci-helper:summary:api -->")) == 1 and len(gh.comments[7]) == 4


def test_403_falls_back_to_the_file_and_keeps_the_verdict(cli, gh, env, good, tmp_path):
    gh.mode = "403"
    result = cli("summary", *results_args(good), "--pr-comment", "--comment-out", "comment.md", env=env)
    assert result.exit_code == 0  # the verdict, not the posting, decides
    assert (tmp_path / "comment.md").read_text(encoding="utf-8").split("\n")[0] == "<!-- ci-helper:summary -->"
    assert (tmp_path / "outputs").read_text() == (
        "verdict=green\ncomment-posted=false\nneeds-workflow-run=true\ncomment-file=comment.md\n"
    )
    assert result.stderr == (
        "summary: PR comment not posted: GitHub answered 403: Resource not accessible by integration "
        "(a fork PR's token cannot comment; post from a workflow_run workflow); "
        "the body is in comment.md for the workflow_run poster\n"
    )
    assert 7 in gh.comments and len(gh.comments[7]) == 3


def test_403_without_comment_out_writes_the_default_file(cli, gh, env, bad, tmp_path):
    gh.mode = "403"
    result = cli("summary", *results_args(bad), "--pr-comment", env=env)
    assert result.exit_code == 1
    assert (
        (tmp_path / ".ci-helper/summary-comment.md")
        .read_text(encoding="utf-8")
        .startswith("<!-- ci-helper:summary -->\n")
    )


def test_500_is_retried_then_reported(cli, gh, env, good, monkeypatch):
    monkeypatch.setattr(github, "RETRY_DELAYS", (0.0, 0.0))
    gh.mode, gh.failures_left = "500", -1  # always
    result = cli("summary", *results_args(good), "--pr-comment", env=env)
    assert result.exit_code == 0
    assert [(m, p) for m, p, _ in gh.requests] == [("GET", "/repos/o/r/issues/7/comments")] * 3
    assert result.stderr == (
        "summary: PR comment not posted: GitHub answered 500: Server Error after 3 attempts; "
        "the body is in .ci-helper/summary-comment.md\n"
    )


def test_a_transient_500_is_retried_and_posts(cli, gh, env, good, monkeypatch):
    monkeypatch.setattr(github, "RETRY_DELAYS", (0.0, 0.0))
    gh.mode, gh.failures_left = "500", 2
    assert cli("summary", *results_args(good), "--pr-comment", env=env).exit_code == 0
    assert len(ours(gh)) == 1


def test_a_create_whose_answer_was_lost_is_edited_not_duplicated(cli, gh, env, good, monkeypatch):
    monkeypatch.setattr(github, "RETRY_DELAYS", (0.0, 0.0))
    gh.lose_next_post_response = True
    assert cli("summary", *results_args(good), "--pr-comment", env=env).exit_code == 0
    assert len(ours(gh)) == 1
    assert [m for m, _, _ in gh.requests] == ["GET", "GET", "POST", "GET", "GET", "PATCH"]


def test_in_actions_the_token_is_masked_and_errors_are_annotations(cli, gh, env, good):
    gh.mode = "403"
    result = cli("summary", *results_args(good), "--pr-comment", env={**env, "GITHUB_ACTIONS": "true"})
    assert [line for line in result.stdout.split("\n") if TOKEN in line] == [f"::add-mask::{TOKEN}"]
    # Read as the runner reads them: the mask and the warning are obeyed (the rest is the output fence).
    from ci_helper.runner.commands import obeyed_commands

    obeyed = [c for c in obeyed_commands(result.stdout) if c.name in ("add-mask", "warning")][1:]
    assert [c.name for c in obeyed] == ["add-mask", "warning"]
    assert obeyed[0].data == TOKEN
    assert obeyed[1].data.startswith("PR comment not posted: GitHub answered 403")


def test_poster_checks_the_head_commit_and_ignores_the_verdict(cli, gh, env, bad):
    poster_env = {**env, "CI_HELPER_PR_NUMBER": "7"}
    del poster_env["GITHUB_EVENT_PATH"]
    wrong = cli("summary", *results_args(bad), "--pr-comment", "--post-only", "--head-sha", "0" * 40, env=poster_env)
    assert wrong.exit_code == 1 and ours(gh) == []
    assert wrong.stderr == (
        f"summary: PR comment not posted: PR #7 head is {HEAD}, not {'0' * 40}: refusing to comment "
        "on a different PR; the body is in .ci-helper/summary-comment.md\n"
    )
    right = cli("summary", *results_args(bad), "--pr-comment", "--post-only", "--head-sha", HEAD, env=poster_env)
    assert right.exit_code == 0 and len(ours(gh)) == 1


def test_push_event_posts_nothing(cli, gh, env, good, tmp_path):
    (tmp_path / "event.json").write_text(json.dumps({"ref": "refs/heads/main"}))
    result = cli("summary", *results_args(good), "--pr-comment", env=env)
    assert result.exit_code == 0 and gh.requests == []
    assert result.stderr == "summary: not a pull request event and no --pr-number: no comment posted\n"


def test_missing_token_is_bad_input(cli, env, good):
    result = cli("summary", *results_args(good), "--pr-comment", env={**env, "GITHUB_TOKEN": ""})
    assert result.exit_code == 2
    assert (
        result.stderr
        == "Error: GITHUB_TOKEN is not set; pass it to the step with env: GITHUB_TOKEN: ${{ github.token }}\n"
    )


@pytest.mark.parametrize(
    "payload, number",
    [
        ({"pull_request": {"number": 3}}, 3),
        ({"issue": {"number": 4, "pull_request": {"url": "x"}}}, 4),
        ({"issue": {"number": 5}}, None),
        ({"workflow_run": {"pull_requests": [{"number": 6}]}}, 6),
        ({"workflow_run": {"pull_requests": []}}, None),
        # JSON true is an int to Python: it was PR number True (1) through workflow_run.
        ({"pull_request": {"number": True}}, None),
        ({"workflow_run": {"pull_requests": [{"number": True}]}}, None),
    ],
)
def test_pr_number_from_event(tmp_path, payload, number):
    (tmp_path / "e.json").write_text(json.dumps(payload))
    assert github.pr_number_from_event(str(tmp_path / "e.json")) == number


def test_an_event_payload_that_is_not_utf8_is_bad_input(tmp_path):
    from ci_helper.errors import BadInput

    (tmp_path / "e.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(BadInput) as exc:
        github.pr_number_from_event(str(tmp_path / "e.json"))
    assert exc.value.message == (
        f"{tmp_path / 'e.json'}: cannot read the event payload "
        "('utf-8' codec can't decode byte 0xff in position 0: invalid start byte)"
    )
