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
    assert str(refused.value) == (
        "w.yml:1: nests deeper than 128 levels, aliases expanded (limit, see docs/security.md); fix the file"
    )


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


BOMB = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]


@pytest.mark.parametrize(
    "text",
    [
        "on: push\nx: &j [*j]\n",
        "on: push\nx: &j {<<: *j}\n",
        "on: push\n" + "\n".join(BOMB) + "\n",
    ],
)
def test_cycles_and_bombs_are_refused_with_the_full_checks_message(text):
    with pytest.raises(BadInput) as refused:
        load(text)
    assert str(refused.value) == full_check_message(text)


# PyYAML 6.0.3's libyaml composes any depth recursively in C and overflowed the stack (a segfault, empty
# stderr) on 100,000 brackets; 6.0.4's refuses past 1,000 levels. The refusal must not depend on the build.
@pytest.mark.parametrize(
    "text, line",
    [
        ("on: push\njobs: " + "[" * 100_000 + "]" * 100_000 + "\n", 2),
        ("a: 1\nb:\n  " + "- " * 6_000 + "x\n", 3),
        ("a: " + "{k: " * 5_000 + "v" + "}" * 5_000 + "\n", 1),
    ],
)
def test_deep_nesting_is_found_from_the_event_stream_before_libyaml_composes(text, line):
    try:
        found = source.deep_nesting_line(text)
    except source.yaml.YAMLError as exc:  # a libyaml that refuses deep nesting itself: also one line, exit 2
        assert "nesting" in str(exc)
        return
    assert found == line


def test_the_cheap_bound_is_never_below_the_real_depth():
    from hypothesis import given, settings, strategies as st

    values = st.recursive(
        st.text(max_size=3),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=40,
    )

    def depth(value) -> int:
        if isinstance(value, list):
            return 1 + max((depth(v) for v in value), default=0)
        if isinstance(value, dict):
            return 1 + max((depth(v) for v in value.values()), default=0)
        return 1

    @settings(max_examples=200, deadline=None)
    @given(values, st.booleans())
    def check(value, flow):
        text = source.yaml.safe_dump({"x": value}, default_flow_style=flow)
        assert source._nesting_bound(text) >= depth({"x": value})

    check()


def test_small_real_files_skip_the_event_count():
    text = (Path(__file__).parents[2] / "examples/diffusion-api/.github/workflows/quality.yml").read_text()
    assert source._nesting_bound(text) <= source._COMPOSE_SAFE_LEVELS
    assert source.deep_nesting_line(text) is None
