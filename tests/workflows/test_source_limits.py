"""The nesting and size limits give the same verdict, node and message through the cheap walk and the full check."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_helper.errors import BadInput
from ci_helper.workflows import source
from ci_helper.workflows.source import MAX_DEPTH, shape_problem, source_from_text


def load(text: str):
    return source_from_text(Path("w.yml"), "w.yml", text)


def full_check_message(text: str) -> str | None:
    """What the full check alone says about ``text`` (None: nothing)."""
    problem = shape_problem(source._compose(text))
    if problem is None:
        return None
    node, why = problem
    return f"w.yml:{node.start_mark.line + 1}: {why}; fix the file"


def brackets(levels: int) -> str:
    return "on: push\nx: " + "[" * levels + "v" + "]" * levels + "\n"


def test_nesting_at_the_limit_is_accepted_and_one_more_level_refused_with_the_full_checks_message():
    # The root mapping, `x`'s value and the scalar inside: levels + 2 values deep.
    load(brackets(MAX_DEPTH - 2))
    with pytest.raises(BadInput) as refused:
        load(brackets(MAX_DEPTH - 1))
    assert str(refused.value) == full_check_message(brackets(MAX_DEPTH - 1))
    assert str(refused.value) == ("w.yml:1: nests deeper than 128 levels, aliases expanded (limit, see docs/security.md); "
                                  "fix the file")


def test_merge_keys_within_the_budget_are_accepted():
    jobs = "".join(f"  j{i}:\n    <<: *defaults\n    steps: [{{run: echo {i}}}]\n" for i in range(50))
    text = "on: push\ndefaults-holder: &defaults\n  runs-on: ubuntu-latest\n  timeout-minutes: 5\njobs:\n" + jobs
    assert load(text).root is not None
    assert full_check_message(text) is None


def test_an_alias_fan_out_over_the_budget_but_under_the_limit_is_accepted_as_before():
    lines = ["on: push", "a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 5)]  # 9**5 values from ~400 bytes
    text = "\n".join(lines) + "\n"
    assert full_check_message(text) is None
    assert load(text).root is not None


@pytest.mark.parametrize("text", [
    "on: push\nx: &j [*j]\n",
    "on: push\nx: &j {<<: *j}\n",
    "on: push\n" + "\n".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" if i else "a0: &a0 [x, x, x, x, x, x, x, x, x]"
                             for i in range(9)) + "\n",
])
def test_cycles_and_bombs_are_refused_with_the_full_checks_message(text):
    with pytest.raises(BadInput) as refused:
        load(text)
    assert str(refused.value) == full_check_message(text)
