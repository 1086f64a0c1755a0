"""A GitHub REST server on 127.0.0.1 for `ci-helper report --run-id`: runs, jobs with steps, artifacts, contents.

Responses are shaped like GitHub's (the fields PyGithub reads, named and nested as the
REST API returns them); jobs are paginated with Link headers; artifact downloads answer
302 to a storage URL as GitHub does. ``mode = "ratelimit"`` answers every request with
GitHub's rate-limit 403.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def step(number: int, name: str, conclusion: str | None = "success", status: str = "completed") -> dict:
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "number": number,
        "started_at": "2026-12-01T10:00:00Z",
        "completed_at": "2026-12-01T10:00:05Z",
    }


class ActionsApi:
    def __init__(self, repository: str = "o/r", page_size: int = 2) -> None:
        self.repository = repository
        self.page_size = page_size
        self.runs: dict[int, dict] = {}
        self.jobs: dict[int, list[dict]] = {}
        self.files: dict[tuple[str, str], str] = {}  # (path, sha) -> text
        self.artifacts: dict[int, list[dict]] = {}
        self.blobs: dict[int, bytes] = {}
        self.mode = "ok"
        self.requests: list[str] = []
        self._next = 9000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> ActionsApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_run(
        self,
        run_id: int,
        *,
        path: str,
        workflow: str,
        jobs: list[tuple[str, str | None, list[dict]]],
        head_sha: str = "c" * 40,
        conclusion: str | None = "success",
        status: str = "completed",
        event: str = "pull_request",
    ) -> None:
        base = f"{self.url}/repos/{self.repository}/actions/runs/{run_id}"
        self.runs[run_id] = {
            "id": run_id,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "event": event,
            "head_sha": head_sha,
            "head_branch": "feature",
            "status": status,
            "conclusion": conclusion,
            "run_attempt": 1,
            "html_url": f"https://github.com/{self.repository}/actions/runs/{run_id}",
            "url": base,
            "jobs_url": f"{base}/jobs",
            "artifacts_url": f"{base}/artifacts",
            "workflow_id": 161335,
            "created_at": "2026-12-01T10:00:00Z",
            "updated_at": "2026-12-01T10:05:00Z",
        }
        self.files[(path, head_sha)] = workflow
        self.jobs[run_id] = []
        for name, job_conclusion, steps in jobs:
            self._next += 1
            self.jobs[run_id].append(
                {
                    "id": self._next,
                    "run_id": run_id,
                    "name": name,
                    "head_sha": head_sha,
                    "status": "completed" if job_conclusion else "in_progress",
                    "conclusion": job_conclusion,
                    "steps": steps,
                    "url": f"{self.url}/repos/{self.repository}/actions/jobs/{self._next}",
                    "html_url": f"https://github.com/{self.repository}/actions/runs/{run_id}/job/{self._next}",
                    "started_at": "2026-12-01T10:00:00Z",
                    "completed_at": "2026-12-01T10:04:00Z",
                }
            )
        self.artifacts.setdefault(run_id, [])

    def add_artifact(self, run_id: int, name: str, members: dict[str, bytes]) -> None:
        self._next += 1
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, data in members.items():
                archive.writestr(member, data)
        self.blobs[self._next] = buffer.getvalue()
        self.artifacts[run_id].append(
            {
                "id": self._next,
                "name": name,
                "size_in_bytes": len(self.blobs[self._next]),
                "expired": False,
                "url": f"{self.url}/repos/{self.repository}/actions/artifacts/{self._next}",
                "archive_download_url": f"{self.url}/repos/{self.repository}/actions/artifacts/{self._next}/zip",
                "created_at": "2026-12-01T10:04:00Z",
                "expires_at": "2027-03-01T10:04:00Z",
            }
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(
                self, status: int, body: object, headers: dict[str, str] | None = None, raw: bytes | None = None
            ) -> None:
                data = raw if raw is not None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/zip" if raw is not None else "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                parsed = urlparse(self.path)
                query = parse_qs(parsed.query)
                path = parsed.path
                api.requests.append(self.path)
                if api.mode == "ratelimit":
                    self._send(
                        403,
                        {
                            "message": "API rate limit exceeded for 127.0.0.1.",
                            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                        },
                        {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1999999999"},
                    )
                    return
                repo = f"/repos/{api.repository}"
                if path == repo:
                    self._send(
                        200,
                        {
                            "id": 1,
                            "name": api.repository.split("/")[1],
                            "full_name": api.repository,
                            "url": f"{api.url}{repo}",
                            "default_branch": "main",
                        },
                    )
                    return
                if m := re.fullmatch(rf"{repo}/actions/runs/(\d+)", path):
                    run = api.runs.get(int(m.group(1)))
                    self._send(200, run) if run else self._send(404, {"message": "Not Found"})
                    return
                if path == f"{repo}/actions/runs":
                    sha = query.get("head_sha", [None])[0]
                    runs = [r for r in api.runs.values() if sha is None or r["head_sha"] == sha]
                    self._send(200, {"total_count": len(runs), "workflow_runs": runs})
                    return
                if m := re.fullmatch(rf"{repo}/actions/runs/(\d+)/jobs", path):
                    jobs = api.jobs.get(int(m.group(1)), [])
                    page = int(query.get("page", ["1"])[0])
                    chunk = jobs[(page - 1) * api.page_size : page * api.page_size]
                    headers = {}
                    if page * api.page_size < len(jobs):
                        headers["Link"] = f'<{api.url}{path}?page={page + 1}>; rel="next"'
                    self._send(200, {"total_count": len(jobs), "jobs": chunk}, headers)
                    return
                if m := re.fullmatch(rf"{repo}/actions/runs/(\d+)/artifacts", path):
                    items = api.artifacts.get(int(m.group(1)), [])
                    self._send(200, {"total_count": len(items), "artifacts": items})
                    return
                if m := re.fullmatch(rf"{repo}/actions/artifacts/(\d+)/zip", path):
                    self._send(302, {}, {"Location": f"{api.url}/blob/{m.group(1)}"})
                    return
                if m := re.fullmatch(r"/blob/(\d+)", path):
                    self._send(200, None, raw=api.blobs[int(m.group(1))])
                    return
                if m := re.fullmatch(rf"{repo}/contents/(.+)", path):
                    text = api.files.get((m.group(1), query.get("ref", [""])[0]))
                    if text is None:
                        self._send(404, {"message": "Not Found"})
                        return
                    self._send(
                        200,
                        {
                            "type": "file",
                            "encoding": "base64",
                            "name": m.group(1).rsplit("/", 1)[-1],
                            "path": m.group(1),
                            "sha": "f" * 40,
                            "size": len(text),
                            "content": base64.b64encode(text.encode()).decode(),
                        },
                    )
                    return
                self._send(404, {"message": "Not Found"})

        return Handler
