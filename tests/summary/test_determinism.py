"""The summary's Determinism section, from what the real network, skips and stubs gates write.

Each project is a real pytest run under the offline hook (``ci-helper network run``), then the
real ``network gate`` and ``skips`` commands; the stubs result is the real gate's canary output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ci_helper.summary import model, render

from .conftest import real_result

CLI = [sys.executable, "-m", "ci_helper"]

OFFLINE_SUITE = """
    import pytest

    def test_tokenizer():
        assert "a b".split() == ["a", "b"]

    @pytest.mark.skipif(True, reason="needs CUDA")
    def test_half_precision():
        pass
"""

REACHING_SUITE = """
    import urllib.request

    import pytest

    def test_model_card():
        urllib.request.urlopen("https://huggingface.co", timeout=60)

    def test_txt2img():
        pytest.importorskip("torch_not_installed_here")

    @pytest.mark.skip(reason="torch not installed")
    def test_upscale():
        pass
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    for name in ("RUNNER_TEMP", "GITHUB_ACTIONS", "CI_HELPER_SKIPS_JUNIT", "CI_HELPER_RESULTS_DIR", "CI"):
        env.pop(name, None)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False)


def _tier(folder: Path, suite: str, budgets: str, *, network_gate: bool = True) -> Path:
    """Run ``suite`` as a tier (offline hook, JUnit), then the network and skips gates; the results folder."""
    folder.mkdir()
    (folder / "test_suite.py").write_text(textwrap.dedent(suite), encoding="utf-8")
    (folder / "pyproject.toml").write_text(textwrap.dedent(budgets), encoding="utf-8")
    log, junit = folder / "net.jsonl", folder / "junit.xml"
    _run(
        [*CLI, "network", "run", "--log", str(log), "--"]
        + [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        folder,
    )
    assert junit.is_file()
    results = folder / "results"
    if network_gate:
        _run([*CLI, "network", "gate", "--log", str(log), "--results-dir", str(results)], folder)
        assert (results / "network.json").is_file()
    _run([*CLI, "skips", "--junit", str(junit), "--results-dir", str(results)], folder)
    assert (results / "skips.json").is_file()
    return results


def _section(text: str, heading: str = "### Determinism") -> list[str]:
    """The lines of the Determinism section, from its heading to the next section's."""
    lines = text.split("\n")
    start = lines.index(heading)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("### "))
    return lines[start:end]


