"""A small GitHub REST server on 127.0.0.1 for PyGithub: issue comments with pagination, and git refs.

Implements what ci_helper.github uses: GET /repos/{o}/{r}, GET /repos/{o}/{r}/pulls/{n},
GET and POST /repos/{o}/{r}/issues/{n}/comments (paginated with Link headers),
PATCH /repos/{o}/{r}/issues/comments/{id}; for ``ci-helper pin``,
GET /repos/{o}/{r}/git/ref/{tags|heads}/{name}, /git/tags/{sha} (annotated tags)
and /commits/{ref}, over repositories made with :meth:`FakeGitHub.add_tag` and
:meth:`FakeGitHub.add_branch`. ``mode`` turns every request into a 403
("Resource not accessible by integration"), a 401 ("Bad credentials"), a
rate-limit 403 ("ratelimit") or a 500 for the next N requests.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse


class FakeGitHub:
    def __init__(self, page_size: int = 2, head_sha: str = "a" * 40) -> None:
        self.page_size = page_size
        self.head_sha = head_sha
        self.comments: dict[int, list[dict]] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.mode = "ok"
        self.lose_next_post_response = False
        self.user_login: str | None = None  # set: the token is a personal token of this user
        self.failures_left = 0  # for mode "500": how many requests fail before it recovers
        self._next_id = 1000
        # "o/r" -> {"tags": {name: (type, sha)}, "heads": {name: sha}, "tag_objects": {sha: (type, sha)}, "commits": set}
        self.git: dict[str, dict] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_comment(self, number: int, body: str, login: str = "someone") -> dict:
        with self._lock:
            self._next_id += 1
            comment = {
                "id": self._next_id,
                "body": body,
                "user": {"login": login, "id": 7, "type": "Bot" if login.endswith("[bot]") else "User"},
                "url": f"{self.url}/repos/o/r/issues/comments/{self._next_id}",
                "html_url": f"https://github.com/o/r/pull/{number}#issuecomment-{self._next_id}",
                "issue_url": f"{self.url}/repos/o/r/issues/{number}",
                "created_at": "2026-11-21T22:00:00Z",
                "updated_at": "2026-11-21T22:00:00Z",
            }
            self.comments.setdefault(number, []).append(comment)
            return comment

    def _repo(self, full: str) -> dict:
        return self.git.setdefault(full, {"tags": {}, "heads": {}, "tag_objects": {}, "commits": set()})

    def add_branch(self, full: str, name: str, sha: str) -> None:
        repo = self._repo(full)
        repo["heads"][name] = sha
        repo["commits"].add(sha)

    def add_tag(self, full: str, name: str, sha: str, annotated: int = 0) -> str:
        """A tag on commit ``sha``; ``annotated`` > 0 wraps it in that many annotated tag objects. Returns the ref's sha."""
        repo = self._repo(full)
        repo["commits"].add(sha)
        kind, target = "commit", sha
        for depth in range(annotated):
            obj = hashlib.sha1(f"{full}:{name}:{depth}".encode()).hexdigest()
            repo["tag_objects"][obj] = (kind, target)
            kind, target = "tag", obj
        repo["tags"][name] = (kind, target)
        return target

    def _git(self, handler, full: str, rest: str):
        repo = self.git.get(full)
        if repo is None:
            return handler._send(404, {"message": "Not Found"})
        base = f"{self.url}/repos/{full}"
        if m := re.fullmatch(r"git/ref/(tags|heads)/(.+)", rest):
            name = unquote(m[2])
            found = (
                repo["tags"].get(name)
                if m[1] == "tags"
                else (("commit", repo["heads"][name]) if name in repo["heads"] else None)
            )
            if found is None:
                return handler._send(404, {"message": "Not Found"})
            kind, sha = found
            return handler._send(
                200,
                {
                    "ref": f"refs/{m[1]}/{name}",
                    "url": f"{base}/git/refs/{m[1]}/{name}",
                    "object": {"type": kind, "sha": sha, "url": f"{base}/git/{kind}s/{sha}"},
                },
            )
        if m := re.fullmatch(r"git/tags/([0-9a-f]{40})", rest):
            if m[1] not in repo["tag_objects"]:
                return handler._send(404, {"message": "Not Found"})
            kind, sha = repo["tag_objects"][m[1]]
            return handler._send(
                200,
                {
                    "sha": m[1],
                    "tag": "t",
                    "url": f"{base}/git/tags/{m[1]}",
                    "object": {"type": kind, "sha": sha, "url": f"{base}/git/{kind}s/{sha}"},
                },
            )
        if m := re.fullmatch(r"commits/(.+)", rest):
            ref = unquote(m[1])
            matches = (
                [c for c in repo["commits"] if c.startswith(ref.lower())]
                if re.fullmatch(r"[0-9a-fA-F]{7,40}", ref)
                else []
            )
            if len(matches) == 1:
                return handler._send(200, {"sha": matches[0], "url": f"{base}/commits/{matches[0]}"})
            return handler._send(422, {"message": f"No commit found for SHA: {ref}"})
        return handler._send(404, {"message": "Not Found"})

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _route(self, method: str) -> None:
                parsed = urlparse(self.path)
                fake.requests.append((method, parsed.path, self.headers.get("Authorization")))
                if fake.mode == "403":
                    return self._send(
                        403,
                        {
                            "message": "Resource not accessible by integration",
                            "documentation_url": "https://docs.github.com/rest",
                        },
                    )
                if fake.mode == "401":
                    return self._send(
                        401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
                    )
                if fake.mode == "ratelimit":
                    return self._send(
                        403,
                        {
                            "message": "API rate limit exceeded for 127.0.0.1.",
                            "documentation_url": "https://docs.github.com/rest/rate-limit",
                        },
                        {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1900000000"},
                    )
                if fake.mode == "500" and fake.failures_left != 0:
                    fake.failures_left -= 1
                    return self._send(500, {"message": "Server Error"})
                path = parsed.path
                if method == "GET" and path == "/user":
                    if fake.user_login is None:  # GITHUB_TOKEN: an installation token cannot read /user
                        return self._send(403, {"message": "Resource not accessible by integration"})
                    return self._send(
                        200,
                        {
                            "login": fake.user_login,
                            "id": 9,
                            "type": "User",
                            "url": f"{fake.url}/users/{fake.user_login}",
                        },
                    )
                if method == "GET" and (m := re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)/((?:git|commits)/.+)", path)):
                    return fake._git(self, m[1], m[2])
                if (
                    method == "GET"
                    and fake.git
                    and (m := re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)", path))
                    and m[1] not in fake.git
                ):
                    return self._send(404, {"message": "Not Found"})
                if method == "GET" and (m := re.fullmatch(r"/repos/([\w.-]+)/([\w.-]+)", path)):
                    return self._send(
                        200,
                        {
                            "id": 1,
                            "name": m[2],
                            "full_name": f"{m[1]}/{m[2]}",
                            "url": f"{fake.url}/repos/{m[1]}/{m[2]}",
                        },
                    )
                if method == "GET" and (m := re.fullmatch(r"/repos/o/r/pulls/(\d+)", path)):
                    return self._send(
                        200,
                        {
                            "number": int(m[1]),
                            "url": f"{fake.url}/repos/o/r/pulls/{m[1]}",
                            "head": {"sha": fake.head_sha, "ref": "feature"},
                        },
                    )
                if m := re.fullmatch(r"/repos/o/r/issues/(\d+)/comments", path):
                    number = int(m[1])
                    if method == "POST":
                        created = fake.add_comment(number, self._body()["body"], "github-actions[bot]")
                        if fake.lose_next_post_response:  # created, but the answer never arrives
                            fake.lose_next_post_response = False
                            return self._send(502, {"message": "Bad Gateway"})
                        return self._send(201, created)
                    if method == "GET":
                        page = int(parse_qs(parsed.query).get("page", ["1"])[0])
                        items = fake.comments.get(number, [])
                        chunk = items[(page - 1) * fake.page_size : page * fake.page_size]
                        last = max(1, -(-len(items) // fake.page_size))
                        links = []
                        if page < last:
                            links.append(f'<{fake.url}{path}?page={page + 1}>; rel="next"')
                            links.append(f'<{fake.url}{path}?page={last}>; rel="last"')
                        return self._send(200, chunk, {"Link": ", ".join(links)} if links else None)
                if method == "PATCH" and (m := re.fullmatch(r"/repos/o/r/issues/comments/(\d+)", path)):
                    for comments in fake.comments.values():
                        for comment in comments:
                            if comment["id"] == int(m[1]):
                                comment["body"] = self._body()["body"]
                                comment["updated_at"] = "2026-11-21T23:00:00Z"
                                return self._send(200, comment)
                return self._send(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

        return Handler
