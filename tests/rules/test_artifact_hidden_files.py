"""artifact-hidden-files: upload-artifact v4.4+ drops dot-files unless told otherwise."""

import pytest

from tests.rules.conftest import GUARDED, SHA, bad_fixture_findings

ONLY = {"artifact-hidden-files"}


def wf(uses: str, path: str, extra: str = "") -> dict[str, str]:
    return {
        ".github/workflows/ci.yml": GUARDED + f"      - uses: {uses}\n        with:\n          path: {path}\n{extra}"
    }


def test_the_bad_canary_fixture_gets_exactly_one_finding():
    assert bad_fixture_findings("artifact-hidden-files") == [
        (
            ".github/workflows/x.yml",
            18,
            17,
            "error",
            "upload-artifact v4.4+ leaves out hidden files, so '.coverage' is not uploaded; add 'include-hidden-files: true'",
        )
    ]


@pytest.mark.parametrize(
    "uses",
    [
        "actions/upload-artifact@v4",
        "actions/upload-artifact@v4.4.0",
        "actions/upload-artifact@v5",
        f"actions/upload-artifact@{SHA} # v4.6.2",
        f"actions/upload-artifact@{SHA}",
    ],
)
def test_versions_that_drop_hidden_files(findings, uses):
    assert len(findings(wf(uses, ".coverage.*"), ONLY)) == 1


@pytest.mark.parametrize(
    "uses, path, extra",
    [
        ("actions/upload-artifact@v4.3.6", ".coverage", ""),
        (f"actions/upload-artifact@{SHA} # v3.1.3", ".coverage", ""),
        ("actions/upload-artifact@v4", "dist/", ""),
        ("actions/upload-artifact@v4", "./reports/", ""),
        ("actions/upload-artifact@v4", ".coverage", "          include-hidden-files: true\n"),
        ("actions/download-artifact@v4", ".coverage", ""),
    ],
)
def test_clean(findings, uses, path, extra):
    assert findings(wf(uses, path, extra), ONLY) == []
