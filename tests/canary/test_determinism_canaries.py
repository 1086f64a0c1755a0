"""Issue 19's canary fixtures: each one is red for its own reason, with the exact finding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_helper.canary.cases import discover
from ci_helper.canary.run import run_case

EXPECTED = {
    # A test that opens a socket to a public address (no name to resolve: only the connect is seen).
    ("network", "public-socket"): (
        "network-attempt",
        "test_telemetry.py::test_sends_usage_telemetry connected to 198.51.100.7 (blocked)",
        "test_telemetry.py",
        12,
    ),
    # A test that resolves a public host name.
    ("network", "bad"): (
        "network-attempt",
        "test_fetch_weights.py::test_downloads_model_card resolved huggingface.co (blocked)",
        "test_fetch_weights.py",
        7,
    ),
    # A smoke server that fetches a URL at start-up (and carries on): the smoke tests pass, the server is named.
    ("network", "server-fetch"): ("network-attempt", "server resolved huggingface.co (blocked)", "server.py", 15),
    # A skip budget overrun.
    ("skips", "bad"): (
        "skips-over-budget",
        "3 tests skipped for \"torch\" (budget 0): could not import 'torch_is_not_installed_in_this_lane' (2), "
        "torch not installed (1)",
        "test_cpu_lane.py",
        12,
    ),
}


@pytest.mark.parametrize("key", sorted(EXPECTED), ids=["/".join(k) for k in sorted(EXPECTED)])
def test_each_determinism_canary_is_red_for_its_own_reason(key, tmp_path: Path) -> None:
    [case] = [c for c in discover() if (c.gate, c.fixture) == key]
    outcome = run_case(case, results_out=tmp_path)
    assert outcome.ok, outcome
    result = json.loads((tmp_path / f"{case.check}.json").read_text(encoding="utf-8"))
    assert result["status"] == "fail"
    assert [(f["rule"], f["message"], f["file"], f["line"]) for f in result["findings"]] == [EXPECTED[key]]


def test_a_declared_server_measurement_without_server_data_is_red(tmp_path: Path) -> None:
    [case] = [c for c in discover() if (c.gate, c.fixture) == ("coverage", "server-missing")]
    outcome = run_case(case, results_out=tmp_path)
    assert outcome.ok, outcome
    result = json.loads((tmp_path / "coverage.json").read_text(encoding="utf-8"))
    assert result["status"] == "fail"
    [missing] = [f for f in result["findings"] if f["rule"] == "coverage-server-missing"]
    assert missing["message"].startswith(
        "measure = tests+server, but no coverage data came from the server process (none of the 1 data file "
        'records the context "server" or is named .coverage.server*)'
    )
