"""Every GitHub API call ci-helper makes, in one place (PyGithub, imported lazily).

The sticky PR comment (find our previous comment by its hidden marker and
edit it, else create one) and, for ``ci-helper pin``, resolving the tag,
branch or SHA of a ``uses:`` to its commit, peeling annotated tags. The token
comes from ``GITHUB_TOKEN`` and is never printed (and is masked in Actions);
the API base comes from ``GITHUB_API_URL`` so GitHub Enterprise Server works.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ci_helper import gha, limits
from ci_helper.errors import BadInput

DEFAULT_API_URL = "https://api.github.com"
# Waits between attempts after a 5xx or a dropped connection: bounded, then reported.
RETRY_DELAYS: tuple[float, ...] = (1.0, 3.0)

CREATED = "created"
UPDATED = "updated"
FORBIDDEN = "forbidden"
FAILED = "failed"


@dataclass
class CommentOutcome:
    action: str  # created, updated, forbidden, failed
    message: str
    url: str | None = None

    @property
    def posted(self) -> bool:
        return self.action in (CREATED, UPDATED)


def token_from_env() -> str:
    """``GITHUB_TOKEN``, masked in the Actions log; bad input when it is missing."""
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        raise BadInput("GITHUB_TOKEN is not set; pass it to the step with env: GITHUB_TOKEN: ${{ github.token }}")
    if gha.in_actions():
        gha.add_mask(token)
    return token


def api_url_from_env() -> str:
    return os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL


def repository_from_env() -> str:
    repo = os.environ.get("GITHUB_REPOSITORY", "")
    if "/" not in repo:
        raise BadInput("GITHUB_REPOSITORY is not set (owner/name); run inside GitHub Actions or set it")
    return repo


def pr_number_from_event(path: str | None = None) -> int | None:
    """The pull request number from the event payload (``GITHUB_EVENT_PATH``), or None."""
    path = path or os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            event: Any = json.load(handle)
    except (OSError, *limits.PARSE_ERRORS) as exc:  # ValueError: bad JSON or not UTF-8
        raise BadInput(f"{path}: cannot read the event payload ({limits.why(exc)})") from None
    if not isinstance(event, dict):
        return None
    for key in ("pull_request", "issue"):
        number = (event.get(key) or {}).get("number") if isinstance(event.get(key), dict) else None
        if isinstance(number, int) and not isinstance(number, bool):
            if key == "issue" and "pull_request" not in event["issue"]:
                continue  # a plain issue, not a PR
            return number
    pulls = (
        (event.get("workflow_run") or {}).get("pull_requests") if isinstance(event.get("workflow_run"), dict) else None
    )
    number = pulls[0].get("number") if isinstance(pulls, list) and pulls and isinstance(pulls[0], dict) else None
    if isinstance(number, int) and not isinstance(number, bool):
        return number
    return None


def _client(token: str, api_url: str) -> Any:
    try:
        from github import Auth, Github
    except ImportError:
        raise BadInput("posting a PR comment needs PyGithub: pip install 'ci-helper[github]'") from None
    # retry=None: our own loop retries the whole find-then-write, so a create
    # whose response was lost is found and edited, not duplicated.
    return Github(
        auth=Auth.Token(token),
        base_url=api_url.rstrip("/"),
        retry=None,
        timeout=30,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
        per_page=100,
    )


def _is_ours(body: str | None, marker: str) -> bool:
    return body is not None and body.split("\n", 1)[0].strip() == marker


def _login(gh: Any) -> str | None:
    """The token's own login, or None for GITHUB_TOKEN and app tokens (they cannot read /user)."""
    from github import GithubException

    try:
        login: str | None = gh.get_user().login
        return login
    except GithubException:
        return None


def _pick(gh: Any, marked: list[Any]) -> Any | None:
    """Our comment among those starting with the marker: anyone can post one, so check the author."""
    bots = [c for c in marked if c.user is not None and c.user.type == "Bot"]
    if bots:
        return bots[0]
    if not marked:
        return None
    # A personal token posts as its user; a planted comment by someone else is not ours.
    me = _login(gh)
    return next((c for c in marked if me is not None and c.user is not None and c.user.login == me), None)


