"""The release users pin: version 0.1.0 is defined, and every SHA of ours the repository pins holds its action."""

from __future__ import annotations

import re
import subprocess

import pytest

import ci_helper
from ci_helper import release
from ci_helper.workflows.uses import parse_uses
from tests.conftest import REPO_ROOT

# `uses: <owner>/<name>[/path]@<40 hex>` anywhere: workflows, actions, Markdown snippets.
USES = re.compile(r"""\buses:\s*["']?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^\s@"']*)?@[0-9a-f]{40})\b""")


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True)


def our_pins() -> list[tuple[str, int, str]]:
    """(file, line, uses) for every pinned reference of ours outside the test fixtures."""
    files = [
        REPO_ROOT / "README.md",
        REPO_ROOT / "CHANGELOG.md",
        REPO_ROOT / "action.yml",
        *sorted((REPO_ROOT / "docs").glob("*.md")),
        *sorted((REPO_ROOT / "actions").glob("*/action.yml")),
        *sorted((REPO_ROOT / "workflows").glob("*.y*ml")),
        *sorted((REPO_ROOT / ".github").rglob("*.y*ml")),
        *sorted(p for p in (REPO_ROOT / "examples").rglob("*") if p.suffix in (".yml", ".yaml", ".md")),
        *sorted((REPO_ROOT / "ci_helper" / "init" / "templates").glob("*")),
    ]
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for value in USES.findall(line):
                if release.is_ours(parse_uses(value)):
                    found.append((str(path.relative_to(REPO_ROOT)), number, value))
    return found


def test_every_pinned_reference_of_ours_holds_its_action():
    if _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        pytest.fail(
            "this clone is shallow: fetch the whole history (actions/checkout with fetch-depth: 0) so the "
            "pinned SHAs can be checked"
        )
    pins = our_pins()
    # The examples, the templates, README and docs/actions.md pin our actions.
    assert {f for f, _, _ in pins} >= {
        "README.md",
        "docs/actions.md",
        "workflows/pr-summary.yml",
        "examples/diffusion-api/.github/workflows/quality.yml",
        "examples/diffusion-api/.github/workflows/smoke.yml",
    }
    wrong = []
    for rel, line, value in pins:
        uses = parse_uses(value)
        if uses.ref == release.PLACEHOLDER_SHA:
            continue
        holding = release.holdings(REPO_ROOT, [(uses.ref, release.target_paths(uses))])[
            (uses.ref, release.target_paths(uses))
        ]
        if not holding.known:
            wrong.append(f"{rel}:{line}: {value}: commit not in git log")
        elif not holding.holds:
            wrong.append(f"{rel}:{line}: {value}: the commit has no {release.target_paths(uses)[0]}")
        elif not release.is_ancestor(REPO_ROOT, uses.ref):
            wrong.append(f"{rel}:{line}: {value}: not an ancestor of HEAD (pin a commit already on main)")
    assert wrong == []


def test_version_0_1_0_is_defined_in_one_place_and_the_changelog():
    assert ci_helper.__version__ == "0.1.0"
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## (\S+)", changelog, re.M)
    assert first is not None and first.group(1) == ci_helper.__version__
    assert 'version = { attr = "ci_helper.__version__" }' in (REPO_ROOT / "pyproject.toml").read_text()


def test_the_tree_holds_what_the_release_tag_must_contain():
    missing = [rel for rel in release.RELEASE_FILES if not (REPO_ROOT / rel).is_file()]
    assert missing == []
    text = (REPO_ROOT / "docs" / "release.md").read_text(encoding="utf-8")
    for rel in ("action.yml", ".github/workflows/smoke.yml", ".github/workflows/quality.yml", "CHANGELOG.md"):
        assert f"`{rel}`" in text, rel


def test_holdings_tell_a_commit_without_actions_from_an_unknown_one():
    no_actions = "94cde3876a2334712175e64dca05ba4cecd11503"  # on main before actions/ existed
    unknown = "1234567890" * 4
    quality = parse_uses(f"truthful-ci/ci-helper/actions/quality@{no_actions}")
    pins = [(no_actions, release.target_paths(quality)), (unknown, release.target_paths(quality))]
    assert release.holdings(REPO_ROOT, pins) == {
        pins[0]: release.Holding(known=True, holds=False),
        pins[1]: release.Holding(known=False, holds=False),
    }
