"""The example project (examples/diffusion-api) runs under its stubs, with no real ldm/sgm/k_diffusion."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest
import yaml

from tests.conftest import REPO_ROOT, run_ci_helper

EXAMPLE = REPO_ROOT / "examples" / "diffusion-api"


@pytest.fixture
def example(tmp_path):
    """A copy of the example with its stubs created (the repository's own tree stays clean)."""
    work = tmp_path / "diffusion-api"
    shutil.copytree(
        EXAMPLE, work, ignore=shutil.ignore_patterns("repositories", ".ci-helper", "__pycache__", ".pytest_cache")
    )
    created = run_ci_helper("stubs", "create", cwd=work)
    assert created.returncode == 0, created.stdout + created.stderr
    return work


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "PYTHONPATH", "GITHUB_"))}
    env.pop("CI", None)
    env.update(extra)
    return env


def test_the_heavy_packages_are_not_installed():
    code = "import importlib.util as u; print([m for m in ('ldm', 'sgm', 'k_diffusion') if u.find_spec(m)])"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, env=clean_env(), timeout=60
    )
    assert proc.stdout == "[]\n"


def test_server_starts_under_the_stubs_serves_and_stops_gracefully(example):
    server = subprocess.Popen(
        [sys.executable, "-m", "diffusion_api", "--host", "127.0.0.1", "--port", "0"],
        cwd=example,
        env=clean_env(CI="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        match = re.fullmatch(r"diffusion-api listening on (http://127\.0\.0\.1:\d+) \(fake inference: on\)\n", line)
        assert match, line + server.stderr.read() if server.poll() is not None else line
        base_url = match.group(1)
        with urllib.request.urlopen(base_url + "/health", timeout=10) as response:
            health = json.loads(response.read())
        assert (health["status"], health["fake_inference"]) == ("ok", True)

        # The example's own smoke tests, as `ci-helper smoke` runs them.
        smoke = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/smoke"],
            cwd=example,
            env=clean_env(CI_HELPER_BASE_URL=base_url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert smoke.returncode == 0, smoke.stdout
        assert smoke.stdout.splitlines()[-1].startswith("5 passed")

        request = urllib.request.Request(base_url + "/sdapi/v1/server-stop", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read()) == {"status": "stopping"}
        assert server.wait(timeout=15) == 0
        assert server.stdout.read() == "diffusion-api stopped\n"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
        server.stderr.close()

    # The dynamic sgm names the server used are logged, within the example's budget of 8.
    report = run_ci_helper("stubs", "report", cwd=example)
    assert report.returncode == 0, report.stdout
    assert report.stdout.splitlines()[:5] == [
        "fabricated names: 4 (budget: 8)",
        "  sgm.modules  [module, prefix sgm]",
        "  sgm.modules.diffusionmodules  [module, prefix sgm]",
        "  sgm.modules.diffusionmodules.discretizer  [module, prefix sgm]",
        "  sgm.modules.diffusionmodules.discretizer.LegacyDDPMDiscretization  [attribute, prefix sgm]",
    ]


def test_server_stops_on_sigterm(example):
    server = subprocess.Popen(
        [sys.executable, "-m", "diffusion_api", "--port", "0"],
        cwd=example,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout.readline().endswith("(fake inference: off)\n")
        server.terminate()
        assert server.wait(timeout=15) == 0
        assert server.stdout.read() == "diffusion-api stopped\n"
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()


def test_quality_tests_pass_under_the_stubs(example):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=example,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    assert re.fullmatch(r"\d+ passed in .*", proc.stdout.splitlines()[-1])


def test_without_stubs_the_example_cannot_start(tmp_path):
    work = tmp_path / "bare"
    shutil.copytree(EXAMPLE, work, ignore=shutil.ignore_patterns("repositories", ".ci-helper", "__pycache__"))
    proc = subprocess.run(
        [sys.executable, "-m", "diffusion_api", "--port", "0"],
        cwd=work,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == "ModuleNotFoundError: No module named 'k_diffusion'"


def test_the_example_stubs_are_in_sync_and_its_settings_load(example):
    from ci_helper import settings

    loaded = settings.load(example)
    assert (loaded.repository, loaded.stubs.manifest) == ("example-org/diffusion-api", "stubs.yml")
    assert loaded.smoke.ready_url == "http://127.0.0.1:{port}/health"
    assert loaded.smoke.stop_url == "http://127.0.0.1:{port}/sdapi/v1/server-stop"
    check = run_ci_helper("stubs", "check", cwd=example)
    assert check.returncode == 0, check.stdout


PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def test_the_example_workflows_use_our_actions_pinned_and_read_only():
    workflows = sorted((EXAMPLE / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == ["quality.yml", "smoke.yml"]
    ours = set()
    for path in workflows:
        text = path.read_text()
        data = yaml.safe_load(text)
        assert data["permissions"] == {"contents": "read"}, path.name
        for job in data["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), (path.name, step)
                if "uses" in step:
                    assert PINNED.match(step["uses"]), step["uses"]
                    if step["uses"].startswith("truthful-ci/ci-helper/"):
                        ours.add(step["uses"].split("@")[0].rsplit("/", 1)[1])
        for line in text.splitlines():
            if "uses:" in line:
                assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line
    assert ours == {"guardrails", "stub-repos", "smoke", "quality"}


def test_verify_finds_nothing_in_the_example():
    proc = run_ci_helper("verify", str(EXAMPLE))
    assert (proc.returncode, proc.stdout) == (0, "no findings in 2 files\n"), proc.stderr
