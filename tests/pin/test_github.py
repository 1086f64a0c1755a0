"""ci_helper.github.resolve_refs: real PyGithub against the local GitHub REST server."""

from __future__ import annotations

import socket

import pytest

from ci_helper import github
from tests.summary.github_server import FakeGitHub

COMMIT = "0123456789abcdef" * 2 + "01234567"


def test_kinds_unknowns_and_one_request_set_per_pair():
    with FakeGitHub() as gh:
        gh.add_tag("o/r", "v1", COMMIT, annotated=3)
        gh.add_branch("o/r", "dev", "f" * 40)
        pairs = [("o/r", "v1"), ("o/r", "dev"), ("o/r", "0123456"), ("o/r", "nope"), ("o/r", "v1")]
        resolved = github.resolve_refs(pairs, token=None, api_url=gh.url + "/")
        assert resolved == {
            ("o/r", "v1"): github.ResolvedRef(COMMIT, github.TAG),
            ("o/r", "dev"): github.ResolvedRef("f" * 40, github.BRANCH),
            ("o/r", "0123456"): github.ResolvedRef(COMMIT, github.COMMIT),
            ("o/r", "nope"): None,
        }
        assert len(gh.requests) == 1 + 3 + 2 + 3 + 2  # tag+3 peels, tag+branch, tag+branch+commits, tag+branch
        assert github.missing_repositories(["o/r", "x/y"], token=None, api_url=gh.url) == {"x/y"}


def test_an_answer_that_is_not_a_commit_sha_is_never_used():
    with FakeGitHub() as gh:
        gh.add_tag("o/r", "v1", "not-a-sha")
        with pytest.raises(github.ApiFailure) as err:
            github.resolve_refs([("o/r", "v1")], token=None, api_url=gh.url)
        assert str(err.value) == f"{gh.url} answered 'not-a-sha' for o/r@v1, not a 40-hex commit SHA"


def test_an_unreachable_api_is_retried_then_reported():
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    waits: list[float] = []
    with pytest.raises(github.ApiFailure) as err:
        github.resolve_refs([("o/r", "v1")], token=None, api_url=url, retry_delays=(0.5, 2.0), sleep=waits.append)
    assert str(err.value) == f"cannot reach {url}: ConnectionError after 3 attempts (resolving o/r@v1)"
    assert waits == [0.5, 2.0]
