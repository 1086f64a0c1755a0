"""Rendering: exact lines from realistic results, hostile text, and the size budgets."""

import re

from hypothesis import given, settings, strategies as st

from ci_helper import junit
from ci_helper.summary import model, render
from ci_helper.summary.escape import ZWJ

from .conftest import HOSTILE_NAME, TEN_KB, real_result, write_junit, write_result


def load(folder, *tiers):
    return model.load(folder / "results", [str(folder / "junit" / t) for t in tiers])


def outside_code(markdown: str) -> str:
    """The markdown with fenced code blocks removed (GitHub neither links nor mentions inside them)."""
    return re.sub(r"^(`{3,})text\n.*?^\1$", "", markdown, flags=re.S | re.M)


def test_all_green(good):
    text = render.render_markdown(load(good, "smoke.xml", "quality.xml")).text
    assert text.split("\n")[:16] == [
        "## ✅ Green: ci-helper run summary",
        "",
        "Every required check passed (8 required, 30 tests).",
        "",
        "| Status | Check | Required | Key figure | Why |",
        "| --- | --- | --- | --- | --- |",
        "| ✅ pass | tests: smoke | required | 6 tests, 6 passed |  |",
        "| ✅ pass | tests: quality | required | 24 tests, 23 passed, 1 skipped |  |",
        "| ✅ pass | audit | required | 0 vulnerable of 41, 1 ignored |  |",
        "| ✅ pass | coverage | required | total 84.31% (floor 80%), changed lines 100.00% (floor 90%) |  |",
        "| ✅ pass | deps | required | 0 of 41 requirements mismatched |  |",
        "| ✅ pass | guardrails | required | truthful-ci/diffusion-api · pull\\_request · into main |  |",
        "| ✅ pass | smoke | required | 6/6 passed, ready in 1.42 s |  |",
        "| ✅ pass | stubs | required | fake inference on, 7 modules, 3 repositories |  |",
        "",
        "### Determinism",
    ]
    # The fixtures predate the network and skips gates: their proofs show "not run", never 0.
    assert text.split("\n")[16:29] == [
        "",
        "| Proof | Value | Expected | Check |",
        "| --- | --- | --- | --- |",
        "| Network attempts | not run | 0 | ⚠️ network: not run |",
        "| Clones | not run | 0 | ⚠️ network: not run |",
        "| Downloads | not run | 0 | ⚠️ network: not run |",
        "| Fake inference | on | — | ✅ stubs: pass |",
        "| Skipped tests | not run | — | ⚠️ skips: not run |",
        "",
        "> ⚠️ network: not run: no network result was written",
        "",
        "> ⚠️ skips: not run: no skips result was written",
        "",
    ]
    assert text.split("\n")[29] == "### ✅ tests: smoke: pass"
    # The audit shows its ignore with the reason and the expiry; stubs say fake inference was on.
    assert (
        "| ignored | torch | 2.1.2 | PYSEC-2024-48 | 2.2.0 | no fixed release supports CUDA 11.8 yet | 2026-12-31 |"
        in text.split("\n")
    )
    assert "> Fake inference was on: green inference tests did not exercise the real model pipeline." in text.split(
        "\n"
    )


