"""The ``stubs`` check result: drift, fabricated names against the budget, and fake inference."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from ci_helper import fake as fake_module, results
from ci_helper.gates.stubs import fabrication, generator
from ci_helper.gates.stubs.manifest import Manifest

CHECK = "stubs"


def drift(manifest: Manifest, root: Path) -> list[results.Finding]:
    """One finding per file that differs from what ``stubs create`` would write."""
    expected = generator.render(manifest)
    actual = generator.on_disk(root)
    findings = []
    shown: Callable[[str], str] = lambda rel: (root / rel).as_posix()  # noqa: E731 - paths as the user sees them
    for rel in sorted(set(expected) | set(actual)):
        if rel not in actual:
            findings.append(
                results.Finding("stubs-missing", f"{shown(rel)} is missing; run `ci-helper stubs create`", shown(rel))
            )
        elif rel not in expected:
            findings.append(
                results.Finding(
                    "stubs-extra",
                    f"{shown(rel)} is not declared in {manifest.display_name}; declare it or run `ci-helper stubs create` to remove it",
                    shown(rel),
                )
            )
        elif actual[rel] != expected[rel]:
            line = _first_difference(expected[rel], actual[rel])
            findings.append(
                results.Finding(
                    "stubs-modified",
                    f"{shown(rel)} differs from what {manifest.display_name} declares (first difference at line {line}); "
                    "edit the manifest instead and run `ci-helper stubs create`",
                    shown(rel),
                    line,
                )
            )
    return findings


def _first_difference(expected: bytes, actual: bytes) -> int:
    a = expected.decode("utf-8", "replace").splitlines()
    b = actual.decode("utf-8", "replace").splitlines()
    for block in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if block[0] != "equal":
            return block[3] + 1
    return min(len(a), len(b)) + 1


def evaluate(
    manifest: Manifest, root: Path, environ: Mapping[str, str] | None = None
) -> tuple[results.CheckResult, list[fabrication.Fabricated]]:
    """Judge the stub root against the manifest; returns the result and the fabricated names."""
    env = os.environ if environ is None else environ
    findings = drift(manifest, root)
    drifted = len(findings)
    fabricated = fabrication.read_log(generator.log_path(root, env))
    budget = manifest.dynamic_budget
    refused = [f for f in fabricated if f.refused]
    over = budget is not None and len(fabricated) > budget
    if over or refused:
        findings.append(
            results.Finding(
                "stubs-budget",
                f"{len(fabricated)} names were fabricated by the dynamic prefixes, over the budget of {budget} "
                f"(dynamic_budget in {manifest.display_name}); {len(refused)} were refused. "
                "Declare them under repositories.*.modules (see `ci-helper stubs report`)",
                manifest.display_name,
            )
        )
    for item in fabricated:
        findings.append(
            results.Finding(
                "stubs-fabricated",
                f"{item.name} ({item.kind}) was fabricated by the dynamic prefix {item.prefix}"
                + (" and refused by the budget" if item.refused else "")
                + f"; declare it in {manifest.display_name}",
                severity="error" if item.refused else "warning",
                data={"name": item.name, "kind": item.kind, "prefix": item.prefix, "refused": item.refused},
            )
        )
    fake = manifest.fake_inference
    figures = {
        "manifest": manifest.display_name,
        "root": root.as_posix(),
        "stamp": generator.stamp(manifest),
        "repositories": len(manifest.repositories),
        "modules": sum(1 for _ in manifest.modules()),
        "names": sum(len(m.names()) for m in manifest.modules()),
        "dynamic_prefixes": manifest.dynamic_prefixes(),
        "fabricated": len(fabricated),
        "dynamic_budget": budget,
        "drifted_files": drifted,
        "fake_inference": bool(fake and fake_module.env_enabled(env.get(fake.env))),
        "fake_inference_env": fake.env if fake else None,
    }
    failed = drifted > 0 or over or bool(refused)
    build = results.failed if failed else results.passed
    return build(CHECK, figures, findings), fabricated
