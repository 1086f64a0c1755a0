"""ci_helper.fake reaches the project's interpreter through the stub root, never shadowing ci-helper itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

from tests.conftest import REPO_ROOT

MANIFEST = """\
root: stubs
repositories:
  sd:
    modules:
      ldm.util:
        functions:
          instantiate_from_config: {raises: NotImplementedError}
fake_inference: {env: FAKE_ON, width: 2, height: 3, color: [1, 2, 3]}
"""

PROBE = """
import json, sys
from ci_helper import fake
print(json.dumps({"file": fake.__file__, "on": fake.fake_inference_enabled(), "png": fake.image()[:8].hex(),
                  "size": list(fake.config() and (fake.config().width, fake.config().height) or ()),
                  "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("yaml", "click", "jsonschema"))}))
"""


def _probe(python: str, root: Path, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_HELPER_", "VIRTUAL_ENV"))}
    env.update({"PYTHONPATH": str(root), "FAKE_ON": "1"})
    done = subprocess.run([python, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_bare_project_interpreter_imports_the_copy_and_ci_helper_keeps_its_own(tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stubs.yml").write_text(MANIFEST)
    assert cli("stubs", "create", "--manifest", "stubs.yml").exit_code == 0
    root = tmp_path / "stubs"
    bare = tmp_path / "project-venv"
    venv.EnvBuilder(with_pip=False).create(bare)
    (tmp_path / "work").mkdir()

    # The project's interpreter: no ci-helper, no YAML reader, yet ci_helper.fake works from the stub root.
    seen = _probe(str(bare / "bin" / "python"), root, tmp_path / "work")
    assert seen == {
        "file": str(root / "ci_helper" / "fake.py"),
        "on": True,
        "png": "89504e470d0a1a0a",
        "size": [2, 3],
        "modules": [],
    }

    # ci-helper's own interpreter reads the same PYTHONPATH: it still imports its real package.
    ours = _probe(sys.executable, root, tmp_path / "work")
    assert ours["file"] == str(REPO_ROOT / "ci_helper" / "fake.py")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CI_HELPER_")}
    env["PYTHONPATH"] = str(root)
    done = subprocess.run(
        [sys.executable, "-m", "ci_helper", "--version"],
        cwd=tmp_path / "work",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("ci-helper "), done.stderr
