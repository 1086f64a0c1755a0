"""Run a bundled stubs fixture (``ci_helper/fixtures/stubs/<case>``) for the tests and `ci-helper canary`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ci_helper import results
from ci_helper.gates.stubs import gate, generator, manifest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stubs"


def run_case(case: str | Path, workdir: Path) -> tuple[results.CheckResult, dict]:
    """Create the case's stubs under ``workdir``, apply its tamper and log, check; returns (result, expected)."""
    source = Path(case) if Path(case).is_dir() else FIXTURES / str(case)
    spec = json.loads((source / "case.json").read_text(encoding="utf-8"))
    shutil.copy(source / "stubs.yml", workdir / "stubs.yml")
    loaded = manifest.load(workdir / "stubs.yml")
    root = workdir / loaded.root
    generator.write(loaded, root)
    for rel, text in spec["tamper"].items():
        with open(root / rel, "a", encoding="utf-8") as handle:
            handle.write(text)
    with open(root / generator.FABRICATION_LOG, "w", encoding="utf-8") as handle:
        for entry in spec["fabricated"]:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")
    result, _ = gate.evaluate(loaded, root, environ={})
    return result, spec["expected"]