def test_red_gates_failed_tests_and_not_run(bad):
    lines = render.render_markdown(load(bad, "smoke.xml", "quality.xml")).text.split("\n")
    assert lines[:20] == [
        "## ❌ Red: ci-helper run summary",
        "",
        "Not green because:",
        "",
        "- tests: smoke: 1 failed",
        "- audit did not run",
        "- coverage failed",
        "- smoke failed",
        "",
        "| Status | Check | Required | Key figure | Why |",
        "| --- | --- | --- | --- | --- |",
        "| ❌ fail | tests: smoke | required | 6 tests, 5 passed, 1 failed | 1 failed |",
        "| ❌ fail | coverage | required | total 38.20% (floor 40%), changed lines 50.00% (floor 90%) | total coverage 38.20% is under the floor 40% (+5 more) |",
        "| ❌ fail | smoke | required | 5/6 passed, 1 failed, ready in 1.38 s | tests/smoke/test\\_api.py::test\\_txt2img\\_returns\\_png failed: AssertionError: assert 500 == 200 (+1 more) |",
        "| ⚠️ not run | audit | required |  | vulnerability service unreachable: https://api.osv.dev/v1/querybatch (connection refused) |",
        "| ✅ pass | tests: quality | required | 24 tests, 23 passed, 1 skipped |  |",
        "| ✅ pass | deps | required | 0 of 41 requirements mismatched |  |",
        "| ✅ pass | guardrails | required | truthful-ci/diffusion-api · pull\\_request · into main |  |",
        "| ✅ pass | stubs | required | fake inference on, 7 modules, 3 repositories |  |",
        "",
    ]
    # The failed test comes first in its section, with its message.
    i = lines.index("### ❌ tests: smoke: fail")
    first = next(n for n in range(i, len(lines)) if lines[n].startswith("<details>"))
    assert lines[first] == (
        "<details><summary>❌ failed: tests/smoke/test_api.py::test_txt2img_returns_png: AssertionError: "
        "assert 500 == 200 + where 500 = &lt;Response [500]&gt;.status_code</summary>"
    )
    assert lines[first + 2 : first + 4] == ["```text", "def test_txt2img_returns_png(client):"]
    # Coverage: worst files, then uncovered changed lines as ranges.
    i = lines.index("#### Files under the floor")
    assert lines[i + 2 : i + 6] == [
        "| File | Coverage |",
        "| --- | --- |",
        "| modules/api.py | 12.50% |",
        "| modules/txt2img.py | 25.00% |",
    ]
    i = lines.index("#### Uncovered changed lines")
    assert lines[i + 2 : i + 5] == ["| File | Lines |", "| --- | --- |", "| modules/api.py | 88-91, 120 |"]
    # The not-run check says why.
    i = lines.index("### ⚠️ audit: not run")
    assert (
        lines[i + 2]
        == "> Not run: vulnerability service unreachable: https://api.osv.dev/v1/querybatch (connection refused)"
    )


def test_zero_tests_renders_red(gate_results, tmp_path):
    junit_file = write_junit(tmp_path / "junit-smoke.xml", [])
    real_result(gate_results, "smoke/good", tmp_path / "results", tests=0, passed=0, ready_seconds=1.5)
    lines = render.render_markdown(model.load(tmp_path / "results", [str(junit_file)])).text.split("\n")
    assert lines[:8] == [
        "## ❌ Red: ci-helper run summary",
        "",
        "Not green because:",
        "",
        "- tests: smoke: no tests ran",
        "- smoke passed with 0 tests",
        "",
        "| Status | Check | Required | Key figure | Why |",
    ]
    assert "| ❌ fail | tests: smoke | required | 0 tests, 0 passed | no tests ran |" in lines
    assert "| ❌ fail | smoke | required | 0/0 passed, ready in 1.5 s | reported pass, but ran 0 tests |" in lines
    assert "> No tests ran: a tier that runs nothing is red, never green." in lines


def test_a_green_checks_figures_are_folded_away(gate_results, tmp_path):
    real_result(gate_results, "deps/good", tmp_path)
    lines = render.render_markdown(model.load(tmp_path, [])).text.split("\n")
    i = lines.index("### ✅ deps: pass")
    assert lines[i + 2 : i + 4] == ["<details><summary>Figures</summary>", ""]
    assert lines[i + 4 : i + 8] == ["| Figure | Value |", "| --- | --- |", "| Requirements | 5 |", "| Matched | 4 |"]


def test_canary_result_says_how_many_gates_bite(gate_results, tmp_path):
    real_result(gate_results, "canary/good", tmp_path)
    lines = render.render_markdown(model.load(tmp_path, [])).text.split("\n")
    assert "| ✅ pass | canary | required | gates proven to bite: 1/1 |  |" in lines


