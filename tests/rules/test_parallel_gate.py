"""parallel-gate: background gate steps stopped by cancel: or never waited for."""

from tests.rules.conftest import GUARDED, bad_fixture_findings

ONLY = {"parallel-gate"}
BG = "      - id: t\n        run: pytest\n        background: true\n      - run: echo build\n"


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("parallel-gate") == [
        (
            ".github/workflows/x.yml",
            19,
            17,
            "error",
            "gate step 'python -m pytest -q' runs in the background and is stopped by cancel: tests before anything "
            "waits for it: a cancelled background step does not fail the job; wait: for it instead".replace(
                "'python -m pytest -q'", "'Tests'"
            ),
        )
    ]


def test_never_waited_is_a_note(findings):
    got = findings({".github/workflows/ci.yml": GUARDED + BG}, ONLY)
    assert [(line, sev) for _, line, _, sev, _ in got] == [(8, "note")]


def test_waited_before_cancel_is_clean(findings):
    for tail in ("      - wait: t\n      - cancel: t\n", "      - wait-all:\n", "      - wait: [x, t]\n"):
        assert findings({".github/workflows/ci.yml": GUARDED + BG + tail}, ONLY) == []


def test_a_background_step_that_is_no_gate_is_clean(findings):
    step = "      - id: s\n        run: python -m http.server\n        background: true\n      - cancel: s\n"
    assert findings({".github/workflows/ci.yml": GUARDED + step}, ONLY) == []
