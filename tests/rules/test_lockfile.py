"""lockfile: actions.lock pins tags; disagreements with the workflows are findings."""

from tests.rules.conftest import GUARDED, SHA, bad_fixture_findings

OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def lock(*uses: str, commit: str = SHA) -> str:
    listed = "".join(f"    - '{u}'\n" for u in uses)
    deps = "".join(f"  '{u}':\n    ref: 'v4'\n    commit: 'sha1-{commit}'\n" for u in uses)
    return f"version: 'v0.0.2'\nworkflows:\n  '.github/workflows/ci.yml':\n{listed}dependencies:\n{deps}"


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("lockfile") == [
        (
            ".github/workflows/x.yml",
            13,
            15,
            "error",
            "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065 is not in actions.lock, which locks this "
            "workflow: GitHub refuses to start it; run 'gh actions-lock'",
        )
    ]


def test_a_locked_tag_is_pinned(findings):
    files = {".github/workflows/ci.yml": GUARDED + "      - uses: actions/checkout@v4\n"}
    assert [r for r, *_ in findings(files)] == ["unpinned-uses"]
    files[".github/workflows/actions.lock"] = lock("actions/checkout@v4")
    assert findings(files) == []


def test_a_sha_locked_to_another_commit(findings):
    files = {
        ".github/workflows/ci.yml": GUARDED + f"      - uses: actions/checkout@{SHA}\n",
        ".github/workflows/actions.lock": lock(f"actions/checkout@{SHA}", commit=OTHER),
    }
    got = findings(files, {"lockfile"})
    assert [m for *_, m in got] == [
        f"actions/checkout@{SHA} is pinned to {SHA} but actions.lock runs it at {OTHER}; "
        "run 'gh actions-lock' after reviewing the change"
    ]


def test_stale_entries_are_warnings(findings):
    files = {".github/workflows/ci.yml": GUARDED, ".github/workflows/actions.lock": lock("actions/checkout@v4")}
    got = findings(files, {"lockfile"})
    assert [(f, line, sev) for _, line, _, sev, f in [(g[0], g[1], g[2], g[3], g[4][:20]) for g in got]] == [
        ("actions.lock locks a", 3, "warning")
    ]