def hostile_run(tmp_path):
    junit_file = write_junit(
        tmp_path / "junit-quality.xml",
        [
            {"name": HOSTILE_NAME, "outcome": "failed", "message": TEN_KB, "details": TEN_KB},
            {"name": "test_ok"},
        ],
    )
    write_result(
        tmp_path / "results",
        "verify",
        "fail",
        {"files": 3, "findings": 1},
        [
            {
                "rule": "unpinned-uses",
                "file": ".github/workflows/a|b.yml",
                "line": 7,
                "message": "uses: evil/act@main | <img src=x> @octocat ![p](http://x/p.png) `code`",
            }
        ],
    )
    return model.load(tmp_path / "results", [str(junit_file)])


def test_hostile_text_is_escaped_in_every_place(tmp_path):
    run = hostile_run(tmp_path)
    text = render.render_markdown(run).text
    lines = text.split("\n")
    assert (
        "| ❌ fail | verify | required | 1 finding in 3 files | uses: evil/act@"
        + ZWJ
        + "main \\| &lt;img src=x&gt; @"
        + ZWJ
        + "octocat \\!\\[p\\](http://x/p.png) \\`code\\` |"
    ) in lines
    assert (
        "- ❌ unpinned-uses at .github/workflows/a\\|b.yml:7: uses: evil/act@"
        + ZWJ
        + "main \\| &lt;img src=x&gt; @"
        + ZWJ
        + "octocat \\!\\[p\\](http://x/p.png) \\`code\\`"
    ) in lines
    summary_line = next(line for line in lines if line.startswith("<details>"))
    assert summary_line.startswith(
        "<details><summary>❌ failed: tests/test_api.py::test_pipe|name `tick` &lt;img src=x&gt; @"
        + ZWJ
        + "octocat: E AssertionError: response was &lt;img src=x&gt; | @"
        + ZWJ
        + "octocat ``` "
    )
    # The 10 KB message: 300 characters in the summary line, JUnit's 4,096 kept, 4,000 in the block.
    # (runs of spaces collapse to one in a single line, hence 3,658 and not 3,796)
    assert summary_line.endswith("… (3,658 more characters)</summary>")
    block_start = lines.index(summary_line) + 2
    assert lines[block_start] == "````text"  # longer than the ``` inside
    assert lines[block_start + 1].endswith("… (96 more characters)") and len(lines[block_start + 1]) == 4000 + len(
        "… (96 more characters)"
    )
    assert lines[block_start + 2] == "````"
    prose = outside_code(text)
    assert "<img" not in prose and "@octocat" not in prose and "![" not in prose


def test_comment_has_the_marker_first_and_shorter_messages(tmp_path):
    body = render.render_comment(hostile_run(tmp_path), "api").text
    lines = body.split("\n")
    assert lines[:2] == ["<!-- ci-helper:summary:api -->", "## ❌ Red: ci-helper run summary"]
    block_start = next(i for i, line in enumerate(lines) if line.startswith("<details>")) + 2
    assert lines[block_start + 1].endswith("… (2,596 more characters)")


def test_100000_cases_fit_both_budgets_trimming_what_is_longest(gate_results, tmp_path):
    cases = [
        {"name": f"test_case_{i}"}
        if i % 50
        else {"name": f"test_case_{i}", "outcome": "failed", "message": "assert x", "details": TEN_KB}
        for i in range(100_000)
    ]
    big = write_junit(tmp_path / "junit-quality.xml", cases)
    small = write_junit(
        tmp_path / "junit-smoke.xml",
        [
            {"name": "test_health"},
            {
                "name": "test_txt2img",
                "outcome": "failed",
                "message": "assert 500 == 200",
                "details": "E assert 500 == 200",
            },
        ],
    )
    real_result(gate_results, "coverage/good", tmp_path / "results")
    run = model.load(tmp_path / "results", [str(big), str(small)])
    assert run.tiers[0].report.total == 100_000

    summary = render.render_markdown(run)
    assert len(summary.text.encode("utf-8")) < 1_048_576
    assert len(summary.text.encode("utf-8")) > 1_000_000  # used, not thrown away
    assert summary.trimmed == ["tests: quality (749 of 1,001 entries not shown)"]
    lines = summary.text.split("\n")
    assert lines[7] == (
        "> ✂️ Trimmed to fit the 1 MiB job summary limit, longest sections first: "
        "tests: quality (749 of 1,001 entries not shown)."
    )
    assert "_✂️ 749 of 1,001 entries not shown: trimmed to fit the 1 MiB job summary limit._" in lines
    # The short section is intact.
    assert lines.count("<details><summary>❌ failed: tests/test_api.py::test_txt2img: assert 500 == 200</summary>") == 1

    comment = render.render_comment(run)
    assert len(comment.text) <= 65_536
    assert comment.trimmed == ["tests: quality (963 of 1,001 entries not shown)"]
    assert comment.text.count("<details><summary>❌ failed") == 38 + 1


