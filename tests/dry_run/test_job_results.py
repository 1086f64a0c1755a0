"""The worst result of each check across a dry run's jobs stands (they share one results folder)."""

from __future__ import annotations

import json
import os
import time

from ci_helper.dry_run import job_results


def result(check: str, status: str) -> bytes:
    return json.dumps({"check": check, "status": status}).encode()


def test_a_later_pass_never_replaces_an_earlier_fail_and_a_later_fail_stands(tmp_path):
    began = time.time() - 10
    (tmp_path / "network.json").write_bytes(result("network", "fail"))
    quality = job_results.snapshot(tmp_path, began)
    os.utime(tmp_path / "network.json", (began - 100, began - 100))  # not the smoke job's own write
    smoke_began = time.time()
    (tmp_path / "network.json").write_bytes(result("network", "pass"))
    (tmp_path / "smoke.json").write_bytes(result("smoke", "fail"))
    smoke = job_results.snapshot(tmp_path, smoke_began)
    assert sorted(smoke) == ["network.json", "smoke.json"]
    lines = job_results.keep_the_worst(tmp_path, [("quality", quality), ("smoke", smoke)])
    assert lines == ["results: network.json is job quality's (fail); a later job's result would have replaced it"]
    assert json.loads((tmp_path / "network.json").read_bytes()) == {"check": "network", "status": "fail"}
    assert json.loads((tmp_path / "smoke.json").read_bytes()) == {"check": "smoke", "status": "fail"}


def test_not_run_outranks_pass_and_equal_results_keep_the_last(tmp_path):
    (tmp_path / "audit.json").write_bytes(result("audit", "pass"))
    lines = job_results.keep_the_worst(
        tmp_path,
        [("a", {"audit.json": result("audit", "not-run")}), ("b", {"audit.json": result("audit", "pass")})],
    )
    assert lines == ["results: audit.json is job a's (not-run); a later job's result would have replaced it"]
    (tmp_path / "guardrails.json").write_bytes(result("guardrails", "pass"))
    assert job_results.keep_the_worst(tmp_path, [("a", {"guardrails.json": result("guardrails", "pass")})]) == []


def test_a_later_corrupt_result_is_never_replaced_by_an_earlier_pass(tmp_path):
    # The summary refuses a corrupt file (never green); restoring the earlier pass would hide the crash.
    (tmp_path / "network.json").write_bytes(b"{not json")
    written = [("quality", {"network.json": result("network", "pass")}), ("smoke", {"network.json": b"{not json"})]
    assert job_results.keep_the_worst(tmp_path, written) == []
    assert (tmp_path / "network.json").read_bytes() == b"{not json"
    # An earlier job's corrupt file outranks a later pass too, and its line says what it is.
    (tmp_path / "network.json").write_bytes(result("network", "pass"))
    lines = job_results.keep_the_worst(tmp_path, [("quality", {"network.json": b"[]"})])
    assert lines == [
        "results: network.json is job quality's (not a check result); a later job's result would have replaced it"
    ]
