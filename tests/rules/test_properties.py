"""Property tests: the rules agree with a plain statement of their contract on generated inputs."""

from __future__ import annotations

import re

from hypothesis import given, settings as hsettings, strategies as st

from ci_helper.rules.muted_gate import swallowed
from ci_helper.workflows.shell import resolve_shell
from ci_helper.workflows.uses import parse_uses

_ref = st.one_of(
    st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=42),
    st.text(alphabet="0123456789abcdef", min_size=40, max_size=40),
    st.from_regex(r"v[0-9](\.[0-9]){0,2}", fullmatch=True),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-./_${} ", max_size=50),
)


@hsettings(max_examples=200, deadline=None)
@given(ref=_ref, path=st.sampled_from(["", "/sub", "/.github/workflows/x.yml"]))
def test_a_remote_ref_is_pinned_exactly_when_it_is_40_lowercase_hex(ref, path):
    raw = f"owner/repo{path}@{ref}"
    written_ref = raw.strip().partition("@")[2]
    assert parse_uses(raw).pinned == (re.fullmatch(r"[0-9a-f]{40}", written_ref) is not None)


SAFE = ["echo start", "cd src", "export A=1", "ls -la", "mkdir -p out"]
GATES = ["pytest -q", "python -m pytest", "ruff check .", "mypy src", "coverage report", "pip-audit"]
SWALLOWING = ["|| true", "|| :", "|| echo failed", "|| exit 0"]
KEEPING = ["", "|| exit 1", "|| { echo failed; exit 1; }", "|| false"]


def is_gate(cmd):
    return cmd.program in {"pytest", "ruff", "mypy", "coverage", "pip-audit"} or cmd.argv[:3] == [
        "python",
        "-m",
        "pytest",
    ]


@hsettings(max_examples=120, deadline=None)
@given(
    before=st.lists(st.sampled_from(SAFE), max_size=3),
    gate=st.sampled_from(GATES),
    suffix=st.sampled_from(SWALLOWING + KEEPING),
    after=st.lists(st.sampled_from(SAFE), max_size=3),
    shell=st.sampled_from([None, "bash", "sh"]),
)
def test_a_gate_is_reported_exactly_when_its_or_branch_swallows(before, gate, suffix, after, shell):
    script = "\n".join([*before, f"{gate} {suffix}".strip(), *after]) + "\n"
    reasons = [reason for _, reason in swallowed(script, resolve_shell(shell), is_gate)]
    assert bool(reasons) == (suffix in SWALLOWING)
    assert all("swallows the gate's exit status" in r for r in reasons)
