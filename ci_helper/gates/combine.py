"""`ci-helper combine`: every shard's work into one honest verdict (the aggregate job).

A matrix of shards can go wrong in ways that each shard's own result cannot show: a
shard that never ran (skipped, cancelled, its artifact missing), a test that ran in no
shard or in two, shards that collected different suites. This gate reads the
artifacts of all shards and the jobs' conclusions (``toJSON(needs)``) and is red for
each of those, naming the shard or the test.

An artifact folder holds one shard: its ``shard.json`` result (anywhere below it) and
the JUnit files it wrote. A folder whose tree holds several shard results is a folder
of artifacts: each immediate subfolder is one shard.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_helper import junit, results, schemas
from ci_helper.errors import BadInput
from ci_helper.gates import shard as shard_gate

CHECK = "combine"
# Findings name at most this many tests per kind; the figures count them all.
MAX_NAMED = 50
_JOB_RESULTS = ("success", "failure", "cancelled", "skipped")


@dataclass
class ShardArtifact:
    folder: Path
    result: results.CheckResult
    junit_files: list[Path] = field(default_factory=list)

    @property
    def index(self) -> int | None:
        value = self.result.figures.get("index")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def label(self) -> str:
        return f"shard {self.index}" if self.index is not None else str(self.folder)


def _is_junit(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return b"<testsuite" in head


def _shard_results(folder: Path) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("shard.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BadInput(
                f"{path}: corrupt shard result; the shard's artifact is damaged, re-run that shard"
            ) from None
        if isinstance(raw, dict) and raw.get("check") == shard_gate.CHECK:
            found.append(path)
    return found


def discover(folders: list[str]) -> list[ShardArtifact]:
    """One ShardArtifact per shard found under the given folders."""
    artifacts: list[ShardArtifact] = []
    for name in folders:
        folder = Path(name)
        if not folder.is_dir():
            raise BadInput(f"{folder}: artifact folder not found; download the shards' artifacts first")
        roots = [folder]
        if len(_shard_results(folder)) > 1:
            roots = sorted(p for p in folder.iterdir() if p.is_dir())
        for root in roots:
            paths = _shard_results(root)
            if len(paths) > 1:
                raise BadInput(f"{root}: holds {len(paths)} shard results; give each shard its own artifact folder")
            if not paths:
                continue  # a folder without a shard result: counted below as a missing shard
            junit_files = [p for p in sorted(root.rglob("*.xml")) if _is_junit(p)]
            shard_result = results.read_result(paths[0])
            schemas.validate(shard_result, str(paths[0]))  # typed figures only, as the summary reads them
            artifacts.append(ShardArtifact(root, shard_result, junit_files))
    return artifacts


def parse_needs(raw: str) -> dict[str, str]:
    """``job -> result`` from ``${{ toJSON(needs) }}``."""
    try:
        needs = json.loads(raw)
    except ValueError:
        raise BadInput("--needs: not JSON; pass ${{ toJSON(needs) }} through env:") from None
    if not isinstance(needs, dict):
        raise BadInput("--needs: expected an object of jobs (${{ toJSON(needs) }})")
    out = {}
    for job, value in needs.items():
        result = value.get("result") if isinstance(value, dict) else None
        if result not in _JOB_RESULTS:
            raise BadInput(f"--needs: job {job!r} has no result among {', '.join(_JOB_RESULTS)}")
        out[str(job)] = result
    return out


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def evaluate(
    artifacts: list[ShardArtifact],
    needs: dict[str, str] | None = None,
    expected_total: int | None = None,
    required: bool = True,
) -> results.CheckResult:
    """The ``combine`` result: the shard ledger and the jobs' conclusions."""
    findings: list[results.Finding] = []
    for job, result in sorted((needs or {}).items()):
        if result != "success":
            findings.append(
                results.Finding(
                    "combine-job",
                    f"job {job} {result if result != 'failure' else 'failed'}: "
                    "a required job that did not succeed cannot pass as green",
                )
            )
    totals: set[int] = {t for a in artifacts if isinstance(t := a.result.figures.get("total"), int)}
    if expected_total is not None:
        totals.add(expected_total)
    if len(totals) > 1:
        findings.append(results.Finding("combine-shards", f"shards disagree on the shard count: {sorted(totals)}"))
    total = max(totals) if totals else 0

    seen: dict[int, ShardArtifact] = {}
    for artifact in artifacts:
        index = artifact.index
        if index is None:
            findings.append(results.Finding("combine-shards", f"{artifact.folder}: shard result without an index"))
            continue
        if index in seen:
            findings.append(
                results.Finding(
                    "combine-shards", f"shard {index} appears twice ({seen[index].folder} and {artifact.folder})"
                )
            )
            continue
        seen[index] = artifact
    missing_shards = [i for i in range(1, total + 1) if i not in seen]
    for index in missing_shards:
        findings.append(
            results.Finding(
                "combine-missing-shard",
                f"shard {index} of {total}: no result (skipped, cancelled or its artifact was not uploaded)",
            )
        )
    if not artifacts:
        findings.append(results.Finding("combine-missing-shard", "no shard result in any artifact folder"))

    for index, artifact in sorted(seen.items()):
        status = artifact.result.status
        if status != results.PASS:
            why = artifact.result.reason or "; ".join(f.message for f in artifact.result.findings[:1]) or status
            findings.append(results.Finding("combine-shard-failed", f"shard {index}: {status} - {why}"))
        if not artifact.junit_files and status == results.PASS:
            findings.append(
                results.Finding(
                    "combine-junit", f"shard {index}: no JUnit file in {artifact.folder}; upload the file pytest wrote"
                )
            )

    digests = {a.result.figures.get("collected_digest") for a in seen.values()}
    if len(digests) > 1:
        findings.append(
            results.Finding(
                "combine-collection",
                "shards collected different suites (collected_digest differs): "
                "the same commit and pytest arguments must run in every shard",
            )
        )

    # The ledger: every planned test ran in exactly one shard, judged from the JUnit files.
    planned: dict[str, int] = {}
    for index, artifact in seen.items():
        for node in artifact.result.figures.get("tests", []) or []:
            planned.setdefault(str(node), index)
    ran: Counter[tuple[str, str]] = Counter()
    where: dict[tuple[str, str], list[int]] = {}
    for index, artifact in sorted(seen.items()):
        for path in artifact.junit_files:
            for key, count in junit.case_counts(path).items():
                ran[key] += count
                where.setdefault(key, []).extend([index] * count)
    never = [n for n in planned if ran[shard_gate.junit_key(n)] == 0 and seen[planned[n]].result.status == results.PASS]
    twice = [n for n in planned if ran[shard_gate.junit_key(n)] > 1]
    planned_keys = {shard_gate.junit_key(n) for n in planned}
    unplanned = sorted(f"{c}::{n}" if c else n for (c, n) in ran if (c, n) not in planned_keys)
    if never:
        findings.append(
            results.Finding("combine-not-run", f"{len(never)} collected tests ran in no shard: {_named(never)}")
        )
    if twice:
        details = [f"{n} (shards {', '.join(map(str, sorted(where[shard_gate.junit_key(n)])))})" for n in twice]
        findings.append(
            results.Finding("combine-duplicate", f"{len(twice)} tests ran more than once: {_named(details)}")
        )
    if unplanned and seen:
        findings.append(
            results.Finding(
                "combine-unplanned",
                f"{len(unplanned)} tests in the JUnit files were in no shard's plan: {_named(unplanned)}",
            )
        )

    collected = max((a.result.figures.get("collected", 0) for a in seen.values()), default=0)
    figures: dict[str, Any] = {
        "shards_expected": total,
        "shards_found": len(seen),
        "collected": collected if isinstance(collected, int) else 0,
        "planned": len(planned),
        "ran": sum(1 for n in planned if ran[shard_gate.junit_key(n)] >= 1),
        "not_run": len(never),
        "duplicated": len(twice),
        "jobs_not_successful": sum(1 for r in (needs or {}).values() if r != "success"),
    }
    if figures["planned"] != figures["collected"] and seen and not missing_shards:
        findings.append(
            results.Finding(
                "combine-not-run", f"the shards planned {figures['planned']} of {figures['collected']} collected tests"
            )
        )
    if findings:
        return results.failed(CHECK, figures, findings, required=required)
    if figures["ran"] == 0:
        return results.failed(
            CHECK, figures, [results.Finding("combine-not-run", "no test ran in any shard")], required=required
        )
    return results.passed(CHECK, figures, required=required)