def test_budget_trims_the_longest_sections_first(tmp_path):
    def tier(name, failures):
        return write_junit(
            tmp_path / f"junit-{name}.xml",
            [
                {"name": f"test_{i}", "outcome": "failed", "message": "boom", "details": "x" * 500}
                for i in range(failures)
            ],
        )

    run = model.load(None, [str(tier("long", 40)), str(tier("medium", 12)), str(tier("short", 3))])
    full = render.render_markdown(run, budget=10**9).text
    rendered = render.render_markdown(run, budget=len(full.encode()) - 10_000)
    # About 580 bytes per failed test: only the longest section loses entries...
    assert rendered.trimmed == ["tests: long (18 of 40 entries not shown)"]
    rendered = render.render_markdown(run, budget=len(full.encode()) - 22_000)
    # ...until the cap reaches the next one: both are cut to the same size, the short one is intact.
    assert rendered.trimmed == ["tests: long (33 of 40 entries not shown)", "tests: medium (5 of 12 entries not shown)"]
    assert len(rendered.text.encode()) <= len(full.encode()) - 22_000


def test_a_budget_smaller_than_any_section_still_holds(tmp_path):
    run = hostile_run(tmp_path)
    rendered = render.render_markdown(run, budget=1_500)
    assert len(rendered.text.encode()) <= 1_500
    # The Determinism section is dropped whole first: its heading and table alone exceed the cap.
    assert rendered.trimmed == ["Determinism (whole section not shown)", "tests: quality (1 of 1 entries not shown)"]


def test_terminal_rendering(bad):
    text = render.render_text(load(bad, "smoke.xml", "quality.xml"))
    lines = text.split("\n")
    assert lines[:16] == [
        "ci-helper run summary: RED",
        "Not green because:",
        "  - tests: smoke: 1 failed",
        "  - audit did not run",
        "  - coverage failed",
        "  - smoke failed",
        "",
        "STATUS   CHECK           REQUIRED  KEY FIGURE                                                  WHY",
        "FAIL     tests: smoke    required  6 tests, 5 passed, 1 failed                                 1 failed",
        "FAIL     coverage        required  total 38.20% (floor 40%), changed lines 50.00% (floor 90%)  total coverage 38.20% is under the floor 40% (+5 more)",
        "FAIL     smoke           required  5/6 passed, 1 failed, ready in 1.38 s                       tests/smoke/test_api.py::test_txt2img_returns_png failed: AssertionError: assert 500 == 200 (+1 more)",
        "NOT RUN  audit           required                                                              vulnerability service unreachable: https://api.osv.dev/v1/querybatch (connection refused)",
        "PASS     tests: quality  required  24 tests, 23 passed, 1 skipped",
        "PASS     deps            required  0 of 41 requirements mismatched",
        "PASS     guardrails      required  truthful-ci/diffusion-api · pull_request · into main",
        "PASS     stubs           required  fake inference on, 7 modules, 3 repositories",
    ]
    # The fixtures predate the network and skips gates: their proofs show "not run", never 0.
    assert lines[16:25] == [
        "",
        "Determinism:",
        "  Network attempts: not run (expected 0) [network: not run]",
        "  Clones: not run (expected 0) [network: not run]",
        "  Downloads: not run (expected 0) [network: not run]",
        "  Fake inference: on [stubs: pass]",
        "  Skipped tests: not run [skips: not run]",
        "  ! network: not run: no network result was written",
        "  ! skips: not run: no skips result was written",
    ]
    assert lines[25:29] == [
        "",
        "== tests: smoke: fail ==",
        "  FAILED tests/smoke/test_api.py::test_txt2img_returns_png: AssertionError: assert 500 == 200 + where 500 = <Response [500]>.status_code",
        "      def test_txt2img_returns_png(client):",
    ]
    assert (
        "  ! Not run: vulnerability service unreachable: https://api.osv.dev/v1/querybatch (connection refused)"
        in lines
    )
    assert "    modules/api.py 88-91, 120" in lines