def upsert_comment(
    repository: str,
    number: int,
    body: str,
    marker: str,
    *,
    token: str,
    api_url: str,
    head_sha: str | None = None,
    retry_delays: tuple[float, ...] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> CommentOutcome:
    """Edit our comment (first line == ``marker``) on PR ``number``, or create it.

    ``head_sha``, when given, must be the PR's current head commit: the
    workflow_run poster takes the PR number from an artifact the PR's code
    wrote, so it checks that number against the run it was triggered by.
    A 403 is returned as ``forbidden`` (fork PR: post from workflow_run); a
    5xx or a dropped connection is retried ``len(retry_delays)`` times, then
    returned as ``failed``. Neither raises.
    """
    from github import GithubException
    from requests.exceptions import RequestException

    gh = _client(token, api_url)
    delays = RETRY_DELAYS if retry_delays is None else retry_delays
    last = ""
    for attempt in range(len(delays) + 1):
        if attempt:
            sleep(delays[attempt - 1])
        try:
            repo = gh.get_repo(repository)
            if head_sha:
                actual = repo.get_pull(number).head.sha
                if actual != head_sha:
                    return CommentOutcome(
                        FAILED, f"PR #{number} head is {actual}, not {head_sha}: refusing to comment on a different PR"
                    )
            issue = repo.get_issue(number)
            mine = _pick(gh, [c for c in issue.get_comments() if _is_ours(c.body, marker)])
            if mine is not None:
                mine.edit(body)
                return CommentOutcome(UPDATED, f"updated comment {mine.id} on PR #{number}", mine.html_url)
            created = issue.create_comment(body)
            return CommentOutcome(CREATED, f"created comment {created.id} on PR #{number}", created.html_url)
        except GithubException as exc:
            detail = exc.data.get("message") if isinstance(exc.data, dict) else None
            last = f"GitHub answered {exc.status}" + (f": {detail}" if detail else "")
            if exc.status == 403:
                return CommentOutcome(
                    FORBIDDEN, last + " (a fork PR's token cannot comment; post from a workflow_run workflow)"
                )
            if exc.status is None or exc.status < 500:
                return CommentOutcome(FAILED, last)
        except RequestException as exc:
            last = f"cannot reach {api_url}: {type(exc).__name__}"
    return CommentOutcome(FAILED, f"{last} after {len(delays) + 1} attempts")


# --- resolving a uses: ref to a commit (ci-helper pin) -------------------------

TAG = "tag"
BRANCH = "branch"
COMMIT = "commit"
# Annotated tags can point at annotated tags; real chains are one or two deep.
MAX_TAG_DEPTH = 10
# A ref that may be an abbreviated or full commit SHA (GitHub's /commits/{ref} accepts 7+ hex digits).
_HEXISH = re.compile(r"[0-9a-fA-F]{7,40}")
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class ResolvedRef:
    sha: str  # the 40-hex commit
    kind: str  # tag, branch or commit: how the ref was found


class ApiFailure(Exception):
    """GitHub could not be asked (5xx after retries, 403 or rate limit, bad token, unreachable)."""


def optional_token_from_env() -> str | None:
    """``GITHUB_TOKEN`` when set (masked in Actions), else None: public refs resolve without one."""
    token = os.environ.get("GITHUB_TOKEN", "") or None
    if token and gha.in_actions():
        gha.add_mask(token)
    return token


def _reader(token: str | None, api_url: str) -> Any:
    try:
        from github import Auth, Github
    except ImportError:
        raise BadInput("resolving refs needs PyGithub: pip install 'ci-helper[github]'") from None
    auth = Auth.Token(token) if token else None
    return Github(
        auth=auth,
        base_url=api_url.rstrip("/"),
        retry=None,
        timeout=30,
        seconds_between_requests=None,
        seconds_between_writes=None,
        lazy=True,
    )


def _peel(repo: Any, repository: str, kind: str, sha: str) -> str:
    """The commit an annotated tag (or a chain of them) points at."""
    for _ in range(MAX_TAG_DEPTH):
        if kind != "tag":
            break
        target = repo.get_git_tag(sha).object
        kind, sha = target.type, target.sha
    if kind != "commit":
        raise ApiFailure(f"{repository}: the ref points at a {kind} object {sha}, not a commit")
    return sha


def _resolve_one(gh: Any, repository: str, ref: str) -> ResolvedRef | None:
    """Tag first, then branch (git's own order for a bare name), then a commit SHA; None when none exists."""
    from github import GithubException, UnknownObjectException

    repo = gh.get_repo(repository)
    for namespace, kind in (("tags", TAG), ("heads", BRANCH)):
        try:
            target = repo.get_git_ref(f"{namespace}/{ref}").object
        except UnknownObjectException:
            continue
        return ResolvedRef(_peel(repo, repository, target.type, target.sha), kind)
    if _HEXISH.fullmatch(ref):
        try:
            # complete(): a lazy object would answer .sha from its own URL, i.e. the short SHA we asked about.
            return ResolvedRef(repo.get_commit(ref).complete().sha, COMMIT)
        except GithubException as exc:
            # 404, or 422 "No commit found for SHA": an unknown ref, not a failure.
            if isinstance(exc, UnknownObjectException) or exc.status == 422:
                return None
            raise
    return None


def _repository_exists(gh: Any, repository: str) -> bool:
    from github import UnknownObjectException

    try:
        gh.get_repo(repository).complete()
    except UnknownObjectException:
        return False
    return True


def _failure(exc: Exception, api_url: str) -> str:
    from github import BadCredentialsException, GithubException, RateLimitExceededException

    if isinstance(exc, RateLimitExceededException):
        return f"GitHub's API rate limit is exhausted ({api_url}); set GITHUB_TOKEN for a higher limit or wait"
    if isinstance(exc, BadCredentialsException):
        return "GitHub rejected GITHUB_TOKEN (401 Bad credentials); set a valid token or unset it"
    if isinstance(exc, GithubException):
        detail = exc.data.get("message") if isinstance(exc.data, dict) else None
        return f"GitHub answered {exc.status}" + (f": {detail}" if detail else "")
    return f"cannot reach {api_url}: {type(exc).__name__}"


def resolve_refs(
    pairs: list[tuple[str, str]],
    *,
    token: str | None,
    api_url: str,
    retry_delays: tuple[float, ...] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[tuple[str, str], ResolvedRef | None]:
    """Each ``(owner/repo, ref)`` to its commit (None: no such tag, branch or commit), each asked once.

    A 5xx or a dropped connection is retried ``len(retry_delays)`` times; then,
    or at once for a 403/401/rate limit, :class:`ApiFailure` is raised.
    """
    from github import GithubException
    from requests.exceptions import RequestException

    gh = _reader(token, api_url)
    delays = RETRY_DELAYS if retry_delays is None else retry_delays
    out: dict[tuple[str, str], ResolvedRef | None] = {}
    for repository, ref in pairs:
        if (repository, ref) in out:
            continue
        for attempt in range(len(delays) + 1):
            if attempt:
                sleep(delays[attempt - 1])
            try:
                found = _resolve_one(gh, repository, ref)
                if found is not None and not _FULL_SHA.fullmatch(found.sha):
                    # Never write what is not a commit SHA into a workflow.
                    raise ApiFailure(
                        f"{api_url} answered {found.sha!r} for {repository}@{ref}, not a 40-hex commit SHA"
                    )
                out[(repository, ref)] = found
                break
            except (GithubException, RequestException) as exc:
                status = getattr(exc, "status", None)
                retryable = isinstance(exc, RequestException) or (status is not None and status >= 500)
                if not retryable or attempt == len(delays):
                    suffix = f" after {attempt + 1} attempts" if retryable else ""
                    raise ApiFailure(f"{_failure(exc, api_url)}{suffix} (resolving {repository}@{ref})") from None
    return out


def missing_repositories(repositories: list[str], *, token: str | None, api_url: str) -> set[str]:
    """Which of these repositories GitHub does not show (absent, or private to this token)."""
    from github import GithubException
    from requests.exceptions import RequestException

    gh = _reader(token, api_url)
    try:
        return {name for name in dict.fromkeys(repositories) if not _repository_exists(gh, name)}
    except (GithubException, RequestException) as exc:
        raise ApiFailure(_failure(exc, api_url)) from None


# --- run audit (`ci-helper report --run-id`) ---------------------------------------

# An artifact larger than this is not downloaded: the audit reads results and JUnit files only.
MAX_ARTIFACT_BYTES = 50 * 1024 * 1024


@dataclass
class StepRecord:
    number: int
    name: str
    status: str
    conclusion: str | None


@dataclass
class JobRecord:
    id: int
    name: str
    status: str
    conclusion: str | None
    steps: list[StepRecord]


@dataclass
class RunRecord:
    """One workflow run as the API shows it, with the workflow file at the run's commit."""

    id: int
    name: str
    path: str  # .github/workflows/x.yml
    event: str
    head_sha: str
    head_branch: str | None
    status: str
    conclusion: str | None
    html_url: str
    jobs: list[JobRecord]
    workflow_text: str | None  # None: the file could not be read at head_sha
    # artifact name -> {member path: bytes} for the members we read (JSON results, JUnit XML)
    artifacts: dict[str, dict[str, bytes]]
    artifacts_skipped: list[str]


def _artifact_members(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    members: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename
                # Only what the audit reads, and never a path that climbs out.
                if info.is_dir() or name.startswith("/") or ".." in name.split("/"):
                    continue
                if not name.endswith((".json", ".xml")) or info.file_size > MAX_ARTIFACT_BYTES:
                    continue
                members[name] = archive.read(info)
    except zipfile.BadZipFile:
        return {}
    return members


def _download(url: str, token: str | None) -> bytes | None:
    import requests

    headers = {"Accept": "application/vnd.github+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # requests drops Authorization when a redirect leaves the API host (artifact storage).
    response = requests.get(url, headers=headers, timeout=60, stream=True)
    if response.status_code != 200:
        return None
    chunks, size = [], 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > MAX_ARTIFACT_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _run_record(repo: Any, run: Any, token: str | None) -> RunRecord:
    from github import GithubException

    jobs = []
    for job in run.jobs():  # the latest attempt's jobs, as the checks on the commit show
        steps = [StepRecord(s.number, s.name, s.status, s.conclusion) for s in (job.steps or [])]
        jobs.append(JobRecord(job.id, job.name, job.status, job.conclusion, steps))
    text: str | None
    try:
        text = repo.get_contents(run.path, ref=run.head_sha).decoded_content.decode("utf-8", "replace")
    except GithubException:
        text = None
    artifacts: dict[str, dict[str, bytes]] = {}
    skipped: list[str] = []
    for artifact in run.get_artifacts():
        if artifact.expired or artifact.size_in_bytes > MAX_ARTIFACT_BYTES:
            skipped.append(artifact.name)
            continue
        data = _download(artifact.archive_download_url, token)
        if data is None:
            skipped.append(artifact.name)
            continue
        artifacts[artifact.name] = _artifact_members(data)
    return RunRecord(
        id=run.id,
        name=run.name or "",
        path=run.path or "",
        event=run.event,
        head_sha=run.head_sha,
        head_branch=run.head_branch,
        status=run.status,
        conclusion=run.conclusion,
        html_url=run.html_url,
        jobs=jobs,
        workflow_text=text,
        artifacts=artifacts,
        artifacts_skipped=skipped,
    )


def fetch_runs(
    repository: str, *, run_id: int | None = None, commit: str | None = None, token: str | None, api_url: str
) -> list[RunRecord]:
    """The run ``run_id``, or every run on ``commit``, with jobs, steps, workflow file and artifacts.

    Raises :class:`ApiFailure` when the API cannot answer (unreachable, 401/403, rate limit).
    """
    from github import GithubException, UnknownObjectException
    from requests.exceptions import RequestException

    gh = _reader(token, api_url)
    try:
        repo = gh.get_repo(repository)
        if run_id is not None:
            try:
                run = repo.get_workflow_run(run_id)
                run.head_sha  # noqa: B018  (the client is lazy: ask now, so a 404 is told as such)
                runs = [run]
            except UnknownObjectException:
                raise BadInput(f"{repository}: no workflow run {run_id}; check --run-id and --repo") from None
        else:
            runs = list(repo.get_workflow_runs(head_sha=commit))
        return [_run_record(repo, run, token) for run in runs]
    except (GithubException, RequestException) as exc:
        raise ApiFailure(_failure(exc, api_url)) from None