@pytest.fixture(scope="module")
def tiers(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("determinism")
    return {
        "offline": _tier(root / "offline", OFFLINE_SUITE, '[tool.ci-helper.skips]\n"needs CUDA" = 1\ntotal = 1\n'),
        "reaching": _tier(root / "reaching", REACHING_SUITE, '[tool.ci-helper.skips]\n"torch" = 0\n'),
        "no-network-gate": _tier(root / "no-network-gate", OFFLINE_SUITE, "", network_gate=False),
    }


def test_all_zero_offline_tier_is_green_with_its_figures(tiers, gate_results):
    results = tiers["offline"]
    real_result(gate_results, "stubs/good", results)
    run = model.load(results, [])
    assert run.green, run.blockers()
    assert _section(render.render_markdown(run).text) == [
        "### Determinism",
        "",
        "| Proof | Value | Expected | Check |",
        "| --- | --- | --- | --- |",
        "| Network attempts | 0 | 0 | ✅ network: pass |",
        "| Clones | 0 | 0 | ✅ network: pass |",
        "| Downloads | 0 | 0 | ✅ network: pass |",
        "| Fake inference | off | — | ✅ stubs: pass |",
        "| Skipped tests | 1 of 2 | at most 1 | ✅ skips: pass |",
        "",
        "#### Skip budgets",
        "",
        "| Budget | Skipped | At most | Verdict |",
        "| --- | --- | --- | --- |",
        '| "needs CUDA" | 1 | 1 | within |',
        "| total | 1 | 1 | within |",
        "",
        "#### Skips by reason",
        "",
        "| Reason | Skipped |",
        "| --- | --- |",
        "| needs CUDA | 1 |",
        "",
    ]


def test_an_attempt_is_listed_with_its_test_node_id_and_a_budget_overrun_is_named(tiers, gate_results):
    results = tiers["reaching"]
    real_result(gate_results, "stubs/good", results)
    run = model.load(results, [])
    assert run.blockers() == ["network failed", "skips failed"]
    text = render.render_markdown(run).text
    assert _section(text) == [
        "### Determinism",
        "",
        "| Proof | Value | Expected | Check |",
        "| --- | --- | --- | --- |",
        "| Network attempts | 1 | 0 | ❌ network: fail |",
        "| Clones | 0 | 0 | ❌ network: fail |",
        "| Downloads | 0 | 0 | ❌ network: fail |",
        "| Fake inference | off | — | ✅ stubs: pass |",
        "| Skipped tests | 2 of 3 | — | ❌ skips: fail |",
        "",
        "#### Attempts outside the allow-list",
        "",
        "| Test (or process) | Kind | Target | Times |",
        "| --- | --- | --- | --- |",
        "| test\\_suite.py::test\\_model\\_card | network | huggingface.co | 1 |",
        "",
        "#### Skip budgets",
        "",
        "| Budget | Skipped | At most | Verdict |",
        "| --- | --- | --- | --- |",
        '| "torch" | 2 | 0 | over |',
        "",
        "#### Skips by reason",
        "",
        "| Reason | Skipped |",
        "| --- | --- |",
        "| could not import 'torch\\_not\\_installed\\_here' | 1 |",
        "| torch not installed | 1 |",
        "",
    ]
    lines = render.render_text(run).split("\n")
    start = lines.index("Determinism:")
    assert lines[start : start + 16] == [
        "Determinism:",
        "  Network attempts: 1 (expected 0) [network: fail]",
        "  Clones: 0 (expected 0) [network: fail]",
        "  Downloads: 0 (expected 0) [network: fail]",
        "  Fake inference: off [stubs: pass]",
        "  Skipped tests: 2 of 3 [skips: fail]",
        "  Attempts outside the allow-list:",
        "    test_suite.py::test_model_card | network | huggingface.co | 1",
        "  Skip budgets:",
        '    "torch" | 2 | 0 | over',
        "  Skips by reason:",
        "    could not import 'torch_not_installed_here' | 1",
        "    torch not installed | 1",
        "",
        "== network: fail ==",
        "  [error] test_suite.py:7: network-attempt: test_suite.py::test_model_card resolved huggingface.co (blocked)",
    ]


def test_a_missing_network_result_shows_not_run_never_zero(tiers, gate_results):
    results = tiers["no-network-gate"]
    real_result(gate_results, "stubs/good", results)
    run = model.load(results, [])
    assert _section(render.render_markdown(run).text)[4:12] == [
        "| Network attempts | not run | 0 | ⚠️ network: not run |",
        "| Clones | not run | 0 | ⚠️ network: not run |",
        "| Downloads | not run | 0 | ⚠️ network: not run |",
        "| Fake inference | off | — | ✅ stubs: pass |",
        "| Skipped tests | 1 of 2 | — | ✅ skips: pass |",
        "",
        "> ⚠️ network: not run: no network result was written",
        "",
    ]


def test_a_network_gate_that_found_no_log_shows_not_run(tmp_path):
    results = tmp_path / "results"
    gate = _run([*CLI, "network", "gate", "--log", "absent.jsonl", "--results-dir", str(results)], tmp_path)
    assert gate.returncode == 1
    run = model.load(results, [])
    lines = _section(render.render_markdown(run).text + "### end")
    assert lines[4:6] == [
        "| Network attempts | not run | 0 | ⚠️ network: not run |",
        "| Clones | not run | 0 | ⚠️ network: not run |",
    ]
    assert "> ⚠️ network: no network log at absent.jsonl: the offline plugin did not run" in lines


def test_a_run_without_tiers_or_determinism_checks_has_no_section(gate_results, tmp_path):
    real_result(gate_results, "deps/good", tmp_path / "results")
    run = model.load(tmp_path / "results", [])
    assert "Determinism" not in render.render_markdown(run).text
    assert "Determinism" not in render.render_text(run)