def test_terminal_text_cannot_drive_the_terminal(tmp_path):
    # pytest writes ESC into JUnit XML as the text "#x1B"; results JSON can hold the real thing.
    junit_file = write_junit(
        tmp_path / "t.xml",
        [{"name": "test_x", "outcome": "failed", "message": "#x1B[2Jcleared", "details": "#x1B[31mred#x1B[0m"}],
    )
    write_result(
        tmp_path / "results",
        "verify",
        "fail",
        findings=[{"rule": "r", "message": "\x1b]0;title\x07\x1b[2Jwiped", "file": None, "line": None}],
    )
    lines = render.render_text(model.load(tmp_path / "results", [str(junit_file)])).split("\n")
    assert "\x1b" not in "\n".join(lines)
    assert lines[lines.index("  FAILED tests/test_api.py::test_x: cleared") + 1] == "      red"
    assert "  [error] r: wiped" in lines


def test_junit_messages_beyond_what_the_parser_keeps_are_counted(tmp_path):
    cases = [{"name": f"test_{i}", "outcome": "failed", "message": "m"} for i in range(junit.MAX_KEPT_PROBLEMS + 5)]
    run = model.load(None, [str(write_junit(tmp_path / "q.xml", cases))])
    lines = render.render_markdown(run).text.split("\n")
    assert "#### Failed tests first, then errors, then flaky (1,005)" in lines
    assert "_5 more failed, errored or flaky tests are not listed (the report keeps the first 1,000)._" in lines


def _report(name, failures, size):
    report = junit.JUnitReport(path=f"{name}.xml", passed=3, failed=failures)
    report.problems = [
        junit.TestCase("tests.t", f"test_{i}", junit.FAILED, message="boom |", details="é" * size)
        for i in range(failures)
    ]
    return model.Tier(name, report)


@settings(max_examples=40, deadline=None)
@given(
    tiers=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 3000)), min_size=1, max_size=4),
    budget=st.integers(3_000, 60_000),
    unit=st.sampled_from(["bytes", "chars"]),
)
def test_any_run_fits_any_budget(tiers, budget, unit):
    run = model.Run(tiers=[_report(f"tier{i}", n, size) for i, (n, size) in enumerate(tiers)])
    measure = render.utf8_bytes if unit == "bytes" else render.characters
    rendered = render.render_markdown(run, budget=budget, measure=measure)
    assert measure(rendered.text) <= budget
    full = render.render_markdown(run, budget=10**9, measure=measure).text
    # Nothing trimmed when it fits; something named as trimmed whenever it did not.
    assert (rendered.text == full) == (rendered.trimmed == []) == (measure(full) <= budget)
    # The verdict line always survives.
    assert rendered.text.startswith(full.split("\n", 1)[0])


def test_a_run_that_fits_exactly_is_not_trimmed(tmp_path):
    run = model.Run(tiers=[_report("q", 5, 200)])
    full = render.render_markdown(run, budget=10**9).text
    assert render.render_markdown(run, budget=render.utf8_bytes(full)).trimmed == []
    assert render.render_markdown(run, budget=render.utf8_bytes(full) - 1).trimmed == [
        "tests: q (1 of 5 entries not shown)"
    ]


def test_our_own_text_stays_in_the_basic_multilingual_plane(bad):
    # One astral character makes CPython store a whole section at 4 bytes per character.
    text = render.render_markdown(load(bad, "smoke.xml", "quality.xml")).text
    icons = "".join([*render.STATUS_ICONS.values(), *render.OUTCOME_ICONS.values(), *render.SEVERITY_ICONS.values()])
    assert max(map(ord, text + icons)) <= 0xFFFF
